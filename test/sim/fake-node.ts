/**
 * A tiny stand-in protocol node for testing the simulator's machinery: every `periodMs` it sends one Leave-shaped
 * message (the same object) to each of its peers, and it logs every input it gets.
 */
import type { MemberView, NodeOptions, Output, PublishedTuple, StoredTupleView } from '../../src/core/api.js';
import { timeouts } from '../../src/core/config.js';
import { groupOfNode } from '../../src/core/hash.js';
import { MemberState, MessageType, type CoreEvent, type Message } from '../../src/core/types.js';
import type { SimNode } from '../../src/sim/sim-node.js';

export interface LogEntry {
  what: 'tick' | 'recv';
  now: number;
  from?: string;
  hb?: number;
}

export class FakeNode implements SimNode {
  static periodMs = 100;
  readonly address: string;
  readonly group: number;
  readonly incarnation: number;
  heartbeat = 0;
  readonly log: LogEntry[] = [];
  readonly opts: NodeOptions;
  peers: string[];
  /** What the inspection methods report (tests set these to provoke the checkers). */
  fakeMembers: MemberView[] = [];
  fakeTuples: StoredTupleView[] = [];
  fakeContacts = new Map<number, string[]>();
  fakeJoined = true;
  /** Extra bytes added to every message (to provoke the datagram size check). */
  padding = '';
  private next: number;
  private out: Output = { sends: [], events: [] };
  private published: PublishedTuple[];

  constructor(opts: NodeOptions) {
    this.opts = opts;
    this.address = opts.self;
    this.incarnation = opts.incarnation;
    this.group = groupOfNode(opts.self, opts.config.groups);
    this.peers = [...opts.seeds];
    this.next = opts.now + FakeNode.periodMs;
    this.published = opts.published ?? [];
  }

  handle(from: string, msg: Message, now: number): void {
    this.log.push({ what: 'recv', now, from, hb: msg.heartbeat });
  }
  tick(now: number): void {
    this.log.push({ what: 'tick', now });
    if (now < this.next) return;
    this.next += FakeNode.periodMs;
    this.heartbeat++;
    const msg: Message = { type: MessageType.Leave, cluster: 'c' + this.padding, groups: 1, from: this.address, incarnation: this.incarnation, heartbeat: this.heartbeat };
    for (const p of this.peers) this.out.sends.push({ to: p, msg });
  }
  publish(name: string, location: string): number {
    this.published.push({ name, location, versionIncarnation: this.incarnation, versionSeq: 1, deleted: false });
    return 1;
  }
  unpublish(): number {
    return 0;
  }
  lookup(): number {
    return 0;
  }
  emit(ev: CoreEvent): void {
    this.out.events.push(ev);
  }
  leave(): void {
    this.out.events.push({ type: 'left' });
  }
  drain(): Output {
    const o = this.out;
    this.out = { sends: [], events: [] };
    return o;
  }
  nextDeadline(): number {
    return this.next;
  }
  get joined(): boolean {
    return this.fakeJoined;
  }
  get synced(): boolean {
    return true;
  }
  get groupSize(): number {
    return 1;
  }
  members(): MemberView[] {
    return [{ addr: this.address, incarnation: this.incarnation, heartbeat: this.heartbeat, ageMs: 0, rttMs: null, state: MemberState.Alive, self: true }, ...this.fakeMembers];
  }
  contacts() {
    return [];
  }
  tuples(): StoredTupleView[] {
    return this.fakeTuples;
  }
  memberState(addr: string): MemberState | null {
    return this.fakeMembers.find((m) => m.addr === addr)?.state ?? null;
  }
  memberHeartbeat(addr: string) {
    const m = this.fakeMembers.find((x) => x.addr === addr);
    return m ? { incarnation: m.incarnation, heartbeat: m.heartbeat } : null;
  }
  tupleVersion() {
    return null;
  }
  get tupleCount(): number {
    return 0;
  }
  contactAddrs(group: number): string[] {
    return this.fakeContacts.get(group) ?? [];
  }
  publishedTuples(): PublishedTuple[] {
    return this.published.slice();
  }
  readonly counters = { drops: {} as never, suspected: 0, suspectProbes: 0, removed: 0, refuted: 0, contactsReplaced: 0, antiEntropyRounds: 0, lookupRequestsServed: 0, publishRequestsServed: 0, notReadyAnswers: 0, groupResets: 0 };
  currentTimeouts() {
    return timeouts(this.opts.config, 1);
  }
}
