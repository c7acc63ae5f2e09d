/**
 * The failure detector asks suspects directly: a live member whose heartbeat news stopped reaching this node is
 * kept by its own answer; a dead one is still removed at the fail timeout; probes per round are bounded.
 */
import { describe, expect, test } from 'vitest';
import { resolveConfig, timeouts } from '../../src/core/config.js';
import { SUSPECT_PROBES_PER_ROUND } from '../../src/core/membership.js';
import { KelipsNode } from '../../src/core/node.js';
import { SeededRng } from '../../src/core/rng.js';
import type { GossipAckMessage, GossipMessage, Message } from '../../src/core/types.js';
import { MessageType } from '../../src/core/types.js';
import { addr } from './harness.js';

const cfg = resolveConfig({ groups: 1 }, 'lan');
const A = addr(0);

function gossipFrom(from: string, heartbeat: number, now: number): GossipMessage {
  return { type: MessageType.Gossip, cluster: cfg.cluster, groups: cfg.groups, from, incarnation: 1, heartbeat, sentAt: now, wantAck: false, members: [], foreign: [], gone: [], tuples: [] };
}

/** A founder node that has heard first-hand, at t=0, from each of `peers`. */
function nodeWith(peers: string[]): KelipsNode {
  const n = new KelipsNode({ config: cfg, self: A, incarnation: 1, rng: new SeededRng(3), now: 0, seeds: [], founder: true, firstStart: true });
  for (const p of peers) n.handle(p, gossipFrom(p, 1, 0), 0);
  n.drain();
  return n;
}

/** Tick every round up to `until`; returns the probes (gossip wanting an ack, to a member) sent meanwhile. */
function runRounds(n: KelipsNode, from: number, until: number): { at: number; to: string; msg: Message }[] {
  const probes: { at: number; to: string; msg: Message }[] = [];
  for (let t = from; t <= until; t += cfg.gossipIntervalMs) {
    n.tick(t);
    for (const s of n.drain().sends) if (s.msg.type === MessageType.Gossip && s.msg.wantAck && s.msg.members.length === 1) probes.push({ at: t, to: s.to, msg: s.msg });
  }
  return probes;
}

describe('suspects are probed directly', () => {
  const X = addr(1);
  const t = timeouts(cfg, 2);

  test('a live suspect answers the probe and is kept past the fail timeout', () => {
    const n = nodeWith([X]);
    const probes = runRounds(n, 1000, t.suspectMs);
    expect(probes.map((p) => p.to)).toEqual([X]);
    expect(probes[0]!.at).toBe(t.suspectMs);
    // X acks: its header is first-hand news of it.
    const ack: GossipAckMessage = { type: MessageType.GossipAck, cluster: cfg.cluster, groups: cfg.groups, from: X, incarnation: 1, heartbeat: 7, echoSentAt: t.suspectMs, members: [], gone: [] };
    n.handle(X, ack, t.suspectMs + 2);
    expect(n.drain().events.some((e) => e.type === 'member-refuted')).toBe(true);
    runRounds(n, t.suspectMs + 1000, t.failMs + 1000);
    expect(n.memberState(X)).not.toBeNull();
  });

  test('a dead suspect is probed every round and removed at the fail timeout', () => {
    const n = nodeWith([X]);
    const probes = runRounds(n, 1000, t.failMs - 1000);
    expect(probes).toHaveLength((t.failMs - t.suspectMs) / cfg.gossipIntervalMs);
    expect(n.memberState(X)).not.toBeNull();
    runRounds(n, t.failMs, t.failMs);
    expect(n.memberState(X)).toBeNull();
  });

  test(`at most ${SUSPECT_PROBES_PER_ROUND} probes a round, spread over all suspects`, () => {
    const peers = Array.from({ length: 10 }, (_, i) => addr(i + 1));
    const n = nodeWith(peers);
    const ts = timeouts(cfg, 11);
    const probes = runRounds(n, 1000, ts.failMs - 1000);
    const perRound = new Map<number, number>();
    for (const p of probes) perRound.set(p.at, (perRound.get(p.at) ?? 0) + 1);
    expect(Math.max(...perRound.values())).toBe(SUSPECT_PROBES_PER_ROUND);
    expect(new Set(probes.map((p) => p.to)).size).toBe(peers.length);
  });
});
