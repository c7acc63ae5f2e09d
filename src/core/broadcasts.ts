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
  private readonly byKey = new Map<string, BroadcastItem>();
  /** Items ordered by `sent`, ascending (restored by an insertion sort: after a take it is nearly sorted). */
  private order: BroadcastItem[] = [];
  dropped = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Queue an item (replacing an older one with the same key). Returns false when something had to be dropped. */
  push(item: BroadcastItem): boolean {
    const old = this.byKey.get(item.key);
    if (old !== undefined) this.remove(old);
    let ok = true;
    if (this.byKey.size >= this.max) {
      this.sort();
      this.remove(this.order[this.order.length - 1]!); // the most-sent item has had the most chances
      this.dropped++;
      ok = false;
    }
    this.byKey.set(item.key, item);
    this.order.unshift(item); // sent = 0: it belongs at the front
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
    if (this.order.length === 0) return { gone, tuples, bytes };
    this.sort();
    let retired = 0;
    for (const item of this.order) {
      if (item.kind === 'tuple' && item.expiresAt <= now) {
        item.sent = limit;
        retired++;
        continue;
      }
      if (bytes + item.bytes > budget) continue;
      bytes += item.bytes;
      if (item.kind === 'gone') gone.push(item.gone);
      else tuples.push({ ...item.tuple, ttlMs: Math.max(1, Math.round(item.expiresAt - now)) });
      item.sent += copies;
      if (item.sent >= limit) retired++;
    }
    if (retired > 0) {
      let kept = 0;
      for (const item of this.order) {
        if (item.sent >= limit) this.byKey.delete(item.key);
        else this.order[kept++] = item;
      }
      this.order.length = kept;
    }
    return { gone, tuples, bytes };
  }

  private remove(item: BroadcastItem): void {
    this.byKey.delete(item.key);
    const i = this.order.indexOf(item);
    if (i >= 0) this.order.splice(i, 1);
  }

  private sort(): void {
    const a = this.order;
    for (let i = 1; i < a.length; i++) {
      const x = a[i]!;
      let j = i - 1;
      while (j >= 0 && a[j]!.sent > x.sent) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = x;
    }
  }
}
