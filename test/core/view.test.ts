import { describe, expect, test } from 'vitest';
import { SeededRng } from '../../src/core/rng.js';
import { MemberState } from '../../src/core/types.js';
import { GroupView } from '../../src/core/view.js';

const e = (addr: string, incarnation: number, heartbeat: number, ageMs = 0) => ({ addr, incarnation, heartbeat, ageMs });

describe('affinity group view', () => {
  test.each([
    // [description, first entry, second entry, expected outcome of the second]
    ['a higher heartbeat advances', e('a', 1, 5), e('a', 1, 6), 'advanced'],
    ['the same heartbeat is nothing new', e('a', 1, 5), e('a', 1, 5), 'same'],
    ['a lower heartbeat is stale', e('a', 1, 5), e('a', 1, 4), 'stale'],
    ['a higher incarnation is a rejoin, even with a lower heartbeat', e('a', 1, 50), e('a', 2, 1), 'rejoined'],
    ['a lower incarnation is stale', e('a', 2, 1), e('a', 1, 99), 'stale'],
  ] as const)('%s', (_d, first, second, outcome) => {
    const v = new GroupView('self', 10, 10);
    expect(v.merge(first, 1000, 5000)).toBe('new');
    expect(v.merge(second, 1000, 5000)).toBe(outcome);
  });

  test('age anchors lastHeard to when the member itself spoke', () => {
    const v = new GroupView('self', 10, 10);
    v.merge(e('a', 1, 5, 300), 1000, 5000);
    expect(v.get('a')!.lastHeard).toBe(700);
    // A fresher report of the same heartbeat moves lastHeard forward, never back.
    v.merge(e('a', 1, 5, 100), 1000, 5000);
    expect(v.get('a')!.lastHeard).toBe(900);
    v.merge(e('a', 1, 5, 800), 1000, 5000);
    expect(v.get('a')!.lastHeard).toBe(900);
  });

  test('news of a long-silent node does not add it', () => {
    const v = new GroupView('self', 10, 10);
    expect(v.merge(e('a', 1, 5, 6000), 10_000, 5000)).toBe('stale');
    expect(v.size).toBe(0);
  });

  test('a tombstone blocks the same incarnation and admits a higher one', () => {
    const v = new GroupView('self', 10, 10);
    v.merge(e('a', 3, 5), 0, 5000);
    expect(v.remove('a', 60_000, false)).toBe(true);
    expect(v.merge(e('a', 3, 9), 10, 5000)).toBe('tombstoned');
    expect(v.merge(e('a', 4, 1), 10, 5000)).toBe('rejoined');
    expect(v.tombstone('a')).toBeUndefined();
  });

  test('a suspect member whose heartbeat advances is refuted', () => {
    const v = new GroupView('self', 10, 10);
    v.merge(e('a', 1, 5), 0, 5000);
    v.suspect(v.get('a')!);
    expect(v.merge(e('a', 1, 6), 100, 5000)).toBe('refuted');
    expect(v.get('a')!.state).toBe(MemberState.Alive);
  });

  test('the view and the tombstones are bounded', () => {
    const v = new GroupView('self', 3, 2);
    for (const a of ['a', 'b', 'c']) expect(v.merge(e(a, 1, 1), 0, 5000)).toBe('new');
    expect(v.merge(e('d', 1, 1), 0, 5000)).toBe('full');
    v.bury('x', 1, 100, false);
    v.bury('y', 1, 200, false);
    expect(v.bury('z', 1, 300, false)).toBe(false);
    expect(v.tombstoneCount).toBe(2);
    expect(v.tombstone('x')).toBeUndefined(); // the one closest to expiry was forgotten
  });

  test('gossip picks the freshest members first, then random ones, never suspects', () => {
    const v = new GroupView('self', 100, 10);
    for (let i = 0; i < 20; i++) v.merge(e(`m${i}`, 1, 1, 2000 - i * 100), 2000, 5000);
    v.suspect(v.get('m19')!);
    const out: ReturnType<typeof e>[] = [];
    v.pickForGossip(2000, 3, 4, new SeededRng(7), out);
    expect(out.slice(0, 3).map((x) => x.addr)).toEqual(['m18', 'm17', 'm16']);
    expect(out).toHaveLength(7);
    expect(new Set(out.map((x) => x.addr)).size).toBe(7);
    expect(out.some((x) => x.addr === 'm19')).toBe(false);
  });

  test('a scan for the freshest is reused within a round by smaller picks, without removed or suspect members', () => {
    const v = new GroupView('self', 100, 10, 1000);
    for (let i = 0; i < 20; i++) v.merge(e(`m${i}`, 1, 1, 2000 - i * 100), 2000, 5000);
    const pick = (now: number, fresh: number): string[] => {
      const out: ReturnType<typeof e>[] = [];
      v.pickForGossip(now, fresh, 0, new SeededRng(1), out);
      return out.map((x) => x.addr);
    };
    expect(pick(2000, 4)).toEqual(['m19', 'm18', 'm17', 'm16']);
    // m0 is now the freshest of all, but within the round the scan stands ...
    v.merge(e('m0', 1, 2, 0), 2100, 5000);
    expect(pick(2500, 2)).toEqual(['m19', 'm18']);
    // ... except for members that became suspect or were removed since.
    v.suspect(v.get('m19')!);
    expect(pick(2500, 2)).toEqual(['m18']);
    v.remove('m18', 9999, false);
    expect(pick(2500, 2)).toEqual(['m0', 'm17']);
    // A bigger pick, or the next round, scans again.
    v.merge(e('m1', 1, 2, 0), 2600, 5000);
    expect(pick(2600, 3)).toEqual(['m1', 'm0', 'm17']);
    v.merge(e('m2', 1, 2, 0), 2700, 5000);
    expect(pick(3600, 1)).toEqual(['m2']);
  });

  test('removal keeps the index consistent (swap-remove)', () => {
    const v = new GroupView('self', 100, 100);
    for (let i = 0; i < 10; i++) v.merge(e(`m${i}`, 1, 1), 0, 5000);
    for (const a of ['m0', 'm5', 'm9', 'm3']) v.remove(a, 1, false);
    expect(v.all().map((m) => m.addr).sort()).toEqual(['m1', 'm2', 'm4', 'm6', 'm7', 'm8']);
    v.all().forEach((m, i) => expect(m.slot).toBe(i));
  });
});
