/**
 * Metrics about answers, apart from the traffic and membership ones in metrics.ts: the canaries (lookups whose right
 * answer is known: src/agent/canary.ts) and this node's authority (whether its "not found" is a promise:
 * src/core/join.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CANARY_RESULTS, PROPAGATION_BUCKETS_S, type CanaryResult, type CanarySink } from './canary.js';

/** What the authority block reads at scrape time (src/core/join.ts explains holding and recovering the state). */
export interface AuthoritySource {
  synced: boolean;
  recovering: boolean;
  /** CoreCounters.notReadyAnswers */
  notReadyAnswers: number;
  /** CoreCounters.groupResets */
  groupResets: number;
}

/** kelips_canary_lookups_total and kelips_propagation_delay_seconds, fed by the canary. */
export class CanaryMetrics implements CanarySink {
  private readonly lookups: Counter<'result'>;
  private readonly propagation: Histogram;

  constructor(registers: Registry[]) {
    this.lookups = new Counter({
      name: 'kelips_canary_lookups_total',
      help: 'Canary lookups of another node\'s beacon, by result: found (at the right location), wrong_not_found (a settled beacon answered not found), wrong_location, unavailable.',
      labelNames: ['result'],
      registers,
    });
    for (const result of CANARY_RESULTS) this.lookups.inc({ result }, 0);
    this.propagation = new Histogram({
      name: 'kelips_propagation_delay_seconds',
      help: 'Time from a node publishing a new pulse version (kelips.beacon/pulse/<node>, every 60 gossip rounds; its wall clock) to this node storing it (this node\'s wall clock).',
      buckets: PROPAGATION_BUCKETS_S,
      registers,
    });
  }

  canaryResult(result: CanaryResult): void {
    this.lookups.inc({ result });
  }

  propagationDelay(seconds: number): void {
    this.propagation.observe(seconds);
  }
}

/**
 * Authority: whether this node's "not found" is a promise (it holds its group's state), whether it is recovering
 * that state after its group lost it, and what that cost: lookups it could not answer, resets it acted on.
 */
export function registerAuthorityMetrics(registers: Registry[], src: { authority(): AuthoritySource }): void {
  new Gauge({
    name: 'kelips_node_holds_group_state',
    help: '1 when this node holds its affinity group\'s state (founder, pulled from a member that held it, or recovered), so its "not found" is a promise; else 0.',
    registers,
    collect() {
      this.set(src.authority().synced ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kelips_node_recovering',
    help: '1 while this node waits for owners to re-publish into its group, which no member held the state of; else 0.',
    registers,
    collect() {
      this.set(src.authority().recovering ? 1 : 0);
    },
  });
  new Counter({
    name: 'kelips_lookup_not_ready_answers_total',
    help: 'Lookups from other nodes this node answered "not ready" (no copy, and not holding its group\'s state): the asker tried another member.',
    registers,
    collect() {
      this.reset();
      this.inc(src.authority().notReadyAnswers);
    },
  });
  new Counter({
    name: 'kelips_group_resets_total',
    help: 'Group resets this node acted on: a group lost its state and this node re-published what it owns there.',
    registers,
    collect() {
      this.reset();
      this.inc(src.authority().groupResets);
    },
  });
}
