/**
 * Recovery checks (`PhaseContext.expectRecovery`): after a step that restarted nodes, once they are all running and
 * ready (joined and synced), every live owner's tuple must be found again within the dissemination bound of the
 * largest group. A slot not ready within 3 fail timeouts is a `not-ready` violation, a lookup that does not find a
 * present tuple a `not-found-after-ready` one, and a check the run ended before is `recovery-unfinished`.
 */
import type { SeededRng } from '../core/rng.js';
import { disseminationBoundRounds } from './answer-checker.js';
import type { Violations } from './checkers.js';
import { SlotState, type Cluster } from './cluster.js';
import { LookupProbe } from './liveness.js';
import { answerable, groupSizes } from './scenario.js';

/** The recovery checks of `PhaseContext.expectRecovery`. */
export class Recovery {
  checks = 0;
  issued = 0;
  answered = 0;
  /** Simulated time until which a started check may still add violations. */
  busyUntil = 0;
  private readonly probes: LookupProbe[] = [];
  private readonly waiting = new Set<string>();

  constructor(
    private readonly c: Cluster,
    private readonly v: Violations,
    /** Fail timeout of the largest group (the readiness limit is 3 of them). */
    private readonly failMsMax: number,
    private readonly log: (line: string) => void,
    private readonly rng: SeededRng,
  ) {}

  expect(slots: readonly number[], label: string): void {
    const c = this.c;
    const round = c.config.gossipIntervalMs;
    const giveUpAt = c.now + 3 * this.failMsMax;
    this.waiting.add(label);
    this.busyUntil = Math.max(this.busyUntil, giveUpAt + round);
    const poll = (now: number): void => {
      const notReady = slots.filter((s) => {
        const n = c.nodes[s];
        return c.state[s] !== SlotState.Running || !n || !n.joined || !n.synced;
      });
      if (notReady.length > 0) {
        if (now < giveUpAt) return c.at(now + round, poll);
        this.waiting.delete(label);
        this.v.add('not-ready', now, label, `${notReady.length} of ${slots.length} slots not running, joined and synced within ${(3 * this.failMsMax) / 1000} s (3 fail timeouts), e.g. ${c.addrs[notReady[0] as number]}`);
        return;
      }
      const bound = disseminationBoundRounds(Math.max(...groupSizes(c)));
      this.log(`${label}: ${slots.length} slots ready; every live owner's tuple must be found ${bound} rounds from now`);
      c.at(now + bound * round, () => this.probe(label));
    };
    c.at(c.now + round, poll);
  }

  private probe(label: string): void {
    const c = this.c;
    this.waiting.delete(label);
    this.checks++;
    const p = new LookupProbe(c, this.v, this.rng, 'not-found-after-ready');
    c.observers.push(p);
    this.probes.push(p);
    // Names of groups that can answer now: the next step of a rolling restart may already have taken down the only
    // member of another group, whose names are then honestly unavailable (the answer checker still judges them).
    p.start(400, answerable(c));
    this.busyUntil = Math.max(this.busyUntil, c.now + c.config.lookupDeadlineMs + 2 * c.config.gossipIntervalMs);
  }

  /** Count the answers; a lookup still unanswered, or a check still waiting, is a violation. */
  finish(now: number): void {
    for (const p of this.probes) {
      p.finish(now);
      this.issued += p.issued;
      this.answered += p.answered;
      const i = this.c.observers.indexOf(p);
      if (i >= 0) this.c.observers.splice(i, 1);
    }
    this.probes.length = 0;
    for (const label of this.waiting) this.v.add('recovery-unfinished', now, label, 'the run ended before the recovery check ran');
    this.waiting.clear();
  }
}
