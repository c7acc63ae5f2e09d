/**
 * What "ready" means, in one place: /readyz, `kelips_node_ready`, the `ready` field of /v1/status and kelips-ctl
 * status all read it. A node is ready when it can answer every lookup correctly:
 *
 *   joined   it reached the cluster through a seed (or founded it, given no seeds);
 *   synced   it holds its affinity group's state (founded the cluster, pulled it from a member that held it, or
 *            recovered it after asking the owners to re-publish: src/core/join.ts), so its "not found" for a name
 *            of its own group is a promise;
 *   contacts it holds a live contact for every other group, so it can ask about any other name in one hop.
 *
 * A cluster with k = 1 has no other group; a group that has no members at all leaves every other node not
 * ready, which is the truth (nobody can answer for its names) and what the sizing rule exists to prevent.
 */

export interface ReadinessInput {
  joined: boolean;
  synced: boolean;
  /** k. */
  groups: number;
  ownGroup: number;
  /** Live contacts per foreign group. */
  contactsByGroup: ReadonlyMap<number, number>;
}

export type ReadinessCondition = 'joined' | 'synced' | 'contacts';

export interface Readiness {
  ready: boolean;
  joined: boolean;
  synced: boolean;
  /** Foreign groups without a live contact (at most GROUPS_LISTED_MAX listed in `groupsWithoutContact`). */
  groupsWithoutContactCount: number;
  groupsWithoutContact: number[];
  /** The conditions not met, in the order above; empty when ready. */
  missing: ReadinessCondition[];
  /** One sentence: "ready", or which conditions are missing. */
  reason: string;
}

/** Groups listed by number in a readiness answer at most (the count is always complete). */
export const GROUPS_LISTED_MAX = 16;

export function readiness(s: ReadinessInput): Readiness {
  const without: number[] = [];
  let count = 0;
  for (let g = 0; g < s.groups; g++) {
    if (g === s.ownGroup || (s.contactsByGroup.get(g) ?? 0) > 0) continue;
    count++;
    if (without.length < GROUPS_LISTED_MAX) without.push(g);
  }
  const missing: ReadinessCondition[] = [];
  const why: string[] = [];
  if (!s.joined) {
    missing.push('joined');
    why.push('not joined: no seed has answered yet');
  }
  if (!s.synced) {
    missing.push('synced');
    why.push(`not synced: it does not hold group ${s.ownGroup}'s state yet`);
  }
  if (count > 0) {
    missing.push('contacts');
    why.push(`no live contact for ${count} of ${s.groups - 1} other groups (${without.join(', ')}${count > without.length ? ', ...' : ''})`);
  }
  return {
    ready: missing.length === 0,
    joined: s.joined,
    synced: s.synced,
    groupsWithoutContactCount: count,
    groupsWithoutContact: without,
    missing,
    reason: missing.length === 0 ? 'ready' : why.join('; '),
  };
}
