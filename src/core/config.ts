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

export interface KelipsConfig {
  /** Cluster name. Every datagram carries it; datagrams of another cluster are dropped. 1..64 chars. */
  cluster: string;
  /** k, the number of affinity groups. Same on every node; choose about sqrt(N) (`kelips-ctl plan`). */
  groups: number;
  /** c, contacts kept per foreign group. 2: one can fail while the other answers. */
  contactsPerGroup: number;
  /** Spare known nodes per foreign group, to replace a contact without asking anyone. */
  candidatesPerGroup: number;

  /** One gossip round (ms). 1000: a 2 kB/s per-node budget at ≤1400-byte datagrams, failure detection in tens of s. */
  gossipIntervalMs: number;
  /** In-group members each round's gossip datagram goes to. 2: an epidemic triples per round (log3 G rounds). */
  gossipFanout: number;
  /** Largest datagram the core builds (bytes). 1400: below a 1500-byte Ethernet MTU with IP/UDP headers. */
  datagramBytesMax: number;
  /** Each piece of news (tuple, departure) is sent retransmitMult * L(G) times by every node that learns it. */
  retransmitMult: number;
  /**
   * Heartbeat entries per in-group datagram = heartbeatMult * L(G), half the freshest, half random: per-node traffic
   * grows only with log G. An observer must hear of every member at least once per fail timeout; at G = 100 an
   * observer receives ~2 x 21 entries a round, so a member goes unmentioned for the 42-round fail timeout with
   * negligible probability. Measured: 2 gave false removals at G = 100 (none at G = 31); 3 gave none.
   */
  heartbeatMult: number;
  /** Foreign entries (contact candidates) per in-group datagram. 2: enough to keep spare candidates fresh. */
  foreignPerGossip: number;
  /** Own-group entries sent to a contact in cross-group gossip and in its ack. 4: candidates for the other group. */
  crossGroupEntries: number;
  /** In-group gossip asks for acks (member RTTs) every this many rounds; 0 = never. 4: RTTs stay current at a
   *  quarter of the ack traffic (acks are not needed for liveness: heartbeats are). */
  memberRttEvery: number;

  /**
   * A member unheard for suspectMult * L(G) rounds is suspect (shown, not used as a target for new work).
   * Here and below, G is the view's size but at least k (see `timeouts`).
   */
  suspectMult: number;
  /** A member unheard for failMult * L(G) rounds is removed. Must be > suspectMult. */
  failMult: number;
  /** A removed member is remembered (tombstone) this long (ms), so late gossip cannot resurrect it. */
  tombstoneMs: number;
  /** If a tick comes this many rounds late, this process was paused: forgive everyone the pause. */
  stallRounds: number;

  /**
   * Anti-entropy with one random member every this many ms. 5 rounds: repairs what gossip lost or delayed (a
   * publishing burst beyond the gossip budget) within ~5 s; when nothing differs it costs one ~350-byte digest
   * and a ~50-byte answer, about 80 B/s per node.
   */
  antiEntropyIntervalMs: number;
  /** Tuple buckets in an anti-entropy digest. 64 buckets x 5 bytes fit one datagram with room to spare. */
  syncBuckets: number;
  /** Consecutive unanswered probes or requests after which a contact is replaced. */
  contactMissesMax: number;
  /** Probe a random candidate instead of the stalest contact every this many rounds (learns RTTs). 0 = never. */
  candidateProbeEvery: number;
  /** A candidate replaces a contact when its RTT is below this fraction of the contact's RTT. */
  contactRttImprovement: number;

  /** Lifetime of a filetuple (ms) unless its owner refreshes it. 1 h: soft state survives a 20-minute outage. */
  filetupleTtlMs: number;
  /** The owner refreshes each published tuple this often (ms). TTL/3: two refreshes may be lost. */
  filetupleRefreshMs: number;

  /** Wait this long (ms) for one lookup/publish attempt before trying the next node. */
  requestTimeoutMs: number;
  /** Give up on a lookup after this long (ms) and answer "unavailable". */
  lookupDeadlineMs: number;
  /** Forwarding budget of "who is a contact of group G?" requests. */
  contactRequestTtl: number;
  /** Seeds tried again this often (ms) at first; the wait doubles after every unanswered round of all seeds. */
  joinRetryMs: number;
  /**
   * Longest wait (ms) between join attempts while no seed answers. 30 s: a node started before its seeds (a whole
   * cluster booting) joins within 30 s of the first seed coming up, at one datagram per 30 s per waiting node.
   */
  joinRetryMaxMs: number;

  // Limits: every table and queue has one, and what does not fit is dropped and counted.
  /** Members in the affinity group view (live + suspect). */
  viewMax: number;
  /** Tombstones kept. */
  tombstonesMax: number;
  /** Filetuples stored (all names, all owners). */
  filetuplesMax: number;
  /** Locations (owners) kept per filename. */
  locationsPerNameMax: number;
  /** Tuples this node itself published (and refreshes). */
  publishedMax: number;
  /** Pieces of news waiting to be gossiped. */
  broadcastQueueMax: number;
  /** Lookups, publishes and joins in flight. */
  pendingMax: number;
  /** Longest filename and location (UTF-16 code units). */
  nameLengthMax: number;
}

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

export class ConfigError extends KelipsError {
  override readonly code = 'KELIPS_CONFIG';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`config field "${field}": ${message}`);
  }
}

/** Merge `overrides` onto the defaults (or a preset), validate every field, and freeze. */
export function resolveConfig(overrides: Partial<KelipsConfig> = {}, preset: keyof typeof PRESETS = 'lan'): Readonly<KelipsConfig> {
  const merged: Record<string, unknown> = { ...DEFAULTS, ...PRESETS[preset] };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in RULES)) throw new ConfigError(key, 'unknown field');
    if (value !== undefined) merged[key] = value;
  }
  for (const [key, rule] of Object.entries(RULES) as [keyof KelipsConfig, Rule][]) {
    const problem = rule(merged[key]);
    if (problem !== null) throw new ConfigError(key, `must be ${problem}, got ${JSON.stringify(merged[key])}`);
  }
  const cfg = merged as unknown as KelipsConfig;
  if (cfg.failMult <= cfg.suspectMult) throw new ConfigError('failMult', `must be greater than suspectMult (${cfg.suspectMult})`);
  if (cfg.filetupleRefreshMs >= cfg.filetupleTtlMs)
    throw new ConfigError('filetupleRefreshMs', `must be less than filetupleTtlMs (${cfg.filetupleTtlMs})`);
  if (cfg.joinRetryMaxMs < cfg.joinRetryMs)
    throw new ConfigError('joinRetryMaxMs', `must be at least joinRetryMs (${cfg.joinRetryMs})`);
  if (cfg.lookupDeadlineMs < cfg.requestTimeoutMs)
    throw new ConfigError('lookupDeadlineMs', `must be at least requestTimeoutMs (${cfg.requestTimeoutMs})`);
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
