/**
 * Field rules of the wire format, shared by the encoder (which throws WireEncodeError on a value that breaks them)
 * and the decoder (which rejects the datagram, naming the field). Node-to-node messages (messages.ts) use them in
 * straight-line checks, no schema, no closures (the hot path); client messages through client-schema.ts.
 *
 * | field                                            | rule                                               |
 * |--------------------------------------------------|----------------------------------------------------|
 * | cluster                                          | 1..64 characters of [A-Za-z0-9._-]                 |
 * | groups                                           | integer 1..65535                                   |
 * | incarnation, heartbeat, id, versionIncarnation,  | non-negative safe integer                          |
 * | versionSeq                                       |                                                    |
 * | ageMs, ttlMs                                     | integer 0..2^32-1                                  |
 * | sentAt, echoSentAt, latencyMs, rttMs             | finite number >= 0 (may be fractional)             |
 * | name, location                                   | text of 1..1024 UTF-16 code units                  |
 * | lists                                            | at most 4096 items                                 |
 * | addr, owner, origin, from, any Address           | byte string of 6 or 18 bytes, port != 0            |
 * | booleans                                         | CBOR true / false                                  |
 */
import type { Address, GoneEntry, Location, MemberEntry, TupleEntry } from '../core/types.js';
import { GoneReason } from '../core/types.js';
import { addressFromWire, canonicalAddressBytes } from './address.js';
import { WireEncodeError } from './errors.js';

export const WIRE_VERSION = 2;
/** Largest UDP payload over IPv4; the default limit of encode and decode. */
export const MAX_DATAGRAM_BYTES = 65_507;
export const LIST_MAX = 4096;
export const STRING_MAX = 1024;
export const CLUSTER_CHARS_MAX = 64;
export const GROUPS_MAX = 65_535;
export const U32_MAX = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------------------------
// Predicates on values as cbor-x returns them (or as the core hands them to the encoder).

/** Non-negative safe integer. */
export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Integer 0..2^32-1. */
export function isU32(v: unknown): v is number {
  return typeof v === 'number' && v >>> 0 === v;
}

/** Integer lo..hi (hi < 2^31). */
export function isIntIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && (v | 0) === v && v >= lo && v <= hi;
}

/** Finite number >= 0 (times and durations that may be fractional). */
export function isTime(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= Number.MAX_VALUE;
}

/** Text of 1..1024 UTF-16 code units. */
export function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= STRING_MAX;
}

/**
 * No lone surrogates: such text has no UTF-8 form (cbor-x would write invalid UTF-8, which decode refuses).
 * Only the encoder needs to ask: text decoded from valid UTF-8 is always well formed.
 */
export function isWellFormed(v: string): boolean {
  return (v as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** Text for the encoder: `lo..hi` UTF-16 units, well formed. */
export function isText(v: unknown, lo: number, hi: number): v is string {
  return typeof v === 'string' && v.length >= lo && v.length <= hi && isWellFormed(v);
}

let lastCluster = '';
/** 1..64 characters of [A-Za-z0-9._-]. The last valid name is remembered: every datagram carries the same one. */
export function isCluster(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  if (v === lastCluster) return true;
  const n = v.length;
  if (n < 1 || n > CLUSTER_CHARS_MAX) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 45;
    if (!ok) return false;
  }
  lastCluster = v;
  return true;
}

export function isBool(v: unknown): v is boolean {
  return v === true || v === false;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding: a failed check records what was wrong in `failDetail` and the decoder returns null up the chain.

/** Why the last decode step failed (valid until the next decode). */
export let failDetail = '';

export function fail(field: string, why: string): null {
  failDetail = `${field}: ${why}`;
  return null;
}

/** `fail` for checks that answer with a boolean. */
export function bad(field: string, why: string): false {
  failDetail = `${field}: ${why}`;
  return false;
}

/** Describes a value for an error message, briefly. */
export function show(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.length}-byte string`;
  if (Array.isArray(v)) return `${v.length}-item array`;
  if (typeof v === 'string') return v.length > 40 ? `text of ${v.length} units` : JSON.stringify(v);
  return String(v);
}

/** Canonical address from a wire value, or null. */
export function wireAddress(v: unknown): Address | null {
  return v instanceof Uint8Array ? addressFromWire(v) : null;
}

export function failAddress(field: string, v: unknown): null {
  return fail(field, `${show(v)}, not an address (6 or 18 bytes, port 1..65535)`);
}

export function decodeMembers(v: unknown, field: string): MemberEntry[] | null {
  if (!Array.isArray(v)) return fail(field, `${show(v)}, not a list`);
  const n = v.length;
  if (n > LIST_MAX) return fail(field, `${n} items, at most ${LIST_MAX}`);
  const out: MemberEntry[] = [];
  for (let i = 0; i < n; i++) {
    const e: unknown = v[i];
    if (!Array.isArray(e) || e.length !== 4) return fail(`${field}[${i}]`, `${show(e)}, not a 4-item array`);
    const addr = wireAddress(e[0]);
    if (addr === null) return failAddress(`${field}[${i}].addr`, e[0]);
    const inc: unknown = e[1];
    if (!isUint(inc)) return fail(`${field}[${i}].incarnation`, `${show(inc)}, not a non-negative safe integer`);
    const hb: unknown = e[2];
    if (!isUint(hb)) return fail(`${field}[${i}].heartbeat`, `${show(hb)}, not a non-negative safe integer`);
    const age: unknown = e[3];
    if (!isU32(age)) return fail(`${field}[${i}].ageMs`, `${show(age)}, not an integer 0..2^32-1`);
    out.push({ addr, incarnation: inc, heartbeat: hb, ageMs: age });
  }
  return out;
}

export function decodeGone(v: unknown, field: string): GoneEntry[] | null {
  if (!Array.isArray(v)) return fail(field, `${show(v)}, not a list`);
  const n = v.length;
  if (n > LIST_MAX) return fail(field, `${n} items, at most ${LIST_MAX}`);
  const out: GoneEntry[] = [];
  for (let i = 0; i < n; i++) {
    const e: unknown = v[i];
    if (!Array.isArray(e) || e.length !== 3) return fail(`${field}[${i}]`, `${show(e)}, not a 3-item array`);
    const addr = wireAddress(e[0]);
    if (addr === null) return failAddress(`${field}[${i}].addr`, e[0]);
    const inc: unknown = e[1];
    if (!isUint(inc)) return fail(`${field}[${i}].incarnation`, `${show(inc)}, not a non-negative safe integer`);
    const reason: unknown = e[2];
    if (reason !== GoneReason.Left && reason !== GoneReason.Failed)
      return fail(`${field}[${i}].reason`, `${show(reason)}, not 1 (left) or 2 (failed)`);
    out.push({ addr, incarnation: inc, reason });
  }
  return out;
}

/** `field.sub`, or `field[i].sub` when i >= 0: names are built only when a check fails. */
function at(field: string, i: number, sub: string): string {
  return i < 0 ? `${field}.${sub}` : `${field}[${i}].${sub}`;
}

/** One tuple [name, location, owner, versionIncarnation, versionSeq, ttlMs, deleted], in a list at i or alone. */
export function decodeTuple(e: unknown, field: string, i = -1): TupleEntry | null {
  if (!Array.isArray(e) || e.length !== 7)
    return fail(i < 0 ? field : `${field}[${i}]`, `${show(e)}, not a 7-item array`);
  const name: unknown = e[0];
  if (!isName(name)) return fail(at(field, i, 'name'), `${show(name)}, not text of 1..${STRING_MAX} units`);
  const location: unknown = e[1];
  if (!isName(location))
    return fail(at(field, i, 'location'), `${show(location)}, not text of 1..${STRING_MAX} units`);
  const owner = wireAddress(e[2]);
  if (owner === null) return failAddress(at(field, i, 'owner'), e[2]);
  const vi: unknown = e[3];
  if (!isUint(vi)) return fail(at(field, i, 'versionIncarnation'), `${show(vi)}, not a non-negative safe integer`);
  const vs: unknown = e[4];
  if (!isUint(vs)) return fail(at(field, i, 'versionSeq'), `${show(vs)}, not a non-negative safe integer`);
  const ttl: unknown = e[5];
  if (!isU32(ttl)) return fail(at(field, i, 'ttlMs'), `${show(ttl)}, not an integer 0..2^32-1`);
  const deleted: unknown = e[6];
  if (!isBool(deleted)) return fail(at(field, i, 'deleted'), `${show(deleted)}, not a boolean`);
  return { name, location, owner, versionIncarnation: vi, versionSeq: vs, ttlMs: ttl, deleted };
}

export function decodeTuples(v: unknown, field: string): TupleEntry[] | null {
  if (!Array.isArray(v)) return fail(field, `${show(v)}, not a list`);
  const n = v.length;
  if (n > LIST_MAX) return fail(field, `${n} items, at most ${LIST_MAX}`);
  const out: TupleEntry[] = [];
  for (let i = 0; i < n; i++) {
    const t = decodeTuple(v[i], field, i);
    if (t === null) return null;
    out.push(t);
  }
  return out;
}

export function decodeLocations(v: unknown, field: string): Location[] | null {
  if (!Array.isArray(v)) return fail(field, `${show(v)}, not a list`);
  const n = v.length;
  if (n > LIST_MAX) return fail(field, `${n} items, at most ${LIST_MAX}`);
  const out: Location[] = [];
  for (let i = 0; i < n; i++) {
    const e: unknown = v[i];
    if (!Array.isArray(e) || e.length !== 2) return fail(`${field}[${i}]`, `${show(e)}, not a 2-item array`);
    const location: unknown = e[0];
    if (!isName(location))
      return fail(`${field}[${i}].location`, `${show(location)}, not text of 1..${STRING_MAX} units`);
    const owner = wireAddress(e[1]);
    if (owner === null) return failAddress(`${field}[${i}].owner`, e[1]);
    out.push({ location, owner });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding: the same rules, thrown as WireEncodeError (local misuse). Entries become plain arrays for cbor-x.

export function encodeError(field: string, v: unknown, rule: string): WireEncodeError {
  return new WireEncodeError(field, `${show(v)} is not ${rule}`);
}

/** Wire bytes of a canonical address; throws naming the field. */
export function encAddress(v: unknown, field: string): Uint8Array {
  const b = typeof v === 'string' ? canonicalAddressBytes(v) : null;
  if (b === null) throw encodeError(field, v, 'an address in canonical form ("a.b.c.d:port" or "[v6]:port")');
  return b;
}

export function encUint(v: unknown, field: string): number {
  if (!isUint(v)) throw encodeError(field, v, 'a non-negative safe integer');
  return v;
}

export function encU32(v: unknown, field: string): number {
  if (!isU32(v)) throw encodeError(field, v, 'an integer 0..2^32-1');
  return v;
}

export function encTime(v: unknown, field: string): number {
  if (!isTime(v)) throw encodeError(field, v, 'a finite number >= 0');
  return v;
}

export function encName(v: unknown, field: string): string {
  if (!isText(v, 1, STRING_MAX)) throw encodeError(field, v, `well-formed text of 1..${STRING_MAX} UTF-16 units`);
  return v;
}

export function encBool(v: unknown, field: string): boolean {
  if (!isBool(v)) throw encodeError(field, v, 'a boolean');
  return v;
}

function encList(v: unknown, field: string): number {
  if (!Array.isArray(v)) throw encodeError(field, v, 'a list');
  if (v.length > LIST_MAX) throw encodeError(field, v, `a list of at most ${LIST_MAX} items`);
  return v.length;
}

export function encodeMembers(list: readonly MemberEntry[], field: string): unknown[] {
  const n = encList(list, field);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const e = list[i]!;
    const a = typeof e.addr === 'string' ? canonicalAddressBytes(e.addr) : null;
    if (a === null) encAddress(e.addr, `${field}[${i}].addr`);
    if (!isUint(e.incarnation)) encUint(e.incarnation, `${field}[${i}].incarnation`);
    if (!isUint(e.heartbeat)) encUint(e.heartbeat, `${field}[${i}].heartbeat`);
    if (!isU32(e.ageMs)) encU32(e.ageMs, `${field}[${i}].ageMs`);
    out.push([a, e.incarnation, e.heartbeat, e.ageMs]);
  }
  return out;
}

export function encodeGone(list: readonly GoneEntry[], field: string): unknown[] {
  const n = encList(list, field);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const e = list[i]!;
    const a = typeof e.addr === 'string' ? canonicalAddressBytes(e.addr) : null;
    if (a === null) encAddress(e.addr, `${field}[${i}].addr`);
    if (!isUint(e.incarnation)) encUint(e.incarnation, `${field}[${i}].incarnation`);
    if (e.reason !== GoneReason.Left && e.reason !== GoneReason.Failed)
      throw encodeError(`${field}[${i}].reason`, e.reason, 'a GoneReason (1 or 2)');
    out.push([a, e.incarnation, e.reason]);
  }
  return out;
}

/** One tuple (in a list at index i, or alone when i < 0). */
export function encodeTuple(t: TupleEntry, field: string, i = -1): unknown[] {
  if (t === null || typeof t !== 'object') throw encodeError(i < 0 ? field : `${field}[${i}]`, t, 'a tuple');
  const a = typeof t.owner === 'string' ? canonicalAddressBytes(t.owner) : null;
  if (!isText(t.name, 1, STRING_MAX)) encName(t.name, at(field, i, 'name'));
  if (!isText(t.location, 1, STRING_MAX)) encName(t.location, at(field, i, 'location'));
  if (a === null) encAddress(t.owner, at(field, i, 'owner'));
  if (!isUint(t.versionIncarnation)) encUint(t.versionIncarnation, at(field, i, 'versionIncarnation'));
  if (!isUint(t.versionSeq)) encUint(t.versionSeq, at(field, i, 'versionSeq'));
  if (!isU32(t.ttlMs)) encU32(t.ttlMs, at(field, i, 'ttlMs'));
  if (!isBool(t.deleted)) encBool(t.deleted, at(field, i, 'deleted'));
  return [t.name, t.location, a, t.versionIncarnation, t.versionSeq, t.ttlMs, t.deleted];
}

export function encodeTuples(list: readonly TupleEntry[], field: string): unknown[] {
  const n = encList(list, field);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(encodeTuple(list[i]!, field, i));
  return out;
}

export function encodeLocations(list: readonly Location[], field: string): unknown[] {
  const n = encList(list, field);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const e = list[i]!;
    if (!isText(e.location, 1, STRING_MAX)) encName(e.location, `${field}[${i}].location`);
    out.push([e.location, encAddress(e.owner, `${field}[${i}].owner`)]);
  }
  return out;
}
