/**
 * vitest globalSetup for the real-process tests (test/cluster): compile the project once, with its tsconfig.build.json,
 * into a private directory of this run, .tmp/test-dist-<pid>/, laid out like
 * dist/ (src/cli/kelips.js ...). The tests spawn `node <that>/src/cli/kelips.js` exactly as an operator runs
 * dist/src/cli/kelips.js, but nobody else's build of the shared dist/ can rewrite the files under a running test
 * (a half-written module makes a starting agent or kelips-ctl exit 1). Type errors elsewhere do not stop the
 * emit; a missing entry point does. Without this globalSetup, each test file builds its own copy (slower, same
 * result).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Compile the project with its tsconfig.build.json, as `npm run build` does, into `outDir` (inside the repository). */
export function build(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { cwd: ROOT, encoding: 'utf8' });
  for (const f of ['src/cli/kelips.js', 'src/cli/kelips-ctl.js'])
    if (!existsSync(join(outDir, f))) throw new Error(`build failed: ${f} is missing in ${outDir}\n${r.stdout}${r.stderr}`);
}

export function privateDist(tag: string): string {
  return join(ROOT, '.tmp', `test-dist-${tag}-${process.pid}`);
}

export default function setup(): () => void {
  const out = privateDist('global');
  build(out);
  process.env.KELIPS_TEST_DIST = out;
  return () => rmSync(out, { recursive: true, force: true });
}
