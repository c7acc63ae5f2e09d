import { afterEach, describe, expect, it } from 'vitest';
import type { Output } from '../../src/core/api.js';
import { MessageType, type Address, type Message } from '../../src/core/types.js';
import { Driver, type DrivenCore } from '../../src/net/driver.js';
import type { DatagramHandler, Transport, TransportStats } from '../../src/net/transport.js';
import { ClientMessageType, ClientOp, encode } from '../../src/wire/index.js';

class FakeTransport implements Transport {
  readonly localAddress = '127.0.0.1:1';
  readonly stats: TransportStats = { sendErrors: 0, badDestination: 0 };
  sent: [Address, Buffer][] = [];
  handler: DatagramHandler = () => {};
  send(to: Address, bytes: Uint8Array): void {
    this.sent.push([to, Buffer.from(bytes)]);
  }
  onDatagram(h: DatagramHandler): void {
    this.handler = h;
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const header = { cluster: 'c', groups: 2, from: '127.0.0.1:2', incarnation: 1, heartbeat: 1 };
const leave: Message = { type: MessageType.Leave, ...header };

class FakeCore implements DrivenCore {
  handled: Message[] = [];
  ticks: number[] = [];
  deadline = Infinity;
  out: Output = { sends: [], events: [] };
  handle(_from: Address, msg: Message, _now: number): void {
    this.handled.push(msg);
    this.out.sends.push({ to: '127.0.0.1:3', msg: leave }, { to: '127.0.0.1:4', msg: leave });
    this.out.events.push({ type: 'left' });
  }
  tick(now: number): void {
    this.ticks.push(now);
    this.deadline = Infinity;
  }
  drain(): Output {
    const o = this.out;
    this.out = { sends: [], events: [] };
    return o;
  }
  nextDeadline(): number {
    return this.deadline;
  }
}

const drivers: Driver[] = [];
afterEach(() => {
  for (const d of drivers.splice(0)) d.stop();
});

function setup(clock = () => 0) {
  const core = new FakeCore();
  const transport = new FakeTransport();
  const events: string[] = [];
  const clients: [number, Address][] = [];
  const d = new Driver({
    core,
    transport,
    datagramBytesMax: 1400,
    clock,
    onEvents: (es) => events.push(...es.map((e) => e.type)),
    onClientRequest: (req, from) => clients.push([req.op, from]),
  });
  drivers.push(d);
  return { core, transport, events, clients, d };
}

describe('Driver', () => {
  it('decodes, hands node messages to the core, encodes its sends once per message, delivers events', () => {
    const { core, transport, events, d } = setup();
    transport.handler(encode(leave), '127.0.0.1:2');
    expect(core.handled).toEqual([leave]);
    expect(transport.sent.map(([to]) => to)).toEqual(['127.0.0.1:3', '127.0.0.1:4']);
    expect(transport.sent[0]![1].equals(encode(leave))).toBe(true);
    expect(events).toEqual(['left']);
    expect(d.net.received.leave).toBe(1);
    expect(d.net.sent.leave).toBe(2);
    expect(d.net.bytesSent).toBe(2 * encode(leave).length);
  });

  it('routes client requests to the client handler, never to the core', () => {
    const { core, transport, clients, d } = setup();
    transport.handler(encode({ type: ClientMessageType.Request, id: 7, op: ClientOp.Ping }), '127.0.0.1:9');
    expect(clients).toEqual([[ClientOp.Ping, '127.0.0.1:9']]);
    expect(core.handled).toEqual([]);
    expect(d.net.received['client-request']).toBe(1);
  });

  it('counts undecodable datagrams by reason and never throws', () => {
    const { core, transport, d } = setup();
    transport.handler(Buffer.alloc(0), '127.0.0.1:9');
    transport.handler(Buffer.from([0xff, 0x00, 0x13]), '127.0.0.1:9');
    transport.handler(Buffer.from([0x83, 0x01, 0x18, 0x63, 0x00]), '127.0.0.1:9'); // [1, 99, 0]: unknown type
    expect(core.handled).toEqual([]);
    expect(d.net.rejects['wire-empty']).toBe(1);
    expect(Object.values(d.net.rejects).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('keeps one timer at the core deadline and ticks when it passes', async () => {
    let now = 1000;
    const { core, d } = setup(() => now);
    core.deadline = 1005;
    d.start();
    expect(core.ticks).toEqual([]);
    now = 1010;
    await new Promise((r) => setTimeout(r, 30));
    expect(core.ticks).toEqual([1010]);
    // Deadline Infinity: no timer left, no more ticks.
    await new Promise((r) => setTimeout(r, 30));
    expect(core.ticks).toEqual([1010]);
  });

  it('counts an encode failure instead of throwing', () => {
    const { core, transport, d } = setup();
    core.out.sends.push({ to: '127.0.0.1:3', msg: { ...leave, cluster: 'not a valid cluster name!' } });
    d.flush();
    expect(transport.sent).toEqual([]);
    expect(d.net.encodeErrors).toBe(1);
  });
});
