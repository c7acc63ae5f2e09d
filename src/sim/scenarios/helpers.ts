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

/** Live slots of affinity group `g`. */
export function membersOf(ctx: PhaseContext, g: number): number[] {
  return liveSlots(ctx).filter((s) => ctx.cluster.group[s] === g);
}

/**
 * Tuples a slot holds for other owners: what its group would lose if it forgot them. (Counts the running node's
 * store; the node's own published tuples are left out.)
 */
export function foreignTuplesHeld(ctx: PhaseContext, slot: number): number {
  const c = ctx.cluster;
  const n = c.nodes[slot];
  if (!n) return 0;
  const me = c.addrs[slot] as string;
  let k = 0;
  for (const t of n.tuples(c.now)) if (t.owner !== me && !t.deleted) k++;
  return k;
}

/**
 * The group (with a live member count in [minSize, maxSize]) whose members hold the most tuples of other owners;
 * ties go to the lowest group number. -1 if no group fits.
 */
export function richestGroup(ctx: PhaseContext, minSize: number, maxSize: number): number {
  let best = -1;
  let bestHeld = -1;
  for (let g = 0; g < ctx.cluster.config.groups; g++) {
    const ms = membersOf(ctx, g);
    if (ms.length < minSize || ms.length > maxSize) continue;
    const held = Math.max(0, ...ms.map((s) => foreignTuplesHeld(ctx, s)));
    if (held > bestHeld) {
      best = g;
      bestHeld = held;
    }
  }
  return best;
}

/**
 * Call `fn` once every slot of `slots` runs and is ready (joined and synced), polled once a gossip round; after
 * `limitMs` without that, call it anyway (the recovery check that follows reports the slots that are not ready).
 */
export function whenReady(ctx: PhaseContext, slots: readonly number[], limitMs: number, fn: (now: number) => void): void {
  const c = ctx.cluster;
  const giveUpAt = c.now + limitMs;
  const poll = (now: number): void => {
    const ready = slots.every((s) => {
      const n = c.nodes[s];
      return c.state[s] === SlotState.Running && n !== null && n !== undefined && n.joined && n.synced;
    });
    if (ready || now >= giveUpAt) fn(now);
    else c.at(now + ctx.roundMs, poll);
  };
  c.at(c.now + ctx.roundMs, poll);
}
