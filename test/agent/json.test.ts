import { describe, expect, it } from 'vitest';
import { roundMs, toJson } from '../../src/agent/json.js';

describe('JSON for scripts', () => {
  it('rounds durations (keys ending in Ms) to 1 µs, at any depth, and nothing else', () => {
    const text = toJson({ latencyMs: 1.7390210000012303, name: 'a', hops: 1, ratio: 0.123456789, rows: [{ ageMs: 2.0004999, rttMs: null }], uptimeMs: 12 });
    expect(text).toBe('{"latencyMs":1.739,"name":"a","hops":1,"ratio":0.123456789,"rows":[{"ageMs":2,"rttMs":null}],"uptimeMs":12}');
  });

  const cases: [number, number][] = [
    [1.7390210000012303, 1.739],
    [0.0004, 0],
    [0.0005, 0.001],
    [123456.78951, 123456.79],
    [-0.25, -0.25],
    [Infinity, Infinity],
  ];
  for (const [ms, rounded] of cases) it(`roundMs(${ms}) = ${rounded}`, () => expect(roundMs(ms)).toBe(rounded));
});
