/**
 * The simulator on several threads: the shard link's rings and clocks (in one thread, two ends on the same shared
 * buffers), and bench:sim with real worker threads (the compiled build), which must reproduce itself from its seed
 * and issue exactly the lookups a one-thread run issues.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createShardBuffers, ShardLink } from '../../src/sim/shard-link.js';
import { build, privateDist } from '../cluster/setup.js';

interface Got {
  arrival: number;
  to: number;
  from: number;
  bytes: number[];
}

function pair(ringBytes: number, lookahead = 0.5): { a: ShardLink; b: ShardLink; got: Got[]; take: (a: number, t: number, f: number, b: Uint8Array) => void } {
  const buffers = createShardBuffers(2, ringBytes);
  const got: Got[] = [];
  return {
    a: new ShardLink(0, 2, buffers, lookahead),
    b: new ShardLink(1, 2, buffers, lookahead),
    got,
    take: (arrival, to, from, bytes) => got.push({ arrival, to, from, bytes: Array.from(bytes) }),
  };
}

describe('shard link', () => {
  test('datagrams arrive whole and in order, also across the end of the ring many times over', () => {
    const { a, b, got, take } = pair(1024);
    const sent: Got[] = [];
    for (let i = 0; i < 500; i++) {
      const bytes = Array.from({ length: (i * 37) % 200 }, (_, j) => (i + j) & 255);
      const d = { arrival: i + 1.25, to: i, from: 1000 + i, bytes };
      sent.push(d);
      a.send(1, d.arrival, d.to, d.from, Uint8Array.from(bytes), () => {});
      if (i % 3 === 2) b.drain(take);
    }
    b.drain(take);
    expect(got).toEqual(sent);
    expect(a.sent).toBe(500);
    expect(b.received).toBe(500);
  });

  test('a full ring makes the sender take in what was sent to it, so two full rings cannot deadlock', () => {
    // Rings of 200 bytes hold two records of a 60-byte datagram each.
    const { a, b, got, take } = pair(200);
    b.send(0, 1, 2, 3, new Uint8Array(60).fill(7), () => {});
    const intoA: Got[] = [];
    // While a waits for room in its ring to b, it takes in b's datagram; here that is also when b drains its ring
    // (in a real run the other thread does that on its own).
    const whileWaiting = (t: number, to: number, from: number, bytes: Uint8Array) => {
      intoA.push({ arrival: t, to, from, bytes: Array.from(bytes) });
      b.drain(take);
    };
    for (let i = 1; i <= 2; i++) a.send(1, 10 + i, 0, 0, new Uint8Array(60).fill(i), whileWaiting);
    expect(intoA).toEqual([]);
    a.send(1, 13, 0, 0, new Uint8Array(60).fill(3), whileWaiting);
    expect(intoA).toEqual([{ arrival: 1, to: 2, from: 3, bytes: new Array<number>(60).fill(7) }]);
    expect(got.map((g) => g.arrival)).toEqual([11, 12]);
    b.drain(take);
    expect(got.map((g) => [g.arrival, g.bytes[0]])).toEqual([
      [11, 1],
      [12, 2],
      [13, 3],
    ]);
  });

  test('a datagram too large for the ring, or sent sooner than the published clock allows, is an error', () => {
    const { a } = pair(200);
    expect(() => a.send(1, 5, 0, 0, new Uint8Array(100), () => {})).toThrow(/too large/);
    a.publishClock(20);
    expect(() => a.send(1, 20.4, 0, 0, new Uint8Array(10), () => {})).toThrow(/sooner than the lookahead/);
    expect(() => a.send(1, 20.5, 0, 0, new Uint8Array(10), () => {})).not.toThrow();
  });

  test('safe time is the slowest other clock plus the lookahead; clocks never go back', () => {
    const { a, b } = pair(1024, 0.5);
    expect(a.safeTime()).toBe(0.5);
    b.publishClock(10.25);
    expect(a.safeTime()).toBeCloseTo(10.75, 9);
    b.publishClock(3);
    expect(a.safeTime()).toBeCloseTo(10.75, 9);
    b.publishClock(Infinity);
    expect(a.safeTime()).toBe(Infinity);
    expect(() => new ShardLink(0, 2, createShardBuffers(2, 1024), 0)).toThrow(/minimum link delay/);
  });
});

describe('bench:sim on two threads', () => {
  const dist = process.env.KELIPS_TEST_DIST ?? privateDist('shards');
  if (!existsSync(join(dist, 'bench', 'sim.js'))) build(dist);
  // The work is bounded by simulated time (1 minute of 160 nodes: about 5 s of CPU here). The wall-clock limit is
  // only a guard against a hung process, generous for a busy shared machine; on failure the message says what ran.
  const RUN_LIMIT_MS = 600_000;
  const run = (threads: number) => {
    const argv = [join(dist, 'bench', 'sim.js'), '--nodes', '160', '--files', '800', '--minutes', '1', '--loss', '0.05', '--churn', '6', '--delay-min-ms', '0.5', '--threads', String(threads), '--json'];
    const started = Date.now();
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: RUN_LIMIT_MS, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      const what = `node ${argv.join(' ')}`;
      const how = r.signal ? `killed by ${r.signal}${r.error ? ` (${r.error.message})` : ''}` : `exited ${r.status}`;
      throw new Error(`bench:sim ${how} after ${((Date.now() - started) / 1000).toFixed(1)} s (limit ${RUN_LIMIT_MS / 1000} s) while running:\n  ${what}\nlast stderr:\n${(r.stderr ?? '').slice(-4000)}`);
    }
    return JSON.parse(r.stdout) as Record<string, unknown> & { shard_links: ({ sent: number; received: number } | null)[] };
  };

  test('same seed, same run; the shards make the one-thread run\'s scenario decisions and split its nodes', () => {
    const one = run(1);
    const a = run(2);
    const b = run(2);
    expect(a.run_digest).toBe(b.run_digest);
    expect(a.bytes_sent_per_node_per_s).toBe(b.bytes_sent_per_node_per_s);
    expect(String(a.run_digest)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}$/);
    // Lookups are scenario decisions (seed and lifecycle only): exactly the same ones, each issued by one shard.
    // (How many were answered before their asker left depends on message timing, which differs.)
    expect(a.lookups_issued).toBe(one.lookups_issued);
    expect(a.lookups).toBeGreaterThan(200);
    expect(a.churn_replacements).toBe(one.churn_replacements);
    expect(a.live_nodes_at_end).toBe(one.live_nodes_at_end);
    expect(a.lookup_success_ratio).toBeGreaterThanOrEqual(0.98);
    expect(a.false_removals).toBe(0);
    expect(a.safety_violations).toBe(0);
    // Datagrams crossed between the shards both ways; none was received that was not sent.
    const [s0, s1] = a.shard_links;
    expect(s0!.sent).toBeGreaterThan(1000);
    expect(s1!.sent).toBeGreaterThan(1000);
    expect(s1!.received).toBeLessThanOrEqual(s0!.sent);
    expect(s0!.received).toBeLessThanOrEqual(s1!.sent);
    expect(one.shard_links).toEqual([null]);
    // Every scenario decision (joins with their seeds, publishes, lookups, crashes, churn) alike in both shards and
    // in the one-thread run.
    const decisions = one.scenario_digests as string[];
    expect(decisions).toHaveLength(1);
    expect(a.scenario_digests).toEqual([decisions[0], decisions[0]]);
  }, 3 * 600_000 + 60_000);
});
