/**
 * Defines one vitest test per named scenario (the real core and the real codec, decoded messages deep-frozen, under the safety and liveness
 * checkers). Split over two files so the two vitest workers share the work. A failure prints the drawn settings, the
 * violations and the command that replays the run. KELIPS_SIM_SEED=N runs them with another seed.
 */
import { expect, test } from 'vitest';
import { FROZEN } from '../../src/sim/real.js';
import { runScenario } from '../../src/sim/scenario.js';
import { SCENARIOS } from '../../src/sim/scenarios.js';

export const SEED = Number(process.env.KELIPS_SIM_SEED ?? 1);

export function scenarioTests(half: 0 | 1): void {
  SCENARIOS.forEach((spec, i) => {
    if (i % 2 !== half) return;
    test(`${spec.name}: ${spec.about}`, () => {
      const r = runScenario(spec, SEED, FROZEN);
      expect(r.violations.count, `\n${r.report}\n`).toBe(0);
      expect(r.lookups.answered, `\n${r.report}\n`).toBe(r.lookups.issued);
    });
  });
}
