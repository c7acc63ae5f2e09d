import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KelipsError } from '../../src/core/errors.js';
import { addressBytes, FLOAT_BYTES, goneEntryBytes, headerBytes, LIST_HEADER_BYTES, memberEntryBytes, stringBytes, tupleEntryBytes, uintBytes } from '../../src/core/size.js';
import type { GossipMessage, Message } from '../../src/core/types.js';
import { GoneReason, LookupStatus, MessageType, SyncAuthority } from '../../src/core/types.js';
import { canonicaliseAddress, decode, encode, isClientMessage, WIRE_VERSION, WireEncodeError } from '../../src/wire/index.js';
import { everyMessage, gone, header, member, randGossip, SeededRng, tuple, V4, V4B, V6, V6B, V6MAPPED } from './fixtures.js';

const ALL_TYPES = Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number');

function roundTrip(m: Message): Message {
  const frozen = structuredClone(m);
  const buf = encode(m);
  expect(m).toStrictEqual(frozen); // encode does not modify its input
  const r = decode(buf);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.msg as Message;
}

describe('round trip of every node-to-node message', () => {
  const cases: [string, Message][] = [];
  for (const [from, other] of [[V4, V6], [V6, V4B], [V6MAPPED, V6B]] as const) {
    for (const m of everyMessage(from, other)) cases.push([`${MessageType[m.type]} from ${from}`, m]);
  }

  it('covers every MessageType', () => {
    expect(new Set(cases.map(([, m]) => m.type))).toEqual(new Set(ALL_TYPES));
  });

  it.each(cases)('%s', (_, m) => {
    const back = roundTrip(m);
    expect(back).toStrictEqual(m);
    expect(isClientMessage(back)).toBe(false);
  });

  it('a non-canonical address is refused rather than silently rewritten', () => {
    const m = { ...header('[2001:DB8::1]:7946'), type: MessageType.Leave } as Message;
    expect(() => encode(m)).toThrow(WireEncodeError);
    expect(() => encode(m)).toThrow(/^from: .*canonical/);
    const fixed = { ...m, from: canonicaliseAddress(m.from)! };
    expect(roundTrip(fixed)).toStrictEqual(fixed);
  });
});

describe('layout', () => {
  it('is [version, type, cluster, groups, from, incarnation, heartbeat, ...body] with plain byte-string addresses', () => {
    const m: Message = {
      ...header('1.2.3.4:258', { cluster: 'k', groups: 8, incarnation: 3, heartbeat: 4 }),
      type: MessageType.Gossip, sentAt: 5, wantAck: true,
      members: [member('5.6.7.8:9', 1, 2, 3)], foreign: [], gone: [gone('[::1]:2', 1, 6)], tuples: [],
    };
    const expected = [
      '8d', // array(13)
      '02', '01', '616b', '08', // version 2, type 1, "k", groups 8
      '46' + '010203040102', // bytes(6): 1.2.3.4 port 258 -- major type 2, no tag
      '03', '04', // incarnation, heartbeat
      '05', 'f5', // sentAt 5 (an integer), wantAck true
      '81' + '84' + '46050607080009' + '010203', // members: [[bytes(6), 1, 2, 3]]
      '80', // foreign []
      '81' + '83' + '52' + '0'.repeat(30) + '01' + '0002' + '06' + '01', // gone: [[bytes(18), 6, 1]]
      '80', // tuples []
    ].join('');
    expect(encode(m).toString('hex')).toBe(expected);
  });

  it('never tags a byte string, whatever the address family', () => {
    for (const m of everyMessage(V6, V4)) {
      const hex = encode(m).toString('hex');
      // Tag 64 (typed array) would be d840; addresses are 0x46 (6 bytes) or 0x52 (18 bytes) right after their context.
      expect(hex).not.toContain('d840');
      expect(hex).toContain('52' + '20010db8');
    }
  });

  it('writes fractional times as float64 and keeps them exact', () => {
    const m = { ...header(V4), type: MessageType.GossipAck, echoSentAt: 0.1, members: [], gone: [] } as Message;
    const buf = encode(m);
    expect(buf.toString('hex')).toContain('fb3fb999999999999a');
    expect((decode(buf) as { msg: { echoSentAt: number } }).msg.echoSentAt).toBe(0.1);
  });

  it('decode leaves its input untouched (cbor-x would add a dataView property to it)', () => {
    const buf = encode(everyMessage(V4, V6)[0]!);
    const copy = Buffer.from(buf);
    expect(decode(buf).ok).toBe(true);
    expect(Object.keys(buf).filter((k) => !/^\d+$/.test(k))).toEqual([]);
    expect(buf.equals(copy)).toBe(true);
  });

  it('starts with version 2', () => {
    expect(WIRE_VERSION).toBe(2);
    for (const m of everyMessage(V4, V6)) expect(encode(m)[1]).toBe(2);
  });
});

describe('encode refuses local misuse, naming the field', () => {
  const base = everyMessage(V4, V6);
  const gossip = base[0] as GossipMessage;
  const cases: [string, Message, RegExp][] = [
    ['bad from', { ...gossip, from: '1.2.3.4' }, /^from: /],
    ['port 0', { ...gossip, from: '1.2.3.4:0' }, /^from: /],
    ['empty cluster', { ...gossip, cluster: '' }, /^cluster: /],
    ['cluster with a space', { ...gossip, cluster: 'a b' }, /^cluster: /],
    ['65-char cluster', { ...gossip, cluster: 'x'.repeat(65) }, /^cluster: /],
    ['groups 0', { ...gossip, groups: 0 }, /^groups: /],
    ['groups 65536', { ...gossip, groups: 65536 }, /^groups: /],
    ['negative incarnation', { ...gossip, incarnation: -1 }, /^incarnation: /],
    ['fractional heartbeat', { ...gossip, heartbeat: 1.5 }, /^heartbeat: /],
    ['unsafe heartbeat', { ...gossip, heartbeat: 2 ** 53 }, /^heartbeat: /],
    ['NaN sentAt', { ...gossip, sentAt: NaN }, /^sentAt: /],
    ['Infinity sentAt', { ...gossip, sentAt: Infinity }, /^sentAt: /],
    ['negative sentAt', { ...gossip, sentAt: -1 }, /^sentAt: /],
    ['wantAck 1', { ...gossip, wantAck: 1 as unknown as boolean }, /^wantAck: /],
    ['fractional ageMs', { ...gossip, members: [member(V4), member(V6, 1, 1, 2.5)] }, /^members\[1\]\.ageMs: /],
    ['ageMs 2^32', { ...gossip, foreign: [member(V4, 1, 1, 2 ** 32)] }, /^foreign\[0\]\.ageMs: /],
    ['bad member address', { ...gossip, members: [member('nope')] }, /^members\[0\]\.addr: /],
    ['gone reason 3', { ...gossip, gone: [gone(V4, 3 as GoneReason)] }, /^gone\[0\]\.reason: /],
    ['empty name', { ...gossip, tuples: [tuple(), tuple({ name: '' })] }, /^tuples\[1\]\.name: /],
    ['1025-unit location', { ...gossip, tuples: [tuple({ location: 'x'.repeat(1025) })] }, /^tuples\[0\]\.location: /],
    ['lone surrogate', { ...gossip, tuples: [tuple({ name: 'a\ud800b' })] }, /^tuples\[0\]\.name: /],
    ['ttl 2^32', { ...gossip, tuples: [tuple({ ttlMs: 2 ** 32 })] }, /^tuples\[0\]\.ttlMs: /],
    ['deleted 0', { ...gossip, tuples: [tuple({ deleted: 0 as unknown as boolean })] }, /^tuples\[0\]\.deleted: /],
    ['4097 members', { ...gossip, members: new Array(4097).fill(member(V4)) }, /^members: /],
    ['no digests', { ...header(V4), type: MessageType.SyncRequest, id: 1, digests: [], wantMembers: false }, /^digests: /],
    ['257 digests', { ...header(V4), type: MessageType.SyncRequest, id: 1, digests: new Array(257).fill(0), wantMembers: false }, /^digests: /],
    ['digest 2^32', { ...header(V4), type: MessageType.SyncRequest, id: 1, digests: [2 ** 32], wantMembers: false }, /^digests\[0\]: /],
    ['want 256', { ...header(V4), type: MessageType.SyncChunk, id: 1, members: [], tuples: [], want: [256], last: true, authority: SyncAuthority.None }, /^want\[0\]: /],
    ['chunk = chunks', { ...header(V4), type: MessageType.JoinReply, id: 1, members: [], foreign: [], chunk: 1, chunks: 1 }, /^chunk: /],
    ['chunks 0', { ...header(V4), type: MessageType.JoinReply, id: 1, members: [], foreign: [], chunk: 0, chunks: 0 }, /^chunks: /],
    ['ttl 17', { ...header(V4), type: MessageType.ContactRequest, id: 1, group: 1, origin: V6, ttl: 17 }, /^ttl: /],
    ['group = groups', { ...header(V4), type: MessageType.ContactReply, id: 1, group: 8, candidates: [] }, /^group: /],
    ['Unavailable status', { ...header(V4), type: MessageType.LookupReply, id: 1, status: LookupStatus.Unavailable, locations: [] }, /^status: /],
    ['found without locations', { ...header(V4), type: MessageType.LookupReply, id: 1, status: LookupStatus.Found, locations: [] }, /^locations: /],
    ['not found with locations', { ...header(V4), type: MessageType.LookupReply, id: 1, status: LookupStatus.NotFound, locations: [{ location: 'l', owner: V4 }] }, /^locations: /],
    ['publish tuple owner', { ...header(V4), type: MessageType.PublishRequest, id: 1, tuple: tuple({ owner: '[::1]' }) }, /^tuple\.owner: /],
    ['unknown type', { ...header(V4), type: 16 } as unknown as Message, /^type: /],
  ];
  it.each(cases)('%s', (_, m, field) => {
    expect(() => encode(m)).toThrow(WireEncodeError);
    expect(() => encode(m)).toThrow(field);
    try {
      encode(m);
    } catch (e) {
      expect(e).toBeInstanceOf(KelipsError);
      expect((e as WireEncodeError).code).toBe('KELIPS_WIRE_ENCODE');
    }
  });

  it('refuses a datagram over maxBytes, and accepts one at the limit', () => {
    const m = everyMessage(V4, V6)[0]!;
    const n = encode(m).length;
    expect(encode(m, n).length).toBe(n);
    expect(() => encode(m, n - 1)).toThrow(/over the limit/);
  });
});

describe('encoded size stays within the bounds of src/core/size.ts', () => {
  function gossipBound(m: GossipMessage): number {
    let b = headerBytes(m.cluster, m.groups, m.from, m.incarnation, m.heartbeat) + FLOAT_BYTES + 1 + 4 * LIST_HEADER_BYTES;
    for (const e of m.members) b += memberEntryBytes(e);
    for (const e of m.foreign) b += memberEntryBytes(e);
    for (const e of m.gone) b += goneEntryBytes(e);
    for (const t of m.tuples) b += tupleEntryBytes(t);
    return b;
  }

  it('for 3,000 random seeded gossip messages (all integer widths, IPv4 and IPv6, unicode)', () => {
    const rng = new SeededRng(20240601);
    const canon = (a: string): string => canonicaliseAddress(a)!;
    const problems: string[] = [];
    let v6 = 0;
    for (let i = 0; i < 3000; i++) {
      const m = randGossip(rng, canon) as GossipMessage;
      const buf = encode(m);
      const b = gossipBound(m);
      if (buf.length > b) problems.push(`#${i}: ${buf.length} bytes > bound ${b}`);
      if (addressBytes(m.from) === 19) v6++;
      const r = decode(buf);
      if (!r.ok) problems.push(`#${i}: ${r.reason} ${r.detail}`);
      else if (!isDeepStrictEqual(r.msg, m)) problems.push(`#${i}: round trip differs`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(v6).toBeGreaterThan(300); // both families were drawn
  });

  it('is exact for an all-ASCII gossip whose numbers are all large (no slack where size.ts claims none)', () => {
    const big = 2 ** 40;
    const m = {
      ...header(V4, { incarnation: big, heartbeat: big }), type: MessageType.Gossip, sentAt: 0.5, wantAck: false,
      members: [member(V4, big, big, 2 ** 31)], foreign: [], gone: [gone(V6, 2, big)],
      tuples: [tuple({ versionIncarnation: big, versionSeq: big, ttlMs: 2 ** 31 })],
    } as GossipMessage;
    // Slack: array header (3 claimed, 1 used), type (2 claimed, 1 used), 4 list headers (3 claimed, 1 used each).
    expect(gossipBound(m) - encode(m).length).toBe(2 + 1 + 4 * 2);
  });

  /** The bound a core would compute from the primitives of size.ts, for any message type. */
  function bound(m: Message): number {
    const L = LIST_HEADER_BYTES;
    const members = (es: { addr: string; incarnation: number; heartbeat: number; ageMs: number }[]): number =>
      L + es.reduce((n, e) => n + memberEntryBytes(e), 0);
    let b = headerBytes(m.cluster, m.groups, m.from, m.incarnation, m.heartbeat);
    switch (m.type) {
      case MessageType.Gossip: return gossipBound(m);
      case MessageType.GossipAck: return b + FLOAT_BYTES + members(m.members) + L + m.gone.reduce((n, e) => n + goneEntryBytes(e), 0);
      case MessageType.JoinRequest: return b + uintBytes(m.id);
      case MessageType.JoinReply: return b + uintBytes(m.id) + members(m.members) + members(m.foreign) + uintBytes(m.chunk) + uintBytes(m.chunks);
      case MessageType.SyncRequest: return b + uintBytes(m.id) + L + m.digests.reduce((n, d) => n + uintBytes(d), 0) + 1;
      case MessageType.SyncChunk:
        return b + uintBytes(m.id) + members(m.members) + L + m.tuples.reduce((n, t) => n + tupleEntryBytes(t), 0) + L +
          m.want.reduce((n, w) => n + uintBytes(w), 0) + 1 + 1;
      case MessageType.LookupRequest: return b + uintBytes(m.id) + stringBytes(m.name);
      case MessageType.LookupReply:
        return b + uintBytes(m.id) + 1 + L + m.locations.reduce((n, l) => n + 1 + stringBytes(l.location) + addressBytes(l.owner), 0);
      case MessageType.PublishRequest: return b + uintBytes(m.id) + tupleEntryBytes(m.tuple);
      case MessageType.PublishAck: return b + uintBytes(m.id) + 1 + uintBytes(m.groupSize);
      case MessageType.ContactRequest: return b + uintBytes(m.id) + uintBytes(m.group) + addressBytes(m.origin) + uintBytes(m.ttl);
      case MessageType.ContactReply: return b + uintBytes(m.id) + uintBytes(m.group) + members(m.candidates);
      case MessageType.Leave: return b;
      case MessageType.GroupReset: return b + uintBytes(m.group) + addressBytes(m.origin) + uintBytes(m.originIncarnation) + 1;
      case MessageType.GroupResetAck: return b + uintBytes(m.originIncarnation);
    }
  }

  it.each([[V4, V6], [V6, V4B], [V6MAPPED, V6B]])('for every message type (from %s)', (from, other) => {
    const seen = new Set<MessageType>();
    for (const m of everyMessage(from, other)) {
      expect(encode(m).length, MessageType[m.type]).toBeLessThanOrEqual(bound(m));
      seen.add(m.type);
    }
    expect(seen.size).toBe(ALL_TYPES.length);
  });
});
