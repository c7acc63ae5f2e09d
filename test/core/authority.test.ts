/**
 * "Not found" is a promise (src/core/join.ts): a node answers it only while it holds its group's state. These runs
 * restart the members of a group in every way that used to lose it, and check every answer given meanwhile.
 */
import { describe, expect, test } from 'vitest';
import { groupOfName, groupOfNode } from '../../src/core/hash.js';
import type { KelipsNode } from '../../src/core/node.js';
import type { Address, LookupResult } from '../../src/core/types.js';
import { LookupStatus } from '../../src/core/types.js';
import { addr, MiniNet } from './harness.js';

/** Addresses addr(0..n-1) grouped by their affinity group. */
function byGroup(n: number, k: number): number[][] {
  const out: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) out[groupOfNode(addr(i), k)]!.push(i);
  return out;
}

function nameIn(group: number, k: number, tag: string): string {
  for (let i = 0; ; i++) if (groupOfName(`${tag}${i}`, k) === group) return `${tag}${i}`;
}

/** Start nodes `ids` (the first founds the cluster) and let them converge. */
function start(net: MiniNet, ids: number[]): void {
  for (const i of ids) {
    net.add(addr(i), i === ids[0] ? [] : [addr(ids[0]!)]);
    net.run(net.now + 100);
  }
  net.run(net.now + 30_000);
}

/** Lookups of `name` from `askers` every `everyMs` until `until`; returns every result. */
function askUntil(net: MiniNet, askers: Address[], name: string, until: number, everyMs = 250): LookupResult[] {
  const results: LookupResult[] = [];
  const from = net.events.length;
  while (net.now < until) {
    for (const a of askers) {
      const n = net.nodes.get(a)!;
      n.lookup(name, net.now);
      net.flush(a, n);
    }
    net.run(net.now + everyMs);
  }
  net.run(net.now + 3_000); // let the last lookups finish
  for (const x of net.events.slice(from)) if (x.e.type === 'lookup-done' && x.e.result.name === name) results.push(x.e.result);
  return results;
}

function count(results: LookupResult[], status: LookupStatus): number {
  return results.filter((r) => r.status === status).length;
}

describe('a restarted group never answers a wrong "not found"', () => {
  test('the lone member of a group is killed and restarts: unavailable meanwhile, then found within a few rounds', () => {
    const k = 2;
    const groups = byGroup(12, k);
    const big = groups.find((g) => g.length >= 4)!;
    const lone = groups.find((g) => g !== big)![0]!;
    const net = new MiniNet({ groups: k }, 3);
    start(net, [...big.slice(0, 4), lone]);
    const owner = net.nodes.get(addr(big[1]!))!;
    const name = nameIn(groupOfNode(addr(lone), k), k, 'lone');
    owner.publish(name, 'loc-1', net.now);
    net.flush(owner.address, owner);
    net.run(net.now + 5_000);
    const askers = big.slice(0, 4).map(addr);
    expect(count(askUntil(net, askers, name, net.now + 2_000), LookupStatus.Found)).toBeGreaterThan(0);

    net.crash(addr(lone));
    net.run(net.now + 2_000);
    const restartedAt = net.now;
    const eventsFrom = net.events.length;
    net.add(addr(lone), [addr(big[0]!)], 2);
    const results = askUntil(net, askers, name, restartedAt + 40_000);
    expect(count(results, LookupStatus.NotFound)).toBe(0);
    const synced = net.events.slice(eventsFrom).find((x) => x.node === addr(lone) && x.e.type === 'synced');
    expect(synced?.e).toMatchObject({ how: 'recovered' });
    // Found again, and within 5 s of the restarted node holding its group's state.
    const found = results.filter((r) => r.status === LookupStatus.Found);
    expect(found.length).toBeGreaterThan(0);
    const firstFoundAt = net.events.slice(eventsFrom).find((x) => x.e.type === 'lookup-done' && x.e.result.name === name && x.e.result.status === LookupStatus.Found)!.at;
    expect(firstFoundAt - synced!.at).toBeLessThanOrEqual(5_000);
    expect(net.eventsOf('group-reset').filter((x) => x.node === owner.address && x.at >= restartedAt).length).toBeGreaterThan(0);
  });

  test('every member of a group restarts at once: no wrong "not found", every tuple back', () => {
    const k = 3;
    const groups = byGroup(18, k);
    const target = groups.find((g) => g.length >= 3)!;
    const others = groups.filter((g) => g !== target).flat();
    const net = new MiniNet({ groups: k }, 5);
    start(net, [...others, ...target]);
    const names: string[] = [];
    others.slice(0, 4).forEach((o, j) => {
      const n = net.nodes.get(addr(o))!;
      const name = nameIn(groupOfNode(addr(target[0]!), k), k, `all${j}-`);
      names.push(name);
      n.publish(name, `loc-${j}`, net.now);
      net.flush(n.address, n);
    });
    net.run(net.now + 10_000);
    for (const t of target) net.crash(addr(t));
    net.run(net.now + 1_000);
    const restartedAt = net.now;
    for (const t of target) net.add(addr(t), [addr(others[0]!)], 2);
    const askers = others.slice(4, 8).map(addr);
    const results = names.flatMap((name) => askUntil(net, askers, name, restartedAt + 30_000 / names.length));
    expect(count(results, LookupStatus.NotFound)).toBe(0);
    net.run(net.now + 10_000);
    const after = names.flatMap((name) => askUntil(net, askers, name, net.now + 500));
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.status === LookupStatus.Found)).toBe(true);
  });

  test('a restarted member of a live group pulls the state from a member that holds it', () => {
    const k = 2;
    const net = new MiniNet({ groups: k }, 7);
    const ids = Array.from({ length: 10 }, (_, i) => i);
    start(net, ids);
    const victim = ids.find((i) => i !== 0)!;
    net.crash(addr(victim));
    net.run(net.now + 1_000);
    const from = net.events.length;
    net.add(addr(victim), [addr(0)], 2);
    net.run(net.now + 10_000);
    const synced = net.events.slice(from).filter((x) => x.node === addr(victim) && x.e.type === 'synced');
    expect(synced.map((x) => x.e)).toMatchObject([{ how: 'pulled' }]);
    expect(net.events.slice(from).filter((x) => x.e.type === 'recovering')).toEqual([]);
  });
});

describe('publish means replicated', () => {
  test('a publish is stored once two members of the group hold it', () => {
    const k = 2;
    const net = new MiniNet({ groups: k }, 11);
    start(net, Array.from({ length: 12 }, (_, i) => i));
    const owner = net.nodes.get(addr(0))!;
    for (const g of [owner.group, 1 - owner.group]) {
      const name = nameIn(g, k, `rep${g}-`);
      const id = owner.publish(name, 'here', net.now);
      net.flush(owner.address, owner);
      net.run(net.now + 3_000);
      const done = net.eventsOf('publish-done').find((x) => x.e.result.id === id)!;
      expect(done.e.result).toMatchObject({ status: 'stored', replicas: 2 });
      const holders = net.live().filter((n) => n.group === g && n.tupleVersion(name, owner.address) !== null);
      expect(holders.length).toBeGreaterThanOrEqual(2);
    }
  });

  test('in a group of one the reply says the copy is single', () => {
    const k = 2;
    const groups = byGroup(12, k);
    const big = groups.find((g) => g.length >= 3)!;
    const lone = groups.find((g) => g !== big)![0]!;
    const net = new MiniNet({ groups: k }, 13);
    start(net, [...big.slice(0, 3), lone]);
    const owner = net.nodes.get(addr(big[0]!))!;
    const id = owner.publish(nameIn(groupOfNode(addr(lone), k), k, 'single'), 'here', net.now);
    net.flush(owner.address, owner);
    net.run(net.now + 3_000);
    expect(net.eventsOf('publish-done').find((x) => x.e.result.id === id)!.e.result).toMatchObject({ status: 'stored', replicas: 1, groupSize: 1, storedAt: addr(lone) });
  });
});

describe('joining', () => {
  test('seeds that never answer: never joined, never founds a cluster, retries with growing waits', () => {
    const net = new MiniNet({ groups: 2 }, 17);
    const n: KelipsNode = net.add(addr(1), [addr(99)], 1);
    const sends: number[] = [];
    net.onSend = (msg, from) => {
      if (from === n.address) sends.push(net.now);
    };
    net.run(600_000);
    expect(n.joined).toBe(false);
    expect(n.synced).toBe(false);
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    expect(gaps.length).toBeGreaterThan(5);
    expect(Math.max(...gaps)).toBe(net.cfg.joinRetryMaxMs);
    expect(gaps[0]).toBe(net.cfg.joinRetryMs);
    const pending = net.eventsOf('join-pending');
    expect(pending.length).toBeGreaterThan(2);
    expect(pending.map((x) => x.e.attempts)).toEqual(pending.map((_, i) => 4 * 2 ** i));
    // A local lookup of its own group is never "not found".
    n.lookup('anything', net.now);
    net.flush(n.address, n);
    net.run(net.now + 5_000);
    expect(net.eventsOf('lookup-done').map((x) => x.e.result.status)).toEqual([LookupStatus.Unavailable]);
  });

  test('two clusters started apart merge when one node joins the other', () => {
    const k = 2;
    const net = new MiniNet({ groups: k }, 19);
    const a = Array.from({ length: 8 }, (_, i) => i);
    const b = Array.from({ length: 8 }, (_, i) => 100 + i);
    start(net, a);
    start(net, b);
    const ownerB = net.nodes.get(addr(b[1]!))!;
    const names = [0, 1].map((g) => nameIn(g, k, 'merge'));
    for (const name of names) ownerB.publish(name, 'in-b', net.now);
    net.flush(ownerB.address, ownerB);
    net.run(net.now + 10_000);
    const joiner = net.nodes.get(addr(a[2]!))!;
    joiner.join([addr(b[3]!)], net.now);
    net.flush(joiner.address, joiner);
    net.run(net.now + 60_000);
    for (const n of net.live()) expect(n.groupSize).toBe(net.live().filter((m) => m.group === n.group).length);
    const results = names.flatMap((name) => askUntil(net, a.map(addr), name, net.now + 300));
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.status === LookupStatus.Found)).toBe(true);
  });
});
