/**
 * Filetuples in and out: storing tuples of our group (and queuing them for gossip), publishing and unpublishing
 * our own tuples through a contact of their group, refreshing them before they expire, and serving publishes.
 *
 * A publish the application asked for is reported "stored" once min(2, group size) members hold it: the first
 * member to acknowledge says how large its group is, and the request goes on to a second member (another contact,
 * or one found through "who is a contact of G?") unless the group has one member. A single copy lost with its
 * holder a second later would otherwise be a "stored" that nobody can find. If the deadline passes with one copy
 * the reply says so (replicas: 1). Refreshes need one copy: gossip spreads them, and they are repeated.
 */
import type { TupleMergeOutcome } from './filetuples.js';
import { groupOfName } from './hash.js';
import type { OwnTuple } from './published.js';
import type { Pending } from './requests.js';
import { newPending } from './requests.js';
import { tupleEntryBytes } from './size.js';
import { LimitError } from './errors.js';
import type { NodeState } from './state.js';
import type { PublishAckMessage, PublishRequestMessage, TupleEntry } from './types.js';
import { MessageType } from './types.js';
import { advance } from './lookup.js';

/** Owned tuples (re)sent per tick at most: a restart with many tuples spreads its republishing over rounds. */
const REFRESH_PER_TICK_MAX = 64;

export function mergeTuple(s: NodeState, t: TupleEntry, now: number, gossip: boolean): TupleMergeOutcome {
  if (groupOfName(t.name, s.cfg.groups) !== s.group) {
    s.drop('wrong-group');
    return 'stale';
  }
  const outcome = s.store.merge(t, now);
  if (outcome === 'filetuples-full' || outcome === 'locations-full') {
    s.drop(outcome);
    return outcome;
  }
  if (outcome === 'new' || outcome === 'updated' || outcome === 'refreshed') {
    if (outcome !== 'refreshed') s.event({ type: 'tuple-stored', name: t.name, owner: t.owner, fresh: outcome === 'new' });
    if (gossip) {
      const ok = s.queue.push({ kind: 'tuple', key: `t:${t.owner}:${t.name}`, tuple: t, sent: 0, bytes: tupleEntryBytes(t), expiresAt: now + t.ttlMs });
      if (!ok) s.drop('broadcast-queue-full');
    }
  }
  return outcome;
}

export function publishVersion(s: NodeState, name: string, location: string, deleted: boolean, now: number): number {
  const id = s.nextId++;
  const prev = s.own.get(name);
  const seq = prev !== undefined && prev.versionIncarnation === s.inc ? prev.versionSeq + 1 : 1;
  const own: OwnTuple = { name, location, versionIncarnation: s.inc, versionSeq: seq, deleted, dueAt: now + refreshDelay(s), confirmed: false };
  if (!s.own.set(own)) {
    s.drop('published-full');
    throw new LimitError(`this node already publishes ${s.cfg.publishedMax} names (publishedMax)`);
  }
  deliver(s, id, own, now, false);
  return id;
}

/** Send one owned tuple to its group: stored here if it is our group, else through a contact. */
export function deliver(s: NodeState, id: number, own: OwnTuple, now: number, silent: boolean): void {
  const tuple: TupleEntry = { name: own.name, location: own.location, owner: s.address, versionIncarnation: own.versionIncarnation, versionSeq: own.versionSeq, ttlMs: s.cfg.filetupleTtlMs, deleted: own.deleted };
  const group = groupOfName(own.name, s.cfg.groups);
  const ownGroup = group === s.group;
  if (ownGroup) {
    mergeTuple(s, tuple, now, true);
    own.confirmed = true;
    if (silent || s.view.groupSize === 1 || s.pending.full) {
      if (!silent) s.event({ type: 'publish-done', result: { id, name: own.name, deleted: own.deleted, status: 'stored', storedAt: s.address, latencyMs: 0, replicas: 1, groupSize: s.view.groupSize } });
      return;
    }
  } else if (s.pending.full) {
    s.drop('pending-full');
    if (!silent) s.event({ type: 'publish-done', result: { id, name: own.name, deleted: own.deleted, status: 'queued', storedAt: null, latencyMs: 0, replicas: 0, groupSize: 0 } });
    s.own.schedule(own, now + retryDelay(s));
    return;
  }
  const p = newPending(id, 'publish', own.name, group, tuple, now, s.cfg.lookupDeadlineMs);
  p.silent = silent;
  p.acksWanted = silent ? 1 : 2;
  if (ownGroup) {
    p.acks = 1;
    p.acked.add(s.address);
    p.storedAt = s.address;
    p.groupSize = s.view.groupSize;
  }
  s.pending.add(p);
  advance(s, p, now);
}

/**
 * A publish has all the copies it waits for, or as many as it could get: tell the application. With fewer than it
 * wanted, the tuple is sent again after retryDelay instead of at its next refresh: a lone copy must not wait 20
 * minutes for a second one.
 */
export function finishPublish(s: NodeState, p: Pending, now: number): void {
  s.pending.delete(p.id);
  if (p.acks < p.acksWanted) {
    const own = s.own.get(p.name);
    if (own !== undefined && p.tuple !== null && own.versionSeq === p.tuple.versionSeq && own.dueAt > now + retryDelay(s)) s.own.schedule(own, now + retryDelay(s));
  }
  if (!p.silent) s.event({ type: 'publish-done', result: { id: p.id, name: p.name, deleted: p.tuple?.deleted ?? false, status: 'stored', storedAt: p.storedAt, latencyMs: now - p.startedAt, replicas: p.acks, groupSize: p.groupSize } });
}

export function refreshDue(s: NodeState, now: number): void {
  for (const own of s.own.takeDue(now, REFRESH_PER_TICK_MAX)) {
    if (own.deleted && own.confirmed) {
      s.own.delete(own.name); // the tombstone reached its group; it lives out its TTL there
      continue;
    }
    own.confirmed = false;
    s.own.schedule(own, now + refreshDelay(s));
    deliver(s, s.nextId++, own, now, true);
  }
}

export function refreshDelay(s: NodeState): number {
  return s.cfg.filetupleRefreshMs * (0.9 + 0.2 * s.rng.next());
}

export function retryDelay(s: NodeState): number {
  return Math.min(s.cfg.filetupleRefreshMs, Math.max(s.cfg.joinRetryMs, 5 * s.cfg.gossipIntervalMs));
}

export function onPublishRequest(s: NodeState, msg: PublishRequestMessage, now: number): void {
  s.counters.publishRequestsServed++;
  const t = msg.tuple;
  let accepted = groupOfName(t.name, s.cfg.groups) === s.group && t.owner === msg.from;
  if (accepted) {
    const outcome = mergeTuple(s, t, now, true);
    accepted = outcome !== 'filetuples-full' && outcome !== 'locations-full';
  } else s.drop('wrong-group');
  const ack: PublishAckMessage = { type: MessageType.PublishAck, ...s.header(), id: msg.id, accepted, groupSize: s.view.groupSize };
  s.send(msg.from, ack);
}

export function onPublishAck(s: NodeState, msg: PublishAckMessage, now: number): void {
  const p = s.pending.get(msg.id);
  if (p === undefined || p.kind !== 'publish' || !p.tried.has(msg.from)) return s.drop('unknown-request');
  if (!msg.accepted) {
    if (p.current === msg.from) {
      p.current = null;
      advance(s, p, now);
    }
    return;
  }
  if (p.acked.has(msg.from)) return s.drop('unknown-request'); // a duplicated ack
  p.acked.add(msg.from);
  const own = s.own.get(p.name);
  if (own !== undefined && p.tuple !== null && own.versionIncarnation === p.tuple.versionIncarnation && own.versionSeq === p.tuple.versionSeq) own.confirmed = true;
  p.acks++;
  p.storedAt ??= msg.from;
  p.groupSize = Math.max(1, msg.groupSize);
  p.acksWanted = Math.min(p.acksWanted, p.groupSize);
  if (p.acks >= p.acksWanted) return finishPublish(s, p, now);
  if (p.current === msg.from) {
    p.current = null;
    advance(s, p, now);
  }
}
