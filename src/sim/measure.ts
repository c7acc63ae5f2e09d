/**
 * Measurements for the benchmark and the demo, all fed by core events and cheap probes of node state:
 * - lookups: outcome (found / not found / unavailable), hops, latency;
 * - dissemination: gossip rounds from the first store of a tuple in its group until every running, synced member of
 *   the group holds it (counted from 'tuple-stored' events, confirmed with tupleVersion);
 * - detection: time from a crash until no running member of its group lists it as alive (suspect or removed
 *   everywhere), and until it is removed from every view.
 */
import { LookupStatus, MemberState, type CoreEvent, type LookupResult } from '../core/types.js';
import { SlotState, type Cluster, type ClusterObserver } from './cluster.js';
import { Samples } from './stats.js';

interface PendingLookup {
  name: string;
  owner: string;
  location: string;
  counted: boolean;
  /** Issued while the name's group had no running node. */
  emptyGroup: boolean;
}

export class LookupTracker implements ClusterObserver {
  issued = 0;
  counted = 0;
  found = 0;
  notFound = 0;
  unavailable = 0;
  wrongLocation = 0;
  oneHop = 0;
  /** Asker stopped before the answer came. */
  lost = 0;
  /** Counted lookups issued while the name's group had no running node, and how many of those found it. */
  emptyGroupCounted = 0;
  emptyGroupFound = 0;
  readonly hops = new Samples();
  readonly latencyMs = new Samples();
  readonly hopCounts: number[] = [];
  /** The last few counted failures, for the report. */
  readonly failures: string[] = [];
  private readonly pending = new Map<number, Map<number, PendingLookup>>();
  private issuing = -1;
  private early: LookupResult | null = null;

  constructor(private readonly c: Cluster) {}

  /** Issue a lookup; `counted` lookups enter the success and one-hop ratios. */
  issue(asker: number, name: string, owner: string, location: string, counted: boolean, emptyGroup = false): void {
    this.issuing = asker;
    this.early = null;
    const id = this.c.lookup(asker, name);
    this.issuing = -1;
    this.issued++;
    const p: PendingLookup = { name, owner, location, counted, emptyGroup };
    const early = this.early as LookupResult | null;
    if (early !== null && early.id === id) return this.record(asker, p, early);
    let m = this.pending.get(asker);
    if (!m) this.pending.set(asker, (m = new Map()));
    m.set(id, p);
  }

  onEvent(slot: number, ev: CoreEvent): void {
    if (ev.type !== 'lookup-done') return;
    if (slot === this.issuing) {
      this.early = ev.result;
      return;
    }
    const m = this.pending.get(slot);
    const p = m?.get(ev.result.id);
    if (!m || !p) return;
    m.delete(ev.result.id);
    this.record(slot, p, ev.result);
  }

  /** Forget lookups of askers that stopped (their answers can never come). */
  askerStopped(slot: number): void {
    const m = this.pending.get(slot);
    if (m) {
      this.lost += m.size;
      this.pending.delete(slot);
    }
  }

  get inFlight(): number {
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  private record(asker: number, p: PendingLookup, r: LookupResult): void {
    if (!p.counted) return;
    this.counted++;
    const hit = r.status === LookupStatus.Found && r.locations.some((l) => l.location === p.location && (l.owner === p.owner || this.c.slotOfNode(l.owner) === this.c.slotOfNode(p.owner)));
    if (p.emptyGroup) {
      this.emptyGroupCounted++;
      if (hit) this.emptyGroupFound++;
    }
    if (hit) this.found++;
    else if (r.status === LookupStatus.Found) this.wrongLocation++;
    else if (r.status === LookupStatus.NotFound) this.notFound++;
    else this.unavailable++;
    if (r.status !== LookupStatus.Unavailable) {
      this.hops.add(r.hops);
      this.hopCounts[r.hops] = (this.hopCounts[r.hops] ?? 0) + 1;
      if (r.hops <= 1) this.oneHop++;
    }
    this.latencyMs.add(r.latencyMs);
    if (!hit && this.failures.length < 20)
      this.failures.push(`t=${(this.c.now / 1000).toFixed(3)}s ${this.c.addrs[asker]} ${p.name} (owner ${p.owner}): ${LookupStatus[r.status]} hops=${r.hops} attempts=${r.attempts}`);
  }
}

interface Spreading {
  name: string;
  owner: string;
  group: number;
  firstAt: number;
  lastAt: number;
  have: number;
}

export class DisseminationTracker implements ClusterObserver {
  readonly rounds = new Samples();
  /** Tuples that had not reached every member after `giveUpMs`. */
  incomplete = 0;
  private readonly spreading = new Map<string, Spreading>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly c: Cluster,
    private readonly giveUpMs: number,
  ) {}

  get inFlight(): number {
    return this.spreading.size;
  }

  onEvent(slot: number, ev: CoreEvent, now: number): void {
    if (ev.type !== 'tuple-stored' || !ev.fresh) return;
    const key = ev.owner + '\n' + ev.name;
    const s = this.spreading.get(key);
    if (s) {
      s.have++;
      s.lastAt = now;
    } else if (!this.seen.has(key)) {
      this.seen.add(key);
      this.spreading.set(key, { name: ev.name, owner: ev.owner, group: this.c.group[slot] as number, firstAt: now, lastAt: now, have: 1 });
    }
  }

  /** Once per gossip round: finish the tuples every running, synced member of their group now holds. */
  sweep(now: number, membersByGroup: number[][]): void {
    const c = this.c;
    const interval = c.config.gossipIntervalMs;
    for (const [key, s] of this.spreading) {
      const members = membersByGroup[s.group] as number[];
      if (s.have < members.length && now - s.firstAt < this.giveUpMs) continue;
      let all = true;
      for (const m of members) {
        const n = c.nodes[m];
        if (n && n.synced && n.tupleVersion(s.name, s.owner) === null) {
          all = false;
          break;
        }
      }
      if (all) {
        this.rounds.add((s.lastAt - s.firstAt) / interval);
        this.spreading.delete(key);
      } else if (now - s.firstAt >= this.giveUpMs) {
        this.incomplete++;
        this.spreading.delete(key);
      }
    }
  }
}

interface Detection {
  slot: number;
  addr: string;
  incarnation: number;
  group: number;
  at: number;
  notAliveAt: Map<number, number>;
  removedAt: Map<number, number>;
  detected: boolean;
}

export class DetectionTracker implements ClusterObserver {
  readonly detectionMs = new Samples();
  readonly removalMs = new Samples();
  /** Crashes whose detection or removal had not finished by the end. */
  unfinished = 0;
  private readonly open = new Map<string, Detection>();

  constructor(private readonly c: Cluster) {}

  /** Call just before the crash. */
  crashed(slot: number, now: number): void {
    const c = this.c;
    const addr = c.addrs[slot] as string;
    this.open.set(addr, {
      slot, addr, incarnation: c.incarnation[slot] as number, group: c.group[slot] as number, at: now,
      notAliveAt: new Map(), removedAt: new Map(), detected: false,
    });
  }

  onEvent(slot: number, ev: CoreEvent, now: number): void {
    if (ev.type !== 'member-suspected' && ev.type !== 'member-removed' && ev.type !== 'member-refuted') return;
    const d = this.open.get(ev.addr);
    if (!d || ev.incarnation !== d.incarnation) return;
    if (ev.type === 'member-refuted') {
      d.notAliveAt.delete(slot);
      return;
    }
    if (!d.notAliveAt.has(slot)) d.notAliveAt.set(slot, now);
    if (ev.type === 'member-removed') d.removedAt.set(slot, now);
  }

  /** Once per gossip round: close detections that are complete at every running member of the group. */
  sweep(membersByGroup: number[][]): void {
    const c = this.c;
    for (const [addr, d] of this.open) {
      if (c.state[d.slot] === SlotState.Running) {
        // Restarted on the same address before it was detected: the new incarnation replaces the old.
        this.open.delete(addr);
        continue;
      }
      const members = membersByGroup[d.group] as number[];
      let anyAlive = false;
      let anyListed = false;
      let lastNotAlive = d.at;
      let lastRemoved = d.at;
      for (const m of members) {
        const n = c.nodes[m];
        if (!n) continue;
        const st = n.memberState(addr);
        if (st === null) {
          lastRemoved = Math.max(lastRemoved, d.removedAt.get(m) ?? d.at);
          lastNotAlive = Math.max(lastNotAlive, d.notAliveAt.get(m) ?? d.at);
          continue;
        }
        const hb = n.memberHeartbeat(addr);
        if (hb && hb.incarnation !== d.incarnation) continue;
        anyListed = true;
        if (st === MemberState.Alive) anyAlive = true;
        else lastNotAlive = Math.max(lastNotAlive, d.notAliveAt.get(m) ?? d.at);
      }
      if (!anyAlive && !d.detected) {
        d.detected = true;
        this.detectionMs.add(lastNotAlive - d.at);
      }
      if (!anyListed) {
        this.removalMs.add(lastRemoved - d.at);
        this.open.delete(addr);
      }
    }
  }

  finish(): void {
    this.unfinished += this.open.size;
    this.open.clear();
  }
}

/** Running (and, if asked, synced) members per group. */
export function membersByGroup(c: Cluster, syncedOnly: boolean): number[][] {
  const out: number[][] = Array.from({ length: c.config.groups }, () => []);
  for (let i = 0; i < c.size; i++) {
    const n = c.nodes[i];
    if (!n || c.state[i] !== SlotState.Running) continue;
    if (syncedOnly && !n.synced) continue;
    (out[c.group[i] as number] as number[]).push(i);
  }
  return out;
}
