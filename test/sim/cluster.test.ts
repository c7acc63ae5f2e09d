import { describe, expect, test } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import type { MemberEntry, Message } from '../../src/core/types.js';
import { MessageType } from '../../src/core/types.js';
import { frozenCodec } from '../../src/sim/real.js';
import { addressOf, Cluster, SlotState } from '../../src/sim/cluster.js';
import { PERFECT_LINKS, type LinkSettings } from '../../src/sim/network.js';
import type { Codec } from '../../src/sim/sim-node.js';
import { FakeNode } from './fake-node.js';
import { jsonCodec } from './json-codec.js';

function setup(links: Partial<LinkSettings> = {}, socketBufferBytes?: number) {
  let encodes = 0;
  let decodes = 0;
  const codec: Codec = {
    wireFormat: false,
    encode: (m: Message) => (encodes++, jsonCodec.encode(m)),
    decode: (b: Uint8Array) => (decodes++, jsonCodec.decode(b)),
  };
  const c = new Cluster({
    seed: 5,
    config: resolveConfig({ groups: 1 }, 'local'),
    links: { ...PERFECT_LINKS, delayMinMs: 1, linkSpreadMs: 0, jitterMs: 0, ...links },
    factory: (o) => new FakeNode(o),
    codec,
    ...(socketBufferBytes !== undefined ? { socketBufferBytes } : {}),
  });
  return { c, encodes: () => encodes, decodes: () => decodes, fake: (slot: number) => c.node(slot) as FakeNode };
}

describe('Cluster', () => {
  test('addresses are distinct simulated IPv4 addresses', () => {
    const seen = new Set<string>();
    const shape = /^10\.(\d+)\.(\d+)\.(\d+):7946$/;
    let bad = 0;
    for (let i = 0; i < 70_000; i++) {
      const a = addressOf(i);
      const m = shape.exec(a);
      if (!m || Number(m[3]) < 1 || Number(m[3]) > 254 || Number(m[2]) > 255 || Number(m[1]) > 255) bad++;
      seen.add(a);
    }
    expect(bad).toBe(0);
    expect(seen.size).toBe(70_000);
    expect(addressOf(0)).toBe('10.0.0.1:7946');
  });

  test('drives ticks at nextDeadline and delivers after the link delay; one encode and one decode per message object', () => {
    const { c, encodes, decodes, fake } = setup();
    const a = c.addNode([]);
    const b = c.addNode([a]);
    const d = c.addNode([a]);
    fake(a).peers = [c.addrs[b]!, c.addrs[d]!];
    c.runUntil(350);
    expect(fake(a).log.filter((e) => e.what === 'tick').map((e) => e.now)).toEqual([100, 200, 300]);
    expect(fake(b).log.filter((e) => e.what === 'recv').map((e) => e.now)).toEqual([101, 201, 301]);
    // a: 3 rounds x 2 peers; b and d: 3 rounds x 1 peer each; a's two copies of a round share one encode
    expect(c.counters.datagramsSent).toBe(12);
    expect(encodes()).toBe(9);
    // ... and the second copy reuses the first copy's decoding
    expect(c.counters.deliveries).toBe(12);
    expect(decodes()).toBe(9);
    expect(c.counters.bytesSent).toBeGreaterThan(0);
    expect(c.incarnation[b]).toBe(c.incarnation[a]! + 1);
  });

  test('a paused node runs nothing; on resume the overdue tick comes first, then the buffered datagrams in order', () => {
    const { c, fake } = setup();
    const a = c.addNode([]);
    const b = c.addNode([a]);
    c.runUntil(150);
    c.pause(a);
    const before = fake(a).log.length;
    c.runUntil(500);
    expect(fake(a).log.length).toBe(before);
    c.resume(a);
    const after = fake(a).log.slice(before);
    expect(after[0]).toEqual({ what: 'tick', now: 500 });
    expect(after.slice(1).map((e) => [e.what, e.hb])).toEqual([['recv', 2], ['recv', 3], ['recv', 4]]);
    expect(after.slice(1).every((e) => e.now === 500)).toBe(true);
    expect(c.state[b]).toBe(SlotState.Running);
  });

  test('a full socket buffer drops what does not fit', () => {
    const { c } = setup({}, 150);
    const a = c.addNode([]);
    c.addNode([a]);
    c.pause(a);
    c.runUntil(1000);
    expect(c.counters.droppedBufferFull).toBeGreaterThan(0);
  });

  test('crash loses the process; datagrams to it are dropped; restart: higher incarnation, tuples from disk', () => {
    const { c, fake } = setup();
    const a = c.addNode([]);
    c.addNode([a]);
    c.publish(a, 'n', 'loc');
    const inc = c.incarnation[a]!;
    c.runUntil(50);
    c.crash(a);
    expect(c.state[a]).toBe(SlotState.Crashed);
    c.runUntil(5000);
    expect(c.counters.droppedDead).toBeGreaterThan(0);
    c.restart(a, [1]);
    expect(c.state[a]).toBe(SlotState.Running);
    expect(c.incarnation[a]).toBeGreaterThan(inc);
    expect(fake(a).opts.published?.map((p) => p.name)).toEqual(['n']);
    expect(c.slotOf(c.addrs[a]!)).toBe(a);
  });

  test('partitions block at send time', () => {
    const { c, fake } = setup();
    const a = c.addNode([]);
    const b = c.addNode([a]);
    c.network.isolate(b);
    c.runUntil(1000);
    expect(fake(a).log.some((e) => e.what === 'recv')).toBe(false);
    expect(c.network.counters.blocked).toBe(10);
  });

  test('scheduled actions run at their time, in FIFO order', () => {
    const { c } = setup();
    const seen: string[] = [];
    c.at(10, () => seen.push('x'));
    c.at(5, () => seen.push('y'));
    c.at(10, () => seen.push('z'));
    c.every(100, 0, 350, (now) => seen.push(`e${now}`));
    c.runUntil(1000);
    expect(seen).toEqual(['e0', 'y', 'x', 'z', 'e100', 'e200', 'e300']);
    expect(c.now).toBe(1000);
  });
});

describe('frozenCodec (the scenario tests run the core on frozen input)', () => {
  test('decodes real datagrams into deep-frozen messages: writing into one throws', () => {
    const msg: Message = {
      type: MessageType.Gossip, cluster: 'c', groups: 1, from: '10.0.0.1:7946', incarnation: 1, heartbeat: 2, sentAt: 3, wantAck: false,
      members: [{ addr: '10.0.0.2:7946', incarnation: 1, heartbeat: 1, ageMs: 0 }], foreign: [], gone: [], tuples: [],
    };
    const r = frozenCodec.decode(frozenCodec.encode(msg));
    if (!r.ok || r.msg.type !== MessageType.Gossip) throw new Error('did not decode');
    const m = r.msg;
    expect(m).toStrictEqual(msg);
    expect(() => (m.members as MemberEntry[]).push(m.members[0]!)).toThrow(TypeError);
    expect(() => ((m.members[0] as { heartbeat: number }).heartbeat = 9)).toThrow(TypeError);
    expect(() => ((m as { heartbeat: number }).heartbeat = 9)).toThrow(TypeError);
  });
});
