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
  WireEncodeError,
} from '../../src/wire/index.js';
import { clientToArray } from '../../src/wire/client-codec.js';
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

describe('chunking members and contacts', () => {
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
