/**
 * Workload and churn for a LocalCluster: a lookup load over the agents' HTTP API, and kill/restart steps that
 * wait for the cluster to notice (bounded polls on the agents' own metrics, never fixed sleeps as assertions).
 */
import { createSocket } from 'node:dgram';
import { Agent, LocalCluster } from './cluster.js';
import { poll, sleep } from './procs.js';

export interface ChurnEvent {
  t: number;
  kind: 'kill' | 'term' | 'start';
  agent: number;
  note: string;
}

export class LookupLoad {
  private timer: NodeJS.Timeout | null = null;
  readonly names: string[] = [];
  /**
   * Answered lookups by result, and by intent: a lookup is meant to miss when it asks for a name never published
   * (`missRatio` of them), meant to be found otherwise (every name was stored before the load started and its
   * owner keeps it). `foundWhenMeantToMiss` and `notFoundWhenMeantToBeFound` are wrong answers; errors (the agent
   * asked was killed under the request) are not answers and count in neither.
   */
  stats = {
    lookups: 0,
    found: 0,
    notFound: 0,
    unavailable: 0,
    errors: 0,
    publishes: 0,
    meantToMiss: 0,
    meantToBeFound: 0,
    foundWhenMeantToMiss: 0,
    notFoundWhenMeantToBeFound: 0,
  };
  private seq = 0;

  constructor(
    private readonly cluster: LocalCluster,
    private readonly opts: { files: number; perSecond: number; missRatio?: number },
  ) {}

  private running(): Agent[] {
    return this.cluster.agents.filter((a) => a.running);
  }

  private pick<T>(xs: T[]): T {
    return xs[Math.floor(Math.random() * xs.length)] as T;
  }

  /**
   * Publish the file set, each from a random running agent, until the file's group confirms it ("stored"; a
   * "queued" publish is only retried by the agent's periodic refresh, so ask again, possibly elsewhere).
   */
  async publishAll(): Promise<void> {
    for (let i = 0; i < this.opts.files; i++) {
      const name = `file-${i}`;
      await poll(`publish ${name}`, async () => {
        const a = this.pick(this.running());
        const res = await fetch(`${a.url}/v1/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name, location: `${a.gossip}/data/${name}` }),
          signal: AbortSignal.timeout(3000),
        });
        const body = (await res.json()) as { status?: string };
        return res.ok && body.status === 'stored' ? true : undefined;
      }, 50, 200);
      this.names.push(name);
      this.stats.publishes++;
    }
  }

  start(): void {
    const every = Math.max(10, Math.round(1000 / this.opts.perSecond));
    this.timer = setInterval(() => void this.one(), every);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async one(): Promise<void> {
    const agents = this.running();
    if (agents.length === 0 || this.names.length === 0) return;
    const a = this.pick(agents);
    const miss = Math.random() < (this.opts.missRatio ?? 0.1);
    const name = miss ? `never-published-${this.seq++}` : this.pick(this.names);
    try {
      const res = await fetch(`${a.url}/v1/lookup?name=${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { status?: string };
      const st = this.stats;
      if (body.status !== 'found' && body.status !== 'not_found' && body.status !== 'unavailable') {
        st.errors++;
        return;
      }
      st.lookups++;
      if (miss) st.meantToMiss++;
      else st.meantToBeFound++;
      if (body.status === 'found') {
        st.found++;
        if (miss) st.foundWhenMeantToMiss++;
      } else if (body.status === 'not_found') {
        st.notFound++;
        if (!miss) st.notFoundWhenMeantToBeFound++;
      } else st.unavailable++;
    } catch {
      // The agent was killed under us: that is the churn, not a test failure.
      this.stats.errors++;
    }
  }
}

/** Send datagrams that are not kelips messages to an agent: counted as drops (a wire-* reason). */
export async function sendGarbage(a: Agent, count = 5): Promise<void> {
  const sock = createSocket('udp4');
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) =>
      sock.send(Buffer.concat([Buffer.from([0xff]), Buffer.from(`not a kelips datagram ${i}`)]), a.gossipPort, a.host, (err) => (err ? reject(err) : resolve())),
    );
  }
  sock.close();
}

/** The agents' affinity groups, from their /v1/status. */
export async function groupsOf(cluster: LocalCluster): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const a of cluster.agents) {
    if (!a.running) continue;
    const s = (await (await fetch(`${a.url}/v1/status`, { signal: AbortSignal.timeout(3000) })).json()) as { group: number };
    out.set(a.index, s.group);
  }
  return out;
}

export class Churner {
  readonly events: ChurnEvent[] = [];
  constructor(private readonly cluster: LocalCluster) {}

  private note(kind: ChurnEvent['kind'], a: Agent, note: string): void {
    this.events.push({ t: Date.now() / 1000, kind, agent: a.index, note });
  }

  /** Agents that share their group with at least one other agent (their removal is observed by a peer). */
  async victims(): Promise<Agent[]> {
    const groups = await groupsOf(this.cluster);
    const size = new Map<number, number>();
    for (const g of groups.values()) size.set(g, (size.get(g) ?? 0) + 1);
    return this.cluster.agents.filter((a) => (size.get(groups.get(a.index) ?? -1) ?? 0) >= 2);
  }

  private peers(a: Agent): Agent[] {
    return this.cluster.agents.filter((b) => b !== a && b.running);
  }

  /**
   * Crash (SIGKILL) or gracefully stop (SIGTERM) an agent, wait until its peers count the removal
   * (kelips_detector_removed_total{reason="failed"|"left"} grows; bounded), then restart it and wait until it is
   * ready. Returns the agent's exit status.
   */
  async cycle(a: Agent, signal: 'SIGKILL' | 'SIGTERM', downMs = 0): Promise<number | string> {
    const reason = signal === 'SIGKILL' ? 'failed' : 'left';
    const before = await this.cluster.metricSum('kelips_detector_removed_total', { reason }, this.peers(a));
    const status = await this.cluster.kill(a, signal);
    this.note(signal === 'SIGKILL' ? 'kill' : 'term', a, `${signal} agent ${a.index} (exit ${status})`);
    await poll(
      `peers of agent ${a.index} count its removal (${reason})`,
      async () => ((await this.cluster.metricSum('kelips_detector_removed_total', { reason }, this.peers(a))) > before ? true : undefined),
      150,
      200,
    );
    if (downMs > 0) await sleep(downMs);
    this.cluster.start(a);
    this.note('start', a, `agent ${a.index} restarted`);
    await this.cluster.waitReady([a]);
    return status;
  }
}
