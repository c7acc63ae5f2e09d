import { describe, expect, test } from 'vitest';
import { fmix32, groupOfName, groupOfNode, hash32 } from '../../src/core/hash.js';

describe('hash', () => {
  test('is stable: these values are part of the protocol and must never change', () => {
    expect(hash32('')).toBe(fmix32(0x811c9dc5));
    expect(hash32('PennyLane.mp3')).toBe(hash32('PennyLane.mp3'));
    // Pinned from an independent implementation of FNV-1a + fmix32: a change here re-shuffles every cluster.
    expect([hash32('a'), hash32('b'), hash32('10.0.0.1:7946')]).toEqual([444641715, 2193908274, 589398390]);
  });

  test('spreads nodes and names evenly over groups (chi-square under 2x expectation)', () => {
    const k = 32;
    for (const place of [(i: number) => groupOfNode(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:7946`, k), (i: number) => groupOfName(`file-${i}.bin`, k)]) {
      const counts = new Array<number>(k).fill(0);
      const n = 32_000;
      for (let i = 0; i < n; i++) counts[place(i)]!++;
      const expected = n / k;
      const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
      // 31 degrees of freedom: mean 31, p=0.001 critical value ~61.
      expect(chi2).toBeLessThan(62);
      expect(Math.min(...counts)).toBeGreaterThan(expected * 0.8);
    }
  });

  test('node and name placement are independent functions', () => {
    let same = 0;
    for (let i = 0; i < 1000; i++) if (groupOfNode(`n${i}`, 16) === groupOfName(`n${i}`, 16)) same++;
    expect(same).toBeLessThan(120);
  });
});
