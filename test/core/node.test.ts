/**
 * Protocol behaviour of KelipsNode on the in-memory network: exact assertions, virtual time, no codec.
 * The seeded simulator (test/sim) covers the same logic at scale and under faults.
 */
import { describe, expect, test } from 'vitest';
import { resolveConfig, timeouts } from '../../src/core/config.js';
import { groupOfName } from '../../src/core/hash.js';
import { KelipsNode } from '../../src/core/node.js';
import { SeededRng } from '../../src/core/rng.js';
import { LookupStatus, MemberState, MessageType, type GossipMessage } from '../../src/core/types.js';
import { addr, MiniNet } from './harness.js';

function cluster(n: number, groups: number, seed = 1): MiniNet {
  const net = new MiniNet({ groups }, seed);
  for (let i = 0; i < n; i++) {
    net.add(addr(i), i === 0 ? [] : [addr(0)]);
    net.run(net.now + 100);
  }
  net.run(net.now + 40_000);
  return net;
}

function peersOf(net: MiniNet, n: KelipsNode): KelipsNode[] {
  return net.live().filter((m) => m !== n && m.group === n.group);
}

/** A name that hashes to `group`. */
/** `items`, after asserting there is at least one: an assertion in a loop over nothing would check nothing. */
function some<T>(items: T[], what: string): T[] {
  expect(items.length, what).toBeGreaterThan(0);
  return items;
}

function nameIn(group: number, k: number, tag = ''): string {
  for (let i = 0; ; i++) if (groupOfName(`${tag}f${i}`, k) === group) return `${tag}f${i}`;
}

describe('KelipsNode', () => {
  test('a cluster converges: complete views and c contacts in every foreign group', () => {
    const net = cluster(30, 3);
    for (const n of net.live()) {
      for (const m of peersOf(net, n)) expect(n.memberState(m.address)).toBe(MemberState.Alive);
      expect(n.groupSize).toBe(peersOf(net, n).length + 1);
      for (let g = 0; g < 3; g++) if (g !== n.group) expect(n.contactAddrs(g)).toHaveLength(2);
      expect(n.joined && n.synced).toBe(true);
    }
  });

  test('a crashed member is suspected, then removed everywhere within the fail timeout plus a round', () => {
    const net = cluster(24, 2);
    const victim = net.live()[5]!;
    const crashAt = net.now;
    net.crash(victim.address);
    const peers = some(peersOf(net, victim), "peers of the victim");
    const { failMs, suspectMs } = timeouts(net.cfg, peers.length + 1);
    net.run(crashAt + failMs + 2 * net.cfg.gossipIntervalMs);
    const removed = net.eventsOf('member-removed').filter((x) => x.e.addr === victim.address);
    expect(removed.map((x) => x.node).sort()).toEqual(peers.map((p) => p.address).sort());
    for (const r of removed) {
      expect(r.e.reason).toBe('failed');
      expect(r.at - crashAt).toBeLessThanOrEqual(failMs + net.cfg.gossipIntervalMs);
    }
    const suspected = net.eventsOf('member-suspected').filter((x) => x.e.addr === victim.address);
    expect(new Set(suspected.map((s) => s.node))).toEqual(new Set(peers.map((p) => p.address)));
    for (const s of suspected) expect(s.at - crashAt).toBeGreaterThanOrEqual(suspectMs - net.cfg.gossipIntervalMs);
    // Nobody else was removed.
    expect(net.eventsOf('member-removed').filter((x) => x.e.addr !== victim.address)).toEqual([]);
  });

  test('a graceful leave removes the node at once', () => {
    const net = cluster(16, 2);
    const leaver = net.live()[3]!;
    const at = net.now;
    leaver.leave(net.now);
    net.flush(leaver.address, leaver);
    net.crash(leaver.address);
    net.run(at + 5 * net.cfg.gossipIntervalMs);
    const removed = net.eventsOf('member-removed').filter((x) => x.e.addr === leaver.address);
    expect(removed.length).toBe(peersOf(net, leaver).length);
    expect(removed.every((r) => r.e.reason === 'left')).toBe(true);
  });

  test('a restarted node (higher incarnation) is recognised as newer and its tuples come back', () => {
    const net = cluster(16, 2);
    const node = net.live()[4]!;
    const name = nameIn(1 - node.group, 2, 'r');
    node.publish(name, 'disk-1', net.now);
    net.flush(node.address, node);
    net.run(net.now + 5000);
    const published = node.publishedTuples();
    net.crash(node.address);
    net.run(net.now + 3000);
    // A restart: same address, higher incarnation, published tuples restored from the data dir.
    const restored = net.add(node.address, [addr(0)], node.incarnation + 1, published);
    net.run(net.now + 20_000);
    const rejoined = net.eventsOf('member-rejoined').filter((x) => x.e.addr === node.address);
    expect(rejoined.length).toBeGreaterThan(0);
    for (const p of some(peersOf(net, restored), 'peers of the restarted node')) expect(p.memberHeartbeat(restored.address)?.incarnation).toBe(node.incarnation + 1);
    const holder = net.live().find((n) => n.group === groupOfName(name, 2) && n !== restored)!;
    expect(holder.tupleVersion(name, restored.address)).toEqual({ versionIncarnation: node.incarnation + 1, versionSeq: 1, deleted: false });
  });

  test('lookups: 0 hops in the own group, 1 hop through a contact, found / not found', () => {
    const net = cluster(20, 4);
    const asker = net.live()[0]!;
    const owner = net.live()[7]!;
    const foreign = nameIn((asker.group + 1) % 4, 4, 'x');
    const local = nameIn(asker.group, 4, 'y');
    owner.publish(foreign, 'loc-a', net.now);
    owner.publish(local, 'loc-b', net.now);
    net.flush(owner.address, owner);
    net.run(net.now + 15_000);
    for (const name of [foreign, local, 'does-not-exist']) asker.lookup(name, net.now);
    net.flush(asker.address, asker);
    net.run(net.now + 2000);
    const results = net.eventsOf('lookup-done').map((x) => x.e.result);
    const by = (n: string) => results.find((r) => r.name === n)!;
    expect(by(foreign)).toMatchObject({ status: LookupStatus.Found, hops: 1, locations: [{ location: 'loc-a', owner: owner.address }] });
    expect(by(local)).toMatchObject({ status: LookupStatus.Found, hops: 0 });
    expect(by('does-not-exist').status).toBe(LookupStatus.NotFound);
  });

  test('when a contact has died, the lookup times out on it, tries the other and replaces the dead one', () => {
    const net = cluster(24, 2);
    const asker = net.live()[0]!;
    const other = 1 - asker.group;
    const [c1] = asker.contactAddrs(other);
    net.crash(c1!);
    const name = nameIn(other, 2, 'z');
    const owner = net.live().find((n) => n.group === other)!;
    owner.publish(name, 'here', net.now);
    net.flush(owner.address, owner);
    net.run(net.now + 10_000);
    for (let i = 0; i < 4; i++) {
      asker.lookup(name, net.now);
      net.flush(asker.address, asker);
      net.run(net.now + 1500);
    }
    const results = net.eventsOf('lookup-done').filter((x) => x.node === asker.address).map((x) => x.e.result);
    expect(results.every((r) => r.status === LookupStatus.Found)).toBe(true);
    expect(asker.contactAddrs(other)).not.toContain(c1);
    expect(net.eventsOf('contact-replaced').some((x) => x.node === asker.address && x.e.old === c1)).toBe(true);
  });

  test('a group with no live member answers unavailable within the lookup deadline', () => {
    const net = cluster(12, 3);
    const asker = net.live()[0]!;
    const dead = (asker.group + 1) % 3;
    for (const n of net.live()) if (n.group === dead) net.crash(n.address);
    const start = net.now;
    asker.lookup(nameIn(dead, 3, 'u'), net.now);
    net.flush(asker.address, asker);
    net.run(net.now + net.cfg.lookupDeadlineMs + 1000);
    const r = net.eventsOf('lookup-done').find((x) => x.node === asker.address)!;
    expect(r.e.result.status).toBe(LookupStatus.Unavailable);
    expect(r.at - start).toBeLessThanOrEqual(net.cfg.lookupDeadlineMs);
  });

  test('unpublish hides the tuple everywhere in its group', () => {
    const net = cluster(16, 2);
    const owner = net.live()[2]!;
    const name = nameIn(1 - owner.group, 2, 'd');
    owner.publish(name, 'l', net.now);
    net.flush(owner.address, owner);
    net.run(net.now + 10_000);
    owner.unpublish(name, net.now);
    net.flush(owner.address, owner);
    net.run(net.now + 10_000);
    const holders = some(net.live().filter((n) => n.group === groupOfName(name, 2)), "members of the name's group");
    for (const n of holders) expect(n.tupleVersion(name, owner.address)?.deleted, n.address).toBe(true);
  });

  test('datagrams from another cluster or another k are dropped and counted, never merged', () => {
    const net = cluster(6, 2);
    const n = net.live()[0]!;
    const before = n.groupSize;
    const alien: GossipMessage = { type: MessageType.Gossip, cluster: 'other', groups: 2, from: '10.9.9.9:7946', incarnation: 1, heartbeat: 1, sentAt: 0, wantAck: true, members: [], foreign: [], gone: [], tuples: [] };
    n.handle('10.9.9.9:7946', { ...alien }, net.now);
    n.handle('10.9.9.9:7946', { ...alien, cluster: net.cfg.cluster, groups: 3 }, net.now);
    expect(n.counters.drops['cluster-mismatch']).toBe(1);
    expect(n.counters.drops['groups-mismatch']).toBe(1);
    expect(n.groupSize).toBe(before);
    expect(n.drain().events.filter((e) => e.type === 'mismatch')).toHaveLength(1);
  });

  test('a paused process forgives its own stall instead of removing everyone', () => {
    const net = cluster(16, 2);
    const sleeper = net.live()[1]!;
    const fail = timeouts(net.cfg, sleeper.groupSize).failMs;
    net.crash(sleeper.address); // stop delivering to it and stop its timers
    net.run(net.now + fail + 5000);
    net.down.delete(sleeper.address); // resume
    net.run(net.now + 20_000);
    const mine = net.eventsOf('member-removed').filter((x) => x.node === sleeper.address);
    expect(mine).toEqual([]);
    expect(net.eventsOf('local-stall').some((x) => x.node === sleeper.address)).toBe(true);
    // The others removed it; it noticed, raised its incarnation and is back in every view.
    expect(net.eventsOf('incarnation-bumped').some((x) => x.node === sleeper.address)).toBe(true);
    for (const p of some(peersOf(net, sleeper), 'peers of the paused node')) expect(p.memberState(sleeper.address)).toBe(MemberState.Alive);
  });

  test('commands reject bad arguments with a stable code', () => {
    const n = new KelipsNode({ config: resolveConfig(), self: addr(0), incarnation: 1, rng: new SeededRng(1), now: 0, seeds: [], founder: true, firstStart: true });
    expect(() => n.lookup('', 0)).toThrow(expect.objectContaining({ code: 'KELIPS_INVALID_ARGUMENT' }));
    expect(() => n.publish('x'.repeat(513), 'l', 0)).toThrow(/name must be 1 to 512 characters/);
    expect(() => n.publish('ok', '', 0)).toThrow(/location/);
  });
});
