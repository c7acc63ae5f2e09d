/**
 * `kelips-ctl plan`: size a cluster from the Kelips formulas and the core's own configuration, so the estimate
 * follows the protocol as configured (datagram budget, fanout, timeouts of src/core/config.ts, entry sizes of
 * src/core/size.ts).
 *
 *   k          = round(sqrt(N)), the paper's choice: it balances the view (N/k entries) against the contacts
 *                (c(k-1)), up to the constant c
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
import { groupRounds, timeouts, type KelipsConfig } from '../core/config.js';
import { headerBytes, memberEntryBytes, tupleEntryBytes, LIST_HEADER_BYTES, FLOAT_BYTES } from '../core/size.js';

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

export interface Plan {
  nodes: number;
  files: number;
  groupsRecommended: number;
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
  warnings: string[];
}

export function recommendGroups(nodes: number): number {
  return Math.max(1, Math.round(Math.sqrt(nodes)));
}

const SAMPLE_V4 = '255.255.255.255:65535';

export function plan(input: PlanInput): Plan {
  const { nodes: N, files: F, config: cfg } = input;
  const k = input.groups ?? recommendGroups(N);
  const G = Math.max(1, N / k);
  // As the nodes will compute them, with this k.
  const withK = { ...cfg, groups: k };
  const L = groupRounds(withK, G);
  const t = timeouts(withK, Math.ceil(G));
  const warnings: string[] = [];

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
  const header = headerBytes(cfg.cluster, cfg.groups, SAMPLE_V4, 2_000_000_000, 100_000);
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
  // `retransmits` times in total (copies counted per destination).
  const tupleBytes = tupleEntryBytes({
    name: 'x'.repeat(input.nameBytes),
    location: 'x'.repeat(input.locationBytes),
    owner: SAMPLE_V4,
    versionIncarnation: 2_000_000_000,
    versionSeq: 1000,
    ttlMs: cfg.filetupleTtlMs,
    deleted: false,
  });
  const tupleNewsPerSecond = (tuplesPerNode / (cfg.filetupleRefreshMs / 1000)) * t.retransmits;
  const tupleNewsBytesPerSecond = tupleNewsPerSecond * tupleBytes;
  const newsCapacityPerSecond = newsRoom * fanout * roundsPerSecond;
  const newsLoad = newsCapacityPerSecond > 0 ? tupleNewsBytesPerSecond / newsCapacityPerSecond : tupleNewsBytesPerSecond > 0 ? Infinity : 0;
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

  if (newsLoad > 1)
    warnings.push(
      `tuple refreshes need ${(newsLoad * 100).toFixed(0)}% of the gossip room for news: raise groups, filetuple-refresh-ms or gossip-fanout`,
    );
  if (G > cfg.viewMax) warnings.push(`groups of ${Math.ceil(G)} exceed view-max (${cfg.viewMax})`);
  if (tuplesPerNode > cfg.filetuplesMax) warnings.push(`${Math.ceil(tuplesPerNode)} tuples per node exceed filetuples-max (${cfg.filetuplesMax})`);
  if (F / N > cfg.publishedMax) warnings.push(`${Math.ceil(F / N)} published names per node exceed published-max (${cfg.publishedMax})`);
  if (k > N) warnings.push(`more groups (${k}) than nodes (${N}): some groups would be empty`);

  return {
    nodes: N,
    files: F,
    groupsRecommended: recommendGroups(N),
    groups: k,
    groupSize: G,
    logRounds: L,
    contactsPerNode,
    tuplesPerNode,
    memory: { viewBytes, contactsBytes, filetuplesBytes, publishedBytes, totalBytes },
    timeouts: { suspectMs: t.suspectMs, failMs: t.failMs },
    bandwidth: { datagramsPerSecond, bytesPerSecond, gossipBytesPerSecond, tupleNewsBytesPerSecond, newsLoad },
    warnings,
  };
}
