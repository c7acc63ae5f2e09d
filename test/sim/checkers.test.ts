/** The checkers must catch what they claim to catch: each violation provoked with a fake node. */
import { describe, expect, test } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { groupOfName } from '../../src/core/hash.js';
import { SeededRng } from '../../src/core/rng.js';
import { MemberState, type Message } from '../../src/core/types.js';
import { SafetyChecker, Violations } from '../../src/sim/checkers.js';
import { Cluster } from '../../src/sim/cluster.js';
import { Faults } from '../../src/sim/faults.js';
import { checkMembership } from '../../src/sim/liveness.js';
import { PERFECT_LINKS } from '../../src/sim/network.js';
import type { Codec } from '../../src/sim/sim-node.js';
import { FakeNode } from './fake-node.js';
import { jsonCodec } from './json-codec.js';

function setup(nodes = 12, codec: Codec = jsonCodec) {
  const c = new Cluster({ seed: 3, config: resolveConfig({ groups: 3, contactsPerGroup: 2 }, 'local'), links: PERFECT_LINKS, factory: (o) => new FakeNode(o), codec });
  const faults = new Faults(c, 3);
  const v = new Violations();
  const checker = new SafetyChecker(c, faults, v, new SeededRng(1));
  c.observers.push(checker);
  for (let i = 0; i < nodes; i++) c.addNode(i === 0 ? [] : [0]);
  const fake = (s: number) => c.node(s) as FakeNode;
  const inGroup = (g: number) => [...Array(c.size).keys()].filter((s) => c.group[s] === g);
  const member = (s: number, heartbeat: number, incarnation = c.incarnation[s]!) => ({
    addr: c.addrs[s]!, incarnation, heartbeat, ageMs: 0, rttMs: null, state: MemberState.Alive, self: false,
  });
  return { c, faults, v, checker, fake, inGroup, member };
}

describe('safety checkers', () => {
  test('a view holding a member of another group', () => {
    const { c, v, checker, fake, inGroup, member } = setup();
    const [a] = inGroup(0);
    const [x] = inGroup(1);
    fake(a!).fakeMembers = [member(x!, 1)];
    checker.check(c.now);
    expect(v.byKind['view-foreign-member']).toBe(1);
  });

  test('heartbeats: back within an incarnation is caught; a higher incarnation may restart them; a lower one is caught', () => {
    const { c, v, checker, fake, inGroup, member } = setup();
    const [a, b] = inGroup(0);
    const inc = c.incarnation[b!]!;
    fake(a!).fakeMembers = [member(b!, 10)];
    checker.check(c.now);
    fake(a!).fakeMembers = [member(b!, 9)];
    checker.check(c.now);
    expect(v.byKind['heartbeat-back']).toBe(1);
    fake(a!).fakeMembers = [member(b!, 1, inc + 1)];
    checker.check(c.now);
    expect(v.count).toBe(1);
    fake(a!).fakeMembers = [member(b!, 50, inc)];
    checker.check(c.now);
    expect(v.byKind['incarnation-back']).toBe(1);
  });

  test('tuples of another group, contacts of the wrong group, too many contacts', () => {
    const { c, v, checker, fake, inGroup } = setup();
    const [a] = inGroup(0);
    let name = 'x';
    for (let i = 0; groupOfName(name, 3) === 0; i++) name = `file-${i}`;
    fake(a!).fakeTuples = [{ name, location: 'l', owner: c.addrs[a!]!, versionIncarnation: 1, versionSeq: 1, deleted: false, ttlMs: 1000 }];
    fake(a!).fakeContacts.set(1, [c.addrs[inGroup(2)[0]!]!]);
    fake(a!).fakeContacts.set(2, inGroup(2).slice(0, 3).map((s) => c.addrs[s]!));
    checker.check(c.now);
    expect(v.byKind['tuple-foreign-group']).toBe(1);
    expect(v.byKind['contact-wrong-group']).toBe(1);
    expect(v.byKind['contacts-over-limit']).toBe(1);
  });

  test('false removal: a running, reachable node declared failed; not when it was paused or is crashed', () => {
    const { c, faults, v, checker, fake, inGroup } = setup();
    const [a, b, d, e] = inGroup(0);
    c.runUntil(60_000);
    faults.pauseFor(d!, 1000);
    c.runUntil(61_000);
    faults.crash(e!);
    const removed = (s: number) => ({ type: 'member-removed' as const, addr: c.addrs[s]!, incarnation: c.incarnation[s]!, reason: 'failed' as const });
    c.command(a!, () => fake(a!).emit(removed(b!)));
    c.command(a!, () => fake(a!).emit(removed(d!)));
    c.command(a!, () => fake(a!).emit(removed(e!)));
    c.command(a!, () => fake(a!).emit({ ...removed(b!), reason: 'left' }));
    expect(checker.falseRemovals).toBe(1);
    expect(v.list[0]!.kind).toBe('false-removal');
    expect(v.list[0]!.detail).toContain(c.addrs[b!]!);
  });

  test('a datagram over datagramBytesMax', () => {
    const codec: Codec = { wireFormat: true, encode: (m: Message) => jsonCodec.encode(m), decode: jsonCodec.decode };
    const { c, v, fake } = setup(2, codec);
    fake(1).padding = 'x'.repeat(2000);
    c.runUntil(500);
    expect(v.byKind['datagram-too-big']).toBeGreaterThan(0);
  });
});

describe('liveness checkers', () => {
  test('missing members, suspects, stale incarnations, not joined, missing contacts', () => {
    const { c, v, fake, inGroup, member } = setup();
    const [a, b, d, e] = inGroup(0);
    fake(a!).fakeMembers = [member(b!, 1), { ...member(d!, 1), state: MemberState.Suspect }, member(e!, 1, c.incarnation[e!]! - 1)];
    fake(b!).fakeJoined = false;
    checkMembership(c, v, c.now);
    const mine = v.list.filter((x) => x.node === c.addrs[a!]);
    expect(mine.find((x) => x.kind === 'membership-incomplete')!.detail).toMatch(/missing, 1 suspect, 1 with an old incarnation/);
    expect(mine.filter((x) => x.kind === 'contacts-missing')).toHaveLength(2);
    expect(v.list.find((x) => x.node === c.addrs[b!])!.kind).toBe('not-joined');
  });
});
