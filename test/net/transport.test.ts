import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SEND_QUEUE_MAX, UdpTransport } from '../../src/net/transport.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function waitFor(cond: () => boolean, maxMs = 10_000): Promise<void> {
  // Poll until the condition holds or maxMs passes; the assertion that follows says what was expected.
  const start = Date.now();
  while (!cond() && Date.now() - start < maxMs) await new Promise((r) => setTimeout(r, 20));
}

describe('UdpTransport', () => {
  it('receives a burst of 5,000 datagrams whole (receive via the socket event, raised buffer)', async () => {
    const rx = await UdpTransport.open({ bind: '127.0.0.1:0' });
    open.push(rx);
    const seen = new Uint8Array(5000);
    let count = 0;
    rx.onDatagram((bytes) => {
      const i = bytes.readUInt32BE(0);
      if (i < seen.length && seen[i] === 0) {
        seen[i] = 1;
        count++;
      }
    });
    const tx: Socket = createSocket('udp4');
    open.push({ close: () => new Promise<void>((r) => tx.close(() => r())) });
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    const port = Number(rx.localAddress.split(':')[1]);
    // The whole burst is queued before the receiver's event loop turn: everything must fit in the kernel buffer.
    const payload = Buffer.alloc(200, 0x61);
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(payload);
      b.writeUInt32BE(i, 0);
      tx.send(b, port, '127.0.0.1');
    }
    await waitFor(() => count === 5000);
    expect(
      count,
      `received ${count}/5000 with a receive buffer of ${rx.buffers.recvObtained} bytes ` +
        `(asked ${rx.buffers.recvRequested}); raise net.core.rmem_max (sysctl -w net.core.rmem_max=8388608)`,
    ).toBe(5000);
  });

  it('reports the buffer sizes it asked for and obtained', async () => {
    const t = await UdpTransport.open({ bind: '127.0.0.1:0', recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 20 });
    open.push(t);
    expect(t.buffers.recvRequested).toBe(1 << 20);
    expect(t.buffers.recvObtained).toBeGreaterThan(0);
    expect(t.buffers.sendObtained).toBeGreaterThan(0);
  });

  it('sends between two transports and names the sender as ip:port', async () => {
    const a = await UdpTransport.open({ bind: '127.0.0.1:0' });
    const b = await UdpTransport.open({ bind: '127.0.0.1:0' });
    open.push(a, b);
    const got: [string, string][] = [];
    b.onDatagram((bytes, from) => got.push([bytes.toString(), from]));
    a.send(b.localAddress, Buffer.from('hello'));
    await waitFor(() => got.length === 1);
    expect(got).toEqual([['hello', a.localAddress]]);
  });

  it('counts a bad destination instead of throwing', async () => {
    const a = await UdpTransport.open({ bind: '127.0.0.1:0' });
    open.push(a);
    a.send('not-an-address', Buffer.from('x'));
    a.send('[::1]:7946', Buffer.from('x')); // IPv6 from an IPv4 socket
    expect(a.stats.badDestination).toBe(2);
  });

  it('rejects binding an address in use', async () => {
    const a = await UdpTransport.open({ bind: '127.0.0.1:0' });
    open.push(a);
    await expect(UdpTransport.open({ bind: a.localAddress })).rejects.toThrow(/EADDRINUSE/);
  });

  it('works on IPv6 loopback when the host has it', async () => {
    let a: UdpTransport;
    try {
      a = await UdpTransport.open({ bind: '[::1]:0' });
    } catch {
      return; // no IPv6 on this host
    }
    const b = await UdpTransport.open({ bind: '[::1]:0' });
    open.push(a, b);
    const got: string[] = [];
    b.onDatagram((_bytes, from) => got.push(from));
    a.send(b.localAddress, Buffer.from('x'));
    await waitFor(() => got.length === 1);
    expect(got).toEqual([a.localAddress]);
    expect(a.localAddress.startsWith('[::1]:')).toBe(true);
  });

  it('queues sends until the end of the event-loop turn, then hands them over in order', async () => {
    const a = await UdpTransport.open({ bind: '127.0.0.1:0' });
    const b = await UdpTransport.open({ bind: '127.0.0.1:0' });
    open.push(a, b);
    const got: number[] = [];
    b.onDatagram((bytes) => got.push(bytes.readUInt32BE(0)));
    const n = 3 * SEND_QUEUE_MAX + 7; // over the queue bound: handed over early, order kept
    for (let i = 0; i < n; i++) {
      const x = Buffer.alloc(4);
      x.writeUInt32BE(i, 0);
      a.send(b.localAddress, x);
    }
    await a.flush();
    await waitFor(() => got.length === n);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('close() sends what was queued before closing the socket', async () => {
    const a = await UdpTransport.open({ bind: '127.0.0.1:0' });
    const b = await UdpTransport.open({ bind: '127.0.0.1:0' });
    open.push(b);
    const got: string[] = [];
    b.onDatagram((bytes) => got.push(bytes.toString()));
    a.send(b.localAddress, Buffer.from('last words'));
    await a.close();
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['last words']);
    a.send(b.localAddress, Buffer.from('after close')); // ignored, not thrown
    expect(a.stats.sendErrors).toBe(0);
  });
});
