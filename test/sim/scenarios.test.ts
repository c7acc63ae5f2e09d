/**
 * Every named scenario under the safety and liveness checkers, with the real core and the real codec. A failure
 * prints the drawn settings, the violations and the command that replays the run. KELIPS_SIM_SEED=N runs all of
 * them with another seed.
 */
import { describe, expect, test } from 'vitest';
import { REAL } from '../../src/sim/real.js';
import { runScenario } from '../../src/sim/scenario.js';
import { SCENARIOS } from '../../src/sim/scenarios.js';

const SEED = Number(process.env.KELIPS_SIM_SEED ?? 1);

describe('simulator scenarios', () => {
  test('there are at least 20 of them, with distinct names', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
  });

  for (const spec of SCENARIOS) {
    test(`${spec.name}: ${spec.about}`, () => {
      const r = runScenario(spec, SEED, REAL);
      expect(r.violations.count, `\n${r.report}\n`).toBe(0);
      expect(r.lookups.answered, `\n${r.report}\n`).toBe(r.lookups.issued);
    });
  }
});
