/**
 * The authority metrics read the node's state and the core's counters at scrape time: each scrape shows the values
 * of that moment, the gauges as 0/1, the counters as the core's totals (never added twice).
 */
import { describe, expect, it } from 'vitest';
import { AgentMetrics, type AuthoritySource } from '../../src/agent/metrics.js';
import { idleMetricsSource } from './metrics-source.js';

function metricsWith(a: AuthoritySource): AgentMetrics {
  return new AgentMetrics(
    idleMetricsSource({ ready: () => a.synced, groups: () => 2, authority: () => ({ ...a }) }),
    { defaultMetrics: false },
  );
}

const value = (text: string, name: string): number => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (m === null) throw new Error(`${name} missing in\n${text}`);
  return Number(m[1]);
};

describe('authority metrics', () => {
  it('follow the node from joining through recovery to holding the state', async () => {
    const a: AuthoritySource = { synced: false, recovering: false, notReadyAnswers: 0, groupResets: 0 };
    const m = metricsWith(a);
    const steps: [Partial<AuthoritySource>, [number, number, number, number]][] = [
      [{}, [0, 0, 0, 0]],
      [{ notReadyAnswers: 3 }, [0, 0, 3, 0]],
      [{ recovering: true, notReadyAnswers: 7, groupResets: 1 }, [0, 1, 7, 1]],
      [{ recovering: false, synced: true, groupResets: 2 }, [1, 0, 7, 2]],
      [{}, [1, 0, 7, 2]],
    ];
    for (const [change, [holds, recovering, notReady, resets]] of steps) {
      Object.assign(a, change);
      const t = await m.metrics();
      expect([
        value(t, 'kelips_node_holds_group_state'),
        value(t, 'kelips_node_recovering'),
        value(t, 'kelips_lookup_not_ready_answers_total'),
        value(t, 'kelips_group_resets_total'),
      ], JSON.stringify(change)).toEqual([holds, recovering, notReady, resets]);
    }
    const t = await m.metrics();
    expect(t).toMatch(/^# TYPE kelips_node_holds_group_state gauge$/m);
    expect(t).toMatch(/^# TYPE kelips_node_recovering gauge$/m);
    expect(t).toMatch(/^# TYPE kelips_lookup_not_ready_answers_total counter$/m);
    expect(t).toMatch(/^# TYPE kelips_group_resets_total counter$/m);
  });
});
