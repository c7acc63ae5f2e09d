import { isDeepStrictEqual } from 'node:util';
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { randInt } from '../../src/core/rng.js';
import type { Message } from '../../src/core/types.js';
import { LookupStatus, MessageType } from '../../src/core/types.js';
import type { DecodeResult, RejectReason } from '../../src/wire/index.js';
import { decode, encode, REJECT_REASONS } from '../../src/wire/index.js';
import { WIRE_VERSION } from '../../src/wire/fields.js';
import { messageToArray } from '../../src/wire/messages.js';
import { everyMessage, gone, header, member, SeededRng, tuple, V4, V6 } from './fixtures.js';
import { cbor, cborHex, raw } from './raw-cbor.js';

/** A gossip datagram with one entry in every list, as its plain array. */
const GOSSIP: Message = {
  ...header(V4), type: MessageType.Gossip, sentAt: 1.5, wantAck: true,
  members: [member(V4), member(V6)], foreign: [member(V6)], gone: [gone(V6)], tuples: [tuple()],
};
const base = (m: Message = GOSSIP): unknown[] => structuredClone(messageToArray(m));

/** A copy of `a` with the item at `path` replaced (or removed when v is REMOVE). */
const REMOVE = Symbol('remove');
function setAt(a: unknown[], path: number[], v: unknown): unknown[] {
  const copy = structuredClone(a);
  let cur = copy;
  for (let i = 0; i < path.length - 1; i++) cur = cur[path[i]!] as unknown[];
  if (v === REMOVE) cur.splice(path[path.length - 1]!, 1);
  else cur[path[path.length - 1]!] = v;
  return copy;
}

function rejected(r: DecodeResult): { reason: RejectReason; detail: string } {
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.msg)}`);
  expect(REJECT_REASONS).toContain(r.reason);
  return r;
}

const b6 = (...x: number[]): Uint8Array => Uint8Array.from(x);
const ADDR = cborHex(b6(1, 2, 3, 4, 0, 80)); // a valid address, 1.2.3.4:80
const I = 7; // index of the first body item

describe('the first checks', () => {
  it('empty', () => expect(rejected(decode(new Uint8Array(0))).reason).toBe('empty'));

  it('oversized: over the default 65,507 bytes, and over a caller limit', () => {
    expect(rejected(decode(new Uint8Array(65_508))).reason).toBe('oversized');
    const ok = encode(GOSSIP);
    expect(decode(ok, ok.length).ok).toBe(true);
    expect(rejected(decode(ok, ok.length - 1)).reason).toBe('oversized');
  });

  it.each([
    ['a map', 'a0'],
    ['an integer', '01'],
    ['text', '6161'],
    ['a tag around the datagram (self-describe 55799)', 'd9d9f7' + encode(GOSSIP).toString('hex')],
    ['an indefinite-length array', '9f0101ff'],
    ['a break', 'ff'],
    ['an array header cut short', '98'],
    ['a reserved header', '1c'],
  ])('not an array: %s', (_, hex) => {
    expect(rejected(decode(Buffer.from(hex, 'hex'))).reason).toBe('not-array');
  });

  it.each([
    ['version 1 (before GroupReset and the authority flags)', [1, 1]],
    ['version 3', [3, 1]],
    ['version 0', [0, 1]],
    ['version as text', ['2', 1]],
    ['version as a float', [2.5, 1]],
    ['version 2 written as a float', [raw('f94000'), 1]],
    ['version 2 written in two bytes', [raw('1802'), 1]],
    ['no version', []],
  ])('unsupported version: %s', (_, a) => {
    expect(rejected(decode(cbor(a))).reason).toBe('unsupported-version');
  });

  it('a future version with a new layout is told apart from garbage', () => {
    expect(rejected(decode(cbor([3, raw('a0'), raw('d840'), 1]))).reason).toBe('unsupported-version');
  });

  it.each([
    ['0', 0], ['16', 16], ['31', 31], ['34', 34], ['63', 63], ['255', 255], ['256', 256], ['2^32', 2 ** 32],
    ['text', '1'], ['negative', raw('20')], ['null', null], ['missing', undefined],
  ])('unknown type: %s', (_, t) => {
    const a = t === undefined ? [WIRE_VERSION] : [WIRE_VERSION, t, ...base().slice(2)];
    expect(rejected(decode(cbor(a))).reason).toBe('unknown-type');
  });

  it('trailing bytes after the array', () => {
    const ok = encode(GOSSIP);
    expect(rejected(decode(Buffer.concat([ok, Buffer.of(0)]))).reason).toBe('trailing-bytes');
    expect(rejected(decode(Buffer.concat([ok, ok]))).reason).toBe('trailing-bytes');
  });

  it('every truncation of every valid datagram is refused', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const m of everyMessage(V6, V4)) {
      const ok = encode(m);
      for (let n = 1; n < ok.length; n++) {
        const r = decode(ok.subarray(0, n));
        const want = n === 1 ? 'unsupported-version' : n === 2 ? 'unknown-type' : 'not-cbor';
        if (r.ok || r.reason !== want) problems.push(`type ${m.type}, ${n}/${ok.length} bytes: ${r.ok ? 'accepted' : r.reason}`);
        checked++;
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(4000); // the loops ran over every prefix of ~50 datagrams
  });
});

describe('fields with a wrong type or out of range are named', () => {
  const bad5 = b6(1, 2, 3, 4, 5);
  const bad7 = b6(1, 2, 3, 4, 5, 6, 7);
  const port0 = b6(1, 2, 3, 4, 0, 0);
  // [what, path, value, detail prefix]
  const table: [string, number[], unknown, string][] = [
    ['cluster as a number', [2], 5, 'cluster: '],
    ['cluster empty', [2], '', 'cluster: '],
    ['cluster with a space', [2], 'kelips ', 'cluster: '],
    ['cluster with a slash', [2], 'a/b', 'cluster: '],
    ['cluster not ASCII', [2], 'kélips', 'cluster: '],
    ['cluster of 65 chars', [2], 'k'.repeat(65), 'cluster: '],
    ['cluster as bytes', [2], b6(107), 'cluster: '],
    ['groups 0', [3], 0, 'groups: '],
    ['groups 65536', [3], 65536, 'groups: '],
    ['groups 1.5', [3], 1.5, 'groups: '],
    ['groups as text', [3], '8', 'groups: '],
    ['groups null', [3], null, 'groups: '],
    ['from of 5 bytes', [4], bad5, 'from: '],
    ['from of 7 bytes', [4], bad7, 'from: '],
    ['from with port 0', [4], port0, 'from: '],
    ['from as text', [4], '1.2.3.4:80', 'from: '],
    ['from tagged (tag 64)', [4], raw('d840' + ADDR), 'from: tag 64'],
    ['incarnation negative', [5], raw('20'), 'incarnation: negative'],
    ['incarnation 2^53', [5], 2 ** 53, 'incarnation: '],
    ['incarnation as uint64 2^53', [5], raw('1b0020000000000000'), 'incarnation: '],
    ['incarnation as uint64 2^63', [5], raw('1b8000000000000000'), 'incarnation: '],
    ['incarnation negative 64-bit', [5], raw('3b0000000180000000'), 'incarnation: negative'],
    ['incarnation fractional', [5], 1.5, 'incarnation: '],
    ['incarnation a bignum (tag 2)', [5], raw('c24101'), 'incarnation: tag 2'],
    ['heartbeat true', [6], true, 'heartbeat: '],
    ['heartbeat undefined', [6], undefined, 'heartbeat: undefined'],
    ['heartbeat a simple value', [6], raw('f0'), 'heartbeat: simple value'],
    ['sentAt negative', [I], -0.5, 'sentAt: '],
    ['sentAt NaN', [I], NaN, 'sentAt: '],
    ['sentAt Infinity', [I], Infinity, 'sentAt: '],
    ['sentAt half-float Infinity', [I], raw('f97c00'), 'sentAt: '],
    ['sentAt as text', [I], '1', 'sentAt: '],
    ['wantAck 1', [I + 1], 1, 'wantAck: '],
    ['wantAck null', [I + 1], null, 'wantAck: '],
    ['members not a list', [I + 2], 5, 'members: '],
    ['members a map', [I + 2], raw('a0'), 'members: map'],
    ['members an indefinite array', [I + 2], raw('9fff'), 'members: indefinite length'],
    ['members[1] a map', [I + 2, 1], raw('a1' + '01' + '02'), 'members[1]: map'],
    ['members[1] with 3 items', [I + 2, 1], [b6(1, 2, 3, 4, 0, 80), 1, 2], 'members[1]: '],
    ['members[1] with 5 items', [I + 2, 1], [b6(1, 2, 3, 4, 0, 80), 1, 2, 3, 4], 'members[1]: '],
    ['members[0].addr of 5 bytes', [I + 2, 0, 0], bad5, 'members[0].addr: '],
    ['members[0].addr of 7 bytes', [I + 2, 0, 0], bad7, 'members[0].addr: '],
    ['members[0].addr of 19 bytes', [I + 2, 0, 0], new Uint8Array(19).fill(1), 'members[0].addr: '],
    ['members[0].addr tagged', [I + 2, 0, 0], raw('d840' + ADDR), 'members[0].addr: tag 64'],
    ['members[0].addr shared (tag 28)', [I + 2, 0, 0], raw('d81c' + ADDR), 'members[0].addr: tag 28'],
    ['members[0].addr nested too deep', [I + 2, 0, 0], [[1]], 'members[0].addr[0]: arrays nested deeper'],
    ['members[0].incarnation text', [I + 2, 0, 1], '1', 'members[0].incarnation: '],
    ['members[0].heartbeat negative', [I + 2, 0, 2], raw('20'), 'members[0].heartbeat: negative'],
    ['members[1].ageMs 2^32', [I + 2, 1, 3], 2 ** 32, 'members[1].ageMs: '],
    ['members[1].ageMs fractional', [I + 2, 1, 3], 0.5, 'members[1].ageMs: '],
    ['foreign[0].ageMs null', [I + 3, 0, 3], null, 'foreign[0].ageMs: '],
    ['gone[0].reason 0', [I + 4, 0, 2], 0, 'gone[0].reason: '],
    ['gone[0].reason 3', [I + 4, 0, 2], 3, 'gone[0].reason: '],
    ['gone[0] with 4 items', [I + 4, 0], [b6(1, 2, 3, 4, 0, 80), 1, 1, 1], 'gone[0]: '],
    ['tuples[0].name empty', [I + 5, 0, 0], '', 'tuples[0].name: '],
    ['tuples[0].name of 1025 units', [I + 5, 0, 0], 'n'.repeat(1025), 'tuples[0].name: '],
    ['tuples[0].name as bytes', [I + 5, 0, 0], b6(110), 'tuples[0].name: '],
    ['tuples[0].name invalid UTF-8', [I + 5, 0, 0], raw('63 61 ff 62'), 'tuples[0].name: text is not valid UTF-8'],
    ['tuples[0].name a lone surrogate in UTF-8', [I + 5, 0, 0], raw('63 eda080'), 'tuples[0].name: text is not valid UTF-8'],
    ['tuples[0].name indefinite text', [I + 5, 0, 0], raw('7f 6161 ff'), 'tuples[0].name: indefinite length'],
    ['tuples[0].location empty', [I + 5, 0, 1], '', 'tuples[0].location: '],
    ['tuples[0].owner text', [I + 5, 0, 2], V4, 'tuples[0].owner: '],
    ['tuples[0].versionIncarnation -1', [I + 5, 0, 3], -1, 'tuples[0].versionIncarnation: '],
    ['tuples[0].versionSeq 2^53', [I + 5, 0, 4], 2 ** 53, 'tuples[0].versionSeq: '],
    ['tuples[0].ttlMs 2^32', [I + 5, 0, 5], 2 ** 32, 'tuples[0].ttlMs: '],
    ['tuples[0].deleted 0', [I + 5, 0, 6], 0, 'tuples[0].deleted: '],
    ['tuples[0].deleted undefined', [I + 5, 0, 6], undefined, 'tuples[0].deleted: undefined'],
    ['a missing body item', [I + 5], REMOVE, 'datagram: 12 items'],
    ['an extra body item', [I + 6], 0, 'datagram: 14 items'],
  ];
  it.each(table)('%s', (_, path, v, detail) => {
    const r = rejected(decode(cbor(setAt(base(), path, v))));
    expect(r.reason).toBe('invalid-field');
    expect(r.detail.startsWith(detail), `${r.detail} should start with ${detail}`).toBe(true);
  });

  it('the unmodified base is accepted (so the rejections above are about the change)', () => {
    const r = decode(cbor(base()));
    expect(r.ok && r.msg).toStrictEqual(GOSSIP);
  });

  it('lists over 4096 items', () => {
    const entry = base()[I + 2] as unknown[];
    const many = new Array<unknown>(4097).fill(entry[0]);
    const r = rejected(decode(cbor(setAt(base(), [I + 3], many))));
    expect([r.reason, r.detail]).toEqual(['invalid-field', 'foreign: 4097 items, at most 4096']);
    const max = new Array<unknown>(4096).fill(entry[0]);
    expect(decode(cbor(setAt(base(), [I + 3], max))).ok).toBe(true);
  });

  // Other message types: [what, message, path, value, detail prefix]
  const h = header(V4);
  const other: [string, Message, number[], unknown, string][] = [
    ['digests empty', { ...h, type: MessageType.SyncRequest, id: 1, digests: [1], wantMembers: true }, [I + 1], [], 'digests: '],
    ['257 digests', { ...h, type: MessageType.SyncRequest, id: 1, digests: [1], wantMembers: true }, [I + 1], new Array(257).fill(1), 'digests: '],
    ['digest 2^32', { ...h, type: MessageType.SyncRequest, id: 1, digests: [1, 2], wantMembers: true }, [I + 1, 1], 2 ** 32, 'digests[1]: '],
    ['wantMembers 1', { ...h, type: MessageType.SyncRequest, id: 1, digests: [1], wantMembers: true }, [I + 2], 1, 'wantMembers: '],
    ['want 256', { ...h, type: MessageType.SyncChunk, id: 1, members: [], tuples: [], want: [1], last: true, authority: 1 }, [I + 3, 0], 256, 'want[0]: '],
    ['257 wants', { ...h, type: MessageType.SyncChunk, id: 1, members: [], tuples: [], want: [1], last: true, authority: 1 }, [I + 3], new Array(257).fill(1), 'want: '],
    ['last null', { ...h, type: MessageType.SyncChunk, id: 1, members: [], tuples: [], want: [], last: true, authority: 1 }, [I + 4], null, 'last: '],
    ['authority 3', { ...h, type: MessageType.SyncChunk, id: 1, members: [], tuples: [], want: [], last: true, authority: 1 }, [I + 5], 3, 'authority: '],
    ['groupSize negative', { ...h, type: MessageType.PublishAck, id: 1, accepted: true, groupSize: 1 }, [I + 2], raw('20'), 'groupSize: negative'],
    ['reset group = groups', { ...h, type: MessageType.GroupReset, group: 0, origin: '1.2.3.4:5', originIncarnation: 1, forwarded: false }, [I], 8, 'group: '],
    ['reset origin text', { ...h, type: MessageType.GroupReset, group: 0, origin: '1.2.3.4:5', originIncarnation: 1, forwarded: false }, [I + 1], '1.2.3.4:5', 'origin: '],
    ['reset forwarded null', { ...h, type: MessageType.GroupReset, group: 0, origin: '1.2.3.4:5', originIncarnation: 1, forwarded: false }, [I + 3], null, 'forwarded: '],
    ['chunk = chunks', { ...h, type: MessageType.JoinReply, id: 1, members: [], foreign: [], chunk: 0, chunks: 2 }, [I + 3], 2, 'chunk: '],
    ['chunks 0', { ...h, type: MessageType.JoinReply, id: 1, members: [], foreign: [], chunk: 0, chunks: 2 }, [I + 4], 0, 'chunks: '],
    ['chunks 65536', { ...h, type: MessageType.JoinReply, id: 1, members: [], foreign: [], chunk: 0, chunks: 2 }, [I + 4], 65536, 'chunks: '],
    ['id negative', { ...h, type: MessageType.JoinRequest, id: 1 }, [I], raw('20'), 'id: negative'],
    ['id 2^53', { ...h, type: MessageType.JoinRequest, id: 1 }, [I], 2 ** 53, 'id: '],
    ['name empty', { ...h, type: MessageType.LookupRequest, id: 1, name: 'n' }, [I + 1], '', 'name: '],
    ['status 0', { ...h, type: MessageType.LookupReply, id: 1, status: LookupStatus.NotFound, locations: [] }, [I + 1], 0, 'status: '],
    ['status 4 (unavailable never travels)', { ...h, type: MessageType.LookupReply, id: 1, status: LookupStatus.NotFound, locations: [] }, [I + 1], 4, 'status: '],
    ['found without locations', { ...h, type: MessageType.LookupReply, id: 1, status: LookupStatus.NotFound, locations: [] }, [I + 1], 1, 'locations: '],
    ['locations[0].owner 7 bytes', { ...h, type: MessageType.LookupReply, id: 1, status: LookupStatus.Found, locations: [{ location: 'l', owner: V6 }] }, [I + 2, 0, 1], new Uint8Array(7), 'locations[0].owner: '],
    ['tuple.ttlMs -1', { ...h, type: MessageType.PublishRequest, id: 1, tuple: tuple() }, [I + 1, 5], -1, 'tuple.ttlMs: '],
    ['tuple.owner tagged', { ...h, type: MessageType.PublishRequest, id: 1, tuple: tuple() }, [I + 1, 2], raw('d840' + ADDR), 'tuple.owner: tag 64'],
    ['accepted "yes"', { ...h, type: MessageType.PublishAck, id: 1, accepted: true, groupSize: 1 }, [I + 1], 'yes', 'accepted: '],
    ['group = groups', { ...h, type: MessageType.ContactRequest, id: 1, group: 1, origin: V6, ttl: 3 }, [I + 1], 8, 'group: '],
    ['group 65535', { ...h, groups: 65535, type: MessageType.ContactRequest, id: 1, group: 1, origin: V6, ttl: 3 }, [I + 1], 65535, 'group: '],
    ['origin 5 bytes', { ...h, type: MessageType.ContactRequest, id: 1, group: 1, origin: V6, ttl: 3 }, [I + 2], bad5, 'origin: '],
    ['ttl 17', { ...h, type: MessageType.ContactRequest, id: 1, group: 1, origin: V6, ttl: 3 }, [I + 3], 17, 'ttl: '],
    ['candidates[0].addr 6 zero bytes', { ...h, type: MessageType.ContactReply, id: 1, group: 1, candidates: [member(V6)] }, [I + 2, 0, 0], new Uint8Array(6), 'candidates[0].addr: '],
    ['an item on a Leave', { ...h, type: MessageType.Leave }, [I], 0, 'datagram: 8 items'],
  ];
  it.each(other)('%s', (_, m, path, v, detail) => {
    expect(decode(cbor(base(m))).ok).toBe(true);
    const r = rejected(decode(cbor(setAt(base(m), path, v))));
    expect(r.reason).toBe('invalid-field');
    expect(r.detail.startsWith(detail), `${r.detail} should start with ${detail}`).toBe(true);
  });

  it('cbor-x records and bundled strings (tag extensions) are refused where a list or entry is expected', () => {
    const recordHex = new Encoder({ useRecords: true }).encode({ addr: 'x', incarnation: 1 }).toString('hex');
    expect(recordHex.startsWith('d9df')).toBe(true); // a record definition tag
    const r1 = rejected(decode(cbor(setAt(base(), [I + 2, 0], raw(recordHex)))));
    expect([r1.reason, r1.detail.split(':')[0]]).toEqual(['invalid-field', 'members[0]']);
    const bundledHex = new Encoder({ bundleStrings: true }).encode(['abcdef', 'ghijkl']).toString('hex');
    const r2 = rejected(decode(cbor(setAt(base(), [I + 5], raw(bundledHex)))));
    expect(r2.reason).toBe('invalid-field');
    expect(r2.detail).toMatch(/^tuples\[0\]: tag 57337/); // the bundle tag opens the first item
  });

  it('64-bit integers from other encoders are accepted while they are safe', () => {
    const r = decode(cbor(setAt(base(), [5], raw('1b001fffffffffffff'))));
    expect(r.ok && (r.msg as { incarnation: number }).incarnation).toBe(Number.MAX_SAFE_INTEGER);
    const f = decode(cbor(setAt(base(), [6], raw('fb4059000000000000')))); // 100.0 as a float64
    expect(f.ok && (f.msg as { heartbeat: number }).heartbeat).toBe(100);
  });
});

describe('seeded fuzz: decode never throws and always gives a reason', () => {
  /** Decodes, turning a throw into a problem report. */
  function safeDecode(b: Uint8Array, problems: string[]): DecodeResult | null {
    try {
      return decode(b);
    } catch (e) {
      problems.push(`threw on ${Buffer.from(b).toString('hex')}: ${String(e)}`);
      return null;
    }
  }

  it('10,000 random byte strings', () => {
    const rng = new SeededRng(7);
    const counts: Record<string, number> = {};
    const problems: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const n = randInt(rng, 300);
      const b = new Uint8Array(n);
      for (let k = 0; k < n; k++) b[k] = randInt(rng, 256);
      // Bias half of the inputs towards looking like a datagram so that they get past the first checks.
      if (n > 2 && i % 2 === 0) {
        b[0] = 0x80 | randInt(rng, 16);
        b[1] = WIRE_VERSION;
        b[2] = 1 + randInt(rng, 15);
      }
      const r = safeDecode(b, problems);
      if (r === null) continue;
      if (r.ok) problems.push(`accepted ${Buffer.from(b).toString('hex')}`);
      else if (!REJECT_REASONS.includes(r.reason) || r.detail.length === 0) problems.push(`bad rejection ${JSON.stringify(r)}`);
      else counts[r.reason] = (counts[r.reason] ?? 0) + 1;
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // The fuzz reached past the envelope checks into the CBOR walk and the field checks.
    expect(counts['not-cbor']).toBeGreaterThan(100);
    expect(counts['invalid-field']).toBeGreaterThan(100);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('10,000 mutations of valid datagrams: rejected, or accepted and stable under re-encoding', () => {
    const rng = new SeededRng(11);
    const valid = everyMessage(V4, V6).concat(everyMessage(V6, V4)).map((m) => encode(m));
    const problems: string[] = [];
    let accepted = 0;
    let rejectedCount = 0;
    for (let i = 0; i < 10_000; i++) {
      const b = Buffer.from(valid[randInt(rng, valid.length)]!);
      const flips = 1 + randInt(rng, 3);
      for (let k = 0; k < flips; k++) b[randInt(rng, b.length)] = randInt(rng, 256);
      const r = safeDecode(b, problems);
      if (r === null) continue;
      if (r.ok) {
        accepted++;
        const again = decode(encode(r.msg));
        if (!again.ok || !isDeepStrictEqual(again.msg, r.msg)) problems.push(`unstable: ${b.toString('hex')}`);
      } else if (REJECT_REASONS.includes(r.reason)) {
        rejectedCount++;
      } else {
        problems.push(`bad rejection ${JSON.stringify(r)}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(accepted + rejectedCount).toBe(10_000);
    expect(accepted).toBeGreaterThan(0); // some mutations only change values, and those must round-trip
    expect(rejectedCount).toBeGreaterThan(1000);
  });
});
