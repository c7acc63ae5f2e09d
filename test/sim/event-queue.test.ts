import { describe, expect, test } from 'vitest';
import { SeededRng } from '../../src/core/rng.js';
import { Datagram } from '../../src/sim/datagram.js';
import { EventKind, EventQueue } from '../../src/sim/event-queue.js';

function drain(q: EventQueue): [number, number][] {
  const out: [number, number][] = [];
  for (let id = q.pop(); id >= 0; id = q.pop()) {
    out.push([q.timeOf(id), q.aOf(id)]);
    q.release(id);
  }
  return out;
}

describe('EventQueue', () => {
  test('pops in time order, FIFO among equal times', () => {
    const q = new EventQueue(16);
    q.push(5, EventKind.Control, 1, 0, null);
    q.push(3, EventKind.Control, 2, 0, null);
    q.push(5, EventKind.Control, 3, 0, null);
    q.push(3, EventKind.Control, 4, 0, null);
    q.push(0, EventKind.Control, 5, 0, null);
    expect(drain(q)).toEqual([[0, 5], [3, 2], [3, 4], [5, 1], [5, 3]]);
    expect(q.size).toBe(0);
    expect(q.pop()).toBe(-1);
    expect(q.peekTime()).toBe(Infinity);
  });

  test('grows past its initial capacity and keeps payloads and fields', () => {
    const q = new EventQueue(16);
    const buf = new Datagram(new Uint8Array([1, 2, 3]));
    for (let i = 0; i < 1000; i++) q.push(1000 - i, EventKind.Deliver, i, -i, i === 500 ? buf : null);
    let prev = -Infinity;
    let seen = 0;
    for (let id = q.pop(); id >= 0; id = q.pop()) {
      const t = q.timeOf(id);
      expect(t).toBeGreaterThanOrEqual(prev);
      prev = t;
      expect(q.bOf(id) + q.aOf(id)).toBe(0);
      expect(q.kindOf(id)).toBe(EventKind.Deliver);
      if (q.aOf(id) === 500) expect(q.payloadOf(id)).toBe(buf);
      else expect(q.payloadOf(id)).toBeNull();
      q.release(id);
      seen++;
    }
    expect(seen).toBe(1000);
  });

  test('reschedule moves an event earlier or later and takes a new FIFO position', () => {
    const q = new EventQueue();
    const a = q.push(10, EventKind.Tick, 1, 0, null);
    q.push(20, EventKind.Tick, 2, 0, null);
    const c = q.push(30, EventKind.Tick, 3, 0, null);
    q.reschedule(c, 5);
    q.reschedule(a, 20); // same time as event 2, but rescheduled later: comes after it
    expect(drain(q)).toEqual([[5, 3], [20, 2], [20, 1]]);
  });

  test('cancel removes exactly one event; released ids are reused', () => {
    const q = new EventQueue();
    const ids = [1, 2, 3, 4, 5].map((t) => q.push(t, EventKind.Control, t, 0, null));
    q.cancel(ids[2]!);
    expect(() => q.cancel(ids[2]!)).toThrow();
    expect(drain(q).map(([t]) => t)).toEqual([1, 2, 4, 5]);
    const again = q.push(7, EventKind.Control, 7, 0, null);
    expect(ids).toContain(again);
  });

  test('matches a reference sort under random pushes, pops, reschedules and cancels', () => {
    const rng = new SeededRng(42);
    const q = new EventQueue(16);
    const live = new Map<number, { t: number; seq: number; tag: number }>();
    let seq = 0;
    let tag = 0;
    const popped: number[] = [];
    const expected: number[] = [];
    for (let step = 0; step < 20_000; step++) {
      const r = rng.next();
      if (r < 0.5 || live.size === 0) {
        const t = Math.floor(rng.next() * 100);
        const id = q.push(t, EventKind.Control, tag, 0, null);
        live.set(id, { t, seq: seq++, tag: tag++ });
      } else if (r < 0.65) {
        const ids = [...live.keys()];
        const id = ids[Math.floor(rng.next() * ids.length)]!;
        const t = Math.floor(rng.next() * 100);
        q.reschedule(id, t);
        live.set(id, { ...live.get(id)!, t, seq: seq++ });
      } else if (r < 0.7) {
        const ids = [...live.keys()];
        const id = ids[Math.floor(rng.next() * ids.length)]!;
        q.cancel(id);
        live.delete(id);
      } else {
        let best: [number, { t: number; seq: number; tag: number }] | null = null;
        for (const e of live) if (!best || e[1].t < best[1].t || (e[1].t === best[1].t && e[1].seq < best[1].seq)) best = e;
        expected.push(best![1].tag);
        live.delete(best![0]);
        const id = q.pop();
        popped.push(q.aOf(id));
        q.release(id);
      }
    }
    expect(popped).toEqual(expected);
    expect(q.size).toBe(live.size);
  });
});
