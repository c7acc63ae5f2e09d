/**
 * The CBOR profile of the wire protocol, and the cbor-x instances configured for it.
 *
 * A datagram is exactly one definite-length CBOR array followed by nothing. Inside it only these items may appear:
 * unsigned integers (major type 0), definite-length byte strings (2) and UTF-8 text strings (3), definite-length
 * arrays (4) nested at most MAX_NESTING deep, false / true / null, and floats (half, single, double). Negative
 * integers, maps, tags, undefined, other simple values and indefinite lengths are refused.
 *
 * cbor-x decodes far more than that, and some of it transparently: tag 64 (a typed array) yields a Uint8Array just
 * like a byte string, tag 55799 (self-describe) and tags 28/29 (shared values) vanish into their content, records,
 * bundled strings and packed values expand. `guard` walks the bytes once before cbor-x sees them, so that what
 * cbor-x returns can only be plain numbers, strings, Uint8Arrays, arrays, booleans and null; the per-field
 * validation then checks types, lengths and ranges. The walk is iterative (no recursion on hostile nesting) and
 * linear in the datagram's size.
 */
import { isUtf8 } from 'node:buffer';
import { Decoder, Encoder, FLOAT32_OPTIONS } from 'cbor-x';
import { WIRE_VERSION } from './fields.js';

/** Arrays may nest this deep, the datagram itself included (a client reply's lookup payload needs 4). */
export const MAX_NESTING = 4;

/**
 * Plain CBOR out: no tag on Uint8Array (byte strings stay major type 2), no records, no string bundles, no packing,
 * no self-describe header, floats as float64 (exact round trip). The codec writes datagrams with writer.ts, which
 * produces these same bytes faster; this encoder is the reference its tests compare against.
 */
export const cborEncoder = new Encoder({
  tagUint8Array: false,
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  bundleStrings: false,
  pack: false,
  useSelfDescribedHeader: false,
  useFloat32: FLOAT32_OPTIONS.NEVER,
  alwaysUseFloat: false,
  largeBigIntToFloat: false,
});

/**
 * `int64AsNumber`: a 64-bit unsigned integer (another encoder's choice for counters over 2^32) decodes to a number,
 * which the field checks then require to be a safe integer, instead of a BigInt. (cbor-x reads negative 64-bit
 * integers wrongly with this option; `guard` refuses negative integers before cbor-x sees them.)
 */
export const cborDecoder = new Decoder({
  useRecords: false,
  mapsAsObjects: true,
  bundleStrings: false,
  int64AsNumber: true,
} as ConstructorParameters<typeof Decoder>[0]);

/** What `guard` found; `ok` means the bytes are one datagram of the profile above. */
export enum Guard {
  Ok = 0,
  /** Not the header of a definite-length array (or nothing readable at all). */
  NotArray = 1,
  /** The first item is not the unsigned integer 1. */
  Version = 2,
  /** The second item is not an unsigned integer below 256 marked in `knownTypes`. */
  UnknownType = 6,
  /** Truncated, or not well-formed CBOR. */
  NotCbor = 3,
  /** Well-formed CBOR, but an item the profile refuses; `guardPath` says where. */
  Forbidden = 4,
  TrailingBytes = 5,
}

/** Details of the last failed `guard` call (valid until the next call). */
export let guardDetail = '';
/** Index path of the item that failed (top-level index first); its first `guardDepth` entries are valid. */
export const guardPath = new Int32Array(MAX_NESTING + 1);
export let guardDepth = 0;
/** The datagram's type (its second item) when it is an unsigned integer below 256, else -1; set by every call. */
export let guardType = -1;

const remaining = new Float64Array(MAX_NESTING + 1);
const counts = new Float64Array(MAX_NESTING + 1);

function fail(g: Guard, detail: string, depth: number): Guard {
  guardDetail = detail;
  guardDepth = depth;
  for (let d = 0; d < depth; d++) guardPath[d] = counts[d]! - remaining[d]! - 1;
  return g;
}

/**
 * Checks `b` against the profile. On success returns Guard.Ok; the caller may then hand `b` to cbor-x, which will
 * return a plain array. `b` must not be empty. `knownTypes[t]` is 1 for every message type this build understands:
 * version and type are checked before the rest, so that a datagram of a future version or type is told apart
 * from a malformed one.
 */
export function guard(b: Uint8Array, knownTypes: Uint8Array): Guard {
  const n = b.length;
  guardType = -1;
  // The datagram: a definite-length array.
  let pos = 0;
  const ib0 = b[0]!;
  if (ib0 >> 5 !== 4) return fail(Guard.NotArray, `first item is major type ${ib0 >> 5}, not an array`, 0);
  let ai = ib0 & 31;
  let top: number;
  if (ai < 24) {
    top = ai;
    pos = 1;
  } else if (ai === 24 && n >= 2) {
    top = b[1]!;
    pos = 2;
  } else if (ai === 25 && n >= 3) {
    top = (b[1]! << 8) | b[2]!;
    pos = 3;
  } else {
    return fail(Guard.NotArray, 'not a definite-length array of up to 65535 items', 0);
  }
  if (top === 0 || pos >= n || b[pos] !== WIRE_VERSION) return fail(Guard.Version, `version is not ${WIRE_VERSION}`, 0);
  if (top >= 2 && pos + 1 < n) {
    const tb = b[pos + 1]!;
    if (tb < 24) guardType = tb;
    else if (tb === 24 && pos + 2 < n) guardType = b[pos + 2]!;
  }
  if (guardType < 0 || knownTypes[guardType] !== 1) return fail(Guard.UnknownType, 'unknown message type', 0);
  let depth = 0;
  remaining[0] = top;
  counts[0] = top;
  while (depth >= 0) {
    if (remaining[depth] === 0) {
      depth--;
      continue;
    }
    remaining[depth]!--;
    if (pos >= n) return fail(Guard.NotCbor, `truncated at byte ${pos}`, depth + 1);
    const start = pos;
    const ib = b[pos++]!;
    const major = ib >> 5;
    ai = ib & 31;
    let v: number;
    if (ai < 24) {
      v = ai;
    } else if (ai === 24) {
      if (pos + 1 > n) return fail(Guard.NotCbor, `truncated at byte ${start}`, depth + 1);
      v = b[pos]!;
      pos += 1;
    } else if (ai === 25) {
      if (pos + 2 > n) return fail(Guard.NotCbor, `truncated at byte ${start}`, depth + 1);
      v = (b[pos]! << 8) | b[pos + 1]!;
      pos += 2;
    } else if (ai === 26) {
      if (pos + 4 > n) return fail(Guard.NotCbor, `truncated at byte ${start}`, depth + 1);
      v = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
      pos += 4;
    } else if (ai === 27) {
      if (pos + 8 > n) return fail(Guard.NotCbor, `truncated at byte ${start}`, depth + 1);
      const hi = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
      const lo = ((b[pos + 4]! << 24) | (b[pos + 5]! << 16) | (b[pos + 6]! << 8) | b[pos + 7]!) >>> 0;
      v = hi * 4294967296 + lo;
      pos += 8;
    } else if (ai === 31) {
      if (major === 7) return fail(Guard.NotCbor, `unexpected break at byte ${start}`, depth + 1);
      if (major >= 2 && major <= 5) return fail(Guard.Forbidden, 'indefinite length', depth + 1);
      return fail(Guard.NotCbor, `malformed item header 0x${ib.toString(16)} at byte ${start}`, depth + 1);
    } else {
      return fail(Guard.NotCbor, `reserved item header 0x${ib.toString(16)} at byte ${start}`, depth + 1);
    }
    switch (major) {
      case 0:
        break;
      case 1:
        return fail(Guard.Forbidden, 'negative integer', depth + 1);
      case 2:
        if (v > n - pos) return fail(Guard.NotCbor, `truncated at byte ${start}`, depth + 1);
        pos += v;
        break;
      case 3: {
        if (v > n - pos) return fail(Guard.NotCbor, `truncated at byte ${start}`, depth + 1);
        const end = pos + v;
        let i = pos;
        while (i < end && b[i]! < 0x80) i++;
        if (i < end && !isUtf8(b.subarray(i, end))) return fail(Guard.Forbidden, 'text is not valid UTF-8', depth + 1);
        pos = end;
        break;
      }
      case 4:
        if (depth + 1 >= MAX_NESTING) return fail(Guard.Forbidden, `arrays nested deeper than ${MAX_NESTING}`, depth + 1);
        if (v > n - pos) return fail(Guard.NotCbor, `truncated at byte ${start}`, depth + 1);
        depth++;
        remaining[depth] = v;
        counts[depth] = v;
        break;
      case 5:
        return fail(Guard.Forbidden, 'map', depth + 1);
      case 6:
        return fail(Guard.Forbidden, `tag ${v}`, depth + 1);
      default: // 7
        if (ai === 23) return fail(Guard.Forbidden, 'undefined', depth + 1);
        if (ai < 20 || ai === 24) return fail(Guard.Forbidden, `simple value ${v}`, depth + 1);
        // 20 false, 21 true, 22 null, 25..27 floats
        break;
    }
  }
  if (pos !== n) return fail(Guard.TrailingBytes, `${n - pos} bytes after the datagram`, 0);
  return Guard.Ok;
}
