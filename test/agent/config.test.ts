import { describe, expect, it } from 'vitest';
import { AgentConfigError, helpText, loadConfig, OPTIONS, envName, type AgentConfig } from '../../src/agent/config.js';

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
    ['fail-mult', ['--fail-mult', '2', '--suspect-mult', '3'], {}, /invalid fail-mult \(from --fail-mult\): must be greater than suspect-mult \(3\)/],
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
    expect(error(['--config', '/k.json'], {}, { '/k.json': '{"grups": 3}' }).message).toMatch(/unknown option "grups" in config file \/k.json; allowed: bind, advertise/);
    expect(error(['--config', '/nope.json']).message).toMatch(/cannot read config file \/nope.json: ENOENT/);
    expect(error(['--config', '/k.json'], {}, { '/k.json': '{groups: 3' }).message).toMatch(/not valid JSON/);
    expect(error(['--config', '/k.json'], {}, { '/k.json': '[1]' }).message).toMatch(/must hold a JSON object/);
  });

  it('rejects unknown flags and positionals', () => {
    expect(error(['--grups', '3']).message).toMatch(/--grups/);
    expect(error(['serve']).message).toMatch(/serve|positional/i);
  });

  it('every protocol knob has its own help line (a new core field needs one)', () => {
    for (const o of OPTIONS) expect(o.help, o.name).not.toMatch(/^[a-z]+[A-Z]\w*$/);
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
