/**
 * Defines one vitest test per named scenario (the real core and the real codec, decoded messages deep-frozen, under the
 * safety, answer and liveness checkers). Split over three files so the vitest workers share the work. A failure
 * prints the drawn settings, the violations and the command that replays the run. KELIPS_SIM_SEED=N runs them with
 * another seed. A scenario that needs a core feature the core lacks (`needs`) is skipped.
 */
import { expect, test } from 'vitest';
import { FROZEN } from '../../src/sim/real.js';
import { runScenario } from '../../src/sim/scenario.js';
import { SCENARIOS } from '../../src/sim/scenarios.js';
import { coreSupports } from '../../src/sim/scenarios/identity.js';

export const SEED = Number(process.env.KELIPS_SIM_SEED ?? 1);
export const PARTS = 3;

export function scenarioTests(part: number): void {
  SCENARIOS.forEach((spec, i) => {
    if (i % PARTS !== part) return;
    // needs core identity/join: runs once the core has node names and node.join (see scenarios/identity.ts).
    const missing = spec.needs !== undefined && !coreSupports(spec.needs);
    test.skipIf(missing)(`${spec.name}: ${spec.about}`, () => {
      const r = runScenario(spec, SEED, FROZEN);
      const why = `\n${r.report}\n`;
      expect(r.violations.count, why).toBe(0);
      // The liveness probe looked something up, and every lookup got an answer.
      expect(r.lookups.issued, why).toBeGreaterThan(0);
      expect(r.lookups.answered, why).toBe(r.lookups.issued);
      // The answer checker saw answers (background lookups during faults, or the probes).
      expect(r.answers.answers, why).toBeGreaterThanOrEqual(r.lookups.answered);
      expect(r.answers.wrongNotFound, why).toBe(0);
      // A scenario that promises recovery checks ran them, and they looked tuples up.
      expect(r.recovery.checks > 0, why).toBe(spec.checksRecovery === true);
      expect(r.recovery.answered, why).toBe(r.recovery.issued);
      if (spec.checksRecovery) expect(r.recovery.issued, why).toBeGreaterThan(0);
    });
  });
}
