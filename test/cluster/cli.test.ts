/** The `kelips` binary as an operator meets it: --help, exit 2 naming the field, a clean stop on SIGTERM/SIGINT. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KELIPS, ensureBuilt, eventually, releaseBuilt, http, randomPort } from './harness.js';

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kelips-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  releaseBuilt();
});

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [KELIPS, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15_000 });
}

describe('kelips binary', () => {
  it('--help lists every flag with its env var and default', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const f of ['--bind', '--advertise', '--join', '--cluster', '--groups', '--metrics', '--data-dir', '--log-level', '--preset', '--gossip-interval-ms'])
      expect(r.stdout).toContain(f);
    expect(r.stdout).toContain('env KELIPS_DATA_DIR; default /var/lib/kelips');
  });

  const bad: [string, string[], Record<string, string>, RegExp][] = [
    ['a flag', ['--groups', 'abc'], {}, /invalid groups \(from --groups\): must be a number, got "abc"/],
    ['an env var', [], { KELIPS_LOG_LEVEL: 'chatty' }, /invalid log-level \(from KELIPS_LOG_LEVEL\): must be one of trace/],
    ['an unknown flag', ['--grups', '4'], {}, /--grups/],
  ];
  for (const [what, args, env, re] of bad) {
    it(`exits 2 naming the field for a bad value in ${what}`, () => {
      const r = run(args, env);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
    });
  }

  it('exits 2 for a bad value in the config file, naming the file', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ 'gossip-interval-ms': 1 }));
    const r = run(['--config', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`invalid gossip-interval-ms (from "gossip-interval-ms" in ${f}): must be an integer from 10 to 60000, got 1`);
  });

  it('exits 1 with a clear message on a corrupt data file', () => {
    const d = join(dir, 'corrupt');
    spawnSync('mkdir', ['-p', d]);
    writeFileSync(join(d, 'published.json'), '{"format":1,"tuples":[{"name":"a"');
    const r = run(['--bind', '127.0.0.1:0', '--metrics', 'off', '--data-dir', d]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`data file ${join(d, 'published.json').replace(/\./g, '\\.')} is corrupt`));
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig}: leaves and exits 0`, async () => {
      const port = randomPort();
      const p = spawn(process.execPath, [KELIPS, '--bind', `127.0.10.200:${port}`, '--metrics', `127.0.10.200:${port + 1}`, '--data-dir', join(dir, sig)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout!.on('data', (d: Buffer) => (out += d));
      const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
      try {
        expect(await eventually(async () => (await http(`127.0.10.200:${port + 1}`, '/healthz'))?.status === 200, 10_000)).toBe(true);
        p.kill(sig);
        expect(await exited).toBe(0);
        const events = out.trim().split('\n').map((l) => JSON.parse(l).event);
        expect(events).toEqual(expect.arrayContaining(['started', 'signal', 'leaving', 'stopped']));
      } finally {
        if (p.exitCode === null) p.kill('SIGKILL');
      }
    });
  }

  it('--version prints the version and starts nothing', () => {
    const d = join(dir, 'inc');
    const r1 = run(['--bind', '127.0.0.1:0', '--metrics', 'off', '--data-dir', d, '--log-level', 'silent', '--version']);
    expect(r1.status).toBe(0);
    expect(r1.stdout).toMatch(/^kelips \d+\.\d+\.\d+/);
    // --version does not start an agent, so no incarnation file yet.
    expect(() => readFileSync(join(d, 'incarnation'))).toThrow();
  });
});
