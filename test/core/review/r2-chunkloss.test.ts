import { expect, test } from 'vitest';
import { groupOfNode } from '../../../src/core/hash.js';
import { MessageType } from '../../../src/core/types.js';
import type { Message } from '../../../src/core/types.js';
import { addr, byGroup, MiniNet, namesIn, start } from './helpers.js';

test('a pull that loses a SyncChunk is checked again before the node holds the state: no wrong not-found', () => {
  const k = 2;
  const groups = byGroup(10, k);
  const g0 = groups[0]!;
  const g1 = groups[1]!;
  const net = new MiniNet({ groups: k }, 7);
  start(net, [...g0, ...g1]);
  const owner = net.nodes.get(addr(g1[0]!))!;
  const names = namesIn(groupOfNode(addr(g0[0]!), k), k, 'chunky', 80);
  for (const n of names) owner.publish(n, `loc-of-${n}`, net.now);
  net.flush(owner.address, owner);
  net.run(net.now + 60_000);
  const victim = g0[1]!;
  net.crash(addr(victim));
  net.run(net.now + 1_000);
  const v = net.add(addr(victim), [addr(g0[0]!)], 2);
  let dropped = 0;
  const orig = v.handle.bind(v);
  v.handle = (from: string, msg: Message, now: number) => {
    if (msg.type === MessageType.SyncChunk && !msg.last && dropped === 0 && msg.tuples.length > 0) { dropped = msg.tuples.length; return; }
    orig(from, msg, now);
  };
  while (!v.synced) net.run(net.now + 50);
  const synced = net.events.filter((x) => x.node === v.address && x.e.type === 'synced').pop()!;
  const from = net.events.length;
  for (const n of names) { v.lookup(n, net.now); net.flush(v.address, v); }
  const res = net.events.slice(from).filter((x) => x.e.type === 'lookup-done').map((x) => (x.e as any).result.status);
  const nf = res.filter((s) => s === 2).length;
  console.log('chunk of', dropped, 'tuples lost;', JSON.stringify(synced.e), '; local lookups right after: NotFound', nf, 'of', names.length);
  // how long until anti-entropy repairs it
  let t = net.now; while (v.tupleCount < names.length && net.now < t + 60_000) net.run(net.now + 100);
  console.log('repaired after', net.now - t, 'ms');
  expect(nf).toBe(0);
});
