import { describe, expect, it } from 'vitest';
import type { ContactView } from '../../src/core/api.js';
import { DEFAULTS, resolveConfig } from '../../src/core/config.js';
import { LookupStatus, type CoreEvent, type LookupResult } from '../../src/core/types.js';
import {
  BEACON_PREFIX,
  Canary,
  beaconName,
  canaryParams,
  classifyCanary,
  formatBeaconLocation,
  parseBeaconLocation,
  propagationDelayS,
  reservedNameError,
  settledTargets,
  updateSeen,
  type CanaryNode,
  type CanaryResult,
  type SeenContacts,
} from '../../src/agent/canary.js';
import { LocalApi, type ApiError } from '../../src/agent/localapi.js';

const T = { addr: '10.0.0.2:4000', id: '10.0.0.2:4000' };
const loc = (id: string, inc = 3, ms = 1_000) => formatBeaconLocation({ id, incarnation: inc, publishedAtMs: ms });
const contact = (addr: string, over: Partial<ContactView> = {}): ContactView => ({ group: 1, addr, incarnation: 1, rttMs: 1, ageMs: 100, misses: 0, ...over });

describe('reserved beacon names', () => {
  it.each([
    ['kelips.beacon/10.0.0.1:4000', true],
    [BEACON_PREFIX, true],
    ['kelips.beacon/pulse/10.0.0.1:4000', true],
    ['kelips.beacon', false],
    ['my/kelips.beacon/x', false],
    ['a.iso', false],
  ])('%s reserved: %s', (name, reserved) => {
    expect(reservedNameError(name) !== null).toBe(reserved);
  });

  it('the local API (HTTP and kelips-ctl) refuses to publish or unpublish them, with a bad_request naming the prefix', () => {
    // The check runs before the API touches the node or the driver.
    const api = new LocalApi({ node: {} as never, driver: {} as never, dataDir: null, cluster: 'c', groups: 2, version: 'v', startedAt: 0, inflightMax: 8 });
    const errors: ApiError[] = [];
    api.publish('kelips.beacon/x', 'somewhere', (err) => errors.push(err!));
    api.unpublish('kelips.beacon/x', (err) => errors.push(err!));
    expect(errors.map((e) => e.apiCode)).toEqual(['bad_request', 'bad_request']);
    expect(errors[0]!.message).toMatch(/"kelips\.beacon\/" are reserved/);
  });
});

describe("the node's own beacon is not one of its published names", () => {
  it('status().published counts the applications\' tuples only', () => {
    const tuple = (name: string, deleted = false) => ({ name, location: 'l', versionIncarnation: 1, versionSeq: 1, deleted });
    const node = {
      address: 'a',
      group: 0,
      incarnation: 1,
      heartbeat: 1,
      joined: true,
      synced: true,
      tupleCount: 3,
      members: () => [],
      contacts: () => [],
      publishedTuples: () => [tuple('kelips.beacon/a'), tuple('a.iso'), tuple('gone.iso', true)],
    };
    const api = new LocalApi({ node: node as never, driver: { now: () => 0 } as never, dataDir: null, cluster: 'c', groups: 1, version: 'v', startedAt: 0, inflightMax: 8 });
    expect(api.status().published).toBe(1);
  });
});

describe('beacon location', () => {
  it('round-trips id, incarnation and publish time', () => {
    expect(parseBeaconLocation(loc('[::1]:4000', 7, 1_765_000_000_123))).toEqual({ id: '[::1]:4000', incarnation: 7, publishedAtMs: 1_765_000_000_123 });
  });
  it.each(['', 'x', 'x 1', 'x 1 2 3', 'x -1 2', 'x 1 2.5', 'http://h/a.iso'])('rejects %j', (s) => {
    expect(parseBeaconLocation(s)).toBeNull();
  });
  it('names the beacon after the node', () => {
    expect(beaconName('10.0.0.1:4000')).toBe('kelips.beacon/10.0.0.1:4000');
  });
});

describe('classifyCanary', () => {
  const found = (locations: { location: string; owner: string }[]) => ({ status: LookupStatus.Found, locations });
  it.each<[string, Pick<LookupResult, 'status' | 'locations'>, CanaryResult]>([
    ['found at the target', found([{ location: loc(T.id), owner: T.addr }]), 'found'],
    ['found among other owners', found([{ location: 'x', owner: '10.0.0.9:1' }, { location: loc(T.id), owner: T.addr }]), 'found'],
    ['found, but another owner', found([{ location: loc(T.id), owner: '10.0.0.9:1' }]), 'wrong_location'],
    ['found at the target, another id in the location', found([{ location: loc('10.0.0.3:4000'), owner: T.addr }]), 'wrong_location'],
    ['found at the target, not a beacon location', found([{ location: 'http://h/x', owner: T.addr }]), 'wrong_location'],
    ['not found', { status: LookupStatus.NotFound, locations: [] }, 'wrong_not_found'],
    ['unavailable', { status: LookupStatus.Unavailable, locations: [] }, 'unavailable'],
  ])('%s -> %s', (_what, r, want) => {
    expect(classifyCanary(r, T)).toBe(want);
  });
});

describe('canaryParams: intervals and the dissemination bound', () => {
  it('defaults (1 s rounds, k = 8): lookups every 10 s, pulses every 60 s, settled after 32 s', () => {
    const p = canaryParams(DEFAULTS);
    expect([p.tickMs, p.lookupIntervalMs, p.pulseIntervalMs]).toEqual([1000, 10_000, 60_000]);
    // 1 s tick + 3 s lookup deadline + 2 x 5 s publish retry + 2 L(8) = 8 rounds + 2 x 5 s anti-entropy
    expect(p.settleMs).toBe(32_000);
    expect(p.freshMs).toBe(DEFAULTS.suspectMult * 4 * 1000);
  });
  it('local preset, k = 3: settled after 7 s', () => {
    const p = canaryParams(resolveConfig({ groups: 3 }, 'local'));
    // 0.2 s + 2 s + 2 x 1 s + 2 L(3) = 4 rounds of 0.2 s + 2 x 1 s
    expect(p.settleMs).toBe(7000);
    expect(p.lookupIntervalMs).toBe(2000);
  });
  it('a larger group spreads more slowly, so its bound is longer', () => {
    expect(canaryParams(DEFAULTS, 100).settleMs).toBeGreaterThan(canaryParams(DEFAULTS, 8).settleMs);
  });
});

describe('targets: live contacts of other groups known for the settle bound', () => {
  const p = { freshMs: 5000, settleMs: 10_000 };
  it('counts from the first sighting of an incarnation; a restart (new incarnation) starts again', () => {
    const seen: SeenContacts = new Map();
    updateSeen(seen, [contact('a'), contact('b')], 0);
    expect(settledTargets([contact('a'), contact('b')], seen, 9_999, p)).toEqual([]);
    updateSeen(seen, [contact('a'), contact('b', { incarnation: 2 })], 5_000);
    expect(settledTargets([contact('a'), contact('b', { incarnation: 2 })], seen, 10_000, p).map((c) => c.addr)).toEqual(['a']);
    expect(settledTargets([contact('a'), contact('b', { incarnation: 2 })], seen, 15_000, p).map((c) => c.addr)).toEqual(['a', 'b']);
  });
  it('forgets contacts that left the table (a return starts the clock again)', () => {
    const seen: SeenContacts = new Map();
    updateSeen(seen, [contact('a')], 0);
    updateSeen(seen, [], 1_000);
    expect(seen.size).toBe(0);
    updateSeen(seen, [contact('a')], 2_000);
    expect(settledTargets([contact('a')], seen, 11_000, p)).toEqual([]);
    expect(settledTargets([contact('a')], seen, 12_000, p)).toHaveLength(1);
  });
  it('skips contacts with a stale heartbeat or missed probes', () => {
    const seen: SeenContacts = new Map();
    const cs = [contact('a', { ageMs: 5001 }), contact('b', { misses: 1 }), contact('c', { ageMs: 5000 })];
    updateSeen(seen, cs, 0);
    expect(settledTargets(cs, seen, 20_000, p).map((c) => c.addr)).toEqual(['c']);
  });
});

describe('propagationDelayS', () => {
  it('stored minus published, in seconds', () => {
    expect(propagationDelayS(loc('n', 3, 1_000), 3, 1_750)).toBe(0.75);
  });
  it('no sample: a beacon re-sent by a restarted owner (older incarnation in the location), clock skew, not a beacon', () => {
    expect(propagationDelayS(loc('n', 2, 1_000), 3, 60_000)).toBeNull();
    expect(propagationDelayS(loc('n', 3, 2_000), 3, 1_999)).toBeNull();
    expect(propagationDelayS('http://x', 3, 1_999)).toBeNull();
    expect(propagationDelayS(loc('n', 3, 1_000), null, 1_999)).toBeNull();
  });
});

/** A core stand-in: records commands, answers lookups from a table, emits events through `events`. */
class FakeNode implements CanaryNode {
  address = '10.0.0.1:4000';
  incarnation = 5;
  synced = true;
  groupSize = 3;
  nextId = 1;
  published: { name: string; location: string; id: number }[] = [];
  lookups: { name: string; id: number }[] = [];
  contactList: ContactView[] = [];
  versions = new Map<string, number>();
  lookup(name: string): number {
    const id = this.nextId++;
    this.lookups.push({ name, id });
    return id;
  }
  publish(name: string, location: string): number {
    const id = this.nextId++;
    this.published.push({ name, location, id });
    return id;
  }
  contacts(): ContactView[] {
    return this.contactList;
  }
  tupleVersion(name: string, owner: string) {
    const v = this.versions.get(`${owner} ${name}`);
    return v === undefined ? null : { versionIncarnation: v };
  }
}

function setup() {
  const node = new FakeNode();
  const results: CanaryResult[] = [];
  const delays: number[] = [];
  const wrong: string[] = [];
  let wall = 1_000_000;
  let ready = true;
  const canary = new Canary({
    node,
    run: (fn) => fn(0),
    now: () => 0,
    ready: () => ready,
    config: resolveConfig({ groups: 3 }, 'local'),
    sink: { canaryResult: (r) => results.push(r), propagationDelay: (s) => delays.push(s) },
    wallClockMs: () => wall,
    random: () => 0.5,
    onWrong: (r, d) => wrong.push(`${r} ${d.name}`),
  });
  return {
    node,
    canary,
    results,
    delays,
    wrong,
    setWall: (ms: number) => (wall = ms),
    setReady: (r: boolean) => (ready = r),
  };
}

const lookupDone = (id: number, r: Partial<LookupResult>): CoreEvent => ({
  type: 'lookup-done',
  result: { id, name: 'x', status: LookupStatus.Found, locations: [], hops: 1, attempts: 1, latencyMs: 1, answeredBy: '10.0.0.5:4000', ...r },
});

describe('Canary', () => {
  it('publishes its beacon once when ready (the core refreshes it) and a pulse every pulse interval, and claims the publish results', () => {
    const s = setup();
    s.setReady(false);
    s.canary.tick(0);
    expect(s.node.published).toEqual([]);
    s.setReady(true);
    s.canary.tick(200);
    expect(s.node.published.map((p) => [p.name, p.location])).toEqual([
      ['kelips.beacon/10.0.0.1:4000', '10.0.0.1:4000 5 1000000'],
      ['kelips.beacon/pulse/10.0.0.1:4000', '10.0.0.1:4000 5 1000000'],
    ]);
    s.canary.tick(400);
    expect(s.node.published).toHaveLength(2);
    s.setWall(1_060_000);
    s.canary.tick(200 + s.canary.params.pulseIntervalMs * 1.1);
    s.canary.tick(200 + s.canary.params.pulseIntervalMs * 2.2);
    expect(s.node.published.slice(2).map((p) => [p.name, p.location])).toEqual([
      ['kelips.beacon/pulse/10.0.0.1:4000', '10.0.0.1:4000 5 1060000'],
      ['kelips.beacon/pulse/10.0.0.1:4000', '10.0.0.1:4000 5 1060000'],
    ]);
    const id = s.node.published[0]!.id;
    const done: CoreEvent = { type: 'publish-done', result: { id, name: 'n', deleted: false, status: 'stored', storedAt: null, replicas: 1, groupSize: 1, latencyMs: 0 } };
    expect(s.canary.onEvent(done)).toBe(true);
    expect(s.canary.onEvent(done)).toBe(false); // once
  });

  it('looks up only beacons of contacts known for the settle bound, classifies and claims the answer', () => {
    const s = setup();
    const settle = s.canary.params.settleMs;
    s.node.contactList = [contact(T.addr)];
    s.canary.tick(0);
    s.canary.tick(settle - 1);
    expect(s.node.lookups).toEqual([]);
    s.canary.tick(settle + 2000);
    expect(s.node.lookups.map((l) => l.name)).toEqual([`kelips.beacon/${T.id}`]);
    const id = s.node.lookups[0]!.id;
    // A user lookup's result is not the canary's.
    expect(s.canary.onEvent(lookupDone(id + 100, {}))).toBe(false);
    expect(s.canary.onEvent(lookupDone(id, { status: LookupStatus.NotFound }))).toBe(true);
    expect(s.results).toEqual(['wrong_not_found']);
    expect(s.wrong).toEqual([`wrong_not_found kelips.beacon/${T.id}`]);
    // One in flight at a time, and the next one waits for the lookup interval.
    s.canary.tick(settle + 2200);
    expect(s.node.lookups).toHaveLength(1);
    s.canary.tick(settle + 2000 + s.canary.params.lookupIntervalMs * 1.25);
    expect(s.node.lookups).toHaveLength(2);
    expect(s.canary.onEvent(lookupDone(s.node.lookups[1]!.id, { locations: [{ location: loc(T.id), owner: T.addr }] }))).toBe(true);
    expect(s.results).toEqual(['wrong_not_found', 'found']);
  });

  it('runs no canary lookup while not ready', () => {
    const s = setup();
    s.node.contactList = [contact(T.addr)];
    s.canary.tick(0);
    s.setReady(false);
    s.canary.tick(60_000);
    expect(s.node.lookups).toEqual([]);
  });

  it('measures propagation of new pulse versions stored after the node synced, once per version; beacons are not samples', () => {
    const s = setup();
    const name = `kelips.beacon/pulse/${T.id}`;
    const stored: CoreEvent = { type: 'tuple-stored', name, owner: T.addr, fresh: true };
    s.node.synced = false;
    s.canary.tick(0);
    s.canary.onEvent(stored); // state transfer: not a sample
    s.node.synced = true;
    s.canary.tick(200);
    expect(s.node.lookups).toEqual([]);
    s.node.versions.set(`${T.addr} ${name}`, 3);
    s.setWall(1_002_500);
    expect(s.canary.onEvent(stored)).toBe(false);
    expect(s.canary.onEvent({ type: 'tuple-stored', name: 'file-1', owner: T.addr, fresh: true })).toBe(false);
    expect(s.canary.onEvent({ type: 'tuple-stored', name: `kelips.beacon/${T.id}`, owner: T.addr, fresh: true })).toBe(false);
    s.canary.tick(400);
    expect(s.node.lookups.map((l) => l.name)).toEqual([name]);
    const answer = lookupDone(s.node.lookups[0]!.id, { hops: 0, locations: [{ location: loc(T.id, 3, 1_000_000), owner: T.addr }] });
    expect(s.canary.onEvent(answer)).toBe(true);
    expect(s.delays).toEqual([2.5]);
    // The same version stored again (a second path) is not a second sample.
    s.canary.onEvent(stored);
    s.canary.tick(600);
    s.canary.onEvent({ ...answer, result: { ...(answer as { result: LookupResult }).result, id: s.node.lookups[1]!.id } } as CoreEvent);
    expect(s.delays).toEqual([2.5]);
    expect(s.results).toEqual([]);
  });

  it('bounds the probes waiting for a tick', () => {
    const s = setup();
    s.canary.tick(0);
    const max = s.canary.params.probesMax;
    for (let i = 0; i < max + 5; i++) s.canary.onEvent({ type: 'tuple-stored', name: `kelips.beacon/pulse/n${i}`, owner: `n${i}`, fresh: true });
    expect(s.canary.probesDropped).toBe(5);
    s.canary.tick(200);
    expect(s.node.lookups).toHaveLength(max);
  });
});
