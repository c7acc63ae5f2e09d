/**
 * Event-loop lag: how late a timer callback runs against the time it was due. One timer per process samples it
 * every LAG_SAMPLE_INTERVAL_MS; the lateness of each run goes into a histogram that the metrics read (and reset)
 * at every scrape. An idle loop reads about 0 here, whatever the interval: perf_hooks.monitorEventLoopDelay, which
 * prom-client uses, records the whole time between its timer's runs, interval included (50 ms on an idle agent
 * sampled every 50 ms).
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';

/** Sampling interval (ms). 50: 20 wake-ups a second on an idle agent; a stall worth a look lasts far longer. */
export const LAG_SAMPLE_INTERVAL_MS = 50;

/** Lag statistics (seconds) over the samples since the last read. */
export interface LagStats {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

/** The arithmetic, apart from the timer: `armed` and `fired` take the time (ms) from the caller. */
export class LagSampler {
  private readonly histogram: RecordableHistogram = createHistogram();
  private due = 0;

  constructor(readonly intervalMs: number) {}

  /** The timer was set at `now` (ms) to run `intervalMs` later. */
  armed(now: number): void {
    this.due = now + this.intervalMs;
  }

  /** The timer ran at `now` (ms): record how late it was (a timer is never early; 1 ns is the histogram's floor). */
  fired(now: number): void {
    this.histogram.record(Math.max(1, Math.round((now - this.due) * 1e6)));
  }

  /**
   * The statistics since the last read, and start over. With no sample since (the loop was blocked for the whole
   * time, or the read came first), the lag is the time the pending timer is overdue at `now`, at least.
   */
  read(now: number): LagStats {
    const h = this.histogram;
    if (h.count === 0) {
      const late = Math.max(0, now - this.due) / 1000;
      return { min: late, max: late, mean: late, stddev: 0, p50: late, p90: late, p99: late };
    }
    const s = (ns: number) => ns / 1e9;
    const stats = {
      min: s(h.min),
      max: s(h.max),
      mean: s(h.mean),
      stddev: s(h.stddev),
      p50: s(h.percentile(50)),
      p90: s(h.percentile(90)),
      p99: s(h.percentile(99)),
    };
    h.reset();
    return stats;
  }
}

let shared: LagSampler | null = null;

/** The process's sampler, started on first use (an unref'd timer: it never keeps the process alive). */
export function eventLoopLag(): LagSampler {
  if (shared !== null) return shared;
  const sampler = new LagSampler(LAG_SAMPLE_INTERVAL_MS);
  const arm = () => {
    sampler.armed(performance.now());
    setTimeout(tick, sampler.intervalMs).unref();
  };
  const tick = () => {
    sampler.fired(performance.now());
    arm();
  };
  arm();
  shared = sampler;
  return sampler;
}
