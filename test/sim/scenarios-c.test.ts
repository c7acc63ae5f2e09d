import { describe } from 'vitest';
import { scenarioTests } from './scenario-suite.js';

describe('simulator scenarios (last third)', () => {
  scenarioTests(2);
});
