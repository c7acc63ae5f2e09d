/**
 * Join and state transfer: a new node asks a seed for members of its group and contacts in the others, then pulls
 * its group's view and filetuples from one member in chunks. Anti-entropy uses the same exchange: bucket digests,
 * then only the buckets that differ, both ways.
 *
 * "Not found" is a promise, so a node answers it only while it holds its group's state (`isSynced`). It comes to
 * hold it in one of three ways, and no other:
 *  - founder: the first start of the node that founds a cluster; there is no state yet. (It gives that claim up
 *    when it hears from a node older than itself: the cluster existed, its data dir was lost.)
 *  - pulled: a member that itself held the state sent it (its last SyncChunk says `authority: Holds`), and a
 *    second pull found nothing left to send (a chunk lost on the way cannot leave a hole). A member that is still
 *    joining says None and the puller asks another; one that is recovering says Recovering and the puller waits.
 *  - recovered: no member holds it: every member restarted, or the group was empty. The node sends a GroupReset to
 *    the contacts and spare candidates of every other group, every round until a contact of each group has
 *    acknowledged it (a group of which it knows nobody is sought with "who is in G?"; one that nobody answers for
 *    RESET_ANNOUNCES rounds is taken to be empty), and to its own group's members. Each contact forwards it once to
 *    its group, and every owner that hears it re-publishes what it owns in this group at once. `recoverMs` after
 *    the last acknowledgement (enough for the announcements, one publish with retries, and gossip inside the group)
 *    the owners' tuples are back and the node holds the state. Meanwhile it pulls from a member every round: one
 *    that holds the state ends the wait at once. When every member a puller knows is still joining, only the lowest
 *    address among them announces; the others wait for it as long as it says Recovering, and announce themselves
 *    only if it stops answering so.
 * A node that stalled for longer than gossip needs to spread news, or was declared dead, stops vouching
 * (NodeState.dropAuthority) and goes through the same again.
 * Until then the node answers a lookup "found" when it has a copy (a copy is never wrong news) and "not ready"
 * otherwise, so the asker tries another member and, failing all, says "unavailable" - never a wrong "not found".
 */
import { RESET_ANNOUNCES } from './config.js';
import type { ContactChange } from './contacts.js';
import { chunkEntries, packSyncChunks } from './gossip.js';
import { groupOfName, groupOfNode } from './hash.js';
import { randInt } from './rng.js';
import type { NodeState, Recovery } from './state.js';
import type {
  SyncedHow,
  Address,
  ContactRequestMessage,
  GroupResetAckMessage,
  GroupResetMessage,
  JoinReplyMessage,
  JoinRequestMessage,
  MemberEntry,
  SyncChunkMessage,
  SyncRequestMessage,
} from './types.js';
import { MemberState, MessageType, SyncAuthority } from './types.js';
import { entryOf } from './view.js';
import { learnAll } from './membership.js';
import { mergeTuple } from './publish.js';

/** Extra pulls from a member that holds the state, until one finds nothing left to send. */
const VERIFY_PASSES_MAX = 3;
/** Unanswered state pulls (each 4 request timeouts) before a node concludes that no member can send the state. */
const SYNC_TRIES_MAX = 3;
/** Pull attempts (each 4 request timeouts) with nobody of our group known, before we conclude the group is empty. */
const ALONE_TRIES_MAX = 8;
/** A join still unanswered is reported (warn) after this many attempts, then every time the count doubles. */
const JOIN_REPORT_FIRST = 4;
/** Group-reset origins remembered (one entry per recovering node; the oldest is forgotten when full). */
const RESETS_SEEN_MAX = 1024;

/**
 * One join attempt to the next seed. The wait before the next attempt doubles with every round of all seeds that
 * went unanswered, up to joinRetryMaxMs; a node that is not a founder never gives up and never founds a cluster.
 */
export function sendJoin(s: NodeState, now: number): void {
  if (s.seeds.length === 0) {
    s.nextJoinAt = now + s.cfg.joinRetryMaxMs;
    if (s.joinAttempts === 0) s.joinStartedAt = now;
    s.joinAttempts++;
    reportJoinPending(s, now);
    return;
  }
  const seed = s.seeds[(s.joinAttempts + randInt(s.rng, s.seeds.length)) % s.seeds.length]!;
  if (s.joinAttempts === 0) s.joinStartedAt = now;
  s.joinAttempts++;
  s.joinId = s.nextId++;
  const req: JoinRequestMessage = { type: MessageType.JoinRequest, ...s.header(), id: s.joinId };
  s.send(seed, req);
  const rounds = Math.floor((s.joinAttempts - 1) / s.seeds.length);
  s.nextJoinAt = now + Math.min(s.cfg.joinRetryMaxMs, s.cfg.joinRetryMs * 2 ** Math.min(rounds, 20));
  reportJoinPending(s, now);
}

function reportJoinPending(s: NodeState, now: number): void {
  const n = s.joinAttempts;
  if (n >= JOIN_REPORT_FIRST && (n & (n - 1)) === 0) s.event({ type: 'join-pending', attempts: n, waitedMs: Math.round(now - s.joinStartedAt), seeds: s.seeds.length });
}

/**
 * New seeds (re-resolved names, or an operator's `join`): a node still joining tries them at once; a joined node
 * sends them one join request each, which merges two clusters of the same name and k when the seed is in the other.
 */
export function setSeeds(s: NodeState, seeds: readonly Address[], now: number): void {
  s.seeds = seeds.filter((a) => a !== s.address);
  if (!s.isJoined) {
    s.nextJoinAt = now;
    return;
  }
  s.joinId = s.nextId++;
  const req: JoinRequestMessage = { type: MessageType.JoinRequest, ...s.header(), id: s.joinId };
  for (const seed of s.seeds) s.send(seed, req);
}

export function onJoinRequest(s: NodeState, msg: JoinRequestMessage, now: number): void {
  const joinerGroup = groupOfNode(msg.from, s.cfg.groups);
  const members: MemberEntry[] = [];
  const foreign: MemberEntry[] = [];
  const self = s.selfEntry();
  if (joinerGroup === s.group) {
    members.push(self);
    for (const m of s.view.all()) if (m.state === MemberState.Alive && m.addr !== msg.from) members.push(entryOf(m, now));
  } else {
    s.contactTable.entries(joinerGroup, now, members, { exclude: msg.from, withCandidates: true });
  }
  for (let g = 0; g < s.cfg.groups; g++) {
    if (g === joinerGroup) continue;
    if (g === s.group) {
      foreign.push(self);
      s.view.pickForGossip(now, s.cfg.contactsPerGroup, 0, s.rng, foreign);
    } else s.contactTable.entries(g, now, foreign);
  }
  const chunks = chunkEntries(s.cfg, s.header(), members, foreign);
  chunks.forEach((c, i) => {
    const reply: JoinReplyMessage = { type: MessageType.JoinReply, ...s.header(), id: msg.id, members: c.members, foreign: c.foreign, chunk: i, chunks: chunks.length };
    s.send(msg.from, reply);
  });
}

export function onJoinReply(s: NodeState, msg: JoinReplyMessage, now: number): void {
  if (msg.id !== s.joinId) return s.drop('unknown-request');
  learnAll(s, msg.members, now);
  learnAll(s, msg.foreign, now);
  if (!s.isJoined) {
    s.isJoined = true;
    s.event({ type: 'joined', viaSeed: msg.from, members: s.view.size });
  }
  if (!s.isSynced && s.sync === null && s.recovery === null && (s.view.size > 0 || msg.chunk === msg.chunks - 1)) startSync(s, now, 0);
}

/** Pull the group's state from a member not yet found without it; none left: recover (see the file's header). */
export function startSync(s: NodeState, now: number, tries: number): void {
  let peer: Address | undefined;
  for (const m of s.view.randomAlive(s.rng, 3)) if (!s.syncNotAuthoritative.has(m.addr)) peer = m.addr;
  if (peer === undefined) for (const m of s.view.all()) if (m.state === MemberState.Alive && !s.syncNotAuthoritative.has(m.addr)) peer = m.addr;
  if (peer === undefined) {
    if (s.view.size > 0) {
      // Every member we know answered that it is still joining too (a group starting together). One of us asks the
      // owners: the lowest address among those that answered; the others wait for it (and ask themselves if no
      // member holds the state when their wait ends).
      let lowest = true;
      for (const a of s.syncNotAuthoritative) if (a < s.address) lowest = false;
      return beginRecovery(s, now, lowest ? 'no-authoritative-member' : 'member-recovering');
    }
    // Nobody of our group known yet. Keep looking (seekOwnGroup) for a while before concluding it is empty.
    if (tries >= ALONE_TRIES_MAX) return beginRecovery(s, now, 'no-member');
    s.sync = { id: -1, peer: s.address, timeoutAt: now + 4 * s.cfg.requestTimeoutMs, tries, pass: 0 };
    seekOwnGroup(s);
    return;
  }
  pullFrom(s, peer, now, tries, 0);
}

/** One pull of the group's state from `peer` (pass > 0: checking that an earlier pull arrived whole). */
function pullFrom(s: NodeState, peer: Address, now: number, tries: number, pass: number): void {
  const id = s.nextId++;
  s.sync = { id, peer, timeoutAt: now + 4 * s.cfg.requestTimeoutMs, tries, pass };
  sendSyncRequest(s, peer, id);
}

function sendSyncRequest(s: NodeState, peer: Address, id: number): void {
  const req: SyncRequestMessage = { type: MessageType.SyncRequest, ...s.header(), id, digests: Array.from(s.store.digests), wantMembers: true };
  s.send(peer, req);
}

export function syncTimedOut(s: NodeState, now: number): void {
  const tries = (s.sync?.tries ?? 0) + 1;
  const hadPeer = s.sync !== null && s.sync.id !== -1;
  s.sync = null;
  // Members that do not answer cannot vouch for the state either: after a few, recover.
  if (hadPeer && tries >= SYNC_TRIES_MAX) beginRecovery(s, now, 'no-authoritative-member');
  else startSync(s, now, tries);
}

/**
 * No member holds the group's state: ask the owners to re-publish and wait for them (`announcing`), or wait for a
 * member that is already doing so (see the file's header).
 */
export function beginRecovery(s: NodeState, now: number, reason: 'no-member' | 'no-authoritative-member' | 'member-recovering'): void {
  s.sync = null;
  if (s.isSynced || s.recovery !== null) return;
  const announcing = reason !== 'member-recovering';
  // A waiter waits a little longer than the member it waits for, so that its last pulls find that member done.
  const waitMs = s.t.recoverMs + (announcing ? 0 : 2 * s.cfg.gossipIntervalMs + 4 * s.cfg.requestTimeoutMs);
  s.recovery = { until: now + waitMs, announcing, announces: 0, acked: new Uint8Array(s.cfg.groups), sought: new Uint8Array(s.cfg.groups), asked: [], nextAt: now, syncId: -1, syncPeer: s.address };
  s.event({ type: 'recovering', reason, untilMs: Math.round(s.t.recoverMs), tuples: s.store.size });
  recoveryTick(s, now);
}

/** Once a round while recovering: announce (the first RESET_ANNOUNCES rounds) and pull from a member. */
export function recoveryTick(s: NodeState, now: number): void {
  const r = s.recovery;
  if (r === null || now < r.nextAt) return;
  if (now >= r.until && !(r.announcing && groupsNotReached(s, r) > 0)) {
    if (r.announcing) return markSynced(s, s.address, s.store.size, s.view.size, 'recovered');
    // The member we waited for never came to hold the state (it died, or we never heard it): ask the owners ourselves.
    s.recovery = null;
    return beginRecovery(s, now, 'no-authoritative-member');
  }
  // Past `until` only while some group is still unreached: keep trying it every round.
  r.nextAt = now >= r.until ? now + s.cfg.gossipIntervalMs : Math.min(now + s.cfg.gossipIntervalMs, r.until);
  if (r.announcing) announceReset(s, r, now);
  const peer = s.view.randomAlive(s.rng, 1)[0];
  if (peer !== undefined) {
    r.syncId = s.nextId++;
    r.syncPeer = peer.addr;
    sendSyncRequest(s, peer.addr, r.syncId);
  }
}


/**
 * One round of announcements: to the contacts and spare candidates (several paths, as some may be stale) of every
 * group no contact of which has acknowledged yet (each silent target counts as a contact miss, so silent contacts
 * get replaced), and in the first rounds to our own group's members.
 */
function announceReset(s: NodeState, r: Recovery, now: number): void {
  if (r.asked.length > 0) {
    const changes: ContactChange[] = [];
    for (const a of r.asked) if (r.acked[groupOfNode(a, s.cfg.groups)] === 0) s.contactTable.miss(a, now, s.t.failMs, changes);
    s.reportContactChanges(changes);
    r.asked = [];
  }
  const reset: GroupResetMessage = { type: MessageType.GroupReset, ...s.header(), group: s.group, origin: s.address, originIncarnation: s.inc, forwarded: false };
  const targets: MemberEntry[] = [];
  for (let g = 0; g < s.cfg.groups; g++) {
    if (g === s.group || r.acked[g] !== 0) continue;
    targets.length = 0;
    s.contactTable.entries(g, now, targets, { withCandidates: true });
    for (const e of targets) {
      s.send(e.addr, reset);
      r.asked.push(e.addr);
    }
    if (targets.length === 0 && r.sought[g]! < 255) {
      // Nobody of that group known (its only contact died and was dropped, or it is empty): look for one.
      r.sought[g]!++;
      seekGroup(s, g);
    }
  }
  if (r.announces < RESET_ANNOUNCES) {
    const inGroup: GroupResetMessage = { ...reset, forwarded: true };
    for (const m of s.view.all()) if (m.state === MemberState.Alive) s.send(m.addr, inGroup);
  }
  r.announces++;
}

/**
 * Groups (other than ours) whose owners may not have heard of the reset: no contact there acknowledged it, and
 * the group is not one that looks empty (nobody of it known, and no answer to "who is in G?" for
 * RESET_ANNOUNCES rounds running).
 */
function groupsNotReached(s: NodeState, r: Recovery): number {
  let n = 0;
  for (let g = 0; g < s.cfg.groups; g++) if (g !== s.group && r.acked[g] === 0 && r.sought[g]! < RESET_ANNOUNCES) n++;
  return n;
}

/** A contact heard our reset: its group's owners will (it forwards the reset to them). */
export function onGroupResetAck(s: NodeState, msg: GroupResetAckMessage, now: number): void {
  const r = s.recovery;
  if (r === null || !r.announcing || msg.originIncarnation !== s.inc) return s.drop('unknown-request');
  const g = groupOfNode(msg.from, s.cfg.groups);
  if (g === s.group || r.acked[g] !== 0) return;
  r.acked[g] = 1;
  // Owners reached only now need as long as the others had.
  if (r.announces > 1) r.until = Math.max(r.until, now + s.t.recoverMs);
}

/** What this node tells a puller about its hold on the group's state. */
function authorityOf(s: NodeState): SyncAuthority {
  if (s.isSynced) return SyncAuthority.Holds;
  return s.recovery !== null && s.recovery.announcing ? SyncAuthority.Recovering : SyncAuthority.None;
}

/**
 * A group lost its state. The first copy from a recovering node's incarnation re-publishes what this node owns in
 * that group; a copy from the origin itself (not yet forwarded) is passed on to this node's group, at most once a
 * round per origin, so each announcement reaches every group through several contacts.
 */
export function onGroupReset(s: NodeState, msg: GroupResetMessage, now: number): void {
  if (msg.group >= s.cfg.groups || groupOfNode(msg.origin, s.cfg.groups) !== msg.group) return s.drop('invalid-entry');
  // From the origin itself, the incarnation it recovers in is the one in its header (no jump to poison resetsSeen).
  if (msg.from === msg.origin && msg.originIncarnation !== msg.incarnation) return s.drop('invalid-entry');
  let seen = s.resetsSeen.get(msg.origin);
  const fresh = seen === undefined || msg.originIncarnation > seen.incarnation;
  if (!fresh && msg.originIncarnation < seen!.incarnation) return s.drop('stale');
  if (fresh) {
    if (seen === undefined && s.resetsSeen.size >= RESETS_SEEN_MAX) s.resetsSeen.delete(s.resetsSeen.keys().next().value!);
    seen = { incarnation: msg.originIncarnation, forwardedAt: -Infinity };
    s.resetsSeen.set(msg.origin, seen);
    // Members of one group that start recovering in the same round each announce: one re-publication serves them
    // all (what reaches one reaches the others by gossip), so a group is re-published at most once a round. Not
    // longer: a later reset is another loss (the copies re-published earlier may have died with their holders).
    if (now - (s.republishedAt[msg.group] ?? -Infinity) < s.cfg.gossipIntervalMs) s.drop('reset-rate');
    else {
      s.republishedAt[msg.group] = now;
      let republished = 0;
      for (const own of s.own.owned()) {
        if (groupOfName(own.name, s.cfg.groups) !== msg.group || own.dueAt <= now) continue;
        s.own.schedule(own, now);
        republished++;
      }
      s.counters.groupResets++;
      s.event({ type: 'group-reset', group: msg.group, origin: msg.origin, republished });
    }
  }
  // Passed on once per origin incarnation: the origin sends each group to several contacts and candidates, each of
  // which forwards its first copy, so every member hears it along several paths.
  if (msg.forwarded || msg.group === s.group || msg.from !== msg.origin) return;
  const ack: GroupResetAckMessage = { type: MessageType.GroupResetAck, ...s.header(), originIncarnation: msg.originIncarnation };
  s.send(msg.from, ack);
  if (seen!.forwardedAt > -Infinity) return s.drop('reset-rate');
  seen!.forwardedAt = now;
  const fwd: GroupResetMessage = { ...msg, ...s.header(), forwarded: true };
  for (const m of s.view.all()) if (m.state === MemberState.Alive) s.send(m.addr, fwd);
}

/** Ask a contact (or a seed) for members of our own group: we know none. */
export function seekOwnGroup(s: NodeState): void {
  seekGroup(s, s.group);
}

/** "Who is in group g?" to a contact of another group (or a seed); the answer fills the view or the contacts. */
function seekGroup(s: NodeState, group: number): void {
  const via = s.contactTable.randomForeignAddr(s.rng, group) ?? s.seeds[randInt(s.rng, Math.max(1, s.seeds.length))];
  if (via === undefined) return;
  const req: ContactRequestMessage = { type: MessageType.ContactRequest, ...s.header(), id: 0, group, origin: s.address, ttl: s.cfg.contactRequestTtl };
  s.send(via, req);
}

export function markSynced(s: NodeState, from: Address, tuples: number, members: number, how: SyncedHow): void {
  s.sync = null;
  s.recovery = null;
  s.syncNotAuthoritative.clear();
  if (s.isSynced) return;
  s.isSynced = true;
  s.event({ type: 'synced', from, tuples, members, how });
}

export function onSyncRequest(s: NodeState, msg: SyncRequestMessage, now: number): void {
  if (groupOfNode(msg.from, s.cfg.groups) !== s.group) return s.drop('wrong-group');
  if (msg.digests.length !== s.store.digests.length) return s.drop('invalid-entry');
  const want = new Set<number>();
  // Anti-entropy compares settled tuples (news still in flight is gossip's job); a joiner wants everything.
  const mine = msg.wantMembers ? s.store.digests : s.store.settledDigests;
  for (let b = 0; b < msg.digests.length; b++) if (msg.digests[b] !== mine[b]) want.add(b);
  const members: MemberEntry[] = [];
  if (msg.wantMembers) {
    members.push(s.selfEntry());
    for (const m of s.view.all()) if (m.state === MemberState.Alive && m.addr !== msg.from) members.push(entryOf(m, now));
  }
  const tuples = want.size > 0 ? s.store.entriesOfBuckets(want, now) : [];
  for (const chunk of packSyncChunks(s.cfg, s.header(), msg.id, members, tuples, [...want], authorityOf(s))) s.send(msg.from, chunk);
}

export function onSyncChunk(s: NodeState, msg: SyncChunkMessage, now: number): void {
  if (groupOfNode(msg.from, s.cfg.groups) !== s.group) return s.drop('wrong-group');
  learnAll(s, msg.members, now);
  for (const t of msg.tuples) mergeTuple(s, t, now, false);
  if (msg.want.length > 0) {
    // The peer found differences: push our side of those buckets (no `want`, so this never ping-pongs).
    const buckets = new Set(msg.want.filter((b) => b < s.store.digests.length));
    const tuples = s.store.entriesOfBuckets(buckets, now);
    if (tuples.length > 0) for (const chunk of packSyncChunks(s.cfg, s.header(), msg.id, [], tuples, [], authorityOf(s))) s.send(msg.from, chunk);
  }
  if (!msg.last || s.isSynced) return;
  const pulling = s.sync !== null && s.sync.id === msg.id && s.sync.peer === msg.from;
  if (!pulling && !(s.recovery !== null && s.recovery.syncId === msg.id && s.recovery.syncPeer === msg.from)) return;
  if (msg.authority === SyncAuthority.Holds) {
    // A chunk of the reply may have been lost or still be on its way: hold the state once a pull finds nothing
    // left to send (`want` empty), checking again a few times (news arriving meanwhile can keep it from empty).
    const pass = pulling ? s.sync!.pass : 0;
    if (msg.want.length === 0 || pass >= VERIFY_PASSES_MAX) return markSynced(s, msg.from, s.store.size, s.view.size, 'pulled');
    return pullFrom(s, msg.from, now, 0, pass + 1);
  }
  if (!pulling) {
    // A waiter whose pull finds a member still recovering keeps waiting for it (its announcements may take longer
    // than recoverMs to be acknowledged by every group): announcing too would only add another storm of resets.
    const r = s.recovery!;
    if (!r.announcing && msg.authority === SyncAuthority.Recovering) r.until = Math.max(r.until, now + s.t.recoverMs);
    return;
  }
  if (msg.authority === SyncAuthority.Recovering) return beginRecovery(s, now, 'member-recovering');
  // It does not hold the state either: ask another member (or recover when none is left).
  s.syncNotAuthoritative.add(msg.from);
  const tries = s.sync!.tries;
  s.sync = null;
  startSync(s, now, tries);
}
