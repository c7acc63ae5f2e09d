import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LookupStatus } from '../../src/core/types.js';
import type { ClientMessage, ClientReply, ClientRequest } from '../../src/wire/index.js';
import {
  chunkContactRows,
  chunkMemberRows,
  chunkRows,
  CLIENT_DATAGRAM_BYTES,
  ClientCode,
  ClientOp,
  decode,
  encode,
  errorReply,
  isClientMessage,
  lookupReply,
  LOOKUP_STATUS,
  redirectReply,
  WireEncodeError,
} from '../../src/wire/index.js';
import { clientToArray } from '../../src/wire/client-codec.js';
import { CLIENT_OPS, replyPayload } from '../../src/wire/client.js';
import { wireBytesMax, type KindSpec } from '../../src/wire/client-schema.js';
import { CLIENT_REPLY_OVERHEAD_BYTES } from '../../src/wire/chunk.js';
import { MAX, U32, V4, V6 } from './fixtures.js';
import { cbor, raw } from './raw-cbor.js';
import { contactRow, memberRow, REP, replies, REQ, requests, status } from './client-fixtures.js';

function roundTrip(m: ClientMessage): ClientMessage {
  const frozen = structuredClone(m);
  const buf = encode(m);
  expect(m).toStrictEqual(frozen);
  const r = decode(buf);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  expect(isClientMessage(r.msg)).toBe(true);
  return r.msg as ClientMessage;
}

describe('client messages round-trip', () => {
  it('cover every op in requests and in ok replies', () => {
    const all = Object.values(ClientOp).filter((v) => typeof v === 'number');
    expect(new Set(requests.map((r) => r.op))).toEqual(new Set(all));
    expect(new Set(replies.filter((r) => r.code === ClientCode.Ok).map((r) => r.op))).toEqual(new Set(all));
  });
  it.each(requests.map((r) => [ClientOp[r.op], r] as const))('request %s', (_, m) => {
    expect(roundTrip(m)).toStrictEqual(m);
  });
  it.each(replies.map((r) => [`${ClientOp[r.op]} code ${r.code}`, r] as const))('reply %s', (_, m) => {
    expect(roundTrip(m)).toStrictEqual(m);
  });

  it('have no cluster/groups header: [version, type, id, op, ...]', () => {
    expect(encode(requests[0]!).toString('hex')).toBe('85' + '02' + '1820' + '00' + '01' + '6161');
    expect(encode({ type: REQ, id: 9, op: ClientOp.Members, group: null, chunk: 1 }).toString('hex')).toBe(
      '86' + '02' + '1820' + '09' + '04' + 'f6' + '01',
    );
    expect(encode(replies[12]!).toString('hex')).toBe('88' + '02' + '1821' + '07' + '01' + '02' + '00' + '01' + 'f6');
  });

  it('keep their bytes: the first 27 fixtures encode to pinned SHA-256 prefixes', () => {
    const pinned = ['19ad8e8d35754481', '12aec595efb9e269', '805f49060eec2f94', '9a2d321409162d2f', '86e9ad51c0825c3d', 'b29e0bc8c752a65c', '5db6e4959f07659c', '23fd83a8076d7ac1', '397b3f6851b961fa', '916a0328c3558934', 'd7f5028d0aacdd26', '85809aacd78c2d85', '1812c989b6d80e9a', 'f6b74298d82cb7d4', '2fefaa3404f1fb15', '46a4a973512fb0b4', 'c5a0c5036eea4f43', '28d6d9ddfcce8939', 'f9b485b3f77e70f4', '8fce53b43c0f05b3', 'e01fbb4765a20318', 'fb7e6401924fc996', '675dac07a19e1ea8', '58561dcadd7a9976', '8bc5b57d37cf000a', '6815e9b4578c4e1f', 'e86ca28c27fb531f'];
    const all = [...requests, ...replies].slice(0, pinned.length);
    expect(all.map((m) => createHash('sha256').update(encode(m)).digest('hex').slice(0, 16))).toEqual(pinned);
  });

  it('a redirect names the member to ask as data: [member], code 5', () => {
    const r = redirectReply({ id: 9 }, V4);
    expect(r).toStrictEqual(replies[replies.length - 1]);
    // 10.1.2.3:7946 is the 6-byte string 0a010203 1f0a.
    expect(encode(r).toString('hex')).toBe('88' + '02' + '1821' + '09' + '04' + '05' + '00' + '01' + '81' + '46' + '0a0102031f0a');
  });

  it('lookupReply: the code follows from the result, the payload status from the code', () => {
    const base = { locations: [], hops: 1, attempts: 1, latencyMs: -0.5, answeredBy: V4 };
    const found = lookupReply(3, { ...base, status: LookupStatus.Found, locations: [{ location: 'l', owner: V6 }] });
    expect([found.code, found.payload.status, found.payload.latencyMs]).toEqual([ClientCode.Ok, LookupStatus.Found, 0]);
    expect(lookupReply(3, { ...base, status: LookupStatus.Found }).code).toBe(ClientCode.Unavailable); // found, but nowhere
    expect(lookupReply(3, { ...base, status: LookupStatus.NotFound, locations: [{ location: 'l', owner: V6 }] }).payload.locations).toEqual([]);
    expect(lookupReply(3, { ...base, status: LookupStatus.NotReady }).code).toBe(ClientCode.Unavailable);
    for (const status of [LookupStatus.Found, LookupStatus.NotFound, LookupStatus.NotReady, LookupStatus.Unavailable]) {
      const r = lookupReply(3, { ...base, status, locations: [{ location: 'l', owner: V6 }] });
      expect(r.payload.status).toBe(LOOKUP_STATUS[r.code]);
      expect(roundTrip(r)).toStrictEqual(r);
    }
  });

  it('errorReply echoes id and op, cuts the message to 256 units without splitting a surrogate pair', () => {
    const req: ClientRequest = { type: REQ, id: 42, op: ClientOp.Status };
    const e = errorReply(req, ClientCode.Busy, 'a'.repeat(255) + '😀');
    expect(e).toEqual({ type: REP, id: 42, op: ClientOp.Status, code: ClientCode.Busy, chunk: 0, chunks: 1, payload: 'a'.repeat(255) });
    expect(roundTrip(e)).toStrictEqual(e);
    expect(errorReply(req, ClientCode.Unavailable).payload).toBeNull();
    expect(errorReply(req, ClientCode.BadRequest, 'x\ud800y').payload).toBe('x\ufffdy');
  });

  it('errorReply never builds a reply that cannot be encoded: an unavailable lookup is a lookup result', () => {
    const lookup: ClientRequest = { type: REQ, id: 8, op: ClientOp.Lookup, name: 'n' };
    const u = errorReply(lookup, ClientCode.Unavailable, 'stopping');
    expect(u).toEqual({ type: REP, id: 8, op: ClientOp.Lookup, code: ClientCode.Unavailable, chunk: 0, chunks: 1,
      payload: { status: LookupStatus.Unavailable, locations: [], hops: 0, attempts: 0, latencyMs: 0, answeredBy: null } });
    expect(roundTrip(u)).toStrictEqual(u);
    for (const op of [ClientOp.Lookup, ClientOp.Publish, ClientOp.Unpublish, ClientOp.Members, ClientOp.Contacts, ClientOp.Status, ClientOp.Ping]) {
      for (const code of [ClientCode.BadRequest, ClientCode.Busy, ClientCode.Unavailable] as const) {
        const e = errorReply({ id: 1, op }, code, 'why');
        expect(roundTrip(e)).toStrictEqual(e);
      }
    }
  });
});

describe('client messages: encode refuses misuse', () => {
  const ok = replies[0]!;
  const cases: [string, ClientMessage, RegExp][] = [
    ['empty name', { type: REQ, id: 1, op: ClientOp.Lookup, name: '' }, /^name: /],
    ['fractional id', { type: REQ, id: 1.5, op: ClientOp.Status }, /^id: /],
    ['op 9', { type: REQ, id: 1, op: 9 } as unknown as ClientMessage, /^op: /],
    ['group 65535', { type: REQ, id: 1, op: ClientOp.Members, group: 65535, chunk: 0 }, /^group: /],
    ['chunk 65535', { type: REQ, id: 1, op: ClientOp.Contacts, chunk: 65535 }, /^chunk: /],
    ['lookup status disagrees with code', { ...ok, code: ClientCode.NotFound } as ClientMessage, /^payload\.status: /],
    ['found with no locations', { ...ok, payload: { ...(ok.payload as object), locations: [] } } as unknown as ClientMessage, /^payload\.locations: /],
    ['not found on a publish', { ...replies[3]!, code: ClientCode.NotFound } as unknown as ClientMessage, /^code: /],
    ['code 5', { ...replies[3]!, code: 5 } as unknown as ClientMessage, /^code: /],
    ['status chunk 1 of 2', { ...replies[8]!, chunk: 1, chunks: 2 } as ClientMessage, /^chunk: /],
    ['members chunk 2 of 2', { ...replies[6]!, chunk: 2, chunks: 2 } as ClientMessage, /^chunk: /],
    ['error text of 257', { ...replies[13]!, payload: 'x'.repeat(257) } as ClientMessage, /^payload: /],
    ['error payload not text', { ...replies[13]!, payload: 5 } as unknown as ClientMessage, /^payload: /],
    ['member row state 3', { ...replies[6]!, payload: [{ ...memberRow(V4, 1), state: 3 }] } as unknown as ClientMessage, /^payload\[0\]\.state: /],
    ['member row rtt NaN', { ...replies[6]!, payload: [memberRow(V4, 1), { ...memberRow(V4, 1), rttMs: NaN }] } as ClientMessage, /^payload\[1\]\.rttMs: /],
    ['contact row bad addr', { ...replies[7]!, payload: [{ ...contactRow(V4, 1), addr: 'x' }] } as ClientMessage, /^payload\[0\]\.addr: /],
    ['status group = groups', { ...replies[8]!, payload: { ...status, group: 100 } } as ClientMessage, /^payload\.group: /],
    ['status version of 65', { ...replies[8]!, payload: { ...status, version: 'v'.repeat(65) } } as ClientMessage, /^payload\.version: /],
    ['publish status', { ...replies[3]!, payload: { status: 'done', storedAt: null, latencyMs: 1 } } as unknown as ClientMessage, /^payload\.status: /],
    ['redirect on a lookup', { ...replies[0]!, code: ClientCode.Redirect } as unknown as ClientMessage, /^code: /],
    ['redirect to no address', { ...replies[17]!, payload: { member: null } } as unknown as ClientMessage, /^payload\.member: /],
    ['redirect chunk 0 of 2', { ...replies[17]!, chunks: 2 } as ClientMessage, /^chunk: /],
  ];
  it.each(cases)('%s', (_, m, field) => {
    expect(() => encode(m)).toThrow(WireEncodeError);
    expect(() => encode(m)).toThrow(field);
  });
});

describe('client messages: decode is strict', () => {
  const arr = (m: ClientMessage): unknown[] => structuredClone(clientToArray(m));
  const with_ = (a: unknown[], path: number[], v: unknown): unknown[] => {
    let cur = a;
    for (let i = 0; i < path.length - 1; i++) cur = cur[path[i]!] as unknown[];
    cur[path[path.length - 1]!] = v;
    return a;
  };
  // [what, message, path, value, detail prefix]
  const table: [string, ClientMessage, number[], unknown, string][] = [
    ['id negative', requests[0]!, [2], raw('20'), 'id: negative'],
    ['op 0', requests[0]!, [3], 0, 'op: '],
    ['op 9', requests[0]!, [3], 9, 'op: '],
    ['name bytes', requests[0]!, [4], Uint8Array.of(97), 'name: '],
    ['location empty', requests[2]!, [5], '', 'location: '],
    ['members group 65535', requests[4]!, [4], 65535, 'group: '],
    ['members group text', requests[4]!, [4], '1', 'group: '],
    ['contacts chunk 65535', requests[6]!, [4], 65535, 'chunk: '],
    ['status with an argument', requests[7]!, [4], 1, 'datagram: '],
    ['reply code 5', replies[0]!, [4], 5, 'code: '],
    ['not found on a ping', replies[10]!, [4], 4, 'code: '],
    ['unchunked reply chunk 0 of 2', replies[0]!, [6], 2, 'chunk: '],
    ['chunk = chunks', replies[7]!, [5], 2, 'chunk: '],
    ['lookup status disagrees', replies[0]!, [7, 0], 2, 'payload.status: '],
    ['lookup locations on not found', replies[1]!, [7, 1], [['l', Uint8Array.of(1, 2, 3, 4, 0, 1)]], 'payload.locations: '],
    ['lookup latency negative', replies[0]!, [7, 4], -1, 'payload.latencyMs: '],
    ['lookup answeredBy text', replies[0]!, [7, 5], 'x', 'payload.answeredBy: '],
    ['lookup payload on bad-request', replies[11]!, [7], [1], 'payload: '],
    ['publish status 3', replies[3]!, [7, 0], 3, 'payload.status: '],
    ['publish storedAt 7 bytes', replies[3]!, [7, 1], new Uint8Array(7), 'payload.storedAt: '],
    ['member row of 6', replies[6]!, [7, 1], [1, 2, 3, 4, 5, 6], 'payload[1]: '],
    ['member row state 0', replies[6]!, [7, 0, 5], 0, 'payload[0].state: '],
    ['member row rtt text', replies[6]!, [7, 2, 4], '1', 'payload[2].rttMs: '],
    ['member row group 65535', replies[6]!, [7, 0, 6], 65535, 'payload[0].group: '],
    ['contact row misses -1', replies[7]!, [7, 0, 5], -1, 'payload[0].misses: '],
    ['contact row ageMs 2^32', replies[7]!, [7, 1, 4], 2 ** 32, 'payload[1].ageMs: '],
    ['status joined 1', replies[8]!, [7, 13], 1, 'payload.joined: '],
    ['status uptime 2^53', replies[8]!, [7, 6], 2 ** 53, 'payload.uptimeMs: '],
    ['status version of 65', replies[8]!, [7, 15], 'v'.repeat(65), 'payload.version: '],
    ['status group = groups', replies[8]!, [7, 3], 100, 'payload.group: '],
    ['ping cluster with a space', replies[10]!, [7, 1], 'a b', 'payload.cluster: '],
    ['error message of 257', replies[13]!, [7], 'x'.repeat(257), 'payload: '],
    ['error message a number', replies[13]!, [7], 3, 'payload: '],
    ['error message tagged', replies[13]!, [7], raw('d82061'), 'payload: tag 32'],
    ['redirect on a ping', replies[10]!, [4], 5, 'code: '],
    ['redirect member of 7 bytes', replies[17]!, [7, 0], new Uint8Array(7), 'payload.member: '],
    ['redirect payload text', replies[17]!, [7], 'ask 10.1.2.3:7946', 'payload: '],
  ];
  it.each(table)('%s', (_, m, path, v, detail) => {
    expect(decode(cbor(arr(m))).ok).toBe(true);
    const r = decode(cbor(with_(arr(m), path, v)));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('invalid-field');
      expect(r.detail.startsWith(detail), `${r.detail} should start with ${detail}`).toBe(true);
    }
  });
});

/** Each declared field of `m`'s wire array: where it is, where it is in the message object, and its name. */
function declaredFields(m: ClientMessage): { at: number[]; key: (string | number)[]; name: string }[] {
  const out: { at: number[]; key: (string | number)[]; name: string }[] = [];
  const walk = (k: KindSpec, v: unknown, at: number[], key: (string | number)[], name: string): void => {
    if (k.k === 'struct') {
      Object.entries(k.fields).forEach(([f, fk], i) => walk(fk, (v as unknown[])[i], [...at, i], [...key, f], name === '' ? f : `${name}.${f}`));
    } else if (k.k === 'list') {
      out.push({ at, key, name });
      (v as unknown[]).forEach((x, i) => walk(k.of, x, [...at, i], [...key, i], `${name}[${i}]`));
    } else if (k.k === 'null' && v !== null) {
      walk(k.of, v, at, key, name);
    } else {
      out.push({ at, key, name });
    }
  };
  const a = clientToArray(m);
  if (m.type === REQ) Object.entries(CLIENT_OPS[m.op].args).forEach(([f, fk], i) => walk(fk, a[4 + i], [4 + i], [f], f));
  else walk(replyPayload(m.op, m.code)!, a[7], [7], ['payload'], 'payload');
  return out;
}

describe('client messages: every declared field is checked both ways, by name', () => {
  // -1.5 is no uint, u32, time, int, group, text, cluster, address, enum value, constant, list, struct or null.
  const BAD = -1.5;
  const all = [...requests, ...replies];
  it('the walk finds the fields (a check that cannot pass on nothing)', () => {
    expect(declaredFields(replies[8]!).map((f) => f.name)).toEqual(['payload.address', 'payload.cluster', 'payload.groups', 'payload.group',
      'payload.incarnation', 'payload.heartbeat', 'payload.uptimeMs', 'payload.membersAlive', 'payload.membersSuspect', 'payload.contacts',
      'payload.groupsWithoutContact', 'payload.tuples', 'payload.published', 'payload.joined', 'payload.synced', 'payload.version']);
    expect(declaredFields(replies[6]!).map((f) => f.name)).toContain('payload[2].ageMs');
    expect(all.reduce((n, m) => n + declaredFields(m).length, 0)).toBeGreaterThan(100);
  });
  it.each(all.map((m, i) => [`${m.type === REQ ? 'request' : 'reply'} ${i} (${ClientOp[m.op]})`, m] as const))('%s', (_, m) => {
    for (const f of declaredFields(m)) {
      const a = structuredClone(clientToArray(m));
      let cur = a;
      for (const i of f.at.slice(0, -1)) cur = cur[i] as unknown[];
      cur[f.at[f.at.length - 1]!] = BAD;
      const r = decode(cbor(a));
      expect(r.ok ? 'accepted' : r.detail.split(': ')[0], `decoding ${BAD} as ${f.name}`).toBe(f.name);

      const o = structuredClone(m) as unknown as Record<string | number, unknown>;
      let obj = o;
      for (const k of f.key.slice(0, -1)) obj = obj[k] as Record<string | number, unknown>;
      obj[f.key[f.key.length - 1]!] = BAD;
      expect(() => encode(o as unknown as ClientMessage), `encoding ${BAD} as ${f.name}`).toThrow(new RegExp(`^${f.name.replace(/[.[\]]/g, '\\$&')}: `));
    }
  });
});

describe('chunking members and contacts', () => {
  it('the size bound from the declarations holds for every reply fixture', () => {
    expect(replies.length).toBeGreaterThan(10);
    for (const m of replies)
      expect(encode(m).length, `${ClientOp[m.op]} code ${m.code}`).toBeLessThanOrEqual(CLIENT_REPLY_OVERHEAD_BYTES + wireBytesMax(replyPayload(m.op, m.code)!, m.payload));
  });

  it('chunkRows packs greedily in order and keeps every row', () => {
    const rows = [5, 5, 5, 10, 1, 9];
    expect(chunkRows(rows, (r) => r, 10)).toEqual([[5, 5], [5], [10], [1, 9]]);
    expect(chunkRows([], (r: number) => r, 10)).toEqual([[]]);
    expect(() => chunkRows([11], (r) => r, 10)).toThrow(WireEncodeError);
    expect(() => chunkRows([1], (r) => r, 0)).toThrow(WireEncodeError);
  });

  it('at most 4096 rows per chunk even when the budget is large', () => {
    const rows = new Array<number>(4097).fill(1);
    expect(chunkRows(rows, (r) => r, 1e9).map((c) => c.length)).toEqual([4096, 1]);
  });

  it.each([
    ['IPv4, small numbers', (i: number) => memberRow(V4, i)],
    ['IPv6, huge numbers', (i: number) => ({ ...memberRow(V6, i), incarnation: MAX - i, heartbeat: MAX, ageMs: U32, rttMs: 1e9 + 0.5, group: 65534 })],
  ])('each members chunk encodes to <= 1400 bytes and uses the room (%s)', (_, row) => {
    const rows = Array.from({ length: 1000 }, (_, i) => row(i));
    const chunks = chunkMemberRows(rows);
    expect(chunks.flat()).toEqual(rows);
    let fullest = 0;
    chunks.forEach((payload, chunk) => {
      const reply: ClientReply = { type: REP, id: MAX, op: ClientOp.Members, code: ClientCode.Ok, chunk, chunks: chunks.length, payload };
      const n = encode(reply, CLIENT_DATAGRAM_BYTES).length;
      fullest = Math.max(fullest, n);
      const back = decode(encode(reply));
      expect(back.ok && back.msg).toStrictEqual(reply);
    });
    expect(fullest).toBeGreaterThan(CLIENT_DATAGRAM_BYTES - 120); // not wastefully small
  });

  it('each contacts chunk encodes to <= 1400 bytes', () => {
    const rows = Array.from({ length: 700 }, (_, i) => contactRow(i % 2 ? V4 : V6, i));
    const chunks = chunkContactRows(rows);
    expect(chunks.length).toBeGreaterThan(10);
    chunks.forEach((payload, chunk) => {
      const reply: ClientReply = { type: REP, id: MAX, op: ClientOp.Contacts, code: ClientCode.Ok, chunk, chunks: chunks.length, payload };
      expect(encode(reply, CLIENT_DATAGRAM_BYTES).length).toBeLessThanOrEqual(CLIENT_DATAGRAM_BYTES);
    });
  });
});
