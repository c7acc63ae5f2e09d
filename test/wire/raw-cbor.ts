/**
 * A minimal CBOR writer for building datagrams byte by byte in tests, independent of the codec and of cbor-x:
 * non-negative integers as major type 0, other numbers as float64, text, byte strings, arrays, booleans, null, and
 * `raw(hex)` for anything else (tags, maps, indefinite lengths, malformed items).
 */
export class Raw {
  constructor(readonly hex: string) {}
}
export const raw = (hex: string): Raw => new Raw(hex.replace(/\s+/g, ''));

function head(major: number, n: number): string {
  const m = major << 5;
  const h = (v: number, w: number): string => v.toString(16).padStart(w, '0');
  if (n < 24) return h(m | n, 2);
  if (n < 0x100) return h(m | 24, 2) + h(n, 2);
  if (n < 0x10000) return h(m | 25, 2) + h(n, 4);
  if (n < 0x100000000) return h(m | 26, 2) + h(n, 8);
  return h(m | 27, 2) + h(Math.floor(n / 2 ** 32), 8) + h(n % 2 ** 32, 8);
}

export function cborHex(v: unknown): string {
  if (v instanceof Raw) return v.hex;
  if (v === null) return 'f6';
  if (v === true) return 'f5';
  if (v === false) return 'f4';
  if (v === undefined) return 'f7';
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER && !Object.is(v, -0)) return head(0, v);
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return 'fb' + b.toString('hex');
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return head(3, b.length) + b.toString('hex');
  }
  if (v instanceof Uint8Array) return head(2, v.length) + Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return head(4, v.length) + v.map(cborHex).join('');
  throw new Error(`raw-cbor cannot write ${String(v)}`);
}

export const cbor = (v: unknown): Buffer => Buffer.from(cborHex(v), 'hex');
