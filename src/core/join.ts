/**
 * Join and state transfer: a new node asks a seed for members of its group and contacts in the others, then pulls
 * its group's view and filetuples from one member in chunks; until that finishes it is not authoritative for its
 * group. Anti-entropy uses the same exchange: bucket digests, then only the buckets that differ, both ways.
 */
import { chunkEntries, packSyncChunks } from './gossip.js';
import { groupOfNode } from './hash.js';
import { randInt } from './rng.js';
import type { NodeState } from './state.js';
import type {
  Address,
  ContactRequestMessage,
  JoinReplyMessage,
  JoinRequestMessage,
  MemberEntry,
  SyncChunkMessage,
  SyncRequestMessage,
} from './types.js';
import { MemberState, MessageType } from './types.js';
import { entryOf } from './view.js';
import { learnAll } from './membership.js';
import { mergeTuple } from './publish.js';

/** Attempts at the join state transfer before a node declares itself synced with what it has. */
const SYNC_TRIES_MAX = 3;
/** Sync attempts (each 4 request timeouts) with nobody of our group known, before we conclude we are its first. */
const ALONE_TRIES_MAX = 8;

export function sendJoin(s: NodeState, now: number): void {
  const seed = s.seeds[(s.joinAttempts + randInt(s.rng, s.seeds.length)) % s.seeds.length]!;
  s.joinAttempts++;
  s.joinId = s.nextId++;
  const req: JoinRequestMessage = { type: MessageType.JoinRequest, ...s.header(), id: s.joinId };
  s.send(seed, req);
  s.nextJoinAt = now + s.cfg.joinRetryMs;
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
  if (!s.isSynced && s.sync === null && (s.view.size > 0 || msg.chunk === msg.chunks - 1)) startSync(s, now, 0);
}

export function startSync(s: NodeState, now: number, tries: number): void {
  const peer = s.view.randomAlive(s.rng, 1)[0];
  if (peer === undefined) {
    // Nobody of our group known yet. Keep looking (seekOwnGroup) for a while before concluding that we are the
    // group's first member and what we hold is the whole truth.
    if (tries >= ALONE_TRIES_MAX) return markSynced(s, s.address, 0, 0);
    s.sync = { id: -1, peer: s.address, timeoutAt: now + 4 * s.cfg.requestTimeoutMs, tries };
    seekOwnGroup(s);
    return;
  }
  const id = s.nextId++;
  s.sync = { id, peer: peer.addr, timeoutAt: now + 4 * s.cfg.requestTimeoutMs, tries };
  const req: SyncRequestMessage = { type: MessageType.SyncRequest, ...s.header(), id, digests: Array.from(s.store.digests), wantMembers: true };
  s.send(peer.addr, req);
}

export function syncTimedOut(s: NodeState, now: number): void {
  const tries = (s.sync?.tries ?? 0) + 1;
  const hadPeer = s.sync !== null && s.sync.id !== -1;
  s.sync = null;
  if (hadPeer && tries >= SYNC_TRIES_MAX) markSynced(s, s.address, s.store.size, s.view.size);
  else startSync(s, now, tries);
}

/** Ask a contact (or a seed) for members of our own group: we know none. */
export function seekOwnGroup(s: NodeState): void {
  const via = s.contactTable.randomForeignAddr(s.rng, s.group) ?? s.seeds[randInt(s.rng, Math.max(1, s.seeds.length))];
  if (via === undefined) return;
  const req: ContactRequestMessage = { type: MessageType.ContactRequest, ...s.header(), id: 0, group: s.group, origin: s.address, ttl: s.cfg.contactRequestTtl };
  s.send(via, req);
}

export function markSynced(s: NodeState, from: Address, tuples: number, members: number): void {
  s.sync = null;
  if (s.isSynced) return;
  s.isSynced = true;
  s.event({ type: 'synced', from, tuples, members });
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
  for (const chunk of packSyncChunks(s.cfg, s.header(), msg.id, members, tuples, [...want])) s.send(msg.from, chunk);
}

export function onSyncChunk(s: NodeState, msg: SyncChunkMessage, now: number): void {
  if (groupOfNode(msg.from, s.cfg.groups) !== s.group) return s.drop('wrong-group');
  learnAll(s, msg.members, now);
  for (const t of msg.tuples) mergeTuple(s, t, now, false);
  if (msg.want.length > 0) {
    // The peer found differences: push our side of those buckets (no `want`, so this never ping-pongs).
    const buckets = new Set(msg.want.filter((b) => b < s.store.digests.length));
    const tuples = s.store.entriesOfBuckets(buckets, now);
    if (tuples.length > 0) for (const chunk of packSyncChunks(s.cfg, s.header(), msg.id, [], tuples, [])) s.send(msg.from, chunk);
  }
  if (msg.last && s.sync !== null && s.sync.id === msg.id) markSynced(s, msg.from, s.store.size, s.view.size);
}
