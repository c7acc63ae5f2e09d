/**
 * `kelips-ctl plan`: size a cluster from the Kelips formulas and the core's own configuration, so the estimate
 * follows the protocol as configured (datagram budget, fanout, timeouts of src/core/config.ts, entry sizes of
 * src/core/size.ts).
 *
 *   k          = round(sqrt(N)), the paper's choice: it balances the view (N/k entries) against the contacts
 *                (c(k-1)), up to the constant c; then lowered to what the sizing rule allows (src/cli/sizing.ts:
 *                no group likely to start below 2 members) and, if tuple refreshes do not fit the gossip room,
 *                raised (within the rule) to the smallest k where they do
 *   G          = N / k members per affinity group, L = ceil(log2(G + 1)) rounds of epidemic spread
 *   memory     = view G x member + contacts (c + spare candidates) x (k - 1) x contact + filetuples F/k x tuple
 *                + own published F/N x owned tuple   (JS heap estimates per entry below; measure with
 *                kelips_nodejs_heap_size_used_bytes)
 *   bandwidth  per gossip round: min(fanout, G-1) in-group gossip datagrams (header + H heartbeats + foreign
 *              candidates + news up to the datagram budget), acks for them every memberRttEvery rounds, one
 *              cross-group probe and its ack
 *              (and the same received from others); anti-entropy every antiEntropyIntervalMs; every tuple of the
 *              group is refreshed each filetupleRefreshMs and forwarded retransmitMult x L times by every member.
 */
import { groupRounds, resolveConfig, timeouts, type KelipsConfig } from '../core/config.js';
import { headerBytes, memberEntryBytes, tupleEntryBytes, LIST_HEADER_BYTES, FLOAT_BYTES } from '../core/size.js';
import { checkSizing, formatChance, maxSafeGroups, MEMBERS_MIN, smallGroupRisk, SMALL_GROUP_RISK_MAX, type Chance, type SizingProblem } from './sizing.js';
import { formatBytes, formatDuration } from './table.js';
import { GROUP_MEMBERS_WARN } from '../agent/group-health.js';
import { kebab } from '../agent/config.js';

/** JS heap per entry (bytes): an object, its Map slot and its address string; rough, measured order of magnitude. */
export const HEAP_BYTES = Object.freeze({ member: 240, contact: 200, tupleBase: 180, ownedBase: 140 });
/** IPv4 + UDP headers added to every datagram on the wire. */
export const IP_UDP_HEADER_BYTES = 28;

export interface PlanInput {
  nodes: number;
  files: number;
  /** k to evaluate; default: the recommendation. */
  groups?: number;
  nameBytes: number;
  locationBytes: number;
  config: Readonly<KelipsConfig>;
}

export interface Estimate {
  groups: number;
  groupSize: number;
  logRounds: number;
  contactsPerNode: number;
  tuplesPerNode: number;
  memory: { viewBytes: number; contactsBytes: number; filetuplesBytes: number; publishedBytes: number; totalBytes: number };
  timeouts: { suspectMs: number; failMs: number };
  bandwidth: {
    datagramsPerSecond: number;
    /** Sent by one node, IP/UDP headers included; it receives about as much. */
    bytesPerSecond: number;
    gossipBytesPerSecond: number;
    tupleNewsBytesPerSecond: number;
    /** Tuple news needs this fraction of the room left in gossip datagrams; above 1 the broadcast queue grows. */
    newsLoad: number;
  };
  /** In-group datagrams per round (min(gossip-fanout, G - 1)); 0 when groups have one member. */
  fanout: number;
}

export interface Plan extends Estimate {
  nodes: number;
  files: number;
  /** round(sqrt(N)), the paper's k. */
  groupsPaper: number;
  /** The largest k the sizing rule allows for N nodes. */
  groupsMax: number;
  groupsRecommended: number;
  /** Why the recommendation differs from round(sqrt(N)), or '' when it does not. */
  recommendedBecause: string;
  /** Chance, with hash placement, that some group starts with fewer than 2 (and fewer than 3) members. */
  smallGroupChance: { below2: Chance; below3: Chance };
  /** The sizing rule's verdict on (nodes, groups). */
  problems: SizingProblem[];
  /** Every problem with this configuration, each saying what to change; empty when it fits. */
  warnings: string[];
}

/** round(sqrt(N)): the paper's k. */
export function paperGroups(nodes: number): number {
  return Math.max(1, Math.round(Math.sqrt(nodes)));
}

/** The k for N nodes from the group count alone: round(sqrt(N)), but no more than the sizing rule allows. */
export function recommendGroups(nodes: number): number {
  return Math.min(paperGroups(nodes), maxSafeGroups(nodes));
}

const SAMPLE_V4 = '255.255.255.255:65535';
/** Largest k the recommendation tries when it raises k to make tuple refreshes fit (the core's limit). */
const GROUPS_LIMIT = 65_535;

/** Memory and bandwidth of N nodes, F files at a given k. */
export function estimate(input: PlanInput, k: number): Estimate {
  const { nodes: N, files: F, config: cfg } = input;
  const G = Math.max(1, N / k);
  // As the nodes will compute them, with this k.
  const withK = { ...cfg, groups: k };
  const L = groupRounds(withK, G);
  const t = timeouts(withK, Math.ceil(G));

  // ---- memory
  const contactsPerGroup = Math.min(cfg.contactsPerGroup + cfg.candidatesPerGroup, Math.max(0, Math.ceil(G)));
  const contactsPerNode = contactsPerGroup * (k - 1);
  const tuplesPerNode = F / k;
  const viewBytes = G * HEAP_BYTES.member;
  const contactsBytes = contactsPerNode * HEAP_BYTES.contact;
  const tupleHeap = HEAP_BYTES.tupleBase + input.nameBytes + input.locationBytes;
  const filetuplesBytes = tuplesPerNode * tupleHeap;
  const publishedBytes = (F / N) * (HEAP_BYTES.ownedBase + input.nameBytes + input.locationBytes);
  const totalBytes = viewBytes + contactsBytes + filetuplesBytes + publishedBytes;

  // ---- bandwidth, per node, sent (received is symmetric on average)
  const roundsPerSecond = 1000 / cfg.gossipIntervalMs;
  const sampleMember = { addr: SAMPLE_V4, incarnation: 2_000_000_000, heartbeat: 100_000, ageMs: 10_000 };
  const memberBytes = memberEntryBytes(sampleMember);
  const header = headerBytes(cfg.cluster, k, SAMPLE_V4, 2_000_000_000, 100_000);
  const gossipFixed = header + FLOAT_BYTES + 1 + 4 * LIST_HEADER_BYTES;
  const heartbeats = Math.min(t.heartbeats, Math.ceil(G) - 1);
  const foreign = k > 1 ? cfg.foreignPerGossip : 0;
  const gossipBase = Math.min(cfg.datagramBytesMax, gossipFixed + (1 + heartbeats + foreign) * memberBytes);
  const newsRoom = Math.max(0, cfg.datagramBytesMax - gossipBase);
  const fanout = Math.min(cfg.gossipFanout, Math.max(0, Math.ceil(G) - 1));
  const ackBytes = header + FLOAT_BYTES + 2 * LIST_HEADER_BYTES;
  // A probe carries the sender and some of its group, plus the contacts it knows in the receiver's group.
  const probeBytes = Math.min(cfg.datagramBytesMax, gossipFixed + (1 + Math.min(cfg.crossGroupEntries, Math.ceil(G) - 1) + Math.min(cfg.contactsPerGroup, Math.ceil(G))) * memberBytes);
  const probes = k > 1 ? 1 : 0;

  // Tuple news: each tuple of the group is re-sent by its owner every refresh interval; every member forwards it
  // `retransmits` times in total (copies counted per destination). A group of one has nobody to tell: no news.
  const tupleBytes = tupleEntryBytes({
    name: 'x'.repeat(input.nameBytes),
    location: 'x'.repeat(input.locationBytes),
    owner: SAMPLE_V4,
    versionIncarnation: 2_000_000_000,
    versionSeq: 1000,
    ttlMs: cfg.filetupleTtlMs,
    deleted: false,
  });
  const tupleNewsPerSecond = fanout > 0 ? (tuplesPerNode / (cfg.filetupleRefreshMs / 1000)) * t.retransmits : 0;
  const tupleNewsBytesPerSecond = tupleNewsPerSecond * tupleBytes;
  const newsCapacityPerSecond = newsRoom * fanout * roundsPerSecond;
  // With no room at all (a datagram budget filled by heartbeats), any news is more than the room: a finite
  // stand-in for "infinitely over", so that every figure stays a number.
  const newsLoad = tupleNewsBytesPerSecond === 0 ? 0 : newsCapacityPerSecond > 0 ? tupleNewsBytesPerSecond / newsCapacityPerSecond : Number.MAX_VALUE;
  // The owner's refresh of its own tuples: one publish request + ack each, through a contact (k-1 of k names).
  const ownRefreshPerSecond = (F / N / (cfg.filetupleRefreshMs / 1000)) * ((k - 1) / k);
  const publishBytes = header + 5 + tupleBytes;

  // In-group gossip asks for acks (RTTs) only every memberRttEvery rounds; the cross-group probe always does.
  const acksPerRound = cfg.memberRttEvery > 0 ? fanout / cfg.memberRttEvery : 0;
  const perRoundDatagrams = fanout + acksPerRound + 2 * probes;
  const perRoundBytes = fanout * gossipBase + acksPerRound * ackBytes + probes * 2 * probeBytes + perRoundDatagrams * IP_UDP_HEADER_BYTES;
  const aeDatagramsPerSecond = G > 1 ? (2 * 1000) / cfg.antiEntropyIntervalMs : 0;
  const aeBytesPerSecond = aeDatagramsPerSecond * (header + 6 + cfg.syncBuckets * 5 + IP_UDP_HEADER_BYTES);
  const gossipBytesPerSecond = perRoundBytes * roundsPerSecond + aeBytesPerSecond;
  const datagramsPerSecond = perRoundDatagrams * roundsPerSecond + aeDatagramsPerSecond + ownRefreshPerSecond * 2;
  const bytesPerSecond = gossipBytesPerSecond + Math.min(tupleNewsBytesPerSecond, newsCapacityPerSecond) + ownRefreshPerSecond * (publishBytes + header + 8 + 2 * IP_UDP_HEADER_BYTES);

  return {
    groups: k,
    groupSize: G,
    logRounds: L,
    contactsPerNode,
    tuplesPerNode,
    memory: { viewBytes, contactsBytes, filetuplesBytes, publishedBytes, totalBytes },
    timeouts: { suspectMs: t.suspectMs, failMs: t.failMs },
    bandwidth: { datagramsPerSecond, bytesPerSecond, gossipBytesPerSecond, tupleNewsBytesPerSecond, newsLoad },
    fanout,
  };
}

/** The load problems of an estimate (news room, limits) that a different k can solve. */
function fitsLimits(e: Estimate, input: PlanInput): boolean {
  const cfg = input.config;
  return e.bandwidth.newsLoad <= 1 && e.groupSize <= cfg.viewMax && e.tuplesPerNode <= cfg.filetuplesMax;
}

export function plan(input: PlanInput): Plan {
  const { nodes: N, files: F, config: cfg } = input;
  const groupsPaper = paperGroups(N);
  const groupsMax = maxSafeGroups(N);
  const base = recommendGroups(N);

  // The recommendation: the smallest k from `base` up to what the rule allows at which the load fits; `base` if
  // none does (the warnings then say what else to change).
  let groupsRecommended = base;
  if (!fitsLimits(estimate(input, base), input)) {
    for (let k = base + 1; k <= Math.min(groupsMax, GROUPS_LIMIT); k++) {
      if (fitsLimits(estimate(input, k), input)) {
        groupsRecommended = k;
        break;
      }
    }
  }
  let recommendedBecause = '';
  if (groupsRecommended > groupsPaper) recommendedBecause = `raised from round(sqrt(N)) = ${groupsPaper} so that tuple refreshes fit the gossip room and the limits`;
  else if (groupsRecommended < groupsPaper)
    recommendedBecause = `lowered from round(sqrt(N)) = ${groupsPaper} so that no group is likely to start with fewer than ${MEMBERS_MIN} members`;

  const k = input.groups ?? groupsRecommended;
  const e = estimate(input, k);
  const problems = checkSizing({ nodes: N, groups: k });
  const warnings = problems.map((p) => p.message);
  // The recommendation as the first alternative, when it is another k and fits.
  const recommendationFits = k !== groupsRecommended && fitsLimits(estimate(input, groupsRecommended), input);
  const other = recommendationFits ? `use --groups ${groupsRecommended} (the recommendation) or ` : '';

  const load = e.bandwidth.newsLoad;
  if (load > 1) {
    // The load is linear in F and in 1/filetuple-refresh-ms, and the room linear in the fanout.
    const fixes: string[] = [];
    if (recommendationFits) fixes.push(`--groups ${groupsRecommended} (the recommendation)`);
    const refreshMs = Math.ceil((cfg.filetupleRefreshMs * load) / 1000) * 1000;
    const ttlMs = refreshMs >= cfg.filetupleTtlMs ? 3 * refreshMs : cfg.filetupleTtlMs;
    if (accepts(cfg, { filetupleRefreshMs: refreshMs, filetupleTtlMs: ttlMs }))
      fixes.push(
        `--filetuple-refresh-ms ${refreshMs} or more (now ${cfg.filetupleRefreshMs})` +
          (ttlMs !== cfg.filetupleTtlMs ? ` with --filetuple-ttl-ms ${ttlMs} (now ${cfg.filetupleTtlMs}; it must exceed the refresh)` : ''),
      );
    const fanoutNeeded = Math.ceil(e.fanout * load);
    if (e.fanout > 0 && fanoutNeeded <= Math.ceil(e.groupSize) - 1 && accepts(cfg, { gossipFanout: fanoutNeeded }))
      fixes.push(`--gossip-fanout ${fanoutNeeded} or more (now ${cfg.gossipFanout})`);
    const filesMax = Math.floor(F / load);
    fixes.push(`at most ${filesMax} files (${perNode(filesMax / N)} per node)`);
    warnings.push(`at k = ${k}, tuple refreshes need ${formatPercent(load)} of the gossip room for news (the broadcast queue would grow); change one: ${fixes.join('; ')}`);
  }
  const limit = (what: string, key: keyof KelipsConfig, need: number, otherwise: string) => {
    const raise = accepts(cfg, { [key]: need }) ? `raise ${kebab(key)} to ${need} or more` : `${kebab(key)} cannot be raised that far`;
    warnings.push(`${what} exceed ${kebab(key)} (${cfg[key]}): ${other}${raise}${otherwise}`);
  };
  // A larger k as the alternative, when the sizing rule allows it.
  const kAtLeast = (kMin: number) => (kMin <= groupsMax ? `, or use k >= ${kMin}` : '');
  if (e.groupSize > cfg.viewMax) limit(`groups of ${Math.ceil(e.groupSize)}`, 'viewMax', Math.ceil(e.groupSize), kAtLeast(Math.ceil(N / cfg.viewMax)));
  if (e.tuplesPerNode > cfg.filetuplesMax)
    limit(`${Math.ceil(e.tuplesPerNode)} tuples per node`, 'filetuplesMax', Math.ceil(e.tuplesPerNode), `${kAtLeast(Math.ceil(F / cfg.filetuplesMax))}, or fewer files`);
  if (F / N > cfg.publishedMax) limit(`${Math.ceil(F / N)} published names per node`, 'publishedMax', Math.ceil(F / N), ', or spread the files over more nodes');

  return {
    nodes: N,
    files: F,
    groupsPaper,
    groupsMax,
    groupsRecommended,
    recommendedBecause,
    ...e,
    smallGroupChance: { below2: smallGroupRisk(N, k, MEMBERS_MIN), below3: smallGroupRisk(N, k, GROUP_MEMBERS_WARN) },
    problems,
    warnings,
  };
}

/** "183%", "0.7%", "> 1000000%": the news load for people (never Infinity or NaN). */
export function formatPercent(x: number): string {
  if (!Number.isFinite(x) || x >= 1e4) return '> 1000000%';
  return `${Number((x * 100).toFixed(x >= 0.1 ? 0 : 1))}%`;
}

/** Whether the core accepts the configuration with these fields changed. */
function accepts(cfg: Readonly<KelipsConfig>, patch: Partial<KelipsConfig>): boolean {
  try {
    resolveConfig({ ...cfg, ...patch });
    return true;
  } catch {
    return false;
  }
}

function perNode(x: number): string {
  return x >= 1 ? String(round1(x)) : String(Number(x.toPrecision(2)));
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The human-readable report of a plan: "key: value" rows, then one "warning: ..." line per warning. */
export function planRows(p: Plan, gossipIntervalMs: number, preset: string): { rows: [string, string | number][]; warnings: string[] } {
  const b = p.bandwidth;
  const chance = (c: Chance) => `${formatChance(c.p)}${c.exact || c.p >= 1 ? '' : ' at most'}`;
  const rec =
    p.groups === p.groupsRecommended
      ? `(recommended${p.recommendedBecause === '' ? ': round(sqrt(N))' : `: ${p.recommendedBecause}`})`
      : `(recommended: ${p.groupsRecommended}${p.recommendedBecause === '' ? ', round(sqrt(N))' : `, ${p.recommendedBecause}`})`;
  return {
    rows: [
      ['nodes', p.nodes],
      ['files', p.files],
      ['groups (k)', `${p.groups} ${rec}`],
      ['group size', `${round1(p.groupSize)} nodes (epidemic: ${p.logRounds} rounds)`],
      [
        'small groups',
        `chance that some group starts with < ${MEMBERS_MIN} members: ${chance(p.smallGroupChance.below2)} ` +
          `(rule: at most ${formatChance(SMALL_GROUP_RISK_MAX)}, so k <= ${p.groupsMax}); < ${GROUP_MEMBERS_WARN}: ${chance(p.smallGroupChance.below3)}`,
      ],
      ['failure detection', `suspect after ${formatDuration(p.timeouts.suspectMs)}, removed after ${formatDuration(p.timeouts.failMs)}`],
      ['per node: view', `${round1(p.groupSize)} members  ~${formatBytes(p.memory.viewBytes)}`],
      ['per node: contacts', `${p.contactsPerNode} (contacts + spares)  ~${formatBytes(p.memory.contactsBytes)}`],
      ['per node: filetuples', `${round1(p.tuplesPerNode)}  ~${formatBytes(p.memory.filetuplesBytes)}`],
      ['per node: published', `${round1(p.files / p.nodes)}  ~${formatBytes(p.memory.publishedBytes)}`],
      ['per node: memory', `~${formatBytes(p.memory.totalBytes)} of protocol state (plus ~50 MiB for Node.js itself)`],
      ['per node: bandwidth', `~${formatBytes(b.bytesPerSecond)}/s sent and about as much received, ${round1(b.datagramsPerSecond)} datagrams/s`],
      ['  of which gossip', `${formatBytes(b.gossipBytesPerSecond)}/s`],
      ['  of which tuple news', `${formatBytes(b.tupleNewsBytesPerSecond)}/s (${formatPercent(b.newsLoad)} of the gossip room for news)`],
      ['gossip round', `${gossipIntervalMs} ms (preset ${preset})`],
    ],
    warnings: p.warnings,
  };
}
