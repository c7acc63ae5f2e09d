/**
 * A minimal in-memory network for unit tests of the core: messages are delivered as objects (no codec), with a
 * fixed delay and optional seeded loss. The simulator (src/sim) is the real test bed; this is for fast,
 * exact assertions on protocol logic.
 */
import type { PublishedTuple } from '../../src/core/api.js';
import type { KelipsConfig } from '../../src/core/config.js';
import { resolveConfig } from '../../src/core/config.js';
import { KelipsNode } from '../../src/core/node.js';
import { SeededRng } from '../../src/core/rng.js';
import type { Address, CoreEvent, Message } from '../../src/core/types.js';

interface InFlight {
  at: number;
  seq: number;
  to: Address;
  from: Address;
  msg: Message;
}

export class MiniNet {
  readonly nodes = new Map<Address, KelipsNode>();
  readonly events: { at: number; node: Address; e: CoreEvent }[] = [];
  readonly down = new Set<Address>();
  now = 0;
  delayMs = 1;
  loss = 0;
  /** Called with every datagram a node emits (before loss). */
  onSend: ((msg: Message, from: Address, to: Address) => void) | null = null;
  private queue: InFlight[] = [];
  private seq = 0;
  private readonly rng: SeededRng;
  readonly cfg: Readonly<KelipsConfig>;

  constructor(overrides: Partial<KelipsConfig>, seed = 1) {
    this.cfg = resolveConfig(overrides);
    this.rng = new SeededRng(seed);
  }

  add(addr: Address, seeds: Address[], incarnation = 1, published: PublishedTuple[] = []): KelipsNode {
    const n = new KelipsNode({ config: this.cfg, self: addr, incarnation, rng: new SeededRng(this.nodes.size + 100), now: this.now, seeds, published, founder: seeds.length === 0, firstStart: incarnation === 1 });
    this.nodes.set(addr, n);
    this.down.delete(addr);
    this.flush(addr, n);
    return n;
  }

  flush(addr: Address, n: KelipsNode): void {
    const out = n.drain();
    for (const e of out.events) this.events.push({ at: this.now, node: addr, e });
    for (const s of out.sends) {
      this.onSend?.(s.msg, addr, s.to);
      if (this.loss > 0 && this.rng.next() < this.loss) continue;
      this.queue.push({ at: this.now + this.delayMs, seq: this.seq++, to: s.to, from: addr, msg: s.msg });
    }
  }

  /** Advance virtual time to `until`, delivering datagrams and firing timers in order. */
  run(until: number): void {
    for (let guard = 0; guard < 10_000_000; guard++) {
      let nextTimer = Infinity;
      let timerNode: Address | null = null;
      for (const [a, n] of this.nodes) {
        if (this.down.has(a)) continue;
        const d = n.nextDeadline();
        if (d < nextTimer) {
          nextTimer = d;
          timerNode = a;
        }
      }
      let qi = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const q = this.queue[i]!;
        if (qi < 0 || q.at < this.queue[qi]!.at || (q.at === this.queue[qi]!.at && q.seq < this.queue[qi]!.seq)) qi = i;
      }
      const nextMsg = qi >= 0 ? this.queue[qi]!.at : Infinity;
      const next = Math.min(nextTimer, nextMsg);
      if (next > until) {
        this.now = until;
        return;
      }
      this.now = Math.max(this.now, next);
      if (nextMsg <= nextTimer) {
        const q = this.queue.splice(qi, 1)[0]!;
        const n = this.nodes.get(q.to);
        if (n === undefined || this.down.has(q.to)) continue;
        n.handle(q.from, q.msg, this.now);
        this.flush(q.to, n);
      } else {
        const n = this.nodes.get(timerNode!)!;
        n.tick(this.now);
        this.flush(timerNode!, n);
      }
    }
    throw new Error('MiniNet.run: event budget exhausted');
  }

  crash(addr: Address): void {
    this.down.add(addr);
  }

  live(): KelipsNode[] {
    return [...this.nodes].filter(([a]) => !this.down.has(a)).map(([, n]) => n);
  }

  eventsOf<T extends CoreEvent['type']>(type: T): { at: number; node: Address; e: Extract<CoreEvent, { type: T }> }[] {
    return this.events.filter((x) => x.e.type === type) as { at: number; node: Address; e: Extract<CoreEvent, { type: T }> }[];
  }
}

export function addr(i: number): Address {
  return `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:7946`;
}
