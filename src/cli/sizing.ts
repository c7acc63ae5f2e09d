/**
 * The sizing rule: how many affinity groups k a cluster of N nodes may have so that no group comes out empty or
 * with a lone member by chance.
 *
 * A node's group is hash(node name) mod k, so for a given set of names the groups are fixed but, seen before the
 * names are chosen, each node lands in a group uniformly at random. A group of one is fragile: when its lone
 * member restarts, nobody else holds the group's tuples, and when it fails the group's names are unavailable. So
 * the rule bounds the chance that some group starts with fewer than MEMBERS_MIN members:
 *
 *   P(N, k) = P(some group of k gets fewer than 2 of N uniformly placed nodes)  <=  SMALL_GROUP_RISK_MAX (1%)
 *
 * Exact for small clusters (a recurrence over the groups, below); above EXACT_WORK_MAX it is the union bound
 * k * P(Binomial(N, 1/k) < 2), an upper bound that is within P^2 of the exact value, so it decides the same way
 * near 1%. Examples: 5 nodes and k = 2: 37.5%; k = 3: 77% (of which 38% an empty group); 9 nodes, k = 2: 3.9%;
 * 12 nodes, k = 2: 0.63%; 16 nodes, k = 2: 0.052%; 1,000 nodes, k = 32: below 1e-9.
 *
 * Groups smaller than GROUP_MEMBERS_WARN (3) also make the agent warn (src/agent/group-health.ts); the rule
 * therefore asks for at least 3 nodes, and `kelips-ctl plan` prints the chance of a group below 3 as well.
 */
import { GROUP_MEMBERS_WARN } from '../agent/group-health.js';

/** A group needs at least this many members at the start: with one, a restart or failure loses the group. */
export const MEMBERS_MIN = 2;
/** Largest accepted chance (0..1) that some group starts with fewer than MEMBERS_MIN members: 1 deploy in 100. */
export const SMALL_GROUP_RISK_MAX = 0.01;
/** The exact recurrence costs about k * N^2 / 2 steps; above this it is replaced by the union bound. */
const EXACT_WORK_MAX = 4_000_000;

export interface SizingInput {
  nodes: number;
  groups: number;
}

export type SizingProblemCode = 'too-few-nodes' | 'more-groups-than-nodes' | 'small-group-risk';

export interface SizingProblem {
  code: SizingProblemCode;
  /** What is wrong and what to change, in one sentence. */
  message: string;
}

/** The sizing rule. Empty when (nodes, groups) is fine; otherwise each problem says what to change. */
export function checkSizing({ nodes, groups }: SizingInput): SizingProblem[] {
  if (!Number.isInteger(nodes) || nodes < 1) throw new RangeError(`nodes must be a positive integer, got ${nodes}`);
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`groups must be a positive integer, got ${groups}`);
  const problems: SizingProblem[] = [];
  if (nodes < GROUP_MEMBERS_WARN)
    problems.push({
      code: 'too-few-nodes',
      message:
        `${nodes} node${nodes === 1 ? '' : 's'}: a group below ${GROUP_MEMBERS_WARN} members loses its tuples to ` +
        `${nodes === 1 ? 'a restart' : 'one more failure'} (the agents warn); run at least ${GROUP_MEMBERS_WARN} nodes with k = 1`,
    });
  if (groups > nodes) {
    problems.push({
      code: 'more-groups-than-nodes',
      message: `more groups (${groups}) than nodes (${nodes}): ${groups - nodes} or more groups are empty; use k <= ${maxSafeGroups(nodes)}`,
    });
    return problems;
  }
  const risk = smallGroupRisk(nodes, groups);
  if (nodes >= MEMBERS_MIN && risk.p > SMALL_GROUP_RISK_MAX)
    problems.push({
      code: 'small-group-risk',
      message:
        `with ${nodes} nodes in ${groups} groups, the chance that some group gets fewer than ${MEMBERS_MIN} members is ` +
        `${formatChance(risk.p)}${risk.exact || risk.p >= 1 ? '' : ' at most'} (limit ${formatChance(SMALL_GROUP_RISK_MAX)}); ` +
        `use k <= ${maxSafeGroups(nodes)}, or at least ${minNodesFor(groups)} nodes for k = ${groups}`,
    });
  return problems;
}

export interface Chance {
  /** Probability, 0..1. */
  p: number;
  /** False when p is the union bound (an upper bound). */
  exact: boolean;
}

/** P(some of k groups gets fewer than `min` of N nodes placed uniformly at random). */
export function smallGroupRisk(nodes: number, groups: number, min: number = MEMBERS_MIN): Chance {
  if (groups > nodes) return { p: min > 0 ? 1 : 0, exact: true };
  if (groups === 1) return { p: nodes < min ? 1 : 0, exact: true };
  if (groups * nodes * nodes <= EXACT_WORK_MAX) return { p: clamp01(1 - allGroupsAtLeast(nodes, groups, min)), exact: true };
  // Union bound: k * P(Binomial(N, 1/k) < min).
  const q = 1 / groups;
  let tail = 0;
  let logChoose = 0;
  for (let j = 0; j < min && j <= nodes; j++) {
    if (j > 0) logChoose += Math.log(nodes - j + 1) - Math.log(j);
    tail += Math.exp(logChoose + j * Math.log(q) + (nodes - j) * Math.log1p(-q));
  }
  return { p: clamp01(groups * tail), exact: false };
}

/**
 * P(every one of k groups gets at least `min` of N uniformly placed nodes), by the recurrence over groups
 *   f_1(n) = [n >= min],   f_g(n) = sum_{j >= min} Binomial(n, 1/g)(j) * f_{g-1}(n - j)
 * (the first of g groups takes j of the n nodes, each with probability 1/g; the rest spread over g - 1 groups).
 */
function allGroupsAtLeast(nodes: number, groups: number, min: number): number {
  const logFact = new Float64Array(nodes + 1);
  for (let i = 2; i <= nodes; i++) logFact[i] = logFact[i - 1]! + Math.log(i);
  let f = new Float64Array(nodes + 1);
  for (let n = min; n <= nodes; n++) f[n] = 1;
  for (let g = 2; g <= groups; g++) {
    const next = new Float64Array(nodes + 1);
    const lq = Math.log(1 / g);
    const lr = Math.log1p(-1 / g);
    for (let n = g * min; n <= nodes; n++) {
      let s = 0;
      for (let j = min; n - j >= (g - 1) * min; j++) s += Math.exp(logFact[n]! - logFact[j]! - logFact[n - j]! + j * lq + (n - j) * lr) * f[n - j]!;
      next[n] = s;
    }
    f = next;
  }
  return f[nodes]!;
}

/** The largest k that passes the rule for N nodes (1 when none larger does). */
export function maxSafeGroups(nodes: number): number {
  // The risk grows with k: binary search for the last k within the limit.
  let lo = 1;
  let hi = Math.max(1, Math.min(nodes, 65_535));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (smallGroupRisk(nodes, mid).p <= SMALL_GROUP_RISK_MAX) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The fewest nodes for which k groups pass the rule. */
export function minNodesFor(groups: number): number {
  if (groups === 1) return GROUP_MEMBERS_WARN;
  // The risk falls as N grows: double, then binary search.
  let hi = groups * MEMBERS_MIN;
  while (smallGroupRisk(hi, groups).p > SMALL_GROUP_RISK_MAX) hi *= 2;
  let lo = Math.max(groups, Math.floor(hi / 2));
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (smallGroupRisk(mid, groups).p <= SMALL_GROUP_RISK_MAX) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(lo, GROUP_MEMBERS_WARN);
}

/** "0.63%", "38%", "< 0.0001%": a chance for people. */
export function formatChance(p: number): string {
  if (p === 0) return '0%';
  if (p >= 0.1) return `${(p * 100).toFixed(0)}%`;
  if (p >= 1e-6) return `${Number((p * 100).toPrecision(2))}%`;
  return '< 0.0001%';
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}
