/**
 * The simulator benchmark: N real protocol nodes with the real codec on a virtual clock.
 *
 *   npm run bench:sim -- --nodes 1000 --files 10000 --minutes 10 [--churn 1.0] [--loss 0.1] [--seed 1 | --seeds 1-20]
 *                        [--groups K] [--crashes 5] [--lookups-per-s R] [--join-seconds S]
 *                        [--stop-at-seconds T] [--threads T] [--delay-min-ms D] [--config JSON] [--json]
 *
 * Timeline (simulated): nodes start over the first join window (5 ms per node, 5 to 60 s; --join-seconds sets it),
 * each joining through 3 random running nodes; the F files are published by their owners at uniformly random times
 * over a publish window; lookups from random nodes that have been running for 10 rounds, for random names of running
 * owners, start after a warm-up; a few nodes crash (detection is measured); churn
 * replaces nodes at the given fraction per hour (half graceful leaves, half crashes; each newcomer publishes as many
 * files as the node it replaces owned). Prints one JSON object (progress goes to stderr).
 *
 * --threads T splits the simulation into T shards, each a worker thread running the nodes of every T-th affinity
 * group (bench/sim-shard.ts, src/sim/shard-link.ts); the default is 2 from 5,000 nodes on (on 2 or more cores),
 * else 1. A seed reproduces a run exactly for a given thread count; runs with different thread counts draw the
 * network's randomness in a different order, so they are equally valid samples, not identical runs.
 * --delay-min-ms sets the smallest one-way link delay (default 0.5 ms, see DELAY_MIN_MS), which is also how far the
 * shards may run ahead of each other. --config '{"heartbeatMult":2}' overrides protocol settings of the lan preset.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { resolveConfig, type KelipsConfig } from '../src/core/config.js';
import { MESSAGE_TYPE_NAMES } from '../src/core/state.js';
import { formatViolation, type Violation } from '../src/sim/checkers.js';
import { createShardBuffers } from '../src/sim/shard-link.js';
import { percentile, round, Samples } from '../src/sim/stats.js';
import { answerFields, parseSeeds, seedsSummary, type SeedRun } from './sim-seeds.js';
import { simulateShard, timeline, type Progress, type ShardReport, type SimArgs } from './sim-shard.js';

/**
 * Default --threads: 2 (if there are 2 cores) from this many nodes on, else 1. Shards only run ahead of each other
 * by the smallest link delay; with few nodes there are few events per such window and the threads mostly wait for
 * each other (measured: 1,000 nodes, 2 simulated minutes, 29 s on one thread, 62 s on two).
 */
const SHARDED_FROM_NODES = 5000;

/**
 * Default --delay-min-ms: the simulated links are those of one cloud region or a large data center, 0.5 ms one way
 * plus a fixed 0 to 0.4 ms per link plus up to 0.2 ms of jitter (RTT 1 to 2.2 ms). A 10,000-node cluster spans racks
 * or zones; gossip rounds are 1 s, so sub-millisecond delays change none of the protocol's figures. The minimum is
 * also how far the shards of a threaded run may run ahead of each other: a smaller one (0.1 ms, a single rack)
 * makes them wait about five times as often (docs/BENCHMARKS.md).
 */
const DELAY_MIN_MS = 0.5;

const USAGE = `usage: npm run bench:sim -- [options]
  --nodes N            simulated nodes (default 1000)
  --files F            files published by their owners (default 10 x N)
  --minutes M          simulated minutes (default 10)
  --loss L             probability that a datagram is lost, 0..1 (default 0)
  --churn C            fraction of the nodes replaced per hour (default 0)
  --seed S             one seed, one run (default 1)
  --seeds A-B          one run per seed (a range or a list: 1-20, 1,4,9), one JSON summary (bench/sim-seeds.ts)
  --groups K           affinity groups (default round(sqrt(N)); also {"groups":K} in --config)
  --crashes X          crashes whose detection is measured (default 5)
  --lookups-per-s R    lookups per simulated second (default max(10, N/100))
  --join-seconds S     nodes start over this window (default 5 ms per node, 5 to 60 s)
  --stop-at-seconds T  end the run early at this simulated second (same timeline; for profiling)
  --threads T          worker threads, each running the nodes of every T-th affinity group
                       (default 2 from ${SHARDED_FROM_NODES} nodes on when there are 2 cores, else 1)
  --delay-min-ms D     smallest one-way link delay, also the shards' lookahead (default ${DELAY_MIN_MS})
  --config JSON        protocol settings over the lan preset, e.g. '{"heartbeatMult":2}'
  --json               print the result as one line of JSON
Prints one JSON object (progress lines go to stderr).`;

function parseArgs(argv: string[]): SimArgs & { seeds: number[] | null } {
  const a: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i] as string;
    if (k === '--json') json = true;
    else if (k === '--help' || k === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (k.startsWith('--') && i + 1 < argv.length) a[k.slice(2)] = argv[++i] as string;
    else throw new Error(`unexpected argument ${k} (or it lacks its value); --help lists the options`);
  }
  const known = ['nodes', 'files', 'minutes', 'loss', 'churn', 'seed', 'seeds', 'groups', 'crashes', 'lookups-per-s', 'join-seconds', 'stop-at-seconds', 'threads', 'delay-min-ms', 'config'];
  for (const k of Object.keys(a)) if (!known.includes(k)) throw new Error(`unknown option --${k}; --help lists the options`);
  const num = (k: string, d: number): number => {
    const v = a[k] === undefined ? d : Number(a[k]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a non-negative number`);
    return v;
  };
  const nodes = Math.floor(num('nodes', 1000));
  if (nodes < 1) throw new Error('--nodes must be at least 1');
  if (num('loss', 0) > 1) throw new Error('--loss is a probability, 0..1');
  const { config, groups: configGroups } = parseConfig(a['config']);
  if (configGroups !== undefined && a['groups'] !== undefined && Number(a['groups']) !== configGroups)
    throw new Error(`--groups ${a['groups']} and --config groups ${configGroups} disagree`);
  const groups = Math.floor(num('groups', configGroups ?? Math.max(1, Math.round(Math.sqrt(nodes)))));
  if (groups < 1) throw new Error('--groups must be at least 1');
  if (a['seeds'] !== undefined && a['seed'] !== undefined) throw new Error('give --seed or --seeds, not both');
  const threads = Math.floor(num('threads', nodes >= SHARDED_FROM_NODES ? Math.min(2, availableParallelism()) : 1));
  const delayMinMs = num('delay-min-ms', DELAY_MIN_MS);
  if (threads > 1 && !(delayMinMs > 0)) throw new Error('--delay-min-ms must be > 0 with --threads above 1 (it is how far shards may run ahead of each other)');
  if (threads < 1 || threads > groups) throw new Error(`--threads must be 1..${groups} (one shard holds whole affinity groups)`);
  return {
    nodes,
    files: Math.floor(num('files', 10 * nodes)),
    minutes: num('minutes', 10),
    churn: num('churn', 0),
    loss: num('loss', 0),
    seed: Math.floor(num('seed', 1)),
    groups,
    crashes: Math.floor(num('crashes', 5)),
    lookupsPerS: num('lookups-per-s', Math.max(10, nodes / 100)),
    joinSeconds: a['join-seconds'] === undefined ? null : num('join-seconds', 0),
    stopAtSeconds: a['stop-at-seconds'] === undefined ? null : num('stop-at-seconds', 0),
    delayMinMs,
    config,
    threads,
    json,
    seeds: a['seeds'] === undefined ? null : parseSeeds(a['seeds']),
  };
}

/**
 * --config: a JSON object of protocol settings (field names as in src/core/config.ts); checked by the core. Its
 * `groups` is taken out (k is SimArgs.groups).
 */
function parseConfig(text: string | undefined): { config: Partial<KelipsConfig>; groups: number | undefined } {
  if (text === undefined) return { config: {}, groups: undefined };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`--config must be a JSON object, e.g. '{"heartbeatMult":2}'`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`--config must be a JSON object, e.g. '{"heartbeatMult":2}'`);
  const { groups, ...config } = v as Partial<KelipsConfig>;
  if (groups !== undefined && !(Number.isInteger(groups) && groups >= 1)) throw new Error('--config: groups must be an integer of at least 1');
  resolveConfig({ ...config, ...(groups === undefined ? {} : { groups }) }, 'lan');
  return { config, groups };
}

/** Per-node-second rates by message type name, for the types that were sent at all. */
function perType(counts: readonly number[], nodeMs: number, digits: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  counts.forEach((n, type) => {
    if (n > 0) out[MESSAGE_TYPE_NAMES[type] ?? `type-${type}`] = round(n / (nodeMs / 1000), digits);
  });
  return out;
}

/**
 * V8 flags the benchmark runs under: a 128 MB young generation (the simulated nodes allocate many short-lived
 * message objects; measured here: ~20% less CPU than the default), room for 10,000 nodes' state, and gc() for the
 * heap measurement. When started without them (as `npm run bench:sim` does), the script re-runs itself with them.
 * V8's flags hold for every thread of the process; worker threads get the same limits as resourceLimits.
 */
const V8_FLAGS = ['--max-semi-space-size=128', '--max-old-space-size=16384', '--expose-gc'];
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 3 * 128, maxOldGenerationSizeMb: 16384 };

function reexecWithFlags(): boolean {
  if (process.env.KELIPS_BENCH_CHILD === '1' || process.env.KELIPS_BENCH_NO_REEXEC === '1') return false;
  const r = spawnSync(process.execPath, [...V8_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, KELIPS_BENCH_CHILD: '1' },
  });
  process.exitCode = r.status ?? 1;
  return true;
}

/** Prints a progress line once every shard has reached the same simulated time. */
class ProgressPrinter {
  private readonly pending = new Map<number, Progress[]>();

  constructor(
    private readonly shards: number,
    private readonly wallStart: bigint,
  ) {}

  add(p: Progress): void {
    const list = this.pending.get(p.simMs) ?? [];
    list.push(p);
    this.pending.set(p.simMs, list);
    if (list.length < this.shards) return;
    this.pending.delete(p.simMs);
    const sum = (f: (x: Progress) => number) => list.reduce((n, x) => n + f(x), 0);
    const byKind: Record<string, number> = {};
    for (const x of list) for (const [k, n] of Object.entries(x.violationsByKind)) byKind[k] = (byKind[k] ?? 0) + n;
    const wall = Number(process.hrtime.bigint() - this.wallStart) / 1e9;
    const cpu = process.cpuUsage();
    process.stderr.write(
      `  sim ${(p.simMs / 1000).toFixed(0)} s, wall ${wall.toFixed(1)} s, cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, heap ${(sum((x) => x.heapBytes) / 1e6).toFixed(0)} MB, datagrams ${sum((x) => x.datagrams)}, lookups ${sum((x) => x.lookupsCounted)}/${sum((x) => x.lookupsIssued)}, wrong not-found ${sum((x) => x.wrongNotFound)}, violations ${sum((x) => x.violations)} ${JSON.stringify(byKind)}\n`,
    );
    // The first few violations as they happen, so a long run can be looked into before it ends.
    for (const x of list) for (const v of x.newViolations) process.stderr.write(`    ${formatViolation(v)}\n`);
  }
}

/** Run the shards as worker threads; resolves with their reports in shard order. */
function runThreads(args: SimArgs, printer: ProgressPrinter): Promise<ShardReport[]> {
  const buffers = createShardBuffers(args.threads);
  const workers = Array.from({ length: args.threads }, (_, index) => {
    const w = new Worker(new URL('./sim-shard.js', import.meta.url), {
      workerData: { kind: 'kelips-sim-shard', args, setup: { index, count: args.threads, buffers } },
      resourceLimits: WORKER_LIMITS,
    });
    return new Promise<ShardReport>((resolve, reject) => {
      w.on('message', (m: { type: 'progress'; progress: Progress } | { type: 'done'; report: ShardReport }) => {
        if (m.type === 'progress') printer.add(m.progress);
        else resolve(m.report);
      });
      w.on('error', reject);
      w.on('exit', (code) => reject(new Error(`shard ${index} exited with code ${code} before reporting`)));
    });
  });
  return Promise.all(workers).catch((err: unknown) => {
    process.stderr.write(`bench/sim: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

function merged(values: number[][]): Samples {
  const s = new Samples();
  for (const list of values) for (const x of list) s.add(x);
  return s;
}

function sumBy<T>(list: readonly T[], f: (x: T) => number): number {
  let n = 0;
  for (const x of list) n += f(x);
  return n;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  return into;
}

/** The benchmark's JSON object from the shards' reports. */
function report(args: SimArgs, reports: ShardReport[], wallSeconds: number) {
  const tl = timeline(args);
  const { roundMs, links, publishStart, publishMs, graceMs } = tl;
  const first = reports[0]!;
  const L = reports.map((r) => r.lookups);
  const counted = Math.max(1, sumBy(L, (l) => l.counted));
  const hops = merged(L.map((l) => l.hops));
  const latency = merged(L.map((l) => l.latencyMs));
  const hopCounts: number[] = [];
  for (const l of L) l.hopCounts.forEach((n, h) => (hopCounts[h] = (hopCounts[h] ?? 0) + n));
  const dissemination = merged(reports.map((r) => r.disseminationRounds));
  const detection = merged(reports.map((r) => r.detectionMs));
  const removal = merged(reports.map((r) => r.removalMs));
  const groupSizes = reports.flatMap((r) => r.groupSizes);
  const groupP50 = percentile(groupSizes, 50);
  const failMs = reports.flatMap((r) => r.failTimeoutsMs);
  const suspectMs = reports.flatMap((r) => r.suspectTimeoutsMs);
  const nodeMs = sumBy(reports, (r) => r.nodeMs);
  const steadyNodeMs = sumBy(reports, (r) => r.steadyNodeMs);
  const bytesSent = sumBy(reports, (r) => r.counters.bytesSent);
  const datagramsSent = sumBy(reports, (r) => r.counters.datagramsSent);
  const byType = (f: (r: ShardReport) => number[]) => f(first).map((_, t) => sumBy(reports, (r) => f(r)[t] ?? 0));
  const liveNodes = sumBy(reports, (r) => r.liveNodes);
  const violationsByKind: Record<string, number> = {};
  for (const r of reports) addCounts(violationsByKind, r.violations.byKind);
  const violationList: Violation[] = reports.flatMap((r) => r.violations.list).sort((x, y) => x.time - y.time);
  const netCounters: Record<string, number> = {};
  for (const r of reports) addCounts(netCounters, r.net as unknown as Record<string, number>);
  const medianFail = percentile(failMs, 50);
  const cpu = process.cpuUsage();
  return {
    nodes: args.nodes,
    groups: args.groups,
    files: args.files,
    minutes: args.minutes,
    seed: args.seed,
    loss: args.loss,
    churn_per_hour: args.churn,
    lookups: sumBy(L, (l) => l.counted),
    lookups_issued: sumBy(L, (l) => l.issued),
    ...answerFields(args, reports),
    one_hop_ratio: round(sumBy(L, (l) => l.oneHop) / counted, 5),
    hops_p99: hops.percentile(99),
    hop_histogram: Array.from(hopCounts, (n) => n ?? 0),
    lookup_latency_ms_p50: round(latency.percentile(50)),
    lookup_latency_ms_p99: round(latency.percentile(99)),
    lookups_unavailable: sumBy(L, (l) => l.unavailable),
    lookups_not_found: sumBy(L, (l) => l.notFound),
    lookups_wrong_location: sumBy(L, (l) => l.wrongLocation),
    lookups_lost_with_asker: sumBy(L, (l) => l.lost),
    lookups_per_s: args.lookupsPerS,
    lookup_grace_ms: graceMs,
    lookup_failure_examples: L.flatMap((l) => l.failures).slice(0, 5),
    dissemination_rounds_p50: round(dissemination.percentile(50), 2),
    dissemination_rounds_p99: round(dissemination.percentile(99), 2),
    dissemination_rounds_max: round(dissemination.max(), 2),
    dissemination_bound_rounds: Math.ceil(Math.log2(groupP50)) + 4,
    disseminations_measured: dissemination.count,
    disseminations_incomplete_after_60_rounds: sumBy(reports, (r) => r.disseminationIncomplete),
    detection_seconds_p50: round(detection.percentile(50) / 1000, 2),
    detection_seconds_p99: round(detection.percentile(99) / 1000, 2),
    removal_seconds_p99: round(removal.percentile(99) / 1000, 2),
    detection_bound_seconds: round(medianFail / 1000 + (3 * roundMs) / 1000, 2),
    detections_measured: detection.count,
    detections_unfinished: sumBy(reports, (r) => r.detectionsUnfinished),
    crashes: first.crashes,
    crashes_scheduled: args.crashes,
    churn_replacements: first.churn.replacements,
    churn_leaves: first.churn.leaves,
    churn_crashes: first.churn.crashes,
    churn_mix: 'each replacement: graceful leave or crash with probability 1/2 each; the newcomer joins via 3 random running seeds and publishes as many new files as the departed node owned',
    false_removals: sumBy(reports, (r) => r.falseRemovals),
    safety_violations: sumBy(reports, (r) => r.violations.count),
    safety_violations_by_kind: violationsByKind,
    safety_violation_examples: violationList.slice(0, 8).map(formatViolation),
    bytes_sent_per_node_per_s: round(bytesSent / (nodeMs / 1000), 1),
    bytes_sent_per_node_per_s_steady: steadyNodeMs > 0 ? round(sumBy(reports, (r) => r.steadyBytes) / (steadyNodeMs / 1000), 1) : null,
    steady_state_from_s: tl.steadyStart / 1000,
    datagrams_sent_per_node_per_s: round(datagramsSent / (nodeMs / 1000), 2),
    datagrams_sent_per_node_per_s_by_type: perType(byType((r) => r.counters.datagramsByType), nodeMs, 3),
    bytes_sent_per_node_per_s_by_type: perType(byType((r) => r.counters.bytesByType), nodeMs, 1),
    largest_datagram_bytes: Math.max(...reports.map((r) => r.counters.largestDatagram)),
    decode_failures: sumBy(reports, (r) => r.counters.decodeFailures),
    heap_bytes_per_node: Math.round(sumBy(reports, (r) => r.heapBytes) / Math.max(1, liveNodes)),
    heap_measured_after_gc: reports.every((r) => r.heapAfterGc),
    heap_bytes_per_node_note: 'heap used after gc() at the end minus heap used before the cluster was built, summed over the shards\' threads and divided by running nodes (includes the simulator\'s own bookkeeping, a few hundred bytes per node and per file, which every shard keeps a copy of)',
    v8_flags: process.execArgv,
    threads: args.threads,
    shard_links: reports.map((r) => r.link),
    run_digest: reports.map((r) => r.digest.toString(16).padStart(8, '0')).join('-'),
    scenario_digests: reports.map((r) => r.decisions.toString(16).padStart(8, '0')),
    wall_seconds: round(wallSeconds, 1),
    cpu_seconds: round((cpu.user + cpu.system) / 1e6, 1),
    simulated_seconds: tl.stopMs / 1000,
    gossip_interval_ms: roundMs,
    group_size_p50: groupP50,
    fail_timeout_seconds: medianFail / 1000,
    suspect_timeout_seconds: percentile(suspectMs, 50) / 1000,
    fail_timeout_seconds_range: [Math.min(...failMs) / 1000, Math.max(...failMs) / 1000],
    publishing: `the ${args.files} files are published by their owners (file i by node i mod N) at uniformly random times between ${publishStart / 1000} s and ${(publishStart + publishMs) / 1000} s; lookups start at ${tl.lookupStart / 1000} s, from running nodes that started at least ${graceMs / 1000} s earlier, only for names published at least ${graceMs / 1000} s earlier whose owner is running`,
    publish_rate_per_group_per_s: round(args.files / (publishMs / 1000) / args.groups, 2),
    core_drops_at_running_nodes: reports.reduce((acc, r) => addCounts(acc, r.coreDrops), {} as Record<string, number>),
    join_window_seconds: tl.joinMs / 1000,
    live_nodes_at_end: liveNodes,
    network: links,
    net_counters: netCounters,
  };
}

async function main(): Promise<void> {
  if (reexecWithFlags()) return;
  const { seeds, ...args } = parseArgs(process.argv.slice(2));
  if (seeds === null) {
    const out = await runOne(args);
    process.stdout.write(args.json ? JSON.stringify(out) + '\n' : JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const runs: SeedRun[] = [];
  for (const seed of seeds) {
    const r = await runOne({ ...args, seed });
    runs.push({
      seed, wrong_not_found: r.wrong_not_found, lookup_success_ratio: r.lookup_success_ratio, lookups: r.lookups, lookups_not_found: r.lookups_not_found,
      lookups_unavailable: r.lookups_unavailable, lookups_to_empty_group: r.lookups_to_empty_group,
      lookup_success_ratio_inhabited_groups: r.lookup_success_ratio_inhabited_groups, safety_violations: r.safety_violations, wall_seconds: r.wall_seconds,
      wrong_not_found_examples: r.wrong_not_found_examples.slice(0, 2), replay: r.replay,
    });
    process.stderr.write(`bench/sim seed ${seed}: wrong_not_found ${r.wrong_not_found}, lookup_success_ratio ${r.lookup_success_ratio}, ${r.wall_seconds} s\n`);
  }
  const out = seedsSummary(args, seeds, runs);
  process.stdout.write(args.json ? JSON.stringify(out) + '\n' : JSON.stringify(out, null, 2) + '\n');
}

async function runOne(args: SimArgs): Promise<ReturnType<typeof report>> {
  const tl = timeline(args);
  const wallStart = process.hrtime.bigint();
  const settings = { ...args, preset: 'lan', links: tl.links, join_window_ms: tl.joinMs, publish_start_ms: tl.publishStart, publish_window_ms: tl.publishMs, lookup_start_ms: tl.lookupStart };
  process.stderr.write(`bench/sim ${JSON.stringify(settings)}\n`);
  const printer = new ProgressPrinter(args.threads, wallStart);
  const reports = args.threads === 1 ? [simulateShard(args, null, (p) => printer.add(p))] : await runThreads(args, printer);
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  return report(args, reports, wallSeconds);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:sim: ${(err as Error).message}\n`);
  process.exit(2);
});
