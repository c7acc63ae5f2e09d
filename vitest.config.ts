import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Real-process and simulator suites are CPU heavy; two workers match this 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    // Compiles the agent and kelips-ctl once into a private directory for the real-process tests.
    globalSetup: ['test/cluster/setup.ts'],
  },
});
