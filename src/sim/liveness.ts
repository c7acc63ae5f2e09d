/**
 * Liveness checkers, run after the faults are healed and the cluster had a few fail timeouts to settle:
 * - every running node has joined and knows every running member of its group as alive (and with its current
 *   incarnation), and lists no member that stopped more than a fail timeout ago;
 * - every running node has min(c, running members of g) running contacts in every other group g;
 * - every tuple published by a running owner is found by a lookup from a random running node (and an unpublished
 *   one is not).
 */
import { randInt, type Rng } from '../core/rng.js';
import { LookupStatus, MemberState, type CoreEvent, type LookupResult } from '../core/types.js';
import { SlotState, type Cluster, type ClusterObserver } from './cluster.js';
import type { Violations } from './checkers.js';

/** Membership and contacts, synchronously. Returns the number of violations added. */
export function checkMembership(c: Cluster, v: Violations, now: number): number {
  const before = v.count;
  const k = c.config.groups;
  const liveByGroup: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < c.size; i++) if (c.state[i] === SlotState.Running) (liveByGroup[c.group[i] as number] as number[]).push(i);
  for (let i = 0; i < c.size; i++) {
    const n = c.nodes[i];
    if (!n || c.state[i] !== SlotState.Running) continue;
    const me = c.addrs[i] as string;
    if (!n.joined) {
      v.add('not-joined', now, me, `started at ${(c.startedAt[i] as number) / 1000}s, still not joined`);
      continue;
    }
    let missing = 0;
    let suspect = 0;
    let old = 0;
    let example = '';
    for (const j of liveByGroup[n.group] as number[]) {
      if (j === i) continue;
      const addr = c.addrs[j] as string;
      const st = n.memberState(addr);
      if (st === null) {
        if (missing++ === 0 && !example) example = `missing ${addr}`;
      } else if (st !== MemberState.Alive) {
        if (suspect++ === 0 && !example) example = `${addr} suspect`;
      } else {
        const hb = n.memberHeartbeat(addr);
        if (hb && hb.incarnation < (c.incarnation[j] as number)) {
          if (old++ === 0 && !example) example = `${addr} at incarnation ${hb.incarnation} < ${c.incarnation[j]}`;
        }
      }
    }
    if (missing + suspect + old > 0)
      v.add('membership-incomplete', now, me, `group ${n.group}: ${missing} live members missing, ${suspect} suspect, ${old} with an old incarnation (of ${(liveByGroup[n.group] as number[]).length - 1}); e.g. ${example}`);

    const failMs = n.currentTimeouts().failMs;
    let dead = 0;
    example = '';
    for (const m of n.members(now)) {
      if (m.self) continue;
      const j = c.slotOf(m.addr);
      const stopped = j < 0 || c.state[j] === SlotState.Crashed || c.state[j] === SlotState.Left;
      if (stopped && now - (j < 0 ? 0 : (c.stoppedAt[j] as number)) > failMs + 3 * c.config.gossipIntervalMs) {
        if (dead++ === 0) example = m.addr;
      }
    }
    if (dead > 0) v.add('dead-member-listed', now, me, `${dead} members stopped more than a fail timeout (${failMs} ms) ago are still in the view, e.g. ${example}`);

    const want = c.config.contactsPerGroup;
    for (let g = 0; g < k; g++) {
      if (g === n.group) continue;
      const liveInG = (liveByGroup[g] as number[]).length;
      const need = Math.min(want, liveInG);
      let have = 0;
      for (const a of n.contactAddrs(g)) {
        const j = c.slotOf(a);
        if (j >= 0 && c.state[j] === SlotState.Running && c.group[j] === g) have++;
      }
      if (have < need) v.add('contacts-missing', now, me, `group ${g}: ${have} live contacts < ${need} (${liveInG} live members); has [${n.contactAddrs(g).join(', ')}]`);
    }
  }
  return v.count - before;
}

interface Expectation {
  asker: number;
  name: string;
  owner: string;
  location: string;
  /** false: the owner unpublished it; the lookup must not return this location. */
  present: boolean;
  issuedAt: number;
}

/** Looks up every (sampled) tuple of running owners from random running nodes and checks the answers. */
export class LookupProbe implements ClusterObserver {
  issued = 0;
  answered = 0;
  readonly hops: number[] = [];
  private readonly pending = new Map<number, Map<number, Expectation>>();
  /** Results that arrived while lookup() was still running (answered locally): matched right after. */
  private readonly early: LookupResult[] = [];
  private issuing = -1;

  constructor(
    private readonly c: Cluster,
    private readonly v: Violations,
    private readonly rng: Rng,
    /** Violation kind of a lookup that did not find a present tuple. */
    private readonly missKind = 'lookup-failed',
  ) {}

  /** Issue lookups for up to `max` published tuples of running owners (those `want` accepts, if given). */
  start(max: number, want?: (name: string) => boolean): void {
    const c = this.c;
    const live: number[] = [];
    for (let i = 0; i < c.size; i++) if (c.state[i] === SlotState.Running) live.push(i);
    if (live.length === 0) return;
    const all: { owner: number; name: string; location: string; deleted: boolean }[] = [];
    for (const o of live)
      for (const t of c.node(o).publishedTuples()) if (!want || want(t.name)) all.push({ owner: o, name: t.name, location: t.location, deleted: t.deleted });
    for (let i = 0; i < Math.min(max, all.length); i++) {
      const j = i + randInt(this.rng, all.length - i);
      const t = all[j]!;
      all[j] = all[i]!;
      const asker = live[randInt(this.rng, live.length)] as number;
      this.issuing = asker;
      this.early.length = 0;
      const id = c.lookup(asker, t.name);
      this.issuing = -1;
      const e: Expectation = { asker, name: t.name, owner: c.addrs[t.owner] as string, location: t.location, present: !t.deleted, issuedAt: c.now };
      this.issued++;
      const done = this.early.find((r) => r.id === id);
      if (done) {
        this.answered++;
        this.judge(e, done, c.now);
        continue;
      }
      let m = this.pending.get(asker);
      if (!m) this.pending.set(asker, (m = new Map()));
      m.set(id, e);
    }
  }

  onEvent(slot: number, ev: CoreEvent, now: number): void {
    if (ev.type !== 'lookup-done') return;
    if (slot === this.issuing) this.early.push(ev.result);
    const m = this.pending.get(slot);
    const e = m?.get(ev.result.id);
    if (!m || !e) return;
    m.delete(ev.result.id);
    this.answered++;
    this.judge(e, ev.result, now);
  }

  /** Report every lookup that never finished. */
  finish(now: number): void {
    for (const m of this.pending.values())
      for (const e of m.values()) this.v.add('lookup-no-answer', now, this.c.addrs[e.asker] as string, `lookup of ${e.name} issued at ${(e.issuedAt / 1000).toFixed(3)}s never finished`);
    this.pending.clear();
  }

  private judge(e: Expectation, r: LookupResult, now: number): void {
    const me = this.c.addrs[e.asker] as string;
    const hit = r.status === LookupStatus.Found && r.locations.some((l) => l.location === e.location && this.c.slotOfNode(l.owner) === this.c.slotOfNode(e.owner));
    if (e.present && !hit)
      this.v.add(this.missKind, now, me, `${e.name} of ${e.owner}: status ${LookupStatus[r.status]}, ${r.locations.length} locations, hops ${r.hops}, attempts ${r.attempts}`);
    else if (!e.present && hit) this.v.add('lookup-found-deleted', now, me, `${e.name} of ${e.owner} was unpublished but is still found`);
    if (hit) this.hops.push(r.hops);
  }
}
