/**
 * What connects the shards of a simulation that runs on several threads (one Cluster per worker thread, each owning
 * the nodes of some affinity groups): a clock per shard and a ring of datagrams per ordered pair of shards, all in
 * SharedArrayBuffers.
 *
 * Synchronisation is conservative (Chandy-Misra-Bryant with lookahead): no link delivers a datagram sooner than
 * `lookaheadMs` after it was sent, so a shard whose clock says t will never send anything that arrives before
 * t + lookaheadMs. A shard may therefore run every event earlier than min(other clocks) + lookaheadMs, the
 * "safe time"; it publishes its own clock (a lower bound on the time of anything it will still send) as it goes.
 * The clocks leapfrog, so the run always advances; no shard waits unless it is a whole lookahead ahead of another.
 *
 * Memory order: a sender writes a datagram into the ring, then advances the ring's write position (an atomic
 * store), and only later publishes a clock past the send time. A receiver reads the clocks first and drains the
 * rings second, so every datagram sent before the clocks it read is in its queue before it runs up to the safe
 * time. A clock is a float64 (ms) stored by its bit pattern in a BigInt64 slot, so it is exact and atomic.
 */

/** Bytes of a ring's record header: record length, to, from, payload length (Int32 each), arrival time (Float64). */
const RECORD_HEADER = 24;
/** A record length that means "the rest of the buffer is unused; continue at 0". */
const WRAP = -1;
/**
 * How long a waiting shard polls the other clocks before it sleeps (ms). The shards of a run have a core each, so
 * the one we wait for is running and usually publishes within microseconds, while a sleep costs far more (waking a
 * thread whose virtual CPU halted takes the host tens of microseconds). Past this, the other shard is probably
 * descheduled (cores are shared) and spinning would only take its core.
 */
const SPIN_MS = 0.5;
const SLEEP_MS = 5;

export interface ShardLinkBuffers {
  /** Clock (µs, BigInt64) and clock sequence (Int32) of every shard. */
  control: SharedArrayBuffer;
  /** rings[from * count + to]: datagrams from shard `from` to shard `to` (null on the diagonal). */
  rings: (SharedArrayBuffer | null)[];
}

/** Shared buffers for `count` shards, with rings of `ringBytes` each. */
export function createShardBuffers(count: number, ringBytes = 64 << 20): ShardLinkBuffers {
  const rings: (SharedArrayBuffer | null)[] = [];
  for (let from = 0; from < count; from++)
    for (let to = 0; to < count; to++) rings.push(from === to ? null : new SharedArrayBuffer(8 + ringBytes));
  return { control: new SharedArrayBuffer(count * 8 + count * 4), rings };
}

/** The queue a shard runs: what `runUntil` needs of the simulator's EventQueue. */
export interface ShardQueue {
  readonly size: number;
  peekTime(): number;
}

/** A datagram that came from another shard. */
export type RemoteDelivery = (arrival: number, to: number, from: number, bytes: Uint8Array) => void;

class Ring {
  /** [write position, read position], bytes into `data`. */
  readonly pos: Int32Array;
  readonly data: Uint8Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;

  constructor(buf: SharedArrayBuffer) {
    this.pos = new Int32Array(buf, 0, 2);
    this.data = new Uint8Array(buf, 8);
    this.i32 = new Int32Array(buf, 8, (buf.byteLength - 8) >> 2);
    this.f64 = new Float64Array(buf, 8, (buf.byteLength - 8) >> 3);
  }

  get capacity(): number {
    return this.data.length;
  }
}

export class ShardLink {
  /** Datagrams sent to and received from other shards. */
  sent = 0;
  received = 0;
  /** Times this shard had to wait for another, and waits that slept instead of spinning. */
  waits = 0;
  sleeps = 0;
  /** Wall-clock ms spent waiting. */
  waitMs = 0;
  private readonly clocks: BigInt64Array;
  private readonly seqs: Int32Array;
  private readonly out: (Ring | null)[] = [];
  private readonly inbound: (Ring | null)[] = [];
  /** The clock this shard published last (ms). */
  private published = 0;
  /** A float64 and its bits, to store clocks in BigInt64 slots. */
  private readonly f64 = new Float64Array(1);
  private readonly bits = new BigInt64Array(this.f64.buffer);

  constructor(
    readonly index: number,
    readonly count: number,
    buffers: ShardLinkBuffers,
    /** No datagram arrives sooner than this after it is sent (ms); > 0. */
    readonly lookaheadMs: number,
  ) {
    if (!(lookaheadMs > 0)) throw new Error(`a sharded simulation needs a minimum link delay > 0 ms (got ${lookaheadMs})`);
    this.clocks = new BigInt64Array(buffers.control, 0, count);
    this.seqs = new Int32Array(buffers.control, count * 8, count);
    for (let s = 0; s < count; s++) {
      const o = buffers.rings[index * count + s];
      const i = buffers.rings[s * count + index];
      this.out.push(o ? new Ring(o) : null);
      this.inbound.push(i ? new Ring(i) : null);
    }
  }

  /**
   * Run this shard's events up to `until` (inclusive; finite): `step` runs the earliest event of `queue`, events
   * run only before the safe time, datagrams from other shards are handed to `deliver` (which queues them), and the
   * clock published after each event is the earliest time this shard can still send anything (its next event, or
   * the next datagram that may come in). Returns when every event up to `until` has run.
   */
  runUntil(queue: ShardQueue, until: number, step: () => void, deliver: RemoteDelivery): void {
    if (!(until < Infinity)) throw new Error('a sharded simulation runs up to a finite time');
    for (;;) {
      const safe = this.safeTime();
      this.drain(deliver);
      let next = queue.size > 0 ? queue.peekTime() : Infinity;
      while (next < safe && next <= until) {
        step();
        next = queue.size > 0 ? queue.peekTime() : Infinity;
        this.publishClock(next < safe ? next : safe);
      }
      this.publishClock(next < safe ? next : safe);
      if (next > until && safe > until) return;
      this.waitBeyond(safe);
    }
  }

  /** Queue a datagram for a node of shard `shard`; it arrives there at `arrival`. Waits while that ring is full. */
  send(shard: number, arrival: number, to: number, from: number, bytes: Uint8Array, deliver: RemoteDelivery): void {
    const r = this.out[shard];
    if (!r) throw new Error(`shard ${this.index} has no ring to shard ${shard}`);
    if (arrival - this.lookaheadMs < this.published - 1e-9)
      throw new Error(`shard ${this.index} sends for ${arrival} ms, sooner than the lookahead after its published clock ${this.published} ms`);
    const need = (RECORD_HEADER + bytes.length + 7) & ~7;
    const cap = r.capacity;
    // A record that has to wrap needs room at the start as well: at most half the ring, so an empty ring takes it.
    if (2 * need + 8 > cap) throw new Error(`datagram of ${bytes.length} bytes is too large for a ring of ${cap} bytes`);
    let w = Atomics.load(r.pos, 0);
    for (;;) {
      const rd = Atomics.load(r.pos, 1);
      const used = (w - rd + cap) % cap;
      // Room for the record, a possible wrap marker, and one spare word so that full never looks like empty.
      if (used + need + (w + need > cap ? cap - w : 0) + 8 < cap) break;
      // Full: take in what the other shards sent meanwhile (they may be waiting for room in our rings too).
      this.drain(deliver);
    }
    if (w + need > cap) {
      r.i32[w >> 2] = WRAP;
      w = 0;
    }
    const words = w >> 2;
    r.i32[words] = need;
    r.i32[words + 1] = to;
    r.i32[words + 2] = from;
    r.i32[words + 3] = bytes.length;
    r.f64[(w >> 3) + 2] = arrival;
    r.data.set(bytes, w + RECORD_HEADER);
    Atomics.store(r.pos, 0, (w + need) % cap);
    this.sent++;
  }

  /** Hand every datagram waiting in the inbound rings to `deliver`. */
  drain(deliver: RemoteDelivery): void {
    for (let s = 0; s < this.count; s++) {
      const r = this.inbound[s];
      if (!r) continue;
      const w = Atomics.load(r.pos, 0);
      let rd = Atomics.load(r.pos, 1);
      if (rd === w) continue;
      while (rd !== w) {
        const words = rd >> 2;
        const len = r.i32[words] as number;
        if (len === WRAP) {
          rd = 0;
          continue;
        }
        const to = r.i32[words + 1] as number;
        const from = r.i32[words + 2] as number;
        const n = r.i32[words + 3] as number;
        const arrival = r.f64[(rd >> 3) + 2] as number;
        const bytes = r.data.slice(rd + RECORD_HEADER, rd + RECORD_HEADER + n);
        rd = (rd + len) % r.capacity;
        this.received++;
        deliver(arrival, to, from, bytes);
      }
      Atomics.store(r.pos, 1, rd);
    }
  }

  /** Promise that nothing this shard sends from now on is sent before `t` (ms; never decreases). */
  publishClock(t: number): void {
    if (t <= this.published) return;
    this.published = t;
    this.f64[0] = t;
    Atomics.store(this.clocks, this.index, this.bits[0]!);
    Atomics.add(this.seqs, this.index, 1);
    Atomics.notify(this.seqs, this.index);
  }

  /** The clock shard `s` published last (ms). Clocks start at 0 (the bits of 0.0): nothing is sent before time 0. */
  private clockOf(s: number): number {
    this.bits[0] = Atomics.load(this.clocks, s);
    return this.f64[0]!;
  }

  /** Events strictly before this time (ms) can run: nothing still to come from another shard arrives earlier. */
  safeTime(): number {
    let min = Infinity;
    for (let s = 0; s < this.count; s++) {
      if (s === this.index) continue;
      const c = this.clockOf(s);
      if (c < min) min = c;
    }
    return min + this.lookaheadMs;
  }

  /** Wait until another shard's clock moves past `safe` or a datagram comes in (spin first, then sleep briefly). */
  waitBeyond(safe: number): void {
    const t0 = performance.now();
    this.wait(safe);
    this.waitMs += performance.now() - t0;
  }

  private wait(safe: number): void {
    this.waits++;
    const seqs = this.seqs;
    const before: number[] = [];
    for (let s = 0; s < this.count; s++) before.push(Atomics.load(seqs, s));
    const spinUntil = performance.now() + SPIN_MS;
    for (let i = 1; ; i++) {
      if (this.safeTime() > safe || this.hasInbound()) return;
      if ((i & 63) === 0 && performance.now() > spinUntil) break;
    }
    this.sleeps++;
    // Sleep on the shard holding us back (the one with the smallest clock) until its clock moves.
    let slowest = -1;
    let min = Infinity;
    for (let s = 0; s < this.count; s++) {
      if (s === this.index) continue;
      const c = this.clockOf(s);
      if (slowest < 0 || c < min) {
        min = c;
        slowest = s;
      }
    }
    if (slowest >= 0) Atomics.wait(seqs, slowest, before[slowest] as number, SLEEP_MS);
  }

  private hasInbound(): boolean {
    for (const r of this.inbound) if (r && Atomics.load(r.pos, 0) !== Atomics.load(r.pos, 1)) return true;
    return false;
  }
}
