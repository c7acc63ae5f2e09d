/**
 * The simulation bench:sim runs, for one shard: the whole scenario (joins, publishes, lookups, crashes, churn) is
 * decided the same way in every shard from the seed and the slots' lifecycle, which every shard mirrors; each shard
 * runs and measures only the nodes of its own affinity groups. With one shard this is the whole simulation.
 * Everything the scenario decides depends only on the seed and on lifecycle state (never on a node's state), so the
 * shards make identical decisions without talking to each other; only datagrams cross (see src/sim/shard-link.ts).
 *
 * Also the entry point of a worker thread (bench/sim.ts starts one per shard).
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolveConfig, type KelipsConfig } from '../src/core/config.js';
import { fmix32, groupOfName } from '../src/core/hash.js';
import { randInt, SeededRng } from '../src/core/rng.js';
import { AnswerChecker, type AnswerCounts } from '../src/sim/answer-checker.js';
import { SafetyChecker, Violations, type Violation } from '../src/sim/checkers.js';
import { Cluster, SlotState, type ClusterCounters } from '../src/sim/cluster.js';
import { Faults, type ChurnCounters } from '../src/sim/faults.js';
import { DetectionTracker, DisseminationTracker, LookupTracker, membersByGroup } from '../src/sim/measure.js';
import { PERFECT_LINKS, type LinkSettings, type NetworkCounters } from '../src/sim/network.js';
import { REAL } from '../src/sim/real.js';
import { mix, mixString } from '../src/sim/stats.js';
import { ShardLink, type ShardLinkBuffers } from '../src/sim/shard-link.js';

export interface SimArgs {
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
  /** Smallest one-way link delay (ms); also the lookahead that lets shards run ahead of each other. */
  delayMinMs: number;
  /** Protocol settings other than the lan preset's (for experiments); k comes from `groups`. */
  config: Partial<KelipsConfig>;
  /** Worker threads (shards); 1 runs everything on the main thread. */
  threads: number;
  json: boolean;
}

/** The simulated timeline (ms) and network, derived from the arguments alone. */
export function timeline(args: SimArgs) {
  const config = resolveConfig({ ...args.config, groups: args.groups }, 'lan');
  const roundMs = config.gossipIntervalMs;
  const links: LinkSettings = { ...PERFECT_LINKS, delayMinMs: args.delayMinMs, linkSpreadMs: 0.4, jitterMs: 0.2, lossRate: args.loss };
  const endMs = args.minutes * 60_000;
  const joinMs = args.joinSeconds !== null ? args.joinSeconds * 1000 : Math.min(60_000, Math.max(5_000, args.nodes * 5));
  const publishStart = joinMs + 10 * roundMs;
  const publishMs = Math.min(240_000, Math.max(30_000, endMs * 0.4));
  const graceMs = 10 * roundMs;
  const lookupStart = publishStart + graceMs;
  const steadyStart = publishStart + publishMs + 30_000;
  const stopMs = args.stopAtSeconds === null ? endMs : Math.min(endMs, args.stopAtSeconds * 1000);
  return { config, roundMs, links, endMs, joinMs, publishStart, publishMs, graceMs, lookupStart, steadyStart, stopMs };
}

export interface Progress {
  shard: number;
  simMs: number;
  heapBytes: number;
  datagrams: number;
  lookupsCounted: number;
  lookupsIssued: number;
  violations: number;
  violationsByKind: Record<string, number>;
  /** Lookups answered "not found" while a live owner's tuple had settled (answer-checker.ts). */
  wrongNotFound: number;
  /** Violations (wrong answers included) not reported in an earlier progress message. */
  newViolations: Violation[];
}

/** What one shard measured: plain data, merged by bench/sim.ts. */
export interface ShardReport {
  shard: number;
  digest: number;
  /** Digest of every scenario decision (joins, publishes, lookups, crashes, churn): the same in every shard. */
  decisions: number;
  /** Whether gc() was available for the heap figure. */
  heapAfterGc: boolean;
  lookups: {
    issued: number; counted: number; found: number; emptyGroupCounted: number; emptyGroupFound: number; notFound: number; unavailable: number; wrongLocation: number; oneHop: number; lost: number;
    hops: number[]; latencyMs: number[]; hopCounts: number[]; failures: string[];
  };
  disseminationRounds: number[];
  disseminationIncomplete: number;
  detectionMs: number[];
  removalMs: number[];
  detectionsUnfinished: number;
  falseRemovals: number;
  violations: { count: number; byKind: Record<string, number>; list: Violation[] };
  /** Every lookup answer, judged by the answer checker (src/sim/answer-checker.ts), and its first violations. */
  answers: AnswerCounts;
  wrongNotFound: Violation[];
  /** Measured lookups issued for a name whose group had no running node (as of the last gossip round). */
  lookupsToEmptyGroup: number;
  counters: ClusterCounters;
  net: NetworkCounters;
  nodeMs: number;
  steadyNodeMs: number;
  steadyBytes: number;
  groupSizes: number[];
  failTimeoutsMs: number[];
  suspectTimeoutsMs: number[];
  coreDrops: Record<string, number>;
  liveNodes: number;
  heapBytes: number;
  crashes: number;
  churn: ChurnCounters;
  link: { sent: number; received: number; waits: number; sleeps: number; waitSeconds: number } | null;
}

export interface ShardSetup {
  index: number;
  count: number;
  buffers: ShardLinkBuffers;
}

interface Published {
  name: string;
  location: string;
  owner: number;
  incarnation: number;
  at: number;
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

export function simulateShard(args: SimArgs, setup: ShardSetup | null, onProgress: (p: Progress) => void): ShardReport {
  const shard = setup?.index ?? 0;
  const gc = gcFunction();
  gc?.();
  const heapBefore = getHeapStatistics().used_heap_size;
  const tl = timeline(args);
  const { config, roundMs, links, endMs, joinMs, publishStart, publishMs, graceMs, lookupStart } = tl;
  const link = setup === null ? null : new ShardLink(setup.index, setup.count, setup.buffers, links.delayMinMs);

  const cluster = new Cluster({ seed: args.seed, config, links, ...REAL, ...(link ? { shard: link } : {}) });
  const faults = new Faults(cluster, args.seed);
  const rng = new SeededRng(fmix32(args.seed ^ 0x62656e63));
  const violations = new Violations(50);
  const checker = new SafetyChecker(cluster, faults, violations, new SeededRng(fmix32(args.seed ^ 0x63686b72)), 64);
  const lookups = new LookupTracker(cluster);
  const dissemination = new DisseminationTracker(cluster, 60 * roundMs);
  const detection = new DetectionTracker(cluster);
  const wrongAnswers = new Violations(20);
  const answers = new AnswerChecker(cluster, wrongAnswers);
  cluster.observers.push(checker, answers, lookups, dissemination, detection);
  // Every scenario decision is mixed into this digest; shards that decide alike end with equal digests.
  let decisions = 0x811c9dc5;
  const decided = (what: number, slot: number, name = ''): void => {
    decisions = mixString(mix(mix(decisions, what), slot), name);
  };
  faults.onCrash = (slot, now) => {
    decided(1, slot);
    if (cluster.owns(slot)) detection.crashed(slot, now);
    lookups.askerStopped(slot);
  };

  // Nodes: a founder, then the rest over the join window.
  cluster.addNode([]);
  for (let i = 1; i < args.nodes; i++)
    cluster.at((i / args.nodes) * joinMs, () => {
      const seeds = faults.pickLive(3);
      decided(2, cluster.addNode(seeds), seeds.join());
    });

  // Files: file i belongs to node i mod N, published at a uniformly random time in the publish window.
  const published: Published[] = [];
  const filesOf = new Map<number, number>();
  const publishFile = (slot: number, name: string, location: string): void => {
    if (!cluster.isLive(slot)) return;
    decided(3, slot, name);
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
    decided(graceful ? 4 : 5, departed, String(newcomer));
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

  // Lookups: a random asker that has been running for the grace period (time to join), a random name of a running
  // owner published at least that long ago. Only the shard of the asker issues it.
  // Running nodes per group as of the last round, and the measured lookups issued for a name of an empty group
  // (nowhere to be stored: those cannot be found, however right the protocol).
  const runningInGroup = new Array<number>(config.groups).fill(0);
  let lookupsToEmptyGroup = 0;
  const issueLookup = (now: number): void => {
    for (let tries = 0; tries < 50; tries++) {
      const p = published[randInt(rng, published.length)];
      if (!p || now - p.at < graceMs) continue;
      if (cluster.state[p.owner] !== SlotState.Running || cluster.incarnation[p.owner] !== p.incarnation) continue;
      const asker = randInt(rng, cluster.size);
      if (cluster.state[asker] !== SlotState.Running || now - (cluster.startedAt[asker] as number) < graceMs) continue;
      decided(6, asker, p.name);
      if (cluster.owns(asker)) {
        const empty = runningInGroup[groupOfName(p.name, config.groups)] === 0;
        if (empty) lookupsToEmptyGroup++;
        lookups.issue(asker, p.name, cluster.addrs[p.owner] as string, p.location, true, empty);
      }
      return;
    }
  };
  cluster.every(1000 / args.lookupsPerS, lookupStart, endMs - 5000, issueLookup);

  // Per round: trackers, node-seconds; safety checks on a sample every 10 s.
  let nodeMs = 0;
  let steadyBytesFrom = -1;
  let steadyNodeMs = 0;
  cluster.every(roundMs, roundMs, endMs + 1, (now) => {
    const all = membersByGroup(cluster, false);
    let live = 0;
    for (const g of all) live += g.length;
    all.forEach((m, g) => (runningInGroup[g] = m.length));
    nodeMs += live * roundMs;
    if (now >= tl.steadyStart) {
      if (steadyBytesFrom < 0) steadyBytesFrom = cluster.counters.bytesSent;
      else steadyNodeMs += live * roundMs;
    }
    detection.sweep(all);
    dissemination.sweep(now, membersByGroup(cluster, true));
  });
  cluster.every(10_000, 10_000, endMs + 1, (now) => checker.check(now));

  const progressEvery = 60_000;
  let violationsShown = 0;
  let wrongShown = 0;
  for (let t = progressEvery; t < tl.stopMs + progressEvery; t += progressEvery) {
    cluster.runUntil(Math.min(t, tl.stopMs));
    const shown = Math.min(10, violations.list.length);
    const wrong = Math.min(10, wrongAnswers.list.length);
    onProgress({
      shard,
      simMs: cluster.now,
      heapBytes: getHeapStatistics().used_heap_size,
      datagrams: cluster.counters.datagramsSent,
      lookupsCounted: lookups.counted,
      lookupsIssued: lookups.issued,
      violations: violations.count,
      violationsByKind: { ...violations.byKind },
      wrongNotFound: answers.counts.wrongNotFound,
      newViolations: [...violations.list.slice(violationsShown, shown), ...wrongAnswers.list.slice(wrongShown, wrong)],
    });
    violationsShown = shown;
    wrongShown = wrong;
  }
  detection.finish();
  gc?.();
  const heapAfter = getHeapStatistics().used_heap_size;

  // Group sizes, timeouts and drops at the end, from the nodes themselves.
  const live: number[] = [];
  for (let i = 0; i < cluster.size; i++) if (cluster.state[i] === SlotState.Running && cluster.owns(i)) live.push(i);
  const coreDrops: Record<string, number> = {};
  for (const s of live) for (const [reason, n] of Object.entries(cluster.node(s).counters.drops)) if (n > 0) coreDrops[reason] = (coreDrops[reason] ?? 0) + n;
  return {
    shard,
    digest: cluster.digest >>> 0,
    decisions: decisions >>> 0,
    heapAfterGc: gc !== null,
    lookups: {
      issued: lookups.issued, counted: lookups.counted, found: lookups.found, emptyGroupCounted: lookups.emptyGroupCounted, emptyGroupFound: lookups.emptyGroupFound, notFound: lookups.notFound, unavailable: lookups.unavailable,
      wrongLocation: lookups.wrongLocation, oneHop: lookups.oneHop, lost: lookups.lost, hops: lookups.hops.values(),
      latencyMs: lookups.latencyMs.values(), hopCounts: Array.from(lookups.hopCounts, (n) => n ?? 0), failures: lookups.failures.slice(0, 5),
    },
    disseminationRounds: dissemination.rounds.values(),
    disseminationIncomplete: dissemination.incomplete,
    detectionMs: detection.detectionMs.values(),
    removalMs: detection.removalMs.values(),
    detectionsUnfinished: detection.unfinished,
    falseRemovals: checker.falseRemovals,
    violations: { count: violations.count, byKind: violations.byKind, list: violations.list.slice(0, 8) },
    answers: { ...answers.counts },
    lookupsToEmptyGroup,
    wrongNotFound: wrongAnswers.list.slice(0, 8),
    counters: cluster.counters,
    net: cluster.network.counters,
    nodeMs,
    steadyNodeMs,
    steadyBytes: steadyNodeMs > 0 ? cluster.counters.bytesSent - steadyBytesFrom : 0,
    groupSizes: live.map((s) => cluster.node(s).groupSize),
    failTimeoutsMs: live.map((s) => cluster.node(s).currentTimeouts().failMs),
    suspectTimeoutsMs: live.map((s) => cluster.node(s).currentTimeouts().suspectMs),
    coreDrops,
    liveNodes: live.length,
    heapBytes: heapAfter - heapBefore,
    crashes: faults.crashes.length,
    churn: faults.churn,
    link: link === null ? null : { sent: link.sent, received: link.received, waits: link.waits, sleeps: link.sleeps, waitSeconds: Math.round(link.waitMs) / 1000 },
  };
}

// A worker thread started by bench/sim.ts: run one shard, report progress and the result to the main thread.
if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'kelips-sim-shard') {
  const { args, setup } = workerData as { args: SimArgs; setup: ShardSetup };
  const report = simulateShard(args, setup, (p) => parentPort!.postMessage({ type: 'progress', progress: p }));
  parentPort!.postMessage({ type: 'done', report });
}
