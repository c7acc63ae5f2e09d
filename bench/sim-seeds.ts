/**
 * bench:sim's answer figures and its many-seeds mode.
 *
 *   npm run bench:sim -- --seeds 1-20 --nodes 64 --groups 16 --churn 10 --minutes 10 --json
 *
 * runs the one configuration once per seed (one after the other) and prints one JSON object: per seed its
 * wrong_not_found, lookup_success_ratio and replay command, then the max / min over the seeds and whether they meet
 * the target (no wrong "not found"; found share at least 0.999 of lookups for live owners' names).
 */
import { formatViolation } from '../src/sim/checkers.js';
import { round } from '../src/sim/stats.js';
import type { ShardReport, SimArgs } from './sim-shard.js';

/** The correctness target the many-seeds summary is held to (issue 9, must show 2). */
export const TARGET = { wrong_not_found_max: 0, lookup_success_ratio_min: 0.999 } as const;

/** "1-20", "3" or "1,4,9" -> the seeds; at most 1000 of them. */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`--seeds takes a range or list such as 1-20 or 1,4,9 (got ${JSON.stringify(text)})`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`--seeds: ${part} runs backwards`);
    for (let s = a; s <= b; s++) out.push(s);
    if (out.length > 1000) throw new Error('--seeds: at most 1000 seeds');
  }
  return out;
}

/** The command line that reproduces one run of bench:sim. */
export function replayCommand(args: SimArgs): string {
  const parts = ['npm run bench:sim --', `--nodes ${args.nodes}`, `--groups ${args.groups}`, `--files ${args.files}`, `--minutes ${args.minutes}`, `--seed ${args.seed}`];
  if (args.churn > 0) parts.push(`--churn ${args.churn}`);
  if (args.loss > 0) parts.push(`--loss ${args.loss}`);
  parts.push(`--crashes ${args.crashes}`, `--lookups-per-s ${args.lookupsPerS}`, `--delay-min-ms ${args.delayMinMs}`, `--threads ${args.threads}`);
  if (args.joinSeconds !== null) parts.push(`--join-seconds ${args.joinSeconds}`);
  if (args.stopAtSeconds !== null) parts.push(`--stop-at-seconds ${args.stopAtSeconds}`);
  if (Object.keys(args.config).length > 0) parts.push(`--config '${JSON.stringify(args.config)}'`);
  return parts.join(' ');
}

const sum = (reports: readonly ShardReport[], f: (r: ShardReport) => number): number => reports.reduce((n, r) => n + f(r), 0);

/** The answer fields of bench:sim's JSON object, from the shards' reports. */
export function answerFields(args: SimArgs, reports: readonly ShardReport[]) {
  const counted = sum(reports, (r) => r.lookups.counted);
  const wrong = sum(reports, (r) => r.answers.wrongNotFound);
  return {
    lookup_success_ratio: round(sum(reports, (r) => r.lookups.found) / Math.max(1, counted), 5),
    lookup_success_ratio_inhabited_groups: round(
      sum(reports, (r) => r.lookups.found - r.lookups.emptyGroupFound) / Math.max(1, counted - sum(reports, (r) => r.lookups.emptyGroupCounted)),
      5,
    ),
    lookup_success_ratio_inhabited_groups_counts:
      'the same, leaving out lookups issued while the name\'s group had no running node (as of the last gossip round): with groups hashed from node addresses, k much larger than sqrt(N) leaves groups empty (64 nodes, k = 32: about e^-2 = 14% of them), and their names have nowhere to be stored',
    lookup_success_ratio_counts:
      'found (the owner\'s location among the answer\'s) / answered, over the measured lookups: names whose owner was running, under the incarnation it published with, when the lookup was issued (answers that arrived after the asker stopped are not counted)',
    wrong_not_found: wrong,
    wrong_not_found_examples: reports.flatMap((r) => r.wrongNotFound).sort((x, y) => x.time - y.time).slice(0, 5).map(formatViolation),
    wrong_not_found_definition:
      'any lookup (measured or not, any asker, any hops) answered not found while a live owner\'s tuple for the name had settled: stored in its group at least (ceil(log2 G) + 4) gossip rounds before the lookup was asked (src/sim/answer-checker.ts)',
    lookups_to_empty_group: sum(reports, (r) => r.lookupsToEmptyGroup),
    answers_judged: sum(reports, (r) => r.answers.answers - r.answers.notJudged),
    answers_not_found: sum(reports, (r) => r.answers.notFound),
    answers_not_found_unsettled: sum(reports, (r) => r.answers.notFoundUnsettled),
    answers_not_found_no_live_owner: sum(reports, (r) => r.answers.notFoundNoOwner),
    answers_not_judged_other_shard: sum(reports, (r) => r.answers.notJudged),
    replay: replayCommand(args),
  };
}

export interface SeedRun {
  seed: number;
  wrong_not_found: number;
  lookup_success_ratio: number | null;
  lookups: number;
  lookups_not_found: number;
  lookups_unavailable: number;
  lookups_to_empty_group: number;
  lookup_success_ratio_inhabited_groups: number | null;
  safety_violations: number;
  wall_seconds: number | null;
  wrong_not_found_examples: string[];
  replay: string;
}

/** One JSON object for a many-seeds run. */
export function seedsSummary(args: SimArgs, seeds: readonly number[], runs: readonly SeedRun[]) {
  const wrong = runs.map((r) => r.wrong_not_found);
  // A run without a measured lookup has no success ratio: it counts as 0, so it cannot meet the target.
  const ratio = runs.map((r) => (r.lookups > 0 ? (r.lookup_success_ratio ?? 0) : 0));
  const wrongMax = Math.max(...wrong);
  const ratioMin = Math.min(...ratio);
  const inhabitedMin = Math.min(...runs.map((r) => (r.lookups > 0 ? (r.lookup_success_ratio_inhabited_groups ?? 0) : 0)));
  const { seed: _seed, json: _json, ...config } = args;
  return {
    config,
    seeds: [...seeds],
    runs,
    wrong_not_found_total: wrong.reduce((a, b) => a + b, 0),
    wrong_not_found_max: wrongMax,
    wrong_not_found_min: Math.min(...wrong),
    seeds_with_wrong_not_found: runs.filter((r) => r.wrong_not_found > 0).map((r) => r.seed),
    lookup_success_ratio_min: ratioMin,
    lookup_success_ratio_max: Math.max(...ratio),
    lookup_success_ratio_inhabited_groups_min: inhabitedMin,
    target: TARGET,
    meets_target: runs.length === seeds.length && wrongMax <= TARGET.wrong_not_found_max && ratioMin >= TARGET.lookup_success_ratio_min,
    meets_target_inhabited_groups: runs.length === seeds.length && wrongMax <= TARGET.wrong_not_found_max && inhabitedMin >= TARGET.lookup_success_ratio_min,
  };
}
