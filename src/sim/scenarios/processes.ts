/**
 * Scenarios of processes and membership: crashes, restarts, pauses, churn, graceful leaves, join storms, unpublish,
 * big groups, a mixed medium cluster and the production LAN preset.
 */
import type { ScenarioSpec } from '../scenario.js';
import { split, stopThenRestart, victims } from './helpers.js';

export const PROCESS_SCENARIOS: ScenarioSpec[] = [
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
        program: (ctx) => stopThenRestart(ctx, count, (v) => ctx.faults.crash(v), downFails * ctx.failMsMax),
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
        program: (ctx) => stopThenRestart(ctx, count, (v) => ctx.faults.crash(v), downRounds * ctx.roundMs),
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
        program: (ctx) => stopThenRestart(ctx, count, (v) => ctx.faults.leave(v), awayRounds * ctx.roundMs),
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
