import { expect, test } from 'vitest';
import { addr, byGroup, MiniNet, namesIn, start } from './helpers.js';

for (const seed of [3, 4, 5]) test(`a lone member restarts under 10% loss: a lost re-publication is sent again within recoverMs (seed ${seed})`, () => {
  const k = 2;
  const groups = byGroup(14, k);
  const big = groups.find((g) => g.length >= 6)!;
  const lone = groups.find((g) => g !== big)![0]!;
  const net = new MiniNet({ groups: k }, seed);
  start(net, [...big.slice(0, 6), lone]);
  const g = net.nodes.get(addr(lone))!.group;
  const names = namesIn(g, k, 'lossy', 40);
  names.forEach((n, i) => { const o = net.nodes.get(addr(big[i % 4]!))!; o.publish(n, 'x', net.now); net.flush(o.address, o); });
  net.run(net.now + 60_000);
  net.loss = 0.1;
  net.crash(addr(lone));
  net.run(net.now + 2_000);
  const v = net.add(addr(lone), [addr(big[0]!)], 2);
  while (!v.synced) net.run(net.now + 100);
  const synced = net.events.filter((x) => x.node === v.address && x.e.type === 'synced').pop()!.e;
  net.loss = 0;
  net.run(net.now + 500);
  const from = net.events.length;
  for (const n of names) { v.lookup(n, net.now); net.flush(v.address, v); }
  const nf = net.events.slice(from).filter((x) => x.e.type === 'lookup-done' && (x.e as any).result.status === 2).length;
  net.run(net.now + 120_000);
  const from2 = net.events.length;
  for (const n of names) { v.lookup(n, net.now); net.flush(v.address, v); }
  const nf2 = net.events.slice(from2).filter((x) => x.e.type === 'lookup-done' && (x.e as any).result.status === 2).length;
  console.log(`seed ${seed}:`, JSON.stringify(synced), `NotFound right after recovery ${nf}/40, still after 2 more minutes ${nf2}/40`);
  expect(nf).toBe(0);
});
