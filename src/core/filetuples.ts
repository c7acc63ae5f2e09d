/**
 * Filetuples: the soft state a node replicates for the files that hash to its affinity group.
 * name -> one tuple per owner {location, version, expiry, deleted}. A tuple lives until its expiry unless its owner
 * refreshes it; an unpublish is a tombstone with a higher version that lives out the same TTL, so that an older copy
 * still travelling through gossip cannot bring the name back.
 *
 * For anti-entropy the tuples are split into buckets by hash(name); each bucket keeps the XOR of its tuples'
 * digests, updated incrementally, so comparing two nodes' stores costs one small datagram. Anti-entropy compares
 * only *settled* tuples: those older than the time gossip needs to spread them. A tuple's birth (expiry minus the
 * full TTL) is the same instant on every node, up to network delay, so nodes agree on what has settled and
 * anti-entropy does not re-send what gossip is still delivering.
 */
import { fmix32, hash32 } from './hash.js';
import type { Address, Location, TupleEntry } from './types.js';

export interface StoredTuple {
  name: string;
  location: string;
  owner: Address;
  versionIncarnation: number;
  versionSeq: number;
  deleted: boolean;
  expiresAt: number;
  digest: number;
  bucket: number;
  /** When its current version was published (expiry minus the full TTL), as this node's clock sees it. */
  bornAt: number;
  /** Counted in the settled digests; when false, the tuple waits in the unsettled list. */
  settled: boolean;
  /** Removed (expired) while waiting in the unsettled list. */
  gone: boolean;
}

export type TupleMergeOutcome =
  /** First copy of this (name, owner): worth gossiping. */
  | 'new'
  /** A newer version replaced ours: worth gossiping. */
  | 'updated'
  /** Same version, lifetime extended by a refresh: worth gossiping once. */
  | 'refreshed'
  /** Nothing new. */
  | 'same'
  | 'stale'
  | 'expired'
  | 'filetuples-full'
  | 'locations-full';

/** The tuple of `owner` in a name's list (a few entries at most). */
function ofOwner(list: StoredTuple[], owner: Address): StoredTuple | undefined {
  for (let i = 0; i < list.length; i++) if (list[i]!.owner === owner) return list[i];
  return undefined;
}

/** Compare versions: negative when a is older than b. */
export function compareVersion(aInc: number, aSeq: number, bInc: number, bSeq: number): number {
  return aInc !== bInc ? aInc - bInc : aSeq - bSeq;
}

export class TupleStore {
  /** name -> tuples, one map per digest bucket, so a sync touches only the buckets that differ. */
  private readonly buckets: Map<string, StoredTuple[]>[] = [];
  private count = 0;
  /** No tuple expires before this (a lower bound): sweeps before it are skipped. */
  private earliestExpiry = Infinity;
  readonly digests: Uint32Array;
  /** Like `digests`, over settled tuples only: what anti-entropy compares. */
  readonly settledDigests: Uint32Array;
  private unsettled: StoredTuple[] = [];

  constructor(
    private readonly filetuplesMax: number,
    private readonly locationsPerNameMax: number,
    buckets: number,
    /** A refresh that extends the lifetime by less than this (ms) is not re-gossiped. */
    private readonly refreshSlackMs: number,
    /** The full TTL owners publish with (ms). */
    private readonly ttlFullMs: number,
  ) {
    this.digests = new Uint32Array(buckets);
    this.settledDigests = new Uint32Array(buckets);
    for (let b = 0; b < buckets; b++) this.buckets.push(new Map());
  }

  private mapOf(name: string): Map<string, StoredTuple[]> {
    return this.buckets[this.bucketOf(name)]!;
  }

  get size(): number {
    return this.count;
  }

  /**
   * A name's digest bucket. Not hash(name) mod buckets: every name here has hash(name) mod k = our group, so that
   * would put a whole group's tuples in a handful of buckets. Re-mixed, the bucket is independent of the group.
   */
  bucketOf(name: string): number {
    return fmix32(hash32(name) ^ 0x6a09e667) % this.digests.length;
  }

  merge(t: TupleEntry, now: number): TupleMergeOutcome {
    if (t.ttlMs <= 0) return 'expired';
    const expiresAt = now + t.ttlMs;
    if (expiresAt < this.earliestExpiry) this.earliestExpiry = expiresAt;
    const bucket = this.bucketOf(t.name);
    const map = this.buckets[bucket]!;
    let list = map.get(t.name);
    const old = list === undefined ? undefined : ofOwner(list, t.owner);
    if (old === undefined) {
      if (this.count >= this.filetuplesMax) return 'filetuples-full';
      if (list !== undefined && list.length >= this.locationsPerNameMax) return 'locations-full';
      const fresh: StoredTuple = {
        name: t.name,
        location: t.location,
        owner: t.owner,
        versionIncarnation: t.versionIncarnation,
        versionSeq: t.versionSeq,
        deleted: t.deleted,
        expiresAt,
        digest: tupleDigest(t),
        bucket,
        bornAt: expiresAt - this.ttlFullMs,
        settled: false,
        gone: false,
      };
      if (list === undefined) {
        list = [];
        map.set(t.name, list);
      }
      list.push(fresh);
      this.count++;
      this.digests[bucket]! ^= fresh.digest;
      this.unsettled.push(fresh);
      return 'new';
    }
    const order = compareVersion(t.versionIncarnation, t.versionSeq, old.versionIncarnation, old.versionSeq);
    if (order < 0) return 'stale';
    if (order > 0) {
      this.digests[bucket]! ^= old.digest;
      if (old.settled) {
        // Back to the unsettled list (a tuple that has not settled yet is in it already).
        this.settledDigests[bucket]! ^= old.digest;
        old.settled = false;
        this.unsettled.push(old);
      }
      old.bornAt = expiresAt - this.ttlFullMs;
      old.location = t.location;
      old.versionIncarnation = t.versionIncarnation;
      old.versionSeq = t.versionSeq;
      old.deleted = t.deleted;
      old.expiresAt = expiresAt;
      old.digest = tupleDigest(t);
      this.digests[bucket]! ^= old.digest;
      return 'updated';
    }
    if (expiresAt > old.expiresAt + this.refreshSlackMs) {
      old.expiresAt = expiresAt;
      return 'refreshed';
    }
    if (expiresAt > old.expiresAt) old.expiresAt = expiresAt;
    return 'same';
  }

  /** Count tuples born at least `settleMs` ago into the settled digests. Cheap: only recent tuples are looked at. */
  settle(now: number, settleMs: number): void {
    if (this.unsettled.length === 0) return;
    let kept = 0;
    for (const t of this.unsettled) {
      if (t.gone) continue;
      if (now - t.bornAt >= settleMs) {
        t.settled = true;
        this.settledDigests[t.bucket]! ^= t.digest;
      } else this.unsettled[kept++] = t;
    }
    this.unsettled.length = kept;
  }

  /** Live locations of a name (tombstones and expired tuples excluded). */
  locations(name: string, now: number): Location[] {
    const list = this.mapOf(name).get(name);
    if (list === undefined) return [];
    const out: Location[] = [];
    for (const t of list) if (!t.deleted && t.expiresAt > now) out.push({ location: t.location, owner: t.owner });
    return out;
  }

  get(name: string, owner: Address): StoredTuple | undefined {
    const list = this.mapOf(name).get(name);
    return list === undefined ? undefined : ofOwner(list, owner);
  }

  /** Remove expired tuples; returns them so the caller can report. */
  expire(now: number): StoredTuple[] {
    const gone: StoredTuple[] = [];
    if (now < this.earliestExpiry) return gone;
    let earliest = Infinity;
    for (let b = 0; b < this.buckets.length; b++) {
      const map = this.buckets[b]!;
      for (const [name, list] of map) {
        let kept = 0;
        for (const t of list) {
          if (t.expiresAt > now) {
            list[kept++] = t;
            if (t.expiresAt < earliest) earliest = t.expiresAt;
          } else {
            gone.push(t);
            this.digests[b]! ^= t.digest;
            if (t.settled) this.settledDigests[b]! ^= t.digest;
            t.gone = true;
          }
        }
        if (kept === 0) map.delete(name);
        else list.length = kept;
      }
    }
    this.count -= gone.length;
    this.earliestExpiry = earliest;
    return gone;
  }

  /** Every tuple of the given buckets, as entries to send (TTL relative to now). */
  entriesOfBuckets(buckets: ReadonlySet<number>, now: number): TupleEntry[] {
    const out: TupleEntry[] = [];
    for (const b of buckets) {
      const map = this.buckets[b];
      if (map === undefined) continue;
      for (const list of map.values()) for (const t of list) if (t.expiresAt > now) out.push(toEntry(t, now));
    }
    return out;
  }

  *all(): IterableIterator<StoredTuple> {
    for (const map of this.buckets) for (const list of map.values()) yield* list;
  }
}

export function toEntry(t: StoredTuple, now: number): TupleEntry {
  return {
    name: t.name,
    location: t.location,
    owner: t.owner,
    versionIncarnation: t.versionIncarnation,
    versionSeq: t.versionSeq,
    ttlMs: Math.max(0, Math.min(0xffffffff, Math.round(t.expiresAt - now))),
    deleted: t.deleted,
  };
}

/** What two nodes must agree on for a tuple: identity, version and content; not the expiry, which drifts. */
function tupleDigest(t: TupleEntry): number {
  let h = hash32(t.name);
  h = fmix32(h ^ hash32(t.owner));
  h = fmix32(h ^ hash32(t.location));
  h = fmix32(h ^ t.versionIncarnation);
  h = fmix32(h ^ t.versionSeq ^ (t.deleted ? 0x80000000 : 0));
  return h;
}
