import { describe, expect, test } from 'vitest';
import { SCENARIOS } from '../../src/sim/scenarios.js';
import { scenarioTests } from './scenario-suite.js';

describe('simulator scenarios (first third)', () => {
  test('there are at least 20 of them, with distinct names', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
  });
  scenarioTests(0);
});
