/**
 * The driver: runs a protocol core on a transport with the real monotonic clock and ONE timer.
 *
 *  - every datagram is decoded (rejects counted by reason, never thrown); node-to-node messages go to
 *    core.handle(), client messages (kelips-ctl, types >= 32) to the client handler instead;
 *  - after every input (datagram, timer, command) it drains the core: encodes and sends its datagrams (send errors
 *    are counted, never thrown), hands its events to the listener, and re-arms the single timer to
 *    core.nextDeadline() (only when that deadline moved, so a busy agent does not churn timers);
 *  - time is performance.now() (monotonic ms), never the wall clock.
 */
import { performance } from 'node:perf_hooks';
import type { Output } from '../core/api.js';
import type { Address, CoreEvent, Message } from '../core/types.js';
import { MESSAGE_TYPE_NAMES } from '../core/index.js';
import { decode, encode, REJECT_REASONS, ClientMessageType, type ClientReply, type ClientRequest } from '../wire/index.js';
import type { Transport } from './transport.js';

/** What the driver needs of the core (KelipsNode implements it). */
export interface DrivenCore {
  handle(from: Address, msg: Message, now: number): void;
  tick(now: number): void;
  drain(): Output;
  nextDeadline(): number;
}

/** Plain counters, read by the metrics at scrape time. */
export interface NetCounters {
  sent: Record<string, number>;
  received: Record<string, number>;
  bytesSent: number;
  bytesReceived: number;
  /** Wire decode rejects by reason. */
  rejects: Record<string, number>;
  /** Datagrams the core built that the codec refused (a bug; logged). */
  encodeErrors: number;
  /** Send failures reported by the transport. */
  sendErrors: number;
  /** Client replies received by an agent (nobody should send it those). */
  unexpected: number;
}

/** Message type names for metric labels, by wire type number (lower-kebab). */
export const TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  ...MESSAGE_TYPE_NAMES,
  [ClientMessageType.Request]: 'client-request',
  [ClientMessageType.Reply]: 'client-reply',
});

export interface DriverOptions {
  core: DrivenCore;
  transport: Transport;
  /** Largest datagram to encode (the core's datagramBytesMax). */
  datagramBytesMax: number;
  /** Monotonic ms; performance.now() unless a test injects one. */
  clock?: () => number;
  /** Core events, in order, after each input. */
  onEvents?: (events: CoreEvent[]) => void;
  /** A kelips-ctl request arrived from `from` (its UDP source: replies go there). */
  onClientRequest?: (req: ClientRequest, from: Address) => void;
  /** A datagram was rejected by the decoder (debug logging; keep it cheap). */
  onReject?: (reason: string, detail: string, from: Address) => void;
  /** The codec refused a message the core built. */
  onEncodeError?: (err: Error, msg: Message | ClientReply) => void;
}

export class Driver {
  readonly net: NetCounters;
  private readonly core: DrivenCore;
  private readonly transport: Transport;
  private readonly clock: () => number;
  private readonly sentByType: number[] = new Array(64).fill(0);
  private readonly receivedByType: number[] = new Array(64).fill(0);
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private stopped = false;

  constructor(private readonly opts: DriverOptions) {
    this.core = opts.core;
    this.transport = opts.transport;
    this.clock = opts.clock ?? (() => performance.now());
    const sentByType = this.sentByType;
    const receivedByType = this.receivedByType;
    const transportStats = opts.transport.stats;
    const rejects: Record<string, number> = {};
    for (const r of REJECT_REASONS) rejects[`wire-${r}`] = 0;
    // Views over the typed arrays, so the hot path only bumps array slots.
    this.net = {
      get sent() {
        return namedCounts(sentByType);
      },
      get received() {
        return namedCounts(receivedByType);
      },
      bytesSent: 0,
      bytesReceived: 0,
      rejects,
      encodeErrors: 0,
      get sendErrors() {
        return transportStats.sendErrors + transportStats.badDestination;
      },
      unexpected: 0,
    } as NetCounters;
    opts.transport.onDatagram((bytes, from) => this.onDatagram(bytes, from));
  }

  now(): number {
    return this.clock();
  }

  /** Arm the timer for the first time (and flush whatever the core produced when it was built). */
  start(): void {
    this.flush();
  }

  /** Run a command against the core (publish, lookup, leave...) and flush what it produced. */
  run<T>(fn: (now: number) => T): T {
    try {
      return fn(this.clock());
    } finally {
      this.flush();
    }
  }

  /** Send a reply to a kelips-ctl request. */
  sendClientReply(to: Address, reply: ClientReply): void {
    let bytes: Buffer;
    try {
      bytes = encode(reply, this.opts.datagramBytesMax);
    } catch (err) {
      this.net.encodeErrors++;
      this.opts.onEncodeError?.(err as Error, reply);
      return;
    }
    this.sentByType[ClientMessageType.Reply]!++;
    this.net.bytesSent += bytes.length;
    this.transport.send(to, bytes);
  }

  /** Stop the timer and ignore further datagrams. The transport is the owner's to close. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
  }

  private onDatagram(bytes: Buffer, from: Address): void {
    if (this.stopped) return;
    this.net.bytesReceived += bytes.length;
    const r = decode(bytes);
    if (!r.ok) {
      const key = `wire-${r.reason}`;
      this.net.rejects[key] = (this.net.rejects[key] ?? 0) + 1;
      this.opts.onReject?.(r.reason, r.detail, from);
      return;
    }
    const msg = r.msg;
    this.receivedByType[msg.type]!++;
    if (msg.type === ClientMessageType.Request) {
      this.opts.onClientRequest?.(msg, from);
      return;
    }
    if (msg.type === ClientMessageType.Reply) {
      this.net.unexpected++;
      return;
    }
    this.core.handle(from, msg, this.clock());
    this.flush();
  }

  private onTimer(): void {
    this.timer = null;
    this.armedAt = Infinity;
    if (this.stopped) return;
    this.core.tick(this.clock());
    this.flush();
  }

  /** Send what the core produced, deliver its events, re-arm the timer. */
  flush(): void {
    const out = this.core.drain();
    const sends = out.sends;
    let lastMsg: Message | null = null;
    let lastBytes: Buffer | null = null;
    for (let i = 0; i < sends.length; i++) {
      const s = sends[i]!;
      // The core sends one message object to several destinations (fanout): encode it once.
      if (s.msg !== lastMsg) {
        lastMsg = s.msg;
        try {
          lastBytes = encode(s.msg, this.opts.datagramBytesMax);
        } catch (err) {
          lastBytes = null;
          this.net.encodeErrors++;
          this.opts.onEncodeError?.(err as Error, s.msg);
        }
      }
      if (lastBytes === null) continue;
      this.sentByType[s.msg.type]!++;
      this.net.bytesSent += lastBytes.length;
      this.transport.send(s.to, lastBytes);
    }
    if (out.events.length > 0) this.opts.onEvents?.(out.events);
    if (!this.stopped) this.arm();
  }

  private arm(): void {
    const deadline = this.core.nextDeadline();
    if (deadline === this.armedAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = deadline;
    if (!Number.isFinite(deadline)) return;
    // Round up: a timer that fires a fraction of a ms early would find nothing due and spin once more.
    const delay = Math.min(2_147_483_647, Math.max(0, Math.ceil(deadline - this.clock())));
    this.timer = setTimeout(() => this.onTimer(), delay);
  }
}

function namedCounts(byType: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [t, name] of Object.entries(TYPE_NAMES)) out[name] = byType[Number(t)] ?? 0;
  return out;
}
