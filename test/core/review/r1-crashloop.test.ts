import { expect, test } from 'vitest';
import { groupOfNode } from '../../../src/core/hash.js';
import { addr, askUntil, byGroup, MiniNet, nameIn, start, tally } from './helpers.js';

test('a lone member that restarts twice within settleMs is re-published to both times: no wrong not-found', () => {
  const k = 8;
  const groups = byGroup(24, k);
  const pair = groups.find((g) => g.length === 2)!;
  const big = groups.find((g) => g.length >= 4)!;
  const lone = pair[0]!;
  const net = new MiniNet({ groups: k }, 3);
  start(net, groups.flat().filter((i) => i !== big[0]).reduce((a, i) => a, [big[0]!, ...groups.flat().filter((i) => i !== big[0])]));
  console.log('group of', pair.map(addr));
  const owner = net.nodes.get(addr(big[1]!))!;
  const name = nameIn(groupOfNode(addr(lone), k), k, 'lone');
  owner.publish(name, 'loc-1', net.now);
  net.flush(owner.address, owner);
  net.run(net.now + 60_000); // settled long ago
  const askers = big.slice(0, 4).map(addr);
  // restart #1
  net.crash(addr(lone));
  net.crash(addr(pair[1]!)); // power cut of the whole group; the partner stays down
  net.run(net.now + 2_000);
  net.add(addr(lone), [addr(big[0]!)], 2);
  let t0 = net.now;
  // wait until the owner re-published (group-reset event), then let the lone node crash 2 s later
  while (!net.eventsOf('group-reset').some((x) => x.at >= t0)) net.run(net.now + 100);
  const resetAt = net.eventsOf('group-reset').find((x) => x.at >= t0)!.at;
  net.run(net.now + 1_000);
  console.log('restart#1 reset at', resetAt - t0, 'ms after restart; tuple at lone:', net.nodes.get(addr(lone))!.tupleCount);
  net.crash(addr(lone));
  net.run(net.now + 500);
  net.add(addr(lone), [addr(big[0]!)], 3);
  t0 = net.now;
  const results = askUntil(net, askers, [name], t0 + 40_000);
  const drops = owner.counters.drops['reset-rate'];
  const synced = net.events.filter((x) => x.at >= t0 && x.node === addr(lone) && x.e.type === 'synced').map((x) => x.e);
  console.log('restart#2: owner reset-rate drops', drops, 'synced', JSON.stringify(synced), 'answers', tally(results));
  expect(results.filter((r) => r.status === 2).length).toBe(0);
});
