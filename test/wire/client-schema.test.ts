/** The generic client codec on declarations of its own: order, nesting, names in errors, cross-field rules, types. */
import { describe, expect, it } from 'vitest';
import * as S from '../../src/wire/client-schema.js';

import * as fields from '../../src/wire/fields.js';
import { WireEncodeError } from '../../src/wire/index.js';
import { V4, V6 } from './fixtures.js';

interface Row {
  addr: string;
  ageMs: number;
  rttMs: number | null;
  tag: 'a' | 'b';
}
interface Box {
  kind: 7;
  groups: number;
  group: number;
  rows: Row[];
  note: string | null;
}
const ROW = S.struct<Row>({ addr: S.address, ageMs: S.u32, rttMs: S.orNull(S.time), tag: S.oneOf<'a' | 'b'>([1, 'a', 'first'], [2, 'b', 'second']) });
const BOX = S.struct<Box>({
  kind: S.constant<7>(7, 'the test says'),
  groups: S.int(1, 65535),
  group: S.groupBelow('groups'),
  rows: S.list(ROW, { max: 4 }),
  note: S.orNull(S.text(0, 3)),
});

const row = (i: number): Row => ({ addr: i % 2 ? V4 : V6, ageMs: i, rttMs: i % 3 ? 0.5 : null, tag: i % 2 ? 'b' : 'a' });
// The object's keys in another order than the declaration's: the wire follows the declaration.
const box: Box = { note: null, rows: [row(0), row(1), row(2), row(3)], group: 2, groups: 3, kind: 7 };

function decodeFails(v: unknown): string {
  expect(S.decodeValue(BOX, v, 'payload')).toBe(S.INVALID);
  return fields.failDetail;
}

describe('the generic client codec', () => {
  it('writes fields in declaration order, enums as their wire numbers, and reads back the same value', () => {
    const a = S.encodeValue(BOX, box, 'payload') as unknown[];
    expect(a.slice(0, 3)).toEqual([7, 3, 2]);
    expect((a[3] as unknown[][]).map((r) => [r[1], r[2], r[3]])).toEqual([[0, null, 1], [1, 0.5, 2], [2, 0.5, 1], [3, null, 2]]);
    expect((a[3] as unknown[][])[0]![0]).toBeInstanceOf(Uint8Array);
    expect(a[4]).toBeNull();
    expect(S.decodeValue(BOX, a, 'payload')).toStrictEqual({ kind: 7, groups: 3, group: 2, rows: box.rows, note: null });
  });

  it.each([
    ['a row field', { ...box, rows: [row(0), row(1), row(2), { ...row(3), ageMs: 2 ** 32 }] }, /^payload\.rows\[3\]\.ageMs: /],
    ['an enum', { ...box, rows: [{ ...row(0), tag: 'c' }] }, /^payload\.rows\[0\]\.tag: .* is not "a" or "b"$/],
    ['a list too long', { ...box, rows: [row(0), row(1), row(2), row(3), row(4)] }, /^payload\.rows: /],
    ['a group not below groups', { ...box, group: 3 }, /^payload\.group: 3 is not a group 0\.\.2$/],
    ['a constant', { ...box, kind: 8 }, /^payload\.kind: 8 is not 7, as the test says$/],
    ['text too long', { ...box, note: 'abcd' }, /^payload\.note: .* is not null or well-formed text of at most 3 units$/],
    ['a lone surrogate', { ...box, note: '\ud800' }, /^payload\.note: /],
    ['no object', null, /^payload: null is not an object$/],
  ])('encode names the field that breaks a rule: %s', (_, v, message) => {
    expect(() => S.encodeValue(BOX, v, 'payload')).toThrow(WireEncodeError);
    expect(() => S.encodeValue(BOX, v, 'payload')).toThrow(message);
  });

  it('decode names the field that breaks a rule, at any depth', () => {
    const good = (): unknown[] => structuredClone(S.encodeValue(BOX, box, 'payload')) as unknown[];
    const at = (f: (a: unknown[]) => void): unknown[] => {
      const a = good();
      f(a);
      return a;
    };
    expect(decodeFails(at((a) => ((a[3] as unknown[][])[3]![1] = -1)))).toMatch(/^payload\.rows\[3\]\.ageMs: -1, not an integer 0\.\.2\^32-1$/);
    expect(decodeFails(at((a) => ((a[3] as unknown[][])[1]![2] = 'x')))).toMatch(/^payload\.rows\[1\]\.rttMs: "x", not null or a finite number >= 0$/);
    expect(decodeFails(at((a) => ((a[3] as unknown[][])[0]![3] = 3)))).toMatch(/^payload\.rows\[0\]\.tag: 3, not 1 \(first\) or 2 \(second\)$/);
    expect(decodeFails(at((a) => ((a[3] as unknown[][])[2] = [1, 2, 3])))).toMatch(/^payload\.rows\[2\]: 3-item array, not a 4-item array$/);
    expect(decodeFails(at((a) => ((a[3] as unknown[][])[0]![0] = new Uint8Array(5))))).toMatch(/^payload\.rows\[0\]\.addr: 5-byte string, not an address/);
    expect(decodeFails(at((a) => (a[2] = 3)))).toMatch(/^payload\.group: 3, not a group 0\.\.2$/);
    expect(decodeFails(at((a) => (a[0] = 8)))).toMatch(/^payload\.kind: 8, not 7, as the test says$/);
    expect(decodeFails(at((a) => (a[4] = 'abcd')))).toMatch(/^payload\.note: /);
    expect(decodeFails(at((a) => a.push(null)))).toMatch(/^payload: 6-item array, not a 5-item array$/);
    expect(decodeFails(null)).toMatch(/^payload: null, not a 5-item array$/);
  });

  it('lists keep their bounds both ways', () => {
    const some = S.list(S.uint, { min: 1 });
    const none = S.list(S.uint, { max: 0 });
    expect(() => S.encodeValue(some, [], 'x')).toThrow(/^x: 0-item array is not a list of 1\.\.4096 items$/);
    expect(() => S.encodeValue(none, [1], 'x')).toThrow(/^x: 1-item array is not an empty list$/);
    expect(S.decodeValue(some, [], 'x')).toBe(S.INVALID);
    expect(S.decodeValue(none, [], 'x')).toEqual([]);
    expect(S.decodeValue(S.list(S.uint), new Array(4097).fill(0), 'x')).toBe(S.INVALID);
  });

  it('declarations are checked against their type at compile time', () => {
    // @ts-expect-error: ageMs is missing
    S.struct<Row>({ addr: S.address, rttMs: S.orNull(S.time), tag: S.oneOf<'a' | 'b'>([1, 'a', 'a']) });
    // @ts-expect-error: rttMs may be null, time never is
    S.struct<Row>({ addr: S.address, ageMs: S.u32, rttMs: S.time, tag: S.oneOf<'a' | 'b'>([1, 'a', 'a']) });
    // @ts-expect-error: addr is text, not a number
    S.struct<Row>({ addr: S.uint, ageMs: S.u32, rttMs: S.orNull(S.time), tag: S.oneOf<'a' | 'b'>([1, 'a', 'a']) });
    // @ts-expect-error: no such field
    S.struct<Row>({ addr: S.address, ageMs: S.u32, rttMs: S.orNull(S.time), tag: S.oneOf<'a' | 'b'>([1, 'a', 'a']), extra: S.uint });
    expect(true).toBe(true);
  });
});
