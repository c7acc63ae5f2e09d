/**
 * Membership: the failure detector and everything that feeds the affinity group view and the contacts: the sender
 * of every datagram (first-hand news), gossip entries (second-hand, with their age), acks and departures.
 */
import type { ContactChange } from './contacts.js';
import { receiversGroupEntries } from './gossip.js';
import { groupOfNode } from './hash.js';
import { goneEntryBytes } from './size.js';
import type { NodeState } from './state.js';
import type { Address, GoneEntry, GossipAckMessage, GossipMessage, Header, LeaveMessage, MemberEntry } from './types.js';
import { GoneReason, MemberState, MessageType } from './types.js';
import { mergeTuple } from './publish.js';
import type { Member } from './view.js';

/** Suspects asked directly each round, at most (chosen at random when there are more). */
export const SUSPECT_PROBES_PER_ROUND = 4;

/**
 * The failure detector, once a round: a member silent for the suspect timeout becomes suspect, one silent for the
 * fail timeout is removed. Silence is second-hand: gossip brings each member's heartbeat with its age. In a group
 * of 100, with 10,000 nodes, some observer now and then hears nothing of some live member for the whole fail timeout
 * (measured: about one such drought a minute among the million observer-member pairs, each a false removal). So a
 * suspect is also asked directly, every round until it is removed: a small gossip datagram that wants an ack. A live
 * member answers, and its answer is first-hand news that refutes the suspicion; a dead one costs a few datagrams.
 */
export function detectFailures(s: NodeState, now: number): void {
  const { suspectMs, failMs } = s.t;
  const attention: Member[] = [];
  s.view.silentOrSuspect(now, suspectMs, attention);
  const probe: Address[] = [];
  let suspects = 0;
  for (const m of attention) {
    const silent = now - m.lastHeard;
    if (silent >= failMs) {
      s.view.remove(m.addr, now + s.cfg.tombstoneMs, false);
      s.counters.removed++;
      s.event({ type: 'member-removed', addr: m.addr, incarnation: m.incarnation, reason: 'failed' });
      continue;
    }
    if (silent >= suspectMs && m.state === MemberState.Alive) {
      s.view.suspect(m);
      s.counters.suspected++;
      s.event({ type: 'member-suspected', addr: m.addr, incarnation: m.incarnation, silentMs: Math.round(silent) });
    }
    if (m.state !== MemberState.Suspect) continue;
    // Reservoir sampling: every suspect has the same chance of a probe when there are more than the limit.
    suspects++;
    if (probe.length < SUSPECT_PROBES_PER_ROUND) probe.push(m.addr);
    else {
      const j = Math.floor(s.rng.next() * suspects);
      if (j < SUSPECT_PROBES_PER_ROUND) probe[j] = m.addr;
    }
  }
  if (probe.length === 0) return;
  const msg: GossipMessage = { type: MessageType.Gossip, ...s.header(), sentAt: now, wantAck: true, members: [s.selfEntry()], foreign: [], gone: [], tuples: [] };
  for (const addr of probe) s.send(addr, msg);
  s.counters.suspectProbes += probe.length;
}

/** The header of any message is first-hand news of its sender. Returns false when the sender is tombstoned. */
export function noteSender(s: NodeState, msg: Header, now: number): boolean {
  if (s.founderClaim && msg.incarnation < s.inc) s.dropAuthority('older-node');
  const e: MemberEntry = { addr: msg.from, incarnation: msg.incarnation, heartbeat: msg.heartbeat, ageMs: 0 };
  const group = groupOfNode(msg.from, s.cfg.groups);
  if (group !== s.group) {
    const changes: ContactChange[] = [];
    s.contactTable.offer(e, now, s.t.failMs, changes, group);
    s.contactTable.heard(msg.from, msg.incarnation, msg.heartbeat, now, group);
    s.reportContactChanges(changes);
    return true;
  }
  const tomb = s.view.tombstone(msg.from);
  if (tomb !== undefined && msg.incarnation <= tomb.incarnation) {
    // It is alive but we buried it: tell it, so it comes back with a higher incarnation everyone will accept.
    if (!s.toldDead.has(msg.from)) {
      s.toldDead.add(msg.from);
      const gone: GoneEntry = { addr: msg.from, incarnation: tomb.incarnation, reason: tomb.left ? GoneReason.Left : GoneReason.Failed };
      sendAck(s, msg.from, 0, [], [gone]);
    }
    s.drop('tombstoned');
    return false;
  }
  mergeMember(s, e, now);
  return true;
}

/** Route an entry: own group -> the view; another group -> contacts. */
export function learn(s: NodeState, e: MemberEntry, now: number, changes: ContactChange[]): void {
  if (e.addr === s.address) return;
  const group = groupOfNode(e.addr, s.cfg.groups);
  if (group === s.group) mergeMember(s, e, now);
  else s.contactTable.offer(e, now, s.t.failMs, changes, group);
}

export function learnAll(s: NodeState, entries: readonly MemberEntry[], now: number): void {
  const changes: ContactChange[] = [];
  for (const e of entries) learn(s, e, now, changes);
  s.reportContactChanges(changes);
}

export function mergeMember(s: NodeState, e: MemberEntry, now: number): void {
  const outcome = s.view.merge(e, now, s.t.suspectMs);
  switch (outcome) {
    case 'new':
      return s.event({ type: 'member-joined', addr: e.addr, incarnation: e.incarnation });
    case 'rejoined':
      return s.event({ type: 'member-rejoined', addr: e.addr, incarnation: e.incarnation, previous: s.view.previousIncarnation });
    case 'refuted':
      s.counters.refuted++;
      return s.event({ type: 'member-refuted', addr: e.addr, incarnation: e.incarnation });
    case 'full':
      return s.drop('view-full');
    default:
      return;
  }
}

export function applyGone(s: NodeState, g: GoneEntry, now: number): void {
  if (g.addr === s.address) {
    if (g.incarnation >= s.inc) {
      s.inc = g.incarnation + 1;
      s.event({ type: 'incarnation-bumped', incarnation: s.inc, reason: 'declared-dead' });
      s.dropAuthority('declared-dead');
    }
    return;
  }
  if (g.reason !== GoneReason.Left) return; // failures are each node's own judgement, never second-hand
  const group = groupOfNode(g.addr, s.cfg.groups);
  if (group !== s.group) {
    const changes: ContactChange[] = [];
    s.contactTable.drop(group, g.addr, 'left', now, s.t.failMs, changes);
    s.reportContactChanges(changes);
    return;
  }
  const m = s.view.get(g.addr);
  if (m !== undefined && m.incarnation > g.incarnation) return;
  const known = s.view.tombstone(g.addr);
  if (m !== undefined) {
    s.view.remove(g.addr, now + s.cfg.tombstoneMs, true);
    s.event({ type: 'member-removed', addr: g.addr, incarnation: m.incarnation, reason: 'left' });
  } else if (known === undefined || known.incarnation < g.incarnation) {
    if (!s.view.bury(g.addr, g.incarnation, now + s.cfg.tombstoneMs, true)) s.drop('tombstones-full');
  } else return; // old news
  s.queue.push({ kind: 'gone', key: `g:${g.addr}`, gone: g, sent: 0, bytes: goneEntryBytes(g) }) || s.drop('broadcast-queue-full');
}

export function onGossip(s: NodeState, msg: GossipMessage, now: number, trusted: boolean): void {
  if (trusted) learnAll(s, msg.members, now);
  learnAll(s, msg.foreign, now);
  for (const g of msg.gone) applyGone(s, g, now);
  if (msg.tuples.length > 0) {
    if (groupOfNode(msg.from, s.cfg.groups) !== s.group) s.drop('wrong-group');
    else for (const t of msg.tuples) mergeTuple(s, t, now, true);
  }
  if (msg.wantAck && trusted) {
    const sameGroup = groupOfNode(msg.from, s.cfg.groups) === s.group;
    const members: MemberEntry[] = [];
    if (!sameGroup) {
      members.push(s.selfEntry());
      s.view.pickForGossip(now, s.cfg.crossGroupEntries, 0, s.rng, members);
      members.push(...receiversGroupEntries(s.contactTable, groupOfNode(msg.from, s.cfg.groups), msg.from, now));
    }
    sendAck(s, msg.from, msg.sentAt, members, []);
  }
}

export function onAck(s: NodeState, msg: GossipAckMessage, now: number): void {
  const rtt = msg.echoSentAt > 0 && msg.echoSentAt <= now ? now - msg.echoSentAt : null;
  const changes: ContactChange[] = [];
  if (rtt !== null) {
    const m = s.view.get(msg.from);
    if (m !== undefined) m.rttMs = m.rttMs === null ? rtt : 0.8 * m.rttMs + 0.2 * rtt;
    else s.contactTable.rtt(msg.from, rtt, changes);
    if (s.probe !== null && s.probe.addr === msg.from) s.probe.acked = true;
  }
  for (const e of msg.members) learn(s, e, now, changes);
  s.reportContactChanges(changes);
  for (const g of msg.gone) applyGone(s, g, now);
}

export function sendAck(s: NodeState, to: Address, echoSentAt: number, members: MemberEntry[], gone: GoneEntry[]): void {
  const ack: GossipAckMessage = { type: MessageType.GossipAck, ...s.header(), echoSentAt, members, gone };
  s.send(to, ack);
}

export function onLeave(s: NodeState, msg: LeaveMessage, now: number): void {
  applyGone(s, { addr: msg.from, incarnation: msg.incarnation, reason: GoneReason.Left }, now);
}
