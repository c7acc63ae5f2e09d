import { describe, expect, test } from 'vitest';
import { SeededRng } from '../../src/core/rng.js';
import { linkShare, Network, PERFECT_LINKS } from '../../src/sim/network.js';

const settings = (o: Partial<typeof PERFECT_LINKS>) => ({ ...PERFECT_LINKS, ...o });

describe('Network', () => {
  test('delay is the link minimum plus bounded jitter; both directions share the minimum', () => {
    const net = new Network(settings({ delayMinMs: 2, linkSpreadMs: 4, jitterMs: 1 }), new SeededRng(1));
    for (let i = 0; i < 1000; i++) {
      const a = i % 37;
      const b = (i * 7) % 41;
      expect(net.plan(a, b)).toBe(1);
      const d = net.delays[0]!;
      const min = 2 + 4 * linkShare(a, b);
      expect(d).toBeGreaterThanOrEqual(min);
      expect(d).toBeLessThan(min + 1);
      expect(linkShare(a, b)).toBe(linkShare(b, a));
    }
  });

  test('loss, duplication and reordering happen at about their rates', () => {
    const net = new Network(settings({ lossRate: 0.1, duplicateRate: 0.2, reorderRate: 0.3, reorderDelayMs: 50 }), new SeededRng(7));
    let copies = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) copies += net.plan(1, 2);
    const c = net.counters;
    expect(c.datagrams).toBe(n);
    expect(c.duplicated / n).toBeCloseTo(0.2, 1);
    expect(c.lost / (n + c.duplicated)).toBeCloseTo(0.1, 1);
    expect(c.reordered / copies).toBeCloseTo(0.3, 1);
    expect(copies).toBe(n + c.duplicated - c.lost);
    expect(c.copies).toBe(copies);
  });

  test('a reordered copy can be overtaken by a later datagram', () => {
    const net = new Network(settings({ jitterMs: 0, reorderRate: 0.5, reorderDelayMs: 100 }), new SeededRng(3));
    const arrivals: number[] = [];
    for (let i = 0; i < 200; i++) {
      net.plan(1, 2);
      arrivals.push(i + net.delays[0]!);
    }
    let inversions = 0;
    for (let i = 1; i < arrivals.length; i++) if (arrivals[i]! < arrivals[i - 1]!) inversions++;
    expect(inversions).toBeGreaterThan(10);
  });

  test('symmetric partition cuts both ways; asymmetric one way; isolation cuts one node from everyone; heal restores', () => {
    const net = new Network(settings({}), new SeededRng(1));
    const s = net.newSide();
    net.setSide(5, s);
    net.cutOneWay(s, 0);
    expect(net.blocked(5, 1)).toBe(true);
    expect(net.blocked(1, 5)).toBe(false);
    expect(net.plan(5, 1)).toBe(0);
    expect(net.counters.blocked).toBe(1);
    net.cutBothWays(s, 0);
    expect(net.blocked(1, 5)).toBe(true);
    expect(net.blocked(1, 2)).toBe(false);
    expect(net.partitioned).toBe(true);

    net.healAll();
    expect(net.partitioned).toBe(false);
    expect(net.blocked(5, 1)).toBe(false);

    net.isolate(9);
    const later = net.newSide(); // a side created after the isolation is cut from it too
    net.setSide(3, later);
    for (const other of [0, 1, 3, 5]) {
      expect(net.blocked(9, other)).toBe(true);
      expect(net.blocked(other, 9)).toBe(true);
    }
    expect(net.blocked(0, 3)).toBe(false);
    net.healAll();
    expect(net.blocked(9, 0)).toBe(false);
  });

  test('same seed, same fates', () => {
    const run = () => {
      const net = new Network(settings({ lossRate: 0.3, duplicateRate: 0.3, reorderRate: 0.3, reorderDelayMs: 10, jitterMs: 5 }), new SeededRng(99));
      const out: number[] = [];
      for (let i = 0; i < 500; i++) {
        const n = net.plan(i % 13, i % 17);
        out.push(n, ...Array.from(net.delays.subarray(0, n)));
      }
      return out;
    };
    expect(run()).toEqual(run());
  });
});
