/**
 * Every datagram the core builds, encoded by the real codec, fits in datagramBytesMax: gossip heavy with long
 * tuples, join replies and sync chunks of a big group, and a lookup reply for a name with many long locations.
 */
import { expect, test } from 'vitest';
import { groupOfName } from '../../src/core/hash.js';
import { MessageType } from '../../src/core/types.js';
import { encode } from '../../src/wire/index.js';
import { addr, MiniNet } from './harness.js';

test('no datagram exceeds datagramBytesMax, whatever is gossiped', () => {
  const net = new MiniNet({ groups: 2, locationsPerNameMax: 16 });
  const sizes = new Map<number, number>();
  net.onSend = (msg) => {
    const bytes = encode(msg).length;
    sizes.set(msg.type, Math.max(sizes.get(msg.type) ?? 0, bytes));
  };
  for (let i = 0; i < 60; i++) {
    net.add(addr(i), i === 0 ? [] : [addr(0)]);
    net.run(net.now + 50);
  }
  net.run(net.now + 20_000);
  const nodes = net.live();
  const long = (i: number) => `${'x'.repeat(300)}-${i}`;
  // 16 owners of one name, each with a 300-character location: far more than one datagram.
  const shared = 'shared-name';
  for (let i = 0; i < 16; i++) nodes[i]!.publish(shared, long(i), net.now);
  for (let i = 0; i < 200; i++) nodes[i % nodes.length]!.publish(`${long(i)}.name`, long(i), net.now);
  for (const n of nodes) net.flush(n.address, n);
  net.run(net.now + 30_000);
  const asker = nodes.find((n) => n.group !== groupOfName(shared, 2))!;
  asker.lookup(shared, net.now);
  net.flush(asker.address, asker);
  net.run(net.now + 2000);
  const found = net.eventsOf('lookup-done').find((x) => x.e.result.name === shared)!;
  expect(found.e.result.locations.length).toBeGreaterThan(0);
  expect(found.e.result.locations.length).toBeLessThan(16);
  for (const t of [MessageType.Gossip, MessageType.JoinReply, MessageType.SyncChunk, MessageType.LookupReply]) {
    expect(sizes.get(t), `type ${t}`).toBeGreaterThan(0);
  }
  for (const [type, max] of sizes) expect(max, `type ${type}`).toBeLessThanOrEqual(net.cfg.datagramBytesMax);
  // Gossip datagrams were actually filled close to the limit by the tuple burst.
  expect(sizes.get(MessageType.Gossip)!).toBeGreaterThan(net.cfg.datagramBytesMax * 0.7);
});
