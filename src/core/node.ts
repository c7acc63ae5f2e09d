/**
 * KelipsNode: one Kelips node as a pure state machine. See src/core/api.ts for how a runtime drives it.
 *
 * Inputs: handle(datagram), tick(timer), publish/unpublish/lookup/leave (commands), each with `now`.
 * Outputs (drain()): datagrams to send and typed events. nextDeadline(): when to call tick() next.
 *
 * What happens each gossip round (round()):
 *  1. heartbeat++, failure detector pass over the affinity group view (suspect, then remove + tombstone);
 *  2. the stalest contact (or sometimes a spare candidate) did not ack last round's probe? one more miss;
 *  3. in-group gossip to `gossipFanout` random members: own heartbeat, fresh and random heartbeats of the group,
 *     a few contact candidates for other groups, then queued news (tuples, departures) to fill the datagram;
 *  4. cross-group gossip to one contact (a probe with an ack: liveness and RTT; both sides swap candidates);
 *  5. now and then: anti-entropy with one member, reconnect attempts to failed nodes, expiry sweeps.
 */
import type { ContactView, CoreCounters, DropReason, MemberView, NodeOptions, Output, PublishedTuple, StoredTupleView } from './api.js';
import { DROP_REASONS } from './api.js';
import { BroadcastQueue } from './broadcasts.js';
import type { KelipsConfig, Timeouts } from './config.js';
import { timeouts } from './config.js';
import type { ContactChange } from './contacts.js';
import { ContactTable } from './contacts.js';
import { InvalidArgumentError, LimitError } from './errors.js';
import { TupleStore, toEntry } from './filetuples.js';
import type { TupleMergeOutcome } from './filetuples.js';
import { buildCrossGroupGossip, buildInGroupGossip, chunkEntries, packSyncChunks, receiversGroupEntries } from './gossip.js';
import { groupOfName, groupOfNode } from './hash.js';
import { PublishedTable } from './published.js';
import type { OwnTuple } from './published.js';
import { newPending, PendingTable } from './requests.js';
import type { Pending } from './requests.js';
import type { Rng } from './rng.js';
import { randInt } from './rng.js';
import { goneEntryBytes, headerBytes, locationBytes, tupleEntryBytes } from './size.js';
import type {
  Address,
  ContactReplyMessage,
  ContactRequestMessage,
  CoreEvent,
  GoneEntry,
  GossipAckMessage,
  GossipMessage,
  Header,
  JoinReplyMessage,
  JoinRequestMessage,
  LeaveMessage,
  Location,
  LookupReplyMessage,
  LookupRequestMessage,
  MemberEntry,
  Message,
  PublishAckMessage,
  PublishRequestMessage,
  SyncChunkMessage,
  SyncRequestMessage,
  TupleEntry,
} from './types.js';
import { GoneReason, LookupStatus, MemberState, MessageType } from './types.js';
import { clampAge, entryOf, GroupView } from './view.js';

/** Every this many rounds, gossip to one node we removed as failed: heals views after a partition ends. */
const RECONNECT_EVERY_ROUNDS = 10;
/** Expired tuples and tombstones are swept every this many rounds. */
const SWEEP_EVERY_ROUNDS = 5;
/** Attempts at the join state transfer before a node declares itself synced with what it has. */
const SYNC_TRIES_MAX = 3;
/** Sync attempts (each 4 request timeouts) with nobody of our group known, before we conclude we are its first. */
const ALONE_TRIES_MAX = 8;
/** Owned tuples (re)sent per tick at most: a restart with many tuples spreads its republishing over rounds. */
const REFRESH_PER_TICK_MAX = 64;

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
});

export class KelipsNode {
  readonly address: Address;
  readonly group: number;
  readonly counters: CoreCounters;

  private readonly cfg: Readonly<KelipsConfig>;
  private readonly rng: Rng;
  private readonly view: GroupView;
  private readonly contactTable: ContactTable;
  private readonly store: TupleStore;
  private readonly queue: BroadcastQueue;
  private readonly pending: PendingTable;
  private readonly own: PublishedTable;
  private out: Output = { sends: [], events: [] };
  private inc: number;
  private hb = 0;
  private t: Timeouts;
  private nextId = 1;
  private left = false;
  private isJoined: boolean;
  private isSynced: boolean;
  private readonly seeds: Address[];
  private joinId = 0;
  private joinAttempts = 0;
  private nextJoinAt: number;
  private sync: { id: number; peer: Address; timeoutAt: number; tries: number } | null = null;
  private round = 0;
  private nextRoundAt: number;
  private lastTickAt: number;
  private nextAntiEntropyAt: number;
  private probe: { addr: Address; acked: boolean } | null = null;
  private readonly toldDead = new Set<Address>();
  private readonly mismatchReported = new Set<Address>();

  constructor(opts: NodeOptions) {
    const cfg = opts.config;
    this.cfg = cfg;
    this.rng = opts.rng;
    this.address = opts.self;
    this.inc = opts.incarnation;
    this.group = groupOfNode(opts.self, cfg.groups);
    this.view = new GroupView(opts.self, cfg.viewMax, cfg.tombstonesMax);
    this.contactTable = new ContactTable(cfg.groups, this.group, cfg.contactsPerGroup, cfg.candidatesPerGroup, cfg.contactMissesMax, cfg.contactRttImprovement, (a) =>
      groupOfNode(a, cfg.groups),
    );
    this.store = new TupleStore(cfg.filetuplesMax, cfg.locationsPerNameMax, cfg.syncBuckets, cfg.filetupleRefreshMs / 2);
    this.queue = new BroadcastQueue(cfg.broadcastQueueMax);
    this.pending = new PendingTable(cfg.pendingMax);
    this.own = new PublishedTable(cfg.publishedMax);
    this.t = timeouts(cfg, 1);
    this.counters = { received: {}, sent: {}, drops: {} as Record<DropReason, number>, suspected: 0, removed: 0, refuted: 0, contactsReplaced: 0, antiEntropyRounds: 0, lookupRequestsServed: 0, publishRequestsServed: 0 };
    for (const r of DROP_REASONS) this.counters.drops[r] = 0;
    for (const name of Object.values(MESSAGE_TYPE_NAMES)) {
      this.counters.received[name] = 0;
      this.counters.sent[name] = 0;
    }
    const now = opts.now;
    this.seeds = opts.seeds.filter((s) => s !== opts.self);
    this.isJoined = this.seeds.length === 0;
    this.isSynced = this.isJoined;
    this.nextJoinAt = now;
    this.lastTickAt = now;
    // Random phase: nodes started together must not gossip in lockstep.
    this.nextRoundAt = now + this.rng.next() * cfg.gossipIntervalMs;
    this.nextAntiEntropyAt = now + cfg.antiEntropyIntervalMs * (0.5 + this.rng.next());
    for (const p of opts.published ?? []) {
      // A restart: republish under the new incarnation, which outranks every version sent before.
      this.own.set({ ...p, versionIncarnation: this.inc, versionSeq: 1, dueAt: now, confirmed: false });
    }
  }

  // ---- inspection -------------------------------------------------------------------------------------------

  get incarnation(): number {
    return this.inc;
  }
  get heartbeat(): number {
    return this.hb;
  }
  get joined(): boolean {
    return this.isJoined;
  }
  get synced(): boolean {
    return this.isSynced;
  }
  get groupSize(): number {
    return this.view.groupSize;
  }
  get tupleCount(): number {
    return this.store.size;
  }
  get broadcastQueueSize(): number {
    return this.queue.size;
  }
  get pendingCount(): number {
    return this.pending.size;
  }
  get tombstoneCount(): number {
    return this.view.tombstoneCount;
  }
  currentTimeouts(): Timeouts {
    return this.t;
  }
  memberState(addr: Address): MemberState | null {
    return this.view.get(addr)?.state ?? null;
  }
  memberHeartbeat(addr: Address): { incarnation: number; heartbeat: number } | null {
    const m = this.view.get(addr);
    return m === undefined ? null : { incarnation: m.incarnation, heartbeat: m.heartbeat };
  }
  tupleVersion(name: string, owner: Address): { versionIncarnation: number; versionSeq: number; deleted: boolean } | null {
    const t = this.store.get(name, owner);
    return t === undefined ? null : { versionIncarnation: t.versionIncarnation, versionSeq: t.versionSeq, deleted: t.deleted };
  }
  contactAddrs(group: number): Address[] {
    return this.contactTable.contactsOf(group).map((c) => c.addr);
  }
  groupsWithoutContact(): number {
    return this.contactTable.groupsMissing();
  }
  members(now: number): MemberView[] {
    const out: MemberView[] = [{ addr: this.address, incarnation: this.inc, heartbeat: this.hb, ageMs: 0, rttMs: null, state: MemberState.Alive, self: true }];
    for (const m of this.view.all()) {
      out.push({ addr: m.addr, incarnation: m.incarnation, heartbeat: m.heartbeat, ageMs: clampAge(now - m.lastHeard), rttMs: m.rttMs, state: m.state, self: false });
    }
    return out;
  }
  contacts(now: number): ContactView[] {
    const out: ContactView[] = [];
    for (const [group, c] of this.contactTable.allContacts()) {
      out.push({ group, addr: c.addr, incarnation: c.incarnation, rttMs: c.rttMs, ageMs: clampAge(now - c.lastHeard), misses: c.misses });
    }
    return out;
  }
  tuples(now: number): StoredTupleView[] {
    const out: StoredTupleView[] = [];
    for (const t of this.store.all()) {
      const e = toEntry(t, now);
      out.push({ name: e.name, location: e.location, owner: e.owner, versionIncarnation: e.versionIncarnation, versionSeq: e.versionSeq, deleted: e.deleted, ttlMs: e.ttlMs });
    }
    return out;
  }
  publishedTuples(): PublishedTuple[] {
    return this.own.all();
  }

  // ---- driving ------------------------------------------------------------------------------------------------

  drain(): Output {
    const o = this.out;
    this.out = { sends: [], events: [] };
    return o;
  }

  nextDeadline(): number {
    if (this.left) return Infinity;
    let t = this.nextRoundAt;
    if (!this.isJoined && this.nextJoinAt < t) t = this.nextJoinAt;
    if (this.sync !== null && this.sync.timeoutAt < t) t = this.sync.timeoutAt;
    const p = this.pending.nextDeadline();
    if (p < t) t = p;
    if (this.isJoined) {
      const r = this.own.nextDue();
      if (r < t) t = r;
    }
    return t;
  }

  tick(now: number): void {
    if (this.left) return;
    const late = now - this.lastTickAt;
    if (late > this.cfg.stallRounds * this.cfg.gossipIntervalMs) {
      // This process did not run for a while (paused, swapped out, a debugger): everyone else was not silent, we
      // were. Forgive the stall instead of declaring the whole group dead.
      const stalled = late - this.cfg.gossipIntervalMs;
      this.view.forgive(stalled);
      this.event({ type: 'local-stall', stalledMs: Math.round(stalled) });
    }
    this.lastTickAt = now;
    if (!this.isJoined && now >= this.nextJoinAt) this.sendJoin(now);
    if (this.sync !== null && now >= this.sync.timeoutAt) this.syncTimedOut(now);
    if (now >= this.nextRoundAt) {
      this.gossipRound(now);
      this.nextRoundAt += this.cfg.gossipIntervalMs;
      if (this.nextRoundAt <= now) this.nextRoundAt = now + this.cfg.gossipIntervalMs;
    }
    this.checkPending(now);
    if (this.isJoined) this.refreshDue(now);
  }

  handle(from: Address, msg: Message, now: number): void {
    void from; // identity is the advertised address in the header; the UDP source may be a NAT's
    if (this.left) return;
    this.counters.received[MESSAGE_TYPE_NAMES[msg.type] ?? 'unknown'] = (this.counters.received[MESSAGE_TYPE_NAMES[msg.type] ?? 'unknown'] ?? 0) + 1;
    if (msg.cluster !== this.cfg.cluster || msg.groups !== this.cfg.groups) {
      this.drop(msg.cluster !== this.cfg.cluster ? 'cluster-mismatch' : 'groups-mismatch');
      if (!this.mismatchReported.has(msg.from)) {
        if (this.mismatchReported.size >= 1024) this.mismatchReported.clear();
        this.mismatchReported.add(msg.from);
        this.event({ type: 'mismatch', from: msg.from, cluster: msg.cluster, groups: msg.groups });
      }
      return;
    }
    if (msg.from === this.address) return this.drop('from-self');
    const trusted = this.noteSender(msg, now);
    switch (msg.type) {
      case MessageType.Gossip:
        return this.onGossip(msg, now, trusted);
      case MessageType.GossipAck:
        return this.onAck(msg, now);
      case MessageType.JoinRequest:
        return this.onJoinRequest(msg, now);
      case MessageType.JoinReply:
        return this.onJoinReply(msg, now);
      case MessageType.SyncRequest:
        return this.onSyncRequest(msg, now);
      case MessageType.SyncChunk:
        return this.onSyncChunk(msg, now);
      case MessageType.LookupRequest:
        return this.onLookupRequest(msg, now);
      case MessageType.LookupReply:
        return this.onLookupReply(msg, now);
      case MessageType.PublishRequest:
        return this.onPublishRequest(msg, now);
      case MessageType.PublishAck:
        return this.onPublishAck(msg, now);
      case MessageType.ContactRequest:
        return this.onContactRequest(msg, now);
      case MessageType.ContactReply:
        return this.onContactReply(msg, now);
      case MessageType.Leave:
        return this.onLeave(msg, now);
    }
  }

  // ---- commands -----------------------------------------------------------------------------------------------

  publish(name: string, location: string, now: number): number {
    this.checkName(name, 'name');
    this.checkName(location, 'location');
    return this.publishVersion(name, location, false, now);
  }

  unpublish(name: string, now: number): number {
    this.checkName(name, 'name');
    return this.publishVersion(name, this.own.get(name)?.location ?? this.address, true, now);
  }

  lookup(name: string, now: number): number {
    this.checkName(name, 'name');
    const id = this.nextId++;
    const group = groupOfName(name, this.cfg.groups);
    if (group === this.group && (this.isSynced || this.view.size === 0)) {
      this.finishLookupLocal(id, name, now);
      return id;
    }
    if (this.pending.full) {
      this.drop('pending-full');
      this.event({ type: 'lookup-done', result: { id, name, status: LookupStatus.Unavailable, locations: [], hops: 0, attempts: 0, latencyMs: 0, answeredBy: null } });
      return id;
    }
    const p = newPending(id, 'lookup', name, group, null, now, this.cfg.lookupDeadlineMs);
    this.pending.add(p);
    this.advance(p, now);
    return id;
  }

  leave(now: number): void {
    if (this.left) return;
    const msg: LeaveMessage = { type: MessageType.Leave, ...this.header() };
    for (const m of this.view.randomAlive(this.rng, 8)) this.send(m.addr, msg);
    void now;
    this.left = true;
    this.event({ type: 'left' });
  }

  // ---- gossip round -------------------------------------------------------------------------------------------

  private gossipRound(now: number): void {
    this.round++;
    this.hb++;
    this.t = timeouts(this.cfg, this.view.groupSize);
    this.detectFailures(now);
    const changes: ContactChange[] = [];
    if (this.probe !== null && !this.probe.acked) this.contactTable.miss(this.probe.addr, now, this.t.failMs, changes);
    this.probe = null;
    this.contactTable.refill(now, this.t.failMs, changes);
    this.reportContactChanges(changes);

    const targets = this.view.randomAlive(this.rng, this.cfg.gossipFanout);
    if (targets.length > 0) {
      const wantAck = this.cfg.memberRttEvery > 0 && this.round % this.cfg.memberRttEvery === 0;
      const msg = buildInGroupGossip(this.gossipContext(now), targets.length, wantAck);
      for (const m of targets) this.send(m.addr, msg);
    }
    const probeTarget =
      this.cfg.candidateProbeEvery > 0 && this.round % this.cfg.candidateProbeEvery === 0
        ? (this.contactTable.randomCandidate(this.rng) ?? this.contactTable.nextToProbe())
        : this.contactTable.nextToProbe();
    if (probeTarget !== null) {
      this.send(probeTarget.addr, buildCrossGroupGossip(this.gossipContext(now), probeTarget.addr, groupOfNode(probeTarget.addr, this.cfg.groups)));
      this.probe = { addr: probeTarget.addr, acked: false };
    }
    if (this.round % RECONNECT_EVERY_ROUNDS === 0) {
      const dead = this.view.randomFailedTombstone(this.rng);
      if (dead !== null) this.send(dead, buildCrossGroupGossip(this.gossipContext(now), dead, this.group));
    }
    if (this.isJoined && this.view.size === 0 && this.round % 2 === 0) this.seekOwnGroup();
    if (now >= this.nextAntiEntropyAt) {
      this.nextAntiEntropyAt = now + this.cfg.antiEntropyIntervalMs * (0.75 + 0.5 * this.rng.next());
      const peer = this.isSynced ? this.view.randomAlive(this.rng, 1)[0] : undefined;
      if (peer !== undefined) {
        this.counters.antiEntropyRounds++;
        const req: SyncRequestMessage = { type: MessageType.SyncRequest, ...this.header(), id: this.nextId++, digests: Array.from(this.store.digests), wantMembers: false };
        this.send(peer.addr, req);
      }
    }
    if (this.round % SWEEP_EVERY_ROUNDS === 0) {
      for (const t of this.store.expire(now)) this.event({ type: 'tuple-expired', name: t.name, owner: t.owner });
      this.view.purgeTombstones(now);
    }
    this.toldDead.clear();
  }

  private gossipContext(now: number) {
    return {
      cfg: this.cfg,
      header: this.header(),
      now,
      rng: this.rng,
      t: this.t,
      view: this.view,
      contacts: this.contactTable,
      queue: this.queue,
      self: this.selfEntry(),
    };
  }

  private detectFailures(now: number): void {
    const { suspectMs, failMs } = this.t;
    const members = this.view.all();
    for (let i = members.length - 1; i >= 0; i--) {
      const m = members[i]!;
      const silent = now - m.lastHeard;
      if (silent >= failMs) {
        this.view.remove(m.addr, now + this.cfg.tombstoneMs, false);
        this.counters.removed++;
        this.event({ type: 'member-removed', addr: m.addr, incarnation: m.incarnation, reason: 'failed' });
      } else if (silent >= suspectMs && m.state === MemberState.Alive) {
        m.state = MemberState.Suspect;
        this.counters.suspected++;
        this.event({ type: 'member-suspected', addr: m.addr, incarnation: m.incarnation, silentMs: Math.round(silent) });
      }
    }
  }

  // ---- membership news ----------------------------------------------------------------------------------------

  /** The header of any message is first-hand news of its sender. Returns false when the sender is tombstoned. */
  private noteSender(msg: Header, now: number): boolean {
    const e: MemberEntry = { addr: msg.from, incarnation: msg.incarnation, heartbeat: msg.heartbeat, ageMs: 0 };
    const group = groupOfNode(msg.from, this.cfg.groups);
    if (group !== this.group) {
      const changes: ContactChange[] = [];
      this.contactTable.offer(e, now, this.t.failMs, changes, group);
      this.contactTable.heard(msg.from, msg.incarnation, msg.heartbeat, now, group);
      this.reportContactChanges(changes);
      return true;
    }
    const tomb = this.view.tombstone(msg.from);
    if (tomb !== undefined && msg.incarnation <= tomb.incarnation) {
      // It is alive but we buried it: tell it, so it comes back with a higher incarnation everyone will accept.
      if (!this.toldDead.has(msg.from)) {
        this.toldDead.add(msg.from);
        const gone: GoneEntry = { addr: msg.from, incarnation: tomb.incarnation, reason: tomb.left ? GoneReason.Left : GoneReason.Failed };
        this.sendAck(msg.from, 0, [], [gone]);
      }
      this.drop('tombstoned');
      return false;
    }
    this.mergeMember(e, now);
    return true;
  }

  /** Route an entry: own group -> the view; another group -> contacts. */
  private learn(e: MemberEntry, now: number, changes: ContactChange[]): void {
    if (e.addr === this.address) return;
    const group = groupOfNode(e.addr, this.cfg.groups);
    if (group === this.group) this.mergeMember(e, now);
    else this.contactTable.offer(e, now, this.t.failMs, changes, group);
  }

  private learnAll(entries: readonly MemberEntry[], now: number): void {
    const changes: ContactChange[] = [];
    for (const e of entries) this.learn(e, now, changes);
    this.reportContactChanges(changes);
  }

  private mergeMember(e: MemberEntry, now: number): void {
    const before = this.view.get(e.addr)?.incarnation ?? this.view.tombstone(e.addr)?.incarnation ?? 0;
    const outcome = this.view.merge(e, now, this.t.suspectMs);
    switch (outcome) {
      case 'new':
        return this.event({ type: 'member-joined', addr: e.addr, incarnation: e.incarnation });
      case 'rejoined':
        return this.event({ type: 'member-rejoined', addr: e.addr, incarnation: e.incarnation, previous: before });
      case 'refuted':
        this.counters.refuted++;
        return this.event({ type: 'member-refuted', addr: e.addr, incarnation: e.incarnation });
      case 'full':
        return this.drop('view-full');
      default:
        return;
    }
  }

  private applyGone(g: GoneEntry, now: number): void {
    if (g.addr === this.address) {
      if (g.incarnation >= this.inc) {
        this.inc = g.incarnation + 1;
        this.event({ type: 'incarnation-bumped', incarnation: this.inc, reason: 'declared-dead' });
      }
      return;
    }
    if (g.reason !== GoneReason.Left) return; // failures are each node's own judgement, never second-hand
    const group = groupOfNode(g.addr, this.cfg.groups);
    if (group !== this.group) {
      const changes: ContactChange[] = [];
      this.contactTable.drop(group, g.addr, 'left', now, this.t.failMs, changes);
      this.reportContactChanges(changes);
      return;
    }
    const m = this.view.get(g.addr);
    if (m !== undefined && m.incarnation > g.incarnation) return;
    const known = this.view.tombstone(g.addr);
    if (m !== undefined) {
      this.view.remove(g.addr, now + this.cfg.tombstoneMs, true);
      this.event({ type: 'member-removed', addr: g.addr, incarnation: m.incarnation, reason: 'left' });
    } else if (known === undefined || known.incarnation < g.incarnation) {
      if (!this.view.bury(g.addr, g.incarnation, now + this.cfg.tombstoneMs, true)) this.drop('tombstones-full');
    } else return; // old news
    this.queue.push({ kind: 'gone', key: `g:${g.addr}`, gone: g, sent: 0, bytes: goneEntryBytes(g) }) || this.drop('broadcast-queue-full');
  }

  private onGossip(msg: GossipMessage, now: number, trusted: boolean): void {
    if (trusted) this.learnAll(msg.members, now);
    this.learnAll(msg.foreign, now);
    for (const g of msg.gone) this.applyGone(g, now);
    if (msg.tuples.length > 0) {
      if (groupOfNode(msg.from, this.cfg.groups) !== this.group) this.drop('wrong-group');
      else for (const t of msg.tuples) this.mergeTuple(t, now, true);
    }
    if (msg.wantAck && trusted) {
      const sameGroup = groupOfNode(msg.from, this.cfg.groups) === this.group;
      const members: MemberEntry[] = [];
      if (!sameGroup) {
        members.push(this.selfEntry());
        this.view.pickForGossip(now, this.cfg.crossGroupEntries, 0, this.rng, members);
        members.push(...receiversGroupEntries(this.contactTable, groupOfNode(msg.from, this.cfg.groups), msg.from, now));
      }
      this.sendAck(msg.from, msg.sentAt, members, []);
    }
  }

  private onAck(msg: GossipAckMessage, now: number): void {
    const rtt = msg.echoSentAt > 0 && msg.echoSentAt <= now ? now - msg.echoSentAt : null;
    const changes: ContactChange[] = [];
    if (rtt !== null) {
      const m = this.view.get(msg.from);
      if (m !== undefined) m.rttMs = m.rttMs === null ? rtt : 0.8 * m.rttMs + 0.2 * rtt;
      else this.contactTable.rtt(msg.from, rtt, changes);
      if (this.probe !== null && this.probe.addr === msg.from) this.probe.acked = true;
    }
    for (const e of msg.members) this.learn(e, now, changes);
    this.reportContactChanges(changes);
    for (const g of msg.gone) this.applyGone(g, now);
  }

  private sendAck(to: Address, echoSentAt: number, members: MemberEntry[], gone: GoneEntry[]): void {
    const ack: GossipAckMessage = { type: MessageType.GossipAck, ...this.header(), echoSentAt, members, gone };
    this.send(to, ack);
  }

  private onLeave(msg: LeaveMessage, now: number): void {
    this.applyGone({ addr: msg.from, incarnation: msg.incarnation, reason: GoneReason.Left }, now);
  }

  // ---- join and state transfer --------------------------------------------------------------------------------

  private sendJoin(now: number): void {
    const seed = this.seeds[(this.joinAttempts + randInt(this.rng, this.seeds.length)) % this.seeds.length]!;
    this.joinAttempts++;
    this.joinId = this.nextId++;
    const req: JoinRequestMessage = { type: MessageType.JoinRequest, ...this.header(), id: this.joinId };
    this.send(seed, req);
    this.nextJoinAt = now + this.cfg.joinRetryMs;
  }

  private onJoinRequest(msg: JoinRequestMessage, now: number): void {
    const joinerGroup = groupOfNode(msg.from, this.cfg.groups);
    const members: MemberEntry[] = [];
    const foreign: MemberEntry[] = [];
    const self = this.selfEntry();
    if (joinerGroup === this.group) {
      members.push(self);
      for (const m of this.view.all()) if (m.state === MemberState.Alive && m.addr !== msg.from) members.push(entryOf(m, now));
    } else {
      for (const c of this.contactTable.contactsOf(joinerGroup)) if (c.addr !== msg.from) members.push(entryOf(c, now));
      for (const c of this.contactTable.candidatesOf(joinerGroup)) if (c.addr !== msg.from) members.push(entryOf(c, now));
    }
    for (let g = 0; g < this.cfg.groups; g++) {
      if (g === joinerGroup) continue;
      if (g === this.group) {
        foreign.push(self);
        this.view.pickForGossip(now, this.cfg.contactsPerGroup, 0, this.rng, foreign);
      } else for (const c of this.contactTable.contactsOf(g)) foreign.push(entryOf(c, now));
    }
    const chunks = chunkEntries(this.cfg, this.header(), members, foreign);
    chunks.forEach((c, i) => {
      const reply: JoinReplyMessage = { type: MessageType.JoinReply, ...this.header(), id: msg.id, members: c.members, foreign: c.foreign, chunk: i, chunks: chunks.length };
      this.send(msg.from, reply);
    });
  }

  private onJoinReply(msg: JoinReplyMessage, now: number): void {
    if (msg.id !== this.joinId) return this.drop('unknown-request');
    this.learnAll(msg.members, now);
    this.learnAll(msg.foreign, now);
    if (!this.isJoined) {
      this.isJoined = true;
      this.event({ type: 'joined', viaSeed: msg.from, members: this.view.size });
    }
    if (!this.isSynced && this.sync === null && (this.view.size > 0 || msg.chunk === msg.chunks - 1)) this.startSync(now, 0);
  }

  private startSync(now: number, tries: number): void {
    const peer = this.view.randomAlive(this.rng, 1)[0];
    if (peer === undefined) {
      // Nobody of our group known yet. Keep looking (seekOwnGroup) for a while before concluding that we are the
      // group's first member and what we hold is the whole truth.
      if (tries >= ALONE_TRIES_MAX) return this.markSynced(this.address, 0, 0);
      this.sync = { id: -1, peer: this.address, timeoutAt: now + 4 * this.cfg.requestTimeoutMs, tries };
      this.seekOwnGroup();
      return;
    }
    const id = this.nextId++;
    this.sync = { id, peer: peer.addr, timeoutAt: now + 4 * this.cfg.requestTimeoutMs, tries };
    const req: SyncRequestMessage = { type: MessageType.SyncRequest, ...this.header(), id, digests: Array.from(this.store.digests), wantMembers: true };
    this.send(peer.addr, req);
  }

  private syncTimedOut(now: number): void {
    const tries = (this.sync?.tries ?? 0) + 1;
    const hadPeer = this.sync !== null && this.sync.id !== -1;
    this.sync = null;
    if (hadPeer && tries >= SYNC_TRIES_MAX) this.markSynced(this.address, this.store.size, this.view.size);
    else this.startSync(now, tries);
  }

  /** Ask a contact (or a seed) for members of our own group: we know none. */
  private seekOwnGroup(): void {
    const via = this.contactTable.randomForeign(this.rng, this.group)?.addr ?? this.seeds[randInt(this.rng, Math.max(1, this.seeds.length))];
    if (via === undefined) return;
    const req: ContactRequestMessage = { type: MessageType.ContactRequest, ...this.header(), id: 0, group: this.group, origin: this.address, ttl: this.cfg.contactRequestTtl };
    this.send(via, req);
  }

  private markSynced(from: Address, tuples: number, members: number): void {
    this.sync = null;
    if (this.isSynced) return;
    this.isSynced = true;
    this.event({ type: 'synced', from, tuples, members });
  }

  private onSyncRequest(msg: SyncRequestMessage, now: number): void {
    if (groupOfNode(msg.from, this.cfg.groups) !== this.group) return this.drop('wrong-group');
    if (msg.digests.length !== this.store.digests.length) return this.drop('invalid-entry');
    const want = new Set<number>();
    for (let b = 0; b < msg.digests.length; b++) if (msg.digests[b] !== this.store.digests[b]) want.add(b);
    const members: MemberEntry[] = [];
    if (msg.wantMembers) {
      members.push(this.selfEntry());
      for (const m of this.view.all()) if (m.state === MemberState.Alive && m.addr !== msg.from) members.push(entryOf(m, now));
    }
    const tuples = want.size > 0 ? this.store.entriesOfBuckets(want, now) : [];
    for (const chunk of packSyncChunks(this.cfg, this.header(), msg.id, members, tuples, [...want])) this.send(msg.from, chunk);
  }

  private onSyncChunk(msg: SyncChunkMessage, now: number): void {
    if (groupOfNode(msg.from, this.cfg.groups) !== this.group) return this.drop('wrong-group');
    this.learnAll(msg.members, now);
    for (const t of msg.tuples) this.mergeTuple(t, now, false);
    if (msg.want.length > 0) {
      // The peer found differences: push our side of those buckets (no `want`, so this never ping-pongs).
      const buckets = new Set(msg.want.filter((b) => b < this.store.digests.length));
      const tuples = this.store.entriesOfBuckets(buckets, now);
      if (tuples.length > 0) for (const chunk of packSyncChunks(this.cfg, this.header(), msg.id, [], tuples, [])) this.send(msg.from, chunk);
    }
    if (msg.last && this.sync !== null && this.sync.id === msg.id) this.markSynced(msg.from, this.store.size, this.view.size);
  }

  // ---- filetuples ---------------------------------------------------------------------------------------------

  private mergeTuple(t: TupleEntry, now: number, gossip: boolean): TupleMergeOutcome {
    if (groupOfName(t.name, this.cfg.groups) !== this.group) {
      this.drop('wrong-group');
      return 'stale';
    }
    const outcome = this.store.merge(t, now);
    if (outcome === 'filetuples-full' || outcome === 'locations-full') {
      this.drop(outcome);
      return outcome;
    }
    if (outcome === 'new' || outcome === 'updated' || outcome === 'refreshed') {
      if (outcome !== 'refreshed') this.event({ type: 'tuple-stored', name: t.name, owner: t.owner, fresh: outcome === 'new' });
      if (gossip) {
        const ok = this.queue.push({ kind: 'tuple', key: `t:${t.owner}:${t.name}`, tuple: t, sent: 0, bytes: tupleEntryBytes(t), expiresAt: now + t.ttlMs });
        if (!ok) this.drop('broadcast-queue-full');
      }
    }
    return outcome;
  }

  private publishVersion(name: string, location: string, deleted: boolean, now: number): number {
    const id = this.nextId++;
    const prev = this.own.get(name);
    const seq = prev !== undefined && prev.versionIncarnation === this.inc ? prev.versionSeq + 1 : 1;
    const own: OwnTuple = { name, location, versionIncarnation: this.inc, versionSeq: seq, deleted, dueAt: now + this.refreshDelay(), confirmed: false };
    if (!this.own.set(own)) {
      this.drop('published-full');
      throw new LimitError(`this node already publishes ${this.cfg.publishedMax} names (publishedMax)`);
    }
    this.deliver(id, own, now, false);
    return id;
  }

  /** Send one owned tuple to its group: stored here if it is our group, else through a contact. */
  private deliver(id: number, own: OwnTuple, now: number, silent: boolean): void {
    const tuple: TupleEntry = { name: own.name, location: own.location, owner: this.address, versionIncarnation: own.versionIncarnation, versionSeq: own.versionSeq, ttlMs: this.cfg.filetupleTtlMs, deleted: own.deleted };
    const group = groupOfName(own.name, this.cfg.groups);
    if (group === this.group) {
      this.mergeTuple(tuple, now, true);
      own.confirmed = true;
      if (!silent) this.event({ type: 'publish-done', result: { id, name: own.name, deleted: own.deleted, status: 'stored', storedAt: this.address, latencyMs: 0 } });
      return;
    }
    if (this.pending.full) {
      this.drop('pending-full');
      if (!silent) this.event({ type: 'publish-done', result: { id, name: own.name, deleted: own.deleted, status: 'queued', storedAt: null, latencyMs: 0 } });
      this.own.schedule(own, now + this.retryDelay());
      return;
    }
    const p = newPending(id, 'publish', own.name, group, tuple, now, this.cfg.lookupDeadlineMs);
    p.silent = silent;
    this.pending.add(p);
    this.advance(p, now);
  }

  private refreshDue(now: number): void {
    for (const own of this.own.takeDue(now, REFRESH_PER_TICK_MAX)) {
      if (own.deleted && own.confirmed) {
        this.own.delete(own.name); // the tombstone reached its group; it lives out its TTL there
        continue;
      }
      own.confirmed = false;
      this.own.schedule(own, now + this.refreshDelay());
      this.deliver(this.nextId++, own, now, true);
    }
  }

  private refreshDelay(): number {
    return this.cfg.filetupleRefreshMs * (0.9 + 0.2 * this.rng.next());
  }

  private retryDelay(): number {
    return Math.min(this.cfg.filetupleRefreshMs, Math.max(this.cfg.joinRetryMs, 5 * this.cfg.gossipIntervalMs));
  }

  private onPublishRequest(msg: PublishRequestMessage, now: number): void {
    this.counters.publishRequestsServed++;
    const t = msg.tuple;
    let accepted = groupOfName(t.name, this.cfg.groups) === this.group && t.owner === msg.from;
    if (accepted) {
      const outcome = this.mergeTuple(t, now, true);
      accepted = outcome !== 'filetuples-full' && outcome !== 'locations-full';
    } else this.drop('wrong-group');
    const ack: PublishAckMessage = { type: MessageType.PublishAck, ...this.header(), id: msg.id, accepted };
    this.send(msg.from, ack);
  }

  private onPublishAck(msg: PublishAckMessage, now: number): void {
    const p = this.pending.get(msg.id);
    if (p === undefined || p.kind !== 'publish' || !p.tried.has(msg.from)) return this.drop('unknown-request');
    if (!msg.accepted) {
      if (p.current === msg.from) {
        p.current = null;
        this.advance(p, now);
      }
      return;
    }
    this.pending.delete(p.id);
    const own = this.own.get(p.name);
    if (own !== undefined && p.tuple !== null && own.versionSeq === p.tuple.versionSeq) own.confirmed = true;
    if (!p.silent) this.event({ type: 'publish-done', result: { id: p.id, name: p.name, deleted: p.tuple?.deleted ?? false, status: 'stored', storedAt: msg.from, latencyMs: now - p.startedAt } });
  }

  // ---- lookups and request routing ------------------------------------------------------------------------------

  private finishLookupLocal(id: number, name: string, now: number): void {
    const locations = this.store.locations(name, now);
    this.event({ type: 'lookup-done', result: { id, name, status: locations.length > 0 ? LookupStatus.Found : LookupStatus.NotFound, locations, hops: 0, attempts: 0, latencyMs: 0, answeredBy: this.address } });
  }

  private onLookupRequest(msg: LookupRequestMessage, now: number): void {
    this.counters.lookupRequestsServed++;
    let status: LookupStatus;
    let locations: Location[] = [];
    if (groupOfName(msg.name, this.cfg.groups) !== this.group) {
      this.drop('wrong-group');
      status = LookupStatus.NotReady;
    } else if (!this.isSynced) {
      status = LookupStatus.NotReady;
    } else {
      locations = this.fitLocations(this.store.locations(msg.name, now));
      status = locations.length > 0 ? LookupStatus.Found : LookupStatus.NotFound;
    }
    const reply: LookupReplyMessage = { type: MessageType.LookupReply, ...this.header(), id: msg.id, status, locations };
    this.send(msg.from, reply);
  }

  private onLookupReply(msg: LookupReplyMessage, now: number): void {
    const p = this.pending.get(msg.id);
    if (p === undefined || p.kind !== 'lookup' || !p.tried.has(msg.from)) return this.drop('unknown-request');
    if (p.current === msg.from && p.sentAt > 0 && p.group !== this.group) {
      const changes: ContactChange[] = [];
      this.contactTable.rtt(msg.from, now - p.sentAt, changes);
      this.reportContactChanges(changes);
    }
    if (msg.status === LookupStatus.NotReady) {
      if (p.current === msg.from) {
        p.current = null;
        this.advance(p, now);
      }
      return;
    }
    this.pending.delete(p.id);
    this.event({ type: 'lookup-done', result: { id: p.id, name: p.name, status: msg.status, locations: msg.locations, hops: p.currentHops, attempts: p.attempts, latencyMs: now - p.startedAt, answeredBy: msg.from } });
  }

  /** As many locations as fit one reply datagram (the rest are dropped: one datagram answers a lookup). */
  private fitLocations(all: Location[]): Location[] {
    const h = this.header();
    let budget = this.cfg.datagramBytesMax - headerBytes(h.cluster, h.groups, h.from, h.incarnation, h.heartbeat) - 16;
    const out: Location[] = [];
    for (const l of all) {
      budget -= locationBytes(l);
      if (budget < 0) break;
      out.push(l);
    }
    return out;
  }

  /** Send the request's next attempt, or look for a contact, or give up. */
  private advance(p: Pending, now: number): void {
    if (now >= p.deadline) return this.expire(p, now);
    let target: Address | null = null;
    let hops = 1;
    while (target === null && p.discovered.length > 0) {
      const a = p.discovered.shift()!;
      if (!p.tried.has(a)) {
        target = a;
        hops = 2;
      }
    }
    if (target === null) {
      if (p.group === this.group) target = this.untriedMember(p.tried);
      else target = this.contactTable.best(p.group, p.tried)?.addr ?? null;
    }
    if (target !== null) {
      p.tried.add(target);
      p.attempts++;
      p.current = target;
      p.currentHops = hops;
      p.sentAt = now;
      p.timeoutAt = now + this.cfg.requestTimeoutMs;
      if (p.kind === 'lookup') {
        const req: LookupRequestMessage = { type: MessageType.LookupRequest, ...this.header(), id: p.id, name: p.name };
        this.send(target, req);
      } else {
        const req: PublishRequestMessage = { type: MessageType.PublishRequest, ...this.header(), id: p.id, tuple: p.tuple! };
        this.send(target, req);
      }
      return;
    }
    p.current = null;
    if (p.discoverTimeoutAt !== Infinity) return; // already asking someone
    const asker = this.untriedMember(p.asked) ?? this.contactTable.randomForeign(this.rng, p.group)?.addr ?? null;
    if (asker === null || p.asked.has(asker)) {
      if (p.group === this.group && p.kind === 'lookup') {
        // Our own group and nobody else to ask: what we hold is all there is.
        this.pending.delete(p.id);
        return this.finishLookupLocal(p.id, p.name, now);
      }
      return this.expire(p, now);
    }
    p.asked.add(asker);
    p.discoverTimeoutAt = now + 2 * this.cfg.requestTimeoutMs;
    const req: ContactRequestMessage = { type: MessageType.ContactRequest, ...this.header(), id: p.id, group: p.group, origin: this.address, ttl: this.cfg.contactRequestTtl };
    this.send(asker, req);
  }

  private untriedMember(tried: ReadonlySet<Address>): Address | null {
    for (const m of this.view.randomAlive(this.rng, 3)) if (!tried.has(m.addr)) return m.addr;
    for (const m of this.view.all()) if (m.state === MemberState.Alive && !tried.has(m.addr)) return m.addr;
    return null;
  }

  /** A request ran out of time or options. */
  private expire(p: Pending, now: number): void {
    this.pending.delete(p.id);
    if (p.kind === 'lookup') {
      this.event({ type: 'lookup-done', result: { id: p.id, name: p.name, status: LookupStatus.Unavailable, locations: [], hops: 0, attempts: p.attempts, latencyMs: now - p.startedAt, answeredBy: null } });
      return;
    }
    const own = this.own.get(p.name);
    if (own !== undefined) this.own.schedule(own, now + this.retryDelay());
    if (!p.silent) this.event({ type: 'publish-done', result: { id: p.id, name: p.name, deleted: p.tuple?.deleted ?? false, status: 'queued', storedAt: null, latencyMs: now - p.startedAt } });
  }

  private checkPending(now: number): void {
    if (this.pending.size === 0) return;
    for (const p of [...this.pending.values()]) {
      if (now >= p.deadline) {
        this.expire(p, now);
      } else if (p.current !== null && now >= p.timeoutAt) {
        if (p.group !== this.group) {
          const changes: ContactChange[] = [];
          this.contactTable.miss(p.current, now, this.t.failMs, changes);
          this.reportContactChanges(changes);
        }
        p.current = null;
        this.advance(p, now);
      } else if (p.discoverTimeoutAt <= now) {
        p.discoverTimeoutAt = Infinity;
        if (p.current === null) this.advance(p, now);
      }
    }
  }

  private onContactRequest(msg: ContactRequestMessage, now: number): void {
    const candidates: MemberEntry[] = [];
    if (msg.group === this.group) {
      candidates.push(this.selfEntry());
      this.view.pickForGossip(now, 3, 0, this.rng, candidates);
    } else if (msg.group < this.cfg.groups) {
      for (const c of this.contactTable.contactsOf(msg.group)) candidates.push(entryOf(c, now));
      for (const c of this.contactTable.candidatesOf(msg.group)) candidates.push(entryOf(c, now));
    }
    if (candidates.length > 0) {
      const reply: ContactReplyMessage = { type: MessageType.ContactReply, ...this.header(), id: msg.id, group: msg.group, candidates: candidates.slice(0, 8) };
      this.send(msg.origin, reply);
      return;
    }
    if (msg.ttl <= 0) return;
    const next = this.view.randomAlive(this.rng, 1, msg.origin)[0]?.addr ?? this.contactTable.randomForeign(this.rng, msg.group)?.addr;
    if (next === undefined || next === msg.origin) return;
    this.send(next, { ...msg, ...this.header(), ttl: msg.ttl - 1 });
  }

  private onContactReply(msg: ContactReplyMessage, now: number): void {
    const changes: ContactChange[] = [];
    for (const e of msg.candidates) if (groupOfNode(e.addr, this.cfg.groups) === msg.group) this.learn(e, now, changes);
    this.reportContactChanges(changes);
    const p = this.pending.get(msg.id);
    if (p === undefined || p.group !== msg.group) return;
    for (const e of msg.candidates) {
      if (e.addr !== this.address && groupOfNode(e.addr, this.cfg.groups) === p.group && !p.tried.has(e.addr)) p.discovered.push(e.addr);
    }
    p.discoverTimeoutAt = Infinity;
    if (p.current === null) this.advance(p, now);
  }

  // ---- plumbing -----------------------------------------------------------------------------------------------

  private header(): Header {
    return { cluster: this.cfg.cluster, groups: this.cfg.groups, from: this.address, incarnation: this.inc, heartbeat: this.hb };
  }

  private selfEntry(): MemberEntry {
    return { addr: this.address, incarnation: this.inc, heartbeat: this.hb, ageMs: 0 };
  }

  private send(to: Address, msg: Message): void {
    this.out.sends.push({ to, msg });
    const name = MESSAGE_TYPE_NAMES[msg.type]!;
    this.counters.sent[name] = (this.counters.sent[name] ?? 0) + 1;
  }

  private event(e: CoreEvent): void {
    this.out.events.push(e);
  }

  private drop(reason: DropReason): void {
    this.counters.drops[reason]++;
  }

  private reportContactChanges(changes: ContactChange[]): void {
    for (const c of changes) {
      if (c.reason === 'added') {
        if (c.addr !== null) this.event({ type: 'contact-added', group: c.group, addr: c.addr });
      } else {
        this.counters.contactsReplaced++;
        this.event({ type: 'contact-replaced', group: c.group, old: c.old!, addr: c.addr, reason: c.reason });
      }
    }
  }

  private checkName(s: string, field: string): void {
    if (typeof s !== 'string' || s.length === 0 || s.length > this.cfg.nameLengthMax) {
      throw new InvalidArgumentError(`${field} must be 1 to ${this.cfg.nameLengthMax} characters`);
    }
    if (this.left) throw new InvalidArgumentError('this node has left the cluster');
  }
}
