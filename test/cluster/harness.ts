/**
 * Real agent processes on loopback for the cluster tests and the benchmark: spawn `node dist/src/cli/kelips.js`
 * with a data dir and a log file each, talk to them with `kelips-ctl` and their HTTP API, and make sure every
 * child dies with the test (SIGKILL in `killAll`, and on the parent's exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, privateDist } from './setup.js';

/**
 * The compiled entry points: the globalSetup's private build (KELIPS_TEST_DIST), or one this test file makes for
 * itself (removed on exit). Never the shared dist/, which other builds rewrite under a running test.
 */
let distDir = process.env.KELIPS_TEST_DIST ?? '';
export let KELIPS = '';
export let KELIPS_CTL = '';

let ownDist: string | null = null;

/** Remove the build this test file made for itself, if any (call in afterAll). */
export function releaseBuilt(): void {
  if (ownDist !== null) rmSync(ownDist, { recursive: true, force: true });
  ownDist = null;
}

export function ensureBuilt(): void {
  if (distDir === '' || !existsSync(join(distDir, 'src', 'cli', 'kelips.js'))) {
    const own = privateDist('file');
    build(own);
    ownDist = own;
    distDir = own;
  }
  KELIPS = join(distDir, 'src', 'cli', 'kelips.js');
  KELIPS_CTL = join(distDir, 'src', 'cli', 'kelips-ctl.js');
}

export interface AgentSpec {
  /** Gossip UDP address, "127.0.x.y:port". */
  addr: string;
  /** HTTP address, "127.0.x.y:port". */
  http: string;
  dataDir: string;
  logFile: string;
  args: string[];
}

export interface RunningAgent extends AgentSpec {
  proc: ChildProcess;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/**
 * If this test process is killed outright (a worker killed on timeout runs no 'exit' handler), a detached reaper
 * kills the agents it had started: it watches this process and, when it is gone, SIGKILLs every pid listed in the
 * pid file. It leaves quietly when the pid file is removed (normal cleanup).
 */
const REAPER = `
const fs = require('fs');
const [parent, file] = [Number(process.argv[1]), process.argv[2]];
// Gone, or a zombie nobody has reaped yet.
const alive = (pid) => { try { return !/^\\d+ \\(.*\\) Z/.test(fs.readFileSync('/proc/' + pid + '/stat', 'utf8')); } catch { return false; } };
setInterval(() => {
  if (!fs.existsSync(file)) process.exit(0);
  if (alive(parent)) return;
  for (const line of fs.readFileSync(file, 'utf8').split('\\n')) {
    const [pid, mark] = [Number(line.split(' ')[0]), line.split(' ')[1]];
    // Only a process that is still one of ours (its command line names our data dir): pids get reused.
    let cmd = '';
    try { cmd = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8'); } catch {}
    if (pid > 0 && mark && cmd.includes(mark)) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  }
  fs.rmSync(file, { force: true });
  process.exit(0);
}, 500);
`;

export class Cluster {
  readonly dir: string;
  readonly specs: AgentSpec[] = [];
  readonly running = new Map<number, RunningAgent>();

  private readonly pidFile: string;
  private closed = false;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `kelips-${prefix}-`));
    // Outside `dir`, so that cleanup() removing `dir` does not race the reaper reading it.
    this.pidFile = `${this.dir}.pids`;
    writeFileSync(this.pidFile, '');
    spawn(process.execPath, ['-e', REAPER, String(process.pid), this.pidFile], { detached: true, stdio: 'ignore' }).unref();
  }

  /** Describe agent i at `ip`:`port` with extra args (not started). */
  define(i: number, ip: string, port: number, httpPort: number, args: string[]): AgentSpec {
    const spec: AgentSpec = {
      addr: `${ip}:${port}`,
      http: `${ip}:${httpPort}`,
      dataDir: join(this.dir, `agent-${i}`),
      logFile: join(this.dir, `agent-${i}.log`),
      args,
    };
    this.specs[i] = spec;
    return spec;
  }

  start(i: number): RunningAgent {
    // A test body that outlived its timeout must not start agents after the cluster was cleaned up.
    if (this.closed) throw new Error('the cluster was cleaned up');
    const s = this.specs[i]!;
    const fd = openSync(s.logFile, 'a');
    const proc = spawn(process.execPath, [KELIPS, '--bind', s.addr, '--metrics', s.http, '--data-dir', s.dataDir, ...s.args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    closeSync(fd);
    children.add(proc);
    if (proc.pid !== undefined) appendFileSync(this.pidFile, `${proc.pid} ${s.dataDir}\n`);
    const exited = new Promise<number | null>((resolve) =>
      proc.on('exit', (code) => {
        children.delete(proc);
        resolve(code);
      }),
    );
    const r: RunningAgent = { ...s, proc, exited };
    this.running.set(i, r);
    return r;
  }

  /** kill -9, and wait until it is gone. */
  async kill9(i: number): Promise<void> {
    const r = this.running.get(i);
    if (r === undefined) return;
    r.proc.kill('SIGKILL');
    await r.exited;
    this.running.delete(i);
  }

  /** SIGTERM; resolves with the exit code. */
  async term(i: number): Promise<number | null> {
    const r = this.running.get(i);
    if (r === undefined) return null;
    r.proc.kill('SIGTERM');
    const code = await r.exited;
    this.running.delete(i);
    return code;
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((i) => this.kill9(i)));
  }

  cleanup(): void {
    this.closed = true;
    for (const r of this.running.values()) r.proc.kill('SIGKILL');
    rmSync(this.pidFile, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Parsed JSON log lines of agent i. */
  logs(i: number): Record<string, any>[] {
    const f = this.specs[i]!.logFile;
    if (!existsSync(f)) return [];
    const out: Record<string, any>[] = [];
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        out.push({ raw: line });
      }
    }
    return out;
  }

  tail(i: number, n = 15): string {
    const f = this.specs[i]!.logFile;
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').slice(-n).join('\n') : '(no log)';
  }
}

/** GET/POST the agent's HTTP API; null when it does not answer. */
export async function http(addr: string, path: string, body?: unknown): Promise<{ status: number; json: any } | null> {
  try {
    const res = await fetch(`http://${addr}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(2000),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  } catch {
    return null;
  }
}

export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** Run the kelips-ctl binary. */
export function ctl(args: string[], timeoutMs = 15_000): Promise<CtlResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [KELIPS_CTL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d));
    p.stderr!.on('data', (d: Buffer) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    // 'close', not 'exit': 'exit' can come before the last of stdout has been read.
    p.on('close', (code) => {
      clearTimeout(t);
      children.delete(p);
      let json: unknown = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* table output */
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** Run `fns` with at most `n` at a time. */
export async function pool<T>(n: number, fns: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(fns.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, fns.length) }, async () => {
      while (next < fns.length) {
        const i = next++;
        out[i] = await fns[i]!();
      }
    }),
  );
  return out;
}

/** Poll `check` every `everyMs` until it returns true or `maxMs` passes; returns whether it succeeded. */
export async function eventually(check: () => Promise<boolean> | boolean, maxMs: number, everyMs = 200): Promise<boolean> {
  const start = Date.now();
  for (;;) {
    if (await check()) return true;
    if (Date.now() - start > maxMs) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A port in [20000, 60000) for this run (agents use distinct 127.x addresses, so one port serves them all). */
export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 20000) * 2;
}
