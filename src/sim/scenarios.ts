/**
 * The catalogue of named scenarios. Each draws its sizes, link faults and fault timings from the seed; the runner
 * (scenario.ts) supplies the phases and checkers. Timings are expressed in fail/suspect timeouts and gossip rounds so
 * they keep their meaning under any preset.
 */
import { SlotState } from './cluster.js';
import type { PhaseContext, ScenarioSpec } from './scenario.js';

function liveSlots(ctx: PhaseContext): number[] {
  const out: number[] = [];
  for (let i = 0; i < ctx.cluster.size; i++) if (ctx.cluster.state[i] === SlotState.Running) out.push(i);
  return out;
}

/** `count` random live slots, chosen with the faults generator (deterministic per seed). */
function victims(ctx: PhaseContext, count: number): number[] {
  return ctx.faults.pickLive(count);
}

/** Split the live slots in two random halves-ish: `share` of them go to the new side. */
function split(ctx: PhaseContext, share: number): number[] {
  const live = liveSlots(ctx);
  return ctx.faults.pickLive(Math.max(1, Math.round(live.length * share)));
}

const addr = (ctx: PhaseContext, s: number): string => ctx.cluster.addrs[s] as string;

export const SCENARIOS: ScenarioSpec[] = [
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
        program: (ctx) =>
          ctx.at(1000, () => {
            const [v] = victims(ctx, 1);
            if (v === undefined) return;
            ctx.faults.isolate(v);
            ctx.log(`isolated ${addr(ctx, v)}`);
            ctx.at(1000 + holdFails * ctx.failMsMax, () => ctx.faults.heal());
          }),
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
        program: (ctx) =>
          ctx.at(1000, () => {
            const [v] = victims(ctx, 1);
            if (v === undefined) return;
            ctx.faults.isolate(v);
            ctx.at(1000 + frac * ctx.suspectMsMin, () => ctx.faults.heal());
          }),
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
  {
    name: 'crash',
    about: 'a tenth of the nodes crash and stay down',
    plan: (d) => {
      const share = d.num('crash_share', 0.05, 0.15);
      return {
        nodes: d.int('nodes', 32, 64),
        faultMs: 40_000,
        program: (ctx) => {
          const vs = victims(ctx, Math.max(1, Math.round(share * ctx.cluster.size)));
          vs.forEach((v, i) => ctx.at(1000 + i * 500, () => ctx.faults.crash(v)));
        },
      };
    },
  },
  {
    name: 'crash-restart',
    about: 'nodes crash and restart after more than the fail timeout, higher incarnation, tuples from disk',
    plan: (d) => {
      const count = d.int('crashes', 2, 5);
      const downFails = d.num('down_fail_timeouts', 1.2, 2.5);
      return {
        nodes: d.int('nodes', 24, 48),
        faultMs: 50_000,
        program: (ctx) => {
          for (const v of victims(ctx, count)) {
            ctx.at(1000, () => ctx.faults.crash(v));
            ctx.at(1000 + downFails * ctx.failMsMax, () => ctx.faults.restart(v));
          }
        },
      };
    },
  },
  {
    name: 'crash-restart-fast',
    about: 'nodes crash and restart before anyone suspects them: the new incarnation must replace the old',
    plan: (d) => {
      const count = d.int('crashes', 2, 5);
      const downRounds = d.int('down_rounds', 1, 3);
      return {
        nodes: d.int('nodes', 24, 48),
        faultMs: 30_000,
        program: (ctx) => {
          for (const v of victims(ctx, count)) {
            ctx.at(1000, () => ctx.faults.crash(v));
            ctx.at(1000 + downRounds * ctx.roundMs, () => ctx.faults.restart(v));
          }
        },
      };
    },
  },
  {
    name: 'pause-long',
    about: 'processes stop (SIGSTOP) for longer than the fail timeout, then continue with stale state',
    plan: (d) => {
      const count = d.int('paused', 1, 4);
      const holdFails = d.num('pause_fail_timeouts', 1.5, 3);
      return {
        nodes: d.int('nodes', 24, 48),
        faultMs: 50_000,
        program: (ctx) => {
          for (const v of victims(ctx, count)) ctx.at(1000, () => ctx.faults.pauseFor(v, holdFails * ctx.failMsMax));
        },
      };
    },
  },
  {
    name: 'pause-short',
    about: 'processes stop for less than the fail timeout: they may be suspected, never removed',
    plan: (d) => {
      const count = d.int('paused', 1, 4);
      const frac = d.num('pause_fail_timeouts', 0.2, 0.6);
      return {
        nodes: d.int('nodes', 24, 48),
        faultMs: 30_000,
        program: (ctx) => {
          for (const v of victims(ctx, count)) ctx.at(1000, () => ctx.faults.pauseFor(v, frac * ctx.failMsMin));
        },
      };
    },
  },
  {
    name: 'churn',
    about: 'nodes replaced continuously (leaves and crashes), newcomers join through random seeds',
    plan: (d) => {
      const perHour = d.num('churn_per_hour', 20, 40, 1);
      return {
        nodes: d.int('nodes', 32, 64),
        faultMs: 60_000,
        program: (ctx) => {
          ctx.faults.onReplace = (_old, newcomer) => {
            ctx.cluster.at(ctx.cluster.now + 5 * ctx.roundMs, () => {
              if (ctx.cluster.isLive(newcomer)) ctx.cluster.publish(newcomer, `churn/${newcomer}.bin`, `nfs://host-${newcomer}.sim/churn`);
            });
          };
          ctx.faults.startChurn({ perHour, population: ctx.cluster.size, leaveShare: 0.5, start: ctx.t0, end: ctx.t0 + ctx.faultMs, seedsPerJoin: 3 });
        },
      };
    },
  },
  {
    name: 'churn-lossy',
    about: 'churn while 5-10% of datagrams are lost',
    plan: (d) => {
      const perHour = d.num('churn_per_hour', 10, 30, 1);
      return {
        nodes: d.int('nodes', 32, 64),
        faultLinks: { lossRate: d.num('loss', 0.05, 0.1) },
        faultMs: 60_000,
        program: (ctx) =>
          ctx.faults.startChurn({ perHour, population: ctx.cluster.size, leaveShare: 0.5, start: ctx.t0, end: ctx.t0 + ctx.faultMs, seedsPerJoin: 3 }),
      };
    },
  },
  {
    name: 'graceful-leave',
    about: 'a few nodes leave gracefully: removed at once, never declared failed',
    plan: (d) => {
      const count = d.int('leaves', 2, 6);
      return {
        nodes: d.int('nodes', 24, 48),
        faultMs: 20_000,
        program: (ctx) => {
          victims(ctx, count).forEach((v, i) => ctx.at(1000 + i * 700, () => ctx.faults.leave(v)));
        },
      };
    },
  },
  {
    name: 'leave-rejoin',
    about: 'nodes leave gracefully and come back on the same address with a higher incarnation',
    plan: (d) => {
      const count = d.int('leaves', 1, 4);
      const awayRounds = d.int('away_rounds', 2, 40);
      return {
        nodes: d.int('nodes', 24, 48),
        faultMs: 30_000,
        program: (ctx) => {
          for (const v of victims(ctx, count)) {
            ctx.at(1000, () => ctx.faults.leave(v));
            ctx.at(1000 + awayRounds * ctx.roundMs, () => ctx.faults.restart(v));
          }
        },
      };
    },
  },
  {
    name: 'join-storm',
    about: 'the cluster triples within a few rounds, all newcomers joining through random seeds',
    plan: (d) => {
      const extra = d.int('newcomers', 48, 96);
      const spreadRounds = d.int('spread_rounds', 1, 5);
      return {
        nodes: d.int('nodes', 24, 32),
        groups: d.int('groups', 6, 10),
        faultMs: 40_000,
        program: (ctx) => {
          for (let i = 0; i < extra; i++) {
            ctx.at(1000 + (i / extra) * spreadRounds * ctx.roundMs, () => {
              const s = ctx.cluster.addNode(ctx.faults.pickLive(3));
              ctx.cluster.at(ctx.cluster.now + 10 * ctx.roundMs, () => {
                if (ctx.cluster.isLive(s)) ctx.cluster.publish(s, `storm/${s}.dat`, `nfs://host-${s}.sim/storm`);
              });
            });
          }
        },
      };
    },
  },
  {
    name: 'unpublish',
    about: 'owners unpublish some of their names under loss: tombstones must win everywhere',
    plan: (d) => ({
      nodes: d.int('nodes', 24, 48),
      faultLinks: { lossRate: d.num('loss', 0, 0.1) },
      faultMs: 30_000,
      program: (ctx) => {
        for (const v of victims(ctx, Math.ceil(ctx.cluster.size / 4)))
          ctx.at(1000 + ctx.faults.rng.next() * 5000, () => {
            if (ctx.cluster.isLive(v)) ctx.cluster.unpublish(v, `datasets/shard-${v.toString(36)}/part-00000.parquet`);
          });
      },
    }),
  },
  {
    name: 'medium-mixed',
    about: '200 nodes: loss, a partition, crashes, pauses and churn together',
    plan: (d) => {
      const loss = d.num('loss', 0.01, 0.05);
      const perHour = d.num('churn_per_hour', 5, 15, 1);
      return {
        nodes: d.int('nodes', 150, 200),
        filesPerNode: 2,
        faultLinks: { lossRate: loss, jitterMs: 5 },
        faultMs: 40_000,
        livenessLookups: 300,
        program: (ctx) => {
          ctx.faults.startChurn({ perHour, population: ctx.cluster.size, leaveShare: 0.5, start: ctx.t0, end: ctx.t0 + ctx.faultMs, seedsPerJoin: 3 });
          ctx.at(1000, () => {
            for (const v of victims(ctx, 3)) ctx.faults.crash(v);
            for (const v of victims(ctx, 3)) ctx.faults.pauseFor(v, 0.5 * ctx.failMsMin);
          });
          ctx.at(3000, () => ctx.faults.partition([split(ctx, 0.1)], true));
          ctx.at(3000 + 1.5 * ctx.failMsMax, () => ctx.faults.heal());
        },
      };
    },
  },
  {
    name: 'big-groups',
    about: 'affinity groups of about 100 members (few groups): heartbeats must reach everyone within the fail timeout',
    plan: (d) => ({
      nodes: d.int('nodes', 150, 180),
      groups: 2,
      faultLinks: { lossRate: d.num('loss', 0, 0.02) },
      faultMs: 40_000,
      livenessLookups: 200,
    }),
  },
  {
    name: 'lan-preset',
    about: 'the production LAN preset (1 s rounds) with loss and two crashes',
    plan: (d) => ({
      nodes: d.int('nodes', 40, 64),
      preset: 'lan',
      faultLinks: { lossRate: d.num('loss', 0.02, 0.1) },
      faultMs: 90_000,
      program: (ctx) => {
        for (const v of victims(ctx, 2)) ctx.at(5000, () => ctx.faults.crash(v));
      },
    }),
  },
];

export function findScenario(name: string): ScenarioSpec | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
