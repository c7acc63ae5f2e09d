/** How the `kelips` binary fails to start: once, on stderr, at once, with the exit status of the cause. */
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KELIPS, ensureBuilt, releaseBuilt } from '../cluster/harness.js';

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kelips-start-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  releaseBuilt();
});

/** Generous limit: a slow machine must not fail this; a process that never exits must (status null). */
const LIMIT_MS = 60_000;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [KELIPS, '--metrics', 'off', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: LIMIT_MS,
    killSignal: 'SIGKILL',
  });
  const what = `kelips ${args.join(' ')} (signal ${String(r.signal)})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  return { ...r, what };
}

describe('kelips start failures', () => {
  it.runIf(existsSync('/proc/self'))('a data dir that cannot be created (under /proc) exits 2 naming the field, instead of spinning', () => {
    const r = run(['--bind', '127.0.0.1:0', '--data-dir', '/proc/kelips-test/x']);
    expect(r.status, r.what).toBe(2);
    expect(r.stderr.trimEnd().split('\n'), r.what).toEqual([expect.stringMatching(/^kelips: invalid data-dir \(\/proc\/kelips-test\/x\): .*ENOENT/)]);
    expect(r.stdout, r.what).not.toMatch(/data-dir/);
  });

  it('a start error is printed once; unknown KELIPS_* variables are warned about first', async () => {
    const busy: Socket = createSocket('udp4');
    await new Promise<void>((ok) => busy.bind(0, '127.0.0.1', () => ok()));
    try {
      const port = busy.address().port;
      const r = run(['--bind', `127.0.0.1:${port}`, '--data-dir', join(dir, 'd')], { KELIPS_GROUP: '3' });
      expect(r.status, r.what).toBe(1);
      const errLines = r.stderr.trimEnd().split('\n');
      expect(errLines, r.what).toEqual([expect.stringMatching(/^kelips: cannot start: .*EADDRINUSE/)]);
      const logLines = r.stdout.trimEnd().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event: string; msg: string });
      expect(logLines, r.what).toEqual([
        expect.objectContaining({ event: 'config-warning', msg: expect.stringMatching(/KELIPS_GROUP .*did you mean KELIPS_GROUPS\?/) }),
      ]);
    } finally {
      busy.close();
    }
  });
});
