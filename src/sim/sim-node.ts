/**
 * What the simulator needs from a protocol node and from the codec, as interfaces: the real `KelipsNode` and the
 * real wire codec satisfy them (see `real.ts`), and unit tests of the simulator's machinery plug in small fakes.
 */
import type { CoreCounters, ContactView, MemberView, NodeOptions, Output, PublishedTuple, StoredTupleView } from '../core/api.js';
import type { Timeouts } from '../core/config.js';
import type { Address, MemberState, Message } from '../core/types.js';

export interface SimNode {
  readonly address: Address;
  readonly group: number;
  readonly incarnation: number;
  readonly heartbeat: number;
  handle(from: Address, msg: Message, now: number): void;
  tick(now: number): void;
  publish(name: string, location: string, now: number): number;
  unpublish(name: string, now: number): number;
  lookup(name: string, now: number): number;
  leave(now: number): void;
  drain(): Output;
  nextDeadline(): number;
  readonly joined: boolean;
  readonly synced: boolean;
  readonly groupSize: number;
  members(now: number): MemberView[];
  contacts(now: number): ContactView[];
  tuples(now: number): StoredTupleView[];
  memberState(addr: Address): MemberState | null;
  memberHeartbeat(addr: Address): { incarnation: number; heartbeat: number } | null;
  tupleVersion(name: string, owner: Address): { versionIncarnation: number; versionSeq: number; deleted: boolean } | null;
  readonly tupleCount: number;
  contactAddrs(group: number): Address[];
  publishedTuples(): PublishedTuple[];
  readonly counters: CoreCounters;
  currentTimeouts(): Timeouts;
}

export type NodeFactory = (opts: NodeOptions) => SimNode;

export type DecodeResult = { ok: true; msg: Message } | { ok: false; reason: string; detail?: string };

export interface Codec {
  /** False for test stand-ins whose byte counts are not the wire format's (no datagram size check then). */
  readonly wireFormat?: boolean;
  encode(msg: Message): Uint8Array;
  decode(buf: Uint8Array): DecodeResult;
}
