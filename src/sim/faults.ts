/**
 * Faults on top of the cluster: crash, pause/resume, restart, graceful leave, isolation, symmetric and asymmetric
 * partitions, heal, and churn (a Poisson stream of replacements at a rate given as the fraction of nodes replaced per
 * hour). Every random choice comes from one generator derived from the run seed.
 *
 * It also remembers when each node was last disturbed (paused, cut off, started), so checkers can tell a false
 * removal (a running, reachable node declared failed) from a justified one.
 */
import { fmix32 } from '../core/hash.js';
import { randInt, SeededRng } from '../core/rng.js';
import { SlotState, type Cluster } from './cluster.js';

export interface ChurnOptions {
  /** Fraction of `population` replaced per hour (1.0 = as many replacements per hour as nodes). */
  perHour: number;
  /** Size the rate is relative to. */
  population: number;
  /** Share of departures that are graceful leaves; the rest are crashes. */
  leaveShare: number;
  start: number;
  end: number;
  /** Seeds given to each newcomer. */
  seedsPerJoin: number;
}

export interface ChurnCounters {
  replacements: number;
  leaves: number;
  crashes: number;
}

/** Told about every replacement (for example to publish the newcomer's files). */
export type ReplaceHook = (departed: number, newcomer: number, graceful: boolean, now: number) => void;

export class Faults {
  readonly rng: SeededRng;
  readonly churn: ChurnCounters = { replacements: 0, leaves: 0, crashes: 0 };
  /** Crashes and leaves done by any means, with their times (slot, time). */
  readonly crashes: { slot: number; incarnation: number; at: number }[] = [];
  readonly leaves: { slot: number; incarnation: number; at: number }[] = [];
  onReplace: ReplaceHook | null = null;
  /** Told about every crash, just before the process dies. */
  onCrash: ((slot: number, now: number) => void) | null = null;
  /** Slots churn must never pick. */
  readonly protectedSlots = new Set<number>();

  private readonly undisturbedFrom: number[] = [];
  private readonly isolated = new Set<number>();
  private partitionActive = false;
  private partitionEndedAt = -Infinity;
  private churnOpts: ChurnOptions | null = null;

  constructor(
    readonly cluster: Cluster,
    seed: number,
  ) {
    this.rng = new SeededRng(fmix32((seed >>> 0) ^ 0x66617574));
  }

  /** Random running slots, distinct, excluding `exclude`. */
  pickLive(count: number, exclude = -1): number[] {
    const c = this.cluster;
    const live: number[] = [];
    for (let i = 0; i < c.size; i++) if (i !== exclude && c.state[i] === SlotState.Running) live.push(i);
    const out: number[] = [];
    for (let i = 0; i < count && live.length > 0; i++) {
      const j = randInt(this.rng, live.length);
      out.push(live[j] as number);
      live[j] = live[live.length - 1] as number;
      live.pop();
    }
    return out;
  }

  crash(slot: number): void {
    const c = this.cluster;
    this.crashes.push({ slot, incarnation: c.incarnation[slot] as number, at: c.now });
    if (this.onCrash) this.onCrash(slot, c.now);
    c.crash(slot);
  }

  leave(slot: number): void {
    const c = this.cluster;
    this.leaves.push({ slot, incarnation: c.incarnation[slot] as number, at: c.now });
    c.leave(slot);
  }

  restart(slot: number, seeds = 3): void {
    this.cluster.restart(slot, this.pickLive(seeds, slot));
  }

  pause(slot: number): void {
    this.cluster.pause(slot);
  }

  resume(slot: number): void {
    this.cluster.resume(slot);
    this.disturbed(slot);
  }

  /** Pause `slot` now and resume it after `ms`. */
  pauseFor(slot: number, ms: number): void {
    this.pause(slot);
    this.cluster.at(this.cluster.now + ms, () => {
      if (this.cluster.state[slot] === SlotState.Paused) this.resume(slot);
    });
  }

  isolate(slot: number): void {
    this.cluster.network.isolate(slot);
    this.isolated.add(slot);
    this.partitionActive = true;
  }

  /**
   * Split the slots into sides: `sides[i]` lists the slots of side i+1 (everyone else stays on side 0).
   * Symmetric: all sides cut from each other. Asymmetric: only datagrams from a higher side to a lower one are cut
   * (side 0 still reaches the others, and so on).
   */
  partition(sides: number[][], symmetric: boolean): void {
    const net = this.cluster.network;
    const ids = [0];
    for (const members of sides) {
      const s = net.newSide();
      ids.push(s);
      for (const slot of members) net.setSide(slot, s);
    }
    for (let i = 0; i < ids.length; i++) {
      for (let j = 0; j < ids.length; j++) {
        if (i === j) continue;
        if (symmetric || i > j) net.cutOneWay(ids[i] as number, ids[j] as number);
      }
    }
    this.partitionActive = true;
  }

  /** Remove every partition and isolation; resume every paused node. */
  heal(): void {
    const c = this.cluster;
    if (this.partitionActive) {
      c.network.healAll();
      this.partitionActive = false;
      this.partitionEndedAt = c.now;
      for (const s of this.isolated) this.disturbed(s);
      this.isolated.clear();
    }
    for (let i = 0; i < c.size; i++) if (c.state[i] === SlotState.Paused) this.resume(i);
  }

  /**
   * The time since which `slot` has run undisturbed and reachable (not paused, not isolated, not (re)started):
   * Infinity while it is paused or isolated.
   */
  undisturbedSince(slot: number): number {
    const c = this.cluster;
    if (c.state[slot] === SlotState.Paused || this.isolated.has(slot)) return Infinity;
    return Math.max(this.undisturbedFrom[slot] ?? -Infinity, c.startedAt[slot] as number);
  }

  /** Since when no partition has been in force (Infinity during one). */
  partitionFreeSince(): number {
    return this.partitionActive ? Infinity : this.partitionEndedAt;
  }

  /** Replace nodes at random: a Poisson stream of leave/crash + a fresh node joining through random seeds. */
  startChurn(opts: ChurnOptions): void {
    if (opts.perHour <= 0 || opts.population <= 0) return;
    this.churnOpts = opts;
    this.scheduleNextReplacement(opts.start);
  }

  private scheduleNextReplacement(from: number): void {
    const o = this.churnOpts as ChurnOptions;
    const meanMs = 3_600_000 / (o.perHour * o.population);
    const t = from - meanMs * Math.log(1 - this.rng.next());
    if (t >= o.end) return;
    this.cluster.at(t, (now) => {
      this.replaceOne(now);
      this.scheduleNextReplacement(now);
    });
  }

  private replaceOne(now: number): void {
    const o = this.churnOpts as ChurnOptions;
    const c = this.cluster;
    let victim = -1;
    for (let tries = 0; tries < 20 && victim < 0; tries++) {
      const [v] = this.pickLive(1);
      if (v !== undefined && !this.protectedSlots.has(v)) victim = v;
    }
    if (victim < 0) return;
    const graceful = this.rng.next() < o.leaveShare;
    if (graceful) {
      this.leave(victim);
      this.churn.leaves++;
    } else {
      this.crash(victim);
      this.churn.crashes++;
    }
    const newcomer = c.addNode(this.pickLive(o.seedsPerJoin));
    this.churn.replacements++;
    if (this.onReplace) this.onReplace(victim, newcomer, graceful, now);
  }

  private disturbed(slot: number): void {
    this.undisturbedFrom[slot] = this.cluster.now;
  }
}
