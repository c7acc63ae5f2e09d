/**
 * Node-to-node messages (src/core/types.ts) to and from plain arrays.
 *
 * Layout: [version, type, cluster, groups, from, incarnation, heartbeat, ...body], the body fields in the order
 * their interface declares them. Entries: MemberEntry [addr, incarnation, heartbeat, ageMs]; GoneEntry [addr,
 * incarnation, reason]; TupleEntry [name, location, owner, versionIncarnation, versionSeq, ttlMs, deleted];
 * Location [location, owner]. Every datagram has exactly its type's number of items: a new field needs a new
 * message type (or version), never an extra item.
 *
 * Body rules beyond those of fields.ts: digests 1..256 uint32s; want: at most 256 bucket ids 0..255; group <
 * groups (so at most 65534); ttl 0..16; chunk < chunks <= 65535; LookupReply status 1..3 (Unavailable never
 * travels), with at least one location when Found and none otherwise; SyncChunk authority 0..2.
 */
import type { Header, Message } from '../core/types.js';
import { LookupStatus, MessageType, SyncAuthority } from '../core/types.js';
import {
  bad,
  decodeGone,
  decodeLocations,
  decodeMembers,
  decodeTuple,
  decodeTuples,
  encAddress,
  encBool,
  encName,
  encodeError,
  encodeGone,
  encodeLocations,
  encodeMembers,
  encodeTuple,
  encodeTuples,
  encTime,
  encUint,
  fail,
  failAddress,
  GROUPS_MAX,
  isBool,
  isCluster,
  isIntIn,
  isName,
  isTime,
  isU32,
  isUint,
  show,
  STRING_MAX,
  wireAddress,
  WIRE_VERSION,
} from './fields.js';

export const DIGESTS_MAX = 256;
export const WANT_MAX = 256;
export const CONTACT_TTL_MAX = 16;
export const CHUNKS_MAX = 65_535;

/** Names of the header items, in wire order. */
export const HEADER_FIELDS = ['version', 'type', 'cluster', 'groups', 'from', 'incarnation', 'heartbeat'] as const;

/** Names of each message type's body items, in wire order (the order its interface declares them). */
export const BODY_FIELDS: Readonly<Record<MessageType, readonly string[]>> = {
  [MessageType.Gossip]: ['sentAt', 'wantAck', 'members', 'foreign', 'gone', 'tuples'],
  [MessageType.GossipAck]: ['echoSentAt', 'members', 'gone'],
  [MessageType.JoinRequest]: ['id'],
  [MessageType.JoinReply]: ['id', 'members', 'foreign', 'chunk', 'chunks'],
  [MessageType.SyncRequest]: ['id', 'digests', 'wantMembers'],
  [MessageType.SyncChunk]: ['id', 'members', 'tuples', 'want', 'last', 'authority'],
  [MessageType.LookupRequest]: ['id', 'name'],
  [MessageType.LookupReply]: ['id', 'status', 'locations'],
  [MessageType.PublishRequest]: ['id', 'tuple'],
  [MessageType.PublishAck]: ['id', 'accepted', 'groupSize'],
  [MessageType.ContactRequest]: ['id', 'group', 'origin', 'ttl'],
  [MessageType.ContactReply]: ['id', 'group', 'candidates'],
  [MessageType.Leave]: [],
  [MessageType.GroupReset]: ['group', 'origin', 'originIncarnation', 'forwarded'],
  [MessageType.GroupResetAck]: ['originIncarnation'],
};

/** Items in a datagram of each message type (header included), indexed by type; 0 for other numbers. */
export const MESSAGE_ITEMS: readonly number[] = (() => {
  const items = new Array<number>(32).fill(0);
  for (const [t, f] of Object.entries(BODY_FIELDS)) items[Number(t)] = HEADER_FIELDS.length + f.length;
  return items;
})();

/** Names of the items of each kind of entry, for error messages. */
export const ENTRY_FIELDS: Readonly<Record<string, readonly string[]>> = {
  members: ['addr', 'incarnation', 'heartbeat', 'ageMs'],
  foreign: ['addr', 'incarnation', 'heartbeat', 'ageMs'],
  candidates: ['addr', 'incarnation', 'heartbeat', 'ageMs'],
  gone: ['addr', 'incarnation', 'reason'],
  tuples: ['name', 'location', 'owner', 'versionIncarnation', 'versionSeq', 'ttlMs', 'deleted'],
  tuple: ['name', 'location', 'owner', 'versionIncarnation', 'versionSeq', 'ttlMs', 'deleted'],
  locations: ['location', 'owner'],
};

// ---------------------------------------------------------------------------------------------------------------
// Encoding

function checkHeader(m: Header): Uint8Array {
  if (!isCluster(m.cluster)) throw encodeError('cluster', m.cluster, '1..64 characters of [A-Za-z0-9._-]');
  if (!isIntIn(m.groups, 1, GROUPS_MAX)) throw encodeError('groups', m.groups, `an integer 1..${GROUPS_MAX}`);
  const from = encAddress(m.from, 'from');
  if (!isUint(m.incarnation)) encUint(m.incarnation, 'incarnation');
  if (!isUint(m.heartbeat)) encUint(m.heartbeat, 'heartbeat');
  return from;
}

function encGroup(group: unknown, groups: number): number {
  if (!isIntIn(group, 0, groups - 1)) throw encodeError('group', group, `a group 0..${groups - 1} (groups - 1)`);
  return group;
}

function encAuthority(a: unknown): SyncAuthority {
  if (a !== SyncAuthority.None && a !== SyncAuthority.Holds && a !== SyncAuthority.Recovering)
    throw encodeError('authority', a, '0 (none), 1 (holds) or 2 (recovering)');
  return a;
}

function encChunk(chunk: unknown, chunks: unknown): void {
  if (!isIntIn(chunks, 1, CHUNKS_MAX)) throw encodeError('chunks', chunks, `an integer 1..${CHUNKS_MAX}`);
  if (!isIntIn(chunk, 0, chunks - 1)) throw encodeError('chunk', chunk, `an integer 0..${chunks - 1} (chunks - 1)`);
}

/** The plain array of a node-to-node message; throws WireEncodeError naming the first field that breaks a rule. */
export function messageToArray(m: Message): unknown[] {
  const from = checkHeader(m);
  const V = WIRE_VERSION;
  switch (m.type) {
    case MessageType.Gossip:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat,
        encTime(m.sentAt, 'sentAt'), encBool(m.wantAck, 'wantAck'), encodeMembers(m.members, 'members'),
        encodeMembers(m.foreign, 'foreign'), encodeGone(m.gone, 'gone'), encodeTuples(m.tuples, 'tuples')];
    case MessageType.GossipAck:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat,
        encTime(m.echoSentAt, 'echoSentAt'), encodeMembers(m.members, 'members'), encodeGone(m.gone, 'gone')];
    case MessageType.JoinRequest:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id')];
    case MessageType.JoinReply:
      encChunk(m.chunk, m.chunks);
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'),
        encodeMembers(m.members, 'members'), encodeMembers(m.foreign, 'foreign'), m.chunk, m.chunks];
    case MessageType.SyncRequest: {
      const d = m.digests;
      if (!Array.isArray(d) || d.length < 1 || d.length > DIGESTS_MAX)
        throw encodeError('digests', d, `a list of 1..${DIGESTS_MAX} digests`);
      for (let i = 0; i < d.length; i++) if (!isU32(d[i])) throw encodeError(`digests[${i}]`, d[i], 'a uint32');
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'), d,
        encBool(m.wantMembers, 'wantMembers')];
    }
    case MessageType.SyncChunk: {
      const w = m.want;
      if (!Array.isArray(w) || w.length > WANT_MAX) throw encodeError('want', w, `a list of at most ${WANT_MAX} ids`);
      for (let i = 0; i < w.length; i++)
        if (!isIntIn(w[i], 0, DIGESTS_MAX - 1)) throw encodeError(`want[${i}]`, w[i], `a bucket id 0..${DIGESTS_MAX - 1}`);
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'),
        encodeMembers(m.members, 'members'), encodeTuples(m.tuples, 'tuples'), w, encBool(m.last, 'last'),
        encAuthority(m.authority)];
    }
    case MessageType.LookupRequest:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'),
        encName(m.name, 'name')];
    case MessageType.LookupReply: {
      const s = m.status;
      if (s !== LookupStatus.Found && s !== LookupStatus.NotFound && s !== LookupStatus.NotReady)
        throw encodeError('status', s, 'a LookupStatus that travels (1 found, 2 not found, 3 not ready)');
      const locations = encodeLocations(m.locations, 'locations');
      if ((s === LookupStatus.Found) !== locations.length > 0)
        throw encodeError('locations', m.locations, s === LookupStatus.Found ? 'non-empty when found' : 'empty unless found');
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'), s, locations];
    }
    case MessageType.PublishRequest:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'),
        encodeTuple(m.tuple, 'tuple')];
    case MessageType.PublishAck:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'),
        encBool(m.accepted, 'accepted'), encUint(m.groupSize, 'groupSize')];
    case MessageType.ContactRequest:
      if (!isIntIn(m.ttl, 0, CONTACT_TTL_MAX)) throw encodeError('ttl', m.ttl, `an integer 0..${CONTACT_TTL_MAX}`);
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'),
        encGroup(m.group, m.groups), encAddress(m.origin, 'origin'), m.ttl];
    case MessageType.ContactReply:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.id, 'id'),
        encGroup(m.group, m.groups), encodeMembers(m.candidates, 'candidates')];
    case MessageType.Leave:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat];
    case MessageType.GroupReset:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encGroup(m.group, m.groups),
        encAddress(m.origin, 'origin'), encUint(m.originIncarnation, 'originIncarnation'), encBool(m.forwarded, 'forwarded')];
    case MessageType.GroupResetAck:
      return [V, m.type, m.cluster, m.groups, from, m.incarnation, m.heartbeat, encUint(m.originIncarnation, 'originIncarnation')];
    default:
      throw encodeError('type', (m as { type: unknown }).type, 'a MessageType');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding. `a` is an array whose a[0] is the version and a[1] a known MessageType (the guard checked both).

let hCluster = '';
let hGroups = 0;
let hFrom = '';
let hIncarnation = 0;
let hHeartbeat = 0;

function decodeHeader(a: unknown[]): boolean {
  const cluster: unknown = a[2];
  if (!isCluster(cluster)) return bad('cluster', `${show(cluster)}, not 1..64 characters of [A-Za-z0-9._-]`);
  const groups: unknown = a[3];
  if (!isIntIn(groups, 1, GROUPS_MAX)) return bad('groups', `${show(groups)}, not an integer 1..${GROUPS_MAX}`);
  const from = wireAddress(a[4]);
  if (from === null) return bad('from', `${show(a[4])}, not an address (6 or 18 bytes, port 1..65535)`);
  const inc: unknown = a[5];
  if (!isUint(inc)) return bad('incarnation', `${show(inc)}, not a non-negative safe integer`);
  const hb: unknown = a[6];
  if (!isUint(hb)) return bad('heartbeat', `${show(hb)}, not a non-negative safe integer`);
  hCluster = cluster;
  hGroups = groups;
  hFrom = from;
  hIncarnation = inc;
  hHeartbeat = hb;
  return true;
}

function notUint(field: string, v: unknown): null {
  return fail(field, `${show(v)}, not a non-negative safe integer`);
}

function notBool(field: string, v: unknown): null {
  return fail(field, `${show(v)}, not a boolean`);
}

/** The message of a datagram's array; null with `failDetail` set when a field breaks a rule. */
export function arrayToMessage(a: unknown[], type: MessageType): Message | null {
  const items = MESSAGE_ITEMS[type]!;
  if (a.length !== items) return fail('datagram', `${a.length} items, a type ${type} message has ${items}`);
  if (!decodeHeader(a)) return null;
  switch (type) {
    case MessageType.Gossip: {
      const sentAt: unknown = a[7];
      if (!isTime(sentAt)) return fail('sentAt', `${show(sentAt)}, not a finite number >= 0`);
      const wantAck: unknown = a[8];
      if (!isBool(wantAck)) return notBool('wantAck', wantAck);
      const members = decodeMembers(a[9], 'members');
      if (members === null) return null;
      const foreign = decodeMembers(a[10], 'foreign');
      if (foreign === null) return null;
      const gone = decodeGone(a[11], 'gone');
      if (gone === null) return null;
      const tuples = decodeTuples(a[12], 'tuples');
      if (tuples === null) return null;
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        sentAt, wantAck, members, foreign, gone, tuples };
    }
    case MessageType.GossipAck: {
      const echoSentAt: unknown = a[7];
      if (!isTime(echoSentAt)) return fail('echoSentAt', `${show(echoSentAt)}, not a finite number >= 0`);
      const members = decodeMembers(a[8], 'members');
      if (members === null) return null;
      const gone = decodeGone(a[9], 'gone');
      if (gone === null) return null;
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        echoSentAt, members, gone };
    }
    case MessageType.JoinRequest: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat, id };
    }
    case MessageType.JoinReply: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const members = decodeMembers(a[8], 'members');
      if (members === null) return null;
      const foreign = decodeMembers(a[9], 'foreign');
      if (foreign === null) return null;
      const chunks: unknown = a[11];
      if (!isIntIn(chunks, 1, CHUNKS_MAX)) return fail('chunks', `${show(chunks)}, not an integer 1..${CHUNKS_MAX}`);
      const chunk: unknown = a[10];
      if (!isIntIn(chunk, 0, chunks - 1)) return fail('chunk', `${show(chunk)}, not an integer 0..${chunks - 1}`);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, members, foreign, chunk, chunks };
    }
    case MessageType.SyncRequest: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const digests: unknown = a[8];
      if (!Array.isArray(digests) || digests.length < 1 || digests.length > DIGESTS_MAX)
        return fail('digests', `${show(digests)}, not a list of 1..${DIGESTS_MAX} digests`);
      for (let i = 0; i < digests.length; i++)
        if (!isU32(digests[i])) return fail(`digests[${i}]`, `${show(digests[i])}, not a uint32`);
      const wantMembers: unknown = a[9];
      if (!isBool(wantMembers)) return notBool('wantMembers', wantMembers);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, digests: digests as number[], wantMembers };
    }
    case MessageType.SyncChunk: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const members = decodeMembers(a[8], 'members');
      if (members === null) return null;
      const tuples = decodeTuples(a[9], 'tuples');
      if (tuples === null) return null;
      const want: unknown = a[10];
      if (!Array.isArray(want) || want.length > WANT_MAX)
        return fail('want', `${show(want)}, not a list of at most ${WANT_MAX} bucket ids`);
      for (let i = 0; i < want.length; i++)
        if (!isIntIn(want[i], 0, DIGESTS_MAX - 1)) return fail(`want[${i}]`, `${show(want[i])}, not a bucket id 0..255`);
      const last: unknown = a[11];
      if (!isBool(last)) return notBool('last', last);
      const authority: unknown = a[12];
      if (authority !== SyncAuthority.None && authority !== SyncAuthority.Holds && authority !== SyncAuthority.Recovering)
        return fail('authority', `${show(authority)}, not 0 (none), 1 (holds) or 2 (recovering)`);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, members, tuples, want: want as number[], last, authority };
    }
    case MessageType.LookupRequest: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const name: unknown = a[8];
      if (!isName(name)) return fail('name', `${show(name)}, not text of 1..${STRING_MAX} units`);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, name };
    }
    case MessageType.LookupReply: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const status: unknown = a[8];
      if (status !== LookupStatus.Found && status !== LookupStatus.NotFound && status !== LookupStatus.NotReady)
        return fail('status', `${show(status)}, not 1 (found), 2 (not found) or 3 (not ready)`);
      const locations = decodeLocations(a[9], 'locations');
      if (locations === null) return null;
      if ((status === LookupStatus.Found) !== locations.length > 0)
        return fail('locations', status === LookupStatus.Found ? 'empty, but the status is found' : 'not empty, but the status is not found');
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, status, locations };
    }
    case MessageType.PublishRequest: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const tuple = decodeTuple(a[8], 'tuple');
      if (tuple === null) return null;
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, tuple };
    }
    case MessageType.PublishAck: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const accepted: unknown = a[8];
      if (!isBool(accepted)) return notBool('accepted', accepted);
      const groupSize: unknown = a[9];
      if (!isUint(groupSize)) return notUint('groupSize', groupSize);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, accepted, groupSize };
    }
    case MessageType.ContactRequest: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const group: unknown = a[8];
      if (!isIntIn(group, 0, hGroups - 1)) return fail('group', `${show(group)}, not a group 0..${hGroups - 1}`);
      const origin = wireAddress(a[9]);
      if (origin === null) return failAddress('origin', a[9]);
      const ttl: unknown = a[10];
      if (!isIntIn(ttl, 0, CONTACT_TTL_MAX)) return fail('ttl', `${show(ttl)}, not an integer 0..${CONTACT_TTL_MAX}`);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, group, origin, ttl };
    }
    case MessageType.ContactReply: {
      const id: unknown = a[7];
      if (!isUint(id)) return notUint('id', id);
      const group: unknown = a[8];
      if (!isIntIn(group, 0, hGroups - 1)) return fail('group', `${show(group)}, not a group 0..${hGroups - 1}`);
      const candidates = decodeMembers(a[9], 'candidates');
      if (candidates === null) return null;
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        id, group, candidates };
    }
    case MessageType.Leave:
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat };
    case MessageType.GroupReset: {
      const group: unknown = a[7];
      if (!isIntIn(group, 0, hGroups - 1)) return fail('group', `${show(group)}, not a group 0..${hGroups - 1}`);
      const origin = wireAddress(a[8]);
      if (origin === null) return failAddress('origin', a[8]);
      const originIncarnation: unknown = a[9];
      if (!isUint(originIncarnation)) return notUint('originIncarnation', originIncarnation);
      const forwarded: unknown = a[10];
      if (!isBool(forwarded)) return notBool('forwarded', forwarded);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat,
        group, origin, originIncarnation, forwarded };
    }
    case MessageType.GroupResetAck: {
      const originIncarnation: unknown = a[7];
      if (!isUint(originIncarnation)) return notUint('originIncarnation', originIncarnation);
      return { type, cluster: hCluster, groups: hGroups, from: hFrom, incarnation: hIncarnation, heartbeat: hHeartbeat, originIncarnation };
    }
    default:
      return fail('type', `${show(type)}, not a message type`);
  }
}
