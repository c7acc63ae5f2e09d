/**
 * Contacts: for every foreign affinity group, c nodes this node sends lookups and publishes to, plus a few spare
 * candidates learnt from gossip so a failed contact is replaced without asking anyone.
 *
 * A contact is kept while it answers: each round the node probes its stalest contact (cross-group gossip with an
 * ack) and every lookup or publish is another probe. `contactMissesMax` consecutive unanswered probes or requests
 * replace it with the freshest candidate. A candidate whose measured RTT beats a contact's by the configured factor
 * takes its place. Memory: (k - 1) * (c + candidates) entries.
 */
import type { Rng } from './rng.js';
import { randInt } from './rng.js';
import type { Address, ContactReplaceReason, MemberEntry } from './types.js';

export interface Contact {
  addr: Address;
  incarnation: number;
  heartbeat: number;
  lastHeard: number;
  rttMs: number | null;
  misses: number;
}

interface GroupSlot {
  contacts: Contact[];
  candidates: Contact[];
}

export interface ContactChange {
  group: number;
  old: Address | null;
  addr: Address | null;
  reason: ContactReplaceReason | 'added';
}

export class ContactTable {
  private readonly slots: GroupSlot[];
  private probeCursor = 0;
  /** Set by `locate`. */
  private foundIsContact = false;

  constructor(
    private readonly k: number,
    readonly ownGroup: number,
    private readonly c: number,
    private readonly spare: number,
    private readonly missesMax: number,
    private readonly rttImprovement: number,
    private readonly groupOf: (addr: Address) => number,
  ) {
    this.slots = [];
    for (let g = 0; g < k; g++) this.slots.push({ contacts: [], candidates: [] });
  }

  contactsOf(group: number): readonly Contact[] {
    return this.slots[group]?.contacts ?? [];
  }

  candidatesOf(group: number): readonly Contact[] {
    return this.slots[group]?.candidates ?? [];
  }

  /** Foreign groups with no contact at all. */
  groupsMissing(): number {
    let n = 0;
    for (let g = 0; g < this.k; g++) if (g !== this.ownGroup && this.slots[g]!.contacts.length === 0) n++;
    return n;
  }

  /** Total contacts held. */
  get contactCount(): number {
    let n = 0;
    for (const s of this.slots) n += s.contacts.length;
    return n;
  }

  /**
   * The contact or candidate with this address, or null; `foundIsContact` says which. (No result object: this runs
   * for every foreign entry a node receives.)
   */
  private locate(addr: Address, group: number): Contact | null {
    const slot = this.slots[group];
    if (slot === undefined || group === this.ownGroup) return null;
    for (const x of slot.contacts) {
      if (x.addr === addr) {
        this.foundIsContact = true;
        return x;
      }
    }
    for (const x of slot.candidates) {
      if (x.addr === addr) {
        this.foundIsContact = false;
        return x;
      }
    }
    return null;
  }

  /**
   * News of a foreign node (from gossip, an ack, a reply or a direct message). Refreshes it if known; otherwise
   * fills an empty contact slot, or becomes a candidate if fresher than the stalest one.
   */
  offer(e: MemberEntry, now: number, staleMs: number, changes: ContactChange[], group: number = this.groupOf(e.addr)): void {
    if (group === this.ownGroup) return;
    const slot = this.slots[group];
    if (slot === undefined) return;
    const heardAt = now - e.ageMs;
    const x = this.locate(e.addr, group);
    if (x !== null) {
      if (e.incarnation < x.incarnation) return;
      if (e.incarnation > x.incarnation || e.heartbeat > x.heartbeat) {
        x.incarnation = e.incarnation;
        x.heartbeat = e.heartbeat;
      }
      if (heardAt > x.lastHeard) x.lastHeard = heardAt;
      return;
    }
    if (e.ageMs >= staleMs) return;
    if (slot.contacts.length < this.c) {
      slot.contacts.push(newContact(e, heardAt));
      changes.push({ group, old: null, addr: e.addr, reason: 'added' });
      return;
    }
    if (this.spare === 0) return;
    if (slot.candidates.length < this.spare) {
      slot.candidates.push(newContact(e, heardAt));
      return;
    }
    let stalest = slot.candidates[0]!;
    for (let i = 1; i < slot.candidates.length; i++) {
      if (slot.candidates[i]!.lastHeard < stalest.lastHeard) stalest = slot.candidates[i]!;
    }
    if (stalest.lastHeard >= heardAt) return;
    // The stalest candidate makes way. Its record is reused: candidates come and go all the time, and a new object
    // for each would live just long enough to burden the old generation of the garbage collector.
    stalest.addr = e.addr;
    stalest.incarnation = e.incarnation;
    stalest.heartbeat = e.heartbeat;
    stalest.lastHeard = heardAt;
    stalest.rttMs = null;
    stalest.misses = 0;
  }

  /** Direct evidence of life: it answered or spoke to us. */
  heard(addr: Address, incarnation: number, heartbeat: number, now: number, group: number = this.groupOf(addr)): void {
    const x = this.locate(addr, group);
    if (x === null) return;
    if (incarnation < x.incarnation) return;
    if (incarnation > x.incarnation) {
      x.incarnation = incarnation;
      x.heartbeat = heartbeat;
    } else if (heartbeat > x.heartbeat) x.heartbeat = heartbeat;
    x.lastHeard = now;
    x.misses = 0;
  }

  /** An RTT sample (ms) from an ack; may promote a candidate that is much closer than a contact. */
  rtt(addr: Address, sampleMs: number, changes: ContactChange[]): void {
    const group = this.groupOf(addr);
    const x = this.locate(addr, group);
    if (x === null) return;
    x.rttMs = x.rttMs === null ? sampleMs : 0.8 * x.rttMs + 0.2 * sampleMs;
    if (this.foundIsContact) return;
    const slot = this.slots[group]!;
    let worst: Contact | null = null;
    for (const y of slot.contacts) if (y.rttMs !== null && (worst === null || y.rttMs > (worst.rttMs as number))) worst = y;
    if (worst === null || slot.contacts.length < this.c) return;
    if (x.rttMs < this.rttImprovement * (worst.rttMs as number)) {
      this.swap(slot, worst, x);
      changes.push({ group, old: worst.addr, addr: x.addr, reason: 'better-rtt' });
    }
  }

  /** It did not answer a probe or a request. Replaced after `missesMax` in a row. */
  miss(addr: Address, now: number, staleMs: number, changes: ContactChange[]): void {
    const group = this.groupOf(addr);
    const x = this.locate(addr, group);
    if (x === null) return;
    x.misses++;
    if (x.misses < this.missesMax) return;
    this.drop(group, addr, 'unresponsive', now, staleMs, changes);
  }

  /** Forget a node (it left, or answered for the wrong cluster); a contact is replaced by the best candidate. */
  drop(group: number, addr: Address, reason: ContactReplaceReason, now: number, staleMs: number, changes: ContactChange[]): void {
    const slot = this.slots[group];
    if (slot === undefined) return;
    const ci = slot.candidates.findIndex((x) => x.addr === addr);
    if (ci >= 0) slot.candidates.splice(ci, 1);
    const i = slot.contacts.findIndex((x) => x.addr === addr);
    if (i < 0) return;
    slot.contacts.splice(i, 1);
    const next = this.promote(slot, now, staleMs);
    changes.push({ group, old: addr, addr: next?.addr ?? null, reason });
  }

  /** Fill empty contact slots from fresh candidates (after drops, or when candidates arrived first). */
  refill(now: number, staleMs: number, changes: ContactChange[]): void {
    for (let g = 0; g < this.k; g++) {
      if (g === this.ownGroup) continue;
      const slot = this.slots[g]!;
      while (slot.contacts.length < this.c && slot.candidates.length > 0) {
        const next = this.promote(slot, now, staleMs);
        if (next === null) break;
        changes.push({ group: g, old: null, addr: next.addr, reason: 'added' });
      }
    }
  }

  /** Contacts ordered for a request: fewest misses, then lowest RTT (unknown RTT last), skipping `tried`. */
  best(group: number, tried: ReadonlySet<Address>): Contact | null {
    const slot = this.slots[group];
    if (slot === undefined) return null;
    let best: Contact | null = null;
    for (const list of [slot.contacts, slot.candidates]) {
      for (const x of list) {
        if (tried.has(x.addr)) continue;
        if (best === null || better(x, best)) best = x;
      }
      if (best !== null) return best;
    }
    return null;
  }

  /**
   * The next contact to probe: groups are visited in turn and, within a group, the contact heard from longest
   * ago. Every contact is probed at least once every (k - 1) * c rounds; O(c) per call.
   */
  nextToProbe(): Contact | null {
    for (let i = 0; i < this.k; i++) {
      this.probeCursor = (this.probeCursor + 1) % this.k;
      if (this.probeCursor === this.ownGroup) continue;
      let out: Contact | null = null;
      for (const x of this.slots[this.probeCursor]!.contacts) if (out === null || x.lastHeard < out.lastHeard) out = x;
      if (out !== null) return out;
    }
    return null;
  }

  randomCandidate(rng: Rng): Contact | null {
    for (let tries = 0; tries < 4; tries++) {
      const slot = this.slots[randInt(rng, this.k)]!;
      if (slot.candidates.length > 0) return slot.candidates[randInt(rng, slot.candidates.length)]!;
    }
    return null;
  }

  /** A random known node of a random foreign group, freshest of its group: a contact candidate for a peer. */
  randomForeign(rng: Rng, exceptGroup: number): Contact | null {
    for (let tries = 0; tries < 4; tries++) {
      const g = randInt(rng, this.k);
      if (g === this.ownGroup || g === exceptGroup) continue;
      const slot = this.slots[g]!;
      let best: Contact | null = null;
      for (const x of slot.contacts) if (x.misses === 0 && (best === null || x.lastHeard > best.lastHeard)) best = x;
      for (const x of slot.candidates) if (best === null || x.lastHeard > best.lastHeard) best = x;
      if (best !== null) return best;
    }
    return null;
  }

  /** Every contact (for inspection). */
  *allContacts(): IterableIterator<[number, Contact]> {
    for (let g = 0; g < this.k; g++) for (const x of this.slots[g]!.contacts) yield [g, x];
  }

  private promote(slot: GroupSlot, now: number, staleMs: number): Contact | null {
    let bestIdx = -1;
    for (let i = 0; i < slot.candidates.length; i++) {
      const x = slot.candidates[i]!;
      if (now - x.lastHeard >= staleMs) continue;
      if (bestIdx < 0 || better(x, slot.candidates[bestIdx]!)) bestIdx = i;
    }
    if (bestIdx < 0) return null;
    const [next] = slot.candidates.splice(bestIdx, 1) as [Contact];
    next.misses = 0;
    slot.contacts.push(next);
    return next;
  }

  private swap(slot: GroupSlot, contact: Contact, candidate: Contact): void {
    slot.contacts[slot.contacts.indexOf(contact)] = candidate;
    slot.candidates[slot.candidates.indexOf(candidate)] = contact;
  }
}

function newContact(e: MemberEntry, heardAt: number): Contact {
  return { addr: e.addr, incarnation: e.incarnation, heartbeat: e.heartbeat, lastHeard: heardAt, rttMs: null, misses: 0 };
}

/** Preference between two nodes for a request: fewer misses, then known-and-lower RTT, then fresher. */
function better(a: Contact, b: Contact): boolean {
  if (a.misses !== b.misses) return a.misses < b.misses;
  if (a.rttMs !== null && b.rttMs !== null) return a.rttMs < b.rttMs;
  if (a.rttMs !== null) return true;
  if (b.rttMs !== null) return false;
  return a.lastHeard > b.lastHeard;
}
