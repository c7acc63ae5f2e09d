import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/agent/config.js';
import { createLogger } from '../../src/agent/logger.js';
import { readiness, GROUPS_LISTED_MAX } from '../../src/agent/readiness.js';

// One agent alone (k = 1: it holds every name), HTTP on an ephemeral loopback port.
let agent: Agent;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kelips-http-'));
  const r = loadConfig({
    argv: ['--bind', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--data-dir', dir, '--groups', '1', '--preset', 'local'],
    env: {},
    readFile: () => '',
  });
  if (r.kind !== 'run') throw new Error('config');
  agent = await startAgent(r.config, createLogger('silent'));
  base = `http://${agent.metricsAddress}`;
});

afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: any; headers: Headers; text: string }> {
  const res = await fetch(base + path, { method, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON (metrics) */
  }
  return { status: res.status, json, headers: res.headers, text };
}

describe('HTTP: health', () => {
  it('/healthz answers while the process runs', async () => {
    const r = await call('GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'ok' });
  });

  it('/readyz: a founder (no seeds) of a k = 1 cluster is ready at once; the metric agrees', async () => {
    const r = await call('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ready: true, joined: true, synced: true, contacts: 0, groupsWithoutContact: 0, missingGroups: [], missing: [], reason: 'ready' });
    expect((await call('GET', '/metrics')).text).toMatch(/^kelips_node_ready 1$/m);
    expect((await call('GET', '/v1/status')).json).toMatchObject({ ready: true, joined: true, synced: true });
  });
});

describe('readiness: joined, synced and a live contact for every other group', () => {
  const contacts = (...groups: number[]) => new Map(groups.map((g) => [g, 1]));
  const table: [string, Parameters<typeof readiness>[0], string[], string][] = [
    ['all met, k = 4', { joined: true, synced: true, groups: 4, ownGroup: 1, contactsByGroup: contacts(0, 2, 3) }, [], 'ready'],
    ['k = 1 needs no contact', { joined: true, synced: true, groups: 1, ownGroup: 0, contactsByGroup: contacts() }, [], 'ready'],
    [
      'joined but not synced (the restarted lone member)',
      { joined: true, synced: false, groups: 2, ownGroup: 0, contactsByGroup: contacts(1) },
      ['synced'],
      "not synced: it does not hold group 0's state yet",
    ],
    [
      'one group without a contact',
      { joined: true, synced: true, groups: 4, ownGroup: 1, contactsByGroup: new Map([[0, 2], [2, 0], [3, 1]]) },
      ['contacts'],
      'no live contact for 1 of 3 other groups (2)',
    ],
    [
      'a founder of a k = 3 cluster, alone',
      { joined: true, synced: true, groups: 3, ownGroup: 2, contactsByGroup: contacts() },
      ['contacts'],
      'no live contact for 2 of 2 other groups (0, 1)',
    ],
    [
      'nothing yet',
      { joined: false, synced: false, groups: 2, ownGroup: 1, contactsByGroup: contacts() },
      ['joined', 'synced', 'contacts'],
      "not joined: no seed has answered yet; not synced: it does not hold group 1's state yet; no live contact for 1 of 1 other groups (0)",
    ],
  ];
  for (const [what, input, missing, reason] of table)
    it(`${what}: ${missing.length === 0 ? 'ready' : `missing ${missing.join(', ')}`}`, () => {
      const r = readiness(input);
      expect(r.ready).toBe(missing.length === 0);
      expect(r.missing).toEqual(missing);
      expect(r.reason).toBe(reason);
    });

  it(`lists at most ${GROUPS_LISTED_MAX} groups by number and counts them all`, () => {
    const r = readiness({ joined: true, synced: true, groups: 100, ownGroup: 0, contactsByGroup: new Map() });
    expect(r.groupsWithoutContactCount).toBe(99);
    expect(r.groupsWithoutContact).toEqual(Array.from({ length: GROUPS_LISTED_MAX }, (_, i) => i + 1));
    expect(r.reason).toMatch(/^no live contact for 99 of 99 other groups \(1, 2, .*, 16, \.\.\.\)$/);
  });
});

describe('one meaning of ready, in the code and in both documents', () => {
  const DEFINITION =
    "**Ready** (`/readyz` 200, `kelips_node_ready` 1, `ready` in `/v1/status`): the node has joined the cluster, holds its affinity group's state (founded the cluster, pulled it from a member that held it, or recovered it: no member held it, so it asked every owner to re-publish and waited for them), and has a live contact for every other group. Otherwise `/readyz` answers 503 and its body names what is missing";
  const flat = (path: string) => readFileSync(join(__dirname, '..', '..', path), 'utf8').replace(/\s+/g, ' ');
  for (const doc of ['docs/AGENT.md', 'deploy/README.md'])
    it(`${doc} gives the definition, word for word`, () => expect(flat(doc)).toContain(DEFINITION));

  it('the conditions the documents name are the ones /readyz reports', () => {
    const all = readiness({ joined: false, synced: false, groups: 2, ownGroup: 0, contactsByGroup: new Map() });
    expect(all.missing).toEqual(['joined', 'synced', 'contacts']);
    expect(flat('deploy/README.md')).toContain('(`missing`: `joined`, `synced`, `contacts`;');
    expect(flat('docs/AGENT.md')).toContain('`missing` lists the conditions not met (`joined`, `synced`, `contacts`)');
  });
});

describe('HTTP: /readyz of agents that are not ready', () => {
  async function withAgent(argv: string[], fn: (base: string) => Promise<void>): Promise<void> {
    const d = mkdtempSync(join(tmpdir(), 'kelips-ready-'));
    const r = loadConfig({ argv: ['--bind', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--data-dir', d, '--preset', 'local', ...argv], env: {}, readFile: () => '' });
    if (r.kind !== 'run') throw new Error('config');
    const a = await startAgent(r.config, createLogger('silent'));
    try {
      await fn(`http://${a.metricsAddress}`);
    } finally {
      await a.stop();
      rmSync(d, { recursive: true, force: true });
    }
  }
  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, text: await res.text() };
  };

  it('a founder of a k = 2 cluster, alone, is not ready: 503 names the missing contacts; the metric agrees', async () => {
    await withAgent(['--groups', '2'], async (b) => {
      const r = await get(`${b}/readyz`);
      expect(r.status).toBe(503);
      const body = JSON.parse(r.text);
      expect(body).toMatchObject({ ready: false, joined: true, synced: true, groupsWithoutContact: 1, missing: ['contacts'] });
      expect(body.reason).toMatch(/^no live contact for 1 of 1 other groups \([01]\)$/);
      expect((await get(`${b}/metrics`)).text).toMatch(/^kelips_node_ready 0$/m);
    });
  });

  it('an agent whose seed never answers is not ready: 503 names joined and synced', async () => {
    // A loopback port nothing listens on (UDP: the datagrams are simply lost).
    await withAgent(['--groups', '1', '--join', '127.0.0.1:9'], async (b) => {
      const r = await get(`${b}/readyz`);
      expect(r.status).toBe(503);
      const body = JSON.parse(r.text);
      expect(body).toMatchObject({ ready: false, joined: false, synced: false, missing: ['joined', 'synced'] });
      expect(body.reason).toMatch(/^not joined: .*; not synced: /);
      expect((await get(`${b}/v1/status`)).text).toMatch(/"ready":false/);
    });
  });
});

describe('HTTP: JSON API', () => {
  it('publishes, looks up, unpublishes', async () => {
    const p = await call('POST', '/v1/publish', JSON.stringify({ name: 'song.mp3', location: 'http://h1/song.mp3' }));
    expect(p.status).toBe(200);
    // k = 1 and one agent: one copy is all there can be, and the answer says so.
    expect(p.json).toMatchObject({ name: 'song.mp3', deleted: false, status: 'stored', storedAt: agent.address, replicas: 1, groupSize: 1 });

    const l = await call('GET', '/v1/lookup?name=song.mp3');
    expect(l.status).toBe(200);
    expect(l.json).toMatchObject({ name: 'song.mp3', status: 'found', hops: 0, locations: [{ location: 'http://h1/song.mp3', owner: agent.address }] });

    const u = await call('POST', '/v1/unpublish', JSON.stringify({ name: 'song.mp3' }));
    expect(u.status).toBe(200);
    expect(u.json).toMatchObject({ name: 'song.mp3', deleted: true, status: 'stored' });

    const gone = await call('GET', '/v1/lookup?name=song.mp3');
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ status: 'not_found', locations: [] });
  });

  it('an acknowledged publish is already in the data dir', async () => {
    const p = await call('POST', '/v1/publish', JSON.stringify({ name: 'kept.txt', location: 'l' }));
    expect(p.status).toBe(200);
    const saved = JSON.parse(readFileSync(join(dir, 'published.json'), 'utf8'));
    expect(saved.tuples).toContainEqual(expect.objectContaining({ name: 'kept.txt', location: 'l', deleted: false }));
  });

  it('location defaults to the node address', async () => {
    const p = await call('POST', '/v1/publish', JSON.stringify({ name: 'here.txt' }));
    expect(p.status).toBe(200);
    const l = await call('GET', '/v1/lookup?name=here.txt');
    expect(l.json.locations).toEqual([{ location: agent.address, owner: agent.address }]);
  });

  it('members and status describe the node', async () => {
    const m = await call('GET', '/v1/members');
    expect(m.status).toBe(200);
    expect(m.json).toEqual({ group: 0, members: [expect.objectContaining({ addr: agent.address, state: 'alive', self: true })] });
    const s = await call('GET', '/v1/status');
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ address: agent.address, cluster: 'kelips', groups: 1, group: 0, joined: true, ready: true, membersAlive: 1 });
    expect(typeof s.json.uptimeMs).toBe('number');
    expect(s.json.published).toBeGreaterThanOrEqual(2);
  });

  const bad: [string, string, string | undefined, number, string, RegExp][] = [
    ['publish without a name', '/v1/publish', '{"location":"x"}', 400, 'bad_request', /name/],
    ['publish with a non-string location', '/v1/publish', '{"name":"a","location":7}', 400, 'bad_request', /location/],
    ['publish with invalid JSON', '/v1/publish', '{"name":', 400, 'invalid_json', /JSON/],
    ['publish with an array body', '/v1/publish', '[1]', 400, 'bad_request', /object/],
    ['publish with an over-long name', '/v1/publish', JSON.stringify({ name: 'x'.repeat(600), location: 'l' }), 400, 'bad_request', /name must be 1 to 512/],
    ['unpublish without a name', '/v1/unpublish', '{}', 400, 'bad_request', /name/],
  ];
  for (const [what, path, body, status, code, re] of bad) {
    it(`rejects ${what} with ${status} ${code}`, async () => {
      const r = await call('POST', path, body);
      expect(r.status).toBe(status);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(re);
    });
  }

  it('rejects a lookup without a name', async () => {
    const r = await call('GET', '/v1/lookup');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'bad_request' });
  });

  it('rejects a body over 64 KiB with 413', async () => {
    const r = await call('POST', '/v1/publish', JSON.stringify({ name: 'a', location: 'x'.repeat(70_000) }));
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('payload_too_large');
  });

  it('404 for unknown paths, 405 with Allow for wrong methods', async () => {
    const nf = await call('GET', '/v2/nothing');
    expect(nf.status).toBe(404);
    expect(nf.json.error.code).toBe('not_found');
    const na = await call('GET', '/v1/publish');
    expect(na.status).toBe(405);
    expect(na.json.error.code).toBe('method_not_allowed');
    expect(na.headers.get('allow')).toBe('POST');
  });
});

describe('HTTP: /metrics', () => {
  it('exports the kelips_ series with their names, types and state read at scrape time', async () => {
    await call('GET', '/v1/lookup?name=metrics-probe');
    const r = await call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    const t = r.text;
    expect(t).toContain(`kelips_node_info{cluster="kelips",group="0",address="${agent.address}",version=`);
    expect(t).toMatch(/^kelips_node_ready 1$/m);
    // The founder of a new cluster holds its group's state from the start.
    expect(t).toMatch(/^kelips_node_holds_group_state 1$/m);
    expect(t).toMatch(/^kelips_node_recovering 0$/m);
    expect(t).toMatch(/^kelips_lookup_not_ready_answers_total 0$/m);
    expect(t).toMatch(/^kelips_group_resets_total 0$/m);
    expect(t).toMatch(/^kelips_view_members\{state="alive"\} 1$/m);
    expect(t).toMatch(/^kelips_contacts_groups_missing 0$/m);
    expect(t).toMatch(/^kelips_view_group_small 1$/m); // a group of one
    expect(t).toMatch(/^kelips_lookups_total\{result="not_found"\} [1-9]/m);
    expect(t).toMatch(/^kelips_lookups_by_hops_total\{hops="0"\} [1-9]/m);
    expect(t).toMatch(/^kelips_publishes_total\{result="stored"\} [1-9]/m);
    expect(t).toMatch(/^# TYPE kelips_lookup_duration_seconds histogram$/m);
    const lookups = ['found', 'not_found', 'unavailable'].reduce((n, r) => n + Number(new RegExp(`^kelips_lookups_total\\{result="${r}"\\} (\\d+)$`, 'm').exec(t)![1]), 0);
    expect(t).toMatch(new RegExp(`^kelips_lookup_duration_seconds_count ${lookups}$`, 'm'));
    expect(t).toMatch(new RegExp(`^kelips_lookup_duration_seconds_bucket\\{le="\\+Inf"\\} ${lookups}$`, 'm'));
    expect(t).toMatch(/^# TYPE kelips_net_datagrams_sent_total counter$/m);
    expect(t).toMatch(/^kelips_net_datagrams_dropped_total\{reason="wire-not-cbor"\} 0$/m);
    expect(t).toMatch(/^kelips_net_datagrams_dropped_total\{reason="groups-mismatch"\} 0$/m);
    expect(t).toMatch(/^kelips_nodejs_eventloop_lag_seconds /m);
    expect(t).not.toMatch(/^kelips_nodejs_active_handles_total/m);
    // Every series is ours.
    for (const line of t.split('\n')) if (line !== '' && !line.startsWith('#')) expect(line).toMatch(/^kelips_/);
  });
});
