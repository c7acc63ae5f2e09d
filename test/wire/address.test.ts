import { describe, expect, it } from 'vitest';
import {
  addressError,
  addressFromBytes,
  addressToBytes,
  canonicaliseAddress,
  formatAddress,
  isCanonicalAddress,
  isValidAddress,
  mustParseAddress,
  parseAddress,
  WireEncodeError,
} from '../../src/wire/index.js';
import { addressFromWire, canonicalAddressBytes } from '../../src/wire/address.js';
import { randInt, SeededRng } from '../../src/core/rng.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('valid addresses: canonical form and bytes', () => {
  // [input, canonical, wire bytes hex]
  const table: [string, string, string][] = [
    ['1.2.3.4:80', '1.2.3.4:80', '010203040050'],
    ['0.0.0.0:1', '0.0.0.0:1', '000000000001'],
    ['255.255.255.255:65535', '255.255.255.255:65535', 'ffffffffffff'],
    ['10.0.0.1:7946', '10.0.0.1:7946', '0a0000011f0a'],
    ['[::1]:7946', '[::1]:7946', '00000000000000000000000000000001' + '1f0a'],
    ['[::]:1', '[::]:1', '0'.repeat(32) + '0001'],
    ['[2001:db8::1]:80', '[2001:db8::1]:80', '20010db8000000000000000000000001' + '0050'],
    ['[2001:DB8::1]:80', '[2001:db8::1]:80', '20010db8000000000000000000000001' + '0050'],
    ['[2001:0db8:0000:0000:0000:0000:0000:0001]:80', '[2001:db8::1]:80', '20010db8000000000000000000000001' + '0050'],
    // RFC 5952 4.2.2: a single zero group is not compressed.
    ['[2001:db8:0:1:1:1:1:1]:80', '[2001:db8:0:1:1:1:1:1]:80', '20010db8000000010001000100010001' + '0050'],
    ['[2001:db8::1:1:1:1:1]:80', '[2001:db8:0:1:1:1:1:1]:80', '20010db8000000010001000100010001' + '0050'],
    // 4.2.3: the longest run; on a tie the first.
    ['[2001:0:0:1:0:0:0:1]:80', '[2001:0:0:1::1]:80', '20010000000000010000000000000001' + '0050'],
    ['[2001:db8:0:0:1:0:0:1]:80', '[2001:db8::1:0:0:1]:80', '20010db8000000000001000000000001' + '0050'],
    ['[1:0:0:0:0:0:0:0]:9', '[1::]:9', '00010000000000000000000000000000' + '0009'],
    ['[0:0:0:0:0:0:0:1]:9', '[::1]:9', '00000000000000000000000000000001' + '0009'],
    ['[1:2:3:4:5:6:7:8]:9', '[1:2:3:4:5:6:7:8]:9', '00010002000300040005000600070008' + '0009'],
    ['[1:2:3:4:5:6:7::]:9', '[1:2:3:4:5:6:7:0]:9', '00010002000300040005000600070000' + '0009'],
    ['[::2:3:4:5:6:7:8]:9', '[0:2:3:4:5:6:7:8]:9', '00000002000300040005000600070008' + '0009'],
    ['[FE80::ABCD:EF01]:443', '[fe80::abcd:ef01]:443', 'fe80' + '0000'.repeat(5) + 'abcdef01' + '01bb'],
    // IPv4-mapped: mixed notation (RFC 5952 section 5), from either input form.
    ['[::ffff:1.2.3.4]:80', '[::ffff:1.2.3.4]:80', '00000000000000000000ffff01020304' + '0050'],
    ['[::ffff:102:304]:80', '[::ffff:1.2.3.4]:80', '00000000000000000000ffff01020304' + '0050'],
    ['[0:0:0:0:0:ffff:1.2.3.4]:80', '[::ffff:1.2.3.4]:80', '00000000000000000000ffff01020304' + '0050'],
    // Embedded IPv4 elsewhere is accepted but written in hex.
    ['[64:ff9b::1.2.3.4]:80', '[64:ff9b::102:304]:80', '0064ff9b000000000000000001020304' + '0050'],
    ['[::1.2.3.4]:80', '[::102:304]:80', '00000000000000000000000001020304' + '0050'],
  ];
  it.each(table)('%s', (input, canonical, bytesHex) => {
    expect(isValidAddress(input)).toBe(true);
    expect(addressError(input)).toBeNull();
    expect(canonicaliseAddress(input)).toBe(canonical);
    expect(isCanonicalAddress(input)).toBe(input === canonical);
    expect(hex(addressToBytes(input))).toBe(bytesHex);
    expect(addressFromBytes(addressToBytes(input))).toBe(canonical);
    expect(addressFromWire(addressToBytes(input))).toBe(canonical);
    const p = parseAddress(input)!;
    expect(p.family).toBe(input.startsWith('[') ? 6 : 4);
    expect(hex(p.ip)).toBe(bytesHex.slice(0, -4));
    expect(p.port).toBe(parseInt(bytesHex.slice(-4), 16));
    expect(formatAddress(p)).toBe(canonical);
    // The codec's cached path takes only the canonical text.
    expect(canonicalAddressBytes(input) === null).toBe(input !== canonical);
    expect(hex(canonicalAddressBytes(canonical)!)).toBe(bytesHex);
  });
});

describe('invalid addresses', () => {
  const table: [string, RegExp][] = [
    ['', /empty/],
    ['1.2.3.4', /port/],
    ['1.2.3.4:', /port/],
    ['1.2.3.4:0', /port "0"/],
    ['1.2.3.4:65536', /port "65536"/],
    ['1.2.3.4:080', /port "080"/],
    ['1.2.3.4:+80', /port/],
    ['1.2.3.4:8 0', /port/],
    ['1.2.3.4:123456', /port/],
    ['1.2.3:80', /4 dotted/],
    ['1.2.3.4.5:80', /4 dotted/],
    ['1.2.3.256:80', /over 255/],
    ['1.2.3.04:80', /leading zero/],
    ['1.2.3.0004:80', /3 digits/],
    ['1..3.4:80', /4 dotted/],
    ['a.b.c.d:80', /4 dotted/],
    [' 1.2.3.4:80', /4 dotted/],
    ['localhost:80', /4 dotted/],
    ['::1:80', /brackets/],
    ['[::1]', /port/],
    ['[::1]80', /port/],
    ['[::1:80', /"\]"/],
    ['[::1]:0', /port/],
    ['[::1]:65536', /port/],
    ['[fe80::1%eth0]:80', /zone/],
    ['[1:2:3:4:5:6:7:8:9]:80', /at most 8 groups/],
    ['[1:2:3:4:5:6:7]:80', /8 groups/],
    ['[1::2::3]:80', /one "::"/],
    ['[:::1]:80', /unexpected/],
    ['[:1::2]:80', /single ":"/],
    ['[1::2:]:80', /single ":"/],
    ['[12345::1]:80', /4 hex digits/],
    ['[::g]:80', /unexpected/],
    ['[1:2:3:4:5:6:7::8]:80', /at least one group/],
    ['[::ffff:1.2.3]:80', /4 dotted/],
    ['[::ffff:1.2.3.4:5]:80', /4 dotted/],
    ['[1:2:3:4:5:6:7:1.2.3.4]:80', /last 32 bits/],
    ['[1.2.3.4]:80', /8 groups/],
    ['x'.repeat(65), /longer than 64/],
  ];
  it.each(table)('%j', (input, why) => {
    expect(isValidAddress(input)).toBe(false);
    expect(parseAddress(input)).toBeNull();
    expect(canonicaliseAddress(input)).toBeNull();
    expect(isCanonicalAddress(input)).toBe(false);
    expect(canonicalAddressBytes(input)).toBeNull();
    expect(addressError(input)).toMatch(why);
    expect(() => addressToBytes(input)).toThrow(WireEncodeError);
    expect(() => mustParseAddress(input, 'seeds[2]')).toThrow(/^seeds\[2\]: .* is not an address: /);
  });

  it('non-strings are not addresses', () => {
    expect(isValidAddress(42 as unknown as string)).toBe(false);
    expect(addressError(undefined as unknown as string)).toBe('not a string');
  });
});

describe('bytes to address', () => {
  it.each([
    ['5 bytes', new Uint8Array(5).fill(1)],
    ['7 bytes', new Uint8Array(7).fill(1)],
    ['17 bytes', new Uint8Array(17).fill(1)],
    ['19 bytes', new Uint8Array(19).fill(1)],
    ['empty', new Uint8Array(0)],
    ['IPv4 port 0', Uint8Array.of(1, 2, 3, 4, 0, 0)],
    ['IPv6 port 0', new Uint8Array(18).fill(0)],
  ])('%s is refused', (_, b) => {
    expect(addressFromBytes(b)).toBeNull();
    expect(addressFromWire(b)).toBeNull();
  });

  it('every IPv6 byte pattern formats to a text that parses back to the same bytes', () => {
    // Zero runs at every position and length exercise the "::" choice.
    for (let mask = 0; mask < 256; mask++) {
      const b = new Uint8Array(18);
      for (let k = 0; k < 8; k++) if (mask & (1 << k)) b[2 * k + 1] = k + 1;
      b[17] = 1;
      const s = addressFromBytes(b)!;
      expect(isCanonicalAddress(s)).toBe(true);
      expect(hex(addressToBytes(s))).toBe(hex(b));
      expect(s).not.toMatch(/(^|:)0[0-9a-f]/); // no leading zeros
      expect(s.split('::').length).toBeLessThanOrEqual(2);
    }
  });

  it('formatAddress refuses impossible parts', () => {
    expect(() => formatAddress({ family: 4, ip: new Uint8Array(16), port: 1 })).toThrow(WireEncodeError);
    expect(() => formatAddress({ family: 6, ip: new Uint8Array(16), port: 0 })).toThrow(/port 0/);
    expect(() => formatAddress({ family: 4, ip: new Uint8Array(4), port: 65536 })).toThrow(/port 65536/);
  });

  it('parseAddress returns its own copy of the ip bytes', () => {
    const a = parseAddress('1.2.3.4:5')!;
    parseAddress('9.9.9.9:9');
    expect(hex(a.ip)).toBe('01020304');
  });
});

describe('canonicalAddressBytes: the IPv4 fast path agrees with the full parser', () => {
  it('on 20,000 seeded IPv4-like strings (leading zeros, out-of-range octets and ports, missing or extra parts)', () => {
    const rng = new SeededRng(42);
    const pieces = ['0', '00', '01', '1', '9', '10', '99', '100', '199', '255', '256', '299', '999', '1000', '', 'a', '-1', ' 1'];
    const ports = ['0', '1', '80', '080', '7946', '65535', '65536', '99999', '100000', '', '1a'];
    let canonicalSeen = 0;
    for (let i = 0; i < 20_000; i++) {
      const octets = Array.from({ length: rng.next() < 0.9 ? 4 : 3 + 2 * randInt(rng, 2) }, () => pieces[randInt(rng, pieces.length)]!);
      const s = `${octets.join('.')}${rng.next() < 0.95 ? ':' : '::'}${ports[randInt(rng, ports.length)]}`;
      const canonical = canonicaliseAddress(s) === s;
      const b = canonicalAddressBytes(s);
      expect(b !== null, s).toBe(canonical);
      if (b !== null) {
        canonicalSeen++;
        expect(hex(b), s).toBe(hex(addressToBytes(s)));
      }
    }
    expect(canonicalSeen).toBeGreaterThan(200);
  });
});
