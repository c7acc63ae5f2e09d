import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { MessageType } from '../../src/core/types.js';
import { cborEncoder } from '../../src/wire/cbor.js';
import { clientToArray } from '../../src/wire/client-codec.js';
import type { ClientMessage } from '../../src/wire/index.js';
import { canonicaliseAddress, decode, encode, MAX_DATAGRAM_BYTES, WireEncodeError } from '../../src/wire/index.js';
import { messageToArray } from '../../src/wire/messages.js';
import { writeDatagram } from '../../src/wire/writer.js';
import { replies, requests } from './client-fixtures.js';
import { everyMessage, randGossip, SeededRng, V4, V4B, V6, V6B, V6MAPPED } from './fixtures.js';

/** What cbor-x, configured as the wire profile says (cbor.ts), writes for the same array. */
const cborX = (a: readonly unknown[]): Buffer => Buffer.from(cborEncoder.encode(a));

const nodeMessages: Message[] = [];
for (const [from, other] of [[V4, V6], [V6, V4B], [V6MAPPED, V6B]] as const) nodeMessages.push(...everyMessage(from, other));

describe('writeDatagram writes the bytes cbor-x writes', () => {
  it.each(nodeMessages.map((m) => [`${MessageType[m.type]} from ${m.from}`, m] as const))('%s', (_, m) => {
    const a = messageToArray(m);
    expect(writeDatagram(a, MAX_DATAGRAM_BYTES).toString('hex')).toBe(cborX(a).toString('hex'));
  });

  it.each([...requests, ...replies].map((m, i) => [`client message ${i} (type ${m.type}, op ${m.op})`, m] as const))('%s', (_, m) => {
    const a = clientToArray(m as ClientMessage);
    expect(writeDatagram(a, MAX_DATAGRAM_BYTES).toString('hex')).toBe(cborX(a).toString('hex'));
  });

  it('for 2,000 random seeded gossip messages (all integer widths, IPv4 and IPv6, unicode)', () => {
    const rng = new SeededRng(7);
    const canon = (a: string) => canonicaliseAddress(a)!;
    for (let i = 0; i < 2000; i++) {
      const a = messageToArray(randGossip(rng, canon));
      const ours = writeDatagram(a, Infinity);
      const theirs = cborX(a);
      if (!ours.equals(theirs)) expect(ours.toString('hex'), `message ${i}`).toBe(theirs.toString('hex'));
    }
  });

  const texts: [string, string][] = [
    ['empty', ''],
    ['23 bytes (1-byte head)', 'a'.repeat(23)],
    ['24 bytes (2-byte head)', 'a'.repeat(24)],
    ['255 and 256 bytes', 'b'.repeat(255)],
    ['256 bytes', 'b'.repeat(256)],
    ['65535 bytes', 'c'.repeat(65535)],
    ['65536 bytes (4-byte length)', 'c'.repeat(65536)],
    ['short text whose UTF-8 needs a wider head than its UTF-16 length', 'é'.repeat(20)],
    ['long text whose UTF-8 needs a wider head than its UTF-16 length', '日'.repeat(100)],
    ['surrogate pairs, short and long', '😀x😀'],
    ['surrogate pairs, long', '😀'.repeat(70)],
    ['mixed scripts at the 64-unit switch', 'ü'.repeat(63) + '日😀'],
  ];
  it.each(texts)('text: %s', (_, s) => {
    const a = [1, 2, s, [s, s]];
    expect(writeDatagram(a, Infinity).toString('hex')).toBe(cborX(a).toString('hex'));
  });

  const numbers = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, 0.5, 1e-300, 1.7976931348623157e308, -0, 123456.789];
  it.each(numbers.map((n) => [String(n), n] as const))('number: %s', (_, n) => {
    const a = [1, n, [n]];
    expect(writeDatagram(a, Infinity).toString('hex')).toBe(cborX(a).toString('hex'));
  });

  it('byte strings of every head width, nested arrays, booleans and null', () => {
    const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);
    const a = [1, 2, bytes(0), bytes(6), bytes(18), bytes(33), bytes(300), bytes(70_000), [[[]]], [], true, false, null, Buffer.from([1, 2, 3])];
    expect(writeDatagram(a, Infinity).toString('hex')).toBe(cborX(a).toString('hex'));
  });

  it('grows its scratch for a datagram larger than it, and the next datagram is right again', () => {
    const big = [1, 2, 'x'.repeat(200_000), Array.from({ length: 5000 }, (_, i) => i)];
    expect(writeDatagram(big, Infinity).equals(cborX(big))).toBe(true);
    const small = [1, 2, 'y'];
    expect(writeDatagram(small, Infinity).equals(cborX(small))).toBe(true);
  });
});

describe('writeDatagram output', () => {
  it('is a Buffer of its own: a later datagram does not overwrite an earlier one', () => {
    const first = writeDatagram([1, 2, 'first'], 100);
    const copy = Buffer.from(first);
    writeDatagram([1, 2, 'second, longer, to overwrite any shared scratch'], 100);
    expect(first.equals(copy)).toBe(true);
  });

  it('refuses a datagram over maxBytes, and accepts one at the limit', () => {
    const a = [1, 2, 'x'.repeat(100)];
    const n = cborX(a).length;
    expect(writeDatagram(a, n).length).toBe(n);
    expect(() => writeDatagram(a, n - 1)).toThrow(WireEncodeError);
    expect(() => writeDatagram(a, n - 1)).toThrow(/over the limit/);
  });

  it.each([
    ['a negative number', -1],
    ['NaN', Number.NaN],
    ['undefined', undefined],
    ['a plain object', { a: 1 }],
    ['a Map', new Map()],
    ['a bigint', 1n],
  ] as const)('refuses %s (not in the wire profile)', (_, v) => {
    expect(() => writeDatagram([1, 2, [v]], Infinity)).toThrow(WireEncodeError);
  });
});

describe('decode from the shared scratch', () => {
  it('leaves no view of the scratch in a decoded message: a later decode does not change an earlier message', () => {
    const all: (Message | ClientMessage)[] = [...nodeMessages, ...requests, ...replies];
    const decoded = all.map((m) => {
      const r = decode(encode(m));
      if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
      return r.msg;
    });
    // Every decode above reused the scratch; each message must still equal what was encoded.
    for (let i = 0; i < all.length; i++) expect(decoded[i]).toStrictEqual(all[i]);
    const views: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (v instanceof Uint8Array) views.push(path);
      else if (Array.isArray(v)) v.forEach((x, j) => walk(x, `${path}[${j}]`));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    decoded.forEach((m, i) => walk(m, `message ${i}`));
    expect(views).toEqual([]);
  });

  it('still rejects malformed input after a valid datagram filled the scratch (no stale bytes are read)', () => {
    const long = encode(everyMessage(V4, V6).find((m) => m.type === MessageType.Gossip)!);
    expect(decode(long).ok).toBe(true);
    // A prefix of the same datagram: the scratch still holds the rest of it, which must not be read.
    for (const cut of [1, 2, 10, long.length - 1]) {
      const r = decode(long.subarray(0, cut));
      expect(r.ok, `cut at ${cut}`).toBe(false);
    }
  });
});
