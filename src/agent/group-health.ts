/**
 * Group health: an affinity group that stays below GROUP_MEMBERS_WARN live members (this node included) is one
 * failure away from a lone member, and a lone member's restart leaves nobody holding the group's tuples. The
 * agent warns in its log while that lasts (after a grace period that rides out joins and restarts, then at most
 * once per repeat interval), exports `kelips_view_group_small` (read at scrape time) and the alert
 * `KelipsGroupTooSmall` fires on it. The cure is more nodes or a smaller k (`kelips-ctl plan`).
 *
 * GroupHealth is pure (the caller passes the time); watchGroupHealth runs it on a timer for the agent.
 */
import type { MemberView } from '../core/api.js';
import { MemberState } from '../core/types.js';

/** A group with fewer live members than this (the node itself included) is small: 3, so one failure leaves 2. */
export const GROUP_MEMBERS_WARN = 3;
/** A group must be small this long before the first warning (ms): 60 s, longer than a join and state transfer. */
export const GROUP_SMALL_GRACE_MS = 60_000;
/** While the group stays small, the warning repeats at most this often (ms): 5 minutes. */
export const GROUP_SMALL_REPEAT_MS = 300_000;
/** How often the agent counts its group's members (ms): 10 s, far below the grace period. */
export const GROUP_HEALTH_CHECK_MS = 10_000;

/** Live members in a view (suspects are not counted: they may be dead). */
export function liveMembers(members: readonly MemberView[]): number {
  let n = 0;
  for (const m of members) if (m.state !== MemberState.Suspect) n++;
  return n;
}

export function isGroupSmall(liveMembersCount: number): boolean {
  return liveMembersCount < GROUP_MEMBERS_WARN;
}

export type GroupHealthReport =
  | { kind: 'small'; members: number; sinceMs: number }
  | { kind: 'recovered'; members: number; afterMs: number };

export interface GroupHealthOptions {
  graceMs?: number;
  repeatMs?: number;
}

/** Tracks how long the group has been small and says when to log. */
export class GroupHealth {
  private smallSince: number | null = null;
  private lastWarned: number | null = null;
  private readonly graceMs: number;
  private readonly repeatMs: number;

  constructor(opts: GroupHealthOptions = {}) {
    this.graceMs = opts.graceMs ?? GROUP_SMALL_GRACE_MS;
    this.repeatMs = opts.repeatMs ?? GROUP_SMALL_REPEAT_MS;
  }

  /** Forget a small group in progress without reporting it (the node is not in a cluster yet). */
  reset(): void {
    this.smallSince = null;
    this.lastWarned = null;
  }

  /** Record the live member count at `now` (ms, monotonic); returns what to log, if anything. */
  observe(members: number, now: number): GroupHealthReport | null {
    if (!isGroupSmall(members)) {
      const since = this.smallSince;
      const warned = this.lastWarned !== null;
      this.smallSince = null;
      this.lastWarned = null;
      return since !== null && warned ? { kind: 'recovered', members, afterMs: now - since } : null;
    }
    this.smallSince ??= now;
    if (now - this.smallSince < this.graceMs) return null;
    if (this.lastWarned !== null && now - this.lastWarned < this.repeatMs) return null;
    this.lastWarned = now;
    return { kind: 'small', members, sinceMs: now - this.smallSince };
  }
}

export interface GroupHealthLog {
  warn(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
}

/**
 * Count the group's live members every GROUP_HEALTH_CHECK_MS and log what GroupHealth reports. Not while the node
 * has not joined (its view is only itself; the seed retries say what is wrong). The timer does not keep the
 * process alive; call the returned function to stop it.
 */
export function watchGroupHealth(opts: {
  members: () => readonly MemberView[];
  group: () => number;
  joined: () => boolean;
  now: () => number;
  log: GroupHealthLog;
  intervalMs?: number;
  health?: GroupHealth;
}): () => void {
  const health = opts.health ?? new GroupHealth();
  const timer = setInterval(() => {
    if (!opts.joined()) return health.reset();
    const members = liveMembers(opts.members());
    const r = health.observe(members, opts.now());
    if (r !== null) logReport(opts.log, opts.group(), r);
  }, opts.intervalMs ?? GROUP_HEALTH_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function logReport(log: GroupHealthLog, group: number, r: GroupHealthReport): void {
  if (r.kind === 'small')
    log.warn(
      { event: 'group-small', group, members: r.members, sinceMs: Math.round(r.sinceMs), membersMin: GROUP_MEMBERS_WARN },
      `affinity group ${group} has had ${r.members} live member${r.members === 1 ? '' : 's'} (this node included) for ` +
        `${Math.round(r.sinceMs / 1000)} s, fewer than ${GROUP_MEMBERS_WARN}: ` +
        (r.members === 1 ? "a restart of this node leaves nobody holding the group's tuples" : "one more failure leaves a lone member holding the group's tuples") +
        `; add nodes or use a smaller --groups (kelips-ctl plan --nodes N --files F)`,
    );
  else
    log.info(
      { event: 'group-recovered', group, members: r.members, afterMs: Math.round(r.afterMs) },
      `affinity group ${group} has ${r.members} live members again`,
    );
}
