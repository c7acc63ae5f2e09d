/**
 * The catalogue of named scenarios. Each draws its sizes, link faults and fault timings from the seed; the runner
 * (scenario.ts) supplies the phases and checkers. Timings are expressed in fail/suspect timeouts and gossip rounds so
 * they keep their meaning under any preset.
 */
import type { ScenarioSpec } from './scenario.js';
import { NETWORK_SCENARIOS } from './scenarios/network.js';
import { IDENTITY_SCENARIOS } from './scenarios/identity.js';
import { PROCESS_SCENARIOS } from './scenarios/processes.js';
import { RESTART_SCENARIOS } from './scenarios/restarts.js';

export const SCENARIOS: ScenarioSpec[] = [...NETWORK_SCENARIOS, ...PROCESS_SCENARIOS, ...RESTART_SCENARIOS, ...IDENTITY_SCENARIOS];

export function findScenario(name: string): ScenarioSpec | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
