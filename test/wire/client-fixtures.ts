/** Client messages for the codec tests: every op, in requests and replies (ok and error). */
import { LookupStatus, MemberState } from '../../src/core/types.js';
import type { ClientReply, ClientRequest, ContactRow, MemberRow, StatusPayload } from '../../src/wire/index.js';
import { ClientCode, ClientMessageType, ClientOp } from '../../src/wire/index.js';
import { MAX, U32, V4, V6, V6MAPPED } from './fixtures.js';

export const REQ = ClientMessageType.Request;
export const REP = ClientMessageType.Reply;

export const requests: ClientRequest[] = [
  { type: REQ, id: 0, op: ClientOp.Lookup, name: 'a' },
  { type: REQ, id: MAX, op: ClientOp.Lookup, name: 'ünï/日本/😀'.padEnd(1024, 'x') },
  { type: REQ, id: 1, op: ClientOp.Publish, name: 'f', location: 'http://h/f' },
  { type: REQ, id: 2, op: ClientOp.Unpublish, name: 'f' },
  { type: REQ, id: 3, op: ClientOp.Members, group: null, chunk: 0 },
  { type: REQ, id: 3, op: ClientOp.Members, group: 65534, chunk: 65534 },
  { type: REQ, id: 4, op: ClientOp.Contacts, chunk: 7 },
  { type: REQ, id: 5, op: ClientOp.Status },
  { type: REQ, id: 6, op: ClientOp.Ping },
  { type: REQ, id: 8, op: ClientOp.Join, seed: 'kelips-0.kelips.default.svc:7946' },
];

export const status: StatusPayload = {
  address: V6, cluster: 'kelips', groups: 100, group: 99, incarnation: 7, heartbeat: MAX, uptimeMs: 2 ** 40,
  membersAlive: 100, membersSuspect: 0, contacts: 198, groupsWithoutContact: 1, tuples: 12, published: 3,
  joined: true, synced: false, version: '0.1.0',
};

export const memberRow = (addr: string, i: number): MemberRow => ({
  addr, incarnation: i, heartbeat: i * 1000, ageMs: i, rttMs: i % 3 === 0 ? null : i + 0.25,
  state: i % 5 === 0 ? MemberState.Suspect : MemberState.Alive, group: 3,
});
export const contactRow = (addr: string, i: number): ContactRow => ({
  group: i % 65535, addr, incarnation: i, rttMs: i % 2 ? null : 1.5, ageMs: U32, misses: i,
});

export const replies: ClientReply[] = [
  { type: REP, id: 1, op: ClientOp.Lookup, code: ClientCode.Ok, chunk: 0, chunks: 1,
    payload: { status: LookupStatus.Found, locations: [{ location: 'l1', owner: V4 }, { location: 'l2', owner: V6 }],
      hops: 1, attempts: 2, latencyMs: 3.25, answeredBy: V6 } },
  { type: REP, id: 1, op: ClientOp.Lookup, code: ClientCode.NotFound, chunk: 0, chunks: 1,
    payload: { status: LookupStatus.NotFound, locations: [], hops: 0, attempts: 1, latencyMs: 0, answeredBy: V4 } },
  { type: REP, id: 1, op: ClientOp.Lookup, code: ClientCode.Unavailable, chunk: 0, chunks: 1,
    payload: { status: LookupStatus.Unavailable, locations: [], hops: 2, attempts: 5, latencyMs: 2000, answeredBy: null } },
  { type: REP, id: 2, op: ClientOp.Publish, code: ClientCode.Ok, chunk: 0, chunks: 1,
    payload: { status: 'stored', storedAt: V6MAPPED, latencyMs: 0.5, replicas: 2, groupSize: 7 } },
  { type: REP, id: 2, op: ClientOp.Unpublish, code: ClientCode.Ok, chunk: 0, chunks: 1,
    payload: { status: 'queued', storedAt: null, latencyMs: 0, replicas: 0, groupSize: 0 } },
  { type: REP, id: 3, op: ClientOp.Members, code: ClientCode.Ok, chunk: 0, chunks: 1, payload: [] },
  { type: REP, id: 3, op: ClientOp.Members, code: ClientCode.Ok, chunk: 2, chunks: 65535,
    payload: [memberRow(V4, 0), memberRow(V6, 1), memberRow(V4, 2)] },
  { type: REP, id: 4, op: ClientOp.Contacts, code: ClientCode.Ok, chunk: 0, chunks: 2,
    payload: [contactRow(V4, 0), contactRow(V6, 1)] },
  { type: REP, id: 5, op: ClientOp.Status, code: ClientCode.Ok, chunk: 0, chunks: 1, payload: status },
  { type: REP, id: 5, op: ClientOp.Status, code: ClientCode.Ok, chunk: 0, chunks: 1,
    payload: { ...status, address: V4, groups: 1, group: 0, version: '', joined: false, synced: true } },
  { type: REP, id: 6, op: ClientOp.Ping, code: ClientCode.Ok, chunk: 0, chunks: 1,
    payload: { address: V4, cluster: 'k', groups: 65535, group: 65534, incarnation: 0 } },
  { type: REP, id: 7, op: ClientOp.Lookup, code: ClientCode.BadRequest, chunk: 0, chunks: 1, payload: 'name too long' },
  { type: REP, id: 7, op: ClientOp.Lookup, code: ClientCode.Busy, chunk: 0, chunks: 1, payload: null },
  { type: REP, id: 7, op: ClientOp.Members, code: ClientCode.Unavailable, chunk: 0, chunks: 1, payload: 'x'.repeat(256) },
  { type: REP, id: 7, op: ClientOp.Publish, code: ClientCode.Busy, chunk: 0, chunks: 1, payload: '' },
  { type: REP, id: 8, op: ClientOp.Join, code: ClientCode.Ok, chunk: 0, chunks: 1, payload: { seeds: [V4, V6] } },
  { type: REP, id: 8, op: ClientOp.Join, code: ClientCode.BadRequest, chunk: 0, chunks: 1, payload: 'seed x:1 does not resolve' },
  { type: REP, id: 9, op: ClientOp.Members, code: ClientCode.Redirect, chunk: 0, chunks: 1, payload: { member: V4 } },
];
