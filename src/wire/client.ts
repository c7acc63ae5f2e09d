/**
 * Client messages: kelips-ctl <-> agent, over the agent's gossip UDP port (one port to open).
 *
 * They carry no cluster/groups header (kelips-ctl may know neither). Their types continue MessageType's numbering
 * in the range core reserves for them (32..63); append only, like MessageType, ClientOp and ClientCode.
 *
 * Request: `[version, 32, id, op, ...args]`, the args CLIENT_OPS[op] declares, in order.
 * Reply: `[version, 33, id, op, code, chunk, chunks, payload]`; id and op echo the request.
 * code: 0 Ok, 1 BadRequest, 2 Busy, 3 Unavailable, 4 NotFound (lookup only), 5 Redirect (members only).
 * The payload is the one CLIENT_OPS[op].replies declares for the code; for the other codes (1, 2, 3) it is a
 * message for humans, text of at most 256 units, or null (ERROR_TEXT).
 * chunk < chunks <= 65535; chunks is 1 except for Ok replies of chunked ops (Members, Contacts), which the agent
 * cuts into datagrams of at most CLIENT_DATAGRAM_BYTES (see chunk.ts); kelips-ctl asks for chunk 0, learns
 * `chunks`, then asks for the others. Each chunk is cut from the state at the time it is asked for, so rows may
 * repeat or be missed when the view changes in between.
 *
 * CLIENT_OPS below is the layout: the codec (client-codec.ts) encodes and decodes every field from it through
 * client-schema.ts, and `struct<T>` checks each declaration against its TypeScript type.
 */
import type { ContactView, MemberView } from '../core/api.js';
import type { Address, Location, LookupResult, PublishResult } from '../core/types.js';
import { LookupStatus, MemberState } from '../core/types.js';
import type { Fields, Kind, KindSpec } from './client-schema.js';
import {
  address,
  bool,
  cluster,
  constant,
  group,
  groupBelow,
  int,
  list,
  oneOf,
  orNull,
  struct,
  text,
  time,
  u32,
  uint,
} from './client-schema.js';
import { GROUPS_MAX, STRING_MAX } from './fields.js';
import { CHUNKS_MAX } from './messages.js';

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
  /** Members only: this agent keeps no view of the group asked about; the payload names a member of it to ask. */
  Redirect = 5,
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
export interface LookupPayload extends Omit<LookupResult, 'id' | 'name' | 'status'> {
  /** Follows from the reply code (LOOKUP_STATUS); the codec checks it on encode and fills it on decode. */
  status: LookupStatus.Found | LookupStatus.NotFound | LookupStatus.Unavailable;
}

/** The outcome of a publish or unpublish (PublishResult without id, name and deleted). */
export type PublishPayload = Omit<PublishResult, 'id' | 'name' | 'deleted'>;

/** The addresses a Join's seed resolved to, each sent a join request. */
export interface JoinPayload {
  seeds: Address[];
}

/**
 * One member of the agent's own affinity group: the core's MemberView with its group instead of `self`,
 * ageMs an integer 0..2^32-1 and state alive or suspect.
 */
export interface MemberRow extends Omit<MemberView, 'self'> {
  group: number;
}

/** One contact for a foreign group, as the core shows it (ageMs an integer 0..2^32-1). */
export type ContactRow = ContactView;

/** Who answers a ping; the head of StatusPayload. */
export interface PingPayload {
  /** The agent's advertised address. */
  address: Address;
  cluster: string;
  groups: number;
  /** The agent's own group, < groups. */
  group: number;
  incarnation: number;
}

export interface StatusPayload extends PingPayload {
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
  /** The agent's software version, at most CLIENT_VERSION_CHARS_MAX units. */
  version: string;
}

/** Where to ask instead: a member of the group a Members request asked about. */
export interface RedirectPayload {
  member: Address;
}

// ---------------------------------------------------------------------------------------------------------------
// Declarations: each op's request arguments and reply payloads, in wire order.

/** The lookup status each result code of a lookup reply implies (the payload's status is derived, never chosen). */
export const LOOKUP_STATUS = {
  [ClientCode.Ok]: LookupStatus.Found,
  [ClientCode.NotFound]: LookupStatus.NotFound,
  [ClientCode.Unavailable]: LookupStatus.Unavailable,
} as const;
export type LookupCode = keyof typeof LOOKUP_STATUS;

const NAME = text(1, STRING_MAX);
const CHUNK = int(0, CHUNKS_MAX - 1);
/** The payload of an error reply. */
export const ERROR_TEXT: Kind<string | null> = orNull(text(0, CLIENT_ERROR_CHARS_MAX));

const LOCATION = struct<Location>({ location: NAME, owner: address });

function lookupPayload(code: LookupCode): Kind<LookupPayload> {
  const status = LOOKUP_STATUS[code];
  return struct<LookupPayload>({
    status: constant<LookupPayload['status']>(status, `reply code ${code} says`),
    locations: list(LOCATION, status === LookupStatus.Found ? { min: 1 } : { max: 0 }),
    hops: uint,
    attempts: uint,
    latencyMs: time,
    answeredBy: orNull(address),
  });
}

const PUBLISH = struct<PublishPayload>({
  status: oneOf<PublishPayload['status']>([1, 'stored', 'stored'], [2, 'queued', 'queued']),
  storedAt: orNull(address),
  latencyMs: time,
  replicas: uint,
  groupSize: uint,
});

/** A Members reply's row (chunk.ts sizes rows by it). */
export const MEMBER_ROW = struct<MemberRow>({
  addr: address,
  incarnation: uint,
  heartbeat: uint,
  ageMs: u32,
  rttMs: orNull(time),
  state: oneOf<MemberState>([1, MemberState.Alive, 'alive'], [2, MemberState.Suspect, 'suspect']),
  group,
});

/** A Contacts reply's row. */
export const CONTACT_ROW = struct<ContactRow>({
  group,
  addr: address,
  incarnation: uint,
  rttMs: orNull(time),
  ageMs: u32,
  misses: uint,
});

const IDENTITY: Fields<PingPayload> = {
  address,
  cluster,
  groups: int(1, GROUPS_MAX),
  group: groupBelow('groups'),
  incarnation: uint,
};

const STATUS = struct<StatusPayload>({
  ...IDENTITY,
  heartbeat: uint,
  uptimeMs: uint,
  membersAlive: uint,
  membersSuspect: uint,
  contacts: uint,
  groupsWithoutContact: uint,
  tuples: uint,
  published: uint,
  joined: bool,
  synced: bool,
  version: text(0, CLIENT_VERSION_CHARS_MAX),
});

/** What a request carries after its op. */
type Args<R extends ClientRequest> = Omit<R, 'type' | 'id' | 'op'>;

export interface OpDeclaration {
  /** The request's arguments, after op. */
  readonly args: Readonly<Record<string, KindSpec>>;
  /** The payload of each code besides the error codes BadRequest, Busy and Unavailable (ERROR_TEXT). */
  readonly replies: Readonly<Partial<Record<ClientCode, KindSpec>>>;
  /** Ok replies are cut into chunks, and requests ask for one by number. */
  readonly chunked: boolean;
}

function op<R extends ClientRequest, P>(args: Fields<Args<R>>, ok: Kind<P>, more: Partial<Record<ClientCode, KindSpec>> = {}, chunked = false): OpDeclaration {
  return { args: args as Record<string, KindSpec>, replies: { [ClientCode.Ok]: ok, ...more }, chunked };
}

export const CLIENT_OPS: Readonly<Record<ClientOp, OpDeclaration>> = {
  [ClientOp.Lookup]: op<LookupClientRequest, LookupPayload>({ name: NAME }, lookupPayload(ClientCode.Ok), {
    [ClientCode.NotFound]: lookupPayload(ClientCode.NotFound),
    [ClientCode.Unavailable]: lookupPayload(ClientCode.Unavailable),
  }),
  [ClientOp.Publish]: op<PublishClientRequest, PublishPayload>({ name: NAME, location: NAME }, PUBLISH),
  [ClientOp.Unpublish]: op<UnpublishClientRequest, PublishPayload>({ name: NAME }, PUBLISH),
  [ClientOp.Members]: op<MembersClientRequest, MemberRow[]>(
    { group: orNull(group), chunk: CHUNK },
    list(MEMBER_ROW),
    { [ClientCode.Redirect]: struct<RedirectPayload>({ member: address }) },
    true,
  ),
  [ClientOp.Contacts]: op<ContactsClientRequest, ContactRow[]>({ chunk: CHUNK }, list(CONTACT_ROW), {}, true),
  [ClientOp.Status]: op<StatusClientRequest, StatusPayload>({}, STATUS),
  [ClientOp.Ping]: op<PingClientRequest, PingPayload>({}, struct<PingPayload>(IDENTITY)),
  [ClientOp.Join]: op<JoinClientRequest, JoinPayload>({ seed: NAME }, struct<JoinPayload>({ seeds: list(address) })),
};

/** The payload kind of a reply with this op and code; undefined when the op never answers with the code. */
export function replyPayload(op: ClientOp, code: ClientCode): KindSpec | undefined {
  const d = CLIENT_OPS[op];
  if (d === undefined) return undefined;
  return d.replies[code] ?? (code === ClientCode.BadRequest || code === ClientCode.Busy || code === ClientCode.Unavailable ? ERROR_TEXT : undefined);
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
  /** Found, not found, or unavailable: the payload's status follows (LOOKUP_STATUS). */
  code: LookupCode;
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
/** This agent keeps no view of the group a Members request asked about: ask `payload.member`. */
export interface MembersRedirectReply extends ReplyBase {
  op: ClientOp.Members;
  code: ClientCode.Redirect;
  payload: RedirectPayload;
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
  | MembersRedirectReply
  | ClientErrorReply;

export type ClientMessage = ClientRequest | ClientReply;

/** True for kelips-ctl <-> agent messages (types 32, 33), false for node-to-node messages. */
export function isClientMessage(m: { type: number }): m is ClientMessage {
  return m.type === ClientMessageType.Request || m.type === ClientMessageType.Reply;
}

/**
 * The reply to a lookup that ran: Ok when found (with locations), NotFound when a member of the group said it
 * holds no such tuple, Unavailable otherwise; the payload's status follows from the code (LOOKUP_STATUS).
 */
export function lookupReply(id: number, r: Omit<LookupResult, 'id' | 'name'>): LookupClientReply {
  const code: LookupCode =
    r.status === LookupStatus.Found && r.locations.length > 0 ? ClientCode.Ok : r.status === LookupStatus.NotFound ? ClientCode.NotFound : ClientCode.Unavailable;
  return {
    type: ClientMessageType.Reply, id, op: ClientOp.Lookup, code, chunk: 0, chunks: 1,
    payload: {
      status: LOOKUP_STATUS[code],
      locations: code === ClientCode.Ok ? r.locations : [],
      hops: r.hops,
      attempts: r.attempts,
      latencyMs: Math.max(0, r.latencyMs),
      answeredBy: r.answeredBy,
    },
  };
}

/** The reply to a Members request for a group this agent keeps no view of: ask `member`, a member of it. */
export function redirectReply(req: Pick<MembersClientRequest, 'id'>, member: Address): MembersRedirectReply {
  return { type: ClientMessageType.Reply, id: req.id, op: ClientOp.Members, code: ClientCode.Redirect, chunk: 0, chunks: 1, payload: { member } };
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
  if (req.op === ClientOp.Lookup && code === ClientCode.Unavailable)
    return lookupReply(req.id, { status: LookupStatus.Unavailable, locations: [], hops: 0, attempts: 0, latencyMs: 0, answeredBy: null });
  let payload =
    message === null
      ? null
      : (message as unknown as { toWellFormed(): string }).toWellFormed().slice(0, CLIENT_ERROR_CHARS_MAX);
  // Do not cut a surrogate pair in two.
  if (payload !== null && payload.length > 0 && (payload.charCodeAt(payload.length - 1) & 0xfc00) === 0xd800)
    payload = payload.slice(0, -1);
  return { type: ClientMessageType.Reply, id: req.id, op: req.op, code, chunk: 0, chunks: 1, payload } as ClientErrorReply;
}
