import { randInt, type SeededRng } from '../core/rng.js';
import { SlotState, type Cluster } from './cluster.js';

/**
 * Lookups of random live owners' names from random running nodes, for the answer checker to judge (their answers
 * are judged there, not here). Every choice comes from the seed and the slots' lifecycle.
 */
export class BackgroundLookups {
  constructor(
    private readonly c: Cluster,
    private readonly rng: SeededRng,
  ) {}

  issue(): void {
    const c = this.c;
    for (let tries = 0; tries < 20; tries++) {
      const owner = randInt(this.rng, c.size);
      const asker = randInt(this.rng, c.size);
      if (c.state[owner] !== SlotState.Running || c.state[asker] !== SlotState.Running) continue;
      const mine = c.node(owner).publishedTuples().filter((t) => !t.deleted);
      const t = mine[randInt(this.rng, Math.max(1, mine.length))];
      if (t === undefined) continue;
      c.lookup(asker, t.name);
      return;
    }
  }
}
