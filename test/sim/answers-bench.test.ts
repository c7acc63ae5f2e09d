/**
 * A subset of issue 9's "must show 2" in `make test`: bench:sim's simulation (in this process, one thread) at 64
 * nodes with k = 16 and k = 32 (groups of about 4 and 2, some of 1) and churn 10 per hour, for 3 seeds each, short
 * (3 simulated minutes): no lookup answered a wrong "not found" (the safety property, asserted exactly), and, for
 * live owners' names, leaving out names whose group had no running node when asked (groups are hashed from node
 * identities, so at k = N/2 about e^-2 = 14% of the groups are empty at any time: those names cannot be stored
 * anywhere, whatever the protocol does; bench:sim prints both ratios), at least 99.9% found at k = 16. At k = 32
 * (groups of 1 and 2 under churn, far outside the sizing rule) the found share is 0.993 to 0.996: the rest are
 * honest "unavailable" answers (a group's only member restarting and recovering its state, or contacts of a group
 * of one gone stale); this test holds it to 0.99 so that a regression shows, and docs/BENCHMARKS.md reports it
 * against the 0.999 target it does not meet. The whole figure (20 seeds, 10 minutes, and 1,000 nodes with loss) comes from
 * `npm run bench:sim -- --seeds 1-20 ...` (bench/sim-seeds.ts). Bounded by simulated time, never wall time.
 */
import { describe, expect, test } from 'vitest';
import { answerFields, TARGET } from '../../bench/sim-seeds.js';
import { simulateShard, type SimArgs } from '../../bench/sim-shard.js';

const SEEDS = [1, 2, 3];
/** k = 32: the found share that holds (see above), not the 0.999. */
const K32_FOUND_MIN = 0.99;

function args(groups: number, seed: number): SimArgs {
  return {
    nodes: 64, files: 640, minutes: 3, churn: 10, loss: 0, seed, groups, crashes: 2, lookupsPerS: 10, joinSeconds: null,
    stopAtSeconds: null, delayMinMs: 0.5, config: {}, threads: 1, json: true,
  };
}

describe('bench:sim answers at 64 nodes, small groups, churn 10/h', () => {
  for (const groups of [16, 32])
    for (const seed of SEEDS)
      test(`k = ${groups}, seed ${seed}: no wrong "not found", found share >= ${groups === 16 ? TARGET.lookup_success_ratio_min : K32_FOUND_MIN} (inhabited groups)`, () => {
        const a = args(groups, seed);
        const report = simulateShard(a, null, () => {});
        const f = answerFields(a, [report]);
        const why = `\nwhile running: ${f.replay}\n${JSON.stringify({ ...f, lookups: report.lookups.counted, not_found: report.lookups.notFound, unavailable: report.lookups.unavailable, failures: report.lookups.failures }, null, 2)}\n`;
        expect(report.lookups.counted, why).toBeGreaterThan(500);
        expect(f.wrong_not_found, why).toBe(0);
        expect(f.lookup_success_ratio_inhabited_groups, why).toBeGreaterThanOrEqual(groups === 16 ? TARGET.lookup_success_ratio_min : K32_FOUND_MIN);
      });
});
