/**
 * The surface of the protocol core, as runtimes (the UDP agent, the simulator, tests) use it.
 *
 * Data flow: the runtime decodes a datagram and calls `handle(from, msg, now)`; when the earliest deadline passes
 * it calls `tick(now)`; applications call `publish/unpublish/lookup/leave`. After any of these the runtime calls
 * `drain()` and gets the datagrams to send and the events that happened, then re-arms its one timer to
 * `nextDeadline()`. The core never reads a clock, never draws randomness of its own and never performs I/O.
 */
import type { KelipsConfig } from './config.js';
import type { Rng } from './rng.js';
import type { Address, CoreEvent, MemberState, Send } from './types.js';

export interface NodeOptions {
  config: Readonly<KelipsConfig>;
  /** Advertised address: the identity other nodes reach this one at. */
  self: Address;
  /** Grows at every start (the agent persists it); tells a restarted node from stale news about the old one. */
  incarnation: number;
  rng: Rng;
  /** Monotonic time (ms) of creation. */
  now: number;
  /** Any live nodes to join through. May be empty for a node that is not a founder: see `setSeeds`. */
  seeds: Address[];
  /**
   * This node starts a new cluster (it was given no seeds to join). A node that is not a founder never founds a
   * cluster of its own: it waits for seeds (retried with backoff) however long that takes.
   */
  founder: boolean;
  /**
   * First start of this identity: nothing it could have held before exists anywhere. A founder on its first start
   * holds its group's whole state (there is none); every other start must pull the state or recover it (join.ts).
   */
  firstStart: boolean;
  /** Tuples this node published before a restart (from the data dir); re-published at start. */
  published?: PublishedTuple[];
}

/** What the runtime must do after an input. */
export interface Output {
  sends: Send[];
  events: CoreEvent[];
}

/** A tuple this node owns, as persisted across restarts. */
export interface PublishedTuple {
  name: string;
  location: string;
  versionIncarnation: number;
  versionSeq: number;
  deleted: boolean;
}

export interface MemberView {
  addr: Address;
  incarnation: number;
  heartbeat: number;
  /** ms since this node last saw the member's heartbeat advance (directly or via gossip). */
  ageMs: number;
  rttMs: number | null;
  state: MemberState;
  self: boolean;
}

export interface ContactView {
  group: number;
  addr: Address;
  incarnation: number;
  rttMs: number | null;
  ageMs: number;
  /** Consecutive probes or requests it did not answer. */
  misses: number;
}

export interface StoredTupleView {
  name: string;
  location: string;
  owner: Address;
  versionIncarnation: number;
  versionSeq: number;
  deleted: boolean;
  /** ms until it expires unless refreshed. */
  ttlMs: number;
}

/**
 * Counters kept by the core as plain numbers (state, not metrics): the agent exports them at scrape time.
 * `drops` is keyed by reason; every limit in the config has a reason here. Datagrams by type are counted by the
 * runtime that carries them (the agent's driver, the simulator), not here.
 */
export interface CoreCounters {
  drops: Record<DropReason, number>;
  suspected: number;
  /** Direct probes sent to suspects (see detectFailures). */
  suspectProbes: number;
  removed: number;
  refuted: number;
  contactsReplaced: number;
  antiEntropyRounds: number;
  lookupRequestsServed: number;
  publishRequestsServed: number;
  /** Lookups this node answered "not ready" because it did not hold its group's state and had no copy. */
  notReadyAnswers: number;
  /** Group resets acted on (owned tuples re-published because a group lost its state). */
  groupResets: number;
}

export type DropReason =
  | 'cluster-mismatch'
  | 'groups-mismatch'
  | 'from-self'
  | 'wrong-group'
  | 'tombstoned'
  | 'stale'
  | 'view-full'
  | 'tombstones-full'
  | 'filetuples-full'
  | 'locations-full'
  | 'published-full'
  | 'broadcast-queue-full'
  | 'pending-full'
  | 'unknown-request'
  | 'invalid-entry'
  | 'not-joined'
  | 'reset-rate';

export const DROP_REASONS: readonly DropReason[] = [
  'cluster-mismatch',
  'groups-mismatch',
  'from-self',
  'wrong-group',
  'tombstoned',
  'stale',
  'view-full',
  'tombstones-full',
  'filetuples-full',
  'locations-full',
  'published-full',
  'broadcast-queue-full',
  'pending-full',
  'unknown-request',
  'invalid-entry',
  'not-joined',
  'reset-rate',
];
