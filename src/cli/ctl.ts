/**
 * kelips-ctl: look things up in a kelips cluster and inspect it, through any agent's gossip UDP port.
 *
 * Exit status: 0 success (lookup: found), 1 not found, 2 usage or config error (or a request the agent refused
 * as bad), 3 unavailable (no answer, or the agent could not get one).
 */
import { parseArgs } from 'node:util';
import { PRESETS, resolveConfig, ConfigError, describeProblem, type KelipsConfig } from '../core/config.js';
import { kebab } from '../agent/config.js';
import { MemberState } from '../core/types.js';
import { ClientCode, ClientOp, type ContactRow, type JoinClientReply, type LookupClientReply, type LookupCode, type MemberRow, type PingClientReply, type PublishClientReply, type StatusClientReply } from '../wire/index.js';
import { WireEncodeError } from '../wire/errors.js';
import { toJson } from '../agent/json.js';
import { nearest } from '../agent/nearest.js';
import { CtlClient, okOrThrow } from './client.js';
import { NoAnswerError, RefusedError, UsageError } from './errors.js';
import { plan, planRows } from './plan.js';
import { formatDuration, renderPairs, renderTable } from './table.js';

export const EXIT = Object.freeze({ ok: 0, notFound: 1, usage: 2, unavailable: 3 });
export const DEFAULT_NODE = '127.0.0.1:7946';
export const DEFAULT_TIMEOUT_MS = 5000;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const GLOBAL_HELP = `Usage: kelips-ctl [--node HOST:PORT] [--timeout-ms N] [--json] <command> [arguments]

Talks to a kelips agent over its gossip UDP port (the port it binds; one port to open).

Commands:
  lookup NAME                  where is NAME? locations, hops and latency (exit 0 found, 1 not found)
  publish NAME [LOCATION]      announce that NAME is at LOCATION (default: the agent's address)
  unpublish NAME               withdraw NAME
  members [--group G]          the members of an affinity group (default: the agent's own)
  contacts                     the agent's contacts in the other groups
  status                       node, group, view and contact counts, tuples, uptime
  ping                         is the agent there? (its address, cluster, k, group, incarnation)
  join HOST:PORT               make the agent join the cluster of the node at HOST:PORT (merges two clusters)
  plan --nodes N --files F     recommend k; estimate per-node memory and background bandwidth
  help [COMMAND]               this help, or a command's

Options:
  --node HOST:PORT   the agent's gossip UDP address (env KELIPS_NODE; default ${DEFAULT_NODE})
  --timeout-ms N     give up after N ms without an answer; requests are re-sent meanwhile (default ${DEFAULT_TIMEOUT_MS})
  --json             print one JSON object (for scripts) instead of tables
  -h, --help         help (also after a command: kelips-ctl lookup --help)

Exit status: 0 success / found, 1 not found, 2 usage or config error, 3 unavailable (no answer).`;

const COMMAND_HELP: Record<string, string> = {
  lookup: `Usage: kelips-ctl [--node HOST:PORT] lookup NAME [--json]

Asks the agent to look NAME up: it answers from its own group's table (0 hops) or asks a contact in NAME's group
(1 hop; more when it first has to find a contact). Prints each location with its owner, then the hops, attempts,
the agent's lookup latency and the round trip seen by kelips-ctl.
Exit status: 0 found, 1 not found (a member of NAME's group answered that it has no such tuple), 3 unavailable.`,
  publish: `Usage: kelips-ctl [--node HOST:PORT] publish NAME [LOCATION] [--json]

Makes the agent the owner of the tuple NAME -> LOCATION (default LOCATION: the agent's advertised address). The
agent stores it in NAME's group, keeps it in its data dir and refreshes it for as long as it runs, restarts
included. Prints "stored" once min(2, group size) members of NAME's group hold it, with how many do (a single
copy when the group has one member, or when a second could not be confirmed in time), or "queued" (not confirmed
yet; the agent keeps retrying).`,
  join: `Usage: kelips-ctl [--node HOST:PORT] join SEED [--json]

Asks the agent to join the cluster of the node at SEED (host:port; a name is resolved by the agent). The agent
sends it a join request and learns its members and contacts; gossip then merges the two views, and anti-entropy
the two groups' filetuples. Use it to merge two clusters of the same name and k that were started apart (check
with kelips-ctl status and members a few rounds later). Exit 3 when the agent does not answer.`,
  unpublish: `Usage: kelips-ctl [--node HOST:PORT] unpublish NAME [--json]

Withdraws the agent's tuple for NAME (a versioned tombstone that replaces it in NAME's group).`,
  members: `Usage: kelips-ctl [--node HOST:PORT] members [--group G] [--json]

Lists the members of affinity group G as seen by a member of G: the agent itself when it is in G (the default),
otherwise one of its contacts in G, asked on its gossip address. Columns: address, group, state (alive or suspect),
incarnation, heartbeat, age of the last heartbeat, RTT measured by the agent.`,
  contacts: `Usage: kelips-ctl [--node HOST:PORT] contacts [--json]

Lists the agent's contacts in the other affinity groups: group, address, incarnation, RTT, age of the last
heartbeat, consecutive unanswered requests.`,
  status: `Usage: kelips-ctl [--node HOST:PORT] status [--json]

Shows the agent's address, cluster, k and own group, incarnation, heartbeat, uptime, live and suspect members of
its group, contacts and groups without one, stored and published tuples, joined/synced and its version.`,
  ping: `Usage: kelips-ctl [--node HOST:PORT] ping [--json]

Checks that an agent answers on HOST:PORT and prints its identity and the round-trip time. Exit 3 without answer.`,
  plan: `Usage: kelips-ctl plan --nodes N --files F [--groups K] [--name-bytes B] [--location-bytes B]
                       [--preset lan|local] [--gossip-interval-ms MS] [--contacts-per-group C]
                       [--gossip-fanout F] [--filetuple-refresh-ms MS] [--filetuple-ttl-ms MS] [--json]

Sizes a cluster from the Kelips formulas and the protocol's own configuration (nothing is contacted):
  k = round(sqrt(N)), lowered to what the sizing rule allows (with hash placement, at most a 1% chance that
  some group starts with fewer than 2 members) and raised within it when tuple refreshes would not fit the gossip
  room; per-node memory = view (N/k members) + contacts (c + spares per other group) + filetuples (F/k) + own
  published tuples (F/N); background bandwidth from the gossip round, fanout, datagram budget, anti-entropy and
  tuple refreshes. --groups evaluates another k. Every warning says what to change. Defaults: --name-bytes 32,
  --location-bytes 48, --preset lan.`,
};

const COMMAND_OPTIONS: Record<string, string[]> = {
  lookup: [],
  publish: [],
  unpublish: [],
  members: ['group'],
  contacts: [],
  status: [],
  ping: [],
  join: [],
  plan: ['nodes', 'files', 'groups', 'name-bytes', 'location-bytes', 'preset', 'gossip-interval-ms', 'contacts-per-group', 'gossip-fanout', 'filetuple-refresh-ms', 'filetuple-ttl-ms'],
  help: [],
};
const POSITIONALS: Record<string, [number, number]> = {
  lookup: [1, 1],
  publish: [1, 2],
  unpublish: [1, 1],
  members: [0, 0],
  contacts: [0, 0],
  status: [0, 0],
  ping: [0, 0],
  join: [1, 1],
  plan: [0, 0],
  help: [0, 1],
};
const ARGUMENT_NAMES: Record<string, string> = { lookup: 'NAME', publish: 'NAME [LOCATION]', unpublish: 'NAME', join: 'SEED', help: '[COMMAND]' };

/** "2 members" / "1 member only (the group has 1)" / "1 member only (a second of 4 did not confirm in time)". */
function copies(replicas: number, groupSize: number): string {
  if (replicas >= 2) return `${replicas} members`;
  if (groupSize <= 1) return `1 member only (its group has 1 member)`;
  return `1 member only (a second of its ${groupSize} members did not confirm in time)`;
}

export async function runCtl(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        node: { type: 'string' },
        'timeout-ms': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        group: { type: 'string' },
        nodes: { type: 'string' },
        files: { type: 'string' },
        groups: { type: 'string' },
        'name-bytes': { type: 'string' },
        'location-bytes': { type: 'string' },
        preset: { type: 'string' },
        'gossip-interval-ms': { type: 'string' },
        'contacts-per-group': { type: 'string' },
        'gossip-fanout': { type: 'string' },
        'filetuple-refresh-ms': { type: 'string' },
        'filetuple-ttl-ms': { type: 'string' },
      },
    });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional.*$/s, '');
    if (argv.includes('--json')) io.out(toJson({ error: { code: 'usage', message } }));
    io.err(`kelips-ctl: ${message} (see kelips-ctl --help)`);
    return EXIT.usage;
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const json = v.json === true;
  const [command, ...args] = parsed.positionals;
  if (command === undefined) {
    if (!v.help && json) io.out(toJson({ error: { code: 'usage', message: 'no command given' } }));
    (v.help ? io.out : io.err)(GLOBAL_HELP);
    return v.help ? EXIT.ok : EXIT.usage;
  }
  if (command === 'help' || v.help) {
    const topic = command === 'help' ? args[0] : command;
    if (topic === undefined) {
      io.out(GLOBAL_HELP);
      return EXIT.ok;
    }
    const h = COMMAND_HELP[topic];
    if (h === undefined) {
      const message = unknownCommand(topic);
      if (json) io.out(toJson({ error: { code: 'usage', message } }));
      io.err(`kelips-ctl: ${message}`);
      return EXIT.usage;
    }
    io.out(h);
    return EXIT.ok;
  }
  try {
    if (!(command in COMMAND_OPTIONS)) throw new UsageError(unknownCommand(command));
    for (const name of new Set(Object.values(COMMAND_OPTIONS).flat())) {
      if (v[name] !== undefined && !COMMAND_OPTIONS[command]!.includes(name)) throw new UsageError(`--${name} is not an option of "${command}"`);
    }
    const [min, max] = POSITIONALS[command]!;
    if (args.length < min || args.length > max)
      throw new UsageError(
        args.length < min ? `"${command}" needs ${ARGUMENT_NAMES[command]}` : `"${command}" takes ${max === 0 ? 'no arguments' : ARGUMENT_NAMES[command]}; got ${args.map((a) => JSON.stringify(a)).join(' ')}`,
      );
    if (NAMED.has(command) && args[0] === '') throw new UsageError(`"${command}" needs a non-empty NAME`);
    if (command === 'plan') return runPlan(v, json, io);

    const node = (v.node as string | undefined) ?? (env.KELIPS_NODE || DEFAULT_NODE);
    const timeoutMs = v['timeout-ms'] === undefined ? DEFAULT_TIMEOUT_MS : positiveInt('timeout-ms', v['timeout-ms'] as string, 1, 600_000);
    let client: CtlClient;
    try {
      client = await CtlClient.open(node, timeoutMs);
    } catch (err) {
      throw new UsageError(`--node ${node}: ${(err as Error).message}`);
    }
    try {
      return await runRemote(command, args, v, json, client, io);
    } finally {
      await client.close();
    }
  } catch (err) {
    // An argument the wire format cannot carry (a name over the length limit...) is a usage error too.
    if (err instanceof UsageError || err instanceof WireEncodeError) {
      if (json) io.out(toJson({ error: { code: 'usage', message: err.message } }));
      io.err(`kelips-ctl: ${err.message} (see kelips-ctl ${command in COMMAND_HELP ? `${command} ` : ''}--help)`);
      return EXIT.usage;
    }
    if (err instanceof NoAnswerError) {
      if (json) io.out(toJson({ error: { code: 'unavailable', message: err.message } }));
      io.err(`kelips-ctl: ${err.message}`);
      return EXIT.unavailable;
    }
    if (err instanceof RefusedError) {
      const code = err.reply === ClientCode.BadRequest ? 'bad_request' : err.reply === ClientCode.Busy ? 'busy' : 'unavailable';
      if (json) io.out(toJson({ error: { code, message: err.message } }));
      io.err(`kelips-ctl: the agent refused: ${err.message}`);
      return err.reply === ClientCode.BadRequest ? EXIT.usage : EXIT.unavailable;
    }
    throw err;
  }
}

/** What a lookup reply's code says: the status kelips-ctl prints and its exit status. */
const LOOKUP_OUTCOME: Record<LookupCode, readonly [string, number]> = {
  [ClientCode.Ok]: ['found', EXIT.ok],
  [ClientCode.NotFound]: ['not_found', EXIT.notFound],
  [ClientCode.Unavailable]: ['unavailable', EXIT.unavailable],
};

/** Commands whose first argument is a filename. */
const NAMED = new Set(['lookup', 'publish', 'unpublish']);

function unknownCommand(command: string): string {
  const near = nearest(command, Object.keys(COMMAND_HELP));
  return `unknown command "${command}"; ` + (near === null ? `commands: ${Object.keys(COMMAND_HELP).join(', ')}` : `did you mean "${near}"?`);
}

function positiveInt(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return Number(text);
}

async function runRemote(command: string, args: string[], v: Record<string, string | boolean | undefined>, json: boolean, client: CtlClient, io: Io): Promise<number> {
  switch (command) {
    case 'lookup': {
      const name = args[0]!;
      const a = await client.request<LookupClientReply>({ op: ClientOp.Lookup, name });
      const r = okOrThrow(a.reply) as LookupClientReply;
      const p = r.payload;
      const [status, exit] = LOOKUP_OUTCOME[r.code];
      if (json) {
        io.out(toJson({ name, status, locations: p.locations, hops: p.hops, attempts: p.attempts, latencyMs: p.latencyMs, answeredBy: p.answeredBy, rttMs: a.elapsedMs, node: client.node }));
      } else {
        if (p.locations.length > 0) io.out(renderTable(['location', 'owner'], p.locations.map((l) => [l.location, l.owner])));
        const how = `${p.hops} hop${p.hops === 1 ? '' : 's'}, ${p.attempts} attempt${p.attempts === 1 ? '' : 's'}, ${formatDuration(p.latencyMs)} at the agent, ${formatDuration(a.elapsedMs)} round trip`;
        if (status === 'found') io.out(`${name}: found at ${p.locations.length} location${p.locations.length === 1 ? '' : 's'} (${how}, answered by ${p.answeredBy ?? '-'})`);
        else if (status === 'not_found') io.out(`${name}: not found (${how}, answered by ${p.answeredBy ?? '-'})`);
        else io.out(`${name}: unavailable: no member of its group answered (${how})`);
      }
      return exit;
    }
    case 'publish':
    case 'unpublish': {
      const name = args[0]!;
      let location = args[1];
      if (command === 'publish' && location === undefined) {
        const ping = okOrThrow((await client.request<PingClientReply>({ op: ClientOp.Ping })).reply) as PingClientReply;
        location = ping.payload.address;
      }
      const a =
        command === 'publish'
          ? await client.request<PublishClientReply>({ op: ClientOp.Publish, name, location: location! })
          : await client.request<PublishClientReply>({ op: ClientOp.Unpublish, name });
      const p = (okOrThrow(a.reply) as PublishClientReply).payload;
      if (json) io.out(toJson({ name, ...(command === 'publish' ? { location } : {}), status: p.status, storedAt: p.storedAt, replicas: p.replicas, groupSize: p.groupSize, latencyMs: p.latencyMs }));
      else
        io.out(
          `${command === 'publish' ? `published ${name} -> ${location}` : `unpublished ${name}`}: ` +
            (p.status === 'stored' ? `stored on ${copies(p.replicas, p.groupSize)}, first at ${p.storedAt ?? '-'} (${formatDuration(p.latencyMs)})` : 'queued: not confirmed yet, the agent keeps retrying'),
        );
      return EXIT.ok;
    }
    case 'join': {
      const a = await client.request<JoinClientReply>({ op: ClientOp.Join, seed: args[0]! });
      const seeds = (okOrThrow(a.reply) as JoinClientReply).payload.seeds;
      if (json) io.out(toJson({ seed: args[0], sentTo: seeds }));
      else io.out(`asked ${seeds.join(', ')} to let ${client.node} join; views merge over the next rounds (see kelips-ctl status)`);
      return EXIT.ok;
    }
    case 'members': {
      const group = v.group === undefined ? null : positiveInt('group', v.group as string, 0, 65_534);
      let node = client.node;
      let rows: MemberRow[];
      try {
        rows = await client.rows<MemberRow>({ op: ClientOp.Members, group });
      } catch (err) {
        // The agent keeps only its own group's view and named a member of the group asked about: ask it.
        if (!(err instanceof RefusedError) || err.redirect === null || group === null) throw err;
        node = err.redirect;
        rows = await client.rows<MemberRow>({ op: ClientOp.Members, group }, node);
      }
      rows.sort((a, b) => a.addr.localeCompare(b.addr));
      if (json) io.out(toJson({ node, group: group ?? rows[0]?.group ?? null, members: rows.map((r) => ({ ...r, state: r.state === MemberState.Suspect ? 'suspect' : 'alive' })) }));
      else {
        io.out(
          renderTable(
            ['address', 'group', 'state', 'incarnation', 'heartbeat', 'age', 'rtt'],
            rows.map((r) => [r.addr, r.group, r.state === MemberState.Suspect ? 'suspect' : 'alive', r.incarnation, r.heartbeat, formatDuration(r.ageMs), r.rttMs === null ? null : formatDuration(r.rttMs)]),
          ),
        );
        io.out(`${rows.length} member${rows.length === 1 ? '' : 's'} of group ${rows[0]?.group ?? group ?? '?'}, as seen by ${node}`);
      }
      return EXIT.ok;
    }
    case 'contacts': {
      const rows = await client.rows<ContactRow>({ op: ClientOp.Contacts });
      rows.sort((a, b) => a.group - b.group || a.addr.localeCompare(b.addr));
      if (json) io.out(toJson({ node: client.node, contacts: rows }));
      else {
        io.out(
          renderTable(
            ['group', 'address', 'incarnation', 'rtt', 'age', 'misses'],
            rows.map((r) => [r.group, r.addr, r.incarnation, r.rttMs === null ? null : formatDuration(r.rttMs), formatDuration(r.ageMs), r.misses]),
          ),
        );
        io.out(`${rows.length} contact${rows.length === 1 ? '' : 's'} in ${new Set(rows.map((r) => r.group)).size} group(s)`);
      }
      return EXIT.ok;
    }
    case 'status': {
      const a = await client.request<StatusClientReply>({ op: ClientOp.Status });
      const s = (okOrThrow(a.reply) as StatusClientReply).payload;
      if (json) io.out(toJson(s));
      else
        io.out(
          renderPairs([
            ['node', s.address],
            ['cluster', s.cluster],
            ['group', `${s.group} of ${s.groups}`],
            ['incarnation', s.incarnation],
            ['heartbeat', s.heartbeat],
            ['uptime', formatDuration(s.uptimeMs)],
            ['view', `${s.membersAlive} alive, ${s.membersSuspect} suspect`],
            ['contacts', `${s.contacts} (${s.groupsWithoutContact} group${s.groupsWithoutContact === 1 ? '' : 's'} without one)`],
            ['tuples', `${s.tuples} stored, ${s.published} published`],
            ['state', `${s.joined ? 'joined' : 'joining'}, ${s.synced ? 'synced' : 'syncing'}`],
            ['version', s.version],
          ]),
        );
      return EXIT.ok;
    }
    case 'ping': {
      const a = await client.request<PingClientReply>({ op: ClientOp.Ping });
      const p = (okOrThrow(a.reply) as PingClientReply).payload;
      if (json) io.out(toJson({ ...p, rttMs: a.elapsedMs, attempts: a.attempts }));
      else io.out(`pong from ${p.address}: cluster ${p.cluster}, k=${p.groups}, group ${p.group}, incarnation ${p.incarnation}, ${formatDuration(a.elapsedMs)}`);
      return EXIT.ok;
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

function runPlan(v: Record<string, string | boolean | undefined>, json: boolean, io: Io): number {
  if (v.nodes === undefined || v.files === undefined) throw new UsageError('plan needs --nodes N and --files F');
  const nodes = positiveInt('nodes', v.nodes as string, 1, 100_000_000);
  const files = positiveInt('files', v.files as string, 0, 1e12);
  const groups = v.groups === undefined ? undefined : positiveInt('groups', v.groups as string, 1, 65_535);
  const nameBytes = v['name-bytes'] === undefined ? 32 : positiveInt('name-bytes', v['name-bytes'] as string, 1, 1024);
  const locationBytes = v['location-bytes'] === undefined ? 48 : positiveInt('location-bytes', v['location-bytes'] as string, 1, 1024);
  const preset = (v.preset as string | undefined) ?? 'lan';
  if (!(preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got "${preset}"`);
  const overrides: Partial<KelipsConfig> = {};
  if (v['gossip-interval-ms'] !== undefined) overrides.gossipIntervalMs = positiveInt('gossip-interval-ms', v['gossip-interval-ms'] as string, 10, 60_000);
  if (v['contacts-per-group'] !== undefined) overrides.contactsPerGroup = positiveInt('contacts-per-group', v['contacts-per-group'] as string, 1, 16);
  if (v['gossip-fanout'] !== undefined) overrides.gossipFanout = positiveInt('gossip-fanout', v['gossip-fanout'] as string, 1, 16);
  if (v['filetuple-refresh-ms'] !== undefined) overrides.filetupleRefreshMs = positiveInt('filetuple-refresh-ms', v['filetuple-refresh-ms'] as string, 1000, 30 * 86_400_000);
  if (v['filetuple-ttl-ms'] !== undefined) overrides.filetupleTtlMs = positiveInt('filetuple-ttl-ms', v['filetuple-ttl-ms'] as string, 10_000, 30 * 86_400_000);
  overrides.groups = Math.min(65_535, groups ?? Math.max(1, Math.round(Math.sqrt(nodes))));
  let config;
  try {
    config = resolveConfig(overrides, preset as keyof typeof PRESETS);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`--${kebab(err.field)} ${describeProblem(err.problem, (f) => `--${kebab(f)}`)}`);
    throw err;
  }
  const p = plan({ nodes, files, groups, nameBytes, locationBytes, config });
  if (json) {
    io.out(toJson({ ...p, preset }));
    return EXIT.ok;
  }
  const report = planRows(p, config.gossipIntervalMs, preset);
  io.out(renderPairs(report.rows));
  for (const w of report.warnings) io.out(`warning: ${w}`);
  return EXIT.ok;
}
