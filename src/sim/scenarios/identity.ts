/**
 * Scenarios of node identity, for cores where a node is its stable name (the address an attribute that may change
 * at restart) and a running node can be asked to join another cluster. They need those core features
 * (`needs`) and are skipped where the core lacks them: `coreSupports` looks for them on KelipsNode.
 *
 * Assumed API: NodeOptions `name` (the simulator passes the slot's first address as its name, see Cluster
 * `namedNodes`), a `name` getter on KelipsNode, and `node.join(seeds: Address[], now)`.
 */
import { KelipsNode } from '../../core/node.js';
import type { Address } from '../../core/types.js';
import type { ScenarioSpec } from '../scenario.js';
import { addr, liveSlots, victims } from './helpers.js';

/** Does the protocol core have what a scenario `needs`? */
export function coreSupports(need: NonNullable<ScenarioSpec['needs']>): boolean {
  const proto = KelipsNode.prototype as unknown as Record<string, unknown>;
  if (need === 'core-join') return typeof proto['join'] === 'function';
  return Object.getOwnPropertyDescriptor(KelipsNode.prototype, 'name')?.get !== undefined;
}

interface Joinable {
  join(seeds: Address[], now: number): void;
}

export const IDENTITY_SCENARIOS: ScenarioSpec[] = [
  {
    name: 'address-change',
    about: 'nodes restart under the same name with a new address (a rescheduled pod): the old entry is replaced',
    needs: 'core-identity',
    checksRecovery: true,
    plan: (d) => {
      const nodes = d.int('nodes', 16, 24);
      const count = d.int('moved', 1, 4);
      const downRounds = d.int('down_rounds', 1, 10);
      return {
        nodes,
        groups: Math.max(2, Math.round(nodes / 3)),
        filesPerNode: 3,
        namedNodes: true,
        faultMs: 40_000,
        program: (ctx) =>
          ctx.at(2000, () => {
            const vs = victims(ctx, count);
            for (const v of vs) ctx.faults.crash(v);
            ctx.cluster.at(ctx.cluster.now + downRounds * ctx.roundMs, () => {
              for (const v of vs) {
                const old = addr(ctx, v);
                ctx.cluster.move(v);
                ctx.faults.restart(v);
                ctx.log(`${ctx.cluster.names[v]} came back at ${addr(ctx, v)} (was ${old})`);
              }
              ctx.expectRecovery(vs, 'moved nodes restarted');
            });
          }),
      };
    },
  },
  {
    name: 'join-merge',
    about: 'two clusters started apart (same name and k) are merged by asking one node to join the other',
    needs: 'core-join',
    checksRecovery: true,
    plan: (d) => {
      const nodes = d.int('nodes', 16, 32);
      return {
        nodes,
        clusters: 2,
        namedNodes: true,
        // Before the merge a lookup across the two clusters rightly finds nothing: no background lookups.
        lookupsPerS: 0,
        faultMs: 40_000,
        program: (ctx) =>
          ctx.at(1000, () => {
            const live = liveSlots(ctx);
            const a = live.filter((s) => s % 2 === 0);
            const b = live.filter((s) => s % 2 === 1);
            const asked = b[0];
            if (asked === undefined) return;
            const seeds = a.slice(0, 3).map((s) => addr(ctx, s));
            ctx.log(`asking ${addr(ctx, asked)} (cluster of ${b.length}) to join ${seeds.join(', ')} (cluster of ${a.length})`);
            ctx.cluster.command(asked, (n, now) => (n as unknown as Joinable).join(seeds, now));
            // From here each group's halves must merge: tuples of both sides settle anew once views had a fail
            // timeout and two anti-entropy rounds to merge.
            const mergeMs = ctx.failMsMax + 2 * ctx.cluster.config.antiEntropyIntervalMs;
            ctx.answers.restartClocks(ctx.cluster.now + mergeMs);
            ctx.cluster.at(ctx.cluster.now + mergeMs, () => ctx.expectRecovery(liveSlots(ctx), 'clusters merged'));
          }),
      };
    },
  },
];
