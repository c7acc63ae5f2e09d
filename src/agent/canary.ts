/**
 * Canary lookups: lookups whose right answer the agent knows, so that metrics can tell a wrong "not found" from a
 * legitimate miss (a user lookup of a name nobody published looks the same as a lost tuple).
 *
 * - **Beacon.** Every node publishes a tuple of its own under a reserved name, `kelips.beacon/<node id>`, whose
 *   location says who published it and when: `<node id> <incarnation> <wall-clock ms>`, once per start, when it
 *   is first ready. After that the core refreshes it like any application tuple (filetupleRefreshMs), never the
 *   canary: a beacon lost by its group stays lost exactly as long as an application's tuple would, so the canary
 *   sees what users see. A beacon republished every minute would heal at its next version and hide a loss that
 *   lasts up to filetupleRefreshMs (20 minutes) for users: with 5 agents, k = 4 and a group's lone member
 *   restarted (kill -9), the other agents' canaries counted 0 wrong_not_found in the next 40 s with a beacon
 *   republished every 12 s, and 21 with the beacon refreshed like an application's tuple.
 * - **Pulse.** A second reserved tuple, `kelips.beacon/pulse/<node id>`, same location format, republished every
 *   `pulseIntervalMs`: each version is a fresh propagation sample. It is never looked up.
 * - **Canary lookup.** Every `lookupIntervalMs` (jittered) a ready node looks up the beacon of a random contact
 *   (a live member of another group: fresh heartbeat, no missed probes) that it has known, with the same
 *   incarnation, for longer than `settleMs`, the bound within which that node's beacon must have reached its
 *   group and settled there. The answer is classified (`classifyCanary`): found with the right location,
 *   wrong_location (found, but not at the target), wrong_not_found (a promise broken), unavailable.
 * - **Propagation delay** (after grafana/dskit's memberlist propagation tracker): a node that stores a new pulse
 *   version of another node (its own group holds that pulse name) reads the pulse's location with a local
 *   (0-hop) lookup and observes `stored wall time - published wall time`. As in dskit, pulses that arrive before
 *   the node has synced its group (state transfer after a start) are not samples, and negative delays (clock
 *   skew between hosts) are skipped; a pulse re-sent after its owner restarted (from its data dir, still carrying
 *   the old publish time) is not a sample either.
 *
 * Canary lookups and beacon and pulse publishes are counted here (`CanarySink`), never in the user lookup and publish
 * metrics: the agent offers every core event to `onEvent` first and skips the ones it claims.
 * Applications cannot publish or unpublish under the reserved prefix (`reservedNameError`).
 */
import type { ContactView } from '../core/api.js';
import { timeouts, type KelipsConfig } from '../core/config.js';
import { LookupStatus, type CoreEvent, type LookupResult } from '../core/types.js';

/** Names under this prefix belong to the canaries; applications may look them up but not publish them. */
export const BEACON_PREFIX = 'kelips.beacon/';
/** Pulses live under the beacon prefix (so one reserved prefix covers both). */
export const PULSE_PREFIX = `${BEACON_PREFIX}pulse/`;

export const CANARY_RESULTS = ['found', 'wrong_not_found', 'wrong_location', 'unavailable'] as const;
export type CanaryResult = (typeof CANARY_RESULTS)[number];

/** Propagation delay buckets (seconds): a publish hop on a LAN takes ~1 ms, a gossip round 0.2-1 s, anti-entropy repairs within tens of seconds. */
export const PROPAGATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300];

export function isBeaconName(name: string): boolean {
  return name.startsWith(BEACON_PREFIX);
}

/** Why a user's publish or unpublish of `name` is refused, or null when it is allowed. */
export function reservedNameError(name: unknown): string | null {
  if (typeof name === 'string' && isBeaconName(name))
    return `names starting with "${BEACON_PREFIX}" are reserved for the agents' canary beacons; choose another name`;
  return null;
}

export function beaconName(nodeId: string): string {
  return BEACON_PREFIX + nodeId;
}

export function pulseName(nodeId: string): string {
  return PULSE_PREFIX + nodeId;
}

export interface BeaconLocation {
  /** The publishing node's id (its advertised address, or its name once nodes have stable names). */
  id: string;
  incarnation: number;
  /** Wall-clock ms (Date.now()) at the publishing node when this version was published. */
  publishedAtMs: number;
}

export function formatBeaconLocation(b: BeaconLocation): string {
  return `${b.id} ${b.incarnation} ${Math.round(b.publishedAtMs)}`;
}

export function parseBeaconLocation(s: string): BeaconLocation | null {
  const m = /^(\S+) (\d{1,15}) (\d{1,15})$/.exec(s);
  if (m === null) return null;
  return { id: m[1]!, incarnation: Number(m[2]), publishedAtMs: Number(m[3]) };
}

/** The id a node names its beacon after, as another node sees it in its contact table. */
export function nodeIdOf(c: Pick<ContactView, 'addr'>): string {
  return c.addr;
}

export interface CanaryTarget {
  /** The target's address (the owner its tuples carry). */
  addr: string;
  id: string;
}

/** Classify a canary lookup of `target`'s beacon, whose beacon has settled (see `CanaryParams.settleMs`). */
export function classifyCanary(r: Pick<LookupResult, 'status' | 'locations'>, target: CanaryTarget): CanaryResult {
  if (r.status === LookupStatus.Found) {
    const right = r.locations.some((l) => l.owner === target.addr && parseBeaconLocation(l.location)?.id === target.id);
    return right ? 'found' : 'wrong_location';
  }
  if (r.status === LookupStatus.NotFound) return 'wrong_not_found';
  return 'unavailable';
}

export interface CanaryParams {
  /** How often the canary looks at its state (publish due, lookup due, contacts seen): one gossip round. */
  tickMs: number;
  /**
   * Mean time between two canary lookups of one node: 10 gossip rounds (10 s by default, 2 s with the local
   * preset), jittered by ±25% so that nodes started together do not ask in step. A cluster of N nodes runs N/10
   * canary lookups a second: about 270 samples per 5 minutes at N = 9, enough for a success ratio, for one
   * request and one reply datagram per node every 10 rounds (gossip sends several datagrams every round).
   */
  lookupIntervalMs: number;
  /** A new pulse version every 60 gossip rounds (1 minute by default, as dskit's beacon interval), jittered ±10%. */
  pulseIntervalMs: number;
  /** A contact heard from longer ago than the suspect timeout (at k) may be dead: not a target. */
  freshMs: number;
  /**
   * The dissemination bound: a contact known (same incarnation) for this long has a beacon settled in its group.
   * From the moment another node hears of it, a node needs: one canary tick to publish once ready (tickMs), the
   * publish's delivery through a contact of the beacon's group (lookupDeadlineMs), two publish retries if no
   * contact of that group was known yet or it did not answer (2 x the core's retry delay, max(joinRetryMs,
   * 5 rounds)), gossip spreading it through the group (the core's settle time, 2 L(G) rounds), and two
   * anti-entropy rounds repairing what gossip lost (2 x antiEntropyIntervalMs). 32 s with the defaults and k from 8 to 15;
   * 7 s with the local preset and k = 3.
   */
  settleMs: number;
  /** Propagation probes (local reads of newly stored pulses) waiting for the next tick, at most. */
  probesMax: number;
  /** Pulse versions remembered (one per owner) to measure each once, at most (a group holds ~N/k pulses). */
  seenPulsesMax: number;
}

export function canaryParams(cfg: Readonly<KelipsConfig>, groupSize = cfg.groups): CanaryParams {
  const t = timeouts(cfg, groupSize);
  const retryMs = Math.min(cfg.filetupleRefreshMs, Math.max(cfg.joinRetryMs, 5 * cfg.gossipIntervalMs));
  return {
    tickMs: cfg.gossipIntervalMs,
    lookupIntervalMs: 10 * cfg.gossipIntervalMs,
    pulseIntervalMs: 60 * cfg.gossipIntervalMs,
    freshMs: t.suspectMs,
    settleMs: cfg.gossipIntervalMs + cfg.lookupDeadlineMs + 2 * retryMs + t.settleMs + 2 * cfg.antiEntropyIntervalMs,
    probesMax: 64,
    seenPulsesMax: 4096,
  };
}

/** When this node first saw each contact with its current incarnation (monotonic ms). */
export type SeenContacts = Map<string, { incarnation: number; since: number }>;

/** Bring `seen` up to date with the contact table: new contacts and new incarnations start now; gone ones go. */
export function updateSeen(seen: SeenContacts, contacts: readonly ContactView[], now: number): void {
  const present = new Set<string>();
  for (const c of contacts) {
    present.add(c.addr);
    const s = seen.get(c.addr);
    if (s === undefined || s.incarnation !== c.incarnation) seen.set(c.addr, { incarnation: c.incarnation, since: now });
  }
  for (const addr of seen.keys()) if (!present.has(addr)) seen.delete(addr);
}

/** Contacts whose beacon must be findable: heard from recently, answering, and known for the settle bound. */
export function settledTargets(contacts: readonly ContactView[], seen: SeenContacts, now: number, p: Pick<CanaryParams, 'freshMs' | 'settleMs'>): ContactView[] {
  return contacts.filter((c) => {
    const s = seen.get(c.addr);
    return s !== undefined && s.incarnation === c.incarnation && now - s.since >= p.settleMs && c.ageMs <= p.freshMs && c.misses === 0;
  });
}

/**
 * One propagation sample from a pulse stored at `storedAtMs` (wall clock), or null: not a beacon location, a
 * version re-sent after its owner restarted (its location carries an older incarnation than its version), or a
 * negative delay (clocks disagree).
 */
export function propagationDelayS(location: string, versionIncarnation: number | null, storedAtMs: number): number | null {
  const b = parseBeaconLocation(location);
  if (b === null || versionIncarnation === null || b.incarnation !== versionIncarnation) return null;
  const d = storedAtMs - b.publishedAtMs;
  return d >= 0 ? d / 1000 : null;
}

/** Where canary results go (the agent's metrics). */
export interface CanarySink {
  canaryResult(result: CanaryResult): void;
  propagationDelay(seconds: number): void;
}

/** The part of KelipsNode the canary uses. */
export interface CanaryNode {
  readonly address: string;
  readonly incarnation: number;
  readonly synced: boolean;
  readonly groupSize: number;
  lookup(name: string, now: number): number;
  publish(name: string, location: string, now: number): number;
  contacts(now: number): ContactView[];
  tupleVersion(name: string, owner: string): { versionIncarnation: number } | null;
}

export interface CanaryOptions {
  node: CanaryNode;
  /** Run a command against the core and flush what it produced (Driver.run). */
  run: <T>(fn: (now: number) => T) => T;
  /** Monotonic ms (the driver's clock). */
  now: () => number;
  /** The node is ready (joined, contacts): only then does it publish its beacon and pulses and run canary lookups. */
  ready: () => boolean;
  config: Readonly<KelipsConfig>;
  sink: CanarySink;
  /** The id this node names its beacon after; default its address. */
  selfId?: string;
  wallClockMs?: () => number;
  random?: () => number;
  /** A wrong answer (wrong_not_found, wrong_location), for the log. */
  onWrong?: (result: CanaryResult, detail: { name: string; target: string; knownForMs: number; answeredBy: string | null }) => void;
  /** A canary command the core refused (a limit on published names, the node leaving), for the log. */
  onError?: (err: Error) => void;
}

interface InFlight {
  id: number;
  name: string;
  target: CanaryTarget;
  startedAt: number;
  knownForMs: number;
}

export class Canary {
  readonly params: CanaryParams;
  private readonly seen: SeenContacts = new Map();
  /** Beacon and pulse publishes of this node not yet answered by the core (their publish-done is not a user publish). */
  private readonly publishIds = new Set<number>();
  private inFlight: InFlight | null = null;
  /** Propagation probes: pulses stored since the last tick, with the wall time they were stored. */
  private readonly probes: { name: string; owner: string; storedAtMs: number }[] = [];
  /** Local reads started for probes, by lookup id. */
  private readonly probeIds = new Map<number, { name: string; owner: string; storedAtMs: number }>();
  /** Per pulse owner, the last published time measured (each version is one sample). */
  private readonly measured = new Map<string, number>();
  /** The node had synced its group at an earlier tick: pulses stored from now on are new, not state transfer. */
  private primed = false;
  private nextLookupAt = 0;
  /** This process published its beacon (once per start; the core refreshes it). */
  private beaconPublished = false;
  private nextPulseAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly selfId: string;
  private readonly wall: () => number;
  private readonly random: () => number;
  /** Probes dropped at probesMax (a burst of pulses, e.g. a state transfer racing the prime). */
  probesDropped = 0;

  constructor(private readonly opts: CanaryOptions) {
    this.params = canaryParams(opts.config);
    this.selfId = opts.selfId ?? opts.node.address;
    this.wall = opts.wallClockMs ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Tick every `params.tickMs` (an unref'd timer: it never keeps the process alive). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      try {
        this.tick(this.opts.now());
      } catch (err) {
        // A command the core refused (the node is leaving): report it, never crash the agent from a timer.
        this.opts.onError?.(err as Error);
      }
    }, this.params.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  tick(now: number): void {
    const node = this.opts.node;
    this.runProbes();
    this.primed = node.synced;
    if (!this.opts.ready()) return;
    const contacts = node.contacts(now);
    updateSeen(this.seen, contacts, now);
    if (!this.beaconPublished) this.beaconPublished = this.publishOwn(beaconName(this.selfId));
    if (now >= this.nextPulseAt) {
      this.nextPulseAt = now + this.params.pulseIntervalMs * (0.9 + 0.2 * this.random());
      this.publishOwn(pulseName(this.selfId));
    }
    if (this.inFlight !== null && now - this.inFlight.startedAt > 2 * this.opts.config.lookupDeadlineMs) this.inFlight = null;
    if (now < this.nextLookupAt || this.inFlight !== null) return;
    this.nextLookupAt = now + this.params.lookupIntervalMs * (0.75 + 0.5 * this.random());
    const p = canaryParams(this.opts.config, node.groupSize);
    const targets = settledTargets(contacts, this.seen, now, p);
    if (targets.length === 0) return;
    const c = targets[Math.floor(this.random() * targets.length)]!;
    const target = { addr: c.addr, id: nodeIdOf(c) };
    const name = beaconName(target.id);
    const knownForMs = now - this.seen.get(c.addr)!.since;
    this.opts.run((t) => {
      const id = node.lookup(name, t);
      this.inFlight = { id, name, target, startedAt: t, knownForMs };
    });
  }

  /** Publish this node's beacon or pulse with a fresh location; false when the core refused (a limit). */
  private publishOwn(name: string): boolean {
    const node = this.opts.node;
    try {
      this.opts.run((t) => {
        const location = formatBeaconLocation({ id: this.selfId, incarnation: node.incarnation, publishedAtMs: this.wall() });
        this.publishIds.add(node.publish(name, location, t));
      });
      return true;
    } catch (err) {
      this.opts.onError?.(err as Error);
      return false;
    }
  }

  /** Read newly stored pulses locally (0 hops) to measure their propagation delay. */
  private runProbes(): void {
    if (this.probes.length === 0) return;
    const batch = this.probes.splice(0, this.probes.length);
    if (!this.opts.node.synced) return;
    this.opts.run((t) => {
      for (const p of batch) this.probeIds.set(this.opts.node.lookup(p.name, t), p);
    });
  }

  /**
   * Offer a core event to the canary. Returns true when the event is the canary's own (a canary lookup's or
   * beacon or pulse publish's result): the caller must not count it as a user lookup or publish.
   */
  onEvent(e: CoreEvent): boolean {
    switch (e.type) {
      case 'lookup-done':
        return this.onLookupDone(e.result);
      case 'publish-done':
        return this.publishIds.delete(e.result.id);
      case 'tuple-stored':
        if (this.primed && e.owner !== this.opts.node.address && e.name.startsWith(PULSE_PREFIX)) {
          if (this.probes.length < this.params.probesMax) this.probes.push({ name: e.name, owner: e.owner, storedAtMs: this.wall() });
          else this.probesDropped++;
        }
        return false;
      default:
        return false;
    }
  }

  private onLookupDone(r: LookupResult): boolean {
    const probe = this.probeIds.get(r.id);
    if (probe !== undefined) {
      this.probeIds.delete(r.id);
      this.measure(probe, r);
      return true;
    }
    const f = this.inFlight;
    if (f === null || f.id !== r.id) return false;
    this.inFlight = null;
    const result = classifyCanary(r, f.target);
    this.opts.sink.canaryResult(result);
    if (result === 'wrong_not_found' || result === 'wrong_location')
      this.opts.onWrong?.(result, { name: f.name, target: f.target.addr, knownForMs: Math.round(f.knownForMs), answeredBy: r.answeredBy });
    return true;
  }

  private measure(probe: { name: string; owner: string; storedAtMs: number }, r: LookupResult): void {
    if (r.status !== LookupStatus.Found) return;
    const loc = r.locations.find((l) => l.owner === probe.owner);
    if (loc === undefined) return;
    const delay = propagationDelayS(loc.location, this.opts.node.tupleVersion(probe.name, probe.owner)?.versionIncarnation ?? null, probe.storedAtMs);
    const publishedAt = parseBeaconLocation(loc.location)?.publishedAtMs;
    if (delay === null || publishedAt === undefined || this.measured.get(probe.owner) === publishedAt) return;
    if (!this.measured.has(probe.owner) && this.measured.size >= this.params.seenPulsesMax) {
      const oldest = this.measured.keys().next().value as string;
      this.measured.delete(oldest);
    }
    this.measured.delete(probe.owner);
    this.measured.set(probe.owner, publishedAt);
    this.opts.sink.propagationDelay(delay);
  }
}
