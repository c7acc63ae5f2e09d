import { describe } from 'vitest';
import { scenarioTests } from './scenario-suite.js';

describe('simulator scenarios (second third)', () => {
  scenarioTests(1);
});
