/**
 * Lookups and publishes in flight. A request for a foreign group goes to its best contact (1 hop); on timeout to
 * the next contact; when no contact is left, some other node is asked "who is a contact of group G?" (forwarded
 * with a bounded TTL) and the nodes it names are tried (2 hops). A request for the node's own group is answered
 * locally, or - while the node's own state transfer is still running - by another member of the group.
 *
 * This file is the bookkeeping; the node decides whom to send to (it owns the view and the contacts).
 */
import type { Address, TupleEntry } from './types.js';

export interface Pending {
  id: number;
  kind: 'lookup' | 'publish';
  name: string;
  group: number;
  /** The tuple being published (publish only). */
  tuple: TupleEntry | null;
  startedAt: number;
  deadline: number;
  /** Nodes already sent this request. */
  tried: Set<Address>;
  attempts: number;
  /** A refresh of an owned tuple: no publish-done event for the application. */
  silent: boolean;
  /** When the outstanding attempt was sent (its reply is an RTT sample). */
  sentAt: number;
  /** Outstanding attempt: target, hops it counts for, and when it times out. */
  current: Address | null;
  currentHops: number;
  timeoutAt: number;
  /** Nodes of the target group named by a ContactReply, to try next (2 hops). */
  discovered: Address[];
  /** Nodes already asked for a contact. */
  asked: Set<Address>;
  discoverTimeoutAt: number;
  /** Publish: members that acknowledged holding the tuple (this node counts when the group is its own). */
  acks: number;
  /** Publish: copies wanted, min(2, group size as the last acknowledging member saw it). */
  acksWanted: number;
  /** Publish: the group's size as last reported, and the first member that stored it. */
  groupSize: number;
  storedAt: Address | null;
  /** Publish: members that acknowledged (a duplicated ack counts once). */
  acked: Set<Address>;
  /** Rounds over every known target: a publish goes round them again (a lost datagram) until its deadline. */
  passes: number;
}

export class PendingTable {
  private readonly byId = new Map<number, Pending>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byId.size;
  }

  get full(): boolean {
    return this.byId.size >= this.max;
  }

  add(p: Pending): void {
    this.byId.set(p.id, p);
  }

  get(id: number): Pending | undefined {
    return this.byId.get(id);
  }

  delete(id: number): void {
    this.byId.delete(id);
  }

  values(): IterableIterator<Pending> {
    return this.byId.values();
  }

  /** Earliest moment any request needs attention (a timeout, a discovery timeout or its deadline). */
  nextDeadline(): number {
    let t = Infinity;
    for (const p of this.byId.values()) {
      if (p.deadline < t) t = p.deadline;
      if (p.current !== null && p.timeoutAt < t) t = p.timeoutAt;
      if (p.discoverTimeoutAt < t) t = p.discoverTimeoutAt;
    }
    return t;
  }
}

export function newPending(
  id: number,
  kind: 'lookup' | 'publish',
  name: string,
  group: number,
  tuple: TupleEntry | null,
  now: number,
  deadlineMs: number,
): Pending {
  return {
    id,
    kind,
    name,
    group,
    tuple,
    startedAt: now,
    deadline: now + deadlineMs,
    tried: new Set(),
    attempts: 0,
    silent: false,
    sentAt: 0,
    current: null,
    currentHops: 0,
    timeoutAt: Infinity,
    discovered: [],
    asked: new Set(),
    discoverTimeoutAt: Infinity,
    acks: 0,
    acksWanted: 2,
    groupSize: 0,
    storedAt: null,
    acked: new Set(),
    passes: 0,
  };
}
