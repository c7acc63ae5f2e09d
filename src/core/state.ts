/**
 * The state of one node and the plumbing every part of the protocol shares (stamping headers, queuing datagrams
 * and events, counting drops). The behaviour lives beside it, one concept per file: membership.ts (view, failure
 * detector, gossip intake), join.ts (join and state transfer), lookup.ts (request routing), publish.ts
 * (filetuples in and out); node.ts drives them.
 */
import type { CoreCounters, DropReason, NodeOptions, Output } from './api.js';
import { DROP_REASONS } from './api.js';
import { BroadcastQueue } from './broadcasts.js';
import type { KelipsConfig, Timeouts } from './config.js';
import { timeouts } from './config.js';
import type { ContactChange } from './contacts.js';
import { ContactTable } from './contacts.js';
import { TupleStore } from './filetuples.js';
import { groupOfNode } from './hash.js';
import { PublishedTable } from './published.js';
import { PendingTable } from './requests.js';
import type { Rng } from './rng.js';
import type { Address, CoreEvent, Header, MemberEntry, Message } from './types.js';
import { MessageType } from './types.js';
import { GroupView } from './view.js';

export const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [MessageType.Gossip]: 'gossip',
  [MessageType.GossipAck]: 'gossip-ack',
  [MessageType.JoinRequest]: 'join-request',
  [MessageType.JoinReply]: 'join-reply',
  [MessageType.SyncRequest]: 'sync-request',
  [MessageType.SyncChunk]: 'sync-chunk',
  [MessageType.LookupRequest]: 'lookup-request',
  [MessageType.LookupReply]: 'lookup-reply',
  [MessageType.PublishRequest]: 'publish-request',
  [MessageType.PublishAck]: 'publish-ack',
  [MessageType.ContactRequest]: 'contact-request',
  [MessageType.ContactReply]: 'contact-reply',
  [MessageType.Leave]: 'leave',
  [MessageType.GroupReset]: 'group-reset',
  [MessageType.GroupResetAck]: 'group-reset-ack',
});

/**
 * A node that found no member holding its group's state: it has asked every owner to re-publish what they own in
 * its group and waits `recoverMs` for them before it answers "not found" on its own (join.ts).
 */
export interface Recovery {
  until: number;
  /**
   * This node asked the owners to re-publish (GroupReset). A node that found a member already doing so waits for
   * that member instead (not announcing), for as long as the member still says it is recovering; if no member
   * holds the state by `until`, it announces itself.
   */
  announcing: boolean;
  /**
   * Announcement rounds so far, and per group whether a contact there acknowledged one. A group not acknowledged is
   * sent the reset again every round (through other contacts and candidates as the silent ones are replaced), and
   * the wait (`until`) runs at least recoverMs from the last group's acknowledgement: a node never holds the state
   * while some group's owners may not have heard of the reset.
   */
  announces: number;
  acked: Uint8Array;
  /** Per group, rounds in which no contact or candidate of it was known and one was sought ("who is in G?"). */
  sought: Uint8Array;
  /** Targets of the last round (a target whose group did not acknowledge counts as a contact miss). */
  asked: Address[];
  nextAt: number;
  /** The state pull in flight meanwhile (and whom it went to): a member that holds the state ends the recovery. */
  syncId: number;
  syncPeer: Address;
}

export class NodeState {
  readonly address: Address;
  readonly group: number;
  readonly counters: CoreCounters;
  readonly cfg: Readonly<KelipsConfig>;
  readonly rng: Rng;
  readonly view: GroupView;
  readonly contactTable: ContactTable;
  readonly store: TupleStore;
  readonly queue: BroadcastQueue;
  readonly pending: PendingTable;
  readonly own: PublishedTable;
  out: Output = { sends: [], events: [] };
  /** Incarnation: grows at every start, and when this node learns it was declared dead. */
  inc: number;
  /**
   * Founded the cluster on this start and has heard of no node older than itself. A founder restarted without its
   * data dir looks like a first start; the first node it hears of with a lower incarnation (one that started
   * before it) shows the cluster existed, and it gives up the founder's claim to hold its group's state (join.ts).
   */
  founderClaim: boolean;
  hb = 0;
  /** The G-dependent timeouts, recomputed each round from the view's size. */
  t: Timeouts;
  nextId = 1;
  left = false;
  isJoined: boolean;
  /** Holds its group's state: may answer "not found" (see join.ts for how a node comes to hold it). */
  isSynced: boolean;
  seeds: Address[];
  joinId = 0;
  joinAttempts = 0;
  nextJoinAt: number;
  /** When the first join request went out (for how long the node has been waiting for a seed). */
  joinStartedAt: number;
  recovery: Recovery | null = null;
  /** Members that answered the state pull without holding the group's state (this join). */
  readonly syncNotAuthoritative = new Set<Address>();
  /** Group resets acted on: origin -> the incarnation it recovered in, and when copies were last forwarded. */
  readonly resetsSeen = new Map<Address, { incarnation: number; forwardedAt: number }>();
  /** When this node last re-published what it owns in each group because of a group reset (one slot per group). */
  readonly republishedAt: Float64Array;
  /** The join state transfer in progress (id -1: waiting to know any member of our group). */
  sync: { id: number; peer: Address; timeoutAt: number; tries: number; pass: number } | null = null;
  round = 0;
  nextRoundAt: number;
  lastTickAt: number;
  nextAntiEntropyAt: number;
  /** Last round's contact probe, and whether it was acked. */
  probe: { addr: Address; acked: boolean } | null = null;
  /** Senders told this round that we hold them dead (one notice per sender per round). */
  readonly toldDead = new Set<Address>();
  /** Senders of another cluster or k already reported (bounded). */
  readonly mismatchReported = new Set<Address>();

  constructor(opts: NodeOptions) {
    const cfg = opts.config;
    this.cfg = cfg;
    this.rng = opts.rng;
    this.address = opts.self;
    this.inc = opts.incarnation;
    this.group = groupOfNode(opts.self, cfg.groups);
    this.view = new GroupView(opts.self, cfg.viewMax, cfg.tombstonesMax, cfg.gossipIntervalMs);
    this.contactTable = new ContactTable(cfg.groups, this.group, cfg.contactsPerGroup, cfg.candidatesPerGroup, cfg.contactMissesMax, cfg.contactRttImprovement, (a) =>
      groupOfNode(a, cfg.groups),
    );
    this.store = new TupleStore(cfg.filetuplesMax, cfg.locationsPerNameMax, cfg.syncBuckets, cfg.filetupleRefreshMs / 2, cfg.filetupleTtlMs);
    this.queue = new BroadcastQueue(cfg.broadcastQueueMax);
    this.republishedAt = new Float64Array(cfg.groups).fill(-Infinity);
    this.pending = new PendingTable(cfg.pendingMax);
    this.own = new PublishedTable(cfg.publishedMax);
    this.t = timeouts(cfg, 1);
    this.counters = { drops: {} as Record<DropReason, number>, suspected: 0, suspectProbes: 0, removed: 0, refuted: 0, contactsReplaced: 0, antiEntropyRounds: 0, lookupRequestsServed: 0, publishRequestsServed: 0, notReadyAnswers: 0, groupResets: 0 };
    for (const r of DROP_REASONS) this.counters.drops[r] = 0;
    const now = opts.now;
    this.seeds = opts.seeds.filter((s) => s !== opts.self);
    this.isJoined = opts.founder;
    // Only the first member of a new cluster holds its group's state from the start: there is none yet.
    this.isSynced = opts.founder && opts.firstStart;
    this.founderClaim = this.isSynced;
    this.nextJoinAt = now;
    this.joinStartedAt = now;
    this.lastTickAt = now;
    // Random phase: nodes started together must not gossip in lockstep.
    this.nextRoundAt = now + this.rng.next() * cfg.gossipIntervalMs;
    this.nextAntiEntropyAt = now + cfg.antiEntropyIntervalMs * (0.5 + this.rng.next());
    for (const p of opts.published ?? []) {
      // A restart: republish under the new incarnation, which outranks every version sent before.
      this.own.set({ ...p, versionIncarnation: this.inc, versionSeq: 1, dueAt: now, confirmed: false });
    }
  }

  header(): Header {
    return { cluster: this.cfg.cluster, groups: this.cfg.groups, from: this.address, incarnation: this.inc, heartbeat: this.hb };
  }

  selfEntry(): MemberEntry {
    return { addr: this.address, incarnation: this.inc, heartbeat: this.hb, ageMs: 0 };
  }

  send(to: Address, msg: Message): void {
    this.out.sends.push({ to, msg });
  }

  event(e: CoreEvent): void {
    this.out.events.push(e);
  }

  drop(reason: DropReason): void {
    this.counters.drops[reason]++;
  }

  /**
   * This node can no longer vouch for its group's state: it did not run for longer than gossip needs to spread news
   * (a stall), it was declared dead (its group stopped sending it news), or, as a founder, it met a node older than
   * itself (the cluster existed before it: its data dir was lost). It pulls the state again, or recovers it
   * (join.ts), answering "not ready" meanwhile for what it has no copy of.
   */
  dropAuthority(reason: 'stalled' | 'declared-dead' | 'older-node'): void {
    this.founderClaim = false;
    if (!this.isSynced) return;
    this.isSynced = false;
    this.sync = null;
    this.syncNotAuthoritative.clear();
    this.event({ type: 'authority-dropped', reason });
  }

  reportContactChanges(changes: ContactChange[]): void {
    for (const c of changes) {
      if (c.reason === 'added') {
        if (c.addr !== null) this.event({ type: 'contact-added', group: c.group, addr: c.addr });
      } else {
        this.counters.contactsReplaced++;
        this.event({ type: 'contact-replaced', group: c.group, old: c.old!, addr: c.addr, reason: c.reason });
      }
    }
  }
}
