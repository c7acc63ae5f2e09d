/**
 * The simulator's agenda: a binary min-heap of events ordered by (time, sequence number). Ties in time are broken
 * by the order in which events were scheduled (FIFO), so a run is a pure function of its seed.
 *
 * Events live in preallocated typed arrays (struct of arrays) addressed by an entry id; the heap orders entry ids.
 * An entry knows its heap position, so a scheduled event can be moved (`reschedule`) or cancelled in O(log n):
 * that is how each node keeps exactly one pending tick. Nothing is allocated per event except when the arrays grow.
 */

import type { Datagram } from './datagram.js';

export const enum EventKind {
  /** A node's timer: call tick(). a = node slot. */
  Tick = 1,
  /** A datagram arrives. a = destination slot, b = source slot, payload = the datagram. */
  Deliver = 2,
  /** A scheduled action of the scenario or benchmark. a = action index, b = argument. */
  Control = 3,
}

export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private kind: Uint8Array;
  private a: Int32Array;
  private b: Int32Array;
  private pos: Int32Array;
  private payload: (Datagram | null)[];
  private heap: Int32Array;
  private freeList: Int32Array;
  private freeCount = 0;
  private used = 0;
  private count = 0;
  private nextSeq = 0;

  constructor(initialCapacity = 1024) {
    const n = Math.max(16, initialCapacity);
    this.time = new Float64Array(n);
    this.seq = new Float64Array(n);
    this.kind = new Uint8Array(n);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.payload = new Array<Datagram | null>(n).fill(null);
    this.heap = new Int32Array(n);
    this.freeList = new Int32Array(n);
  }

  get size(): number {
    return this.count;
  }

  /** Schedule an event; returns its entry id (valid until the event is popped or cancelled). */
  push(time: number, kind: EventKind, a: number, b: number, payload: Datagram | null): number {
    const id = this.alloc();
    this.time[id] = time;
    this.seq[id] = this.nextSeq++;
    this.kind[id] = kind;
    this.a[id] = a;
    this.b[id] = b;
    this.payload[id] = payload;
    const i = this.count++;
    this.heap[i] = id;
    this.pos[id] = i;
    this.siftUp(i);
    return id;
  }

  /** Move a pending event to a new time; it takes a fresh sequence number (FIFO among equal times). */
  reschedule(id: number, time: number): void {
    const i = this.pos[id] as number;
    if (i < 0) throw new Error(`event ${id} is not scheduled`);
    const before = this.time[id] as number;
    this.time[id] = time;
    this.seq[id] = this.nextSeq++;
    if (time < before) this.siftUp(i);
    else this.siftDown(i);
  }

  /** Remove a pending event without running it. */
  cancel(id: number): void {
    const i = this.pos[id] as number;
    if (i < 0) throw new Error(`event ${id} is not scheduled`);
    this.removeAt(i);
    this.release(id);
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Infinity : (this.time[this.heap[0] as number] as number);
  }

  /**
   * Take the earliest event off the heap and return its entry id; read it with the accessors, then `release(id)`.
   * Returns -1 when empty.
   */
  pop(): number {
    if (this.count === 0) return -1;
    const id = this.heap[0] as number;
    this.removeAt(0);
    return id;
  }

  timeOf(id: number): number {
    return this.time[id] as number;
  }
  kindOf(id: number): EventKind {
    return this.kind[id] as EventKind;
  }
  aOf(id: number): number {
    return this.a[id] as number;
  }
  bOf(id: number): number {
    return this.b[id] as number;
  }
  payloadOf(id: number): Datagram | null {
    return this.payload[id] as Datagram | null;
  }

  /** Give a popped entry back for reuse. */
  release(id: number): void {
    this.payload[id] = null;
    this.pos[id] = -1;
    this.freeList[this.freeCount++] = id;
  }

  private alloc(): number {
    if (this.freeCount > 0) return this.freeList[--this.freeCount] as number;
    if (this.used === this.time.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const n = this.time.length * 2;
    const f64 = (old: Float64Array): Float64Array => {
      const x = new Float64Array(n);
      x.set(old);
      return x;
    };
    const i32 = (old: Int32Array, fill: number): Int32Array => {
      const x = new Int32Array(n).fill(fill);
      x.set(old);
      return x;
    };
    this.time = f64(this.time);
    this.seq = f64(this.seq);
    const k = new Uint8Array(n);
    k.set(this.kind);
    this.kind = k;
    this.a = i32(this.a, 0);
    this.b = i32(this.b, 0);
    this.pos = i32(this.pos, -1);
    this.heap = i32(this.heap, 0);
    this.freeList = i32(this.freeList, 0);
    const oldPayload = this.payload;
    this.payload = new Array<Datagram | null>(n).fill(null);
    for (let i = 0; i < oldPayload.length; i++) this.payload[i] = oldPayload[i] as Datagram | null;
  }

  private removeAt(i: number): void {
    const id = this.heap[i] as number;
    this.pos[id] = -1;
    const last = --this.count;
    if (i === last) return;
    const moved = this.heap[last] as number;
    this.heap[i] = moved;
    this.pos[moved] = i;
    if (i > 0 && this.less(moved, this.heap[(i - 1) >> 1] as number)) this.siftUp(i);
    else this.siftDown(i);
  }

  private less(x: number, y: number): boolean {
    const tx = this.time[x] as number;
    const ty = this.time[y] as number;
    return tx < ty || (tx === ty && (this.seq[x] as number) < (this.seq[y] as number));
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const id = heap[i] as number;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pid = heap[p] as number;
      if (!this.less(id, pid)) break;
      heap[i] = pid;
      this.pos[pid] = i;
      i = p;
    }
    heap[i] = id;
    this.pos[id] = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = this.count;
    const id = heap[i] as number;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(heap[r] as number, heap[l] as number)) c = r;
      const cid = heap[c] as number;
      if (!this.less(cid, id)) break;
      heap[i] = cid;
      this.pos[cid] = i;
      i = c;
    }
    heap[i] = id;
    this.pos[id] = i;
  }
}
