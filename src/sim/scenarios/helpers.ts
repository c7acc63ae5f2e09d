/**
 * Helpers the scenario catalogues share: choosing victims and sides with the faults generator (so choices are a
 * function of the seed).
 */
import { SlotState } from '../cluster.js';
import type { PhaseContext } from '../scenario.js';

export function liveSlots(ctx: PhaseContext): number[] {
  const out: number[] = [];
  for (let i = 0; i < ctx.cluster.size; i++) if (ctx.cluster.state[i] === SlotState.Running) out.push(i);
  return out;
}

/** `count` random live slots, chosen with the faults generator (deterministic per seed). */
export function victims(ctx: PhaseContext, count: number): number[] {
  return ctx.faults.pickLive(count);
}

/** A random `share` of the live slots (at least one): the nodes that go to a new side of a partition. */
export function split(ctx: PhaseContext, share: number): number[] {
  const live = liveSlots(ctx);
  return ctx.faults.pickLive(Math.max(1, Math.round(live.length * share)));
}

export const addr = (ctx: PhaseContext, s: number): string => ctx.cluster.addrs[s] as string;

/** At 1 s, stop `count` victims (`stop`: crash or leave); each restarts, higher incarnation, `downMs` later. */
export function stopThenRestart(ctx: PhaseContext, count: number, stop: (slot: number) => void, downMs: number): void {
  for (const v of victims(ctx, count)) {
    ctx.at(1000, () => stop(v));
    ctx.at(1000 + downMs, () => ctx.faults.restart(v));
  }
}

/** At 1 s, cut one random node off from everyone; heal `holdMs` later. */
export function isolateOne(ctx: PhaseContext, holdMs: number): void {
  ctx.at(1000, () => {
    const [v] = victims(ctx, 1);
    if (v === undefined) return;
    ctx.faults.isolate(v);
    ctx.log(`isolated ${addr(ctx, v)}`);
    ctx.at(1000 + holdMs, () => ctx.faults.heal());
  });
}
