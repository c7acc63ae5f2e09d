/**
 * Upper bounds on the encoded size of what the core packs into a datagram, so that it can fill gossip up to
 * `datagramBytesMax` without calling the codec. They follow the wire layout of src/wire (CBOR arrays; an address is
 * a byte string of 6 bytes for IPv4 or 18 for IPv6, address then port) and are checked against the real encoder by
 * test/wire: encoded length <= bound, for every message type.
 */
import type { GoneEntry, MemberEntry, TupleEntry } from './types.js';

/** Bytes of a CBOR unsigned integer (major type 0) or of a length header. */
export function uintBytes(n: number): number {
  if (n < 24) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  if (n < 0x100000000) return 5;
  return 9;
}

/** Upper bound on the UTF-8 length of a string (exact for ASCII). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}

export function stringBytes(s: string): number {
  const n = utf8Bytes(s);
  return uintBytes(n) + n;
}

/** An address as a CBOR byte string: 1 + 6 (IPv4) or 1 + 18 (IPv6). */
export function addressBytes(addr: string): number {
  return addr.charCodeAt(0) === 0x5b /* [ */ ? 19 : 7;
}

/** A number that may be fractional (times): cbor-x writes at most a float64. */
export const FLOAT_BYTES = 9;

export function memberEntryBytes(e: MemberEntry): number {
  return 1 + addressBytes(e.addr) + uintBytes(e.incarnation) + uintBytes(e.heartbeat) + uintBytes(e.ageMs);
}

export function goneEntryBytes(e: GoneEntry): number {
  return 1 + addressBytes(e.addr) + uintBytes(e.incarnation) + 1;
}

export function tupleEntryBytes(t: TupleEntry): number {
  return (
    1 +
    stringBytes(t.name) +
    stringBytes(t.location) +
    addressBytes(t.owner) +
    uintBytes(t.versionIncarnation) +
    uintBytes(t.versionSeq) +
    uintBytes(t.ttlMs) +
    1
  );
}

export function locationBytes(l: { location: string; owner: string }): number {
  return 1 + stringBytes(l.location) + addressBytes(l.owner);
}

/** The common header: [version, type, cluster, groups, from, incarnation, heartbeat, ...]. */
export function headerBytes(cluster: string, groups: number, from: string, incarnation: number, heartbeat: number): number {
  return 3 + 1 + 2 + stringBytes(cluster) + uintBytes(groups) + addressBytes(from) + uintBytes(incarnation) + uintBytes(heartbeat);
}

/** Each list in a body costs its length header: at most 3 bytes for lists under 65,536 items. */
export const LIST_HEADER_BYTES = 3;
