import { afterEach, describe, expect, it, vi } from 'vitest';
import { GROUP_MEMBERS_WARN, GROUP_SMALL_GRACE_MS, GROUP_SMALL_REPEAT_MS, GroupHealth, liveMembers, logReport, watchGroupHealth } from '../../src/agent/group-health.js';
import { MemberState } from '../../src/core/types.js';
import type { MemberView } from '../../src/core/api.js';

const member = (addr: string, state: MemberState = MemberState.Alive): MemberView =>
  ({ addr, incarnation: 1, heartbeat: 1, ageMs: 0, rttMs: null, state, self: false }) as unknown as MemberView;

function sink() {
  const lines: { level: 'warn' | 'info'; fields: Record<string, unknown>; msg: string }[] = [];
  return {
    lines,
    log: {
      warn: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', fields, msg }),
      info: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'info', fields, msg }),
    },
  };
}

describe('group health', () => {
  afterEach(() => vi.useRealTimers());

  it('counts live members only (suspects may be dead)', () => {
    expect(liveMembers([member('a'), member('b', MemberState.Suspect), member('c')])).toBe(2);
  });

  it(`warns once a group has stayed below ${GROUP_MEMBERS_WARN} for the grace period, then at most every repeat interval, and says when it recovered`, () => {
    const h = new GroupHealth();
    const t0 = 1_000;
    // (time since t0 in ms, live members, expected report kind or null)
    const steps: [number, number, 'small' | 'recovered' | null][] = [
      [0, 2, null], // small, grace starts
      [GROUP_SMALL_GRACE_MS - 1, 2, null],
      [GROUP_SMALL_GRACE_MS, 2, 'small'], // first warning
      [GROUP_SMALL_GRACE_MS + 10_000, 1, null], // within the repeat interval
      [GROUP_SMALL_GRACE_MS + GROUP_SMALL_REPEAT_MS - 1, 1, null],
      [GROUP_SMALL_GRACE_MS + GROUP_SMALL_REPEAT_MS, 1, 'small'], // repeated
      [GROUP_SMALL_GRACE_MS + GROUP_SMALL_REPEAT_MS + 1, 3, 'recovered'],
      [GROUP_SMALL_GRACE_MS + GROUP_SMALL_REPEAT_MS + 2, 5, null],
    ];
    const got = steps.map(([dt, n]) => h.observe(n, t0 + dt)?.kind ?? null);
    expect(got).toEqual(steps.map((s) => s[2]));
  });

  it('a dip shorter than the grace period is not reported, nor its end', () => {
    const h = new GroupHealth();
    expect(h.observe(1, 0)).toBeNull();
    expect(h.observe(4, GROUP_SMALL_GRACE_MS - 1)).toBeNull();
    // The grace period starts again at the next dip.
    expect(h.observe(2, GROUP_SMALL_GRACE_MS)).toBeNull();
    expect(h.observe(2, 2 * GROUP_SMALL_GRACE_MS)).toMatchObject({ kind: 'small', members: 2, sinceMs: GROUP_SMALL_GRACE_MS });
  });

  it('the warning names the group, the count, the risk and what to change', () => {
    const { lines, log } = sink();
    logReport(log, 3, { kind: 'small', members: 1, sinceMs: 75_400 });
    logReport(log, 3, { kind: 'small', members: 2, sinceMs: 60_000 });
    logReport(log, 3, { kind: 'recovered', members: 4, afterMs: 90_000 });
    expect(lines.map((l) => l.level)).toEqual(['warn', 'warn', 'info']);
    expect(lines[0]!.fields).toMatchObject({ event: 'group-small', group: 3, members: 1, sinceMs: 75_400, membersMin: GROUP_MEMBERS_WARN });
    expect(lines[0]!.msg).toBe(
      "affinity group 3 has had 1 live member (this node included) for 75 s, fewer than 3: a restart of this node leaves nobody holding the group's tuples; add nodes or use a smaller --groups (kelips-ctl plan --nodes N --files F)",
    );
    expect(lines[1]!.msg).toMatch(/2 live members .* one more failure leaves a lone member/);
    expect(lines[2]).toMatchObject({ fields: { event: 'group-recovered', group: 3, members: 4 }, msg: 'affinity group 3 has 4 live members again' });
  });

  it('watchGroupHealth checks on a timer and stops', () => {
    vi.useFakeTimers();
    const { lines, log } = sink();
    let now = 0;
    let members = [member('self')];
    let joined = false;
    const stop = watchGroupHealth({ members: () => members, group: () => 0, joined: () => joined, now: () => now, log, intervalMs: 1000 });
    const tick = (n: number) => {
      for (let i = 0; i < n; i++) {
        now += 1000;
        vi.advanceTimersByTime(1000);
      }
    };
    tick(120); // not joined: nothing to say about the group
    expect(lines).toEqual([]);
    joined = true;
    tick(60); // the grace period starts at the join
    expect(lines).toEqual([]);
    tick(1);
    expect(lines.map((l) => l.fields.event)).toEqual(['group-small']);
    members = [member('self'), member('b'), member('c')];
    now += 1000;
    vi.advanceTimersByTime(1000);
    expect(lines.map((l) => l.fields.event)).toEqual(['group-small', 'group-recovered']);
    stop();
    members = [];
    now += 10 * GROUP_SMALL_REPEAT_MS;
    vi.advanceTimersByTime(10 * GROUP_SMALL_REPEAT_MS);
    expect(lines).toHaveLength(2);
  });
});
