/**
 * Contacts: for every foreign affinity group, c nodes this node sends lookups and publishes to, plus a few spare
 * candidates learnt from gossip so a failed contact is replaced without asking anyone.
 *
 * A contact is kept while it answers: each round the node probes its stalest contact (cross-group gossip with an
 * ack) and every lookup or publish is another probe. `contactMissesMax` consecutive unanswered probes or requests
 * replace it with the freshest candidate. A candidate whose measured RTT beats a contact's by the configured factor
 * takes its place. Memory: (k - 1) * (c + candidates) entries.
 *
 * Layout: struct of arrays. Every group owns a block of c + candidates entries in typed arrays, contacts first (in
 * the order they became contacts), then candidates; removing one shifts the rest of its part up. There are no
 * per-entry objects: with k = 100 a node holds ~600 entries, and at 10,000 simulated nodes one object each was the
 * bulk of the heap and of the garbage collector's marking, and every lookup in a group touched c + candidates
 * scattered objects. Callers get addresses, gossip entries, or `Contact` snapshots (for inspection).
 */
import type { Rng } from './rng.js';
import { randInt } from './rng.js';
import type { Address, ContactReplaceReason, MemberEntry } from './types.js';
import { clampAge } from './view.js';

/** A copy of one entry (contact or candidate), for inspection and tests. */
export interface Contact {
  addr: Address;
  incarnation: number;
  heartbeat: number;
  lastHeard: number;
  rttMs: number | null;
  misses: number;
}

export interface ContactChange {
  group: number;
  old: Address | null;
  addr: Address | null;
  reason: ContactReplaceReason | 'added';
}

export class ContactTable {
  /** Entries per group: c contacts, then the candidates. */
  private readonly width: number;
  private readonly addr: (Address | null)[];
  private readonly inc: Float64Array;
  private readonly hb: Float64Array;
  private readonly heardAt: Float64Array;
  /** RTT estimate (ms); NaN while unknown. */
  private readonly rttMs: Float64Array;
  private readonly misses: Int32Array;
  /** Contacts and candidates held, per group. */
  private readonly nContacts: Uint8Array;
  private readonly nCandidates: Uint8Array;
  private probeCursor = 0;
  /** Set by `locate`: the entry found is a contact (not a candidate). */
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
    this.width = c + spare;
    const n = k * this.width;
    this.addr = new Array<Address | null>(n).fill(null);
    this.inc = new Float64Array(n);
    this.hb = new Float64Array(n);
    this.heardAt = new Float64Array(n);
    this.rttMs = new Float64Array(n).fill(NaN);
    this.misses = new Int32Array(n);
    this.nContacts = new Uint8Array(k);
    this.nCandidates = new Uint8Array(k);
  }

  private valid(group: number): boolean {
    return group >= 0 && group < this.k && group !== this.ownGroup;
  }

  private contactBase(group: number): number {
    return group * this.width;
  }

  private candidateBase(group: number): number {
    return group * this.width + this.c;
  }

  /** Addresses of the contacts of a group. */
  contactAddrs(group: number): Address[] {
    const out: Address[] = [];
    if (group < 0 || group >= this.k) return out;
    const b = this.contactBase(group);
    for (let i = 0; i < this.nContacts[group]!; i++) out.push(this.addr[b + i]!);
    return out;
  }

  /**
   * Gossip entries for what we know of `group`, appended to `out`: its contacts (only those with no unanswered
   * probe when `responsiveOnly`), then its candidates when `withCandidates`; never `exclude`.
   */
  entries(group: number, now: number, out: MemberEntry[], opts: { exclude?: Address; responsiveOnly?: boolean; withCandidates?: boolean } = {}): void {
    if (group < 0 || group >= this.k) return;
    const b = this.contactBase(group);
    for (let i = b; i < b + this.nContacts[group]!; i++) {
      if (this.addr[i] === opts.exclude || (opts.responsiveOnly === true && this.misses[i] !== 0)) continue;
      out.push(this.entryAt(i, now));
    }
    if (opts.withCandidates !== true) return;
    const cb = this.candidateBase(group);
    for (let i = cb; i < cb + this.nCandidates[group]!; i++) if (this.addr[i] !== opts.exclude) out.push(this.entryAt(i, now));
  }

  /** Foreign groups with no contact at all. */
  groupsMissing(): number {
    let n = 0;
    for (let g = 0; g < this.k; g++) if (g !== this.ownGroup && this.nContacts[g] === 0) n++;
    return n;
  }

  /**
   * Index of the contact or candidate with this address, or -1; `foundIsContact` says which. (No result object:
   * this runs for every foreign entry a node receives.)
   */
  private locate(addr: Address, group: number): number {
    if (!this.valid(group)) return -1;
    const b = this.contactBase(group);
    for (let i = b; i < b + this.nContacts[group]!; i++) {
      if (this.addr[i] === addr) {
        this.foundIsContact = true;
        return i;
      }
    }
    const cb = this.candidateBase(group);
    for (let i = cb; i < cb + this.nCandidates[group]!; i++) {
      if (this.addr[i] === addr) {
        this.foundIsContact = false;
        return i;
      }
    }
    return -1;
  }

  /**
   * News of a foreign node (from gossip, an ack, a reply or a direct message). Refreshes it if known; otherwise
   * fills an empty contact slot, or becomes a candidate if fresher than the stalest one.
   */
  offer(e: MemberEntry, now: number, staleMs: number, changes: ContactChange[], group: number = this.groupOf(e.addr)): void {
    if (!this.valid(group)) return;
    const heardAt = now - e.ageMs;
    const x = this.locate(e.addr, group);
    if (x >= 0) {
      if (e.incarnation < this.inc[x]!) return;
      if (e.incarnation > this.inc[x]! || e.heartbeat > this.hb[x]!) {
        this.inc[x] = e.incarnation;
        this.hb[x] = e.heartbeat;
      }
      if (heardAt > this.heardAt[x]!) this.heardAt[x] = heardAt;
      return;
    }
    if (e.ageMs >= staleMs) return;
    if (this.nContacts[group]! < this.c) {
      this.set(this.contactBase(group) + this.nContacts[group]!++, e, heardAt);
      changes.push({ group, old: null, addr: e.addr, reason: 'added' });
      return;
    }
    if (this.spare === 0) return;
    const cb = this.candidateBase(group);
    const nk = this.nCandidates[group]!;
    if (nk < this.spare) {
      this.set(cb + nk, e, heardAt);
      this.nCandidates[group] = nk + 1;
      return;
    }
    // Full: the stalest candidate makes way, if the newcomer is fresher.
    let stalest = cb;
    for (let i = cb + 1; i < cb + nk; i++) if (this.heardAt[i]! < this.heardAt[stalest]!) stalest = i;
    if (this.heardAt[stalest]! >= heardAt) return;
    this.set(stalest, e, heardAt);
  }

  /** Direct evidence of life: it answered or spoke to us. */
  heard(addr: Address, incarnation: number, heartbeat: number, now: number, group: number = this.groupOf(addr)): void {
    const x = this.locate(addr, group);
    if (x < 0) return;
    if (incarnation < this.inc[x]!) return;
    if (incarnation > this.inc[x]!) {
      this.inc[x] = incarnation;
      this.hb[x] = heartbeat;
    } else if (heartbeat > this.hb[x]!) this.hb[x] = heartbeat;
    this.heardAt[x] = now;
    this.misses[x] = 0;
  }

  /** An RTT sample (ms) from an ack; may promote a candidate that is much closer than a contact. */
  rtt(addr: Address, sampleMs: number, changes: ContactChange[]): void {
    const group = this.groupOf(addr);
    const x = this.locate(addr, group);
    if (x < 0) return;
    const old = this.rttMs[x]!;
    const est = Number.isNaN(old) ? sampleMs : 0.8 * old + 0.2 * sampleMs;
    this.rttMs[x] = est;
    if (this.foundIsContact) return;
    const b = this.contactBase(group);
    const nc = this.nContacts[group]!;
    let worst = -1;
    for (let i = b; i < b + nc; i++) if (!Number.isNaN(this.rttMs[i]!) && (worst < 0 || this.rttMs[i]! > this.rttMs[worst]!)) worst = i;
    if (worst < 0 || nc < this.c) return;
    if (est < this.rttImprovement * this.rttMs[worst]!) {
      const old = this.addr[worst]!;
      this.swapEntries(worst, x);
      changes.push({ group, old, addr: addr, reason: 'better-rtt' });
    }
  }

  /** It did not answer a probe or a request. Replaced after `missesMax` in a row. */
  miss(addr: Address, now: number, staleMs: number, changes: ContactChange[]): void {
    const group = this.groupOf(addr);
    const x = this.locate(addr, group);
    if (x < 0) return;
    this.misses[x]!++;
    if (this.misses[x]! < this.missesMax) return;
    this.drop(group, addr, 'unresponsive', now, staleMs, changes);
  }

  /** Forget a node (it left, or answered for the wrong cluster); a contact is replaced by the best candidate. */
  drop(group: number, addr: Address, reason: ContactReplaceReason, now: number, staleMs: number, changes: ContactChange[]): void {
    if (group < 0 || group >= this.k) return;
    const cb = this.candidateBase(group);
    for (let i = cb; i < cb + this.nCandidates[group]!; i++) {
      if (this.addr[i] === addr) {
        this.removeCandidate(group, i - cb);
        break;
      }
    }
    const b = this.contactBase(group);
    const nc = this.nContacts[group]!;
    let at = 0;
    while (at < nc && this.addr[b + at] !== addr) at++;
    if (at === nc) return;
    for (let i = b + at; i < b + nc - 1; i++) this.copy(i + 1, i);
    this.clear(b + nc - 1);
    this.nContacts[group] = nc - 1;
    const next = this.promote(group, now, staleMs);
    changes.push({ group, old: addr, addr: next, reason });
  }

  /** Fill empty contact slots from fresh candidates (after drops, or when candidates arrived first). */
  refill(now: number, staleMs: number, changes: ContactChange[]): void {
    for (let g = 0; g < this.k; g++) {
      if (g === this.ownGroup) continue;
      while (this.nContacts[g]! < this.c && this.nCandidates[g]! > 0) {
        const next = this.promote(g, now, staleMs);
        if (next === null) break;
        changes.push({ group: g, old: null, addr: next, reason: 'added' });
      }
    }
  }

  /** The contact to send a request to: fewest misses, then lowest RTT (unknown RTT last); candidates if no contact is left; never one in `tried`. */
  best(group: number, tried: ReadonlySet<Address>): Address | null {
    if (group < 0 || group >= this.k) return null;
    let best = -1;
    const b = this.contactBase(group);
    for (let i = b; i < b + this.nContacts[group]!; i++) if (!tried.has(this.addr[i]!) && (best < 0 || this.better(i, best))) best = i;
    if (best >= 0) return this.addr[best]!;
    const cb = this.candidateBase(group);
    for (let i = cb; i < cb + this.nCandidates[group]!; i++) if (!tried.has(this.addr[i]!) && (best < 0 || this.better(i, best))) best = i;
    return best >= 0 ? this.addr[best]! : null;
  }

  /**
   * The next contact to probe: groups are visited in turn and, within a group, the contact heard from longest
   * ago. Every contact is probed at least once every (k - 1) * c rounds; O(c) per call.
   */
  nextToProbe(): Address | null {
    for (let n = 0; n < this.k; n++) {
      this.probeCursor = (this.probeCursor + 1) % this.k;
      if (this.probeCursor === this.ownGroup) continue;
      const b = this.contactBase(this.probeCursor);
      let out = -1;
      for (let i = b; i < b + this.nContacts[this.probeCursor]!; i++) if (out < 0 || this.heardAt[i]! < this.heardAt[out]!) out = i;
      if (out >= 0) return this.addr[out]!;
    }
    return null;
  }

  randomCandidate(rng: Rng): Address | null {
    for (let tries = 0; tries < 4; tries++) {
      const g = randInt(rng, this.k);
      const nk = this.nCandidates[g]!;
      if (nk > 0) return this.addr[this.candidateBase(g) + randInt(rng, nk)]!;
    }
    return null;
  }

  /** A random known node of a random foreign group, freshest of its group (a contact candidate for a peer); -1 if none. */
  private randomForeign(rng: Rng, exceptGroup: number): number {
    for (let tries = 0; tries < 4; tries++) {
      const g = randInt(rng, this.k);
      if (g === this.ownGroup || g === exceptGroup) continue;
      let best = -1;
      const b = this.contactBase(g);
      for (let i = b; i < b + this.nContacts[g]!; i++) if (this.misses[i] === 0 && (best < 0 || this.heardAt[i]! > this.heardAt[best]!)) best = i;
      const cb = this.candidateBase(g);
      for (let i = cb; i < cb + this.nCandidates[g]!; i++) if (best < 0 || this.heardAt[i]! > this.heardAt[best]!) best = i;
      if (best >= 0) return best;
    }
    return -1;
  }

  /** Address of `randomForeign`'s pick, or null. */
  randomForeignAddr(rng: Rng, exceptGroup: number): Address | null {
    const i = this.randomForeign(rng, exceptGroup);
    return i < 0 ? null : this.addr[i]!;
  }

  /** Gossip entry of `randomForeign`'s pick, or null. */
  randomForeignEntry(rng: Rng, exceptGroup: number, now: number): MemberEntry | null {
    const i = this.randomForeign(rng, exceptGroup);
    return i < 0 ? null : this.entryAt(i, now);
  }

  /** Every contact with its group (copies, for inspection), in the order they became contacts. */
  allContacts(): [number, Contact][] {
    const out: [number, Contact][] = [];
    for (let g = 0; g < this.k; g++) {
      const b = this.contactBase(g);
      for (let i = b; i < b + this.nContacts[g]!; i++) out.push([g, this.snapshot(i)]);
    }
    return out;
  }

  /** Make the freshest usable candidate of `group` a contact; returns its address. */
  private promote(group: number, now: number, staleMs: number): Address | null {
    const cb = this.candidateBase(group);
    let best = -1;
    for (let i = cb; i < cb + this.nCandidates[group]!; i++) {
      if (now - this.heardAt[i]! >= staleMs) continue;
      if (best < 0 || this.better(i, best)) best = i;
    }
    if (best < 0) return null;
    const to = this.contactBase(group) + this.nContacts[group]!;
    this.copy(best, to);
    this.misses[to] = 0;
    this.nContacts[group]!++;
    this.removeCandidate(group, best - cb);
    return this.addr[to]!;
  }

  private removeCandidate(group: number, k: number): void {
    const cb = this.candidateBase(group);
    const nk = this.nCandidates[group]!;
    for (let i = cb + k; i < cb + nk - 1; i++) this.copy(i + 1, i);
    this.clear(cb + nk - 1);
    this.nCandidates[group] = nk - 1;
  }

  /** Preference between two entries for a request: fewer misses, then known-and-lower RTT, then fresher. */
  private better(a: number, b: number): boolean {
    if (this.misses[a] !== this.misses[b]) return this.misses[a]! < this.misses[b]!;
    const ra = this.rttMs[a]!;
    const rb = this.rttMs[b]!;
    const ka = !Number.isNaN(ra);
    const kb = !Number.isNaN(rb);
    if (ka && kb) return ra < rb;
    if (ka) return true;
    if (kb) return false;
    return this.heardAt[a]! > this.heardAt[b]!;
  }

  private entryAt(i: number, now: number): MemberEntry {
    return { addr: this.addr[i]!, incarnation: this.inc[i]!, heartbeat: this.hb[i]!, ageMs: clampAge(now - this.heardAt[i]!) };
  }

  private snapshot(i: number): Contact {
    const rtt = this.rttMs[i]!;
    return { addr: this.addr[i]!, incarnation: this.inc[i]!, heartbeat: this.hb[i]!, lastHeard: this.heardAt[i]!, rttMs: Number.isNaN(rtt) ? null : rtt, misses: this.misses[i]! };
  }

  private set(i: number, e: MemberEntry, heardAt: number): void {
    this.addr[i] = e.addr;
    this.inc[i] = e.incarnation;
    this.hb[i] = e.heartbeat;
    this.heardAt[i] = heardAt;
    this.rttMs[i] = NaN;
    this.misses[i] = 0;
  }

  private copy(from: number, to: number): void {
    this.addr[to] = this.addr[from]!;
    this.inc[to] = this.inc[from]!;
    this.hb[to] = this.hb[from]!;
    this.heardAt[to] = this.heardAt[from]!;
    this.rttMs[to] = this.rttMs[from]!;
    this.misses[to] = this.misses[from]!;
  }

  private clear(i: number): void {
    this.addr[i] = null;
    this.rttMs[i] = NaN;
    this.misses[i] = 0;
  }

  private swapEntries(x: number, y: number): void {
    const a = this.addr[x]!;
    this.addr[x] = this.addr[y]!;
    this.addr[y] = a;
    for (const arr of [this.inc, this.hb, this.heardAt, this.rttMs]) {
      const t = arr[x]!;
      arr[x] = arr[y]!;
      arr[y] = t;
    }
    const m = this.misses[x]!;
    this.misses[x] = this.misses[y]!;
    this.misses[y] = m;
  }
}
