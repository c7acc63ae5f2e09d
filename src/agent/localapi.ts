/**
 * The agent's API for applications and operators, shared by the HTTP JSON API (http.ts) and kelips-ctl's client
 * messages over UDP (clientserver.ts): lookup, publish, unpublish, members, contacts, status.
 *
 * Commands run against the core through the driver; their results arrive later as core events ('lookup-done',
 * 'publish-done') and are matched by request id. A publish or unpublish is answered only once the data dir holds
 * it, so an acknowledged publish survives kill -9. In-flight requests are bounded (Busy beyond the limit).
 */
import type { ContactView, MemberView, PublishedTuple, StoredTupleView } from '../core/api.js';
import { InvalidArgumentError, KelipsError, LimitError } from '../core/errors.js';
import type { Address, CoreEvent, LookupResult, PublishResult } from '../core/types.js';
import { MemberState } from '../core/types.js';
import type { Driver } from '../net/driver.js';
import type { StatusPayload } from '../wire/index.js';
import { isBeaconName, reservedNameError } from './canary.js';
import type { DataDir } from './persistence.js';
import { readiness, type Readiness } from './readiness.js';

/** The part of KelipsNode the API uses. */
export interface ApiNode {
  readonly address: Address;
  readonly group: number;
  readonly incarnation: number;
  readonly heartbeat: number;
  readonly joined: boolean;
  readonly synced: boolean;
  readonly tupleCount: number;
  lookup(name: string, now: number): number;
  publish(name: string, location: string, now: number): number;
  unpublish(name: string, now: number): number;
  join(seeds: readonly Address[], now: number): void;
  members(now: number): MemberView[];
  contacts(now: number): ContactView[];
  tuples(now: number): StoredTupleView[];
  publishedTuples(): PublishedTuple[];
}

export type ApiErrorCode = 'bad_request' | 'busy' | 'unavailable' | 'limit';

export class ApiError extends KelipsError {
  override readonly code = 'KELIPS_API';
  constructor(
    readonly apiCode: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The agent's status: what kelips-ctl status shows (the wire's StatusPayload) and whether it is ready. */
export interface StatusView extends StatusPayload {
  ready: boolean;
}

export interface LocalApiOptions {
  node: ApiNode;
  driver: Driver;
  dataDir: DataDir | null;
  cluster: string;
  groups: number;
  version: string;
  /** Monotonic ms (driver clock) at start, for uptime. */
  startedAt: number;
  /** Requests in flight at most; beyond, Busy. */
  inflightMax: number;
  /** Addresses of a seed's text (`host:port`, names resolved), for `join`. */
  resolveSeed?: (text: string) => Promise<string[]>;
  /** A persistence failure (logged by the caller). */
  onPersistError?: (err: Error) => void;
}

type Callback<T> = (err: ApiError | null, value?: T) => void;

export class LocalApi {
  private readonly lookups = new Map<number, Callback<LookupResult>>();
  private readonly publishes = new Map<number, Callback<PublishResult>>();
  private readonly node: ApiNode;
  private readonly driver: Driver;

  constructor(private readonly opts: LocalApiOptions) {
    this.node = opts.node;
    this.driver = opts.driver;
  }

  get inflight(): number {
    return this.lookups.size + this.publishes.size;
  }

  lookup(name: unknown, cb: Callback<LookupResult>): void {
    if (typeof name !== 'string' || name === '') return cb(new ApiError('bad_request', 'name must be a non-empty string'));
    if (this.inflight >= this.opts.inflightMax) return cb(new ApiError('busy', `${this.inflight} requests in flight; try again`));
    try {
      this.driver.run((now) => {
        const id = this.node.lookup(name, now);
        this.lookups.set(id, cb);
      });
    } catch (err) {
      cb(asApiError(err));
    }
  }

  publish(name: unknown, location: unknown, cb: Callback<PublishResult>): void {
    if (typeof name !== 'string' || name === '') return cb(new ApiError('bad_request', 'name must be a non-empty string'));
    const reserved = reservedNameError(name);
    if (reserved !== null) return cb(new ApiError('bad_request', reserved));
    const loc = location === undefined || location === null || location === '' ? this.node.address : location;
    if (typeof loc !== 'string') return cb(new ApiError('bad_request', 'location must be a string'));
    this.mutate((now) => this.node.publish(name, loc, now), cb);
  }

  unpublish(name: unknown, cb: Callback<PublishResult>): void {
    if (typeof name !== 'string' || name === '') return cb(new ApiError('bad_request', 'name must be a non-empty string'));
    const reserved = reservedNameError(name);
    if (reserved !== null) return cb(new ApiError('bad_request', reserved));
    this.mutate((now) => this.node.unpublish(name, now), cb);
  }

  /**
   * Join the cluster of the node at `seed` (host:port, names resolved): each address it resolves to is sent a
   * join request. Two clusters of the same name and k merge this way.
   */
  join(seed: unknown, cb: Callback<string[]>): void {
    if (typeof seed !== 'string' || seed === '') return cb(new ApiError('bad_request', 'seed must be a non-empty host:port'));
    if (this.opts.resolveSeed === undefined) return cb(new ApiError('unavailable', 'this agent cannot resolve seeds'));
    this.opts.resolveSeed(seed).then(
      (addrs) => {
        const others = addrs.filter((a) => a !== this.node.address);
        if (others.length === 0) return cb(new ApiError('bad_request', `seed ${seed} does not resolve to another node's address`));
        try {
          this.driver.run((now) => this.node.join(others, now));
          cb(null, others);
        } catch (err) {
          cb(asApiError(err));
        }
      },
      (err: Error) => cb(new ApiError('bad_request', `seed ${seed}: ${err.message}`)),
    );
  }

  /** Run a publish/unpublish; answer when both the core's result and the data dir write are in. */
  private mutate(command: (now: number) => number, cb: Callback<PublishResult>): void {
    if (this.inflight >= this.opts.inflightMax) return cb(new ApiError('busy', `${this.inflight} requests in flight; try again`));
    let result: PublishResult | undefined;
    let persisted = this.opts.dataDir === null;
    let failed: ApiError | null = null;
    let answered = false;
    const finish = () => {
      if (answered) return;
      if (failed !== null) {
        answered = true;
        return cb(failed);
      }
      if (result !== undefined && persisted) {
        answered = true;
        cb(null, result);
      }
    };
    try {
      this.driver.run((now) => {
        const id = command(now);
        this.publishes.set(id, (err, r) => {
          if (err) failed = err;
          result = r;
          finish();
        });
      });
    } catch (err) {
      return cb(asApiError(err));
    }
    if (this.opts.dataDir !== null) {
      this.opts.dataDir.savePublished().then(
        () => {
          persisted = true;
          finish();
        },
        (err: Error) => {
          this.opts.onPersistError?.(err);
          failed = new ApiError('unavailable', `the publish is active but could not be saved to the data dir: ${err.message}`);
          finish();
        },
      );
    }
  }

  onEvents(events: readonly CoreEvent[]): void {
    for (const e of events) {
      if (e.type === 'lookup-done') {
        const cb = this.lookups.get(e.result.id);
        if (cb !== undefined) {
          this.lookups.delete(e.result.id);
          cb(null, e.result);
        }
      } else if (e.type === 'publish-done') {
        const cb = this.publishes.get(e.result.id);
        if (cb !== undefined) {
          this.publishes.delete(e.result.id);
          cb(null, e.result);
        }
      }
    }
  }

  /** Answer everything in flight with Unavailable (shutdown). */
  abortAll(reason: string): void {
    const err = new ApiError('unavailable', reason);
    for (const cb of this.lookups.values()) cb(err);
    for (const cb of this.publishes.values()) cb(err);
    this.lookups.clear();
    this.publishes.clear();
  }

  members(): MemberView[] {
    return this.node.members(this.driver.now());
  }

  contacts(): ContactView[] {
    return this.node.contacts(this.driver.now());
  }

  tuples(): StoredTupleView[] {
    return this.node.tuples(this.driver.now());
  }

  /** Live contacts per foreign group. */
  contactsByGroup(): Map<number, number> {
    const by = new Map<number, number>();
    for (const c of this.contacts()) by.set(c.group, (by.get(c.group) ?? 0) + 1);
    return by;
  }

  groupsWithoutContact(): number {
    const by = this.contactsByGroup();
    let missing = 0;
    for (let g = 0; g < this.opts.groups; g++) if (g !== this.node.group && !by.has(g)) missing++;
    return missing;
  }

  /** Ready: joined, synced and a live contact for every other group (src/agent/readiness.ts). */
  readiness(): Readiness {
    return readiness({ joined: this.node.joined, synced: this.node.synced, groups: this.opts.groups, ownGroup: this.node.group, contactsByGroup: this.contactsByGroup() });
  }

  ready(): boolean {
    return this.readiness().ready;
  }

  status(): StatusView {
    let alive = 0;
    let suspect = 0;
    for (const m of this.members()) if (m.state === MemberState.Suspect) suspect++;
    else alive++;
    return {
      address: this.node.address,
      cluster: this.opts.cluster,
      groups: this.opts.groups,
      group: this.node.group,
      incarnation: this.node.incarnation,
      heartbeat: this.node.heartbeat,
      uptimeMs: Math.max(0, Math.round(this.driver.now() - this.opts.startedAt)),
      membersAlive: alive,
      membersSuspect: suspect,
      contacts: this.contacts().length,
      groupsWithoutContact: this.groupsWithoutContact(),
      tuples: this.node.tupleCount,
      published: this.node.publishedTuples().filter((t) => !t.deleted && !isBeaconName(t.name)).length,
      joined: this.node.joined,
      synced: this.node.synced,
      ready: this.ready(),
      version: this.opts.version,
    };
  }
}

function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof InvalidArgumentError) return new ApiError('bad_request', err.message);
  if (err instanceof LimitError) return new ApiError('limit', err.message);
  throw err;
}
