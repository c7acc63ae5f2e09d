import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/agent/config.js';
import { createLogger } from '../../src/agent/logger.js';

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

  it('/readyz: a founder (no seeds) is ready at once', async () => {
    const r = await call('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ready: true, joined: true });
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
