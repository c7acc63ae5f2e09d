/**
 * The tuples this node owns: what the operator published here. The owner is the source of truth for soft state,
 * so it refreshes each tuple before it expires, retries one that no member of its group confirmed, and (through
 * the runtime's data dir) re-publishes all of them after a restart.
 */
import type { PublishedTuple } from './api.js';

export interface OwnTuple extends PublishedTuple {
  /** When to (re)send it next. */
  dueAt: number;
  /** Confirmed stored by the file's group since the last (re)send. */
  confirmed: boolean;
}

export class PublishedTable {
  private readonly byName = new Map<string, OwnTuple>();
  /** Min-heap of [dueAt, name]; entries whose dueAt no longer matches are skipped (lazy deletion). */
  private heap: [number, string][] = [];
  /** What `nextDue` found last; NaN after any change (the runtime asks after every datagram, the heap rarely changes). */
  private due = NaN;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byName.size;
  }

  get(name: string): OwnTuple | undefined {
    return this.byName.get(name);
  }

  /** Insert or replace; false when the table is full and the name is new. */
  set(t: OwnTuple): boolean {
    if (!this.byName.has(t.name) && this.byName.size >= this.max) return false;
    this.byName.set(t.name, t);
    this.schedule(t, t.dueAt);
    return true;
  }

  /** Every owned tuple (live objects: reschedule them with `schedule`). */
  owned(): IterableIterator<OwnTuple> {
    return this.byName.values();
  }

  delete(name: string): void {
    this.byName.delete(name);
    this.due = NaN;
  }

  schedule(t: OwnTuple, dueAt: number): void {
    this.due = NaN;
    t.dueAt = dueAt;
    this.heap.push([dueAt, t.name]);
    this.up(this.heap.length - 1);
    if (this.heap.length > 4 * this.byName.size + 64) this.rebuild();
  }

  nextDue(): number {
    if (!Number.isNaN(this.due)) return this.due;
    while (this.heap.length > 0) {
      const [due, name] = this.heap[0]!;
      const t = this.byName.get(name);
      if (t !== undefined && t.dueAt === due) return (this.due = due);
      this.pop();
    }
    return (this.due = Infinity);
  }

  /** Tuples due at `now` (each removed from the schedule; the caller re-schedules). */
  takeDue(now: number, limit: number): OwnTuple[] {
    const out: OwnTuple[] = [];
    while (out.length < limit && this.nextDue() <= now) {
      const [, name] = this.pop()!;
      out.push(this.byName.get(name)!);
    }
    return out;
  }

  all(): PublishedTuple[] {
    return [...this.byName.values()].map(({ name, location, versionIncarnation, versionSeq, deleted }) => ({
      name,
      location,
      versionIncarnation,
      versionSeq,
      deleted,
    }));
  }

  private rebuild(): void {
    this.due = NaN;
    this.heap = [...this.byName.values()].map((t): [number, string] => [t.dueAt, t.name]);
    this.heap.sort((a, b) => a[0] - b[0]);
  }

  private pop(): [number, string] | undefined {
    this.due = NaN;
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]![0] <= h[i]![0]) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]![0] < h[m]![0]) m = l;
      if (r < h.length && h[r]![0] < h[m]![0]) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
