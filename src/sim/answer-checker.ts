/**
 * The answer checker: "not found" is a promise that the name's group holds no tuple for it. It watches every
 * lookup answer in the run, during faults as well as after healing, and reports a `wrong-not-found` violation for
 * every lookup answered NotFound (at 0, 1 or more hops, by any node) while a live owner's tuple for that name had
 * settled.
 *
 * Definitions (all from what the simulator knows for sure, not from what nodes believe):
 * - A tuple (name, owner) is *live* from the owner's publish command, or from a (re)start of the owner that holds
 *   the name in its published tuples on disk (the agent's published.json; the core republishes them at start),
 *   until the owner unpublishes it or its process stops (crash or leave). A paused owner still owns it: its
 *   process lives and its group still holds the tuple.
 * - It is *stored* at the first `tuple-stored` event (a new or updated version, not a tombstone) for (name, owner)
 *   at a node of the name's group since it became live. The owner's own store counts when the name is of its
 *   group; for another group that is the contact that accepted the publish. A publish that never reached its group
 *   (every contact dead or cut off) was never stored: a "not found" for it is the publish's failure, not a broken
 *   promise, and is counted apart (`notFoundUnsettled`).
 * - It has *settled* at time T when it was stored at least the dissemination bound before T:
 *     boundMs(G) = (ceil(log2 G) + 4) * gossipIntervalMs,  G = processes of the name's group at T (at least 1),
 *   the bound bench:sim prints as dissemination_bound_rounds and measures against (src/sim/measure.ts counts the
 *   rounds from a tuple's first store in its group until every synced member holds it): epidemic spread reaches
 *   a group of G in about log2 G rounds; 4 rounds of slack cover the random gossip phase and fan-out misses.
 * - A lookup is judged at the time it was asked, T = answer time - latencyMs: the tuple had to be settled then.
 *
 * In a sharded run (bench:sim --threads) a shard sees the stores of its own groups only: it judges the answers for
 * names of its groups and counts the others as not judged.
 */
import type { PublishedTuple } from '../core/api.js';
import { groupOfName } from '../core/hash.js';
import { LookupStatus, type CoreEvent, type LookupResult } from '../core/types.js';
import type { Violations } from './checkers.js';
import { SlotState, type Cluster, type ClusterObserver } from './cluster.js';

/** Slack over log2 of the group size in the dissemination bound (rounds); see the header. */
export const DISSEMINATION_SLACK_ROUNDS = 4;

/** The dissemination bound in gossip rounds for a group of `groupSize` processes. */
export function disseminationBoundRounds(groupSize: number): number {
  return Math.ceil(Math.log2(Math.max(1, groupSize))) + DISSEMINATION_SLACK_ROUNDS;
}

interface LiveTuple {
  owner: number;
  /** When it became live (publish or owner start). */
  since: number;
  /** First store in its group since then (NaN: not yet). */
  storedAt: number;
}

export interface AnswerCounts {
  /** lookup-done events seen (any asker, any lookup). */
  answers: number;
  found: number;
  notFound: number;
  unavailable: number;
  /** NotFound while a live owner's tuple had settled: the violations. */
  wrongNotFound: number;
  /** NotFound while a live owner's tuple was stored but not yet settled, or never reached its group. */
  notFoundUnsettled: number;
  /** NotFound for names without a live owner (unpublished, owner down, never published): right answers. */
  notFoundNoOwner: number;
  /** Answers for names of another shard's groups (sharded runs only). */
  notJudged: number;
}

export class AnswerChecker implements ClusterObserver {
  readonly counts: AnswerCounts = { answers: 0, found: 0, notFound: 0, unavailable: 0, wrongNotFound: 0, notFoundUnsettled: 0, notFoundNoOwner: 0, notJudged: 0 };
  /** name -> its live tuples (one per live owner). */
  private readonly live = new Map<string, LiveTuple[]>();
  /** owner slot -> names it owns live (to drop them when it stops). */
  private readonly owned = new Map<number, Set<string>>();

  constructor(
    private readonly c: Cluster,
    private readonly v: Violations,
  ) {}

  onStart(slot: number, now: number, published: readonly PublishedTuple[] | null): void {
    if (published) for (const t of published) if (!t.deleted) this.add(slot, t.name, now);
  }

  onStop(slot: number): void {
    const names = this.owned.get(slot);
    if (!names) return;
    for (const name of names) this.remove(slot, name);
    this.owned.delete(slot);
  }

  onPublish(slot: number, name: string, deleted: boolean, now: number): void {
    if (deleted) this.remove(slot, name);
    else this.add(slot, name, now);
  }

  /**
   * Count every live tuple as published anew at `now` (its settling starts over): for a program that knowingly
   * resets what groups can be expected to hold, such as two clusters merged by a join.
   */
  restartClocks(now: number): void {
    for (const list of this.live.values())
      for (const t of list) {
        t.since = now;
        t.storedAt = now;
      }
  }

  onEvent(slot: number, ev: CoreEvent, now: number): void {
    if (ev.type === 'tuple-stored') this.stored(slot, ev.name, ev.owner, now);
    else if (ev.type === 'lookup-done') this.judge(slot, ev.result, now);
  }

  /** How many live tuples there are now (for reports). */
  get liveTuples(): number {
    let n = 0;
    for (const list of this.live.values()) n += list.length;
    return n;
  }

  private add(owner: number, name: string, now: number): void {
    let list = this.live.get(name);
    if (!list) this.live.set(name, (list = []));
    const t = list.find((x) => x.owner === owner);
    // A republish of a live tuple changes its location or version only: it stays live, stored and settled.
    if (!t) list.push({ owner, since: now, storedAt: NaN });
    let names = this.owned.get(owner);
    if (!names) this.owned.set(owner, (names = new Set()));
    names.add(name);
  }

  private remove(owner: number, name: string): void {
    const list = this.live.get(name);
    if (!list) return;
    const i = list.findIndex((x) => x.owner === owner);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.live.delete(name);
    this.owned.get(owner)?.delete(name);
  }

  private stored(slot: number, name: string, ownerId: string, now: number): void {
    const list = this.live.get(name);
    if (!list) return;
    const owner = this.c.slotOfNode(ownerId);
    const t = list.find((x) => x.owner === owner);
    if (!t || !Number.isNaN(t.storedAt)) return;
    const n = this.c.nodes[slot];
    if (n && n.tupleVersion(name, ownerId)?.deleted === true) return;
    t.storedAt = now;
  }

  private judge(asker: number, r: LookupResult, now: number): void {
    const k = this.counts;
    k.answers++;
    if (r.status === LookupStatus.Found) k.found++;
    else if (r.status === LookupStatus.Unavailable) k.unavailable++;
    if (r.status !== LookupStatus.NotFound) return;
    k.notFound++;
    const c = this.c;
    const group = groupOfName(r.name, c.config.groups);
    if (!c.ownsGroup(group)) {
      k.notJudged++;
      return;
    }
    const list = this.live.get(r.name);
    const askedAt = now - r.latencyMs;
    let owners = 0;
    let settled: LiveTuple | null = null;
    let groupSize = -1;
    for (const t of list ?? []) {
      const st = c.state[t.owner];
      if (st !== SlotState.Running && st !== SlotState.Paused) continue;
      owners++;
      if (Number.isNaN(t.storedAt)) continue;
      if (groupSize < 0) groupSize = this.groupProcesses(group);
      if (askedAt - t.storedAt >= disseminationBoundRounds(groupSize) * c.config.gossipIntervalMs) {
        settled = t;
        break;
      }
    }
    if (owners === 0) {
      k.notFoundNoOwner++;
      return;
    }
    if (settled === null) {
      k.notFoundUnsettled++;
      return;
    }
    k.wrongNotFound++;
    const s = (ms: number) => `${(ms / 1000).toFixed(3)}s`;
    this.v.add(
      'wrong-not-found',
      now,
      c.addrs[asker] as string,
      `${r.name} (group ${group}) answered not found by ${r.answeredBy ?? 'nobody'} (hops ${r.hops}, asked at ${s(askedAt)}), but ` +
        `${c.names[settled.owner]} (running since ${s(c.startedAt[settled.owner] as number)}) published it at ${s(settled.since)}, ` +
        `stored in its group at ${s(settled.storedAt)}: settled ${disseminationBoundRounds(groupSize)} rounds later (group of ${groupSize})`,
    );
  }

  /** Processes (running or paused) of group `g`. */
  private groupProcesses(g: number): number {
    const c = this.c;
    let n = 0;
    for (let i = 0; i < c.size; i++) if (c.group[i] === g && (c.state[i] === SlotState.Running || c.state[i] === SlotState.Paused)) n++;
    return n;
  }
}
