/**
 * The agent's configuration: command-line flags, KELIPS_<NAME> environment variables and an optional JSON config
 * file, merged with the precedence flags > environment > file > defaults, validated once (every error names the
 * field, where its value came from and what is allowed) and frozen.
 *
 * Every option has one name used everywhere: the flag `--gossip-interval-ms`, the variable
 * `KELIPS_GOSSIP_INTERVAL_MS` and the config-file key `"gossip-interval-ms"` (the camelCase spelling
 * `"gossipIntervalMs"` is accepted in the file too). The protocol's tuning knobs (src/core/config.ts) are all
 * exposed this way, on top of a preset (`--preset lan|local`).
 */
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULTS, describeProblem, FIELD_DOCS, PRESETS, resolveConfig, type ConfigProblem, type KelipsConfig } from '../core/config.js';
import { KelipsError } from '../core/errors.js';
import { parseHostPort, formatHostPort, isWildcard } from '../net/address.js';
import { DEFAULT_SOCKET_BUFFER_BYTES } from '../net/transport.js';
import { nearest } from './nearest.js';

export const DEFAULT_GOSSIP_PORT = 7946;
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9946';
export const DEFAULT_DATA_DIR = '/var/lib/kelips';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
export type Preset = keyof typeof PRESETS;

export interface AgentConfig {
  /** UDP address to bind ("ip:port", canonical). */
  bind: string;
  /** Address other nodes reach this one at (its identity), or null: derived from the bound address at start. */
  advertise: string | null;
  /** Seeds: "host:port" (host names resolved at start and again while joins go unanswered: src/agent/seeds.ts). */
  join: readonly string[];
  /** HTTP address for /metrics, /healthz, /readyz and the local API, or null (off). */
  metrics: string | null;
  dataDir: string;
  logLevel: LogLevel;
  preset: Preset;
  recvBufferBytes: number;
  sendBufferBytes: number;
  /** Path of the config file that was read, if any. */
  configFile: string | null;
  /** The protocol configuration (validated and frozen by the core's resolveConfig). */
  core: Readonly<KelipsConfig>;
  /** Where each option's value came from, for the start-up log line. */
  sources: Readonly<Record<string, Source>>;
  /** Things worth a warning that do not stop the start (an unknown KELIPS_* variable), one sentence each. */
  warnings: readonly string[];
}

export type Source = 'flag' | 'env' | 'file' | 'default';

/** A bad configuration value: exits with status 2 and this message. */
export class AgentConfigError extends KelipsError {
  override readonly code = 'KELIPS_AGENT_CONFIG';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Kind = 'string' | 'number' | 'list';
interface OptionSpec {
  /** Flag name (kebab-case); the env var and file key derive from it. */
  name: string;
  kind: Kind;
  /** Default as shown in --help, with its unit. */
  shown: string;
  help: string;
  /** Key in KelipsConfig, for the protocol knobs. */
  core?: keyof KelipsConfig;
}

const AGENT_OPTIONS: OptionSpec[] = [
  { name: 'bind', kind: 'string', shown: `0.0.0.0:${DEFAULT_GOSSIP_PORT}`, help: 'UDP address to bind for gossip and kelips-ctl (ip:port, [v6]:port)' },
  {
    name: 'advertise',
    kind: 'string',
    shown: 'the bound address; for 0.0.0.0, the first non-loopback IPv4 address',
    help: "address other nodes and kelips-ctl reach this node at (its identity; IP literal, not a host name)",
  },
  { name: 'join', kind: 'list', shown: 'none (start a new cluster)', help: 'seed nodes, host:port, comma separated or repeated; retried (names re-resolved) until one answers: a node given seeds never founds its own cluster' },
  { name: 'cluster', kind: 'string', shown: DEFAULTS.cluster, help: FIELD_DOCS.cluster.help, core: 'cluster' },
  { name: 'groups', kind: 'number', shown: String(DEFAULTS.groups), help: FIELD_DOCS.groups.help, core: 'groups' },
  {
    name: 'metrics',
    kind: 'string',
    shown: DEFAULT_METRICS_ADDRESS,
    help: 'HTTP address for /metrics, /healthz, /readyz and the local JSON API; "off" disables. Loopback by default: the API can publish',
  },
  { name: 'data-dir', kind: 'string', shown: DEFAULT_DATA_DIR, help: 'directory for the incarnation and the tuples this node published' },
  { name: 'log-level', kind: 'string', shown: 'info', help: `one of ${LOG_LEVELS.join(', ')}` },
  { name: 'preset', kind: 'string', shown: 'lan', help: 'protocol timing preset: lan (1 s rounds) or local (200 ms rounds, one-machine tests and demos)' },
  { name: 'udp-recv-buffer-bytes', kind: 'number', shown: `${DEFAULT_SOCKET_BUFFER_BYTES} bytes`, help: 'UDP receive buffer to ask for (capped by net.core.rmem_max)' },
  { name: 'udp-send-buffer-bytes', kind: 'number', shown: `${DEFAULT_SOCKET_BUFFER_BYTES} bytes`, help: 'UDP send buffer to ask for (capped by net.core.wmem_max)' },
];

export function kebab(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
export function envName(flag: string): string {
  return `KELIPS_${flag.replace(/-/g, '_').toUpperCase()}`;
}

const TUNING_OPTIONS: OptionSpec[] = (Object.keys(DEFAULTS) as (keyof KelipsConfig)[])
  .filter((k) => k !== 'cluster' && k !== 'groups')
  .map((k) => ({
    name: kebab(k),
    kind: typeof DEFAULTS[k] === 'number' ? ('number' as const) : ('string' as const),
    shown: FIELD_DOCS[k].unit === undefined ? String(DEFAULTS[k]) : `${String(DEFAULTS[k])} ${FIELD_DOCS[k].unit}`,
    help: FIELD_DOCS[k].help,
    core: k,
  }));

export const OPTIONS: readonly OptionSpec[] = [...AGENT_OPTIONS, ...TUNING_OPTIONS];
const BY_NAME = new Map(OPTIONS.map((o) => [o.name, o]));

export type LoadResult = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; config: AgentConfig };

export interface LoadInput {
  argv: string[];
  env: Record<string, string | undefined>;
  /** Reads the config file; throws (ENOENT...) like fs.readFileSync. */
  readFile: (path: string) => string;
}

interface Raw {
  value: unknown;
  source: Source;
}

function describeSource(opt: OptionSpec, src: Source, file: string | null): string {
  switch (src) {
    case 'flag':
      return `--${opt.name}`;
    case 'env':
      return envName(opt.name);
    case 'file':
      return `"${opt.name}" in ${file ?? 'the config file'}`;
    default:
      return 'the default';
  }
}

/** Parse and validate. Throws AgentConfigError (exit status 2) with a message naming the field. */
export function loadConfig(input: LoadInput): LoadResult {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
    config: { type: 'string' },
  };
  for (const o of OPTIONS) parseOptions[o.name] = { type: 'string', ...(o.kind === 'list' ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: input.argv, options: parseOptions, strict: true, allowPositionals: false });
  } catch (err) {
    const msg = (err as Error).message;
    const m = /'(--?[A-Za-z0-9-]+)/.exec(msg);
    const near = m?.[1]?.startsWith('--') ? nearest(m[1].slice(2), Object.keys(parseOptions)) : null;
    const hint = near === null ? 'see kelips --help' : `did you mean --${near}?`;
    throw new AgentConfigError(m?.[1] ?? 'arguments', `${msg.replace(/\. To specify a positional.*$/s, '')} (${hint})`);
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values.help) return { kind: 'help', text: helpText() };
  if (values.version) return { kind: 'version' };

  // 1. The config file, if any (flag, then env).
  const configFile = (values.config as string | undefined) ?? nonEmpty(input.env.KELIPS_CONFIG) ?? null;
  const fromFile = new Map<string, unknown>();
  if (configFile !== null) {
    let text: string;
    try {
      text = input.readFile(configFile);
    } catch (err) {
      throw new AgentConfigError('config', `cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new AgentConfigError('config', `config file ${configFile} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw new AgentConfigError('config', `config file ${configFile} must hold a JSON object of option names to values`);
    for (const [key, value] of Object.entries(obj)) {
      const name = BY_NAME.has(key) ? key : kebab(key);
      if (!BY_NAME.has(name)) {
        const near = nearest(name, BY_NAME.keys());
        throw new AgentConfigError(
          key,
          `unknown option "${key}" in config file ${configFile}` +
            (near === null ? '; kelips --help lists the options' : `; did you mean "${near}"?`),
        );
      }
      fromFile.set(name, value);
    }
  }

  // 2. Merge: flags > env > file > defaults.
  const raw = new Map<string, Raw>();
  for (const o of OPTIONS) {
    const flag = values[o.name];
    const env = nonEmpty(input.env[envName(o.name)]);
    if (flag !== undefined) raw.set(o.name, { value: flag, source: 'flag' });
    else if (env !== undefined) raw.set(o.name, { value: env, source: 'env' });
    else if (fromFile.has(o.name)) raw.set(o.name, { value: fromFile.get(o.name), source: 'file' });
  }
  const sources: Record<string, Source> = {};
  for (const o of OPTIONS) sources[o.name] = raw.get(o.name)?.source ?? 'default';

  const failWith = (name: string, problem: ConfigProblem): never => {
    const opt = BY_NAME.get(name);
    const r = raw.get(name);
    const where = opt && r ? ` (from ${describeSource(opt, r.source, configFile)})` : '';
    throw new AgentConfigError(name, `invalid ${name}${where}: ${describeProblem(problem, kebab)}`);
  };
  const fail = (name: string, mustBe: string, got?: unknown): never =>
    failWith(name, got === undefined ? { mustBe } : { mustBe, got });

  const str = (name: string): string | undefined => {
    const r = raw.get(name);
    if (r === undefined) return undefined;
    if (typeof r.value !== 'string') fail(name, 'a string', r.value);
    return r.value as string;
  };
  const num = (name: string): number | undefined => {
    const r = raw.get(name);
    if (r === undefined) return undefined;
    if (typeof r.value === 'number') return r.value;
    if (typeof r.value === 'string' && /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(r.value)) return Number(r.value);
    return fail(name, 'a number', r.value);
  };
  const list = (name: string): string[] => {
    const r = raw.get(name);
    if (r === undefined) return [];
    const items = Array.isArray(r.value) ? r.value : [r.value];
    const out: string[] = [];
    for (const item of items) {
      if (typeof item !== 'string') fail(name, 'a list of host:port strings', r.value);
      for (const part of (item as string).split(',')) if (part.trim() !== '') out.push(part.trim());
    }
    return out;
  };

  // Agent options.
  const bindText = str('bind') ?? `0.0.0.0:${DEFAULT_GOSSIP_PORT}`;
  const bind = parseHostPort(bindText, { allowPortZero: true });
  if ('error' in bind) fail('bind', `an IP address and UDP port, like 0.0.0.0:7946 or [::]:7946 (${bind.error})`, bindText);
  const bindHp = bind as { host: string; port: number };

  let advertise: string | null = null;
  const advText = str('advertise');
  if (advText !== undefined) {
    const a = parseHostPort(advText);
    if ('error' in a) fail('advertise', `an IP address and UDP port other nodes can reach, like 10.0.0.5:7946 (${a.error})`, advText);
    const ah = a as { host: string; port: number };
    if (isWildcard(ah.host)) fail('advertise', 'a reachable address, not a wildcard (0.0.0.0 or ::)', advText);
    advertise = formatHostPort(ah.host, ah.port);
  }

  const join: string[] = [];
  for (const s of list('join')) {
    const j = parseHostPort(s, { allowHostname: true });
    if ('error' in j) fail('join', `a comma-separated list of host:port seeds (${j.error})`, s);
    const jh = j as { host: string; port: number; family: number };
    join.push(jh.family === 0 ? `${jh.host}:${jh.port}` : formatHostPort(jh.host, jh.port));
  }

  let metrics: string | null = DEFAULT_METRICS_ADDRESS;
  const metricsText = str('metrics');
  if (metricsText !== undefined) {
    if (metricsText === 'off' || metricsText === '') metrics = null;
    else {
      const m = parseHostPort(metricsText, { allowPortZero: true });
      if ('error' in m) fail('metrics', `an IP address and TCP port like 127.0.0.1:9946, or "off" (${m.error})`, metricsText);
      const mh = m as { host: string; port: number };
      metrics = formatHostPort(mh.host, mh.port);
    }
  }

  const dataDir = str('data-dir') ?? DEFAULT_DATA_DIR;
  if (dataDir.trim() === '') fail('data-dir', 'a directory path', dataDir);

  const logLevel = (str('log-level') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail('log-level', `one of ${LOG_LEVELS.join(', ')}`, logLevel);

  const preset = (str('preset') ?? 'lan') as Preset;
  if (!Object.prototype.hasOwnProperty.call(PRESETS, preset))
    fail('preset', `one of ${Object.keys(PRESETS).join(', ')}`, preset);

  const bufferBytes = (name: string): number => {
    const v = num(name) ?? DEFAULT_SOCKET_BUFFER_BYTES;
    if (!Number.isInteger(v) || v < 65_536 || v > 1 << 30) fail(name, 'an integer from 65536 to 1073741824 (bytes)', v);
    return v;
  };
  const recvBufferBytes = bufferBytes('udp-recv-buffer-bytes');
  const sendBufferBytes = bufferBytes('udp-send-buffer-bytes');

  // Protocol options: convert, then let the core validate (its errors say what is wrong as data; named here).
  const overrides: Partial<Record<keyof KelipsConfig, unknown>> = {};
  for (const o of OPTIONS) {
    if (o.core === undefined || !raw.has(o.name)) continue;
    overrides[o.core] = o.kind === 'number' ? num(o.name) : str(o.name);
  }
  let core: Readonly<KelipsConfig>;
  try {
    core = resolveConfig(overrides as Partial<KelipsConfig>, preset);
  } catch (err) {
    if (err instanceof ConfigError) failWith(kebab(err.field), err.problem);
    throw err;
  }

  const config: AgentConfig = Object.freeze({
    bind: formatHostPort(bindHp.host, bindHp.port),
    advertise,
    join: Object.freeze(join),
    metrics,
    dataDir,
    logLevel,
    preset,
    recvBufferBytes,
    sendBufferBytes,
    configFile,
    core,
    sources: Object.freeze(sources),
    warnings: Object.freeze(unknownEnvironment(input.env)),
  });
  return { kind: 'run', config };
}

/** KELIPS_* variables that other programs read: kelips-ctl, the container's health check. */
const OTHER_PROGRAMS_ENV = new Set(['KELIPS_NODE', 'KELIPS_HEALTHCHECK_URL']);

/** A warning for every KELIPS_* variable the agent does not read (a typo would otherwise be silently ignored). */
export function unknownEnvironment(env: Record<string, string | undefined>): string[] {
  const known = new Set([...OPTIONS.map((o) => envName(o.name)), 'KELIPS_CONFIG']);
  const warnings: string[] = [];
  for (const key of Object.keys(env).sort()) {
    if (!key.startsWith('KELIPS_') || known.has(key) || OTHER_PROGRAMS_ENV.has(key) || key.startsWith('KELIPS_TEST_')) continue;
    const near = nearest(key, known);
    warnings.push(`environment variable ${key} is not a kelips option and is ignored` + (near === null ? '' : `; did you mean ${near}?`));
  }
  return warnings;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

export function helpText(): string {
  const lines: string[] = [];
  lines.push('Usage: kelips [options]');
  lines.push('');
  lines.push('Runs one Kelips DHT agent: gossip and kelips-ctl over UDP, metrics and a local JSON API over HTTP.');
  lines.push('Every option is also an environment variable KELIPS_<NAME> and a key of the JSON config file.');
  lines.push('Precedence: flags > environment > config file > defaults.');
  lines.push('');
  lines.push('  --config FILE        JSON config file, e.g. {"join": ["10.0.0.5:7946"], "groups": 32}  [env KELIPS_CONFIG]');
  lines.push('  -h, --help           this help');
  lines.push('  --version            print the version');
  lines.push('');
  const section = (title: string, opts: readonly OptionSpec[]) => {
    lines.push(title);
    for (const o of opts) {
      const arg = o.kind === 'number' ? 'N' : o.kind === 'list' ? 'HOST:PORT,...' : 'VALUE';
      lines.push(`  --${o.name} ${arg}`);
      lines.push(`      ${o.help}`);
      lines.push(`      env ${envName(o.name)}; default ${o.shown}`);
    }
    lines.push('');
  };
  section('Agent:', AGENT_OPTIONS);
  section(
    'Protocol tuning (src/core/config.ts gives the reason for each default; defaults of the lan preset, --preset local\n' +
      'changes the timings; L(G) = ceil(log2(G + 1)) for a group of G members, G counted as at least k):',
    TUNING_OPTIONS,
  );
  lines.push('Exit status: 0 after a clean stop (SIGTERM/SIGINT: graceful leave), 1 on a runtime failure,');
  lines.push('2 on a bad option value (the message names the option and what is allowed).');
  return lines.join('\n');
}

/** For tests and kelips-ctl plan: the option table. */
export function optionNames(): string[] {
  return OPTIONS.map((o) => o.name);
}
