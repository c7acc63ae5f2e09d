/**
 * The affinity group view: every member of this node's own group, with its incarnation, heartbeat, when its
 * heartbeat was last seen to advance (local time), an RTT estimate and its state; plus tombstones of removed
 * members, so that stale gossip cannot bring them back.
 *
 * Freshness travels as an age: a gossip entry says "I saw this heartbeat advance ageMs ago", and the receiver sets
 * lastHeard = now - ageMs. So every member's estimate of a node's silence is anchored to when the node itself last
 * spoke, however many hops the news took, and all members time a crashed node out at about the same moment.
 */
import type { Rng } from './rng.js';
import { randInt } from './rng.js';
import type { Address, MemberEntry } from './types.js';
import { MemberState } from './types.js';

export interface Member {
  addr: Address;
  incarnation: number;
  heartbeat: number;
  /** Local time the heartbeat was last seen to advance (possibly second-hand, corrected by the reported age). */
  readonly lastHeard: number;
  rttMs: number | null;
  /** Changed only by the view (see `suspect`), which mirrors it. */
  readonly state: MemberState;
  /** Position in `list` (swap-remove). */
  slot: number;
  /** Stamp of the gossip pick that last chose it (dedupes a pick without a set). */
  pickStamp: number;
}

/** A Member as the view itself changes it (lastHeard and state are read-only to everyone else). */
type MutableMember = { -readonly [K in keyof Member]: Member[K] };

export interface Tombstone {
  incarnation: number;
  until: number;
  left: boolean;
}

export type MergeOutcome = 'new' | 'rejoined' | 'advanced' | 'refuted' | 'same' | 'stale' | 'tombstoned' | 'full';

export class GroupView {
  private readonly byAddr = new Map<Address, MutableMember>();
  private readonly list: MutableMember[] = [];
  /**
   * Copies of every member's lastHeard and state, by position in `list`: the scans that run every round (the
   * failure detector, the freshest-first pick) read these two small arrays instead of one scattered object per
   * member, and touch a Member only when it matters. Every write to lastHeard or state goes through this class.
   */
  private heard = new Float64Array(16);
  private stateOf = new Uint8Array(16);
  /** Scratch of `scanFreshest`: positions and lastHeard of the freshest so far. */
  private topPos = new Int32Array(0);
  private topHeard = new Float64Array(0);
  private readonly tombs = new Map<Address, Tombstone>();
  /** The freshest members found by the last scan, freshest first (see `pickForGossip`). */
  private readonly topBuffer: Member[] = [];
  /** When that scan ran; -Infinity when a member in it was removed since. */
  private topAt = -Infinity;
  private pickCounter = 0;
  /** The incarnation a member had before the last merge (for 'rejoined' reports). */
  previousIncarnation = 0;

  constructor(
    readonly self: Address,
    private readonly viewMax: number,
    private readonly tombstonesMax: number,
    /** A scan for the freshest members is reused this long (ms) by picks that need no more of them (one round). */
    private readonly topReuseMs = 0,
  ) {}

  /** Members other than this node. */
  get size(): number {
    return this.list.length;
  }

  /** G: the group's size as this node sees it, itself included. */
  get groupSize(): number {
    return this.list.length + 1;
  }

  get tombstoneCount(): number {
    return this.tombs.size;
  }

  get(addr: Address): Member | undefined {
    return this.byAddr.get(addr);
  }

  tombstone(addr: Address): Tombstone | undefined {
    return this.tombs.get(addr);
  }

  all(): readonly Member[] {
    return this.list;
  }

  /**
   * Fold one entry into the view. `silenceLimitMs` keeps news of long-silent nodes out: an entry older than that
   * describes a node that is probably dead, and adding it would only make us time it out again.
   */
  merge(e: MemberEntry, now: number, silenceLimitMs: number): MergeOutcome {
    const heardAt = now - e.ageMs;
    const m = this.byAddr.get(e.addr);
    if (m === undefined) {
      const tomb = this.tombs.get(e.addr);
      this.previousIncarnation = tomb?.incarnation ?? 0;
      if (tomb !== undefined && e.incarnation <= tomb.incarnation) return 'tombstoned';
      if (e.ageMs >= silenceLimitMs) return 'stale';
      if (this.list.length >= this.viewMax) return 'full';
      if (tomb !== undefined) this.tombs.delete(e.addr);
      const fresh: MutableMember = {
        addr: e.addr,
        incarnation: e.incarnation,
        heartbeat: e.heartbeat,
        lastHeard: heardAt,
        rttMs: null,
        state: MemberState.Alive,
        slot: this.list.length,
        pickStamp: 0,
      };
      this.byAddr.set(e.addr, fresh);
      this.list.push(fresh);
      this.mirror(fresh);
      return tomb === undefined ? 'new' : 'rejoined';
    }
    if (e.incarnation < m.incarnation) return 'stale';
    this.previousIncarnation = m.incarnation;
    if (e.incarnation > m.incarnation) {
      m.incarnation = e.incarnation;
      m.heartbeat = e.heartbeat;
      m.lastHeard = heardAt;
      m.state = MemberState.Alive;
      m.rttMs = null;
      this.mirror(m);
      return 'rejoined';
    }
    if (e.heartbeat < m.heartbeat) return 'stale';
    const advanced = e.heartbeat > m.heartbeat;
    m.heartbeat = e.heartbeat;
    if (heardAt > m.lastHeard) {
      m.lastHeard = heardAt;
      this.heard[m.slot] = heardAt;
    }
    if (!advanced) return 'same';
    if (m.state === MemberState.Suspect && now - m.lastHeard < silenceLimitMs) {
      m.state = MemberState.Alive;
      this.stateOf[m.slot] = MemberState.Alive;
      return 'refuted';
    }
    return 'advanced';
  }

  /** Remove a member and remember it as a tombstone until `until`. Returns false when it was not a member. */
  remove(addr: Address, until: number, left: boolean): boolean {
    const m = this.byAddr.get(addr);
    if (m === undefined) return false;
    this.byAddr.delete(addr);
    if (this.topBuffer.includes(m)) this.topAt = -Infinity;
    const last = this.list.pop() as MutableMember;
    if (last !== m) {
      this.list[m.slot] = last;
      last.slot = m.slot;
      this.mirror(last);
    }
    this.bury(addr, m.incarnation, until, left);
    return true;
  }

  /** Record a tombstone (also for nodes we never had in the view, such as one that announced its leave). */
  bury(addr: Address, incarnation: number, until: number, left: boolean): boolean {
    const old = this.tombs.get(addr);
    if (old !== undefined && old.incarnation > incarnation) return true;
    if (old === undefined && this.tombs.size >= this.tombstonesMax) {
      // Full: forget the tombstone closest to expiry; losing it only shortens that node's quarantine.
      let victim: Address | null = null;
      let soonest = Infinity;
      for (const [a, t] of this.tombs) {
        if (t.until < soonest) {
          soonest = t.until;
          victim = a;
        }
      }
      if (victim !== null) this.tombs.delete(victim);
      this.tombs.set(addr, { incarnation, until, left });
      return false;
    }
    this.tombs.set(addr, { incarnation, until, left });
    return true;
  }

  /** Drop tombstones whose quarantine is over. */
  purgeTombstones(now: number): void {
    for (const [a, t] of this.tombs) if (t.until <= now) this.tombs.delete(a);
  }

  /** A random tombstoned node that failed (not one that left), to try to reconnect to after a partition. */
  randomFailedTombstone(rng: Rng): Address | null {
    if (this.tombs.size === 0) return null;
    let i = randInt(rng, this.tombs.size);
    for (const [a, t] of this.tombs) {
      if (i-- <= 0 && !t.left) return a;
    }
    return null;
  }

  /** Forgive a local stall (this process was paused): nobody else was silent, we were. */
  forgive(ms: number): void {
    for (const m of this.list) {
      m.lastHeard += ms;
      this.heard[m.slot] = m.lastHeard;
    }
  }

  /** The failure detector's work list: members silent for `ms` or more, or suspect; last position first. */
  silentOrSuspect(now: number, ms: number, out: Member[]): void {
    const heard = this.heard;
    const state = this.stateOf;
    for (let i = this.list.length - 1; i >= 0; i--) if (now - heard[i]! >= ms || state[i] === MemberState.Suspect) out.push(this.list[i]!);
  }

  /** Mark a member suspect (the failure detector's verdict). */
  suspect(m: Member): void {
    (m as MutableMember).state = MemberState.Suspect;
    this.stateOf[m.slot] = MemberState.Suspect;
  }

  /** Copy a member's lastHeard and state to its position in the mirrors (growing them as the view grows). */
  private mirror(m: Member): void {
    if (m.slot >= this.heard.length) {
      const heard = new Float64Array(this.heard.length * 2);
      heard.set(this.heard);
      this.heard = heard;
      const state = new Uint8Array(this.stateOf.length * 2);
      state.set(this.stateOf);
      this.stateOf = state;
    }
    this.heard[m.slot] = m.lastHeard;
    this.stateOf[m.slot] = m.state;
  }

  /** Up to `count` distinct random alive members other than `exclude`. */
  randomAlive(rng: Rng, count: number, exclude: Address | null = null): Member[] {
    const out: Member[] = [];
    const n = this.list.length;
    if (n === 0 || count <= 0) return out;
    for (let tries = 0; out.length < count && tries < count * 4; tries++) {
      const m = this.list[randInt(rng, n)] as Member;
      if (m.state === MemberState.Alive && m.addr !== exclude && !out.includes(m)) out.push(m);
    }
    if (out.length < count) {
      // Few alive members: finish with a linear pass so a small group is never starved by bad luck.
      for (const m of this.list) {
        if (out.length >= count) break;
        if (m.state === MemberState.Alive && m.addr !== exclude && !out.includes(m)) out.push(m);
      }
    }
    return out;
  }

  /**
   * Entries for a gossip datagram: the `fresh` members whose heartbeat was heard most recently (smallest age),
   * then `random` others. Fresh news spreads fastest that way; the random share repairs what the freshest-first
   * choice skips. Suspect members are not gossiped.
   *
   * Finding the freshest is a scan of the view, O(G * fresh) with a small insertion-sorted buffer. A node picks
   * several times a round (its in-group gossip, its cross-group gossip, every ack to another group, join replies),
   * so a scan is reused for `topReuseMs` by picks that want no more fresh members than it found; members that
   * became suspect since are skipped, and removing one of them invalidates the scan.
   */
  pickForGossip(now: number, fresh: number, random: number, rng: Rng, out: MemberEntry[]): void {
    const n = this.list.length;
    if (n === 0) return;
    if (fresh + random >= n) {
      for (const m of this.list) if (m.state === MemberState.Alive) out.push(entryOf(m, now));
      return;
    }
    const stamp = ++this.pickCounter;
    const top = this.topBuffer;
    if (fresh > 0 && (fresh > top.length || now - this.topAt >= this.topReuseMs || now < this.topAt)) this.scanFreshest(now, fresh);
    const limit = Math.min(fresh, top.length);
    for (let i = 0; i < limit; i++) {
      const m = top[i]!;
      if (m.state !== MemberState.Alive) continue;
      m.pickStamp = stamp;
      out.push(entryOf(m, now));
    }
    let added = 0;
    for (let tries = 0; added < random && tries < random * 3; tries++) {
      const m = this.list[randInt(rng, n)] as Member;
      if (m.state !== MemberState.Alive || m.pickStamp === stamp) continue;
      m.pickStamp = stamp;
      out.push(entryOf(m, now));
      added++;
    }
  }

  /** Fill `topBuffer` with the `count` alive members heard most recently, freshest first. */
  private scanFreshest(now: number, count: number): void {
    // Insertion sort on the mirrors (positions and times), then the Members: touching a Member object costs a cache
    // miss, and a scan inserts ~count * ln(G / count) candidates on the way to the final `count`.
    if (this.topPos.length < count) {
      this.topPos = new Int32Array(count);
      this.topHeard = new Float64Array(count);
    }
    const pos = this.topPos;
    const at = this.topHeard;
    const heard = this.heard;
    const state = this.stateOf;
    let n = 0;
    for (let i = 0; i < this.list.length; i++) {
      if (state[i] !== MemberState.Alive) continue;
      const h = heard[i]!;
      if (n === count && !(h > at[n - 1]!)) continue;
      let j = n < count ? n++ : n - 1;
      while (j > 0 && at[j - 1]! < h) {
        at[j] = at[j - 1]!;
        pos[j] = pos[j - 1]!;
        j--;
      }
      at[j] = h;
      pos[j] = i;
    }
    const top = this.topBuffer;
    top.length = 0;
    for (let j = 0; j < n; j++) top.push(this.list[pos[j]!]!);
    this.topAt = now;
  }
}

export function entryOf(m: { addr: Address; incarnation: number; heartbeat: number; lastHeard: number }, now: number): MemberEntry {
  return { addr: m.addr, incarnation: m.incarnation, heartbeat: m.heartbeat, ageMs: clampAge(now - m.lastHeard) };
}

export function clampAge(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms >= 0xffffffff ? 0xffffffff : Math.round(ms);
}
