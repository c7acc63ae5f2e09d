/**
 * The encoder of the wire's CBOR profile (see cbor.ts): writes the array tree that messages.ts and client-codec.ts
 * build into bytes.
 *
 * Why not cbor-x's Encoder here: it is general, and the general path is slow for what datagrams are made of. Every
 * address is a 6-byte Uint8Array, which cbor-x sends through its extension table (six `instanceof` tests before it
 * reaches Uint8Array, a getTag call, then TypedArray.set for six bytes). Profiled in a 3,000-node simulation, encoding
 * took 24% of all CPU. The profile allows only unsigned integers, byte and text strings, definite-length arrays,
 * booleans, null and float64, so the whole writer is the few cases below. cbor-x still decodes everything, and the
 * tests check that what this writes is byte for byte what cbor-x writes (except for integers of 2^32 and above, which
 * cbor-x writes as float64 and this writes as the unsigned integers they are; cbor-x reads both).
 *
 * Not reentrant and not shared with callers: `encodeTree` copies the bytes out before returning.
 */
import { WireEncodeError } from './errors.js';

const INITIAL_BYTES = 2048;

let buf = Buffer.allocUnsafe(INITIAL_BYTES);
let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;

function room(extra: number): void {
  if (pos + extra <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + extra) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Type header with the shortest argument (major type `major`, argument `v` below 2^32). */
function head(major: number, v: number): void {
  room(5);
  const m = major << 5;
  if (v < 24) {
    buf[pos++] = m | v;
  } else if (v < 0x100) {
    buf[pos++] = m | 24;
    buf[pos++] = v;
  } else if (v < 0x10000) {
    buf[pos++] = m | 25;
    buf[pos++] = v >> 8;
    buf[pos++] = v & 0xff;
  } else {
    buf[pos++] = m | 26;
    view.setUint32(pos, v);
    pos += 4;
  }
}

function writeNumber(v: number): void {
  if (v >>> 0 === v) return head(0, v);
  room(9);
  if (Number.isSafeInteger(v) && v > 0) {
    buf[pos++] = 0x1b;
    view.setUint32(pos, Math.floor(v / 0x100000000));
    view.setUint32(pos + 4, v >>> 0);
    pos += 8;
    return;
  }
  if (!Number.isFinite(v) || v < 0) throw new WireEncodeError('', `${v} is outside the wire profile (no negative or non-finite numbers)`);
  buf[pos++] = 0xfb;
  view.setFloat64(pos, v);
  pos += 8;
}

function writeText(s: string): void {
  const n = s.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    head(3, n);
    room(n);
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
    return;
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  head(3, bytes);
  room(bytes);
  pos += buf.write(s, pos, bytes, 'utf8');
}

function writeBytes(b: Uint8Array): void {
  const n = b.length;
  head(2, n);
  room(n);
  if (n <= 32) {
    for (let i = 0; i < n; i++) buf[pos++] = b[i]!;
  } else {
    buf.set(b, pos);
    pos += n;
  }
}

function writeItem(v: unknown): void {
  switch (typeof v) {
    case 'number':
      return writeNumber(v);
    case 'string':
      return writeText(v);
    case 'boolean':
      room(1);
      buf[pos++] = v ? 0xf5 : 0xf4;
      return;
    case 'object':
      if (v === null) {
        room(1);
        buf[pos++] = 0xf6;
        return;
      }
      if (Array.isArray(v)) {
        const n = v.length;
        head(4, n);
        for (let i = 0; i < n; i++) writeItem(v[i]);
        return;
      }
      if (v instanceof Uint8Array) return writeBytes(v);
      break;
  }
  throw new WireEncodeError('', `a ${typeof v} is outside the wire profile`);
}

/** The CBOR bytes of `tree` (arrays of numbers, strings, Uint8Arrays, booleans and null), in a new Buffer. */
export function encodeTree(tree: readonly unknown[]): Buffer {
  pos = 0;
  try {
    writeItem(tree);
    const out = Buffer.allocUnsafe(pos);
    buf.copy(out, 0, 0, pos);
    return out;
  } finally {
    pos = 0;
  }
}
