import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/agent/config.js';
import { createLogger } from '../../src/agent/logger.js';
import { runCtl } from '../../src/cli/ctl.js';

let agent: Agent;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kelips-ctl-'));
  const r = loadConfig({ argv: ['--bind', '127.0.0.1:0', '--metrics', 'off', '--data-dir', dir, '--groups', '1', '--preset', 'local'], env: {}, readFile: () => '' });
  if (r.kind !== 'run') throw new Error('config');
  agent = await startAgent(r.config, createLogger('silent'));
});
afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCtl(argv, {}, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('kelips-ctl against an agent', () => {
  it('publish, lookup (exit 0), unpublish, lookup (exit 1)', async () => {
    const n = agent.address;
    const p = await ctl('--node', n, 'publish', 'a.iso', 'http://h/a.iso');
    expect(p).toMatchObject({ code: 0 });
    expect(p.out).toMatch(/published a.iso -> http:\/\/h\/a.iso: stored on 1 member only \(its group has 1 member\), first at/);

    const l = await ctl('--node', n, 'lookup', 'a.iso');
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/http:\/\/h\/a.iso/);
    expect(l.out).toMatch(/a.iso: found at 1 location \(0 hops/);

    const j = await ctl('--node', n, '--json', 'lookup', 'a.iso');
    expect(j.code).toBe(0);
    const o = JSON.parse(j.out);
    expect(o).toMatchObject({ name: 'a.iso', status: 'found', hops: 0, locations: [{ location: 'http://h/a.iso', owner: n }], answeredBy: n });
    // Durations carry at most 3 decimals (µs), not the timer's float noise.
    for (const key of ['latencyMs', 'rttMs']) {
      expect(typeof o[key], key).toBe('number');
      expect(Math.round(o[key] * 1000) / 1000, key).toBe(o[key]);
      expect(j.out, key).toMatch(new RegExp(`"${key}":\\d+(\\.\\d{1,3})?[,}]`));
    }

    expect((await ctl('--node', n, 'unpublish', 'a.iso')).code).toBe(0);
    const nf = await ctl('--node', n, 'lookup', 'a.iso');
    expect(nf.code).toBe(1);
    expect(nf.out).toMatch(/not found/);
  });

  it('publish without LOCATION uses the agent address', async () => {
    const n = agent.address;
    const p = await ctl('--node', n, '--json', 'publish', 'b.iso');
    expect(p.code).toBe(0);
    expect(JSON.parse(p.out)).toMatchObject({ name: 'b.iso', location: n, status: 'stored' });
  });

  it('status, ping, members, contacts', async () => {
    const n = agent.address;
    const s = await ctl('--node', n, '--json', 'status');
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out)).toMatchObject({ address: n, cluster: 'kelips', groups: 1, group: 0, joined: true, membersAlive: 1 });
    const t = await ctl('--node', n, 'status');
    expect(t.out).toMatch(/^node: +127\.0\.0\.1:\d+$/m);
    expect(t.out).toMatch(/^uptime: /m);
    const p = await ctl('--node', n, 'ping');
    expect(p.code).toBe(0);
    expect(p.out).toMatch(new RegExp(`pong from ${n.replace(/\./g, '\\.')}: cluster kelips, k=1, group 0`));
    const m = await ctl('--node', n, '--json', 'members');
    expect(JSON.parse(m.out).members).toEqual([expect.objectContaining({ addr: n, state: 'alive', group: 0 })]);
    const mt = await ctl('--node', n, 'members');
    expect(mt.out).toMatch(/^ADDRESS +GROUP +STATE/m);
    const c = await ctl('--node', n, '--json', 'contacts');
    expect(JSON.parse(c.out)).toEqual({ node: n, contacts: [] });
  });

  it('asks for a group that does not exist: exit 2', async () => {
    const r = await ctl('--node', agent.address, 'members', '--group', '5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/group 5 does not exist/);
  });

  it('exit 3 when nobody answers', async () => {
    // A bound socket that never answers.
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      const r = await ctl('--node', `127.0.0.1:${s.address().port}`, '--timeout-ms', '300', 'ping');
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/no answer from 127\.0\.0\.1:\d+ within 300 ms/);
    } finally {
      s.close();
    }
  });

  const usage: [string[], RegExp][] = [
    [[], /Usage: kelips-ctl/],
    [['frobnicate'], /unknown command "frobnicate"; commands: lookup, publish/],
    [['lokup', 'x'], /unknown command "lokup"; did you mean "lookup"\?/],
    [['lookup', ''], /"lookup" needs a non-empty NAME/],
    [['publish', '', 'loc'], /"publish" needs a non-empty NAME/],
    [['--timeout-ms', '300', 'lookup', 'x'.repeat(70_000)], /name/],
    [['lookup'], /"lookup" needs NAME/],
    [['lookup', 'a', 'b'], /"lookup" takes NAME/],
    [['status', '--group', '1'], /--group is not an option of "status"/],
    [['--bogus', 'status'], /--bogus/],
    [['--timeout-ms', 'soon', 'ping'], /--timeout-ms must be an integer/],
    [['--node', 'nohostport', 'ping'], /--node nohostport/],
    [['plan', '--nodes', '10'], /plan needs --nodes N and --files F/],
    [['plan', '--nodes', '0', '--files', '1'], /--nodes must be an integer from 1/],
  ];
  for (const [argv, re] of usage) {
    it(`usage error (exit 2): ${argv.join(' ').slice(0, 60) || '(no arguments)'}`, async () => {
      const r = await ctl(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
      // One message and a pointer to the help, never a stack trace.
      if (argv.length > 0) expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.out).toBe('');
      // The same under --json: one JSON object on stdout saying what was wrong.
      const j = await ctl('--json', ...argv);
      expect(j.code).toBe(2);
      expect(JSON.parse(j.out)).toEqual({ error: { code: 'usage', message: expect.any(String) } });
    });
  }

  it('--help for every command', async () => {
    for (const c of ['lookup', 'publish', 'unpublish', 'members', 'contacts', 'status', 'ping', 'plan']) {
      const r = await ctl(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: kelips-ctl .*${c}`));
      expect((await ctl('help', c)).out).toBe(r.out);
    }
    expect((await ctl('--help')).out).toMatch(/Exit status: 0 success/);
  });

  it('plan prints a table and JSON', async () => {
    const t = await ctl('plan', '--nodes', '10000', '--files', '1000000');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^groups \(k\): +100 \(recommended/m);
    const j = JSON.parse((await ctl('plan', '--nodes', '100', '--files', '1000', '--json')).out);
    expect(j).toMatchObject({ nodes: 100, files: 1000, groups: 10, groupsRecommended: 10, preset: 'lan' });
    expect(j.memory.totalBytes).toBeGreaterThan(0);
  });
});
