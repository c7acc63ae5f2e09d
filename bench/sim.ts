/**
 * The simulator benchmark: N real protocol nodes with the real codec on a virtual clock.
 *
 *   npm run bench:sim -- --nodes 1000 --files 10000 --minutes 10 [--churn 1.0] [--loss 0.1] [--seed 1]
 *                        [--groups K] [--crashes 5] [--lookups-per-s R] [--join-seconds S]
 *                        [--stop-at-seconds T] [--json]
 *
 * Timeline (simulated): nodes start over the first join window (5 ms per node, 5 to 60 s; --join-seconds sets it),
 * each joining through 3 random running nodes; the F files are published by their owners at uniformly random times over a publish window; lookups from random running
 * nodes for random names of running owners start after a warm-up; a few nodes crash (detection is measured); churn
 * replaces nodes at the given fraction per hour (half graceful leaves, half crashes; each newcomer publishes as many
 * files as the node it replaces owned). Prints one JSON object (progress goes to stderr).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { resolveConfig } from '../src/core/config.js';
import { fmix32 } from '../src/core/hash.js';
import { MESSAGE_TYPE_NAMES } from '../src/core/state.js';
import { randInt, SeededRng } from '../src/core/rng.js';
import { formatViolation, SafetyChecker, Violations } from '../src/sim/checkers.js';
import { Cluster, SlotState } from '../src/sim/cluster.js';
import { Faults } from '../src/sim/faults.js';
import { DetectionTracker, DisseminationTracker, LookupTracker, membersByGroup } from '../src/sim/measure.js';
import { PERFECT_LINKS, type LinkSettings } from '../src/sim/network.js';
import { REAL } from '../src/sim/real.js';
import { percentile, round } from '../src/sim/stats.js';

interface Args {
  nodes: number;
  files: number;
  minutes: number;
  churn: number;
  loss: number;
  seed: number;
  groups: number;
  crashes: number;
  lookupsPerS: number;
  joinSeconds: number | null;
  /** End the run early at this simulated second (same timeline; for profiling a phase). */
  stopAtSeconds: number | null;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i] as string;
    if (k === '--json') json = true;
    else if (k.startsWith('--') && i + 1 < argv.length) a[k.slice(2)] = argv[++i] as string;
    else throw new Error(`unexpected argument ${k}`);
  }
  const num = (k: string, d: number): number => {
    const v = a[k] === undefined ? d : Number(a[k]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a non-negative number`);
    return v;
  };
  const nodes = Math.floor(num('nodes', 1000));
  return {
    nodes,
    files: Math.floor(num('files', 10 * nodes)),
    minutes: num('minutes', 10),
    churn: num('churn', 0),
    loss: num('loss', 0),
    seed: Math.floor(num('seed', 1)),
    groups: Math.floor(num('groups', Math.max(1, Math.round(Math.sqrt(nodes))))),
    crashes: Math.floor(num('crashes', 5)),
    lookupsPerS: num('lookups-per-s', Math.max(10, nodes / 100)),
    joinSeconds: a['join-seconds'] === undefined ? null : num('join-seconds', 0),
    stopAtSeconds: a['stop-at-seconds'] === undefined ? null : num('stop-at-seconds', 0),
    json,
  };
}

/** Per-node-second rates by message type name, for the types that were sent at all. */
function perType(counts: readonly number[], nodeMs: number, digits: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  counts.forEach((n, type) => {
    if (n > 0) out[MESSAGE_TYPE_NAMES[type] ?? `type-${type}`] = round(n / (nodeMs / 1000), digits);
  });
  return out;
}

function gcFunction(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

interface Published {
  name: string;
  location: string;
  owner: number;
  incarnation: number;
  at: number;
}

/**
 * V8 flags the benchmark runs under: a 128 MB young generation (the simulated nodes allocate many short-lived
 * message objects; measured here: ~20% less CPU than the default), room for 10,000 nodes' state, and gc() for the
 * heap measurement. When started without them (as `npm run bench:sim` does), the script re-runs itself with them.
 */
const V8_FLAGS = ['--max-semi-space-size=128', '--max-old-space-size=16384', '--expose-gc'];

function reexecWithFlags(): boolean {
  if (process.env.KELIPS_BENCH_CHILD === '1' || process.env.KELIPS_BENCH_NO_REEXEC === '1') return false;
  const r = spawnSync(process.execPath, [...V8_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, KELIPS_BENCH_CHILD: '1' },
  });
  process.exitCode = r.status ?? 1;
  return true;
}

function main(): void {
  if (reexecWithFlags()) return;
  const args = parseArgs(process.argv.slice(2));
  const gc = gcFunction();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const wallStart = process.hrtime.bigint();
  const config = resolveConfig({ groups: args.groups }, 'lan');
  const roundMs = config.gossipIntervalMs;
  const links: LinkSettings = { ...PERFECT_LINKS, delayMinMs: 0.1, linkSpreadMs: 0.4, jitterMs: 0.2, lossRate: args.loss };
  const endMs = args.minutes * 60_000;
  const joinMs = args.joinSeconds !== null ? args.joinSeconds * 1000 : Math.min(60_000, Math.max(5_000, args.nodes * 5));
  const publishStart = joinMs + 10 * roundMs;
  const publishMs = Math.min(240_000, Math.max(30_000, endMs * 0.4));
  const graceMs = 10 * roundMs;
  const lookupStart = publishStart + graceMs;
  const settings = { ...args, preset: 'lan', links, join_window_ms: joinMs, publish_start_ms: publishStart, publish_window_ms: publishMs, lookup_start_ms: lookupStart };
  process.stderr.write(`bench/sim ${JSON.stringify(settings)}\n`);

  const cluster = new Cluster({ seed: args.seed, config, links, ...REAL });
  const faults = new Faults(cluster, args.seed);
  const rng = new SeededRng(fmix32(args.seed ^ 0x62656e63));
  const violations = new Violations(50);
  const checker = new SafetyChecker(cluster, faults, violations, new SeededRng(fmix32(args.seed ^ 0x63686b72)), 64);
  const lookups = new LookupTracker(cluster);
  const dissemination = new DisseminationTracker(cluster, 60 * roundMs);
  const detection = new DetectionTracker(cluster);
  cluster.observers.push(checker, lookups, dissemination, detection);
  faults.onCrash = (slot, now) => {
    detection.crashed(slot, now);
    lookups.askerStopped(slot);
  };

  // Nodes: a founder, then the rest over the join window.
  cluster.addNode([]);
  for (let i = 1; i < args.nodes; i++) cluster.at((i / args.nodes) * joinMs, () => void cluster.addNode(faults.pickLive(3)));

  // Files: file i belongs to node i mod N, published at a uniformly random time in the publish window.
  const published: Published[] = [];
  const filesOf = new Map<number, number>();
  const publishFile = (slot: number, name: string, location: string): void => {
    if (!cluster.isLive(slot)) return;
    cluster.publish(slot, name, location);
    published.push({ name, location, owner: slot, incarnation: cluster.incarnation[slot] as number, at: cluster.now });
  };
  const times = Array.from({ length: args.files }, () => publishStart + rng.next() * publishMs).sort((x, y) => x - y);
  let nextFile = 0;
  const publishUpTo = (now: number): void => {
    while (nextFile < args.files && (times[nextFile] as number) <= now) {
      const i = nextFile++;
      const owner = i % args.nodes;
      filesOf.set(owner, (filesOf.get(owner) ?? 0) + 1);
      publishFile(owner, `files/${i.toString(36)}/${(i * 2654435761) % 1e9}.dat`, `nfs://host-${owner}.sim/export/${i}`);
    }
  };
  cluster.every(100, publishStart, publishStart + publishMs + 200, publishUpTo);

  // Churn: departures (half leaves, half crashes); each newcomer publishes as many files as the departed owned.
  faults.onReplace = (departed, newcomer, graceful) => {
    if (graceful) lookups.askerStopped(departed);
    const count = filesOf.get(departed) ?? 0;
    filesOf.set(newcomer, count);
    for (let j = 0; j < count; j++)
      cluster.at(cluster.now + 5 * roundMs + j * 50, () => publishFile(newcomer, `churn/${newcomer.toString(36)}/${j}.dat`, `nfs://host-${newcomer}.sim/churn/${j}`));
  };
  faults.startChurn({ perHour: args.churn, population: args.nodes, leaveShare: 0.5, start: publishStart, end: endMs, seedsPerJoin: 3 });

  // Crashes to measure detection with: evenly spaced, leaving time to detect the last one.
  const crashEnd = endMs - 120_000;
  for (let i = 0; i < args.crashes; i++) {
    const at = lookupStart + ((i + 0.5) / args.crashes) * Math.max(0, crashEnd - lookupStart);
    cluster.at(at, () => {
      const [v] = faults.pickLive(1);
      if (v !== undefined) faults.crash(v);
    });
  }

  // Lookups: random running asker, random name of a running owner published at least graceMs ago.
  const issueLookup = (now: number): void => {
    for (let tries = 0; tries < 50; tries++) {
      const p = published[randInt(rng, published.length)];
      if (!p || now - p.at < graceMs) continue;
      if (cluster.state[p.owner] !== SlotState.Running || cluster.incarnation[p.owner] !== p.incarnation) continue;
      const asker = randInt(rng, cluster.size);
      if (cluster.state[asker] !== SlotState.Running || !cluster.node(asker).joined) continue;
      lookups.issue(asker, p.name, cluster.addrs[p.owner] as string, p.location, true);
      return;
    }
  };
  cluster.every(1000 / args.lookupsPerS, lookupStart, endMs - 5000, issueLookup);

  // Per round: trackers, node-seconds; safety checks on a sample every 10 s.
  let nodeMs = 0;
  let steadyBytesFrom = -1;
  let steadyNodeMs = 0;
  const steadyStart = publishStart + publishMs + 30_000;
  cluster.every(roundMs, roundMs, endMs + 1, (now) => {
    const all = membersByGroup(cluster, false);
    let live = 0;
    for (const g of all) live += g.length;
    nodeMs += live * roundMs;
    if (now >= steadyStart) {
      if (steadyBytesFrom < 0) steadyBytesFrom = cluster.counters.bytesSent;
      else steadyNodeMs += live * roundMs;
    }
    detection.sweep(all);
    dissemination.sweep(now, membersByGroup(cluster, true));
  });
  cluster.every(10_000, 10_000, endMs + 1, (now) => checker.check(now));

  const progressEvery = 60_000;
  let violationsShown = 0;
  const stopMs = args.stopAtSeconds === null ? endMs : Math.min(endMs, args.stopAtSeconds * 1000);
  for (let t = progressEvery; t < stopMs + progressEvery; t += progressEvery) {
    cluster.runUntil(Math.min(t, stopMs));
    const wall = Number(process.hrtime.bigint() - wallStart) / 1e9;
    const cpu = process.cpuUsage();
    process.stderr.write(
      `  sim ${(cluster.now / 1000).toFixed(0)} s, wall ${wall.toFixed(1)} s, cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB, datagrams ${cluster.counters.datagramsSent}, lookups ${lookups.counted}/${lookups.issued}, violations ${violations.count} ${JSON.stringify(violations.byKind)}\n`,
    );
    // The first few violations as they happen, so a long run can be looked into before it ends.
    for (; violationsShown < Math.min(10, violations.list.length); violationsShown++) {
      process.stderr.write(`    ${formatViolation(violations.list[violationsShown]!)}\n`);
    }
  }
  detection.finish();
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;

  // Group sizes and timeouts at the end, from the nodes themselves.
  const liveSlots: number[] = [];
  for (let i = 0; i < cluster.size; i++) if (cluster.state[i] === SlotState.Running) liveSlots.push(i);
  const sizes = liveSlots.map((s) => cluster.node(s).groupSize);
  const t = cluster.node(liveSlots[0] as number).currentTimeouts();
  const groupP50 = percentile(sizes, 50);
  const c = cluster.counters;
  const failTimeouts = liveSlots.map((s) => cluster.node(s).currentTimeouts().failMs / 1000);
  const coreDrops: Record<string, number> = {};
  for (const s of liveSlots)
    for (const [reason, n] of Object.entries(cluster.node(s).counters.drops)) if (n > 0) coreDrops[reason] = (coreDrops[reason] ?? 0) + n;
  const counted = Math.max(1, lookups.counted);

  const out = {
    nodes: args.nodes,
    groups: args.groups,
    files: args.files,
    minutes: args.minutes,
    seed: args.seed,
    loss: args.loss,
    churn_per_hour: args.churn,
    lookups: lookups.counted,
    lookup_success_ratio: round(lookups.found / counted, 5),
    one_hop_ratio: round(lookups.oneHop / counted, 5),
    hops_p99: lookups.hops.percentile(99),
    hop_histogram: lookups.hopCounts.map((n) => n ?? 0),
    lookup_latency_ms_p50: round(lookups.latencyMs.percentile(50)),
    lookup_latency_ms_p99: round(lookups.latencyMs.percentile(99)),
    lookups_unavailable: lookups.unavailable,
    lookups_not_found: lookups.notFound,
    lookups_wrong_location: lookups.wrongLocation,
    lookups_lost_with_asker: lookups.lost,
    lookups_per_s: args.lookupsPerS,
    lookup_grace_ms: graceMs,
    lookup_failure_examples: lookups.failures.slice(0, 5),
    dissemination_rounds_p50: round(dissemination.rounds.percentile(50), 2),
    dissemination_rounds_p99: round(dissemination.rounds.percentile(99), 2),
    dissemination_rounds_max: round(dissemination.rounds.max(), 2),
    dissemination_bound_rounds: Math.ceil(Math.log2(groupP50)) + 4,
    disseminations_measured: dissemination.rounds.count,
    disseminations_incomplete_after_60_rounds: dissemination.incomplete,
    detection_seconds_p50: round(detection.detectionMs.percentile(50) / 1000, 2),
    detection_seconds_p99: round(detection.detectionMs.percentile(99) / 1000, 2),
    removal_seconds_p99: round(detection.removalMs.percentile(99) / 1000, 2),
    detection_bound_seconds: round(t.failMs / 1000 + (3 * roundMs) / 1000, 2),
    detections_measured: detection.detectionMs.count,
    detections_unfinished: detection.unfinished,
    crashes: faults.crashes.length,
    crashes_scheduled: args.crashes,
    churn_replacements: faults.churn.replacements,
    churn_leaves: faults.churn.leaves,
    churn_crashes: faults.churn.crashes,
    churn_mix: 'each replacement: graceful leave or crash with probability 1/2 each; the newcomer joins via 3 random running seeds and publishes as many new files as the departed node owned',
    false_removals: checker.falseRemovals,
    safety_violations: violations.count,
    safety_violations_by_kind: violations.byKind,
    safety_violation_examples: violations.list.slice(0, 8).map(formatViolation),
    bytes_sent_per_node_per_s: round(c.bytesSent / (nodeMs / 1000), 1),
    bytes_sent_per_node_per_s_steady: steadyNodeMs > 0 ? round((c.bytesSent - steadyBytesFrom) / (steadyNodeMs / 1000), 1) : null,
    steady_state_from_s: steadyStart / 1000,
    datagrams_sent_per_node_per_s: round(c.datagramsSent / (nodeMs / 1000), 2),
    datagrams_sent_per_node_per_s_by_type: perType(c.datagramsByType, nodeMs, 3),
    bytes_sent_per_node_per_s_by_type: perType(c.bytesByType, nodeMs, 1),
    largest_datagram_bytes: c.largestDatagram,
    decode_failures: c.decodeFailures,
    heap_bytes_per_node: Math.round((heapAfter - heapBefore) / Math.max(1, liveSlots.length)),
    heap_measured_after_gc: gc !== null,
    heap_bytes_per_node_note: 'heap used after gc() at the end minus heap used before the cluster was built, divided by running nodes (includes the simulator\'s own bookkeeping, a few hundred bytes per node and per file)',
    v8_flags: process.execArgv,
    wall_seconds: round(wallSeconds, 1),
    cpu_seconds: round((process.cpuUsage().user + process.cpuUsage().system) / 1e6, 1),
    simulated_seconds: stopMs / 1000,
    gossip_interval_ms: roundMs,
    group_size_p50: groupP50,
    fail_timeout_seconds: t.failMs / 1000,
    suspect_timeout_seconds: t.suspectMs / 1000,
    fail_timeout_seconds_range: [Math.min(...failTimeouts), Math.max(...failTimeouts)],
    publishing: `the ${args.files} files are published by their owners (file i by node i mod N) at uniformly random times between ${publishStart / 1000} s and ${(publishStart + publishMs) / 1000} s; lookups start at ${lookupStart / 1000} s, only for names published at least ${graceMs / 1000} s earlier whose owner is running`,
    publish_rate_per_group_per_s: round(args.files / (publishMs / 1000) / args.groups, 2),
    core_drops_at_running_nodes: coreDrops,
    join_window_seconds: joinMs / 1000,
    live_nodes_at_end: liveSlots.length,
    network: links,
    net_counters: cluster.network.counters,
  };
  process.stdout.write(args.json ? JSON.stringify(out) + '\n' : JSON.stringify(out, null, 2) + '\n');
}

main();
