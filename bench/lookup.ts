/**
 * Lookup benchmark on real UDP: `npm run bench:lookup -- --nodes 32 --json`. Method and results: docs/BENCHMARKS.md.
 *
 * Starts N `kelips` agents (processes, default preset lan) on 127.0.20.x, publishes sample names, and measures from
 * one client socket, interleaved in blocks so both sides see the same load:
 *  - lookup_p50_us / lookup_p99_us: one Kelips hop, kelips-ctl's Lookup request to a member of the name's group;
 *    the path through a local agent (two hops on loopback) is reported apart (lookup_via_agent_*);
 *  - rtt_p50_us / rtt_p99_us: the baseline, a bare cbor-x request/response over UDP (--baseline single: one server
 *    asked in every block; per-agent: one server per agent, for comparison only);
 *  - lookups_per_s against echo_per_s: one agent answering pipelined lookups against a bare UDP echo server.
 * Every measured process is warmed up first (--warmup), so the lookups measure the code, not V8's JIT. In the latency
 * rounds the client runs on CPU 0 and every server on the other CPUs (--cpus split), so every request and reply
 * crosses CPUs on both sides of the comparison, as it crosses hosts in a cluster; left to the scheduler, a
 * same-CPU round trip is several times faster than a cross-CPU one and the ratio would depend on where one
 * process happened to run. The throughput rounds run unpinned.
 *
 * Prints one JSON object (--json) or a readable summary. Every child process is killed on exit.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decode as cborDecode, encode as cborEncode } from 'cbor-x';
import { groupOfName, groupOfNode } from '../src/core/hash.js';
import { ClientCode, ClientMessageType, ClientOp, decode, encode } from '../src/wire/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const KELIPS = join(HERE, '..', 'src', 'cli', 'kelips.js');

// ---------------------------------------------------------------------------------------------------------------
// Server modes (this file, run as a child): a cbor-x request/response server and a bare UDP echo server.

async function serve(mode: 'cbor' | 'echo'): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setRecvBufferSize(8 << 20);
  sock.setSendBufferSize(8 << 20);
  if (mode === 'echo') {
    sock.on('message', (m, r) => sock.send(m, r.port, r.address));
  } else {
    // Decode the request, build a reply shaped like a lookup reply, encode it: the work any CBOR RPC does.
    const owner = Buffer.from([127, 0, 20, 11, 0x1f, 0x0a]);
    sock.on('message', (m, r) => {
      const req = cborDecode(m) as unknown[];
      const reply = [1, 33, req[2], 1, 0, 0, 1, [1, [[`http://files.example/${String(req[4])}`, owner]], 1, 1, 0.25, owner]];
      sock.send(cborEncode(reply), r.port, r.address);
    });
  }
  process.stdout.write(`${sock.address().port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------------------
// Children

const children = new Set<ChildProcess>();
function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });

/**
 * CPU placement. 'split': this process (the client) runs on CPU 0 and every server process (baseline, echo, agents)
 * on the other CPUs, so that every request and every reply crosses from one CPU to another, on both sides of the
 * comparison. null: the scheduler places everything (--cpus none).
 */
let serverCpus: string | null = null;
/** CPUs of the host, counted before this process pinned itself (availableParallelism() then says 1). */
let hostCpus = 1;

/** Pin this process (all its threads) to CPU 0 and start the servers on CPUs 1..n-1; false if taskset fails. */
function splitCpus(): boolean {
  const n = availableParallelism();
  if (n < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return false;
  }
  hostCpus = n;
  serverCpus = n === 2 ? '1' : `1-${n - 1}`;
  return true;
}

/**
 * Undo the split before the throughput rounds: every process free to run on every CPU (a saturated agent and the
 * echo server then compete with the same idle agents).
 */
function unsplitCpus(): void {
  if (serverCpus === null) return;
  const all = `0-${hostCpus - 1}`;
  const live = [...children].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid);
  for (const pid of [process.pid, ...live]) {
    if (pid !== undefined) execFileSync('taskset', ['-a', '-p', '-c', all, String(pid)], { stdio: 'ignore' });
  }
}

/** Start a node process (a server or an agent) on the server CPUs. */
function spawnNode(args: string[], opts: Parameters<typeof spawn>[2]): ChildProcess {
  if (serverCpus === null) return spawn(process.execPath, args, opts!);
  return spawn('taskset', ['-c', serverCpus, process.execPath, ...args], opts!);
}

function startServer(mode: 'cbor' | 'echo'): Promise<number> {
  const p = spawnNode([fileURLToPath(import.meta.url), '--serve', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(p);
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    p.on('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

interface AgentProc {
  addr: string;
  http: string;
  group: number;
  proc: ChildProcess;
}

function startAgent(dir: string, i: number, ip: string, port: number, k: number, join: string[], preset: string): AgentProc {
  const addr = `${ip}:${port}`;
  const httpAddr = `${ip}:${port + 1}`;
  const fd = openSync(join_(dir, `agent-${i}.log`), 'a');
  const proc = spawnNode(
    [KELIPS, '--bind', addr, '--metrics', httpAddr, '--data-dir', join_(dir, `agent-${i}`), '--preset', preset, '--groups', String(k), '--cluster', 'bench', '--log-level', 'warn', ...(join.length ? ['--join', join.join(',')] : [])],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  children.add(proc);
  return { addr, http: httpAddr, group: groupOfNode(addr, k), proc };
}
const join_ = join;

async function status(a: AgentProc): Promise<any> {
  try {
    const r = await fetch(`http://${a.http}/v1/status`, { signal: AbortSignal.timeout(2000) });
    return await r.json();
  } catch {
    return null;
  }
}

async function until(check: () => Promise<boolean>, maxMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > maxMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// The client: one raw socket, request/response matched by id (the first array items after version and type).

class Client {
  private sock: Socket = createSocket('udp4');
  private waiting = new Map<number, (b: Buffer) => void>();
  private counter: ((b: Buffer) => void) | null = null;

  async open(): Promise<void> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.sock.setRecvBufferSize(8 << 20);
    this.sock.setSendBufferSize(8 << 20);
    this.sock.on('message', (m) => {
      if (this.counter !== null) return this.counter(m);
      // Both reply kinds are CBOR arrays [1, 33, id, ...]: read the id with the full decoder of each side.
      const a = cborDecode(m) as unknown[];
      const w = this.waiting.get(a[2] as number);
      if (w) {
        this.waiting.delete(a[2] as number);
        w(m);
      }
    });
  }

  /** One request, its reply and the time between them (us). */
  call(bytes: Buffer, id: number, port: number, host: string): Promise<{ reply: Buffer; us: number }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no reply from ${host}:${port}`));
      }, 5000);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve({ reply, us: (performance.now() - t0) * 1000 });
      });
      this.sock.send(bytes, port, host);
    });
  }

  /** Keep `window` requests in flight for `seconds`; replies per second. Requests are pre-encoded. */
  async saturate(requests: Buffer[], port: number, host: string, window: number, seconds: number): Promise<number> {
    let received = 0;
    let next = 0;
    let stop = false;
    const send = () => {
      this.sock.send(requests[next]!, port, host);
      next = (next + 1) % requests.length;
    };
    let lastReply = performance.now();
    this.counter = () => {
      received++;
      lastReply = performance.now();
      if (!stop) send();
    };
    const t0 = performance.now();
    for (let i = 0; i < window; i++) send();
    // A datagram lost under load would shrink the window for good: top it up when replies stall.
    const topUp = setInterval(() => {
      if (performance.now() - lastReply > 50) for (let i = 0; i < window; i++) send();
    }, 100);
    await sleep(seconds * 1000);
    stop = true;
    const elapsed = (performance.now() - t0) / 1000;
    const n = received;
    clearInterval(topUp);
    await sleep(100);
    this.counter = null;
    return n / elapsed;
  }

  /** Send `count` requests with `window` in flight (warm-up); resolves when they are answered or replies stall. */
  async pump(requests: Buffer[], port: number, host: string, window: number, count: number): Promise<void> {
    let sent = 0;
    let received = 0;
    let lastReply = performance.now();
    const send = () => {
      if (sent >= count) return;
      this.sock.send(requests[sent % requests.length]!, port, host);
      sent++;
    };
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        // A lost datagram would leave the window short for good: top it up when replies stall.
        if (received >= count || sent >= count) finish();
        else if (performance.now() - lastReply > 50) for (let i = 0; i < window; i++) send();
      }, 20);
      const finish = () => {
        clearInterval(check);
        resolve();
      };
      this.counter = () => {
        received++;
        lastReply = performance.now();
        if (received >= count) finish();
        else send();
      };
      for (let i = 0; i < window; i++) send();
    });
    await sleep(50);
    this.counter = null;
  }

  close(): void {
    this.sock.close();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
const round = (n: number) => Math.round(n * 10) / 10;
const hostPort = (a: string): [string, number] => [a.slice(0, a.lastIndexOf(':')), Number(a.slice(a.lastIndexOf(':') + 1))];

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '32' },
      files: { type: 'string', default: '256' },
      samples: { type: 'string', default: '3000' },
      seconds: { type: 'string', default: '2' },
      window: { type: 'string', default: '32' },
      warmup: { type: 'string', default: '2000' },
      baseline: { type: 'string', default: 'single' },
      preset: { type: 'string', default: 'lan' },
      cpus: { type: 'string', default: 'split' },
      json: { type: 'boolean', default: false },
      serve: { type: 'string' },
    },
  });
  if (values.serve === 'cbor' || values.serve === 'echo') return serve(values.serve);
  const N = Number(values.nodes);
  const F = Number(values.files);
  const S = Number(values.samples);
  const seconds = Number(values.seconds);
  const window = Number(values.window);
  if (![N, F, S, seconds, window].every((x) => Number.isInteger(x) && x > 0)) throw new Error('--nodes, --files, --samples, --seconds and --window take positive integers');
  if (!(Number.isInteger(Number(values.warmup)) && Number(values.warmup) >= 0)) throw new Error('--warmup takes an integer >= 0');
  if (values.baseline !== 'per-agent' && values.baseline !== 'single') throw new Error('--baseline takes per-agent or single');
  const perAgent = values.baseline === 'per-agent';
  if (values.cpus !== 'split' && values.cpus !== 'none') throw new Error('--cpus takes split or none');
  const k = Math.max(1, Math.round(Math.sqrt(N)));
  const log = (s: string) => {
    if (!values.json) process.stdout.write(s + '\n');
    else process.stderr.write(s + '\n');
  };

  const split = values.cpus === 'split' && splitCpus();
  if (values.cpus === 'split' && !split) log('--cpus split: needs 2 CPUs or more and taskset; the scheduler places the processes (as --cpus none)');
  const dir = mkdtempSync(join(tmpdir(), 'kelips-bench-'));
  const port = 20000 + Math.floor(Math.random() * 20000) * 2;
  const started = Date.now();
  try {
    // 1. Baseline servers and the cluster.
    // The bare cbor-x baseline: one server asked in every block (--baseline single), or one per agent, asked in the
    // block before its agent's (--baseline per-agent).
    const [echoPort, ...cborPorts] = await Promise.all([startServer('echo'), ...Array.from({ length: perAgent ? N : 1 }, () => startServer('cbor'))]);
    const agents: AgentProc[] = [];
    for (let i = 0; i < N; i++) {
      const ip = `127.0.20.${11 + i}`;
      agents.push(startAgent(dir, i, ip, port, k, i === 0 ? [] : [agents[0]!.addr, ...(i > 1 ? [agents[1]!.addr] : [])], values.preset!));
    }
    log(`started ${N} agents (k=${k}) and ${cborPorts.length + 1} baseline servers; waiting for the cluster to converge`);
    await until(
      async () => {
        const s = await Promise.all(agents.map(status));
        const empty = Array.from({ length: k }, (_, g) => g).filter((g) => !agents.some((a) => a.group === g));
        return s.every(
          (x, i) =>
            x && x.joined && x.synced && x.groupsWithoutContact === empty.length && x.membersAlive === agents.filter((a) => a.group === agents[i]!.group).length,
        );
      },
      120_000,
      'the cluster to converge',
    ).catch(async (err: Error) => {
      const s = await Promise.all(agents.map(status));
      throw new Error(`${err.message}:\n${agents.map((a, i) => `${a.addr} group ${a.group}: ${JSON.stringify(s[i])}`).join('\n')}`);
    });
    log(`converged in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // 2. Sample names, published on random agents through the client messages.
    const client = new Client();
    await client.open();
    let id = 1;
    const names = Array.from({ length: F }, (_, j) => `sample-${j}.bin`);
    for (const [j, name] of names.entries()) {
      const a = agents[j % N]!;
      const [h, p] = hostPort(a.addr);
      const r = decode((await client.call(encode({ type: ClientMessageType.Request, id, op: ClientOp.Publish, name, location: `http://files.example/${name}` }), id++, p, h)).reply);
      if (!r.ok || r.msg.type !== ClientMessageType.Reply || r.msg.code !== ClientCode.Ok) throw new Error(`publish ${name} failed`);
    }
    // Wait until every member of each name's group holds it (a lookup answered by any member finds it).
    const members = (g: number) => agents.filter((a) => a.group === g);
    await until(
      async () => {
        for (const name of names) {
          for (const a of members(groupOfName(name, k))) {
            const [h, p] = hostPort(a.addr);
            const r = decode((await client.call(encode({ type: ClientMessageType.Request, id, op: ClientOp.Lookup, name }), id++, p, h)).reply);
            if (!r.ok || r.msg.type !== ClientMessageType.Reply || r.msg.code !== ClientCode.Ok) return false;
          }
        }
        return true;
      },
      60_000,
      'the sample names to spread',
    );
    log(`published ${F} names`);

    // 3. Latency, interleaved in blocks: bare cbor RPC, one-hop lookup (to a member of the name's group), and the
    // full path through a random agent.
    const rtt: number[] = [];
    const lookup: number[] = [];
    const via: number[] = [];
    const viaHops: Record<string, number> = {};
    const agentOneHop: number[] = [];
    // JIT warm-up: each agent is asked ~100 times in the latency rounds; measured cold it would answer with code V8
    // has not optimised yet, and that measures the JIT, not the lookup. So every process measured below first
    // answers `--warmup` pipelined requests of its kind: each agent in a group with names lookups of those names,
    // and its baseline server as many cbor requests (an agent of a group without names is never asked).
    const byGroup = Array.from({ length: k }, (_, g) => names.filter((n) => groupOfName(n, k) === g));
    const warmup = Number(values.warmup);
    for (const [i, a] of agents.entries()) {
      const own = byGroup[a.group]!;
      if (own.length === 0) continue;
      const [h, p] = hostPort(a.addr);
      await client.pump(own.map((n, j) => cborEncode([1, 32, 900_000 + j, 1, n])), cborPorts[perAgent ? i : 0]!, '127.0.0.1', 16, warmup);
      await client.pump(own.map((name, j) => encode({ type: ClientMessageType.Request, id: 800_000 + j, op: ClientOp.Lookup, name })), p, h, 16, warmup);
    }
    log(`warmed up: ${warmup} requests to each agent in a group with names and to its baseline server`);
    const warm = Math.min(500, S);
    for (let round_ = 0; round_ < 2; round_++) {
      const samples = round_ === 0 ? warm : S;
      const record = round_ === 1;
      // Blocks of 100: each block sends its lookups to one member of one group (rotating over groups and members
      // from block to block), and just before them the same number of baseline requests (to the one server, or to
      // that member's own with --baseline per-agent): both sides are measured in the same stretch of time.
      const groupsWithNames = byGroup.map((ns, g) => g).filter((g) => byGroup[g]!.length > 0 && members(g).length > 0);
      for (let s = 0, block = 0; s < samples; s += 100, block++) {
        const end = Math.min(samples, s + 100);
        const g = groupsWithNames[block % groupsWithNames.length]!;
        const group = members(g);
        const a = group[Math.floor(block / groupsWithNames.length) % group.length]!;
        const baselinePort = cborPorts[perAgent ? agents.indexOf(a) : 0]!;
        for (let j = s; j < end; j++) {
          const name = names[j % F]!;
          const req = cborEncode([1, 32, id, 1, name]);
          const r = await client.call(req, id++, baselinePort, '127.0.0.1');
          if (record) rtt.push(r.us);
        }
        const [h, p] = hostPort(a.addr);
        for (let j = s; j < end; j++) {
          const name = byGroup[g]![j % byGroup[g]!.length]!;
          const r = await client.call(encode({ type: ClientMessageType.Request, id, op: ClientOp.Lookup, name }), id++, p, h);
          const d = decode(r.reply);
          if (!d.ok || d.msg.type !== ClientMessageType.Reply || d.msg.code !== ClientCode.Ok) throw new Error(`lookup ${name} at ${a.addr} failed`);
          if (record) lookup.push(r.us);
        }
        const via_ = agents[(block * 5) % N]!;
        const [vh, vp] = hostPort(via_.addr);
        for (let j = s; j < end; j += 2) {
          const name = names[(j * 13) % F]!;
          const r = await client.call(encode({ type: ClientMessageType.Request, id, op: ClientOp.Lookup, name }), id++, vp, vh);
          const d = decode(r.reply);
          if (!d.ok || d.msg.type !== ClientMessageType.Reply || d.msg.op !== ClientOp.Lookup || d.msg.code !== ClientCode.Ok) throw new Error(`lookup ${name} via ${via_.addr} failed`);
          if (record) {
            const payload = d.msg.payload as { hops: number; latencyMs: number };
            via.push(r.us);
            viaHops[String(payload.hops)] = (viaHops[String(payload.hops)] ?? 0) + 1;
            if (payload.hops === 1) agentOneHop.push(payload.latencyMs * 1000);
          }
        }
      }
    }
    for (const a of [rtt, lookup, via, agentOneHop]) a.sort((x, y) => x - y);
    log(`latency: ${S} samples each`);

    // 4. Throughput of one process: an agent answering lookups from its table vs a bare UDP echo server. Same load
    // generator, same pre-encoded requests (lookups of names in the agent's group), alternated three times.
    unsplitCpus();
    const target = agents[0]!;
    const own = names.filter((n) => groupOfName(n, k) === target.group);
    const requests = own.map((name, j) => encode({ type: ClientMessageType.Request, id: 1_000_000 + j, op: ClientOp.Lookup, name }));
    const [th, tp] = hostPort(target.addr);
    const lookupRates: number[] = [];
    const echoRates: number[] = [];
    for (let r = 0; r < 3; r++) {
      echoRates.push(await client.saturate(requests, echoPort, '127.0.0.1', window, seconds));
      lookupRates.push(await client.saturate(requests, tp, th, window, seconds));
    }
    client.close();
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const lookupsPerS = median(lookupRates);
    const echoPerS = median(echoRates);

    const result = {
      nodes: N,
      groups: k,
      preset: values.preset,
      files: F,
      samples: S,
      lookup_p50_us: round(percentile(lookup, 50)),
      lookup_p99_us: round(percentile(lookup, 99)),
      rtt_p50_us: round(percentile(rtt, 50)),
      rtt_p99_us: round(percentile(rtt, 99)),
      lookup_rtt_ratio_p50: Math.round((percentile(lookup, 50) / percentile(rtt, 50)) * 1000) / 1000,
      lookups_per_s: Math.round(lookupsPerS),
      echo_per_s: Math.round(echoPerS),
      lookups_echo_ratio: Math.round((lookupsPerS / echoPerS) * 1000) / 1000,
      cpus: split
        ? `split (latency rounds): client on CPU 0, every server (baseline, echo, agents) on CPUs ${serverCpus}; throughput rounds on every CPU`
        : 'none: placed by the scheduler',
      baseline: perAgent ? 'per-agent: one bare cbor-x server per agent, asked in the same blocks as its agent' : 'single: one bare cbor-x server asked in every block',
      lookup_path: "client -> a member of the name's group, answered from its filetuple table (the one hop of a Kelips lookup)",
      lookup_via_agent_p50_us: round(percentile(via, 50)),
      lookup_via_agent_p99_us: round(percentile(via, 99)),
      lookup_via_agent_hops: viaHops,
      lookup_via_agent_path: 'client -> any agent -> (0 hops: its own table | 1 hop: its contact in the name\'s group) -> client: two network hops on loopback',
      agent_one_hop_p50_us: round(percentile(agentOneHop, 50)),
      agent_one_hop_p99_us: round(percentile(agentOneHop, 99)),
      agent_one_hop_path: 'measured by the agent itself: Lookup request to its contact and the reply (its core\'s latencyMs)',
      throughput_window: window,
      throughput_seconds: seconds,
      lookups_per_s_runs: lookupRates.map(Math.round),
      echo_per_s_runs: echoRates.map(Math.round),
      wall_s: Math.round((Date.now() - started) / 100) / 10,
    };
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      log(`lookup (one hop)     p50 ${result.lookup_p50_us} us  p99 ${result.lookup_p99_us} us`);
      log(`cbor-x RPC baseline  p50 ${result.rtt_p50_us} us  p99 ${result.rtt_p99_us} us   ratio p50 ${result.lookup_rtt_ratio_p50}`);
      log(`via any agent        p50 ${result.lookup_via_agent_p50_us} us  p99 ${result.lookup_via_agent_p99_us} us  hops ${JSON.stringify(viaHops)}`);
      log(`agent's own 1-hop    p50 ${result.agent_one_hop_p50_us} us  p99 ${result.agent_one_hop_p99_us} us`);
      log(`one agent: ${result.lookups_per_s} lookups/s; bare echo: ${result.echo_per_s} datagrams/s; ratio ${result.lookups_echo_ratio}`);
      log(`CPU placement: ${result.cpus}`);
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await sleep(300);
    killChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => {
    if (!process.argv.includes('--serve')) process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`bench:lookup: ${(err as Error).stack ?? String(err)}\n`);
    killChildren();
    process.exit(1);
  },
);
