/**
 * KelipsNode: one Kelips node as a pure state machine. See src/core/api.ts for how a runtime drives it.
 *
 * Inputs: handle(datagram), tick(timer), publish/unpublish/lookup/leave (commands), each with `now`.
 * Outputs (drain()): datagrams to send and typed events. nextDeadline(): when to call tick() next.
 *
 * What happens each gossip round (gossipRound()):
 *  1. heartbeat++, failure detector pass over the affinity group view (suspect, then remove + tombstone);
 *  2. the contact probed last round did not ack? one more miss (replaced after contactMissesMax);
 *  3. in-group gossip to `gossipFanout` random members: own heartbeat, fresh and random heartbeats of the group,
 *     a few contact candidates for other groups, then queued news (tuples, departures) to fill the datagram;
 *  4. cross-group gossip to one contact (a probe with an ack: liveness and RTT; both sides swap candidates);
 *  5. now and then: anti-entropy with one member, reconnect attempts to failed nodes, expiry sweeps.
 *
 * The state lives in NodeState (state.ts); the behaviour in membership.ts, join.ts, lookup.ts and publish.ts.
 */
import type { ContactView, CoreCounters, MemberView, NodeOptions, Output, PublishedTuple, StoredTupleView } from './api.js';
import type { Timeouts } from './config.js';
import { timeouts } from './config.js';
import type { ContactChange } from './contacts.js';
import { InvalidArgumentError } from './errors.js';
import { toEntry } from './filetuples.js';
import type { GossipContext } from './gossip.js';
import { buildCrossGroupGossip, buildInGroupGossip } from './gossip.js';
import { groupOfName, groupOfNode } from './hash.js';
import { newPending } from './requests.js';
import { NodeState } from './state.js';
import type { Address, LeaveMessage, Message, SyncRequestMessage } from './types.js';
import { LookupStatus, MemberState, MessageType } from './types.js';
import { clampAge } from './view.js';
import { onGroupReset, onGroupResetAck, onJoinReply, onJoinRequest, onSyncChunk, onSyncRequest, recoveryTick, seekOwnGroup, sendJoin, setSeeds, startSync, syncTimedOut } from './join.js';
import { advance, checkPending, finishLookupLocal, onContactReply, onContactRequest, onLookupReply, onLookupRequest } from './lookup.js';
import { detectFailures, noteSender, onAck, onGossip, onLeave } from './membership.js';
import { onPublishAck, onPublishRequest, publishVersion, refreshDue } from './publish.js';

export { MESSAGE_TYPE_NAMES } from './state.js';

/** Every this many rounds, gossip to one node we removed as failed: heals views after a partition ends. */
const RECONNECT_EVERY_ROUNDS = 10;
/** Expired tuples and tombstones are swept every this many rounds. */
const SWEEP_EVERY_ROUNDS = 5;

export class KelipsNode {
  private readonly s: NodeState;

  constructor(opts: NodeOptions) {
    this.s = new NodeState(opts);
  }

  get address(): Address {
    return this.s.address;
  }
  get group(): number {
    return this.s.group;
  }
  get counters(): CoreCounters {
    return this.s.counters;
  }

  get incarnation(): number {
    return this.s.inc;
  }

  get heartbeat(): number {
    return this.s.hb;
  }

  get joined(): boolean {
    return this.s.isJoined;
  }

  /** Holds its group's state: its "not found" is a promise (join.ts). */
  get synced(): boolean {
    return this.s.isSynced;
  }

  /** Recovering its group's state (no member held it): when it will hold it, or null. */
  get recoveringUntil(): number | null {
    return this.s.recovery?.until ?? null;
  }

  /** Join attempts so far while no seed has answered (0 once joined). */
  get joinAttempts(): number {
    return this.s.isJoined ? 0 : this.s.joinAttempts;
  }

  get groupSize(): number {
    return this.s.view.groupSize;
  }

  get tupleCount(): number {
    return this.s.store.size;
  }

  get broadcastQueueSize(): number {
    return this.s.queue.size;
  }

  get pendingCount(): number {
    return this.s.pending.size;
  }

  get tombstoneCount(): number {
    return this.s.view.tombstoneCount;
  }

  currentTimeouts(): Timeouts {
    return this.s.t;
  }

  memberState(addr: Address): MemberState | null {
    return this.s.view.get(addr)?.state ?? null;
  }

  memberHeartbeat(addr: Address): { incarnation: number; heartbeat: number } | null {
    const m = this.s.view.get(addr);
    return m === undefined ? null : { incarnation: m.incarnation, heartbeat: m.heartbeat };
  }

  tupleVersion(name: string, owner: Address): { versionIncarnation: number; versionSeq: number; deleted: boolean } | null {
    const t = this.s.store.get(name, owner);
    return t === undefined ? null : { versionIncarnation: t.versionIncarnation, versionSeq: t.versionSeq, deleted: t.deleted };
  }

  contactAddrs(group: number): Address[] {
    return this.s.contactTable.contactAddrs(group);
  }

  groupsWithoutContact(): number {
    return this.s.contactTable.groupsMissing();
  }

  members(now: number): MemberView[] {
    const out: MemberView[] = [{ addr: this.s.address, incarnation: this.s.inc, heartbeat: this.s.hb, ageMs: 0, rttMs: null, state: MemberState.Alive, self: true }];
    for (const m of this.s.view.all()) {
      out.push({ addr: m.addr, incarnation: m.incarnation, heartbeat: m.heartbeat, ageMs: clampAge(now - m.lastHeard), rttMs: m.rttMs, state: m.state, self: false });
    }
    return out;
  }

  contacts(now: number): ContactView[] {
    const out: ContactView[] = [];
    for (const [group, c] of this.s.contactTable.allContacts()) {
      out.push({ group, addr: c.addr, incarnation: c.incarnation, rttMs: c.rttMs, ageMs: clampAge(now - c.lastHeard), misses: c.misses });
    }
    return out;
  }

  tuples(now: number): StoredTupleView[] {
    const out: StoredTupleView[] = [];
    for (const t of this.s.store.all()) {
      const e = toEntry(t, now);
      out.push({ name: e.name, location: e.location, owner: e.owner, versionIncarnation: e.versionIncarnation, versionSeq: e.versionSeq, deleted: e.deleted, ttlMs: e.ttlMs });
    }
    return out;
  }

  publishedTuples(): PublishedTuple[] {
    return this.s.own.all();
  }

  drain(): Output {
    const o = this.s.out;
    this.s.out = { sends: [], events: [] };
    return o;
  }

  nextDeadline(): number {
    if (this.s.left) return Infinity;
    let t = this.s.nextRoundAt;
    if (!this.s.isJoined && this.s.nextJoinAt < t) t = this.s.nextJoinAt;
    if (this.s.sync !== null && this.s.sync.timeoutAt < t) t = this.s.sync.timeoutAt;
    if (this.s.recovery !== null && this.s.recovery.nextAt < t) t = this.s.recovery.nextAt;
    const p = this.s.pending.nextDeadline();
    if (p < t) t = p;
    if (this.s.isJoined) {
      const r = this.s.own.nextDue();
      if (r < t) t = r;
    }
    return t;
  }

  tick(now: number): void {
    if (this.s.left) return;
    this.checkStall(now);
    this.s.lastTickAt = now;
    if (!this.s.isJoined && now >= this.s.nextJoinAt) sendJoin(this.s, now);
    if (this.s.sync !== null && now >= this.s.sync.timeoutAt) syncTimedOut(this.s, now);
    if (this.s.recovery !== null) recoveryTick(this.s, now);
    if (now >= this.s.nextRoundAt) {
      this.gossipRound(now);
      this.s.nextRoundAt += this.s.cfg.gossipIntervalMs;
      if (this.s.nextRoundAt <= now) this.s.nextRoundAt = now + this.s.cfg.gossipIntervalMs;
    }
    checkPending(this.s, now);
    if (this.s.isJoined) refreshDue(this.s, now);
  }

  handle(from: Address, msg: Message, now: number): void {
    void from; // identity is the advertised address in the header; the UDP source may be a NAT's
    if (this.s.left) return;
    this.checkStall(now);
    if (msg.cluster !== this.s.cfg.cluster || msg.groups !== this.s.cfg.groups) {
      this.s.drop(msg.cluster !== this.s.cfg.cluster ? 'cluster-mismatch' : 'groups-mismatch');
      if (!this.s.mismatchReported.has(msg.from)) {
        if (this.s.mismatchReported.size >= 1024) this.s.mismatchReported.clear();
        this.s.mismatchReported.add(msg.from);
        this.s.event({ type: 'mismatch', from: msg.from, cluster: msg.cluster, groups: msg.groups });
      }
      return;
    }
    if (msg.from === this.s.address) return this.s.drop('from-self');
    const trusted = noteSender(this.s, msg, now);
    this.dispatch(msg, now, trusted);
  }

  private dispatch(msg: Message, now: number, trusted: boolean): void {
    switch (msg.type) {
      case MessageType.Gossip:
        return onGossip(this.s, msg, now, trusted);
      case MessageType.GossipAck:
        return onAck(this.s, msg, now);
      case MessageType.JoinRequest:
        return onJoinRequest(this.s, msg, now);
      case MessageType.JoinReply:
        return onJoinReply(this.s, msg, now);
      case MessageType.SyncRequest:
        return onSyncRequest(this.s, msg, now);
      case MessageType.SyncChunk:
        return onSyncChunk(this.s, msg, now);
      case MessageType.LookupRequest:
        return onLookupRequest(this.s, msg, now);
      case MessageType.LookupReply:
        return onLookupReply(this.s, msg, now);
      case MessageType.PublishRequest:
        return onPublishRequest(this.s, msg, now);
      case MessageType.PublishAck:
        return onPublishAck(this.s, msg, now);
      case MessageType.ContactRequest:
        return onContactRequest(this.s, msg, now);
      case MessageType.ContactReply:
        return onContactReply(this.s, msg, now);
      case MessageType.Leave:
        return onLeave(this.s, msg, now);
      case MessageType.GroupReset:
        return onGroupReset(this.s, msg, now);
      case MessageType.GroupResetAck:
        return onGroupResetAck(this.s, msg, now);
    }
  }

  publish(name: string, location: string, now: number): number {
    this.checkName(name, 'name');
    this.checkName(location, 'location');
    return publishVersion(this.s, name, location, false, now);
  }

  unpublish(name: string, now: number): number {
    this.checkName(name, 'name');
    return publishVersion(this.s, name, this.s.own.get(name)?.location ?? this.s.address, true, now);
  }

  lookup(name: string, now: number): number {
    this.checkName(name, 'name');
    this.checkStall(now);
    const id = this.s.nextId++;
    const group = groupOfName(name, this.s.cfg.groups);
    if (group === this.s.group && finishLookupLocal(this.s, id, name, now)) return id;
    if (this.s.pending.full) {
      this.s.drop('pending-full');
      this.s.event({ type: 'lookup-done', result: { id, name, status: LookupStatus.Unavailable, locations: [], hops: 0, attempts: 0, latencyMs: 0, answeredBy: null } });
      return id;
    }
    const p = newPending(id, 'lookup', name, group, null, now, this.s.cfg.lookupDeadlineMs);
    this.s.pending.add(p);
    advance(this.s, p, now);
    return id;
  }

  /**
   * Join through these nodes: a node still waiting for its seeds tries them at once; a running node sends each a
   * join request, which merges its cluster with theirs when they run another cluster of the same name and k.
   */
  join(seeds: readonly Address[], now: number): void {
    if (this.s.left) throw new InvalidArgumentError('this node has left the cluster');
    setSeeds(this.s, seeds, now);
  }

  leave(now: number): void {
    if (this.s.left) return;
    const msg: LeaveMessage = { type: MessageType.Leave, ...this.s.header() };
    for (const m of this.s.view.randomAlive(this.s.rng, 8)) this.s.send(m.addr, msg);
    void now;
    this.s.left = true;
    this.s.event({ type: 'left' });
  }

  /**
   * Did this process not run for a while (paused, swapped out, a debugger)? Then everyone else was not silent, we
   * were: forgive the stall instead of declaring the whole group dead. And news published meanwhile may have spread
   * and settled without us, so we no longer vouch for the group's state. Checked before anything else the process
   * does on waking: a timer, a datagram or a lookup.
   */
  private checkStall(now: number): void {
    const late = now - this.s.lastTickAt;
    if (late <= this.s.cfg.stallRounds * this.s.cfg.gossipIntervalMs) return;
    const stalled = late - this.s.cfg.gossipIntervalMs;
    this.s.lastTickAt = now;
    this.s.view.forgive(stalled);
    this.s.event({ type: 'local-stall', stalledMs: Math.round(stalled) });
    if (stalled >= this.s.t.settleMs) this.s.dropAuthority('stalled');
  }

  private gossipRound(now: number): void {
    this.s.round++;
    this.s.hb++;
    this.s.t = timeouts(this.s.cfg, this.s.view.groupSize);
    detectFailures(this.s, now);
    this.s.store.settle(now, this.s.t.settleMs);
    const changes: ContactChange[] = [];
    if (this.s.probe !== null && !this.s.probe.acked) this.s.contactTable.miss(this.s.probe.addr, now, this.s.t.failMs, changes);
    this.s.probe = null;
    this.s.contactTable.refill(now, this.s.t.failMs, changes);
    this.s.reportContactChanges(changes);

    const targets = this.s.view.randomAlive(this.s.rng, this.s.cfg.gossipFanout);
    if (targets.length > 0) {
      const wantAck = this.s.cfg.memberRttEvery > 0 && this.s.round % this.s.cfg.memberRttEvery === 0;
      const msg = buildInGroupGossip(this.gossipContext(now), targets.length, wantAck);
      for (const m of targets) this.s.send(m.addr, msg);
    }
    const probeTarget =
      this.s.cfg.candidateProbeEvery > 0 && this.s.round % this.s.cfg.candidateProbeEvery === 0
        ? (this.s.contactTable.randomCandidate(this.s.rng) ?? this.s.contactTable.nextToProbe())
        : this.s.contactTable.nextToProbe();
    if (probeTarget !== null) {
      this.s.send(probeTarget, buildCrossGroupGossip(this.gossipContext(now), probeTarget, groupOfNode(probeTarget, this.s.cfg.groups)));
      this.s.probe = { addr: probeTarget, acked: false };
    }
    if (this.s.round % RECONNECT_EVERY_ROUNDS === 0) {
      const dead = this.s.view.randomFailedTombstone(this.s.rng);
      if (dead !== null) this.s.send(dead, buildCrossGroupGossip(this.gossipContext(now), dead, this.s.group));
    }
    if (this.s.isJoined && this.s.view.size === 0 && this.s.round % 2 === 0) seekOwnGroup(this.s);
    // A founder's restart, or a pull that ended: a node that does not hold its group's state goes and gets it.
    if (this.s.isJoined && !this.s.isSynced && this.s.sync === null && this.s.recovery === null) startSync(this.s, now, 0);
    if (now >= this.s.nextAntiEntropyAt) {
      this.s.nextAntiEntropyAt = now + this.s.cfg.antiEntropyIntervalMs * (0.75 + 0.5 * this.s.rng.next());
      const peer = this.s.isSynced ? this.s.view.randomAlive(this.s.rng, 1)[0] : undefined;
      if (peer !== undefined) {
        this.s.counters.antiEntropyRounds++;
        const req: SyncRequestMessage = { type: MessageType.SyncRequest, ...this.s.header(), id: this.s.nextId++, digests: Array.from(this.s.store.settledDigests), wantMembers: false };
        this.s.send(peer.addr, req);
      }
    }
    if (this.s.round % SWEEP_EVERY_ROUNDS === 0) {
      for (const t of this.s.store.expire(now)) this.s.event({ type: 'tuple-expired', name: t.name, owner: t.owner });
      this.s.view.purgeTombstones(now);
    }
    this.s.toldDead.clear();
  }

  private gossipContext(now: number): GossipContext {
    return {
      cfg: this.s.cfg,
      header: this.s.header(),
      now,
      rng: this.s.rng,
      t: this.s.t,
      view: this.s.view,
      contacts: this.s.contactTable,
      queue: this.s.queue,
      self: this.s.selfEntry(),
    };
  }

  private checkName(s: string, field: string): void {
    if (typeof s !== 'string' || s.length === 0 || s.length > this.s.cfg.nameLengthMax) {
      throw new InvalidArgumentError(`${field} must be 1 to ${this.s.cfg.nameLengthMax} characters`);
    }
    if (this.s.left) throw new InvalidArgumentError('this node has left the cluster');
  }
}
