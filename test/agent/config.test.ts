import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentConfigError, helpText, loadConfig, OPTIONS, envName, unknownEnvironment, type AgentConfig } from '../../src/agent/config.js';
import { editDistance, nearest } from '../../src/agent/nearest.js';
import { DEFAULTS, FIELD_DOCS, type KelipsConfig } from '../../src/core/config.js';

function load(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): AgentConfig {
  const r = loadConfig({
    argv,
    env,
    readFile: (p) => {
      const t = files[p];
      if (t === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return t;
    },
  });
  if (r.kind !== 'run') throw new Error('expected run');
  return r.config;
}

function error(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): AgentConfigError {
  try {
    load(argv, env, files);
  } catch (e) {
    if (e instanceof AgentConfigError) return e;
    throw e;
  }
  throw new Error('expected an AgentConfigError');
}

describe('agent config', () => {
  it('has documented defaults', () => {
    const c = load([]);
    expect(c.bind).toBe('0.0.0.0:7946');
    expect(c.advertise).toBeNull();
    expect(c.join).toEqual([]);
    expect(c.metrics).toBe('127.0.0.1:9946');
    expect(c.dataDir).toBe('/var/lib/kelips');
    expect(c.logLevel).toBe('info');
    expect(c.core.cluster).toBe('kelips');
    expect(c.core.groups).toBe(8);
    expect(c.core.gossipIntervalMs).toBe(1000);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.core)).toBe(true);
    expect(c.sources.groups).toBe('default');
  });

  it('applies precedence flags > env > file > defaults, per field', () => {
    const files = { '/etc/kelips.json': JSON.stringify({ groups: 3, cluster: 'file', 'log-level': 'warn', 'data-dir': '/f' }) };
    const env = { KELIPS_CONFIG: '/etc/kelips.json', KELIPS_GROUPS: '5', KELIPS_CLUSTER: 'env' };
    const c = load(['--groups', '7'], env, files);
    expect(c.core.groups).toBe(7); // flag beats env and file
    expect(c.core.cluster).toBe('env'); // env beats file
    expect(c.logLevel).toBe('warn'); // file beats default
    expect(c.dataDir).toBe('/f');
    expect(c.configFile).toBe('/etc/kelips.json');
    expect(c.sources).toMatchObject({ groups: 'flag', cluster: 'env', 'log-level': 'file', bind: 'default' });
  });

  it('--config beats KELIPS_CONFIG; camelCase keys work in the file', () => {
    const files = { '/a.json': '{"gossipIntervalMs": 250}', '/b.json': '{"gossip-interval-ms": 300}' };
    expect(load(['--config', '/b.json'], { KELIPS_CONFIG: '/a.json' }, files).core.gossipIntervalMs).toBe(300);
    expect(load([], { KELIPS_CONFIG: '/a.json' }, files).core.gossipIntervalMs).toBe(250);
  });

  it('applies a preset under explicit tuning', () => {
    expect(load(['--preset', 'local']).core.gossipIntervalMs).toBe(200);
    expect(load(['--preset', 'local', '--gossip-interval-ms', '300']).core.gossipIntervalMs).toBe(300);
    expect(load(['--preset', 'local']).core.requestTimeoutMs).toBe(150);
  });

  it('parses join lists from comma lists, repeated flags and file arrays', () => {
    expect(load(['--join', '127.0.0.1:1,127.0.0.2:2', '--join', 'seed.example:7946']).join).toEqual([
      '127.0.0.1:1',
      '127.0.0.2:2',
      'seed.example:7946',
    ]);
    expect(load([], { KELIPS_JOIN: '10.0.0.1:7946, [::1]:7946' }).join).toEqual(['10.0.0.1:7946', '[::1]:7946']);
    expect(load(['--config', '/c'], {}, { '/c': '{"join":["10.0.0.1:1","10.0.0.2:2"]}' }).join).toEqual([
      '10.0.0.1:1',
      '10.0.0.2:2',
    ]);
  });

  it('canonicalises addresses and turns metrics off', () => {
    const c = load(['--bind', '[::0]:7000', '--advertise', '[2001:DB8::1]:7000', '--metrics', 'off']);
    expect(c.bind).toBe('[::]:7000');
    expect(c.advertise).toBe('[2001:db8::1]:7000');
    expect(c.metrics).toBeNull();
  });

  // Each bad value names the field, where it came from, and what is allowed.
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['groups', ['--groups', 'abc'], {}, /invalid groups \(from --groups\): must be a number, got "abc"/],
    ['groups', [], { KELIPS_GROUPS: '0' }, /invalid groups \(from KELIPS_GROUPS\): must be an integer from 1 to 65535, got 0/],
    ['bind', ['--bind', 'localhost:7946'], {}, /invalid bind \(from --bind\): must be an IP address and UDP port.*"localhost" is not an IP address/],
    ['bind', ['--bind', '127.0.0.1:70000'], {}, /invalid bind .*port 70000 is out of range/],
    ['advertise', ['--advertise', '0.0.0.0:7946'], {}, /invalid advertise .*not a wildcard/],
    ['join', ['--join', '10.0.0.1'], {}, /invalid join \(from --join\): must be a comma-separated list of host:port seeds \(expected HOST:PORT\)/],
    ['metrics', ['--metrics', 'yes'], {}, /invalid metrics .*or "off"/],
    ['log-level', ['--log-level', 'loud'], {}, /invalid log-level \(from --log-level\): must be one of trace, debug, info, warn, error, fatal, silent, got "loud"/],
    ['preset', [], { KELIPS_PRESET: 'wan' }, /invalid preset \(from KELIPS_PRESET\): must be one of lan, local/],
    ['cluster', ['--cluster', 'a b'], {}, /invalid cluster \(from --cluster\): must be 1 to 64 characters/],
    ['gossip-interval-ms', ['--gossip-interval-ms', '5'], {}, /invalid gossip-interval-ms .*integer from 10 to 60000, got 5/],
    ['fail-mult', ['--fail-mult', '2', '--suspect-mult', '3'], {}, /invalid fail-mult \(from --fail-mult\): must be greater than suspect-mult \(3\)$/],
    ['filetuple-refresh-ms', ['--filetuple-refresh-ms', '4000000'], {}, /invalid filetuple-refresh-ms \(from --filetuple-refresh-ms\): must be less than filetuple-ttl-ms \(3600000\)$/],
    ['lookup-deadline-ms', ['--lookup-deadline-ms', '100'], {}, /invalid lookup-deadline-ms \(from --lookup-deadline-ms\): must be at least request-timeout-ms \(300\)$/],
    ['contact-rtt-improvement', [], { KELIPS_CONTACT_RTT_IMPROVEMENT: '2' }, /invalid contact-rtt-improvement \(from KELIPS_CONTACT_RTT_IMPROVEMENT\): must be a number from 0.01 to 1, got 2$/],
    ['udp-recv-buffer-bytes', ['--udp-recv-buffer-bytes', '10'], {}, /invalid udp-recv-buffer-bytes .*65536/],
  ];
  for (const [field, argv, env, re] of cases) {
    it(`rejects a bad ${field}: ${[...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')}`, () => {
      const e = error(argv, env);
      expect(e.field).toBe(field);
      expect(e.message).toMatch(re);
    });
  }

  it('names a bad field in the config file, and the file', () => {
    const e = error(['--config', '/k.json'], {}, { '/k.json': '{"groups": "many"}' });
    expect(e.field).toBe('groups');
    expect(e.message).toMatch(/invalid groups \(from "groups" in \/k.json\): must be a number, got "many"/);
  });

  it('rejects unknown file keys, unreadable and non-JSON files', () => {
    // A typo names the near option, not the whole list; a word far from every option points to --help.
    expect(error(['--config', '/k.json'], {}, { '/k.json': '{"grups": 3}' }).message).toBe('unknown option "grups" in config file /k.json; did you mean "groups"?');
    expect(error(['--config', '/k.json'], {}, { '/k.json': '{"gossipIntervalMS": 3}' }).message).toMatch(/; did you mean "gossip-interval-ms"\?$/);
    expect(error(['--config', '/k.json'], {}, { '/k.json': '{"colour": 3}' }).message).toBe('unknown option "colour" in config file /k.json; kelips --help lists the options');
    expect(error(['--config', '/nope.json']).message).toMatch(/cannot read config file \/nope.json: ENOENT/);
    expect(error(['--config', '/k.json'], {}, { '/k.json': '{groups: 3' }).message).toMatch(/not valid JSON/);
    expect(error(['--config', '/k.json'], {}, { '/k.json': '[1]' }).message).toMatch(/must hold a JSON object/);
  });

  it('rejects unknown flags and positionals', () => {
    expect(error(['--grups', '3']).message).toMatch(/--grups.*\(did you mean --groups\?\)$/);
    expect(error(['--colour', '3']).message).toMatch(/--colour.*\(see kelips --help\)$/);
    expect(error(['serve']).message).toMatch(/serve|positional/i);
  });

  it('every protocol knob\'s help is its documentation in src/core/config.ts, which docs/AGENT.md shows too', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'AGENT.md'), 'utf8').split('\n');
    const knobs = OPTIONS.filter((o) => o.core !== undefined);
    expect(knobs.map((o) => o.core).sort()).toEqual((Object.keys(DEFAULTS) as (keyof KelipsConfig)[]).sort());
    for (const o of knobs) {
      const d = FIELD_DOCS[o.core!];
      expect(o.help, o.name).toBe(d.help);
      expect(o.shown, o.name).toBe(d.unit === undefined ? String(DEFAULTS[o.core!]) : `${String(DEFAULTS[o.core!])} ${d.unit}`);
      if (o.name === 'cluster' || o.name === 'groups') continue; // agent options, described at more length there
      const row = doc.find((l) => l.startsWith(`| \`--${o.name}\` |`));
      expect(row?.split('|')[4]?.trim(), o.name).toBe(d.help);
    }
  });

  it('warns about KELIPS_* variables that are no option, naming the near one', () => {
    expect(unknownEnvironment({ KELIPS_GROUP: '3', KELIPS_LOGLEVEL: 'debug', KELIPS_GROUPS: '3', KELIPS_NODE: 'x', PATH: '/bin' })).toEqual([
      'environment variable KELIPS_GROUP is not a kelips option and is ignored; did you mean KELIPS_GROUPS?',
      'environment variable KELIPS_LOGLEVEL is not a kelips option and is ignored; did you mean KELIPS_LOG_LEVEL?',
    ]);
    expect(unknownEnvironment({ KELIPS_FROBNICATE: '1' })).toEqual(['environment variable KELIPS_FROBNICATE is not a kelips option and is ignored']);
    expect(load([], { KELIPS_GROUP: '3' }).warnings).toEqual([expect.stringMatching(/KELIPS_GROUP .*did you mean KELIPS_GROUPS\?/)]);
    expect(load([], { KELIPS_GROUPS: '3', KELIPS_CONFIG: '' }).warnings).toEqual([]);
  });

  const distances: [string, string, number][] = [
    ['', '', 0],
    ['groups', 'groups', 0],
    ['grups', 'groups', 1],
    ['gruops', 'groups', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ];
  for (const [a, b, d] of distances)
    it(`edit distance ${JSON.stringify(a)} to ${JSON.stringify(b)} is ${d}`, () => {
      expect(editDistance(a, b)).toBe(d);
      expect(editDistance(b, a)).toBe(d);
    });

  it('nearest: a typo names the option, another word nothing', () => {
    const names = OPTIONS.map((o) => o.name);
    expect(nearest('grups', names)).toBe('groups');
    expect(nearest('loglevel', names)).toBe('log-level');
    expect(nearest('data_dir', names)).toBe('data-dir');
    expect(nearest('colour', names)).toBeNull();
    expect(nearest('x', names)).toBeNull();
  });

  it('--help lists every flag with its env var and default', () => {
    const r = loadConfig({ argv: ['--help'], env: {}, readFile: () => '' });
    expect(r.kind).toBe('help');
    const text = helpText();
    for (const o of OPTIONS) {
      expect(text).toContain(`--${o.name} `);
      expect(text).toContain(envName(o.name));
    }
    expect(text).toContain('default 1000 ms');
  });
});
