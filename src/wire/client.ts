/**
 * Client messages: kelips-ctl <-> agent, over the agent's gossip UDP port (one port to open).
 *
 * They carry no cluster/groups header (kelips-ctl may know neither). Their types continue MessageType's numbering
 * in the range core reserves for them (32..63); append only, like MessageType.
 *
 * Request: `[version, 32, id, op, ...args]`
 * | op            | args                          |
 * |---------------|-------------------------------|
 * | 1 Lookup      | name                          |
 * | 2 Publish     | name, location                |
 * | 3 Unpublish   | name                          |
 * | 4 Members     | group (0..65534 or null: the agent's own group), chunk (0..65534) |
 * | 5 Contacts    | chunk                         |
 * | 6 Status      | -                             |
 * | 7 Ping        | -                             |
 * | 8 Join        | seed: "host:port" text (the agent resolves it) |
 *
 * Reply: `[version, 33, id, op, code, chunk, chunks, payload]`; id and op echo the request.
 * code: 0 Ok, 1 BadRequest, 2 Busy, 3 Unavailable, 4 NotFound (lookup only).
 * chunk < chunks <= 65535; chunks is 1 except for Members and Contacts replies, which the agent cuts into
 * datagrams of at most CLIENT_DATAGRAM_BYTES (see chunk.ts); kelips-ctl asks for chunk 0, learns `chunks`, then
 * asks for the others. Each chunk is cut from the state at the time it is asked for, so rows may repeat or be
 * missed when the view changes in between.
 *
 * Payload, by op and code:
 * - Lookup, codes 0 / 4 / 3 (the lookup ran: found / the group has no such tuple / no member of the group
 *   answered): `[status, locations, hops, attempts, latencyMs, answeredBy]`, status 1 / 2 / 4 (LookupStatus,
 *   matching the code), locations `[[location, owner], ...]` (non-empty exactly when found), hops and attempts
 *   non-negative integers, latencyMs a finite number >= 0, answeredBy an address or null.
 * - Publish and Unpublish, code 0: `[status, storedAt, latencyMs, replicas, groupSize]`, status 1 stored / 2
 *   queued, storedAt an address or null, replicas (members that acknowledged holding it) and groupSize (the group's
 *   size as the last of them saw it, 0 when unknown) non-negative integers.
 * - Join, code 0: `[seeds]`, the addresses the seed text resolved to, each sent a join request.
 * - Members, code 0: rows `[[addr, incarnation, heartbeat, ageMs, rttMs, state, group], ...]`, rttMs a number or
 *   null (not measured), state 1 alive / 2 suspect (MemberState), group 0..65534.
 * - Contacts, code 0: rows `[[group, addr, incarnation, rttMs, ageMs, misses], ...]`.
 * - Status, code 0: `[address, cluster, groups, group, incarnation, heartbeat, uptimeMs, membersAlive,
 *   membersSuspect, contacts, groupsWithoutContact, tuples, published, joined, synced, version]`; group < groups,
 *   counters non-negative integers, joined and synced booleans, version text of at most 64 units.
 * - Ping, code 0: `[address, cluster, groups, group, incarnation]`.
 * - Any other code (1, 2, and 3 except for Lookup): a message for humans, text of at most 256 units, or null.
 */
import type { Address, Location, MemberState } from '../core/types.js';
import { LookupStatus } from '../core/types.js';

export enum ClientMessageType {
  Request = 32,
  Reply = 33,
}

export enum ClientOp {
  Lookup = 1,
  Publish = 2,
  Unpublish = 3,
  Members = 4,
  Contacts = 5,
  Status = 6,
  Ping = 7,
  Join = 8,
}

export enum ClientCode {
  Ok = 0,
  BadRequest = 1,
  Busy = 2,
  Unavailable = 3,
  /** Lookup only: a member of the name's group answered that it holds no such tuple. */
  NotFound = 4,
}

/** How PublishPayload.status travels. */
export enum PublishStatusCode {
  Stored = 1,
  Queued = 2,
}

/** Longest message of an error reply (UTF-16 units). */
export const CLIENT_ERROR_CHARS_MAX = 256;
/** Longest StatusPayload.version. */
export const CLIENT_VERSION_CHARS_MAX = 64;
/** A chunked reply fits in this many bytes (what one gossip datagram may be). */
export const CLIENT_DATAGRAM_BYTES = 1400;

// ---------------------------------------------------------------------------------------------------------------
// Requests

interface RequestBase {
  type: ClientMessageType.Request;
  /** Chosen by kelips-ctl; echoed in the reply. Non-negative safe integer. */
  id: number;
}

export interface LookupClientRequest extends RequestBase {
  op: ClientOp.Lookup;
  name: string;
}
export interface PublishClientRequest extends RequestBase {
  op: ClientOp.Publish;
  name: string;
  location: string;
}
export interface UnpublishClientRequest extends RequestBase {
  op: ClientOp.Unpublish;
  name: string;
}
export interface MembersClientRequest extends RequestBase {
  op: ClientOp.Members;
  /** Whose members: null for the agent's own group (the only one it holds a full view of). */
  group: number | null;
  chunk: number;
}
export interface ContactsClientRequest extends RequestBase {
  op: ClientOp.Contacts;
  chunk: number;
}
export interface StatusClientRequest extends RequestBase {
  op: ClientOp.Status;
}
export interface PingClientRequest extends RequestBase {
  op: ClientOp.Ping;
}
/** Join the cluster of the node at `seed` (merges two clusters of the same name and k). */
export interface JoinClientRequest extends RequestBase {
  op: ClientOp.Join;
  seed: string;
}

export type ClientRequest =
  | LookupClientRequest
  | PublishClientRequest
  | UnpublishClientRequest
  | MembersClientRequest
  | ContactsClientRequest
  | StatusClientRequest
  | PingClientRequest
  | JoinClientRequest;

// ---------------------------------------------------------------------------------------------------------------
// Reply payloads

/** The outcome of a lookup the agent ran (LookupResult without id and name, which the request has). */
export interface LookupPayload {
  status: LookupStatus.Found | LookupStatus.NotFound | LookupStatus.Unavailable;
  /** Non-empty exactly when found. */
  locations: Location[];
  hops: number;
  attempts: number;
  latencyMs: number;
  answeredBy: Address | null;
}

/** The outcome of a publish or unpublish (PublishResult without id, name and deleted). */
export interface PublishPayload {
  status: 'stored' | 'queued';
  storedAt: Address | null;
  latencyMs: number;
  replicas: number;
  groupSize: number;
}

/** The addresses a Join's seed resolved to, each sent a join request. */
export interface JoinPayload {
  seeds: Address[];
}

/** One member of an affinity group, as the agent sees it. */
export interface MemberRow {
  addr: Address;
  incarnation: number;
  heartbeat: number;
  /** ms since its heartbeat last advanced; integer 0..2^32-1. */
  ageMs: number;
  /** null: not measured yet. */
  rttMs: number | null;
  state: MemberState;
  group: number;
}

/** One contact for a foreign group. */
export interface ContactRow {
  group: number;
  addr: Address;
  incarnation: number;
  rttMs: number | null;
  ageMs: number;
  /** Consecutive probes or requests it did not answer. */
  misses: number;
}

export interface StatusPayload {
  /** The agent's advertised address. */
  address: Address;
  cluster: string;
  groups: number;
  /** The agent's own group, < groups. */
  group: number;
  incarnation: number;
  heartbeat: number;
  uptimeMs: number;
  membersAlive: number;
  membersSuspect: number;
  /** Contacts held, all groups together. */
  contacts: number;
  /** Foreign groups for which the agent holds no contact. */
  groupsWithoutContact: number;
  /** Filetuples stored (own group's names). */
  tuples: number;
  /** Tuples this agent owns. */
  published: number;
  joined: boolean;
  synced: boolean;
  /** The agent's software version, at most 64 units. */
  version: string;
}

export interface PingPayload {
  address: Address;
  cluster: string;
  groups: number;
  group: number;
  incarnation: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Replies

interface ReplyBase {
  type: ClientMessageType.Reply;
  id: number;
  /** 0..chunks-1; 0 for replies that are not chunked. */
  chunk: number;
  /** 1..65535; 1 for replies that are not chunked. */
  chunks: number;
}

export interface LookupClientReply extends ReplyBase {
  op: ClientOp.Lookup;
  code: ClientCode.Ok | ClientCode.NotFound | ClientCode.Unavailable;
  payload: LookupPayload;
}
export interface PublishClientReply extends ReplyBase {
  op: ClientOp.Publish | ClientOp.Unpublish;
  code: ClientCode.Ok;
  payload: PublishPayload;
}
export interface MembersClientReply extends ReplyBase {
  op: ClientOp.Members;
  code: ClientCode.Ok;
  payload: MemberRow[];
}
export interface ContactsClientReply extends ReplyBase {
  op: ClientOp.Contacts;
  code: ClientCode.Ok;
  payload: ContactRow[];
}
export interface StatusClientReply extends ReplyBase {
  op: ClientOp.Status;
  code: ClientCode.Ok;
  payload: StatusPayload;
}
export interface PingClientReply extends ReplyBase {
  op: ClientOp.Ping;
  code: ClientCode.Ok;
  payload: PingPayload;
}
export interface JoinClientReply extends ReplyBase {
  op: ClientOp.Join;
  code: ClientCode.Ok;
  payload: JoinPayload;
}
/** A refused request. A lookup that ran but found nothing, or reached nobody, is a LookupClientReply instead. */
export interface LookupErrorReply extends ReplyBase {
  op: ClientOp.Lookup;
  code: ClientCode.BadRequest | ClientCode.Busy;
  /** For humans; at most 256 units. */
  payload: string | null;
}
export interface OpErrorReply extends ReplyBase {
  op: Exclude<ClientOp, ClientOp.Lookup>;
  code: ClientCode.BadRequest | ClientCode.Busy | ClientCode.Unavailable;
  payload: string | null;
}
export type ClientErrorReply = LookupErrorReply | OpErrorReply;

export type ClientReply =
  | LookupClientReply
  | PublishClientReply
  | MembersClientReply
  | ContactsClientReply
  | StatusClientReply
  | PingClientReply
  | JoinClientReply
  | ClientErrorReply;

export type ClientMessage = ClientRequest | ClientReply;

/** True for kelips-ctl <-> agent messages (types 32, 33), false for node-to-node messages. */
export function isClientMessage(m: { type: number }): m is ClientMessage {
  return m.type === ClientMessageType.Request || m.type === ClientMessageType.Reply;
}

/** Whether a reply with this op and code carries the op's typed payload (else an error message or null). */
export function hasResultPayload(op: ClientOp, code: ClientCode): boolean {
  return code === ClientCode.Ok || (op === ClientOp.Lookup && (code === ClientCode.NotFound || code === ClientCode.Unavailable));
}

/**
 * An error reply to `req`: chunk 0 of 1, the message cut to CLIENT_ERROR_CHARS_MAX units (null for none).
 * A lookup that is Unavailable is a result, not an error (see LookupClientReply): for it this returns an
 * unavailable LookupClientReply (no hops, no attempts, no answer) and the message is dropped, so that the reply
 * can always be encoded.
 */
export function errorReply(
  req: Pick<ClientRequest, 'id' | 'op'>,
  code: ClientCode.BadRequest | ClientCode.Busy | ClientCode.Unavailable,
  message: string | null = null,
): ClientReply {
  if (req.op === ClientOp.Lookup && code === ClientCode.Unavailable) {
    return {
      type: ClientMessageType.Reply, id: req.id, op: ClientOp.Lookup, code, chunk: 0, chunks: 1,
      payload: { status: LookupStatus.Unavailable, locations: [], hops: 0, attempts: 0, latencyMs: 0, answeredBy: null },
    };
  }
  let payload =
    message === null
      ? null
      : (message as unknown as { toWellFormed(): string }).toWellFormed().slice(0, CLIENT_ERROR_CHARS_MAX);
  // Do not cut a surrogate pair in two.
  if (payload !== null && payload.length > 0 && (payload.charCodeAt(payload.length - 1) & 0xfc00) === 0xd800)
    payload = payload.slice(0, -1);
  return { type: ClientMessageType.Reply, id: req.id, op: req.op, code, chunk: 0, chunks: 1, payload } as ClientErrorReply;
}
