import { describe, expect, test } from 'vitest';
import { BroadcastQueue } from '../../src/core/broadcasts.js';
import { TupleStore } from '../../src/core/filetuples.js';
import { groupOfName } from '../../src/core/hash.js';
import type { TupleEntry } from '../../src/core/types.js';

const t = (over: Partial<TupleEntry> = {}): TupleEntry => ({
  name: 'song.mp3',
  location: 'host-a:/music/song.mp3',
  owner: '10.0.0.1:7946',
  versionIncarnation: 10,
  versionSeq: 1,
  ttlMs: 60_000,
  deleted: false,
  ...over,
});

describe('filetuples', () => {
  test.each([
    ['the same version is nothing new', t(), 'same'],
    ['a higher sequence replaces', t({ versionSeq: 2, location: 'elsewhere' }), 'updated'],
    ['a higher incarnation beats any sequence', t({ versionIncarnation: 11, versionSeq: 1 }), 'updated'],
    ['an older version is stale', t({ versionSeq: 0 }), 'stale'],
    ['a refresh that extends the lifetime a lot is worth gossiping', t({ ttlMs: 200_000 }), 'refreshed'],
    ['an expired copy is ignored', t({ ttlMs: 0 }), 'expired'],
  ] as const)('%s', (_d, second, outcome) => {
    const s = new TupleStore(100, 4, 16, 30_000, 60_000);
    expect(s.merge(t(), 0)).toBe('new');
    expect(s.merge(second, 0)).toBe(outcome);
  });

  test('several owners give several locations; a tombstone hides its owner', () => {
    const s = new TupleStore(100, 4, 16, 30_000, 60_000);
    s.merge(t(), 0);
    s.merge(t({ owner: '10.0.0.2:7946', location: 'host-b' }), 0);
    expect(s.locations('song.mp3', 0).map((l) => l.location).sort()).toEqual(['host-a:/music/song.mp3', 'host-b']);
    expect(s.merge(t({ versionSeq: 2, deleted: true }), 0)).toBe('updated');
    expect(s.locations('song.mp3', 0)).toEqual([{ location: 'host-b', owner: '10.0.0.2:7946' }]);
    // The tombstone outranks the older publication still travelling through gossip.
    expect(s.merge(t(), 10)).toBe('stale');
  });

  test('tuples expire unless refreshed', () => {
    const s = new TupleStore(100, 4, 16, 30_000, 60_000);
    s.merge(t({ ttlMs: 1000 }), 0);
    s.merge(t({ name: 'b', ttlMs: 5000 }), 0);
    expect(s.expire(2000).map((x) => x.name)).toEqual(['song.mp3']);
    expect(s.size).toBe(1);
    expect(s.locations('song.mp3', 2000)).toEqual([]);
  });

  test('anti-entropy digests count a tuple only once it has settled, at the same instant on every node', () => {
    const a = new TupleStore(100, 4, 8, 30_000, 60_000);
    const b = new TupleStore(100, 4, 8, 30_000, 60_000);
    // Published at t=0 with the full 60 s TTL; a hears of it at t=100 (ttl left 59.9 s), b at t=3000.
    a.merge(t({ ttlMs: 59_900 }), 100);
    b.merge(t({ ttlMs: 57_000 }), 3000);
    expect(Array.from(a.digests)).toEqual(Array.from(b.digests));
    a.settle(4000, 5000);
    b.settle(4000, 5000);
    expect(Array.from(a.settledDigests).every((d) => d === 0)).toBe(true); // still in flight: not compared
    a.settle(5000, 5000);
    b.settle(5000, 5000);
    expect(Array.from(a.settledDigests)).toEqual(Array.from(b.digests));
    expect(Array.from(b.settledDigests)).toEqual(Array.from(b.digests));
    // A newer version leaves the settled digest until it settles in turn; expiry takes it out.
    b.merge(t({ versionSeq: 2, ttlMs: 60_000 }), 6000);
    expect(Array.from(b.settledDigests).every((d) => d === 0)).toBe(true);
    b.settle(11_000, 5000);
    expect(Array.from(b.settledDigests)).toEqual(Array.from(b.digests));
    b.expire(1e9);
    expect(Array.from(b.settledDigests).every((d) => d === 0)).toBe(true);
  });

  test('the tuples of one group spread over all digest buckets', () => {
    const k = 32;
    const s = new TupleStore(10_000, 4, 64, 30_000, 60_000);
    let n = 0;
    for (let i = 0; n < 2000; i++) {
      const name = `file-${i}`;
      if (groupOfName(name, k) !== 5) continue;
      s.merge(t({ name }), 0);
      n++;
    }
    const used = Array.from(s.digests).filter((d) => d !== 0).length;
    expect(used).toBe(64);
  });

  test('limits: total tuples and locations per name', () => {
    const s = new TupleStore(3, 2, 16, 30_000, 60_000);
    expect(s.merge(t({ owner: 'a:1' }), 0)).toBe('new');
    expect(s.merge(t({ owner: 'b:1' }), 0)).toBe('new');
    expect(s.merge(t({ owner: 'c:1' }), 0)).toBe('locations-full');
    expect(s.merge(t({ name: 'x' }), 0)).toBe('new');
    expect(s.merge(t({ name: 'y' }), 0)).toBe('filetuples-full');
  });

  test('bucket digests agree exactly when contents agree, whatever the order and expiry', () => {
    const a = new TupleStore(100, 4, 8, 30_000, 60_000);
    const b = new TupleStore(100, 4, 8, 30_000, 60_000);
    const names = Array.from({ length: 30 }, (_, i) => `f${i}`);
    for (const n of names) a.merge(t({ name: n }), 0);
    for (const n of [...names].reverse()) b.merge(t({ name: n, ttlMs: 90_000 }), 5);
    expect(Array.from(a.digests)).toEqual(Array.from(b.digests));
    b.merge(t({ name: 'f3', versionSeq: 2 }), 10);
    const differ = Array.from(a.digests).flatMap((d, i) => (d !== b.digests[i] ? [i] : []));
    expect(differ).toEqual([b.bucketOf('f3')]);
    expect(b.entriesOfBuckets(new Set(differ), 10).some((e) => e.name === 'f3' && e.versionSeq === 2)).toBe(true);
    // Expiring everything returns the digests to zero.
    b.expire(1e9);
    expect(Array.from(b.digests).every((d) => d === 0)).toBe(true);
  });
});

describe('broadcast queue', () => {
  const item = (key: string, bytes = 10) => ({ kind: 'tuple' as const, key, tuple: t({ name: key }), sent: 0, bytes, expiresAt: 1e9 });

  test('each item is sent a bounded number of times, fewest-sent first', () => {
    const q = new BroadcastQueue(10);
    q.push(item('a'));
    let taken = q.take(100, 2, 6, 0);
    expect(taken.tuples.map((x) => x.name)).toEqual(['a']);
    q.push(item('b'));
    taken = q.take(10, 2, 6, 0); // room for one: the fresh one goes first
    expect(taken.tuples.map((x) => x.name)).toEqual(['b']);
    q.take(100, 2, 6, 0);
    q.take(100, 2, 6, 0);
    expect(q.size).toBe(0); // both reached 6 transmissions
  });

  test('bounded: a full queue drops the most-sent item and counts it', () => {
    const q = new BroadcastQueue(2);
    q.push(item('a'));
    q.take(100, 1, 10, 0);
    q.push(item('b'));
    expect(q.push(item('c'))).toBe(false);
    expect(q.dropped).toBe(1);
    expect(q.take(100, 1, 10, 0).tuples.map((x) => x.name).sort()).toEqual(['b', 'c']);
  });

  test('a newer item with the same key replaces the older one', () => {
    const q = new BroadcastQueue(5);
    q.push(item('a'));
    q.push({ ...item('a'), tuple: t({ name: 'a', versionSeq: 9 }) });
    const taken = q.take(100, 1, 10, 0);
    expect(taken.tuples).toHaveLength(1);
    expect(taken.tuples[0]!.versionSeq).toBe(9);
  });
});
