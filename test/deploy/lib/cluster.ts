/**
 * A local kelips cluster on loopback for the deploy tests and `make churn-demo`: real agent processes
 * (node dist/src/cli/kelips.js --preset local), one loopback address each (127.0.0.11, .12, ...), which can be
 * killed (SIGKILL: a crash, SIGTERM: a graceful leave) and restarted on the same address and data dir.
 */
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { exited, freePort, poll, stop, track } from './procs.js';
import { REPO } from './expressions.js';
import { groupOfNode } from '../../../src/core/hash.js';

export const AGENT_JS = join(REPO, 'dist/src/cli/kelips.js');

export interface ClusterOptions {
  dir: string;
  size: number;
  groups: number;
  cluster: string;
  /** Agent entry point; default the built agent. */
  agentJs?: string;
  /** First loopback host byte: agents get 127.0.0.<base + i>. */
  hostBase?: number;
  logLevel?: string;
  /** Extra flags for every agent. */
  extraArgs?: string[];
}

export class Agent {
  proc: ChildProcess | null = null;
  starts = 0;
  constructor(
    readonly index: number,
    readonly host: string,
    readonly gossipPort: number,
    readonly metricsPort: number,
    readonly dataDir: string,
    readonly logFile: string,
  ) {}
  get gossip(): string {
    return `${this.host}:${this.gossipPort}`;
  }
  get metrics(): string {
    return `${this.host}:${this.metricsPort}`;
  }
  get url(): string {
    return `http://${this.metrics}`;
  }
  get running(): boolean {
    return this.proc !== null && !exited(this.proc);
  }
}

export class LocalCluster {
  readonly agents: Agent[] = [];
  constructor(readonly opts: ClusterOptions) {}

  get agentJs(): string {
    return this.opts.agentJs ?? AGENT_JS;
  }

  /**
   * Allocate addresses and ports (UDP gossip and TCP metrics both free on each agent's own loopback host).
   * A node's affinity group is a hash of its address, so with random ports a small cluster can end up with an
   * empty group (its files unavailable from the start). Agent i gets a gossip port whose address hashes to
   * group i mod k, so the groups are balanced and every group has members (at least 2 when size >= 2k).
   */
  async allocate(): Promise<void> {
    const base = this.opts.hostBase ?? 11;
    for (let i = 0; i < this.opts.size; i++) {
      const host = `127.0.0.${base + i}`;
      const want = i % this.opts.groups;
      let gossipPort = await freePort(host, true);
      for (let tries = 0; groupOfNode(`${host}:${gossipPort}`, this.opts.groups) !== want; tries++) {
        if (tries > 500) throw new Error(`no free port on ${host} whose address hashes to group ${want}`);
        gossipPort = await freePort(host, true);
      }
      let metricsPort = await freePort(host);
      while (metricsPort === gossipPort) metricsPort = await freePort(host);
      const dataDir = join(this.opts.dir, `agent-${i}`);
      mkdirSync(dataDir, { recursive: true });
      this.agents.push(new Agent(i, host, gossipPort, metricsPort, dataDir, join(this.opts.dir, `agent-${i}.log`)));
    }
  }

  /** Seeds for an agent: the first three agents (an agent skips itself). */
  seeds(): string[] {
    return this.agents.slice(0, 3).map((a) => a.gossip);
  }

  args(a: Agent): string[] {
    return [
      this.agentJs,
      '--preset',
      'local',
      '--cluster',
      this.opts.cluster,
      '--groups',
      String(this.opts.groups),
      '--bind',
      a.gossip,
      '--advertise',
      a.gossip,
      '--join',
      this.seeds()
        .filter((s) => s !== a.gossip)
        .join(','),
      '--metrics',
      a.metrics,
      '--data-dir',
      a.dataDir,
      '--log-level',
      this.opts.logLevel ?? 'warn',
      ...(this.opts.extraArgs ?? []),
    ];
  }

  start(a: Agent): void {
    if (a.running) throw new Error(`agent ${a.index} already running`);
    const log = openSync(a.logFile, 'a');
    a.proc = track(process.execPath, this.args(a), { stdio: ['ignore', log, log], cwd: REPO });
    closeSync(log);
    a.starts++;
  }

  startAll(): void {
    for (const a of this.agents) this.start(a);
  }

  /** SIGKILL (crash: peers must detect the failure) or SIGTERM (graceful leave). Returns the exit status. */
  async kill(a: Agent, signal: NodeJS.Signals): Promise<number | string> {
    if (!a.proc) return 'not running';
    const p = a.proc;
    const status = await stop(p, signal, 5000);
    a.proc = null;
    return status;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.agents.map((a) => this.kill(a, 'SIGTERM')));
  }

  static async get(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  }

  async isReady(a: Agent): Promise<boolean> {
    if (!a.running) return false;
    try {
      return (await LocalCluster.get(`${a.url}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }

  async waitReady(agents: Agent[] = this.agents, attempts = 300): Promise<void> {
    await poll(
      `agents ${agents.map((a) => a.index).join(',')} ready`,
      async () => {
        const dead = agents.find((a) => !a.running);
        if (dead) throw new Error(`agent ${dead.index} exited (${dead.proc?.exitCode}); see ${dead.logFile}`);
        const ok = await Promise.all(agents.map((a) => this.isReady(a)));
        return ok.every(Boolean) ? true : undefined;
      },
      attempts,
      200,
    );
  }

  /** Sum of a metric (all its series, optionally filtered by a label value) over the running agents. */
  async metricSum(name: string, filter?: Record<string, string>, agents: Agent[] = this.agents): Promise<number> {
    let sum = 0;
    for (const a of agents) {
      if (!a.running) continue;
      try {
        const text = (await LocalCluster.get(`${a.url}/metrics`)).body;
        sum += sumMetric(text, name, filter);
      } catch {
        /* an agent that is going down */
      }
    }
    return sum;
  }
}

/** Sum the samples of `name` in a Prometheus text exposition (labels matching `filter`). */
export function sumMetric(text: string, name: string, filter?: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (filter) {
      const labels = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
      if (!Object.entries(filter).every(([k, v]) => labels[k] === v)) continue;
    }
    const v = Number(m[4]);
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}
