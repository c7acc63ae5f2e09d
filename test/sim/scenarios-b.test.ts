import { describe } from 'vitest';
import { scenarioTests } from './scenario-suite.js';

describe('simulator scenarios (second half)', () => {
  scenarioTests(1);
});
