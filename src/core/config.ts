/**
 * Protocol configuration: every knob of the core, with its unit and the reasoning behind its default.
 * Presets start from DEFAULTS and override a few fields. `resolveConfig` validates once (errors name the field)
 * and returns a frozen object; nothing changes it afterwards.
 *
 * Timeouts that depend on the size of the affinity group G are formulas, evaluated with the node's current view
 * size (see `timeouts`). L(G) = ceil(log2(G + 1)) is the number of gossip rounds an epidemic needs to double its
 * way through G members; every G-dependent timeout is a multiple of L(G) rounds.
 */
import { KelipsError } from './errors.js';

/**
 * The protocol's configuration. Every field is documented once, in FIELD_DOCS below: what it does, its unit and the
 * reasoning behind its default. `kelips --help` and docs/AGENT.md show the same text.
 */
export interface KelipsConfig {
  cluster: string;
  groups: number;
  contactsPerGroup: number;
  candidatesPerGroup: number;

  gossipIntervalMs: number;
  gossipFanout: number;
  datagramBytesMax: number;
  retransmitMult: number;
  heartbeatMult: number;
  foreignPerGossip: number;
  crossGroupEntries: number;
  memberRttEvery: number;

  suspectMult: number;
  failMult: number;
  tombstoneMs: number;
  stallRounds: number;

  antiEntropyIntervalMs: number;
  syncBuckets: number;
  contactMissesMax: number;
  candidateProbeEvery: number;
  contactRttImprovement: number;

  filetupleTtlMs: number;
  filetupleRefreshMs: number;

  requestTimeoutMs: number;
  lookupDeadlineMs: number;
  contactRequestTtl: number;
  joinRetryMs: number;
  joinRetryMaxMs: number;

  // Limits: every table and queue has one, and what does not fit is dropped and counted.
  viewMax: number;
  tombstonesMax: number;
  filetuplesMax: number;
  locationsPerNameMax: number;
  publishedMax: number;
  broadcastQueueMax: number;
  pendingMax: number;
  nameLengthMax: number;
}

/** One field's documentation. */
export interface FieldDoc {
  /** What the field does, in one line (the meaning column of `kelips --help` and docs/AGENT.md). */
  readonly help: string;
  /** Unit of the value; absent for counts, multipliers and names. */
  readonly unit?: 'ms' | 'bytes';
  /** Why the default is what it is: the formula or the measurement behind it. */
  readonly why?: string;
}

/** The documentation of every field (G is the view's size but at least k, L(G) = ceil(log2(G + 1)); see `timeouts`). */
export const FIELD_DOCS: { readonly [K in keyof KelipsConfig]: FieldDoc } = Object.freeze({
  cluster: {
    help: 'cluster name; must match on every node',
    why: 'Every datagram carries it; datagrams of another cluster are dropped. 1 to 64 characters.',
  },
  groups: {
    help: 'affinity groups k; must match on every node (~sqrt(N), see kelips-ctl plan)',
    why: 'Kelips prescribes k of about sqrt(N): groups of about sqrt(N) members, O(sqrt N) state per node.',
  },
  contactsPerGroup: { help: 'contacts kept per foreign group (c)', why: '2: one can fail while the other answers.' },
  candidatesPerGroup: {
    help: 'spare known nodes per foreign group',
    why: 'Spares replace a failed contact without asking anyone.',
  },
  gossipIntervalMs: {
    help: 'one gossip round',
    unit: 'ms',
    why: '1000: a 2 kB/s per-node budget at 1400-byte datagrams, failure detection in tens of seconds.',
  },
  gossipFanout: {
    help: 'in-group members each gossip datagram goes to',
    why: '2: an epidemic triples per round (log3 G rounds).',
  },
  datagramBytesMax: {
    help: 'largest datagram built',
    unit: 'bytes',
    why: '1400: below a 1500-byte Ethernet MTU with IP and UDP headers.',
  },
  retransmitMult: {
    help: 'news is forwarded retransmit-mult x L(G) times',
    why: 'Each piece of news (tuple, departure) is sent retransmitMult * L(G) times by every node that learns it.',
  },
  heartbeatMult: {
    help: 'heartbeats per datagram = heartbeat-mult x L(G)',
    why:
      'Half the freshest, half random: per-node traffic grows only with log G. An observer must hear of every member ' +
      'at least once per fail timeout; at G = 100 an observer receives ~2 x 21 entries a round, so a member goes ' +
      'unmentioned for the 42-round fail timeout with negligible probability. 2 gave false removals at G = 100 in ' +
      'the simulator (none at G = 31); 3 gave none.',
  },
  foreignPerGossip: {
    help: 'contact candidates per in-group datagram',
    why: '2: enough to keep spare candidates fresh.',
  },
  crossGroupEntries: {
    help: 'own-group entries sent to a contact',
    why: 'Sent in cross-group gossip and in its ack: 4 candidates for the other group.',
  },
  memberRttEvery: {
    help: 'in-group gossip asks for acks (member RTTs) every this many rounds (0 = never)',
    why: '4: RTTs stay current at a quarter of the ack traffic (acks are not needed for liveness: heartbeats are).',
  },
  suspectMult: {
    help: 'a member silent for suspect-mult x L(G) rounds is suspect',
    why: 'A suspect is shown, not used as a target for new work, and asked directly until it is removed.',
  },
  failMult: {
    help: 'a member silent for fail-mult x L(G) rounds is removed',
    why: 'Must be greater than suspectMult: a member is suspect before it is removed.',
  },
  tombstoneMs: {
    help: 'how long a removed member is remembered',
    unit: 'ms',
    why: 'Long enough that late gossip cannot resurrect a removed member.',
  },
  stallRounds: {
    help: 'a tick this many rounds late means this process was paused: nobody is blamed for it',
    why: 'After a pause every member looks silent; forgiving the pause avoids removing everyone.',
  },
  antiEntropyIntervalMs: {
    help: 'anti-entropy with one member this often',
    unit: 'ms',
    why:
      '5 rounds: repairs what gossip lost or delayed (a publishing burst beyond the gossip budget) within ~5 s; ' +
      'when nothing differs it costs one ~350-byte digest and a ~50-byte answer, about 80 B/s per node.',
  },
  syncBuckets: {
    help: 'tuple buckets in an anti-entropy digest',
    why: '64 buckets x 5 bytes fit one datagram with room to spare.',
  },
  contactMissesMax: { help: 'unanswered requests before a contact is replaced' },
  candidateProbeEvery: {
    help: 'probe a spare candidate every this many rounds (0 = never)',
    why: 'Probing a random candidate instead of the stalest contact learns RTTs of the spares.',
  },
  contactRttImprovement: { help: 'a candidate replaces a contact below this fraction of its RTT' },
  filetupleTtlMs: {
    help: 'lifetime of a filetuple unless its owner refreshes it',
    unit: 'ms',
    why: '1 h: soft state survives a 20-minute outage.',
  },
  filetupleRefreshMs: {
    help: 'owners refresh their tuples this often',
    unit: 'ms',
    why: 'TTL / 3: two refreshes may be lost.',
  },
  requestTimeoutMs: {
    help: 'wait for one lookup or publish attempt',
    unit: 'ms',
    why: 'Then the next node is tried.',
  },
  lookupDeadlineMs: { help: 'a lookup nobody answered by then is "unavailable"', unit: 'ms' },
  contactRequestTtl: { help: 'forwarding budget of "who is in group G?" requests' },
  joinRetryMs: {
    help: 'first wait between join attempts; it doubles after each round of all seeds that went unanswered',
    unit: 'ms',
  },
  joinRetryMaxMs: {
    help:
      'longest wait between join attempts; a node given seeds keeps trying (and re-resolving their names) for ever ' +
      'and never founds a cluster of its own',
    unit: 'ms',
    why:
      '30 s: a node started before its seeds (a whole cluster booting) joins within 30 s of the first seed coming ' +
      'up, at one datagram per 30 s per waiting node.',
  },
  viewMax: { help: 'limit: members in the affinity group view' },
  tombstonesMax: { help: 'limit: tombstones kept' },
  filetuplesMax: { help: 'limit: filetuples stored' },
  locationsPerNameMax: { help: 'limit: locations (owners) per filename' },
  publishedMax: { help: 'limit: tuples this node publishes' },
  broadcastQueueMax: { help: 'limit: news waiting to be gossiped' },
  pendingMax: { help: 'limit: requests in flight (the JSON API and kelips-ctl answer "busy" beyond it)' },
  nameLengthMax: { help: 'limit: characters of a filename or location', why: 'Counted in UTF-16 code units.' },
});

export const DEFAULTS: Readonly<KelipsConfig> = Object.freeze({
  cluster: 'kelips',
  groups: 8,
  contactsPerGroup: 2,
  candidatesPerGroup: 4,
  gossipIntervalMs: 1000,
  gossipFanout: 2,
  datagramBytesMax: 1400,
  retransmitMult: 2,
  heartbeatMult: 3,
  foreignPerGossip: 2,
  crossGroupEntries: 4,
  memberRttEvery: 4,
  suspectMult: 3,
  failMult: 6,
  tombstoneMs: 120_000,
  stallRounds: 3,
  antiEntropyIntervalMs: 5_000,
  syncBuckets: 64,
  contactMissesMax: 3,
  candidateProbeEvery: 4,
  contactRttImprovement: 0.5,
  filetupleTtlMs: 3_600_000,
  filetupleRefreshMs: 1_200_000,
  requestTimeoutMs: 300,
  lookupDeadlineMs: 3000,
  contactRequestTtl: 3,
  joinRetryMs: 2000,
  joinRetryMaxMs: 30_000,
  viewMax: 4096,
  tombstonesMax: 4096,
  filetuplesMax: 1_000_000,
  locationsPerNameMax: 16,
  publishedMax: 100_000,
  broadcastQueueMax: 4096,
  pendingMax: 4096,
  nameLengthMax: 512,
});

/** Presets: LAN (the defaults) and a fast one for local tests and demos on one machine. */
export const PRESETS: Readonly<Record<'lan' | 'local', Partial<KelipsConfig>>> = Object.freeze({
  lan: {},
  local: {
    gossipIntervalMs: 200,
    antiEntropyIntervalMs: 1000,
    tombstoneMs: 20_000,
    requestTimeoutMs: 150,
    lookupDeadlineMs: 2000,
    joinRetryMs: 500,
    joinRetryMaxMs: 5000,
  },
});

type Rule = (v: unknown) => string | null;
const int = (min: number, max: number): Rule => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : `an integer from ${min} to ${max}`;
const num = (min: number, max: number): Rule => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `a number from ${min} to ${max}`;
const clusterName: Rule = (v) =>
  typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v) ? null : '1 to 64 characters of A-Z a-z 0-9 . _ -';

const RULES: Record<keyof KelipsConfig, Rule> = {
  cluster: clusterName,
  groups: int(1, 65_535),
  contactsPerGroup: int(1, 16),
  candidatesPerGroup: int(0, 64),
  gossipIntervalMs: int(10, 60_000),
  gossipFanout: int(1, 16),
  datagramBytesMax: int(512, 65_000),
  retransmitMult: int(1, 16),
  heartbeatMult: int(1, 32),
  foreignPerGossip: int(0, 64),
  crossGroupEntries: int(0, 64),
  memberRttEvery: int(0, 1000),
  suspectMult: int(1, 100),
  failMult: int(2, 200),
  tombstoneMs: int(1000, 86_400_000),
  stallRounds: int(2, 1000),
  antiEntropyIntervalMs: int(100, 3_600_000),
  syncBuckets: int(1, 256),
  contactMissesMax: int(1, 100),
  candidateProbeEvery: int(0, 1000),
  contactRttImprovement: num(0.01, 1),
  filetupleTtlMs: int(10_000, 30 * 86_400_000),
  filetupleRefreshMs: int(1000, 30 * 86_400_000),
  requestTimeoutMs: int(10, 60_000),
  lookupDeadlineMs: int(10, 600_000),
  contactRequestTtl: int(0, 16),
  joinRetryMs: int(50, 600_000),
  joinRetryMaxMs: int(50, 3_600_000),
  viewMax: int(2, 1_000_000),
  tombstonesMax: int(1, 1_000_000),
  filetuplesMax: int(1, 100_000_000),
  locationsPerNameMax: int(1, 1024),
  publishedMax: int(1, 10_000_000),
  broadcastQueueMax: int(1, 1_000_000),
  pendingMax: int(1, 1_000_000),
  nameLengthMax: int(1, 1024),
};

/** What is wrong with a field, as data, so that each front end can name the fields its own way. */
export interface ConfigProblem {
  /** What the field must be: "an integer from 1 to 16", "greater than" (with `other`), "a known field". */
  readonly mustBe: string;
  /** The value the field had, when the value itself is at fault. */
  readonly got?: unknown;
  /** The field a cross-field rule compares with, and its value. */
  readonly other?: { readonly field: keyof KelipsConfig; readonly value: unknown };
}

/** "must be ..." for `problem`, with field names spelled by `nameOf` (the core's own camelCase by default). */
export function describeProblem(problem: ConfigProblem, nameOf: (field: string) => string = (f) => f): string {
  const other = problem.other === undefined ? '' : ` ${nameOf(problem.other.field)} (${String(problem.other.value)})`;
  const got = 'got' in problem ? `, got ${JSON.stringify(problem.got)}` : '';
  return `must be ${problem.mustBe}${other}${got}`;
}

export class ConfigError extends KelipsError {
  override readonly code = 'KELIPS_CONFIG';
  constructor(
    readonly field: string,
    readonly problem: ConfigProblem,
  ) {
    super(`config field "${field}": ${problem.mustBe === 'a known field' ? 'unknown field' : describeProblem(problem)}`);
  }
}

/** Merge `overrides` onto the defaults (or a preset), validate every field, and freeze. */
export function resolveConfig(overrides: Partial<KelipsConfig> = {}, preset: keyof typeof PRESETS = 'lan'): Readonly<KelipsConfig> {
  const merged: Record<string, unknown> = { ...DEFAULTS, ...PRESETS[preset] };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in RULES)) throw new ConfigError(key, { mustBe: 'a known field' });
    if (value !== undefined) merged[key] = value;
  }
  for (const [key, rule] of Object.entries(RULES) as [keyof KelipsConfig, Rule][]) {
    const problem = rule(merged[key]);
    if (problem !== null) throw new ConfigError(key, { mustBe: problem, got: merged[key] });
  }
  const cfg = merged as unknown as KelipsConfig;
  if (cfg.failMult <= cfg.suspectMult) throw new ConfigError('failMult', { mustBe: 'greater than', other: { field: 'suspectMult', value: cfg.suspectMult } });
  if (cfg.filetupleRefreshMs >= cfg.filetupleTtlMs)
    throw new ConfigError('filetupleRefreshMs', { mustBe: 'less than', other: { field: 'filetupleTtlMs', value: cfg.filetupleTtlMs } });
  if (cfg.joinRetryMaxMs < cfg.joinRetryMs)
    throw new ConfigError('joinRetryMaxMs', { mustBe: 'at least', other: { field: 'joinRetryMs', value: cfg.joinRetryMs } });
  if (cfg.lookupDeadlineMs < cfg.requestTimeoutMs)
    throw new ConfigError('lookupDeadlineMs', { mustBe: 'at least', other: { field: 'requestTimeoutMs', value: cfg.requestTimeoutMs } });
  return Object.freeze(cfg);
}

/** L(G) = ceil(log2(G + 1)): rounds for an epidemic to reach G members by doubling. L(1)=1, L(31)=5, L(100)=7. */
export function logRounds(groupSize: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(1, groupSize) + 1)));
}

export interface Timeouts {
  suspectMs: number;
  failMs: number;
  /** Times a piece of news is forwarded by each node. */
  retransmits: number;
  /** Heartbeat entries per in-group datagram. */
  heartbeats: number;
  /** A tuple older than this (2 * L(G) rounds: gossip's time to spread it) is compared by anti-entropy. */
  settleMs: number;
  /**
   * How long a node that found no member holding its group's state waits, after asking every owner to re-publish
   * (join.ts), before it answers "not found" on its own: the last of its reset announcements
   * ((RESET_ANNOUNCES - 1) rounds), one publish by each owner with its retries (lookupDeadlineMs), and gossip's time
   * to spread what arrived at another member of the group (settleMs). lan, k = 2: 2 + 3 + 4 = 9 s.
   */
  recoverMs: number;
}

/** Rounds in which a recovering node announces that its group lost its state (each announcement may be lost). */
export const RESET_ANNOUNCES = 3;

/** L(G) as the nodes use it: for `groupSize` members, counted as at least k (see `timeouts`). */
export function groupRounds(cfg: Readonly<KelipsConfig>, groupSize: number): number {
  return logRounds(Math.max(groupSize, cfg.groups));
}

/**
 * The G-dependent quantities, for a view of `groupSize` members (including the node itself).
 *
 * G is taken as at least k (`groups`): with k chosen about sqrt(N), as Kelips prescribes, a group has about k
 * members, so a view much smaller than k is one still filling (a node that just joined, or a fragment of nodes that
 * started together) rather than a small group. Timing such a view with its own size made it distrust news older
 * than a few seconds and remove members it simply had not heard of yet: measured in a simulated 10,000-node
 * bootstrap (k = 100), a late joiner with a view of 2 suspected after 6 s and removed live members after 12 s.
 * With the floor, its clock is the group's (21 s and 42 s at k = 100). A cluster run with k much larger than
 * sqrt(N) detects failures more slowly for it (e.g. 24 s instead of 12 s for k = 8 and groups of 3).
 */
export function timeouts(cfg: Readonly<KelipsConfig>, groupSize: number): Timeouts {
  const l = groupRounds(cfg, groupSize);
  return {
    suspectMs: cfg.suspectMult * l * cfg.gossipIntervalMs,
    failMs: cfg.failMult * l * cfg.gossipIntervalMs,
    retransmits: cfg.retransmitMult * l,
    heartbeats: cfg.heartbeatMult * l,
    settleMs: 2 * l * cfg.gossipIntervalMs,
    recoverMs: (RESET_ANNOUNCES - 1) * cfg.gossipIntervalMs + cfg.lookupDeadlineMs + 2 * l * cfg.gossipIntervalMs,
  };
}
