/** Child processes the deploy tests start: tracked, and all killed when the test process exits. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

export function track(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  hookExit();
  const p = spawn(cmd, args, opts);
  live.add(p);
  p.once('exit', () => live.delete(p));
  return p;
}

export function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

/** Send a signal and wait for the exit (SIGKILL after graceMs). Returns the exit code or signal. */
export async function stop(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | string> {
  if (exited(p)) return p.exitCode ?? (p.signalCode as string);
  const done = once(p, 'exit');
  p.kill(signal);
  const timer = setTimeout(() => {
    if (!exited(p)) p.kill('SIGKILL');
  }, graceMs);
  try {
    await done;
  } finally {
    clearTimeout(timer);
  }
  return p.exitCode ?? (p.signalCode as string);
}

/** A TCP port that was free a moment ago on `host` (and its UDP twin, when `udp`). */
export async function freePort(host = '127.0.0.1', udp = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const srv = createServer();
    srv.listen(0, host);
    await once(srv, 'listening');
    const port = (srv.address() as { port: number }).port;
    srv.close();
    await once(srv, 'close');
    if (!udp) return port;
    const sock = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind(port, host, () => resolve(true));
    });
    sock.close();
    if (ok) return port;
  }
  throw new Error('no free port found');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` every `everyMs` until it returns a value (not undefined) or `attempts` run out. */
export async function poll<T>(what: string, check: () => Promise<T | undefined>, attempts = 100, everyMs = 200): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
