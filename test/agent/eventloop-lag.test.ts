/** The event-loop lag metric: lateness against the due time, never the sampling interval itself. */
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { idleMetricsSource } from './metrics-source.js';
import { LagSampler } from '../../src/agent/eventloop-lag.js';

describe('LagSampler', () => {
  it('reads 0 for a timer that runs on time, whatever the interval', () => {
    for (const interval of [10, 50, 1000]) {
      const s = new LagSampler(interval);
      let now = 1000;
      for (let i = 0; i < 20; i++) {
        s.armed(now);
        now += interval;
        s.fired(now);
      }
      const r = s.read(now);
      expect(r.max, `interval ${interval}`).toBeLessThan(1e-8);
      expect(r.p99, `interval ${interval}`).toBeLessThan(1e-8);
    }
  });

  it('reads how late the timer ran', () => {
    const s = new LagSampler(50);
    s.armed(0);
    s.fired(50 + 30); // 30 ms late
    s.armed(80);
    s.fired(130 + 2); // 2 ms late
    const r = s.read(132);
    expect(r.max).toBeCloseTo(0.03, 4);
    expect(r.min).toBeCloseTo(0.002, 4);
    expect(r.mean).toBeCloseTo(0.016, 4);
    // A read starts over.
    s.armed(132);
    s.fired(182);
    expect(s.read(182).max).toBeLessThan(1e-8);
  });

  it('with no sample since the last read, reports how overdue the pending timer is', () => {
    const s = new LagSampler(50);
    s.armed(0);
    expect(s.read(20).max).toBe(0);
    expect(s.read(250).p99).toBeCloseTo(0.2, 6);
  });
});

describe('kelips_nodejs_eventloop_lag_*_seconds', () => {
  it('are registered once each, and a blocked loop shows in the max', async () => {
    const m = new AgentMetrics(
      idleMetricsSource(),
      {},
    );
    const registry: Registry = m.registry;
    await registry.metrics(); // start from an empty histogram
    // Block the loop for 150 ms: the sampler's timer (due within 50 ms) runs at least 100 ms late.
    const until = Date.now() + 150;
    while (Date.now() < until) {
      /* busy */
    }
    await new Promise((r) => setTimeout(r, 20));
    const text = await registry.metrics();
    for (const k of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'])
      expect(text.match(new RegExp(`^kelips_nodejs_eventloop_lag_${k}_seconds `, 'gm')), k).toHaveLength(1);
    const max = Number(/^kelips_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)![1]);
    expect(max).toBeGreaterThanOrEqual(0.1);
  });
});
