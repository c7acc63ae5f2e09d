import { expect, test } from 'vitest';
import { addr, askUntil, byGroup, MiniNet, nameIn, start, tally } from './helpers.js';

test('a recovering lone member whose contacts in the owner\'s group are dead still reaches the owner (through candidates): no wrong not-found', () => {
  const k = 8;
  const groups = byGroup(30, k);
  console.log('sizes', groups.map((g) => g.length).join(','));
  const lone = groups.find((g) => g.length === 1) ?? groups.find((g) => g.length === 2)!;
  const H = groups.find((g) => g.length >= 4)!;
  const net = new MiniNet({ groups: k }, 13);
  const seedId = groups.flat().find((i) => !lone.includes(i) && !H.includes(i))!;
  start(net, [seedId, ...groups.flat().filter((i) => i !== seedId)]);
  for (const i of lone.slice(1)) net.crash(addr(i)); // make the group a lone one
  net.run(net.now + 120_000);
  const L = net.nodes.get(addr(lone[0]!))!;
  const seed = net.nodes.get(addr(seedId))!;
  const hGroup = net.nodes.get(addr(H[0]!))!.group;
  const seedContactsH = seed.contactAddrs(hGroup);
  const owner = net.nodes.get(H.map(addr).find((a) => !seedContactsH.includes(a))!)!;
  const name = nameIn(L.group, k, 'stale');
  owner.publish(name, 'x', net.now); net.flush(owner.address, owner);
  net.run(net.now + 30_000);
  // the seed's contacts for H crash, and right after, the lone member restarts through that seed
  for (const a of seedContactsH) net.crash(a);
  net.crash(L.address);
  net.run(net.now + 1_000);
  const L2 = net.add(L.address, [seed.address], 2);
  while (L2.recoveringUntil === null && !L2.synced) net.run(net.now + 100);
  console.log('L contacts for H when it announces', L2.contactAddrs(hGroup), 'dead:', seedContactsH, 'owner', owner.address);
  while (!L2.synced) net.run(net.now + 100);
  const askers = groups.flat().filter((i) => !lone.includes(i) && !H.includes(i)).slice(0, 4).map(addr);
  const res = askUntil(net, askers, [name], net.now + 20_000, 500);
  console.log('owner group-resets', owner.counters.groupResets, 'synced', JSON.stringify(net.eventsOf('synced').filter((x) => x.node === L.address).pop()!.e), 'answers', tally(res));
  expect(res.filter((r) => r.status === 2).length).toBe(0);
});
