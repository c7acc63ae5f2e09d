/**
 * The wire's own CBOR writer against cbor-x, the reference: the same bytes for every message and for every item
 * the profile allows, and what cbor-x reads back is the tree that went in.
 */
import { describe, expect, it } from 'vitest';
import { randInt } from '../../src/core/rng.js';
import { cborDecoder, cborEncoder } from '../../src/wire/cbor.js';
import { encodeTree } from '../../src/wire/cbor-writer.js';
import { canonicaliseAddress, WireEncodeError } from '../../src/wire/index.js';
import { messageToArray } from '../../src/wire/messages.js';
import { everyMessage, randGossip, randText, SeededRng, V4, V6 } from './fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const canon = (a: string): string => canonicaliseAddress(a) as string;

/** cbor-x writes safe integers of 2^32 and above as float64; the writer keeps them integers. Both read back equal. */
function hasBigInteger(tree: unknown): boolean {
  if (Array.isArray(tree)) return tree.some(hasBigInteger);
  return typeof tree === 'number' && Number.isInteger(tree) && tree > 0xffffffff;
}

/** cbor-x returns byte strings as Buffers; compare them as plain Uint8Arrays. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  return v instanceof Uint8Array ? new Uint8Array(v) : v;
}

function sameAsCborX(tree: unknown[]): void {
  const mine = encodeTree(tree);
  expect(plain(cborDecoder.decode(mine))).toStrictEqual(plain(tree));
  if (!hasBigInteger(tree)) expect(hex(mine)).toBe(hex(cborEncoder.encode(tree)));
}

describe('cbor-writer', () => {
  it('writes every message type exactly as cbor-x does (big integers aside) and cbor-x reads it back', () => {
    const all = [...everyMessage(V4, V6), ...everyMessage(V6, V4)];
    for (const m of all) sameAsCborX(messageToArray(m) as unknown[]);
  });

  it('writes 300 seeded random gossip datagrams that cbor-x reads back unchanged', () => {
    const rng = new SeededRng(0xc0ffee);
    for (let i = 0; i < 300; i++) sameAsCborX(messageToArray(randGossip(rng, canon)) as unknown[]);
  });

  it('uses the shortest header at every width boundary of integers, strings, byte strings and arrays', () => {
    const ints = [0, 23, 24, 255, 256, 65535, 65536, 0xffffffff];
    sameAsCborX(ints);
    for (const n of [0, 23, 24, 255, 256, 65535, 65536]) {
      sameAsCborX(['a'.repeat(n)]);
      sameAsCborX([new Uint8Array(n).fill(7)]);
      sameAsCborX([new Array<number>(n).fill(1)]);
    }
    // A byte count that crosses a width although the UTF-16 length does not.
    sameAsCborX(['é'.repeat(12)]);
    sameAsCborX(['日'.repeat(100)]);
    sameAsCborX(['😀'.repeat(70)]);
    sameAsCborX([true, false, null, 0.5, 12345.678, 2 ** 40 + 0.5, Number.MAX_VALUE]);
  });

  it('writes integers of 2^32 and above as unsigned integers (0x1b), read back exactly', () => {
    for (const v of [2 ** 32, 2 ** 32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const b = encodeTree([v]);
      expect(b[1]).toBe(0x1b);
      expect(cborDecoder.decode(b)).toStrictEqual([v]);
    }
  });

  it('handles seeded random text (ASCII, 2-, 3- and 4-byte UTF-8) of every length class', () => {
    const rng = new SeededRng(7);
    for (let i = 0; i < 500; i++) sameAsCborX([randText(rng, [10, 30, 300, 3000][randInt(rng, 4)]!), randInt(rng, 1000)]);
  });

  it('grows past its first buffer and is not disturbed by a previous large datagram', () => {
    const big = ['x'.repeat(100_000), new Uint8Array(50_000).fill(1)];
    sameAsCborX(big);
    sameAsCborX([1, 'small']);
  });

  it('returns a new Buffer each time: an earlier result is never overwritten', () => {
    const a = encodeTree([1, 'first']);
    const keep = hex(a);
    encodeTree([2, 'second, and longer than the first']);
    expect(hex(a)).toBe(keep);
  });

  it('refuses what the profile does not allow, with a WireEncodeError', () => {
    for (const bad of [-1, NaN, Infinity, {}, undefined, 1n, new Map()] as unknown[]) {
      expect(() => encodeTree([bad])).toThrow(WireEncodeError);
    }
    // After a refusal the writer starts clean.
    sameAsCborX([1, 2, 3]);
  });
});
