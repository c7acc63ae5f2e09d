/**
 * News waiting to be gossiped inside the affinity group: new or refreshed filetuples and departures. Each item is
 * sent a bounded number of times (retransmitMult * L(G), counted per destination) and then forgotten; items sent
 * fewest times go first, so new news overtakes old. A newer item with the same key replaces the older one.
 * Bounded: when full, the item sent most often is dropped (it has had the most chances already).
 */
import type { GoneEntry, TupleEntry } from './types.js';

export type BroadcastItem =
  | { kind: 'gone'; key: string; gone: GoneEntry; sent: number; bytes: number }
  | { kind: 'tuple'; key: string; tuple: TupleEntry; sent: number; bytes: number; expiresAt: number };

export class BroadcastQueue {
  private readonly items = new Map<string, BroadcastItem>();
  dropped = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.items.size;
  }

  /** Queue an item (replacing an older one with the same key). Returns false when something had to be dropped. */
  push(item: BroadcastItem): boolean {
    this.items.delete(item.key);
    let ok = true;
    if (this.items.size >= this.max) {
      let victim: BroadcastItem | null = null;
      for (const x of this.items.values()) if (victim === null || x.sent > victim.sent) victim = x;
      if (victim !== null) this.items.delete(victim.key);
      this.dropped++;
      ok = false;
    }
    this.items.set(item.key, item);
    return ok;
  }

  /**
   * Choose items for one datagram: fewest-sent first, within `budget` bytes. Each chosen item is charged
   * `copies` transmissions and retired once it reaches `limit`. Tuples whose lifetime ended are retired unsent.
   */
  take(budget: number, copies: number, limit: number, now: number): { gone: GoneEntry[]; tuples: TupleEntry[]; bytes: number } {
    const gone: GoneEntry[] = [];
    const tuples: TupleEntry[] = [];
    let bytes = 0;
    if (this.items.size === 0) return { gone, tuples, bytes };
    const order = [...this.items.values()].sort((a, b) => a.sent - b.sent);
    for (const item of order) {
      if (item.kind === 'tuple' && item.expiresAt <= now) {
        this.items.delete(item.key);
        continue;
      }
      if (bytes + item.bytes > budget) continue;
      bytes += item.bytes;
      if (item.kind === 'gone') gone.push(item.gone);
      else tuples.push({ ...item.tuple, ttlMs: Math.max(1, Math.round(item.expiresAt - now)) });
      item.sent += copies;
      if (item.sent >= limit) this.items.delete(item.key);
    }
    return { gone, tuples, bytes };
  }
}
