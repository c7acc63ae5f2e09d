/**
 * Runs N protocol nodes on one virtual clock. Each node lives in a slot (an index: its address, state, group and
 * generator are array entries; `slotOf` maps an address to its slot). Every input to a node (a datagram, its timer,
 * a command) is followed by `drain()`: sends are encoded with the real codec (once per message object), counted,
 * passed through the network model and scheduled as deliveries (the first delivery of a datagram decodes it, the
 * other copies reuse that; see datagram.ts); events go to the observer; the node's one tick
 * entry is moved to `nextDeadline()`.
 *
 * Sharding (optional, for running one simulation on several threads): every shard runs a Cluster with the same
 * slots, addresses and scenario, but only the nodes of its own affinity groups (group mod shard count) live in it.
 * Lifecycle changes of the other shards' slots are mirrored as state only; datagrams to them go through the
 * ShardLink, and `runUntil` keeps to the link's safe time. Lifecycle changes (crash, leave, pause, resume) of another
 * shard's slot change only its mirrored state; publish, unpublish and lookup there do nothing (-1); `command` and
 * `node` throw. A sharded cluster sends only from events (`at`, `every`, ticks, deliveries): a command run between
 * two `runUntil` calls could send below the clock already promised to the other shards (the link checks).
 *
 * Process lifecycle: running, paused (timers and datagrams wait; datagrams queue in a bounded socket buffer and are
 * handed over on resume after the overdue tick, as Node's event loop runs timers before I/O), crashed (state lost;
 * its published tuples survive on "disk"), left (graceful leave). A restart reuses the slot and address with a
 * higher incarnation.
 */
import type { NodeOptions, PublishedTuple } from '../core/api.js';
import type { KelipsConfig } from '../core/config.js';
import { fmix32, groupOfNode } from '../core/hash.js';
import { SeededRng } from '../core/rng.js';
import type { CoreEvent, Message } from '../core/types.js';
import { Datagram } from './datagram.js';
import { EventKind, EventQueue } from './event-queue.js';
import { Network, type LinkSettings } from './network.js';
import type { Codec, NodeFactory, SimNode } from './sim-node.js';
import type { ShardLink } from './shard-link.js';
import { SocketBuffers } from './socket-buffer.js';

export const enum SlotState {
  Running = 1,
  Paused = 2,
  Crashed = 3,
  Left = 4,
}

export interface ClusterObserver {
  onEvent(slot: number, ev: CoreEvent, now: number): void;
  /**
   * A process started on `slot` (first start or restart) holding `published`, its own tuples from disk (null when
   * it has none, or when the slot lives in another shard and its disk is not mirrored here).
   */
  onStart?(slot: number, now: number, published: readonly PublishedTuple[] | null): void;
  /** The process of `slot` stopped (crash or leave). */
  onStop?(slot: number, now: number): void;
  /** The application published (or, `deleted`, unpublished) `name` on `slot`; told in every shard. */
  onPublish?(slot: number, name: string, deleted: boolean, now: number): void;
}

export interface ClusterOptions {
  seed: number;
  config: Readonly<KelipsConfig>;
  links: LinkSettings;
  factory: NodeFactory;
  codec: Codec;
  /** Bytes a paused node's socket buffer holds before it drops datagrams. */
  socketBufferBytes?: number;
  /** First incarnation (unix-seconds sized, so encoded sizes are honest). */
  incarnationBase?: number;
  /** This cluster is one shard of a simulation on several threads (see the header). */
  shard?: ShardLink;
  /** Pass each node its slot's stable name (`name` in the node options), for cores with node names. */
  namedNodes?: boolean;
}

export interface ClusterCounters {
  datagramsSent: number;
  bytesSent: number;
  deliveries: number;
  decodeFailures: number;
  /** Datagrams that arrived at a crashed or departed node. */
  droppedDead: number;
  /** Datagrams to an address no slot ever had. */
  droppedUnknown: number;
  /** Datagrams lost because a paused node's socket buffer was full. */
  droppedBufferFull: number;
  /** Datagrams larger than config.datagramBytesMax (a limit violation of the core). */
  oversize: number;
  largestDatagram: number;
  ticks: number;
  /** Datagrams and bytes sent, by message type (index = MessageType). */
  datagramsByType: number[];
  bytesByType: number[];
}

type Action = (now: number) => void;

export class Cluster {
  now = 0;
  readonly queue = new EventQueue(1 << 14);
  readonly network: Network;
  readonly config: Readonly<KelipsConfig>;
  readonly nodes: (SimNode | null)[] = [];
  readonly addrs: string[] = [];
  /** Stable name of each slot: its first address (a moved slot keeps it; see `move`). */
  readonly names: string[] = [];
  readonly state: SlotState[] = [];
  readonly group: number[] = [];
  readonly incarnation: number[] = [];
  /** Time the current process of the slot started. */
  readonly startedAt: number[] = [];
  /** Time the last process of the slot stopped (crash or leave); -Infinity if never. */
  readonly stoppedAt: number[] = [];
  /** Published tuples saved at crash or leave, restored at restart. */
  readonly disk: (PublishedTuple[] | null)[] = [];
  readonly bytesBySlot: number[] = [];
  readonly counters: ClusterCounters = {
    datagramsSent: 0, bytesSent: 0, deliveries: 0, decodeFailures: 0, droppedDead: 0, droppedUnknown: 0,
    droppedBufferFull: 0, oversize: 0, largestDatagram: 0, ticks: 0, datagramsByType: new Array<number>(64).fill(0),
    bytesByType: new Array<number>(64).fill(0),
  };
  /** Running hash of everything that happened: equal digests = identical runs. */
  digest = 0x811c9dc5;
  /** Told about every core event, in order. */
  readonly observers: ClusterObserver[] = [];
  /** Called with every oversize datagram (slot, bytes, message type). */
  onOversize: ((slot: number, bytes: number, msg: Message) => void) | null = null;

  private readonly index = new Map<string, number>();
  private readonly nameIndex = new Map<string, number>();
  /** Addresses handed to moved slots come from here (past any slot's own address). */
  private nextSpareAddress = 1 << 20;
  private readonly tickEntry: number[] = [];
  private readonly generation: number[] = [];
  private readonly lastTickAt: number[] = [];
  private spins = 0;
  private spinTime = -1;
  private readonly inbox: SocketBuffers;
  private readonly actions = new Map<number, Action>();
  private nextAction = 0;
  private readonly seed: number;
  private readonly factory: NodeFactory;
  private readonly codec: Codec;
  private readonly incarnationBase: number;
  private readonly eventCodes = new Map<string, number>();

  private readonly link: ShardLink | null;
  private readonly namedNodes: boolean;
  private readonly stepFn = (): void => this.step();
  private readonly deliverRemote = (arrival: number, to: number, from: number, bytes: Uint8Array): void => {
    if (arrival < this.now) throw new Error(`a datagram from another shard arrives at ${arrival} ms, in the past of this shard (${this.now} ms)`);
    this.queue.push(arrival, EventKind.Deliver, to, from, new Datagram(bytes));
  };

  constructor(opts: ClusterOptions) {
    this.seed = opts.seed >>> 0;
    this.link = opts.shard ?? null;
    this.namedNodes = opts.namedNodes ?? false;
    this.config = opts.config;
    this.factory = opts.factory;
    this.codec = opts.codec;
    this.inbox = new SocketBuffers(opts.socketBufferBytes ?? 4 * 1024 * 1024);
    this.incarnationBase = opts.incarnationBase ?? 1_790_000_000;
    const shardSalt = this.link === null ? 0 : Math.imul(this.link.index + 1, 0x27d4eb2f);
    this.network = new Network(opts.links, new SeededRng(fmix32(this.seed ^ 0x6e657477 ^ shardSalt)));
  }

  /** Does this cluster run the node of `slot`? (Always, unless sharded.) */
  owns(slot: number): boolean {
    return this.link === null || this.shardOf(slot) === this.link.index;
  }

  /** Does this cluster run the nodes of affinity group `g`? (Always, unless sharded.) */
  ownsGroup(g: number): boolean {
    return this.link === null || g % this.link.count === this.link.index;
  }

  /** The group of a node known by address or name: the slot's (stable across moves), else the hash of the address. */
  groupOfNode(addrOrName: string): number {
    const slot = this.slotOfNode(addrOrName);
    return slot >= 0 ? (this.group[slot] as number) : groupOfNode(addrOrName, this.config.groups);
  }

  private shardOf(slot: number): number {
    return this.link === null ? 0 : (this.group[slot] as number) % this.link.count;
  }

  get size(): number {
    return this.addrs.length;
  }

  slotOf(addr: string): number {
    return this.index.get(addr) ?? -1;
  }

  /** The slot of a node known by its address or its stable name (-1 if none). */
  slotOfNode(addrOrName: string): number {
    return this.index.get(addrOrName) ?? this.nameIndex.get(addrOrName) ?? -1;
  }

  isLive(slot: number): boolean {
    return this.state[slot] === SlotState.Running;
  }

  node(slot: number): SimNode {
    const n = this.nodes[slot];
    if (!n) throw new Error(`slot ${slot} (${this.addrs[slot]}) has no running process`);
    return n;
  }

  /** Start a new node with a new address, joining through the given seed slots (none: a new cluster). */
  addNode(seeds: readonly number[], published?: PublishedTuple[]): number {
    const slot = this.addrs.length;
    const addr = addressOf(slot);
    this.addrs.push(addr);
    this.names.push(addr);
    this.index.set(addr, slot);
    this.nameIndex.set(addr, slot);
    this.group.push(groupOfNode(addr, this.config.groups));
    this.state.push(SlotState.Crashed);
    this.incarnation.push(this.incarnationBase + slot);
    this.startedAt.push(this.now);
    this.stoppedAt.push(-Infinity);
    this.disk.push(published ?? null);
    this.bytesBySlot.push(0);
    this.tickEntry.push(-1);
    this.generation.push(0);
    this.lastTickAt.push(-1);
    this.start(slot, seeds);
    return slot;
  }

  /** Kill the process: state is lost, published tuples are kept on disk. */
  crash(slot: number): void {
    if (!this.owns(slot)) return this.stop(slot, SlotState.Crashed);
    const n = this.node(slot);
    this.disk[slot] = n.publishedTuples();
    this.stop(slot, SlotState.Crashed);
  }

  /** Graceful leave: the node says goodbye, its datagrams go out, then the process exits. */
  leave(slot: number): void {
    if (!this.owns(slot)) return this.stop(slot, SlotState.Left);
    const n = this.node(slot);
    if (this.state[slot] === SlotState.Paused) this.resume(slot);
    n.leave(this.now);
    this.flush(slot, n);
    this.disk[slot] = n.publishedTuples();
    this.stop(slot, SlotState.Left);
  }

  /** Start a crashed or departed slot again: same address, higher incarnation, tuples from disk. */
  restart(slot: number, seeds: readonly number[]): void {
    const s = this.state[slot];
    if (s !== SlotState.Crashed && s !== SlotState.Left) throw new Error(`restart of ${this.addrs[slot]} in state ${s}`);
    const wall = this.incarnationBase + Math.floor(this.now / 1000) + 1;
    this.incarnation[slot] = Math.max((this.incarnation[slot] as number) + 1, wall);
    this.generation[slot] = (this.generation[slot] as number) + 1;
    this.start(slot, seeds);
  }

  /**
   * Give a stopped slot a new address (as a restarted pod gets a new IP); it keeps its name and group. Datagrams
   * to the old address are dropped as to an unknown one from now on. Nodes are told their name only when the
   * cluster was built with `namedNodes` (the core's node names); without it a moved node is a new node.
   */
  move(slot: number): string {
    const s = this.state[slot];
    if (s !== SlotState.Crashed && s !== SlotState.Left) throw new Error(`move of ${this.addrs[slot]} in state ${s}`);
    const addr = addressOf(this.nextSpareAddress++);
    this.index.delete(this.addrs[slot] as string);
    this.addrs[slot] = addr;
    this.index.set(addr, slot);
    return addr;
  }

  /** Stop the process without killing it: nothing runs; datagrams wait in its socket buffer. */
  pause(slot: number): void {
    if (this.state[slot] !== SlotState.Running) throw new Error(`pause of ${this.addrs[slot]} in state ${this.state[slot]}`);
    this.state[slot] = SlotState.Paused;
    this.cancelTick(slot);
  }

  /** Continue a paused process: the overdue timer first, then the buffered datagrams in arrival order. */
  resume(slot: number): void {
    if (this.state[slot] !== SlotState.Paused) return;
    this.state[slot] = SlotState.Running;
    if (!this.owns(slot)) return;
    const n = this.node(slot);
    n.tick(this.now);
    this.counters.ticks++;
    this.flush(slot, n);
    const { from, datagrams } = this.inbox.take(slot);
    for (let i = 0; i < from.length && this.state[slot] === SlotState.Running; i++) {
      this.receive(slot, from[i] as number, datagrams[i] as Datagram);
    }
  }

  /** Run `fn` at simulated time `time` (for scenario steps, not per-datagram work). */
  at(time: number, fn: Action): void {
    const id = this.nextAction++;
    this.actions.set(id, fn);
    this.queue.push(Math.max(time, this.now), EventKind.Control, id, 0, null);
  }

  /** Run `fn` every `intervalMs` from `start` until `end` (exclusive). */
  every(intervalMs: number, start: number, end: number, fn: Action): void {
    const step = (now: number): void => {
      fn(now);
      if (now + intervalMs < end) this.at(now + intervalMs, step);
    };
    if (start < end) this.at(start, step);
  }

  /** Publish on the node of `slot`; returns the core's request id (-1 for a slot of another shard). */
  publish(slot: number, name: string, location: string): number {
    if (!this.owns(slot)) return this.published(slot, name, false, -1);
    const n = this.node(slot);
    const id = n.publish(name, location, this.now);
    this.flush(slot, n);
    return this.published(slot, name, false, id);
  }

  unpublish(slot: number, name: string): number {
    if (!this.owns(slot)) return this.published(slot, name, true, -1);
    const n = this.node(slot);
    const id = n.unpublish(name, this.now);
    this.flush(slot, n);
    return this.published(slot, name, true, id);
  }

  private published(slot: number, name: string, deleted: boolean, id: number): number {
    for (const o of this.observers) o.onPublish?.(slot, name, deleted, this.now);
    return id;
  }

  lookup(slot: number, name: string): number {
    if (!this.owns(slot)) return -1;
    const n = this.node(slot);
    const id = n.lookup(name, this.now);
    this.flush(slot, n);
    return id;
  }

  /** Run a command on a live node and route what it produces. */
  command<T>(slot: number, fn: (n: SimNode, now: number) => T): T {
    const n = this.node(slot);
    const r = fn(n, this.now);
    this.flush(slot, n);
    return r;
  }

  /** Process events until simulated time `until` (inclusive). */
  runUntil(until: number): void {
    if (this.link !== null) this.link.runUntil(this.queue, until, this.stepFn, this.deliverRemote);
    else {
      const q = this.queue;
      while (q.size > 0 && q.peekTime() <= until) this.step();
    }
    if (until > this.now && until !== Infinity) this.now = until;
  }

  /** Run the next event. */
  private step(): void {
    const q = this.queue;
    const id = q.pop();
    const t = q.timeOf(id);
    if (t > this.now) this.now = t;
    const kind = q.kindOf(id);
    const a = q.aOf(id);
    if (kind === EventKind.Deliver) {
      const b = q.bOf(id);
      const buf = q.payloadOf(id) as Datagram;
      q.release(id);
      this.arrive(a, b, buf);
    } else if (kind === EventKind.Tick) {
      q.release(id);
      this.tickEntry[a] = -1;
      const n = this.nodes[a];
      if (n && this.state[a] === SlotState.Running) {
        this.counters.ticks++;
        if (this.lastTickAt[a] === this.now) {
          if (this.spinTime !== this.now) {
            this.spinTime = this.now;
            this.spins = 0;
          }
          if (++this.spins > 100_000) throw new Error(`${this.addrs[a]} ticks in a loop at t=${this.now}: nextDeadline() does not advance`);
        } else {
          this.lastTickAt[a] = this.now;
        }
        n.tick(this.now);
        this.flush(a, n);
      }
    } else {
      q.release(id);
      const fn = this.actions.get(a);
      this.actions.delete(a);
      if (fn) fn(this.now);
    }
  }

  private start(slot: number, seeds: readonly number[]): void {
    if (!this.owns(slot)) {
      this.disk[slot] = null;
      this.state[slot] = SlotState.Running;
      this.startedAt[slot] = this.now;
      for (const o of this.observers) o.onStart?.(slot, this.now, null);
      return;
    }
    const seedAddrs: string[] = [];
    for (const s of seeds) if (s !== slot) seedAddrs.push(this.addrs[s] as string);
    const rngSeed = fmix32(this.seed ^ Math.imul(slot + 1, 0x9e3779b1) ^ Math.imul(this.generation[slot] as number, 0x85ebca6b));
    const published = this.disk[slot];
    const opts: NodeOptions = {
      config: this.config,
      self: this.addrs[slot] as string,
      incarnation: this.incarnation[slot] as number,
      rng: new SeededRng(rngSeed),
      now: this.now,
      seeds: seedAddrs,
      founder: seedAddrs.length === 0,
      firstStart: this.generation[slot] === 0,
      ...(published ? { published } : {}),
    };
    // The core's node name (stable identity), for cores that take one: see `namedNodes`.
    if (this.namedNodes) Object.assign(opts, { name: this.names[slot] });
    const node = this.factory(opts);
    this.nodes[slot] = node;
    this.disk[slot] = null;
    this.state[slot] = SlotState.Running;
    this.startedAt[slot] = this.now;
    for (const o of this.observers) o.onStart?.(slot, this.now, published ?? null);
    this.flush(slot, node);
  }

  private stop(slot: number, state: SlotState): void {
    for (const o of this.observers) o.onStop?.(slot, this.now);
    this.cancelTick(slot);
    this.nodes[slot] = null;
    this.state[slot] = state;
    this.stoppedAt[slot] = this.now;
    this.inbox.clear(slot);
  }

  private cancelTick(slot: number): void {
    const e = this.tickEntry[slot] as number;
    if (e >= 0) {
      this.queue.cancel(e);
      this.tickEntry[slot] = -1;
    }
  }

  private arrive(to: number, from: number, buf: Datagram): void {
    const s = this.state[to];
    if (s === SlotState.Running) {
      this.receive(to, from, buf);
    } else if (s === SlotState.Paused) {
      if (!this.inbox.put(to, from, buf)) this.counters.droppedBufferFull++;
    } else {
      this.counters.droppedDead++;
    }
  }

  private receive(to: number, from: number, d: Datagram): void {
    const n = this.nodes[to] as SimNode;
    let r = d.decoded;
    if (r === null) r = d.decoded = this.codec.decode(d.bytes);
    if (!r.ok) {
      this.counters.decodeFailures++;
      return;
    }
    this.counters.deliveries++;
    n.handle(this.addrs[from] as string, r.msg, this.now);
    this.flush(to, n);
  }

  /** Route everything the node produced and move its tick. */
  private flush(slot: number, n: SimNode): void {
    const out = n.drain();
    const sends = out.sends;
    let h = this.digest;
    if (sends.length > 0) {
      const net = this.network;
      const q = this.queue;
      const max = this.config.datagramBytesMax;
      let lastMsg: Message | null = null;
      let datagram = EMPTY;
      for (let i = 0; i < sends.length; i++) {
        const s = sends[i]!;
        if (s.msg !== lastMsg) {
          lastMsg = s.msg;
          datagram = new Datagram(this.codec.encode(s.msg));
          if (datagram.length > max && this.codec.wireFormat !== false) {
            this.counters.oversize++;
            if (this.onOversize) this.onOversize(slot, datagram.length, s.msg);
          }
          if (datagram.length > this.counters.largestDatagram) this.counters.largestDatagram = datagram.length;
        }
        const len = datagram.length;
        this.counters.datagramsSent++;
        this.counters.bytesSent += len;
        this.counters.datagramsByType[s.msg.type & 63]!++;
        this.counters.bytesByType[s.msg.type & 63]! += len;
        this.bytesBySlot[slot] = (this.bytesBySlot[slot] as number) + len;
        const to = this.index.get(s.to);
        h = Math.imul(h ^ (len + (s.msg.type << 16)), 0x01000193);
        if (to === undefined) {
          this.counters.droppedUnknown++;
          continue;
        }
        h = Math.imul(h ^ to, 0x01000193);
        const copies = net.plan(slot, to);
        if (this.link !== null && !this.owns(to)) {
          for (let c = 0; c < copies; c++) this.link.send(this.shardOf(to), this.now + (net.delays[c] as number), to, slot, datagram.bytes, this.deliverRemote);
          continue;
        }
        for (let c = 0; c < copies; c++) q.push(this.now + (net.delays[c] as number), EventKind.Deliver, to, slot, datagram);
      }
    }
    const events = out.events;
    if (events.length > 0) {
      const obs = this.observers;
      for (let i = 0; i < events.length; i++) {
        const ev = events[i]!;
        h = Math.imul(h ^ this.eventCode(ev.type) ^ (slot << 8), 0x01000193);
        for (let j = 0; j < obs.length; j++) obs[j]!.onEvent(slot, ev, this.now);
      }
    }
    this.digest = h;
    if (this.nodes[slot] === n && this.state[slot] === SlotState.Running) this.schedule(slot, n.nextDeadline());
  }

  private schedule(slot: number, deadline: number): void {
    const e = this.tickEntry[slot] as number;
    if (!(deadline < Infinity)) {
      if (e >= 0) this.cancelTick(slot);
      return;
    }
    const t = deadline > this.now ? deadline : this.now;
    if (e < 0) this.tickEntry[slot] = this.queue.push(t, EventKind.Tick, slot, 0, null);
    else if (this.queue.timeOf(e) !== t) this.queue.reschedule(e, t);
  }

  private eventCode(type: string): number {
    let c = this.eventCodes.get(type);
    if (c === undefined) {
      c = this.eventCodes.size + 1;
      this.eventCodes.set(type, c);
    }
    return c;
  }
}

const EMPTY = new Datagram(new Uint8Array(0));

/** Simulated IPv4 address of slot i: 10.x.y.z:7946 with z in 1..254. */
export function addressOf(slot: number): string {
  const z = (slot % 254) + 1;
  const rest = Math.floor(slot / 254);
  return `10.${(rest >> 8) & 255}.${rest & 255}.${z}:7946`;
}
