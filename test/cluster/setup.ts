/**
 * vitest globalSetup for the real-process tests (test/cluster): compile to dist/ once, so the tests spawn the
 * same `node dist/src/cli/kelips.js` and `kelips-ctl.js` an operator runs. Type errors elsewhere do not stop the
 * emit; a missing entry point does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function build(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { cwd: ROOT, encoding: 'utf8' });
  for (const f of ['dist/src/cli/kelips.js', 'dist/src/cli/kelips-ctl.js'])
    if (!existsSync(join(ROOT, f))) throw new Error(`build failed: ${f} is missing\n${r.stdout}${r.stderr}`);
}

export default function setup(): void {
  build();
  process.env.KELIPS_TEST_BUILT = '1';
}
