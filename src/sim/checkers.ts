/**
 * Safety checkers, run while faults are on. They hold whatever the network and the faults do:
 * - a node's affinity group view holds only members of its group, and no more than viewMax;
 * - filetuples live only in their group; at most filetuplesMax of them and locationsPerNameMax per name;
 * - contacts of group g are members of g, at most contactsPerGroup of them; published tuples <= publishedMax;
 * - heartbeats never go back within an incarnation (per observer and member, and for each node itself);
 * - no datagram is larger than datagramBytesMax (checked on every send by the cluster);
 * - no false removal: a 'failed' removal of a node that runs with that incarnation and was neither paused nor cut
 *   off (nor was the observer) during the last fail timeout.
 * Big clusters are checked on a seeded sample of observers.
 */
import { groupOfName } from '../core/hash.js';
import { randInt, type Rng } from '../core/rng.js';
import type { CoreEvent } from '../core/types.js';
import { SlotState, type Cluster, type ClusterObserver } from './cluster.js';
import type { Faults } from './faults.js';

export interface Violation {
  kind: string;
  /** Simulated ms. */
  time: number;
  node: string;
  detail: string;
}

/** Collects violations: all are counted by kind, the first `keep` are kept whole. */
/** "t=12.345s kind at node: detail". */
export function formatViolation(v: Violation): string {
  return `t=${(v.time / 1000).toFixed(3)}s ${v.kind} at ${v.node}: ${v.detail}`;
}

export class Violations {
  readonly list: Violation[] = [];
  readonly byKind: Record<string, number> = {};
  count = 0;
  constructor(private readonly keep = 200) {}

  add(kind: string, time: number, node: string, detail: string): void {
    this.count++;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    if (this.list.length < this.keep) this.list.push({ kind, time, node, detail });
  }

  /** One line per kept violation, then the counts by kind. */
  format(max = 20): string {
    const lines = this.list.slice(0, max).map((v) => `  ${formatViolation(v)}`);
    if (this.count > max) lines.push(`  ... ${this.count - Math.min(max, this.list.length)} more`);
    lines.push(`  by kind: ${JSON.stringify(this.byKind)}`);
    return lines.join('\n');
  }
}

const HB_SPAN = 2_097_152; // 2^21: (incarnation, heartbeat) packed in one float64 exactly

export class SafetyChecker implements ClusterObserver {
  falseRemovals = 0;
  checks = 0;
  private readonly seen = new Map<number, Map<string, number>>();
  private readonly seenIncarnation = new Map<number, number>();
  private readonly selfSeen = new Map<number, number>();
  private sample: number[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly faults: Faults,
    readonly violations: Violations,
    private readonly rng: Rng,
    /** Observers checked per round; clusters up to this size are checked whole. */
    private readonly sampleMax = 256,
  ) {
    cluster.onOversize = (slot, bytes, msg) =>
      violations.add('datagram-too-big', cluster.now, cluster.addrs[slot] as string, `${bytes} bytes > ${cluster.config.datagramBytesMax} (message type ${msg.type})`);
  }

  onEvent(slot: number, ev: CoreEvent, now: number): void {
    if (ev.type !== 'member-removed') return;
    this.seen.get(slot)?.delete(ev.addr);
    if (ev.reason !== 'failed') return;
    const c = this.cluster;
    const x = c.slotOf(ev.addr);
    if (x < 0 || c.state[x] === SlotState.Crashed || c.state[x] === SlotState.Left) return;
    if (c.incarnation[x] !== ev.incarnation) return;
    const observer = c.nodes[slot];
    if (!observer) return;
    const since = now - observer.currentTimeouts().failMs;
    const f = this.faults;
    if (f.undisturbedSince(x) >= since || f.undisturbedSince(slot) >= since || f.partitionFreeSince() >= since) return;
    this.falseRemovals++;
    this.violations.add(
      'false-removal',
      now,
      c.addrs[slot] as string,
      `removed ${ev.addr} (incarnation ${ev.incarnation}) as failed, but it ran undisturbed and reachable since ${(f.undisturbedSince(x) / 1000).toFixed(3)}s`,
    );
  }

  /** Check every invariant on the (sampled) running nodes. */
  check(now: number): void {
    this.checks++;
    const c = this.cluster;
    const slots = this.observersToCheck();
    for (const slot of slots) this.checkNode(slot, now);
    // Each node's own heartbeat, on every running node (cheap).
    for (let i = 0; i < c.size; i++) {
      const n = c.nodes[i];
      if (!n || c.state[i] !== SlotState.Running) continue;
      const v = n.incarnation * HB_SPAN + n.heartbeat;
      const last = this.selfSeen.get(i);
      if (last !== undefined && Math.floor(last / HB_SPAN) === n.incarnation && v < last)
        this.violations.add('own-heartbeat-back', now, c.addrs[i] as string, `heartbeat ${last % HB_SPAN} -> ${n.heartbeat} in incarnation ${n.incarnation}`);
      this.selfSeen.set(i, v);
    }
  }

  private observersToCheck(): number[] {
    const c = this.cluster;
    const live: number[] = [];
    if (c.size <= this.sampleMax) {
      for (let i = 0; i < c.size; i++) if (c.state[i] === SlotState.Running) live.push(i);
      return live;
    }
    // Keep a stable sample (so heartbeat histories continue); replace the ones that stopped.
    this.sample = this.sample.filter((s) => c.state[s] !== SlotState.Crashed && c.state[s] !== SlotState.Left);
    const inSample = new Set(this.sample);
    for (let tries = 0; this.sample.length < this.sampleMax && tries < this.sampleMax * 4; tries++) {
      const s = randInt(this.rng, c.size);
      if (c.state[s] === SlotState.Running && !inSample.has(s)) {
        inSample.add(s);
        this.sample.push(s);
      }
    }
    return this.sample.filter((s) => c.state[s] === SlotState.Running);
  }

  private checkNode(slot: number, now: number): void {
    const c = this.cluster;
    const cfg = c.config;
    const n = c.nodes[slot];
    if (!n) return;
    const me = c.addrs[slot] as string;
    const k = cfg.groups;
    if (n.group !== c.group[slot]) this.violations.add('wrong-own-group', now, me, `node says group ${n.group}, hash says ${c.group[slot]}`);

    // Affinity group view: membership, size, heartbeats.
    if (this.seenIncarnation.get(slot) !== n.incarnation) {
      this.seen.set(slot, new Map());
      this.seenIncarnation.set(slot, n.incarnation);
    }
    const seen = this.seen.get(slot) as Map<string, number>;
    const members = n.members(now);
    if (members.length > cfg.viewMax) this.violations.add('view-over-limit', now, me, `${members.length} members > viewMax ${cfg.viewMax}`);
    for (const m of members) {
      if (m.self) continue;
      const g = c.groupOfNode(m.addr);
      if (g !== n.group) this.violations.add('view-foreign-member', now, me, `${m.addr} of group ${g} in the view of group ${n.group}`);
      const v = m.incarnation * HB_SPAN + m.heartbeat;
      const last = seen.get(m.addr);
      if (last !== undefined) {
        const lastInc = Math.floor(last / HB_SPAN);
        if (lastInc === m.incarnation && v < last)
          this.violations.add('heartbeat-back', now, me, `${m.addr} heartbeat ${last - lastInc * HB_SPAN} -> ${m.heartbeat} in incarnation ${m.incarnation}`);
        else if (m.incarnation < lastInc)
          this.violations.add('incarnation-back', now, me, `${m.addr} incarnation ${lastInc} -> ${m.incarnation} without a removal`);
      }
      if (last === undefined || v > last) seen.set(m.addr, v);
    }

    // Filetuples: only names of this group, within limits.
    if (n.tupleCount > cfg.filetuplesMax) this.violations.add('tuples-over-limit', now, me, `${n.tupleCount} > filetuplesMax ${cfg.filetuplesMax}`);
    const perName = new Map<string, number>();
    let foreignTuples = 0;
    let example = '';
    for (const t of n.tuples(now)) {
      if (groupOfName(t.name, k) !== n.group) {
        if (foreignTuples++ === 0) example = `${t.name} (group ${groupOfName(t.name, k)}, owner ${t.owner})`;
      }
      perName.set(t.name, (perName.get(t.name) ?? 0) + 1);
    }
    if (foreignTuples > 0) this.violations.add('tuple-foreign-group', now, me, `${foreignTuples} tuples of other groups in group ${n.group}, e.g. ${example}`);
    for (const [name, count] of perName)
      if (count > cfg.locationsPerNameMax) this.violations.add('locations-over-limit', now, me, `${name}: ${count} > ${cfg.locationsPerNameMax}`);

    // Contacts: members of the group they stand for, at most c per group.
    for (let g = 0; g < k; g++) {
      if (g === n.group) continue;
      const cs = n.contactAddrs(g);
      if (cs.length > cfg.contactsPerGroup) this.violations.add('contacts-over-limit', now, me, `group ${g}: ${cs.length} > ${cfg.contactsPerGroup}`);
      for (const a of cs) {
        const ag = c.groupOfNode(a);
        if (ag !== g) this.violations.add('contact-wrong-group', now, me, `${a} (group ${ag}) kept as contact for group ${g}`);
      }
    }
    const published = n.publishedTuples().length;
    if (published > cfg.publishedMax) this.violations.add('published-over-limit', now, me, `${published} > ${cfg.publishedMax}`);
  }
}
