/**
 * Client messages (client.ts) to and from plain arrays, with the same strictness as node-to-node messages.
 * The layouts and payloads are documented in client.ts.
 */
import type { Address } from '../core/types.js';
import { LookupStatus, MemberState } from '../core/types.js';
import type {
  ClientMessage,
  ClientReply,
  ClientRequest,
  ContactRow,
  JoinPayload,
  LookupPayload,
  MemberRow,
  PingPayload,
  PublishPayload,
  StatusPayload,
} from './client.js';
import {
  CLIENT_ERROR_CHARS_MAX,
  CLIENT_VERSION_CHARS_MAX,
  ClientCode,
  ClientMessageType,
  ClientOp,
  hasResultPayload,
  PublishStatusCode,
} from './client.js';
import {
  bad,
  decodeLocations,
  encAddress,
  encodeError,
  encodeLocations,
  encName,
  encTime,
  encUint,
  fail,
  failAddress,
  GROUPS_MAX,
  isBool,
  isCluster,
  isIntIn,
  isName,
  isText,
  isTime,
  isU32,
  isUint,
  LIST_MAX,
  show,
  STRING_MAX,
  wireAddress,
  WIRE_VERSION,
} from './fields.js';
import { CHUNKS_MAX } from './messages.js';

/** Largest group number (groups <= 65535). */
const GROUP_MAX = GROUPS_MAX - 1;

function chunked(op: ClientOp, code: ClientCode): boolean {
  return code === ClientCode.Ok && (op === ClientOp.Members || op === ClientOp.Contacts);
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

function encGroup(v: unknown, field: string, groups = GROUPS_MAX): number {
  if (!isIntIn(v, 0, groups - 1)) throw encodeError(field, v, `a group 0..${groups - 1}`);
  return v;
}

function encRtt(v: unknown, field: string): number | null {
  return v === null ? null : encTime(v, field);
}

function encAddressOrNull(v: unknown, field: string): Uint8Array | null {
  return v === null ? null : encAddress(v, field);
}

function encList(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v) || v.length > LIST_MAX) throw encodeError(field, v, `a list of at most ${LIST_MAX} rows`);
  return v;
}

function encIdentity(p: PingPayload, field: string): unknown[] {
  if (!isCluster(p.cluster)) throw encodeError(`${field}.cluster`, p.cluster, '1..64 characters of [A-Za-z0-9._-]');
  if (!isIntIn(p.groups, 1, GROUPS_MAX)) throw encodeError(`${field}.groups`, p.groups, `an integer 1..${GROUPS_MAX}`);
  return [encAddress(p.address, `${field}.address`), p.cluster, p.groups, encGroup(p.group, `${field}.group`, p.groups),
    encUint(p.incarnation, `${field}.incarnation`)];
}

function encPayload(m: ClientReply): unknown {
  if (!hasResultPayload(m.op, m.code)) {
    const t = m.payload as unknown;
    if (t !== null && !isText(t, 0, CLIENT_ERROR_CHARS_MAX))
      throw encodeError('payload', t, `null or well-formed text of at most ${CLIENT_ERROR_CHARS_MAX} units`);
    return t;
  }
  switch (m.op) {
    case ClientOp.Lookup: {
      const p = m.payload as LookupPayload;
      const want = m.code === ClientCode.Ok ? LookupStatus.Found : m.code === ClientCode.NotFound ? LookupStatus.NotFound : LookupStatus.Unavailable;
      if (p.status !== want) throw encodeError('payload.status', p.status, `${want}, as code ${m.code} says`);
      const locations = encodeLocations(p.locations, 'payload.locations');
      if ((p.status === LookupStatus.Found) !== locations.length > 0)
        throw encodeError('payload.locations', p.locations, p.status === LookupStatus.Found ? 'non-empty when found' : 'empty unless found');
      return [p.status, locations, encUint(p.hops, 'payload.hops'), encUint(p.attempts, 'payload.attempts'),
        encTime(p.latencyMs, 'payload.latencyMs'), encAddressOrNull(p.answeredBy, 'payload.answeredBy')];
    }
    case ClientOp.Publish:
    case ClientOp.Unpublish: {
      const p = m.payload as PublishPayload;
      const s = p.status === 'stored' ? PublishStatusCode.Stored : p.status === 'queued' ? PublishStatusCode.Queued : 0;
      if (s === 0) throw encodeError('payload.status', p.status, "'stored' or 'queued'");
      return [s, encAddressOrNull(p.storedAt, 'payload.storedAt'), encTime(p.latencyMs, 'payload.latencyMs'),
        encUint(p.replicas, 'payload.replicas'), encUint(p.groupSize, 'payload.groupSize')];
    }
    case ClientOp.Join: {
      const seeds = encList((m.payload as JoinPayload).seeds, 'payload.seeds');
      return [seeds.map((a, i) => encAddress(a, `payload.seeds[${i}]`))];
    }
    case ClientOp.Members: {
      const rows = encList(m.payload, 'payload') as MemberRow[];
      const out: unknown[] = [];
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const f = `payload[${i}]`;
        if (r.state !== MemberState.Alive && r.state !== MemberState.Suspect)
          throw encodeError(`${f}.state`, r.state, '1 (alive) or 2 (suspect)');
        if (!isU32(r.ageMs)) throw encodeError(`${f}.ageMs`, r.ageMs, 'an integer 0..2^32-1');
        out.push([encAddress(r.addr, `${f}.addr`), encUint(r.incarnation, `${f}.incarnation`),
          encUint(r.heartbeat, `${f}.heartbeat`), r.ageMs, encRtt(r.rttMs, `${f}.rttMs`), r.state,
          encGroup(r.group, `${f}.group`)]);
      }
      return out;
    }
    case ClientOp.Contacts: {
      const rows = encList(m.payload, 'payload') as ContactRow[];
      const out: unknown[] = [];
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const f = `payload[${i}]`;
        if (!isU32(r.ageMs)) throw encodeError(`${f}.ageMs`, r.ageMs, 'an integer 0..2^32-1');
        out.push([encGroup(r.group, `${f}.group`), encAddress(r.addr, `${f}.addr`),
          encUint(r.incarnation, `${f}.incarnation`), encRtt(r.rttMs, `${f}.rttMs`), r.ageMs,
          encUint(r.misses, `${f}.misses`)]);
      }
      return out;
    }
    case ClientOp.Status: {
      const p = m.payload as StatusPayload;
      const head = encIdentity(p, 'payload');
      if (!isBool(p.joined)) throw encodeError('payload.joined', p.joined, 'a boolean');
      if (!isBool(p.synced)) throw encodeError('payload.synced', p.synced, 'a boolean');
      if (!isText(p.version, 0, CLIENT_VERSION_CHARS_MAX))
        throw encodeError('payload.version', p.version, `well-formed text of at most ${CLIENT_VERSION_CHARS_MAX} units`);
      head.push(encUint(p.heartbeat, 'payload.heartbeat'), encUint(p.uptimeMs, 'payload.uptimeMs'),
        encUint(p.membersAlive, 'payload.membersAlive'), encUint(p.membersSuspect, 'payload.membersSuspect'),
        encUint(p.contacts, 'payload.contacts'), encUint(p.groupsWithoutContact, 'payload.groupsWithoutContact'),
        encUint(p.tuples, 'payload.tuples'), encUint(p.published, 'payload.published'), p.joined, p.synced, p.version);
      return head;
    }
    case ClientOp.Ping:
      return encIdentity(m.payload as PingPayload, 'payload');
    default:
      throw encodeError('op', (m as { op: unknown }).op, 'a ClientOp');
  }
}

/** The plain array of a client message; throws WireEncodeError naming the first field that breaks a rule. */
export function clientToArray(m: ClientMessage): unknown[] {
  const V = WIRE_VERSION;
  const id = encUint(m.id, 'id');
  if (m.type === ClientMessageType.Request) {
    const r: ClientRequest = m;
    switch (r.op) {
      case ClientOp.Lookup:
      case ClientOp.Unpublish:
        return [V, r.type, id, r.op, encName(r.name, 'name')];
      case ClientOp.Publish:
        return [V, r.type, id, r.op, encName(r.name, 'name'), encName(r.location, 'location')];
      case ClientOp.Members:
        if (r.group !== null) encGroup(r.group, 'group');
        return [V, r.type, id, r.op, r.group, encGroup(r.chunk, 'chunk', CHUNKS_MAX)];
      case ClientOp.Contacts:
        return [V, r.type, id, r.op, encGroup(r.chunk, 'chunk', CHUNKS_MAX)];
      case ClientOp.Status:
      case ClientOp.Ping:
        return [V, r.type, id, r.op];
      case ClientOp.Join:
        return [V, r.type, id, r.op, encName(r.seed, 'seed')];
      default:
        throw encodeError('op', (r as { op: unknown }).op, 'a ClientOp');
    }
  }
  if (m.type !== ClientMessageType.Reply) throw encodeError('type', (m as { type: unknown }).type, 'a message type');
  if (!isIntIn(m.op, ClientOp.Lookup, ClientOp.Join)) throw encodeError('op', m.op, 'a ClientOp');
  if (!isIntIn(m.code, ClientCode.Ok, ClientCode.NotFound) || (m.code === ClientCode.NotFound && m.op !== ClientOp.Lookup))
    throw encodeError('code', m.code, 'a ClientCode (4, not found, for lookups only)');
  if (chunked(m.op, m.code)) {
    if (!isIntIn(m.chunks, 1, CHUNKS_MAX)) throw encodeError('chunks', m.chunks, `an integer 1..${CHUNKS_MAX}`);
    if (!isIntIn(m.chunk, 0, m.chunks - 1)) throw encodeError('chunk', m.chunk, `an integer 0..${m.chunks - 1}`);
  } else if (m.chunk !== 0 || m.chunks !== 1) {
    throw encodeError('chunk', `${m.chunk} of ${m.chunks}`, 'chunk 0 of 1 (this reply is not chunked)');
  }
  return [V, m.type, id, m.op, m.code, m.chunk, m.chunks, encPayload(m)];
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

function notUint(field: string, v: unknown): null {
  return fail(field, `${show(v)}, not a non-negative safe integer`);
}

function isRtt(v: unknown): v is number | null {
  return v === null || isTime(v);
}

function decodeIdentity(p: unknown[], out: PingPayload): boolean {
  const address = wireAddress(p[0]);
  if (address === null) return bad('payload.address', `${show(p[0])}, not an address (6 or 18 bytes, port 1..65535)`);
  const cluster: unknown = p[1];
  if (!isCluster(cluster)) return bad('payload.cluster', `${show(cluster)}, not a cluster name`);
  const groups: unknown = p[2];
  if (!isIntIn(groups, 1, GROUPS_MAX)) return bad('payload.groups', `${show(groups)}, not an integer 1..${GROUPS_MAX}`);
  const group: unknown = p[3];
  if (!isIntIn(group, 0, groups - 1)) return bad('payload.group', `${show(group)}, not a group 0..${groups - 1}`);
  const incarnation: unknown = p[4];
  if (!isUint(incarnation)) return bad('payload.incarnation', `${show(incarnation)}, not a non-negative safe integer`);
  out.address = address;
  out.cluster = cluster;
  out.groups = groups;
  out.group = group;
  out.incarnation = incarnation;
  return true;
}

const STATUS_COUNTERS = ['heartbeat', 'uptimeMs', 'membersAlive', 'membersSuspect', 'contacts', 'groupsWithoutContact',
  'tuples', 'published'] as const;

function decodePayload(op: ClientOp, code: ClientCode, p: unknown): unknown {
  if (!hasResultPayload(op, code)) {
    if (p === null || (typeof p === 'string' && p.length <= CLIENT_ERROR_CHARS_MAX)) return p;
    return fail('payload', `${show(p)}, not null or text of at most ${CLIENT_ERROR_CHARS_MAX} units`);
  }
  switch (op) {
    case ClientOp.Lookup: {
      if (!Array.isArray(p) || p.length !== 6) return fail('payload', `${show(p)}, not a 6-item array`);
      const want = code === ClientCode.Ok ? LookupStatus.Found : code === ClientCode.NotFound ? LookupStatus.NotFound : LookupStatus.Unavailable;
      if (p[0] !== want) return fail('payload.status', `${show(p[0])}, code ${code} needs status ${want}`);
      const locations = decodeLocations(p[1], 'payload.locations');
      if (locations === null) return null;
      if ((want === LookupStatus.Found) !== locations.length > 0)
        return fail('payload.locations', want === LookupStatus.Found ? 'empty, but found' : 'not empty, but not found');
      const hops: unknown = p[2];
      if (!isUint(hops)) return notUint('payload.hops', hops);
      const attempts: unknown = p[3];
      if (!isUint(attempts)) return notUint('payload.attempts', attempts);
      const latencyMs: unknown = p[4];
      if (!isTime(latencyMs)) return fail('payload.latencyMs', `${show(latencyMs)}, not a finite number >= 0`);
      const answeredBy = p[5] === null ? null : wireAddress(p[5]);
      if (answeredBy === null && p[5] !== null) return failAddress('payload.answeredBy', p[5]);
      const r: LookupPayload = { status: want, locations, hops, attempts, latencyMs, answeredBy };
      return r;
    }
    case ClientOp.Publish:
    case ClientOp.Unpublish: {
      if (!Array.isArray(p) || p.length !== 5) return fail('payload', `${show(p)}, not a 5-item array`);
      const s: unknown = p[0];
      if (s !== PublishStatusCode.Stored && s !== PublishStatusCode.Queued)
        return fail('payload.status', `${show(s)}, not 1 (stored) or 2 (queued)`);
      const storedAt = p[1] === null ? null : wireAddress(p[1]);
      if (storedAt === null && p[1] !== null) return failAddress('payload.storedAt', p[1]);
      const latencyMs: unknown = p[2];
      if (!isTime(latencyMs)) return fail('payload.latencyMs', `${show(latencyMs)}, not a finite number >= 0`);
      const replicas: unknown = p[3];
      if (!isUint(replicas)) return notUint('payload.replicas', replicas);
      const groupSize: unknown = p[4];
      if (!isUint(groupSize)) return notUint('payload.groupSize', groupSize);
      const r: PublishPayload = { status: s === PublishStatusCode.Stored ? 'stored' : 'queued', storedAt, latencyMs, replicas, groupSize };
      return r;
    }
    case ClientOp.Join: {
      if (!Array.isArray(p) || p.length !== 1) return fail('payload', `${show(p)}, not a 1-item array`);
      const list: unknown = p[0];
      if (!Array.isArray(list) || list.length > LIST_MAX) return fail('payload.seeds', `${show(list)}, not a list of at most ${LIST_MAX} addresses`);
      const seeds: Address[] = [];
      for (let i = 0; i < list.length; i++) {
        const a = wireAddress(list[i]);
        if (a === null) return failAddress(`payload.seeds[${i}]`, list[i]);
        seeds.push(a);
      }
      const r: JoinPayload = { seeds };
      return r;
    }
    case ClientOp.Members: {
      if (!Array.isArray(p) || p.length > LIST_MAX) return fail('payload', `${show(p)}, not a list of at most ${LIST_MAX} rows`);
      const rows: MemberRow[] = [];
      for (let i = 0; i < p.length; i++) {
        const e: unknown = p[i];
        if (!Array.isArray(e) || e.length !== 7) return fail(`payload[${i}]`, `${show(e)}, not a 7-item array`);
        const addr = wireAddress(e[0]);
        if (addr === null) return failAddress(`payload[${i}].addr`, e[0]);
        const incarnation: unknown = e[1];
        if (!isUint(incarnation)) return notUint(`payload[${i}].incarnation`, incarnation);
        const heartbeat: unknown = e[2];
        if (!isUint(heartbeat)) return notUint(`payload[${i}].heartbeat`, heartbeat);
        const ageMs: unknown = e[3];
        if (!isU32(ageMs)) return fail(`payload[${i}].ageMs`, `${show(ageMs)}, not an integer 0..2^32-1`);
        const rttMs: unknown = e[4];
        if (!isRtt(rttMs)) return fail(`payload[${i}].rttMs`, `${show(rttMs)}, not null or a finite number >= 0`);
        const state: unknown = e[5];
        if (state !== MemberState.Alive && state !== MemberState.Suspect)
          return fail(`payload[${i}].state`, `${show(state)}, not 1 (alive) or 2 (suspect)`);
        const group: unknown = e[6];
        if (!isIntIn(group, 0, GROUP_MAX)) return fail(`payload[${i}].group`, `${show(group)}, not a group 0..${GROUP_MAX}`);
        rows.push({ addr, incarnation, heartbeat, ageMs, rttMs, state, group });
      }
      return rows;
    }
    case ClientOp.Contacts: {
      if (!Array.isArray(p) || p.length > LIST_MAX) return fail('payload', `${show(p)}, not a list of at most ${LIST_MAX} rows`);
      const rows: ContactRow[] = [];
      for (let i = 0; i < p.length; i++) {
        const e: unknown = p[i];
        if (!Array.isArray(e) || e.length !== 6) return fail(`payload[${i}]`, `${show(e)}, not a 6-item array`);
        const group: unknown = e[0];
        if (!isIntIn(group, 0, GROUP_MAX)) return fail(`payload[${i}].group`, `${show(group)}, not a group 0..${GROUP_MAX}`);
        const addr = wireAddress(e[1]);
        if (addr === null) return failAddress(`payload[${i}].addr`, e[1]);
        const incarnation: unknown = e[2];
        if (!isUint(incarnation)) return notUint(`payload[${i}].incarnation`, incarnation);
        const rttMs: unknown = e[3];
        if (!isRtt(rttMs)) return fail(`payload[${i}].rttMs`, `${show(rttMs)}, not null or a finite number >= 0`);
        const ageMs: unknown = e[4];
        if (!isU32(ageMs)) return fail(`payload[${i}].ageMs`, `${show(ageMs)}, not an integer 0..2^32-1`);
        const misses: unknown = e[5];
        if (!isUint(misses)) return notUint(`payload[${i}].misses`, misses);
        rows.push({ group, addr, incarnation, rttMs, ageMs, misses });
      }
      return rows;
    }
    case ClientOp.Status: {
      if (!Array.isArray(p) || p.length !== 16) return fail('payload', `${show(p)}, not a 16-item array`);
      const r = { address: '', cluster: '', groups: 0, group: 0, incarnation: 0 } as StatusPayload;
      if (!decodeIdentity(p, r)) return null;
      for (let k = 0; k < STATUS_COUNTERS.length; k++) {
        const v: unknown = p[5 + k];
        if (!isUint(v)) return notUint(`payload.${STATUS_COUNTERS[k]}`, v);
        r[STATUS_COUNTERS[k]!] = v;
      }
      const joined: unknown = p[13];
      if (!isBool(joined)) return fail('payload.joined', `${show(joined)}, not a boolean`);
      const synced: unknown = p[14];
      if (!isBool(synced)) return fail('payload.synced', `${show(synced)}, not a boolean`);
      const version: unknown = p[15];
      if (typeof version !== 'string' || version.length > CLIENT_VERSION_CHARS_MAX)
        return fail('payload.version', `${show(version)}, not text of at most ${CLIENT_VERSION_CHARS_MAX} units`);
      r.joined = joined;
      r.synced = synced;
      r.version = version;
      return r;
    }
    case ClientOp.Ping: {
      if (!Array.isArray(p) || p.length !== 5) return fail('payload', `${show(p)}, not a 5-item array`);
      const r = { address: '', cluster: '', groups: 0, group: 0, incarnation: 0 };
      return decodeIdentity(p, r) ? r : null;
    }
    default:
      return fail('op', `${show(op)}, not a client op`);
  }
}

const REQUEST_ITEMS = [0, 5, 6, 5, 6, 5, 4, 4, 5];

/** The client message of a datagram's array (a[1] is 32 or 33); null with `failDetail` set when a field is bad. */
export function arrayToClient(a: unknown[], type: ClientMessageType): ClientMessage | null {
  if (a.length < 4) return fail('datagram', `${a.length} items, a client message has at least 4`);
  const id: unknown = a[2];
  if (!isUint(id)) return notUint('id', id);
  const op: unknown = a[3];
  if (!isIntIn(op, ClientOp.Lookup, ClientOp.Join)) return fail('op', `${show(op)}, not a client op 1..8`);
  if (type === ClientMessageType.Request) {
    const items = REQUEST_ITEMS[op]!;
    if (a.length !== items) return fail('datagram', `${a.length} items, a request of op ${op} has ${items}`);
    switch (op) {
      case ClientOp.Lookup:
      case ClientOp.Unpublish: {
        const name: unknown = a[4];
        if (!isName(name)) return fail('name', `${show(name)}, not text of 1..${STRING_MAX} units`);
        return { type, id, op, name };
      }
      case ClientOp.Publish: {
        const name: unknown = a[4];
        if (!isName(name)) return fail('name', `${show(name)}, not text of 1..${STRING_MAX} units`);
        const location: unknown = a[5];
        if (!isName(location)) return fail('location', `${show(location)}, not text of 1..${STRING_MAX} units`);
        return { type, id, op, name, location };
      }
      case ClientOp.Members: {
        const group: unknown = a[4];
        if (group !== null && !isIntIn(group, 0, GROUP_MAX)) return fail('group', `${show(group)}, not null or a group 0..${GROUP_MAX}`);
        const chunk: unknown = a[5];
        if (!isIntIn(chunk, 0, CHUNKS_MAX - 1)) return fail('chunk', `${show(chunk)}, not an integer 0..${CHUNKS_MAX - 1}`);
        return { type, id, op, group, chunk };
      }
      case ClientOp.Contacts: {
        const chunk: unknown = a[4];
        if (!isIntIn(chunk, 0, CHUNKS_MAX - 1)) return fail('chunk', `${show(chunk)}, not an integer 0..${CHUNKS_MAX - 1}`);
        return { type, id, op, chunk };
      }
      case ClientOp.Join: {
        const seed: unknown = a[4];
        if (!isName(seed)) return fail('seed', `${show(seed)}, not text of 1..${STRING_MAX} units`);
        return { type, id, op, seed };
      }
      default: // Status, Ping
        return { type, id, op: op as ClientOp.Status | ClientOp.Ping };
    }
  }
  if (a.length !== 8) return fail('datagram', `${a.length} items, a reply has 8`);
  const code: unknown = a[4];
  if (!isIntIn(code, ClientCode.Ok, ClientCode.NotFound) || (code === ClientCode.NotFound && op !== ClientOp.Lookup))
    return fail('code', `${show(code)}, not a client code (4 for lookups only)`);
  const chunks: unknown = a[6];
  const chunk: unknown = a[5];
  if (chunked(op, code)) {
    if (!isIntIn(chunks, 1, CHUNKS_MAX)) return fail('chunks', `${show(chunks)}, not an integer 1..${CHUNKS_MAX}`);
    if (!isIntIn(chunk, 0, chunks - 1)) return fail('chunk', `${show(chunk)}, not an integer 0..${chunks - 1}`);
  } else if (chunk !== 0 || chunks !== 1) {
    return fail('chunk', `${show(chunk)} of ${show(chunks)}, not 0 of 1 (this reply is not chunked)`);
  }
  const payload = decodePayload(op, code, a[7]);
  if (payload === null && (hasResultPayload(op, code) || a[7] !== null)) return null;
  return { type, id, op, code, chunk, chunks, payload } as ClientReply;
}
