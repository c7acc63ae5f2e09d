/**
 * Request routing: lookups and publishes go to the best contact of the name's group (1 hop), then the other
 * contacts, then to nodes named by "who is a contact of group G?" (2 hops), until the deadline. Also serves
 * lookups and contact requests from other nodes.
 */
import type { ContactChange } from './contacts.js';
import { groupOfName, groupOfNode } from './hash.js';
import type { Pending } from './requests.js';
import { headerBytes, locationBytes } from './size.js';
import type { NodeState } from './state.js';
import type {
  Address,
  ContactReplyMessage,
  ContactRequestMessage,
  Location,
  LookupReplyMessage,
  LookupRequestMessage,
  MemberEntry,
  PublishRequestMessage,
} from './types.js';
import { LookupStatus, MemberState, MessageType } from './types.js';
import { learn } from './membership.js';
import { finishPublish, retryDelay } from './publish.js';

/**
 * Answer a lookup of our own group from what we hold, when we can: a copy is "found" whatever our state; "not
 * found" only while we hold the group's state (join.ts). Returns false when we cannot answer.
 */
/** Rounds a publish makes over the targets it knows, within its deadline (one request timeout each). */
const PUBLISH_PASSES_MAX = 3;

export function finishLookupLocal(s: NodeState, id: number, name: string, now: number, startedAt = now, attempts = 0): boolean {
  const locations = s.store.locations(name, now);
  if (locations.length === 0 && !s.isSynced) return false;
  s.event({ type: 'lookup-done', result: { id, name, status: locations.length > 0 ? LookupStatus.Found : LookupStatus.NotFound, locations, hops: 0, attempts, latencyMs: now - startedAt, answeredBy: s.address } });
  return true;
}

export function onLookupRequest(s: NodeState, msg: LookupRequestMessage, now: number): void {
  s.counters.lookupRequestsServed++;
  let status: LookupStatus;
  let locations: Location[] = [];
  if (groupOfName(msg.name, s.cfg.groups) !== s.group) {
    s.drop('wrong-group');
    status = LookupStatus.NotReady;
  } else {
    locations = fitLocations(s, s.store.locations(msg.name, now));
    status = locations.length > 0 ? LookupStatus.Found : s.isSynced ? LookupStatus.NotFound : LookupStatus.NotReady;
    if (status === LookupStatus.NotReady) s.counters.notReadyAnswers++;
  }
  const reply: LookupReplyMessage = { type: MessageType.LookupReply, ...s.header(), id: msg.id, status, locations };
  s.send(msg.from, reply);
}

export function onLookupReply(s: NodeState, msg: LookupReplyMessage, now: number): void {
  const p = s.pending.get(msg.id);
  if (p === undefined || p.kind !== 'lookup' || !p.tried.has(msg.from)) return s.drop('unknown-request');
  if (p.current === msg.from && p.sentAt > 0 && p.group !== s.group) {
    const changes: ContactChange[] = [];
    s.contactTable.rtt(msg.from, now - p.sentAt, changes);
    s.reportContactChanges(changes);
  }
  if (msg.status === LookupStatus.NotReady) {
    if (p.current === msg.from) {
      p.current = null;
      advance(s, p, now);
    }
    return;
  }
  s.pending.delete(p.id);
  s.event({ type: 'lookup-done', result: { id: p.id, name: p.name, status: msg.status, locations: msg.locations.slice(), hops: p.currentHops, attempts: p.attempts, latencyMs: now - p.startedAt, answeredBy: msg.from } });
}

/** As many locations as fit one reply datagram (the rest are dropped: one datagram answers a lookup). */
export function fitLocations(s: NodeState, all: Location[]): Location[] {
  const h = s.header();
  let budget = s.cfg.datagramBytesMax - headerBytes(h.cluster, h.groups, h.from, h.incarnation, h.heartbeat) - 16;
  const out: Location[] = [];
  for (const l of all) {
    budget -= locationBytes(l);
    if (budget < 0) break;
    out.push(l);
  }
  return out;
}

/** Send the request's next attempt, or look for a contact, or give up. */
export function advance(s: NodeState, p: Pending, now: number): void {
  if (now >= p.deadline) return expire(s, p, now);
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
    if (p.group === s.group) target = untriedMember(s, p.tried);
    else target = s.contactTable.best(p.group, p.tried);
    if (target === null && p.kind === 'publish' && p.tried.size > p.acked.size && p.passes < PUBLISH_PASSES_MAX) {
      // Every known target was tried: a datagram may have been lost (a re-publication for a recovering group has
      // one target, and its wait is bounded by recoverMs). Go round the ones that did not acknowledge again.
      p.passes++;
      p.tried = new Set(p.acked);
      if (p.group === s.group) target = untriedMember(s, p.tried);
      else target = s.contactTable.best(p.group, p.tried);
    }
  }
  if (target !== null) {
    p.tried.add(target);
    p.attempts++;
    p.current = target;
    p.currentHops = hops;
    p.sentAt = now;
    p.timeoutAt = now + s.cfg.requestTimeoutMs;
    if (p.kind === 'lookup') {
      const req: LookupRequestMessage = { type: MessageType.LookupRequest, ...s.header(), id: p.id, name: p.name };
      s.send(target, req);
    } else {
      const req: PublishRequestMessage = { type: MessageType.PublishRequest, ...s.header(), id: p.id, tuple: p.tuple! };
      s.send(target, req);
    }
    return;
  }
  p.current = null;
  // A publish in our own group with nobody left to copy it to: the copies we have are all there can be.
  if (p.kind === 'publish' && p.group === s.group && p.acks > 0) return finishPublish(s, p, now);
  if (p.discoverTimeoutAt !== Infinity) return; // already asking someone
  const asker = untriedMember(s, p.asked) ?? s.contactTable.randomForeignAddr(s.rng, p.group);
  if (asker === null || p.asked.has(asker)) {
    if (p.group === s.group && p.kind === 'lookup') {
      // Our own group and nobody else to ask: what we hold is all there is, if we hold the group's state.
      if (finishLookupLocal(s, p.id, p.name, now, p.startedAt, p.attempts)) return s.pending.delete(p.id);
    }
    return expire(s, p, now);
  }
  p.asked.add(asker);
  p.discoverTimeoutAt = now + 2 * s.cfg.requestTimeoutMs;
  const req: ContactRequestMessage = { type: MessageType.ContactRequest, ...s.header(), id: p.id, group: p.group, origin: s.address, ttl: s.cfg.contactRequestTtl };
  s.send(asker, req);
}

export function untriedMember(s: NodeState, tried: ReadonlySet<Address>): Address | null {
  for (const m of s.view.randomAlive(s.rng, 3)) if (!tried.has(m.addr)) return m.addr;
  for (const m of s.view.all()) if (m.state === MemberState.Alive && !tried.has(m.addr)) return m.addr;
  return null;
}

/** A request ran out of time or options. */
export function expire(s: NodeState, p: Pending, now: number): void {
  s.pending.delete(p.id);
  if (p.kind === 'lookup') {
    s.event({ type: 'lookup-done', result: { id: p.id, name: p.name, status: LookupStatus.Unavailable, locations: [], hops: 0, attempts: p.attempts, latencyMs: now - p.startedAt, answeredBy: null } });
    return;
  }
  if (p.acks > 0) return finishPublish(s, p, now);
  const own = s.own.get(p.name);
  if (own !== undefined) s.own.schedule(own, now + retryDelay(s));
  if (!p.silent) s.event({ type: 'publish-done', result: { id: p.id, name: p.name, deleted: p.tuple?.deleted ?? false, status: 'queued', storedAt: null, latencyMs: now - p.startedAt, replicas: 0, groupSize: 0 } });
}

export function checkPending(s: NodeState, now: number): void {
  if (s.pending.size === 0) return;
  for (const p of [...s.pending.values()]) {
    if (now >= p.deadline) {
      expire(s, p, now);
    } else if (p.current !== null && now >= p.timeoutAt) {
      if (p.group !== s.group) {
        const changes: ContactChange[] = [];
        s.contactTable.miss(p.current, now, s.t.failMs, changes);
        s.reportContactChanges(changes);
      }
      p.current = null;
      advance(s, p, now);
    } else if (p.discoverTimeoutAt <= now) {
      p.discoverTimeoutAt = Infinity;
      if (p.current === null) advance(s, p, now);
    }
  }
}

export function onContactRequest(s: NodeState, msg: ContactRequestMessage, now: number): void {
  const candidates: MemberEntry[] = [];
  if (msg.group === s.group) {
    candidates.push(s.selfEntry());
    s.view.pickForGossip(now, 3, 0, s.rng, candidates);
  } else if (msg.group < s.cfg.groups) {
    s.contactTable.entries(msg.group, now, candidates, { withCandidates: true });
  }
  if (candidates.length > 0) {
    const reply: ContactReplyMessage = { type: MessageType.ContactReply, ...s.header(), id: msg.id, group: msg.group, candidates: candidates.slice(0, 8) };
    s.send(msg.origin, reply);
    return;
  }
  if (msg.ttl <= 0) return;
  const next = s.view.randomAlive(s.rng, 1, msg.origin)[0]?.addr ?? (s.contactTable.randomForeignAddr(s.rng, msg.group) ?? undefined);
  if (next === undefined || next === msg.origin) return;
  s.send(next, { ...msg, ...s.header(), ttl: msg.ttl - 1 });
}

export function onContactReply(s: NodeState, msg: ContactReplyMessage, now: number): void {
  const changes: ContactChange[] = [];
  for (const e of msg.candidates) if (groupOfNode(e.addr, s.cfg.groups) === msg.group) learn(s, e, now, changes);
  s.reportContactChanges(changes);
  const p = s.pending.get(msg.id);
  if (p === undefined || p.group !== msg.group) return;
  for (const e of msg.candidates) {
    if (e.addr !== s.address && groupOfNode(e.addr, s.cfg.groups) === p.group && !p.tried.has(e.addr)) p.discovered.push(e.addr);
  }
  p.discoverTimeoutAt = Infinity;
  if (p.current === null) advance(s, p, now);
}
