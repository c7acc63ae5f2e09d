import { expect, test } from 'vitest';
import { addr, askUntil, byGroup, MiniNet, nameIn, start, tally } from './helpers.js';

test('a member paused (SIGSTOP / VM freeze) while a tuple is published pulls the state again when it resumes: no wrong not-found', () => {
  const k = 2;
  const groups = byGroup(12, k);
  const g = groups.find((x) => x.length >= 3)!;
  const other = groups.find((x) => x !== g)!;
  const net = new MiniNet({ groups: k }, 5);
  start(net, [...g, ...other]);
  const c = net.nodes.get(addr(g[2]!))!;
  const owner = net.nodes.get(addr(other[0]!))!;
  const name = nameIn(c.group, k, 'paused');
  net.crash(c.address); // paused: no ticks, datagrams to it lost
  net.run(net.now + 1_000);
  const id = owner.publish(name, 'here', net.now);
  net.flush(owner.address, owner);
  net.run(net.now + 30_000);
  console.log('publish result', JSON.stringify(net.eventsOf('publish-done').find((x) => x.e.result.id === id)!.e.result));
  net.down.delete(c.address); // resumed, same process
  const from = net.events.length;
  const results = askUntil(net, [c.address], [name], net.now + 10_000, 100);
  const firstFound = results.findIndex((r) => r.status === 1);
  console.log('paused member, local lookups after resume:', tally(results), 'first Found after', firstFound * 100, 'ms; synced', c.synced,
    'stall event', JSON.stringify(net.events.slice(from).find((x) => x.e.type === 'local-stall')?.e));
  expect(results.filter((r) => r.status === 2).length).toBe(0);
});

