import { describe, expect, it } from 'vitest';
import { resolveConfig, timeouts } from '../../src/core/config.js';
import { HEAP_BYTES, plan, recommendGroups } from '../../src/cli/plan.js';

const lan = resolveConfig();
const base = { nameBytes: 32, locationBytes: 48, config: lan };

describe('kelips-ctl plan math', () => {
  const ks: [number, number][] = [
    [1, 1],
    [2, 1],
    [3, 2],
    [16, 4],
    [100, 10],
    [1000, 32],
    [10_000, 100],
    [1_000_000, 1000],
  ];
  for (const [n, k] of ks) it(`recommends k=${k} for N=${n} (round(sqrt N))`, () => expect(recommendGroups(n)).toBe(k));

  it('memory follows view N/k + contacts (c + spares)(k-1) + filetuples F/k', () => {
    const p = plan({ ...base, nodes: 10_000, files: 1_000_000 });
    expect(p.groups).toBe(100);
    expect(p.groupSize).toBe(100);
    expect(p.contactsPerNode).toBe((lan.contactsPerGroup + lan.candidatesPerGroup) * 99);
    expect(p.tuplesPerNode).toBe(10_000);
    expect(p.memory.viewBytes).toBe(100 * HEAP_BYTES.member);
    expect(p.memory.contactsBytes).toBe(6 * 99 * HEAP_BYTES.contact);
    expect(p.memory.filetuplesBytes).toBe(10_000 * (HEAP_BYTES.tupleBase + 80));
    expect(p.memory.publishedBytes).toBe(100 * (HEAP_BYTES.ownedBase + 80));
    const m = p.memory;
    expect(m.totalBytes).toBe(m.viewBytes + m.contactsBytes + m.filetuplesBytes + m.publishedBytes);
  });

  it('uses the core timeouts for the group size', () => {
    const p = plan({ ...base, nodes: 961, files: 0 });
    expect(p.groups).toBe(31);
    expect(p.logRounds).toBe(5);
    expect(p.timeouts).toEqual({ suspectMs: timeouts(lan, 31).suspectMs, failMs: timeouts(lan, 31).failMs });
    expect(p.timeouts.failMs).toBe(6 * 5 * 1000);
  });

  it('a lone node sends nothing in the background', () => {
    const p = plan({ ...base, nodes: 1, files: 0 });
    expect(p.bandwidth.datagramsPerSecond).toBe(0);
    expect(p.bandwidth.bytesPerSecond).toBe(0);
  });

  it('gossip costs fanout + acks + probe and its ack per round plus anti-entropy, and scales with the round length', () => {
    // Per round: 2 in-group datagrams, 2/memberRttEvery acks, one probe and its ack; anti-entropy: 2 datagrams.
    const perRound = (c: typeof lan) => c.gossipFanout + c.gossipFanout / c.memberRttEvery + 2;
    const ae = (c: typeof lan) => 2000 / c.antiEntropyIntervalMs;
    const p = plan({ ...base, nodes: 1000, files: 0 });
    expect(p.bandwidth.datagramsPerSecond).toBeCloseTo(perRound(lan) + ae(lan), 6);
    const slowCfg = resolveConfig({ gossipIntervalMs: 2000 });
    const slow = plan({ ...base, nodes: 1000, files: 0, config: slowCfg });
    expect(slow.bandwidth.datagramsPerSecond).toBeCloseTo(perRound(slowCfg) / 2 + ae(slowCfg), 6);
    expect(p.bandwidth.bytesPerSecond).toBeGreaterThan(1000);
    expect(p.bandwidth.bytesPerSecond).toBeLessThan(6 * 1428 + 1000); // no datagram over the budget
  });

  it('tuple news grows with F/k and warns when it outgrows the gossip room', () => {
    const small = plan({ ...base, nodes: 1000, files: 10_000 });
    const big = plan({ ...base, nodes: 1000, files: 100_000_000 });
    expect(big.bandwidth.tupleNewsBytesPerSecond).toBeCloseTo(small.bandwidth.tupleNewsBytesPerSecond * 10_000, 0);
    expect(small.warnings).toEqual([]);
    expect(big.bandwidth.newsLoad).toBeGreaterThan(1);
    expect(big.warnings.join()).toMatch(/gossip room/);
  });

  it('evaluates an explicit k and warns about empty groups', () => {
    const p = plan({ ...base, nodes: 4, files: 0, groups: 8 });
    expect(p.groups).toBe(8);
    expect(p.groupsRecommended).toBe(2);
    expect(p.warnings.join()).toMatch(/empty/);
  });
});
