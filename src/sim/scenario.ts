/**
 * A scenario = a name + a seed + settings drawn from that seed + four phases:
 *   1. warm-up: nodes start (staggered, each joining through random earlier nodes) and publish files; clean links;
 *   2. safety: the drawn link faults and the scenario's fault program run; safety checkers run periodically;
 *   3. heal: links clean again, partitions removed, paused nodes resumed;
 *   4. liveness: after a few fail timeouts, membership, contacts and lookups of every live owner's tuples are
 *      checked.
 * The seed and every drawn setting are printed first; `replayCommand` reproduces the run.
 */
import { resolveConfig, timeouts, type KelipsConfig } from '../core/config.js';
import { fmix32 } from '../core/hash.js';
import { SeededRng } from '../core/rng.js';
import { SafetyChecker, Violations } from './checkers.js';
import { Cluster, SlotState } from './cluster.js';
import { Faults } from './faults.js';
import { checkMembership, LookupProbe } from './liveness.js';
import { PERFECT_LINKS, type LinkSettings } from './network.js';
import type { Codec, NodeFactory } from './sim-node.js';

/** Draws settings from the scenario seed and remembers each (name = value) for the first line of the run. */
export class Draw {
  readonly values: [string, number | string][] = [];
  constructor(readonly rng: SeededRng) {}
  int(name: string, min: number, max: number): number {
    return this.note(name, min + Math.floor(this.rng.next() * (max - min + 1)));
  }
  num(name: string, min: number, max: number, digits = 3): number {
    return this.note(name, Math.round((min + this.rng.next() * (max - min)) * 10 ** digits) / 10 ** digits);
  }
  pick<T extends string>(name: string, options: readonly T[]): T {
    return this.note(name, options[Math.floor(this.rng.next() * options.length)] as T);
  }
  note<T extends number | string>(name: string, value: T): T {
    this.values.push([name, value]);
    return value;
  }
}

/** What a fault program sees when the safety phase starts. */
export interface PhaseContext {
  cluster: Cluster;
  faults: Faults;
  /** Start of the safety phase (absolute ms). */
  t0: number;
  /** Length of the safety phase (ms). */
  faultMs: number;
  /** Fail / suspect timeouts for the largest and smallest group present at t0. */
  failMsMax: number;
  failMsMin: number;
  suspectMsMin: number;
  roundMs: number;
  /** Schedule `fn` at t0 + offset. */
  at(offsetMs: number, fn: (now: number) => void): void;
  log(line: string): void;
}

export interface ScenarioPlan {
  nodes: number;
  groups?: number;
  preset?: 'local' | 'lan';
  config?: Partial<KelipsConfig>;
  filesPerNode?: number;
  /** Link settings during the safety phase (over PERFECT_LINKS). */
  faultLinks?: Partial<LinkSettings>;
  faultMs: number;
  program?: (ctx: PhaseContext) => void;
  /** Lookups issued by the liveness check (sampled tuples). */
  livenessLookups?: number;
}

export interface ScenarioSpec {
  name: string;
  about: string;
  plan(d: Draw): ScenarioPlan;
}

export interface RunOptions {
  factory: NodeFactory;
  codec: Codec;
  log?: (line: string) => void;
}

export interface ScenarioResult {
  name: string;
  seed: number;
  settings: string;
  violations: Violations;
  digest: number;
  replay: string;
  /** Human-readable outcome: settings, counters, violations, replay command. */
  report: string;
  simulatedMs: number;
  nodesAtEnd: number;
  liveAtEnd: number;
  falseRemovals: number;
  lookups: { issued: number; answered: number };
  datagrams: number;
  bytes: number;
}

export function replayCommand(name: string, seed: number): string {
  return `node dist/src/sim/cli.js --scenario ${name} --seed ${seed}`;
}

export function runScenario(spec: ScenarioSpec, seed: number, opts: RunOptions): ScenarioResult {
  const log = opts.log ?? (() => {});
  const d = new Draw(new SeededRng(fmix32(seed ^ 0x7363656e)));
  const plan = spec.plan(d);
  const groups = plan.groups ?? Math.max(1, Math.round(Math.sqrt(plan.nodes)));
  const preset = plan.preset ?? 'local';
  const config = resolveConfig({ ...plan.config, groups }, preset);
  const links: LinkSettings = { ...PERFECT_LINKS, ...plan.faultLinks };
  const settings =
    `scenario=${spec.name} seed=${seed} nodes=${plan.nodes} groups=${groups} preset=${preset} fault_ms=${plan.faultMs} ` +
    `links=${JSON.stringify(links)}` +
    (plan.config ? ` config=${JSON.stringify(plan.config)}` : '') +
    (d.values.length ? ' drawn: ' + d.values.map(([k, v]) => `${k}=${v}`).join(' ') : '');
  log(settings);

  const cluster = new Cluster({ seed, config, links: PERFECT_LINKS, factory: opts.factory, codec: opts.codec });
  const faults = new Faults(cluster, seed);
  const violations = new Violations();
  const checker = new SafetyChecker(cluster, faults, violations, new SeededRng(fmix32(seed ^ 0x63686b72)));
  cluster.observers.push(checker);
  const round = config.gossipIntervalMs;

  // 1. Warm-up: staggered start (first node founds the cluster), then files.
  const joinSpreadMs = Math.min(10 * round, 50 * plan.nodes);
  cluster.addNode([]);
  for (let i = 1; i < plan.nodes; i++) {
    cluster.at((i / plan.nodes) * joinSpreadMs, () => {
      cluster.addNode(faults.pickLive(3));
    });
  }
  const files = plan.filesPerNode ?? 2;
  const publishStart = joinSpreadMs + 5 * round;
  for (let i = 0; i < plan.nodes; i++) {
    for (let j = 0; j < files; j++) {
      cluster.at(publishStart + faults.rng.next() * 10 * round, () => {
        if (cluster.isLive(i)) cluster.publish(i, fileName(i, j), fileLocation(i, j));
      });
    }
  }
  const warmupMs = publishStart + 10 * round + estimateFailMs(config, plan.nodes, groups);
  cluster.runUntil(warmupMs);
  log(`t=${(warmupMs / 1000).toFixed(1)}s warm-up done: ${cluster.size} nodes`);

  // 2. Safety phase.
  const t0 = cluster.now;
  const sizes = groupSizes(cluster);
  const ctx: PhaseContext = {
    cluster,
    faults,
    t0,
    faultMs: plan.faultMs,
    failMsMax: timeouts(config, Math.max(...sizes)).failMs,
    failMsMin: timeouts(config, Math.max(1, Math.min(...sizes))).failMs,
    suspectMsMin: timeouts(config, Math.max(1, Math.min(...sizes))).suspectMs,
    roundMs: round,
    at: (offset, fn) => cluster.at(t0 + offset, fn),
    log: (line) => log(`t=${(cluster.now / 1000).toFixed(3)}s ${line}`),
  };
  cluster.network.settings = { ...links };
  plan.program?.(ctx);
  const checkEvery = Math.max(round, 1000);
  cluster.every(checkEvery, t0 + checkEvery, t0 + plan.faultMs + 1, (now) => checker.check(now));
  cluster.runUntil(t0 + plan.faultMs);

  // 3. Heal.
  cluster.network.settings = { ...PERFECT_LINKS };
  faults.heal();
  const healedAt = cluster.now;
  log(`t=${(healedAt / 1000).toFixed(3)}s healed: ${liveCount(cluster)} of ${cluster.size} slots running`);

  // 4. Liveness: settle for a few fail timeouts (safety checks go on), then check.
  const settleMs = 3 * timeouts(config, Math.max(...groupSizes(cluster))).failMs + 2 * config.antiEntropyIntervalMs;
  cluster.every(checkEvery, healedAt + checkEvery, healedAt + settleMs, (now) => checker.check(now));
  cluster.runUntil(healedAt + settleMs);
  checkMembership(cluster, violations, cluster.now);
  const probe = new LookupProbe(cluster, violations, new SeededRng(fmix32(seed ^ 0x6c6f6f6b)));
  cluster.observers.push(probe);
  probe.start(plan.livenessLookups ?? 200);
  cluster.runUntil(cluster.now + config.lookupDeadlineMs + 2 * round);
  probe.finish(cluster.now);
  checker.check(cluster.now);

  const replay = replayCommand(spec.name, seed);
  const c = cluster.counters;
  const summary =
    `t=${(cluster.now / 1000).toFixed(3)}s done: ${liveCount(cluster)} running of ${cluster.size} slots; ` +
    `${c.datagramsSent} datagrams, ${c.bytesSent} bytes, ${c.decodeFailures} decode failures, largest ${c.largestDatagram} B; ` +
    `net ${JSON.stringify(cluster.network.counters)}; churn ${JSON.stringify(faults.churn)}; ` +
    `lookups ${probe.answered}/${probe.issued}; safety checks ${checker.checks}; violations ${violations.count}`;
  log(summary);
  const digest = fmix32(cluster.digest ^ c.datagramsSent ^ Math.imul(violations.count, 31));
  const report = [settings, summary, violations.count ? `violations:\n${violations.format()}` : 'no violations', `replay: ${replay}`].join('\n');
  return {
    name: spec.name,
    seed,
    settings,
    violations,
    digest,
    replay,
    report,
    simulatedMs: cluster.now,
    nodesAtEnd: cluster.size,
    liveAtEnd: liveCount(cluster),
    falseRemovals: checker.falseRemovals,
    lookups: { issued: probe.issued, answered: probe.answered },
    datagrams: c.datagramsSent,
    bytes: c.bytesSent,
  };
}

export function fileName(slot: number, j: number): string {
  return `datasets/shard-${slot.toString(36)}/part-${j.toString().padStart(5, '0')}.parquet`;
}

export function fileLocation(slot: number, j: number): string {
  return `nfs://host-${slot}.sim/export/${j}`;
}

function liveCount(c: Cluster): number {
  let n = 0;
  for (let i = 0; i < c.size; i++) if (c.state[i] === SlotState.Running) n++;
  return n;
}

/** Running members per group (groups with none are left out). */
export function groupSizes(c: Cluster): number[] {
  const sizes = new Array<number>(c.config.groups).fill(0);
  for (let i = 0; i < c.size; i++) if (c.state[i] === SlotState.Running) sizes[c.group[i] as number]!++;
  const present = sizes.filter((s) => s > 0);
  return present.length ? present : [1];
}

function estimateFailMs(cfg: Readonly<KelipsConfig>, nodes: number, groups: number): number {
  return timeouts(cfg, Math.ceil((1.5 * nodes) / groups)).failMs;
}
