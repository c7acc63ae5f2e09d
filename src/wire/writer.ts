/**
 * The CBOR writer of the wire profile (cbor.ts): a datagram is one array of unsigned integers, floats, text, byte
 * strings, booleans, null and nested arrays. It writes the same bytes as the cbor-x Encoder configured in cbor.ts
 * (shortest heads, integers of 32 bits or less as integers, every other number as a float64, byte strings untagged;
 * test/wire/writer.test.ts compares the two on every message type), in a fraction of the time: cbor-x checks every
 * object that is not a plain array against its list of extension classes (seven `instanceof` tests for a byte
 * string) and re-reads its options per item, which made it most of an agent's encode time.
 *
 * It takes what the message layouts (messages.ts, client-codec.ts) built after checking every field, so it only
 * refuses what is not in the profile at all (a negative number, NaN, undefined, an object). Items go into one
 * growing scratch buffer; the datagram is copied out into a Buffer of its own, which the caller may keep.
 */
import { WireEncodeError } from './errors.js';

/** Scratch size at start; it doubles when an item does not fit. */
const SCRATCH_BYTES_START = 16 * 1024;

let buf = Buffer.allocUnsafeSlow(SCRATCH_BYTES_START);
let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;

/** Make room for `n` more bytes at `pos`. */
function room(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafeSlow(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** An item head: major type and an argument 0..2^32-1, in the shortest form. */
function head(major: number, v: number): void {
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

function headBytes(v: number): number {
  return v < 24 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : 5;
}

/** Text (major type 3) as UTF-8. The layouts let only well-formed text through (no lone surrogates). */
function text(s: string): void {
  const units = s.length;
  // UTF-8 is at least as long as UTF-16 in units: guess the head from the units, widen it if the bytes need more.
  const guess = headBytes(units);
  room(guess + 4 + units * 3);
  const start = pos + guess;
  let end: number;
  if (units < 64) {
    let p = start;
    for (let i = 0; i < units; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = (c >> 6) | 0xc0;
        buf[p++] = (c & 0x3f) | 0x80;
      } else if ((c & 0xfc00) === 0xd800 && i + 1 < units && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
        buf[p++] = (c >> 18) | 0xf0;
        buf[p++] = ((c >> 12) & 0x3f) | 0x80;
        buf[p++] = ((c >> 6) & 0x3f) | 0x80;
        buf[p++] = (c & 0x3f) | 0x80;
      } else {
        buf[p++] = (c >> 12) | 0xe0;
        buf[p++] = ((c >> 6) & 0x3f) | 0x80;
        buf[p++] = (c & 0x3f) | 0x80;
      }
    }
    end = p;
  } else {
    end = start + buf.write(s, start, units * 3, 'utf8');
  }
  const bytes = end - start;
  const need = headBytes(bytes);
  if (need !== guess) buf.copyWithin(pos + need, start, end);
  head(3, bytes);
  pos += bytes;
}

function bytesItem(b: Uint8Array): void {
  const n = b.length;
  room(5 + n);
  head(2, n);
  if (n <= 32) for (let i = 0; i < n; i++) buf[pos + i] = b[i]!;
  else buf.set(b, pos);
  pos += n;
}

function item(v: unknown): void {
  room(9);
  switch (typeof v) {
    case 'number':
      if (v >>> 0 === v) head(0, v);
      else if (v >= 0) {
        // Not an integer of 32 bits or less (fractional, or 2^32 and above): a float64, exact.
        buf[pos++] = 0xfb;
        view.setFloat64(pos, v);
        pos += 8;
      } else throw new WireEncodeError('', `${v} is not in the wire profile (no negative numbers, no NaN)`);
      return;
    case 'string':
      return text(v);
    case 'boolean':
      buf[pos++] = v ? 0xf5 : 0xf4;
      return;
    case 'object':
      if (v === null) {
        buf[pos++] = 0xf6;
        return;
      }
      if (Array.isArray(v)) {
        const n = v.length;
        head(4, n);
        for (let i = 0; i < n; i++) item(v[i]);
        return;
      }
      if (v instanceof Uint8Array) return bytesItem(v);
      break;
  }
  throw new WireEncodeError('', `${String(v)} is not in the wire profile (numbers >= 0, text, bytes, booleans, null, arrays)`);
}

/**
 * One datagram: the CBOR bytes of `a` in a Buffer of their own. Throws WireEncodeError (before copying anything
 * out) when an item is not in the profile or the datagram would be longer than `maxBytes`.
 */
export function writeDatagram(a: readonly unknown[], maxBytes: number): Buffer {
  pos = 0;
  item(a);
  const n = pos;
  if (n > maxBytes) throw new WireEncodeError('', `the datagram would be ${n} bytes, over the limit of ${maxBytes}`);
  const out = Buffer.allocUnsafe(n);
  buf.copy(out, 0, 0, n);
  return out;
}
