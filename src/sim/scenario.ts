/**
 * A scenario = a name + a seed + settings drawn from that seed + four phases:
 *   1. warm-up: nodes start (staggered, each joining through random earlier nodes) and publish files; clean links;
 *   2. safety: the drawn link faults and the scenario's fault program run; safety checkers run periodically;
 *   3. heal: links clean again, partitions removed, paused nodes resumed;
 *   4. liveness: after a few fail timeouts, membership, contacts and lookups of every live owner's tuples are
 *      checked.
 * From the safety phase to the liveness check, random nodes keep looking up random live owners' names (the
 * background lookups), and the answer checker (answer-checker.ts) judges every answer of the run: a "not found"
 * for a settled tuple of a live owner is a `wrong-not-found` violation, during faults as after healing.
 * The seed and every drawn setting are printed first; `replayCommand` reproduces the run.
 */
import { resolveConfig, timeouts, type KelipsConfig } from '../core/config.js';
import { fmix32, groupOfName } from '../core/hash.js';
import { randInt, SeededRng } from '../core/rng.js';
import { AnswerChecker, type AnswerCounts } from './answer-checker.js';
import { BackgroundLookups } from './background-lookups.js';
import { SafetyChecker, Violations } from './checkers.js';
import { Cluster, SlotState } from './cluster.js';
import { Faults } from './faults.js';
import { checkMembership, LookupProbe } from './liveness.js';
import { PERFECT_LINKS, type LinkSettings } from './network.js';
import { Recovery } from './recovery.js';
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
  /** The answer checker of the run (to restart its clocks when a program resets what groups hold). */
  answers: AnswerChecker;
  /** Schedule `fn` at t0 + offset. */
  at(offsetMs: number, fn: (now: number) => void): void;
  log(line: string): void;
  /**
   * Once every slot of `slots` runs and is ready (joined and synced), wait the dissemination bound of the largest
   * group, then look up every live owner's tuple (up to 400, sampled) from random running nodes: each must be
   * found (`not-found-after-ready` otherwise). A slot not ready within 3 fail timeouts is a `not-ready` violation.
   * `label` names the step in the log and in violations.
   */
  expectRecovery(slots: readonly number[], label: string): void;
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
  /**
   * Background lookups per simulated second from the safety phase to the liveness check (default
   * max(5, nodes / 4): enough that every fault meets lookups); 0 turns them off.
   */
  lookupsPerS?: number;
  /** Start this many separate clusters (slot i in cluster i mod clusters), for programs that merge them. */
  clusters?: number;
  /** Tell nodes their stable name (Cluster `namedNodes`), for cores with node names. */
  namedNodes?: boolean;
}

export interface ScenarioSpec {
  name: string;
  about: string;
  plan(d: Draw): ScenarioPlan;
  /** Core features the scenario needs; without them it is skipped (see scenarios/identity.ts coreSupports). */
  needs?: 'core-identity' | 'core-join';
  /** The program calls expectRecovery (the suite then requires that it ran and issued lookups). */
  checksRecovery?: boolean;
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
  /** Every lookup answer of the run, as the answer checker judged it. */
  answers: AnswerCounts;
  /** Lookups of the recovery checks (expectRecovery), issued and answered. */
  recovery: { checks: number; issued: number; answered: number };
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

  const cluster = new Cluster({ seed, config, links: PERFECT_LINKS, factory: opts.factory, codec: opts.codec, namedNodes: plan.namedNodes ?? false });
  const faults = new Faults(cluster, seed);
  const violations = new Violations();
  const checker = new SafetyChecker(cluster, faults, violations, new SeededRng(fmix32(seed ^ 0x63686b72)));
  const answers = new AnswerChecker(cluster, violations);
  cluster.observers.push(checker, answers);
  const round = config.gossipIntervalMs;

  // 1. Warm-up: staggered start (the first node of each cluster founds it), then files.
  const joinSpreadMs = Math.min(10 * round, 50 * plan.nodes);
  const clusters = Math.max(1, plan.clusters ?? 1);
  cluster.addNode([]);
  for (let i = 1; i < plan.nodes; i++) {
    cluster.at((i / plan.nodes) * joinSpreadMs, () => {
      if (i < clusters) cluster.addNode([]);
      else if (clusters === 1) cluster.addNode(faults.pickLive(3));
      else cluster.addNode(pickSameCluster(cluster, faults, i, clusters, 3));
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
    answers,
    at: (offset, fn) => cluster.at(t0 + offset, fn),
    log: (line) => log(`t=${(cluster.now / 1000).toFixed(3)}s ${line}`),
    expectRecovery: (slots, label) => recovery.expect(slots, label),
  };
  const recovery = new Recovery(cluster, violations, ctx.failMsMax, ctx.log, new SeededRng(fmix32(seed ^ 0x72656376)));
  const background = new BackgroundLookups(cluster, new SeededRng(fmix32(seed ^ 0x62676c6b)));
  const lookupsPerS = plan.lookupsPerS ?? Math.max(5, plan.nodes / 4);
  cluster.network.settings = { ...links };
  plan.program?.(ctx);
  const checkEvery = Math.max(round, 1000);
  cluster.every(checkEvery, t0 + checkEvery, t0 + plan.faultMs + 1, (now) => checker.check(now));
  if (lookupsPerS > 0) cluster.every(1000 / lookupsPerS, t0, t0 + plan.faultMs, () => background.issue());
  cluster.runUntil(t0 + plan.faultMs);

  // 3. Heal.
  cluster.network.settings = { ...PERFECT_LINKS };
  faults.heal();
  const healedAt = cluster.now;
  log(`t=${(healedAt / 1000).toFixed(3)}s healed: ${liveCount(cluster)} of ${cluster.size} slots running`);

  // 4. Liveness: settle for a few fail timeouts (safety checks go on), then check.
  const settleMs = 3 * timeouts(config, Math.max(...groupSizes(cluster))).failMs + 2 * config.antiEntropyIntervalMs;
  cluster.every(checkEvery, healedAt + checkEvery, healedAt + settleMs, (now) => checker.check(now));
  if (lookupsPerS > 0) cluster.every(1000 / lookupsPerS, healedAt, healedAt + settleMs, () => background.issue());
  cluster.runUntil(healedAt + settleMs);
  // Recovery checks still waiting for readiness or answers get the time they were promised.
  cluster.runUntil(Math.max(cluster.now, recovery.busyUntil));
  recovery.finish(cluster.now);
  checkMembership(cluster, violations, cluster.now);
  const probe = new LookupProbe(cluster, violations, new SeededRng(fmix32(seed ^ 0x6c6f6f6b)));
  cluster.observers.push(probe);
  probe.start(plan.livenessLookups ?? 200, inhabited(cluster));
  cluster.runUntil(cluster.now + config.lookupDeadlineMs + 2 * round);
  probe.finish(cluster.now);
  checker.check(cluster.now);

  const replay = replayCommand(spec.name, seed);
  const c = cluster.counters;
  const a = answers.counts;
  const summary =
    `t=${(cluster.now / 1000).toFixed(3)}s done: ${liveCount(cluster)} running of ${cluster.size} slots; ` +
    `${c.datagramsSent} datagrams, ${c.bytesSent} bytes, ${c.decodeFailures} decode failures, largest ${c.largestDatagram} B; ` +
    `net ${JSON.stringify(cluster.network.counters)}; churn ${JSON.stringify(faults.churn)}; ` +
    `lookups ${probe.answered}/${probe.issued}; recovery checks ${recovery.checks} (lookups ${recovery.answered}/${recovery.issued}); ` +
    `answers ${a.answers} (found ${a.found}, not found ${a.notFound}: ${a.wrongNotFound} wrong, ${a.notFoundUnsettled} unsettled, ${a.notFoundNoOwner} no live owner; unavailable ${a.unavailable}); ` +
    `safety checks ${checker.checks}; violations ${violations.count}`;
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
    answers: { ...a },
    recovery: { checks: recovery.checks, issued: recovery.issued, answered: recovery.answered },
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

/**
 * Names whose group has a running member now: the ones a lookup can find. (A name of an empty group has nowhere to
 * be stored; its owner keeps retrying the publish.)
 */
export function inhabited(c: Cluster): (name: string) => boolean {
  const k = c.config.groups;
  const has = new Array<boolean>(k).fill(false);
  for (let i = 0; i < c.size; i++) if (c.state[i] === SlotState.Running) has[c.group[i] as number] = true;
  return (name) => has[groupOfName(name, k)] === true;
}

/**
 * Names of groups in which some running node holds the group's state (joined and synced), as of now: the groups
 * that can answer. A group whose only members are restarting or recovering answers "unavailable", honestly.
 */
export function answerable(c: Cluster): (name: string) => boolean {
  const k = c.config.groups;
  const has = new Array<boolean>(k).fill(false);
  for (let i = 0; i < c.size; i++) {
    const n = c.nodes[i];
    if (c.state[i] === SlotState.Running && n && n.joined && n.synced) has[c.group[i] as number] = true;
  }
  return (name) => has[groupOfName(name, k)] === true;
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

/** Up to `count` distinct random running slots of slot i's cluster (slot s is in cluster s mod `clusters`). */
function pickSameCluster(c: Cluster, faults: Faults, i: number, clusters: number, count: number): number[] {
  const same: number[] = [];
  for (let s = i % clusters; s < c.size; s += clusters) if (s !== i && c.isLive(s)) same.push(s);
  const out: number[] = [];
  while (out.length < count && same.length > 0) {
    const j = randInt(faults.rng, same.length);
    out.push(same[j] as number);
    same[j] = same[same.length - 1] as number;
    same.pop();
  }
  return out;
}
