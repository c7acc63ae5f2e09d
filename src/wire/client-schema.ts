/**
 * The declarative schema of client messages (client.ts) and the one encoder and decoder that read it.
 *
 * A struct is declared as an object literal whose key order is the wire order (field names are never integer-like,
 * so that order is the literal's): each key names a field, each value gives its kind. `struct<T>` checks at compile time that the declaration covers every field of T with a kind of
 * the right type. Both directions come from the declaration, with the rules of fields.ts: the encoder throws
 * WireEncodeError naming the first field that breaks one (`payload[3].ageMs`), the decoder sets `failDetail`
 * naming it and returns INVALID.
 */
import { addressBytes, FLOAT_BYTES, stringBytes, uintBytes } from '../core/size.js';
import type { Address } from '../core/types.js';
import { canonicalAddressBytes } from './address.js';
import {
  encodeError,
  fail,
  GROUPS_MAX,
  isBool,
  isCluster,
  isIntIn,
  isText,
  isTime,
  isU32,
  isUint,
  LIST_MAX,
  show,
  wireAddress,
} from './fields.js';

/** The kinds of field, as data. */
export type KindSpec =
  | { readonly k: 'uint' } // non-negative safe integer
  | { readonly k: 'u32' } // integer 0..2^32-1
  | { readonly k: 'time' } // finite number >= 0
  | { readonly k: 'bool' }
  | { readonly k: 'int'; readonly lo: number; readonly hi: number; readonly what: string } // integer lo..hi
  | { readonly k: 'below'; readonly field: string } // a group 0..(the earlier field `field`) - 1
  | { readonly k: 'text'; readonly min: number; readonly max: number } // UTF-16 units
  | { readonly k: 'cluster' }
  | { readonly k: 'address' }
  | { readonly k: 'null'; readonly of: KindSpec } // null or `of`
  | { readonly k: 'enum'; readonly values: readonly (readonly [wire: number, value: unknown, label: string])[] }
  | { readonly k: 'const'; readonly value: number; readonly why: string } // one value, implied by another field
  | { readonly k: 'list'; readonly of: KindSpec; readonly min: number; readonly max: number }
  | { readonly k: 'struct'; readonly fields: Readonly<Record<string, KindSpec>> };

/** A kind whose values are T (the phantom member makes Kind<A> and Kind<B> incompatible unless A is B). */
export type Kind<T> = KindSpec & { readonly __value?: (v: T) => T };

/** The declaration of a struct of type T: every field of T, in wire order. */
export type Fields<T> = { readonly [K in keyof T]-?: Kind<T[K]> };

export const uint: Kind<number> = { k: 'uint' };
export const u32: Kind<number> = { k: 'u32' };
export const time: Kind<number> = { k: 'time' };
export const bool: Kind<boolean> = { k: 'bool' };
export const cluster: Kind<string> = { k: 'cluster' };
export const address: Kind<Address> = { k: 'address' };
/** A group of a cluster of at most GROUPS_MAX groups: 0..65534. */
export const group: Kind<number> = { k: 'int', lo: 0, hi: GROUPS_MAX - 1, what: 'a group' };

export function int(lo: number, hi: number): Kind<number> {
  return { k: 'int', lo, hi, what: 'an integer' };
}
/** A group below the value of the earlier field `field` (the number of groups). */
export function groupBelow(field: string): Kind<number> {
  return { k: 'below', field };
}
/** Text of min..max UTF-16 units (well formed when encoded). */
export function text(min: number, max: number): Kind<string> {
  return { k: 'text', min, max };
}
export function orNull<T>(of: Kind<T>): Kind<T | null> {
  return { k: 'null', of };
}
/** A value of a few, each sent as a number: `[wire, value, label]`. */
export function oneOf<T>(...values: (readonly [wire: number, value: T, label: string])[]): Kind<T> {
  return { k: 'enum', values };
}
/** Always `value` (`why` says what implies it). */
export function constant<T extends number>(value: T, why: string): Kind<T> {
  return { k: 'const', value, why };
}
/** A list of min..max items (at most LIST_MAX by default). */
export function list<T>(of: Kind<T>, opts: { min?: number; max?: number } = {}): Kind<T[]> {
  return { k: 'list', of, min: opts.min ?? 0, max: opts.max ?? LIST_MAX };
}
/** A struct, sent as an array of its fields in declaration order. */
export function struct<T>(fields: Fields<T>): Kind<T> {
  return { k: 'struct', fields: fields as Record<string, KindSpec> };
}

/** What the decoder returns for a bad field (after setting `failDetail`); null is a valid value. */
export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

function invalid(field: string, why: string): Invalid {
  fail(field, why);
  return INVALID;
}

function child(field: string, name: string): string {
  return field === '' ? name : `${field}.${name}`;
}

/** The rule a value of kind `k` follows, for error messages (`encoding`: the form the encoder takes). */
function rule(k: KindSpec, parent: Record<string, unknown>, encoding: boolean): string {
  switch (k.k) {
    case 'uint':
      return 'a non-negative safe integer';
    case 'u32':
      return 'an integer 0..2^32-1';
    case 'time':
      return 'a finite number >= 0';
    case 'bool':
      return 'a boolean';
    case 'int':
      return `${k.what} ${k.lo}..${k.hi}`;
    case 'below':
      return `a group 0..${(parent[k.field] as number) - 1}`;
    case 'text':
      return `${encoding ? 'well-formed ' : ''}text of ${k.min === 0 ? 'at most ' : `${k.min}..`}${k.max} units`;
    case 'cluster':
      return '1..64 characters of [A-Za-z0-9._-]';
    case 'address':
      return encoding ? 'an address in canonical form ("a.b.c.d:port" or "[v6]:port")' : 'an address (6 or 18 bytes, port 1..65535)';
    case 'null':
      return `null or ${rule(k.of, parent, encoding)}`;
    case 'enum':
      return k.values.map(([w, v, label]) => (encoding && typeof v === 'string' ? JSON.stringify(v) : `${w} (${label})`)).join(' or ');
    case 'const':
      return `${k.value}, as ${k.why}`;
    case 'list':
      return k.max === 0 ? 'an empty list' : `a list of ${k.min}..${k.max} items`;
    case 'struct':
      return encoding ? 'an object' : `a ${Object.keys(k.fields).length}-item array`;
  }
}

/**
 * A leaf value in the other direction's form (`encoding`: to the wire), or INVALID when it breaks its kind's rule.
 * Addresses go from canonical text to bytes and back, enum values to their numbers and back; the other leaves go
 * as they are. Text to encode must also be well formed (text decoded from valid UTF-8 always is). Lists, structs
 * and nullables are not leaves: encodeValue and decodeValue walk them.
 */
function leaf(k: KindSpec, v: unknown, parent: Record<string, unknown>, encoding: boolean): unknown {
  if (k.k === 'address') return (encoding ? (typeof v === 'string' ? canonicalAddressBytes(v) : null) : wireAddress(v)) ?? INVALID;
  if (k.k === 'enum') {
    const e = k.values.find((x) => x[encoding ? 1 : 0] === v);
    return e === undefined ? INVALID : e[encoding ? 0 : 1];
  }
  return follows(k, v, parent, encoding) ? v : INVALID;
}

/** Whether `v` follows the rule of a leaf kind that goes on the wire as it is. */
function follows(k: KindSpec, v: unknown, parent: Record<string, unknown>, encoding: boolean): boolean {
  switch (k.k) {
    case 'uint':
      return isUint(v);
    case 'u32':
      return isU32(v);
    case 'time':
      return isTime(v);
    case 'bool':
      return isBool(v);
    case 'int':
      return isIntIn(v, k.lo, k.hi);
    case 'below':
      return isIntIn(v, 0, (parent[k.field] as number) - 1);
    case 'text':
      return encoding ? isText(v, k.min, k.max) : typeof v === 'string' && v.length >= k.min && v.length <= k.max;
    case 'cluster':
      return isCluster(v);
    case 'const':
      return v === k.value;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** The wire form of `v`, of kind `k`; throws WireEncodeError naming `field` when it breaks the kind's rule. */
export function encodeValue(k: KindSpec, v: unknown, field: string, parent: Record<string, unknown> = {}, nullable = false): unknown {
  switch (k.k) {
    case 'null':
      return v === null ? null : encodeValue(k.of, v, field, parent, true);
    case 'list':
      if (Array.isArray(v) && v.length >= k.min && v.length <= k.max) return v.map((x, i) => encodeValue(k.of, x, `${field}[${i}]`));
      break;
    case 'struct':
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const out: unknown[] = [];
        encodeFields(k.fields, v as Record<string, unknown>, field, out);
        return out;
      }
      break;
    default: {
      const w = leaf(k, v, parent, true);
      if (w !== INVALID) return w;
    }
  }
  throw encodeError(field, v, `${nullable ? 'null or ' : ''}${rule(k, parent, true)}`);
}

/** Appends the wire form of each declared field of `obj` to `out`, in declaration order. */
export function encodeFields(fields: Readonly<Record<string, KindSpec>>, obj: Record<string, unknown>, field: string, out: unknown[]): void {
  for (const name in fields) out.push(encodeValue(fields[name]!, obj[name], child(field, name), obj));
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** The value of wire item `v`, of kind `k`, or INVALID with `failDetail` naming `field`. */
export function decodeValue(k: KindSpec, v: unknown, field: string, parent: Record<string, unknown> = {}, nullable = false): unknown {
  switch (k.k) {
    case 'null':
      return v === null ? null : decodeValue(k.of, v, field, parent, true);
    case 'list':
      if (Array.isArray(v) && v.length >= k.min && v.length <= k.max) {
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          const x = decodeValue(k.of, v[i], `${field}[${i}]`);
          if (x === INVALID) return INVALID;
          out[i] = x;
        }
        return out;
      }
      break;
    case 'struct':
      if (Array.isArray(v) && v.length === fieldCount(k.fields)) return decodeFields(k.fields, v, 0, field);
      break;
    default: {
      const x = leaf(k, v, parent, false);
      if (x !== INVALID) return x;
    }
  }
  return invalid(field, `${show(v)}, not ${nullable ? 'null or ' : ''}${rule(k, parent, false)}`);
}

/** The object of the declared fields read from `a` at `offset` on, in declaration order; INVALID on a bad field. */
export function decodeFields(fields: Readonly<Record<string, KindSpec>>, a: readonly unknown[], offset: number, field: string): Record<string, unknown> | Invalid {
  const out: Record<string, unknown> = {};
  let i = offset;
  for (const name in fields) {
    const x = decodeValue(fields[name]!, a[i++], child(field, name), out);
    if (x === INVALID) return INVALID;
    out[name] = x;
  }
  return out;
}

/** How many wire items a struct's fields take. */
export function fieldCount(fields: Readonly<Record<string, KindSpec>>): number {
  return Object.keys(fields).length;
}

// ---------------------------------------------------------------------------------------------------------------
// Size

/**
 * Upper bound on the CBOR bytes of a valid value `v` of kind `k`, in the style of src/core/size.ts: what chunk.ts
 * cuts rows by without encoding them.
 */
export function wireBytesMax(k: KindSpec, v: unknown): number {
  switch (k.k) {
    case 'uint':
    case 'u32':
    case 'int':
    case 'below':
    case 'const':
      return uintBytes(v as number);
    case 'time':
      return FLOAT_BYTES;
    case 'bool':
      return 1;
    case 'text':
    case 'cluster':
      return stringBytes(v as string);
    case 'address':
      return addressBytes(v as string);
    case 'null':
      return v === null ? 1 : wireBytesMax(k.of, v);
    case 'enum':
      return uintBytes(k.values.find((x) => x[1] === v)?.[0] ?? 0);
    case 'list': {
      const items = v as unknown[];
      let n = uintBytes(items.length);
      for (const x of items) n += wireBytesMax(k.of, x);
      return n;
    }
    case 'struct': {
      const obj = v as Record<string, unknown>;
      let n = uintBytes(fieldCount(k.fields));
      for (const name in k.fields) n += wireBytesMax(k.fields[name]!, obj[name]);
      return n;
    }
  }
}
