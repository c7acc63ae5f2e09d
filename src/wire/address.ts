/**
 * Addresses: a node's advertised UDP endpoint, its identity on the wire.
 *
 * In TypeScript an Address is a canonical string: "a.b.c.d:port" (IPv4, decimal octets without leading zeros) or
 * "[v6]:port" (IPv6 in RFC 5952 form: lowercase hex, no leading zeros in a group, the longest run of two or more
 * zero groups, the first on a tie, written "::"; an IPv4-mapped address ::ffff:0:0/96 is written "::ffff:a.b.c.d").
 * The port is decimal 1..65535 without leading zeros. Host names, zone ids ("%eth0") and port 0 are not addresses.
 *
 * On the wire an address is a CBOR byte string of 6 bytes (4 address bytes, port big-endian) or 18 bytes (16 + port).
 * The canonical string and the bytes correspond one to one, so a node's identity survives a round trip exactly.
 *
 * This parser is self-contained (no node:net): the wire layer does no I/O and must behave the same everywhere.
 */
import type { Address } from '../core/types.js';
import { WireEncodeError } from './errors.js';

export interface ParsedAddress {
  family: 4 | 6;
  /** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
  ip: Uint8Array;
  /** 1..65535. */
  port: number;
}

/** Wire sizes of an address byte string's content. */
export const IPV4_ADDRESS_BYTES = 6;
export const IPV6_ADDRESS_BYTES = 18;

/** Longest text form: "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" is 53 characters. */
const ADDRESS_CHARS_MAX = 64;

// ---------------------------------------------------------------------------------------------------------------
// Parsing. Each parser writes wire bytes into `out` at `off` and returns null, or returns the reason it failed.

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseV4(s: string, start: number, end: number, out: Uint8Array, off: number): string | null {
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || s.charCodeAt(i) !== 46 /* . */) return 'an IPv4 address has 4 dotted decimal octets';
      i++;
    }
    const first = i;
    let v = 0;
    while (i < end && isDigit(s.charCodeAt(i))) {
      if (i - first === 3) return 'an IPv4 octet has at most 3 digits';
      v = v * 10 + s.charCodeAt(i) - 48;
      i++;
    }
    if (i === first) return 'an IPv4 address has 4 dotted decimal octets';
    if (i - first > 1 && s.charCodeAt(first) === 48) return 'an IPv4 octet must not have a leading zero';
    if (v > 255) return `IPv4 octet ${v} is over 255`;
    out[off + part] = v;
  }
  if (i !== end) return 'an IPv4 address has 4 dotted decimal octets';
  return null;
}

const v6Groups = new Uint16Array(8);

function parseV6(s: string, start: number, end: number, out: Uint8Array, off: number): string | null {
  const g = v6Groups;
  let i = start;
  let n = 0; // groups parsed
  let gap = -1; // index in g where "::" stands
  if (i + 1 < end && s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 58) {
    gap = 0;
    i += 2;
  } else if (i < end && s.charCodeAt(i) === 58) {
    return 'an IPv6 address must not start with a single ":"';
  }
  while (i < end) {
    if (n === 8) return 'an IPv6 address has at most 8 groups';
    const first = i;
    let v = 0;
    let h: number;
    while (i < end && (h = hexValue(s.charCodeAt(i))) >= 0) {
      if (i - first === 4) return 'an IPv6 group has at most 4 hex digits';
      v = v * 16 + h;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46 /* . */) {
      // Embedded IPv4 (::ffff:1.2.3.4): the last 32 bits.
      if (n > 6) return 'an embedded IPv4 address must fit in the last 32 bits';
      const why = parseV4(s, first, end, scratch4, 0);
      if (why !== null) return why;
      g[n++] = (scratch4[0]! << 8) | scratch4[1]!;
      g[n++] = (scratch4[2]! << 8) | scratch4[3]!;
      i = end;
      break;
    }
    if (i === first) return `unexpected ${i < end ? JSON.stringify(s[i]) : 'end'} in IPv6 address`;
    g[n++] = v;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return `unexpected ${JSON.stringify(s[i])} in IPv6 address`;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return 'an IPv6 address has at most one "::"';
      gap = n;
      i++;
    } else if (i === end) {
      return 'an IPv6 address must not end with a single ":"';
    }
  }
  if (gap < 0) {
    if (n !== 8) return 'an IPv6 address without "::" has 8 groups';
  } else {
    if (n > 7) return '"::" must stand for at least one group';
    const tail = n - gap;
    for (let k = 0; k < tail; k++) g[7 - k] = g[n - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) g[k] = 0;
  }
  for (let k = 0; k < 8; k++) {
    out[off + 2 * k] = g[k]! >> 8;
    out[off + 2 * k + 1] = g[k]! & 0xff;
  }
  return null;
}
const scratch4 = new Uint8Array(4);

/** Decimal 1..65535 without a leading zero; -1 when invalid. */
function parsePort(s: string, start: number, end: number): number {
  const len = end - start;
  if (len < 1 || len > 5 || s.charCodeAt(start) === 48) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + c - 48;
  }
  return v <= 65535 ? v : -1;
}

/**
 * Parses any accepted text form into wire bytes (written to `out`, which must hold 18 bytes).
 * Returns 6 or 18 (the byte length), or the reason the text is not an address.
 */
function parseToWire(s: string, out: Uint8Array): number | string {
  if (typeof s !== 'string') return 'not a string';
  const len = s.length;
  if (len === 0) return 'empty';
  if (len > ADDRESS_CHARS_MAX) return `longer than ${ADDRESS_CHARS_MAX} characters`;
  let hostEnd: number;
  let size: number;
  if (s.charCodeAt(0) === 91 /* [ */) {
    hostEnd = s.indexOf(']');
    if (hostEnd < 0) return 'missing "]" after an IPv6 address';
    if (s.indexOf('%') >= 0) return 'zone ids are not supported';
    const why = parseV6(s, 1, hostEnd, out, 0);
    if (why !== null) return why;
    hostEnd++;
    size = IPV6_ADDRESS_BYTES;
  } else {
    hostEnd = s.lastIndexOf(':');
    if (hostEnd < 0) return 'missing ":port"';
    if (s.indexOf(':') !== hostEnd) return 'an IPv6 address must be written in brackets: "[v6]:port"';
    const why = parseV4(s, 0, hostEnd, out, 0);
    if (why !== null) return why;
    size = IPV4_ADDRESS_BYTES;
  }
  if (hostEnd >= len || s.charCodeAt(hostEnd) !== 58) return 'missing ":port"';
  const port = parsePort(s, hostEnd + 1, len);
  if (port < 0) return `port ${JSON.stringify(s.slice(hostEnd + 1))} is not a decimal number from 1 to 65535`;
  out[size - 2] = port >> 8;
  out[size - 1] = port & 0xff;
  return size;
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting.

function formatV4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

function formatV6(b: Uint8Array, off: number): string {
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 section 5).
  let mapped = b[off + 10] === 0xff && b[off + 11] === 0xff;
  for (let k = 0; mapped && k < 10; k++) if (b[off + k] !== 0) mapped = false;
  if (mapped) return '::ffff:' + formatV4(b, off + 12);
  // Longest run of >= 2 zero groups; the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let k = 0; k <= 8; k++) {
    const zero = k < 8 && b[off + 2 * k] === 0 && b[off + 2 * k + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = k;
    } else if (runStart >= 0) {
      if (k - runStart > bestLen) {
        bestStart = runStart;
        bestLen = k - runStart;
      }
      runStart = -1;
    }
  }
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      s += '::';
      k += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += (((b[off + 2 * k]! << 8) | b[off + 2 * k + 1]!) >>> 0).toString(16);
  }
  return s;
}

/** Canonical text of wire bytes; null when the length is not 6 or 18 or the port is 0. */
function formatWire(b: Uint8Array): Address | null {
  const n = b.length;
  if (n === IPV4_ADDRESS_BYTES) {
    const port = (b[4]! << 8) | b[5]!;
    return port === 0 ? null : `${formatV4(b, 0)}:${port}`;
  }
  if (n === IPV6_ADDRESS_BYTES) {
    const port = (b[16]! << 8) | b[17]!;
    return port === 0 ? null : `[${formatV6(b, 0)}]:${port}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Public helpers.

const parseBuf = new Uint8Array(IPV6_ADDRESS_BYTES);

/** Why `s` is not an address, or null when it is one (in any accepted form, canonical or not). */
export function addressError(s: string): string | null {
  const r = parseToWire(s, parseBuf);
  return typeof r === 'string' ? r : null;
}

/** Parses an address in any accepted form; null when invalid (see `addressError` for why). */
export function parseAddress(s: string): ParsedAddress | null {
  const r = parseToWire(s, parseBuf);
  if (typeof r === 'string') return null;
  const ipLen = r - 2;
  return { family: r === IPV4_ADDRESS_BYTES ? 4 : 6, ip: parseBuf.slice(0, ipLen), port: (parseBuf[ipLen]! << 8) | parseBuf[ipLen + 1]! };
}

/** Like `parseAddress`, but throws a WireEncodeError that says what is wrong. */
export function mustParseAddress(s: string, field = 'address'): ParsedAddress {
  const p = parseAddress(s);
  if (p === null) throw new WireEncodeError(field, `${JSON.stringify(s)} is not an address: ${addressError(s)}`);
  return p;
}

/** The canonical text of a parsed address. Throws WireEncodeError on an invalid family, ip length or port. */
export function formatAddress(p: ParsedAddress): Address {
  const ipLen = p.family === 4 ? 4 : p.family === 6 ? 16 : -1;
  if (ipLen < 0 || !(p.ip instanceof Uint8Array) || p.ip.length !== ipLen)
    throw new WireEncodeError('address', `family ${String(p.family)} needs ${ipLen < 0 ? 4 : ipLen} ip bytes`);
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
    throw new WireEncodeError('address', `port ${p.port} is not from 1 to 65535`);
  return p.family === 4 ? `${formatV4(p.ip, 0)}:${p.port}` : `[${formatV6(p.ip, 0)}]:${p.port}`;
}

/** The canonical form of any accepted address text; null when invalid. */
export function canonicaliseAddress(s: string): Address | null {
  const r = parseToWire(s, parseBuf);
  return typeof r === 'string' ? null : formatWire(parseBuf.subarray(0, r));
}

/** True when `s` is an address in any accepted form (canonical or not). */
export function isValidAddress(s: string): boolean {
  return typeof parseToWire(s, parseBuf) === 'number';
}

/** True when `s` is an address written exactly in canonical form (what the codec accepts and produces). */
export function isCanonicalAddress(s: string): boolean {
  return canonicaliseAddress(s) === s;
}

/** Wire bytes (6 or 18) of an address in any accepted form, freshly allocated. Throws WireEncodeError if invalid. */
export function addressToBytes(s: string): Uint8Array {
  const out = new Uint8Array(IPV6_ADDRESS_BYTES);
  const r = parseToWire(s, out);
  if (typeof r === 'string') throw new WireEncodeError('address', `${JSON.stringify(s)} is not an address: ${r}`);
  return r === IPV6_ADDRESS_BYTES ? out : out.slice(0, r);
}

/** Canonical address of wire bytes; null when they are not 6 or 18 bytes or the port is 0. */
export function addressFromBytes(b: Uint8Array): Address | null {
  return formatWire(b);
}

// ---------------------------------------------------------------------------------------------------------------
// Cached conversions for the codec's hot paths. A simulated cluster of 10,000 nodes keeps converting the same few
// thousand addresses; both caches are bounded (cleared when full) so that hostile input cannot grow them.

const CACHE_MAX = 32_768;
const toWireCache = new Map<string, Uint8Array>();

/**
 * Wire bytes of a canonical address: IPv4 parsed each time (a new array), IPv6 shared from a cache (the caller must
 * not modify them). Null when `s` is not an address in canonical form (the codec refuses non-canonical text: a
 * node's identity must be one string).
 */
export function canonicalAddressBytes(s: string): Uint8Array | null {
  const v4 = canonicalV4Bytes(s);
  if (v4 !== null) return v4;
  let b = toWireCache.get(s);
  if (b !== undefined) return b;
  const r = parseToWire(s, parseBuf);
  if (typeof r === 'string') return null;
  b = parseBuf.slice(0, r);
  if (formatWire(b) !== s) return null;
  if (toWireCache.size >= CACHE_MAX) toWireCache.clear();
  toWireCache.set(s, b);
  return b;
}

/**
 * The wire bytes of `s` when it is an IPv4 address in canonical form ("10.0.0.1:7946": decimal octets 0..255 and a
 * port 1..65535, no leading zeros, nothing else), in a new array; null for anything else (IPv6, or not canonical:
 * the cached path above then decides). Parsing the few characters is cheaper than a lookup in a cache of 10,000
 * simulated nodes' addresses, whose table and entries are rarely in the CPU's cache.
 */
function canonicalV4Bytes(s: string): Uint8Array | null {
  const n = s.length;
  if (n < 9 || n > 21) return null;
  const out = new Uint8Array(IPV4_ADDRESS_BYTES);
  let i = 0;
  for (let part = 0; part < 5; part++) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 5 || (digits > 1 && s.charCodeAt(start) === 48)) return null;
    if (part < 4) {
      if (v > 255 || i >= n || s.charCodeAt(i) !== (part < 3 ? 46 : 58)) return null; // '.' or ':'
      out[part] = v;
      i++;
    } else {
      if (i !== n || v === 0 || v > 65535) return null;
      out[4] = v >> 8;
      out[5] = v & 0xff;
    }
  }
  return out;
}

/**
 * Canonical address of wire bytes (same as `addressFromBytes`), with IPv4 results shared from a direct-mapped
 * cache: a slot is chosen by a multiplicative hash of address and port (a small integer, so no hashing of doubles
 * or strings) and checked exactly before use. Fixed size, so hostile input cannot grow it.
 */
export function addressFromWire(b: Uint8Array): Address | null {
  if (b.length === IPV4_ADDRESS_BYTES) {
    const port = (b[4]! << 8) | b[5]!;
    if (port === 0) return null;
    const ip = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) | 0;
    const slot = (Math.imul(ip ^ Math.imul(port, 0x9e3779b1), 0x85ebca6b) >>> (32 - V4_CACHE_BITS)) | 0;
    if (v4Ip[slot] === ip && v4Port[slot] === port) return v4Str[slot]!;
    const s = `${b[0]}.${b[1]}.${b[2]}.${b[3]}:${port}`;
    v4Ip[slot] = ip;
    v4Port[slot] = port;
    v4Str[slot] = s;
    return s;
  }
  return formatWire(b);
}

const V4_CACHE_BITS = 15;
const v4Ip = new Int32Array(1 << V4_CACHE_BITS);
const v4Port = new Int32Array(1 << V4_CACHE_BITS).fill(-1);
const v4Str: (Address | undefined)[] = new Array<Address | undefined>(1 << V4_CACHE_BITS).fill(undefined);
