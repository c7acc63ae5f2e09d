/**
 * Prometheus metrics (prom-client). The names are a contract: dashboards and alerts are written against them.
 *
 * Gauges that mirror state (view, contacts, tuples, readiness) and counters the core and the driver keep as plain
 * numbers are read at scrape time (collect()), so nothing is counted twice and nothing per datagram touches
 * prom-client. Counters derived from core events (lookups, publishes, detector, membership, contacts) are
 * incremented as the events arrive. prom-client's default process metrics carry the same `kelips_` prefix.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { performance } from 'node:perf_hooks';
import { eventLoopLag, LAG_SAMPLE_INTERVAL_MS, type LagStats } from './eventloop-lag.js';
import { DROP_REASONS, type MemberView } from '../core/api.js';
import { LookupStatus, MemberState, type CoreEvent } from '../core/types.js';
import type { NetCounters } from '../net/driver.js';
import type { CanaryResult, CanarySink } from './canary.js';
import { CanaryMetrics, registerAuthorityMetrics, type AuthoritySource } from './metrics-answers.js';
import { GROUP_MEMBERS_WARN, isGroupSmall, liveMembers } from './group-health.js';

/** What the metrics read at scrape time. */
export interface MetricsSource {
  info(): { cluster: string; group: number; address: string; version: string };
  incarnation(): number;
  ready(): boolean;
  members(): MemberView[];
  /** Number of affinity groups (k) and the node's own group. */
  groups(): number;
  ownGroup(): number;
  /** Live contacts of each foreign group. */
  contactsByGroup(): Map<number, number>;
  tuplesStored(): number;
  tuplesPublished(): number;
  coreDrops(): Readonly<Record<string, number>>;
  /** Direct probes the failure detector sent to suspects. */
  suspectProbes(): number;
  net(): NetCounters;
  /** Whether the node holds its group's state (may answer "not found"), is recovering it, and the core's counters. */
  authority(): AuthoritySource;
}

export type { AuthoritySource };


/** Lookup latency buckets (seconds): loopback answers in ~0.1 ms, a LAN in ~1 ms, timeouts in 0.3-3 s. */
export const LOOKUP_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const HOPS = ['0', '1', '2', '3+'] as const;
const RESULTS = ['found', 'not_found', 'unavailable'] as const;
/** Latencies buffered between scrapes before they are handed to prom-client in one go. */
const DURATION_BUFFER = 4096;

export class AgentMetrics implements CanarySink {
  readonly registry = new Registry();
  /** Lookups by result (RESULTS order) and by hops (HOPS order), read at scrape time. */
  private readonly lookupCounts = new Float64Array(RESULTS.length);
  private readonly hopCounts = new Float64Array(HOPS.length);
  /** Lookup latencies (s) not yet handed to the histogram. */
  private readonly durations = new Float64Array(DURATION_BUFFER);
  private durationCount = 0;
  private readonly lookupDuration: Histogram<string>;
  private readonly publishes: Counter<'result'>;
  private readonly suspected: Counter<string>;
  private readonly removed: Counter<'reason'>;
  private readonly refuted: Counter<string>;
  private readonly joins: Counter<string>;
  private readonly leaves: Counter<string>;
  private readonly contactsReplaced: Counter<'reason'>;
  private readonly canary: CanaryMetrics;

  constructor(src: MetricsSource, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) {
      // prom-client's lag statistics include its sampler's interval (they read 50 ms on an idle loop sampled every
      // 50 ms): they are replaced by registerEventLoopLag's, and its own sampler, which cannot be turned off, runs
      // once a second only.
      collectDefaultMetrics({ register: this.registry, prefix: 'kelips_', eventLoopMonitoringPrecision: 1000 });
      registerEventLoopLag(this.registry);
      // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool check metrics
      // rejects them); the per-type gauges without the suffix carry the same information.
      for (const name of ['kelips_nodejs_active_handles_total', 'kelips_nodejs_active_requests_total', 'kelips_nodejs_active_resources_total'])
        this.registry.removeSingleMetric(name);
    }

    new Gauge({
      name: 'kelips_node_info',
      help: 'Always 1; labels describe this node: cluster, affinity group, advertised address, software version.',
      labelNames: ['cluster', 'group', 'address', 'version'],
      registers,
      collect() {
        const i = src.info();
        this.reset();
        this.set({ cluster: i.cluster, group: String(i.group), address: i.address, version: i.version }, 1);
      },
    });
    new Gauge({
      name: 'kelips_node_incarnation',
      help: 'Incarnation of this node: grows at every start and when it refutes being declared dead.',
      registers,
      collect() {
        this.set(src.incarnation());
      },
    });
    new Gauge({
      name: 'kelips_node_ready',
      help: '1 when the node is ready (what /readyz reports): joined, holding its group\'s state, a live contact for every other group; else 0.',
      registers,
      collect() {
        this.set(src.ready() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kelips_view_members',
      help: 'Members of this node\'s affinity group view, by state (the node itself counts as alive).',
      labelNames: ['state'],
      registers,
      collect() {
        let alive = 0;
        let suspect = 0;
        for (const m of src.members()) if (m.state === MemberState.Suspect) suspect++;
        else alive++;
        this.set({ state: 'alive' }, alive);
        this.set({ state: 'suspect' }, suspect);
      },
    });
    // Group health (src/agent/group-health.ts): the alert KelipsGroupTooSmall fires on it.
    new Gauge({
      name: 'kelips_view_group_small',
      help: `1 while this node's affinity group has fewer than ${GROUP_MEMBERS_WARN} live members (the node itself included), else 0.`,
      registers,
      collect() {
        this.set(isGroupSmall(liveMembers(src.members())) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kelips_contacts',
      help: 'Live contacts held for each foreign affinity group.',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        const by = src.contactsByGroup();
        const own = src.ownGroup();
        for (let g = 0; g < src.groups(); g++) if (g !== own) this.set({ group: String(g) }, by.get(g) ?? 0);
      },
    });
    new Gauge({
      name: 'kelips_contacts_groups_missing',
      help: 'Foreign affinity groups for which this node holds no contact (lookups there need a contact search).',
      registers,
      collect() {
        const by = src.contactsByGroup();
        const own = src.ownGroup();
        let missing = 0;
        for (let g = 0; g < src.groups(); g++) if (g !== own && (by.get(g) ?? 0) === 0) missing++;
        this.set(missing);
      },
    });
    new Gauge({
      name: 'kelips_filetuples_stored',
      help: 'Filetuples stored by this node (names of its own affinity group, all owners).',
      registers,
      collect() {
        this.set(src.tuplesStored());
      },
    });
    new Gauge({
      name: 'kelips_filetuples_published',
      help: 'Tuples this node owns and keeps refreshing (kept in the data dir across restarts), its canary beacon not counted.',
      registers,
      collect() {
        this.set(src.tuplesPublished());
      },
    });

    new Counter({
      name: 'kelips_net_datagrams_sent_total',
      help: 'Datagrams handed to the socket, by message type.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        for (const [type, n] of Object.entries(src.net().sent)) this.inc({ type }, n);
      },
    });
    new Counter({
      name: 'kelips_net_datagrams_received_total',
      help: 'Datagrams received and decoded, by message type.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        for (const [type, n] of Object.entries(src.net().received)) this.inc({ type }, n);
      },
    });
    new Counter({
      name: 'kelips_net_bytes_sent_total',
      help: 'UDP payload bytes handed to the socket.',
      registers,
      collect() {
        this.reset();
        this.inc(src.net().bytesSent);
      },
    });
    new Counter({
      name: 'kelips_net_bytes_received_total',
      help: 'UDP payload bytes received.',
      registers,
      collect() {
        this.reset();
        this.inc(src.net().bytesReceived);
      },
    });
    new Counter({
      name: 'kelips_net_datagrams_dropped_total',
      help: 'Datagrams or entries dropped, by reason: wire rejects (undecodable input), protocol drops (core limits, mismatches, stale news) and send failures.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const net = src.net();
        const drops = src.coreDrops();
        for (const r of DROP_REASONS) this.inc({ reason: r }, drops[r] ?? 0);
        for (const [r, n] of Object.entries(net.rejects)) this.inc({ reason: r }, n);
        this.inc({ reason: 'send-failed' }, net.sendErrors);
        this.inc({ reason: 'encode-failed' }, net.encodeErrors);
      },
    });

    // The lookup path counts in plain numbers and buffers latencies; prom-client sees them at scrape time (and when
    // the buffer fills), so a lookup costs a few array writes, not calls into prom-client.
    const lookupCounts = this.lookupCounts;
    const hopCounts = this.hopCounts;
    new Counter({
      name: 'kelips_lookups_total',
      help: 'Lookups this node ran for its applications and kelips-ctl, by result.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        RESULTS.forEach((result, i) => this.inc({ result }, lookupCounts[i]!));
      },
    });
    new Counter({
      name: 'kelips_lookups_by_hops_total',
      help: 'Answered lookups by hops: 0 own group, 1 a contact answered, 2+ a contact had to be found first.',
      labelNames: ['hops'],
      registers,
      collect() {
        this.reset();
        HOPS.forEach((hops, i) => this.inc({ hops }, hopCounts[i]!));
      },
    });
    const flush = () => this.flushDurations();
    this.lookupDuration = new Histogram({
      name: 'kelips_lookup_duration_seconds',
      help: 'Time from a lookup command to its result (any result), as the core measured it.',
      buckets: LOOKUP_BUCKETS_S,
      registers,
      collect() {
        flush();
      },
    });
    this.publishes = new Counter({
      name: 'kelips_publishes_total',
      help: 'Publishes and unpublishes by this node, by result: stored (the name\'s group confirmed) or queued (retried by refresh).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['stored', 'queued']) this.publishes.inc({ result }, 0);
    this.suspected = new Counter({
      name: 'kelips_detector_suspected_total',
      help: 'Members of the affinity group that became suspect (heartbeat silent for the suspect timeout).',
      registers,
    });
    this.removed = new Counter({
      name: 'kelips_detector_removed_total',
      help: 'Members removed from the affinity group view: failed (silent for the fail timeout) or left (graceful).',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['failed', 'left']) this.removed.inc({ reason }, 0);
    this.refuted = new Counter({
      name: 'kelips_detector_refuted_total',
      help: 'Suspect members found alive again (their heartbeat advanced).',
      registers,
    });
    new Counter({
      name: 'kelips_detector_probes_total',
      help: 'Small gossip datagrams asking a suspect member for an ack, at most 4 a round (its answer refutes the suspicion).',
      registers,
      collect() {
        this.reset();
        this.inc(src.suspectProbes());
      },
    });
    this.joins = new Counter({
      name: 'kelips_membership_joins_total',
      help: 'Members that joined or rejoined (higher incarnation) this node\'s affinity group view.',
      registers,
    });
    this.leaves = new Counter({
      name: 'kelips_membership_leaves_total',
      help: 'Members of the affinity group that left gracefully.',
      registers,
    });
    this.contactsReplaced = new Counter({
      name: 'kelips_contacts_replaced_total',
      help: 'Contacts replaced, by reason: unresponsive, stale, better-rtt, removed, left.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['unresponsive', 'stale', 'better-rtt', 'removed', 'left']) this.contactsReplaced.inc({ reason }, 0);

    this.canary = new CanaryMetrics(registers);
    registerAuthorityMetrics(registers, src);
  }

  canaryResult(result: CanaryResult): void {
    this.canary.canaryResult(result);
  }

  propagationDelay(seconds: number): void {
    this.canary.propagationDelay(seconds);
  }

  onEvent(e: CoreEvent): void {
    switch (e.type) {
      case 'lookup-done': {
        const r = e.result;
        const result = r.status === LookupStatus.Found ? 0 : r.status === LookupStatus.NotFound ? 1 : 2;
        this.lookupCounts[result]!++;
        if (result !== 2) this.hopCounts[Math.min(3, r.hops)]!++;
        // Every lookup, unavailable ones too: this is what applications waited.
        if (this.durationCount === DURATION_BUFFER) this.flushDurations();
        this.durations[this.durationCount++] = r.latencyMs / 1000;
        return;
      }
      case 'publish-done':
        this.publishes.inc({ result: e.result.status });
        return;
      case 'member-suspected':
        this.suspected.inc();
        return;
      case 'member-refuted':
        this.refuted.inc();
        return;
      case 'member-removed':
        this.removed.inc({ reason: e.reason });
        if (e.reason === 'left') this.leaves.inc();
        return;
      case 'member-joined':
      case 'member-rejoined':
        this.joins.inc();
        return;
      case 'contact-replaced':
        this.contactsReplaced.inc({ reason: e.reason });
        return;
      default:
        return;
    }
  }

  private flushDurations(): void {
    for (let i = 0; i < this.durationCount; i++) this.lookupDuration.observe(this.durations[i]!);
    this.durationCount = 0;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** kelips_nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds from eventLoopLag(), replacing prom-client's. */
function registerEventLoopLag(registry: Registry): void {
  const sampler = eventLoopLag();
  const keys: (keyof LagStats)[] = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'];
  const name = (k: keyof LagStats) => `kelips_nodejs_eventloop_lag_${k}_seconds`;
  for (const k of keys) registry.removeSingleMetric(name(k));
  let stats: LagStats | null = null;
  for (const k of keys) {
    new Gauge({
      name: name(k),
      help: `The ${k} of how late a timer ran against its due time (seconds), since the last scrape; sampled every ${LAG_SAMPLE_INTERVAL_MS} ms.`,
      registers: [registry],
      collect() {
        // The first gauge of a scrape reads (and resets) the sampler; the others use what it read.
        if (k === 'min' || stats === null) stats = sampler.read(performance.now());
        this.set(stats[k]);
      },
    });
  }
}
