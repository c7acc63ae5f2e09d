/**
 * The datagram transport the runtime drives the core through. An interface, so the same driver runs on real UDP
 * (UdpTransport, here) and on an in-memory network in tests (MemoryNetwork, ./memory.ts).
 *
 * UdpTransport binds, sends and closes with dgram-as-promised, but receives through the raw socket's 'message'
 * event: the package's recv() resolves one datagram per call and keeps no queue, so whatever arrives while no
 * recv() is pending is lost. The kernel's receive buffer is raised (8 MiB asked by default; the kernel caps it at
 * net.core.rmem_max and reports the doubled value) so that a burst is queued instead of dropped while the event loop
 * is busy.
 *
 * Sends are batched per event-loop turn. The first datagram of a turn goes to the socket at once, as with a bare
 * socket: a request answered alone (a ping-pong) is not delayed, and on loopback its reply often reaches the peer,
 * and the peer's next request arrives, before this process is done reading. The datagrams after it in the same
 * turn are queued and handed over back to back in the turn's check phase (setImmediate), after the poll phase has
 * delivered every datagram that had arrived. Answering a burst one datagram at a time made every send wake the
 * sleeping requester and often switch this process out: measured on a 2-core host (one agent answering pipelined
 * lookups), batching halved the agent's CPU time per lookup. A datagram waits at most until the end of the current
 * turn (no timer); the queue is bounded (SEND_QUEUE_MAX, then it is handed over at once).
 */
import type { RemoteInfo } from 'node:dgram';
import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import type { Address } from '../core/types.js';
import { formatHostPort, parseHostPort } from './address.js';

export type DatagramHandler = (bytes: Buffer, from: Address) => void;

export interface Transport {
  /** The address the socket is bound to ("ip:port"; the real port when 0 was asked). */
  readonly localAddress: Address;
  /**
   * Queue one datagram; it goes out, in order, by the end of the current event-loop turn (UdpTransport batches).
   * Never throws: failures are counted (`sendErrors`) and reported to `onSendError`.
   */
  send(to: Address, bytes: Uint8Array): void;
  /** The one receiver of every datagram. Set it before traffic is expected; later calls replace it. */
  onDatagram(handler: DatagramHandler): void;
  /** Resolves once every datagram queued so far has been handed to the kernel (or failed). */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly stats: TransportStats;
}

export interface TransportStats {
  sendErrors: number;
  /** Sends refused before reaching the socket: a destination that is not "ip:port", or of the wrong family. */
  badDestination: number;
}

export interface UdpTransportOptions {
  /** "ip:port" to bind; port 0 picks a free port. */
  bind: Address;
  /** SO_RCVBUF to ask for (bytes). */
  recvBufferBytes?: number;
  /** SO_SNDBUF to ask for (bytes). */
  sendBufferBytes?: number;
  /** Called on a failed send (after it is counted). Keep it cheap; do not log every one. */
  onSendError?: (err: Error, to: Address) => void;
  /** Socket-level errors after bind (rare: the socket itself failed). */
  onSocketError?: (err: Error) => void;
}

export interface BufferSizes {
  recvRequested: number;
  /** What the kernel granted, as it reports it (Linux reports twice the usable size it accounts for). */
  recvObtained: number;
  sendRequested: number;
  sendObtained: number;
}

export const DEFAULT_SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

/** Parsed destinations, kept so the hot send path does not re-parse "ip:port" strings. Bounded. */
const DEST_CACHE_MAX = 16_384;

/** Datagrams queued in one event-loop turn at most; a longer queue is handed to the socket at once. */
export const SEND_QUEUE_MAX = 1024;

interface Destination {
  host: string;
  port: number;
}

export class UdpTransport implements Transport {
  readonly localAddress: Address;
  readonly stats: TransportStats = { sendErrors: 0, badDestination: 0 };
  readonly buffers: BufferSizes;
  private handler: DatagramHandler = () => {};
  private readonly dest = new Map<string, Destination | null>();
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Datagrams queued for this turn (parallel arrays: no object per datagram). */
  private readonly queuedTo: Address[] = [];
  private readonly queuedDest: Destination[] = [];
  private readonly queuedBytes: Uint8Array[] = [];
  /** A datagram was sent in this event-loop turn (later ones are queued until endTurn, in the check phase). */
  private turnStarted = false;
  private readonly endTurn = (): void => {
    this.turnStarted = false;
    this.drain();
  };
  /** Handed to the socket, not yet reported sent or failed. */
  private inflight = 0;
  private flushWaiters: (() => void)[] = [];
  private readonly sent = (): void => {
    if (--this.inflight === 0 && this.flushWaiters.length > 0) for (const w of this.flushWaiters.splice(0)) w();
  };
  private readonly failed = (err: Error, to: Address): void => {
    this.stats.sendErrors++;
    this.opts.onSendError?.(err, to);
    this.sent();
  };

  private constructor(
    private readonly sock: SocketAsPromised,
    private readonly family: 4 | 6,
    localAddress: Address,
    buffers: BufferSizes,
    private readonly opts: UdpTransportOptions,
  ) {
    this.localAddress = localAddress;
    this.buffers = buffers;
    // The sender's "ip:port", built once per run of datagrams from the same sender: the same string object then
    // comes back as the destination of the reply, whose lookup in `dest` reuses the string's cached hash.
    let lastIp = '';
    let lastPort = -1;
    let lastFrom: Address = '';
    sock.socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (rinfo.port !== lastPort || rinfo.address !== lastIp) {
        lastIp = rinfo.address;
        lastPort = rinfo.port;
        lastFrom = rinfo.family === 'IPv4' ? `${rinfo.address}:${rinfo.port}` : formatHostPort(rinfo.address, rinfo.port);
      }
      this.handler(msg, lastFrom);
    });
    sock.socket.on('error', (err: Error) => {
      if (!this.closed) opts.onSocketError?.(err);
    });
  }

  /** Bind a UDP socket; rejects (with the system error, e.g. EADDRINUSE) when the address cannot be bound. */
  static async open(opts: UdpTransportOptions): Promise<UdpTransport> {
    const parsed = parseHostPort(opts.bind, { allowPortZero: true });
    if ('error' in parsed) throw new Error(`cannot bind "${opts.bind}": ${parsed.error}`);
    const family = parsed.family === 6 ? 6 : 4;
    const sock = DgramAsPromised.createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    let info;
    try {
      info = await sock.bind({ port: parsed.port, address: parsed.host, exclusive: true });
    } catch (err) {
      sock.destroy();
      sock.socket.close();
      throw err;
    }
    const recvRequested = opts.recvBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES;
    const sendRequested = opts.sendBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES;
    // Raising a buffer beyond the kernel's maximum is clamped by Linux, refused by some other kernels: keep going.
    try {
      sock.setRecvBufferSize(recvRequested);
    } catch {
      /* reported through recvObtained */
    }
    try {
      sock.setSendBufferSize(sendRequested);
    } catch {
      /* reported through sendObtained */
    }
    const buffers: BufferSizes = {
      recvRequested,
      recvObtained: sock.socket.getRecvBufferSize(),
      sendRequested,
      // dgram-as-promised 6's getSendBufferSize() calls itself forever: ask the raw socket.
      sendObtained: sock.socket.getSendBufferSize(),
    };
    return new UdpTransport(sock, family, formatHostPort(info.address, info.port), buffers, opts);
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  send(to: Address, bytes: Uint8Array): void {
    if (this.closed) return;
    let d = this.dest.get(to);
    if (d === undefined) {
      d = this.resolve(to);
      if (this.dest.size >= DEST_CACHE_MAX) this.dest.clear();
      this.dest.set(to, d);
    }
    if (d === null) {
      this.stats.badDestination++;
      return;
    }
    this.queuedTo.push(to);
    this.queuedDest.push(d);
    this.queuedBytes.push(bytes);
    if (!this.turnStarted) {
      // The first datagram of this turn: out now; the check phase ends the turn.
      this.turnStarted = true;
      setImmediate(this.endTurn);
      this.drain();
    } else if (this.queuedTo.length >= SEND_QUEUE_MAX) {
      this.drain();
    }
  }

  /** Hand every queued datagram to the socket, in order. */
  private drain(): void {
    const n = this.queuedTo.length;
    if (n === 0) return;
    const tos = this.queuedTo;
    const dests = this.queuedDest;
    const bytes = this.queuedBytes;
    // Queued after close() had sent what was queued: the socket is gone, so these are dropped, not errors.
    if (!this.closed) {
      this.inflight += n;
      for (let i = 0; i < n; i++) {
        const to = tos[i]!;
        const d = dests[i]!;
        this.sock.send(bytes[i]!, d.port, d.host).then(this.sent, (err: Error) => this.failed(err, to));
      }
    }
    tos.length = 0;
    dests.length = 0;
    bytes.length = 0;
  }

  flush(): Promise<void> {
    this.drain();
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  private resolve(to: Address): Destination | null {
    const p = parseHostPort(to);
    if ('error' in p) return null;
    if (p.family === this.family) return { host: p.host, port: p.port };
    // A dual-stack IPv6 socket reaches IPv4 peers through IPv4-mapped addresses; an IPv4 socket cannot reach IPv6.
    if (this.family === 6 && p.family === 4) return { host: `::ffff:${p.host}`, port: p.port };
    return null;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // What was queued goes out first (dgram drops a send still in flight when its socket closes); a send made
      // while that flush was under way is flushed too (a few rounds at most: the caller has stopped sending).
      for (let i = 0; i < 3 && (i === 0 || this.queuedTo.length > 0 || this.inflight > 0); i++) await this.flush();
      this.closed = true;
      await this.sock.close();
    })();
    return this.closing;
  }
}
