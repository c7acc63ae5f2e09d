/**
 * Scenarios of the network: loss, duplication, reordering, slow links, partitions (symmetric, asymmetric,
 * three-way) and isolation of one node.
 */
import type { ScenarioSpec } from '../scenario.js';
import { isolateOne, liveSlots, split, victims } from './helpers.js';

export const NETWORK_SCENARIOS: ScenarioSpec[] = [
  {
    name: 'baseline',
    about: 'small cluster, clean links, no faults: everything must simply work',
    plan: (d) => ({ nodes: d.int('nodes', 16, 24), faultMs: 20_000 }),
  },
  {
    name: 'loss',
    about: 'random datagram loss during the whole safety phase',
    plan: (d) => ({ nodes: d.int('nodes', 32, 64), faultLinks: { lossRate: d.num('loss', 0.05, 0.2) }, faultMs: 40_000 }),
  },
  {
    name: 'duplication',
    about: 'many datagrams delivered twice',
    plan: (d) => ({ nodes: d.int('nodes', 24, 48), faultLinks: { duplicateRate: d.num('dup', 0.2, 0.5) }, faultMs: 30_000 }),
  },
  {
    name: 'reorder',
    about: 'datagrams held back and overtaken',
    plan: (d) => ({
      nodes: d.int('nodes', 24, 48),
      faultLinks: { reorderRate: d.num('reorder', 0.2, 0.5), reorderDelayMs: d.int('reorder_ms', 20, 150) },
      faultMs: 30_000,
    }),
  },
  {
    name: 'slow-links',
    about: 'WAN-like delays with large jitter (near the request timeout)',
    plan: (d) => ({
      nodes: d.int('nodes', 24, 48),
      faultLinks: { delayMinMs: d.int('delay_min_ms', 10, 40), linkSpreadMs: d.int('spread_ms', 10, 40), jitterMs: d.int('jitter_ms', 20, 80) },
      faultMs: 30_000,
    }),
  },
  {
    name: 'mixed-links',
    about: 'loss, duplication, reordering and jitter at once',
    plan: (d) => ({
      nodes: d.int('nodes', 32, 64),
      faultLinks: {
        lossRate: d.num('loss', 0.02, 0.1),
        duplicateRate: d.num('dup', 0.05, 0.2),
        reorderRate: d.num('reorder', 0.05, 0.3),
        reorderDelayMs: d.int('reorder_ms', 5, 60),
        jitterMs: d.int('jitter_ms', 1, 20),
      },
      faultMs: 40_000,
    }),
  },
  {
    name: 'partition-symmetric',
    about: 'the cluster splits in two for longer than the fail timeout, then heals',
    plan: (d) => {
      const share = d.num('share', 0.3, 0.5);
      const holdFails = d.num('hold_fail_timeouts', 1.5, 3);
      return {
        nodes: d.int('nodes', 32, 64),
        faultMs: 60_000,
        program: (ctx) =>
          ctx.at(2000, () => {
            const side = split(ctx, share);
            ctx.faults.partition([side], true);
            ctx.log(`symmetric partition: ${side.length} nodes cut off`);
            ctx.at(2000 + holdFails * ctx.failMsMax, () => {
              ctx.faults.heal();
              ctx.log('partition healed');
            });
          }),
      };
    },
  },
  {
    name: 'partition-asymmetric',
    about: 'one side hears the other but cannot be heard, then heal',
    plan: (d) => {
      const share = d.num('share', 0.2, 0.5);
      const holdFails = d.num('hold_fail_timeouts', 1.2, 2.5);
      return {
        nodes: d.int('nodes', 32, 64),
        faultMs: 50_000,
        program: (ctx) =>
          ctx.at(2000, () => {
            const side = split(ctx, share);
            ctx.faults.partition([side], false);
            ctx.log(`asymmetric partition: ${side.length} nodes can hear but not be heard`);
            ctx.at(2000 + holdFails * ctx.failMsMax, () => ctx.faults.heal());
          }),
      };
    },
  },
  {
    name: 'partition-three-way',
    about: 'three sides, each cut from the others, then heal',
    plan: (d) => ({
      nodes: d.int('nodes', 48, 80),
      faultMs: 50_000,
      program: (ctx) =>
        ctx.at(1000, () => {
          const a = split(ctx, 0.33);
          const set = new Set(a);
          const rest = liveSlots(ctx).filter((s) => !set.has(s));
          const b = rest.slice(0, Math.floor(rest.length / 2));
          ctx.faults.partition([a, b], true);
          ctx.log(`three-way partition: ${a.length}/${b.length}/${rest.length - b.length}`);
          ctx.at(1000 + 2 * ctx.failMsMax, () => ctx.faults.heal());
        }),
    }),
  },
  {
    name: 'isolate-long',
    about: 'one node is cut off for longer than the fail timeout, then returns',
    plan: (d) => {
      const holdFails = d.num('hold_fail_timeouts', 1.5, 3);
      return {
        nodes: d.int('nodes', 16, 40),
        faultMs: 45_000,
        program: (ctx) => isolateOne(ctx, holdFails * ctx.failMsMax),
      };
    },
  },
  {
    name: 'isolate-short',
    about: 'one node is cut off for less than the suspect timeout',
    plan: (d) => {
      const frac = d.num('hold_suspect_timeouts', 0.2, 0.8);
      return {
        nodes: d.int('nodes', 16, 40),
        faultMs: 25_000,
        program: (ctx) => isolateOne(ctx, frac * ctx.suspectMsMin),
      };
    },
  },
  {
    name: 'isolate-flapping',
    about: 'one node repeatedly cut off and reconnected',
    plan: (d) => {
      const cycles = d.int('cycles', 3, 6);
      return {
        nodes: d.int('nodes', 16, 32),
        faultMs: 50_000,
        program: (ctx) => {
          const [v] = victims(ctx, 1);
          if (v === undefined) return;
          const period = ctx.failMsMax;
          for (let i = 0; i < cycles; i++) {
            ctx.at(1000 + i * period, () => ctx.faults.isolate(v));
            ctx.at(1000 + i * period + ctx.faults.rng.next() * period * 0.9, () => ctx.faults.heal());
          }
        },
      };
    },
  },
];
