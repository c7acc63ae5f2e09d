/**
 * Scenarios of restarts in small affinity groups (k much larger than sqrt(N)), where a group can lose every node
 * that held its state: a lone member restarting, every member of a group restarting at once, a rolling restart of
 * every node. The answer checker runs throughout; each restart is followed by a recovery check (every live owner's
 * tuple found again within the dissemination bound of the restarted nodes becoming ready).
 */
import type { ScenarioSpec } from '../scenario.js';
import { addr, membersOf, richestGroup, victims, whenReady } from './helpers.js';

export const RESTART_SCENARIOS: ScenarioSpec[] = [
  {
    name: 'small-groups',
    about: 'groups of 1 to 3 members (k = N/2) under light loss; two nodes crash and restart with their data',
    checksRecovery: true,
    plan: (d) => {
      const nodes = d.int('nodes', 12, 24);
      const downRounds = d.int('down_rounds', 2, 10);
      return {
        nodes,
        groups: Math.max(2, Math.round(nodes / 2)),
        filesPerNode: 3,
        faultLinks: { lossRate: d.num('loss', 0, 0.05) },
        faultMs: 40_000,
        program: (ctx) => {
          const vs = victims(ctx, 2);
          for (const v of vs) ctx.at(2000, () => ctx.faults.crash(v));
          ctx.at(2000 + downRounds * ctx.roundMs, () => {
            for (const v of vs) ctx.faults.restart(v);
            ctx.log(`restarted ${vs.map((v) => addr(ctx, v)).join(', ')}`);
            ctx.expectRecovery(vs, 'small-groups restart');
          });
        },
      };
    },
  },
  {
    name: 'lone-member-restart',
    about: 'the only member of a group is killed and restarted (higher incarnation, its published tuples kept)',
    checksRecovery: true,
    plan: (d) => {
      const nodes = d.int('nodes', 10, 16);
      const downRounds = d.int('down_rounds', 1, 10);
      return {
        nodes,
        groups: nodes,
        filesPerNode: 4,
        faultMs: 40_000,
        program: (ctx) =>
          ctx.at(2000, () => {
            // The lone member holding the most tuples of others; without a lone member, the smallest group's.
            let g = richestGroup(ctx, 1, 1);
            for (let size = 2; g < 0 && size <= ctx.cluster.size; size++) g = richestGroup(ctx, size, size);
            const [v] = membersOf(ctx, g);
            if (v === undefined) return;
            ctx.log(`group ${g} (${membersOf(ctx, g).length} member): killing ${addr(ctx, v)}`);
            ctx.faults.crash(v);
            ctx.cluster.at(ctx.cluster.now + downRounds * ctx.roundMs, () => {
              ctx.faults.restart(v);
              ctx.expectRecovery([v], `lone member ${addr(ctx, v)} restarted`);
            });
          }),
      };
    },
  },
  {
    name: 'group-restart-all',
    about: 'every member of a group (2 or 3 nodes) is killed and restarted at once, as in a power cut',
    checksRecovery: true,
    plan: (d) => {
      const nodes = d.int('nodes', 16, 24);
      const downRounds = d.int('down_rounds', 1, 8);
      return {
        nodes,
        groups: Math.round(nodes / 3),
        filesPerNode: 3,
        faultMs: 40_000,
        program: (ctx) =>
          ctx.at(2000, () => {
            let g = richestGroup(ctx, 2, 3);
            if (g < 0) g = richestGroup(ctx, 2, ctx.cluster.size);
            const ms = membersOf(ctx, g);
            ctx.log(`group ${g}: killing all ${ms.length} members ${ms.map((s) => addr(ctx, s)).join(', ')}`);
            for (const s of ms) ctx.faults.crash(s);
            ctx.cluster.at(ctx.cluster.now + downRounds * ctx.roundMs, () => {
              for (const s of ms) ctx.faults.restart(s);
              ctx.expectRecovery(ms, `group ${g} restarted`);
            });
          }),
      };
    },
  },
  {
    name: 'rolling-restart',
    about: 'every node in turn is killed and restarted; the next one goes when the last is ready (as a rollout does)',
    checksRecovery: true,
    plan: (d) => {
      const nodes = d.int('nodes', 9, 16);
      const downRounds = d.int('down_rounds', 1, 4);
      const gapRounds = d.int('gap_rounds', 1, 5);
      return {
        nodes,
        groups: Math.max(2, Math.round(nodes / 3)),
        filesPerNode: 3,
        faultMs: 150_000,
        program: (ctx) => {
          const order = victims(ctx, ctx.cluster.size);
          const step = (i: number): void => {
            const v = order[i];
            if (v === undefined) return;
            if (ctx.cluster.now > ctx.t0 + ctx.faultMs - 10_000) return ctx.log(`rolling restart stopped at ${i}/${order.length}: the fault phase ends`);
            ctx.faults.crash(v);
            ctx.cluster.at(ctx.cluster.now + downRounds * ctx.roundMs, () => {
              ctx.faults.restart(v);
              ctx.expectRecovery([v], `rolling restart ${i + 1}/${order.length} (${addr(ctx, v)})`);
              whenReady(ctx, [v], 3 * ctx.failMsMax, (now) => ctx.cluster.at(now + gapRounds * ctx.roundMs, () => step(i + 1)));
            });
          };
          ctx.at(2000, () => step(0));
        },
      };
    },
  },
];
