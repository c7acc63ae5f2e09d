import { describe, expect, test } from 'vitest';
import { ConfigError, DEFAULTS, logRounds, resolveConfig, timeouts } from '../../src/core/config.js';

describe('config', () => {
  test('defaults validate and are frozen', () => {
    const cfg = resolveConfig();
    expect(cfg.gossipIntervalMs).toBe(DEFAULTS.gossipIntervalMs);
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  test('the local preset overrides a few fields and keeps the rest', () => {
    const cfg = resolveConfig({}, 'local');
    expect(cfg.gossipIntervalMs).toBe(200);
    expect(cfg.contactsPerGroup).toBe(DEFAULTS.contactsPerGroup);
  });

  test.each([
    [{ groups: 0 }, 'groups', 'an integer from 1 to 65535'],
    [{ groups: 2.5 }, 'groups', 'an integer'],
    [{ cluster: '' }, 'cluster', '1 to 64 characters'],
    [{ cluster: 'has space' }, 'cluster', '1 to 64 characters'],
    [{ gossipIntervalMs: 5 }, 'gossipIntervalMs', 'from 10 to 60000'],
    [{ datagramBytesMax: 100 }, 'datagramBytesMax', 'from 512'],
    [{ failMult: 3, suspectMult: 3 }, 'failMult', 'greater than suspectMult'],
    [{ filetupleRefreshMs: 3_600_000 }, 'filetupleRefreshMs', 'less than filetupleTtlMs'],
    [{ lookupDeadlineMs: 100, requestTimeoutMs: 300 }, 'lookupDeadlineMs', 'at least requestTimeoutMs'],
    [{ contactRttImprovement: 0 }, 'contactRttImprovement', 'a number from 0.01 to 1'],
  ] as const)('%j is rejected naming %s', (overrides, field, message) => {
    try {
      resolveConfig(overrides as never);
      expect.unreachable('should have thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe(field);
      expect((e as ConfigError).code).toBe('KELIPS_CONFIG');
      expect((e as Error).message).toContain(`"${field}"`);
      expect((e as Error).message).toContain(message);
    }
  });

  test('an unknown field is named', () => {
    expect(() => resolveConfig({ gossipIntervalMS: 10 } as never)).toThrow(/"gossipIntervalMS": unknown field/);
  });

  test.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [31, 5],
    [32, 6],
    [100, 7],
    [1000, 10],
  ])('L(%i) = %i', (g, l) => {
    expect(logRounds(g)).toBe(l);
  });

  test('timeouts scale with log of group size', () => {
    const cfg = resolveConfig();
    const small = timeouts(cfg, 31);
    const big = timeouts(cfg, 100);
    expect(small.suspectMs).toBe(3 * 5 * 1000);
    expect(small.failMs).toBe(6 * 5 * 1000);
    expect(big.failMs).toBe(6 * 7 * 1000);
    expect(small.retransmits).toBe(10);
    expect(big.heartbeats).toBe(21);
    expect(small.settleMs).toBe(2 * 5 * 1000);
  });

  test('a view smaller than k is timed as a group of k (a filling view is not a small group)', () => {
    const cfg = resolveConfig({ groups: 100 });
    expect(timeouts(cfg, 1)).toStrictEqual(timeouts(cfg, 100));
    expect(timeouts(cfg, 2).suspectMs).toBe(3 * 7 * 1000);
    expect(timeouts(cfg, 2).failMs).toBe(6 * 7 * 1000);
    // Above k, the view's own size rules.
    expect(timeouts(cfg, 300).failMs).toBe(6 * 9 * 1000);
    expect(timeouts(resolveConfig({ groups: 8 }), 3).failMs).toBe(6 * logRounds(8) * 1000);
  });
});
