/**
 * The simulated network: what happens to one datagram between two node slots.
 *
 * - Delay: every link has a fixed minimum (the global minimum plus a per-link share of `linkSpreadMs`, derived by
 *   hashing the pair so links differ but need no N^2 table) plus a uniform random part of up to `jitterMs`.
 * - Loss: each copy is dropped with probability `lossRate`.
 * - Duplication: with probability `duplicateRate` a second copy travels, with its own delay.
 * - Reordering: with probability `reorderRate` a copy is held back by up to `reorderDelayMs` more, so datagrams
 *   sent after it overtake it.
 * - Partitions: every slot is on a side (0 by default); `cut[from][to]` blocks one direction between two sides.
 *   A symmetric partition cuts both directions, an asymmetric one only one; isolating a node puts it on a side of
 *   its own cut both ways. Blocking is decided when a datagram is sent.
 *
 * All randomness comes from the one generator given to the constructor, in a fixed order per datagram.
 */
import { fmix32 } from '../core/hash.js';
import type { Rng } from '../core/rng.js';

export interface LinkSettings {
  /** Smallest one-way delay of any link (ms). */
  delayMinMs: number;
  /** Links differ: each adds a fixed share of up to this much (ms) to the minimum. */
  linkSpreadMs: number;
  /** Uniform random extra delay per datagram, up to this (ms). */
  jitterMs: number;
  /** Probability that a copy is lost. */
  lossRate: number;
  /** Probability that a datagram is delivered twice. */
  duplicateRate: number;
  /** Probability that a copy is held back (and overtaken). */
  reorderRate: number;
  /** Extra hold-back of a reordered copy, uniform up to this (ms). */
  reorderDelayMs: number;
}

export const PERFECT_LINKS: Readonly<LinkSettings> = Object.freeze({
  delayMinMs: 0.2,
  linkSpreadMs: 0.6,
  jitterMs: 0.2,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: 0,
});

export interface NetworkCounters {
  datagrams: number;
  copies: number;
  lost: number;
  duplicated: number;
  reordered: number;
  blocked: number;
}

const SIDES_MAX = 64;

export class Network {
  settings: LinkSettings;
  readonly counters: NetworkCounters = { datagrams: 0, copies: 0, lost: 0, duplicated: 0, reordered: 0, blocked: 0 };
  /** Delays (ms) of the copies planned by the last `plan` call. */
  readonly delays = new Float64Array(2);
  private side: Int32Array = new Int32Array(1024);
  private readonly cut = new Uint8Array(SIDES_MAX * SIDES_MAX);
  private cutCount = 0;
  private nextSide = 1;
  private readonly isolatedSide = new Uint8Array(SIDES_MAX);

  constructor(
    settings: LinkSettings,
    private readonly rng: Rng,
  ) {
    this.settings = { ...settings };
  }

  /** True while any partition or isolation is in force. */
  get partitioned(): boolean {
    return this.cutCount > 0;
  }

  sideOf(slot: number): number {
    return slot < this.side.length ? (this.side[slot] as number) : 0;
  }

  /** Is the direction from -> to cut by a partition? */
  blocked(fromSlot: number, toSlot: number): boolean {
    if (this.cutCount === 0) return false;
    return this.cut[this.sideOf(fromSlot) * SIDES_MAX + this.sideOf(toSlot)] === 1;
  }

  /** A fresh side number (sides are recycled after `healAll`). */
  newSide(): number {
    if (this.nextSide >= SIDES_MAX) throw new Error(`more than ${SIDES_MAX - 1} partition sides at once`);
    const s = this.nextSide++;
    for (let other = 1; other < s; other++) if (this.isolatedSide[other] === 1) this.cutBothWays(s, other);
    return s;
  }

  setSide(slot: number, side: number): void {
    if (slot >= this.side.length) {
      const grown = new Int32Array(Math.max(slot + 1, this.side.length * 2));
      grown.set(this.side);
      this.side = grown;
    }
    this.side[slot] = side;
  }

  /** Block datagrams from side `from` to side `to` (one direction). */
  cutOneWay(from: number, to: number): void {
    const i = from * SIDES_MAX + to;
    if (this.cut[i] === 0) {
      this.cut[i] = 1;
      this.cutCount++;
    }
  }

  cutBothWays(x: number, y: number): void {
    this.cutOneWay(x, y);
    this.cutOneWay(y, x);
  }

  /** Put `slot` on a side of its own, cut both ways from every other side, now and later. Returns the side. */
  isolate(slot: number): number {
    const s = this.newSide();
    this.isolatedSide[s] = 1;
    this.setSide(slot, s);
    for (let other = 0; other < this.nextSide; other++) if (other !== s) this.cutBothWays(s, other);
    return s;
  }

  /** Remove every partition and put every slot back on side 0. */
  healAll(): void {
    this.cut.fill(0);
    this.cutCount = 0;
    this.side.fill(0);
    this.isolatedSide.fill(0);
    this.nextSide = 1;
  }

  /**
   * Decide the fate of one datagram from -> to: returns how many copies arrive (0, 1 or 2) and leaves their
   * delays in `delays`. Partitions are checked first and draw no randomness.
   */
  plan(fromSlot: number, toSlot: number): number {
    const s = this.settings;
    this.counters.datagrams++;
    if (this.blocked(fromSlot, toSlot)) {
      this.counters.blocked++;
      return 0;
    }
    const rng = this.rng;
    let copies = 1;
    if (s.duplicateRate > 0 && rng.next() < s.duplicateRate) {
      copies = 2;
      this.counters.duplicated++;
    }
    const base = s.delayMinMs + s.linkSpreadMs * linkShare(fromSlot, toSlot);
    let n = 0;
    for (let c = 0; c < copies; c++) {
      if (s.lossRate > 0 && rng.next() < s.lossRate) {
        this.counters.lost++;
        continue;
      }
      let d = base + s.jitterMs * rng.next();
      if (s.reorderRate > 0 && rng.next() < s.reorderRate) {
        d += s.reorderDelayMs * rng.next();
        this.counters.reordered++;
      }
      this.delays[n++] = d;
    }
    this.counters.copies += n;
    return n;
  }
}

/** A fixed number in [0, 1) per unordered pair of slots: both directions of a link have the same minimum. */
export function linkShare(x: number, y: number): number {
  const lo = x < y ? x : y;
  const hi = x < y ? y : x;
  return fmix32(Math.imul(lo, 0x9e3779b1) ^ (hi + 0x7f4a7c15)) / 4294967296;
}
