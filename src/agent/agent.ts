/**
 * The running agent: wires the data dir, the UDP transport, the driver and core, metrics, logs, the HTTP server
 * and kelips-ctl's client messages together, and stops them in order (graceful leave first).
 */
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { KelipsNode } from '../core/node.js';
import { SeededRng } from '../core/rng.js';
import type { CoreEvent } from '../core/types.js';
import { formatHostPort, isWildcard, parseHostPort } from '../net/address.js';
import { Driver } from '../net/driver.js';
import { UdpTransport } from '../net/transport.js';
import { canonicaliseAddress } from '../wire/index.js';
import { ClientServer } from './clientserver.js';
import { Canary, isBeaconName } from './canary.js';
import { AgentConfigError, type AgentConfig } from './config.js';
import { HttpServer } from './http.js';
import { LocalApi } from './localapi.js';
import { eventLogger, type Logger } from './logger.js';
import { watchGroupHealth } from './group-health.js';
import { AgentMetrics } from './metrics.js';
import { DataDir, DataDirError } from './persistence.js';
import { hasSeedNames, resolveSeeds } from './seeds.js';
import { version } from './version.js';

export interface Agent {
  readonly address: string;
  readonly bound: string;
  readonly metricsAddress: string | null;
  readonly node: KelipsNode;
  readonly driver: Driver;
  readonly api: LocalApi;
  readonly transport: UdpTransport;
  /** Graceful stop: leave the cluster, send the Leave datagrams, save, close. Idempotent. */
  stop(): Promise<void>;
}

/** Send-error and reject lines are summarised: at most one line per this many ms. */
const NOISY_LOG_INTERVAL_MS = 10_000;

export async function startAgent(config: AgentConfig, log: Logger): Promise<Agent> {
  // 1. The data dir: this start's incarnation (persisted before first use) and what we published before.
  let dataDir: DataDir;
  try {
    dataDir = DataDir.open(config.dataDir);
  } catch (err) {
    if (err instanceof DataDirError) throw new AgentConfigError('data-dir', `invalid data-dir (${config.dataDir}): ${err.message}`);
    throw err;
  }
  const firstStart = dataDir.readIncarnation() === null;
  const incarnation = dataDir.nextIncarnation();
  const published = dataDir.readPublished();

  // 2. Seeds (host names resolved now) and the socket.
  const transport = await UdpTransport.open({
    bind: config.bind,
    recvBufferBytes: config.recvBufferBytes,
    sendBufferBytes: config.sendBufferBytes,
    onSendError: rateLimited(log, 'send-failed', (err, to) => [{ event: 'send-failed', to, err: err.message }, `UDP send to ${to} failed: ${err.message}`]),
    onSocketError: (err) => log.error({ event: 'socket-error', err: err.message }, `UDP socket error: ${err.message}`),
  });
  try {
    const address = advertiseAddress(config, transport.localAddress);
    const family = transport.localAddress.startsWith('[') ? 6 : 4;
    const seeds = await resolveSeeds(config.join, family, log, 3);
    const core = config.core;

    // 3. The core, the driver, the API.
    const rng = new SeededRng(randomBytes(4).readUInt32LE(0));
    const startedAt = performance.now();
    // Given seeds, never found a cluster of its own: the core retries them with backoff, and we re-resolve their
    // names each time it reports that none answered.
    const founder = config.join.length === 0;
    const node = new KelipsNode({ config: core, self: address, incarnation, rng, now: startedAt, seeds: seeds.filter((s) => s !== address), published, founder, firstStart });
    dataDir.setPublishedSource(() => node.publishedTuples());

    let metrics: AgentMetrics | null = null;
    let api: LocalApi | null = null;
    let clients: ClientServer | null = null;
    let canary: Canary | null = null;
    const logEvent = eventLogger(log);
    let resolving = false;
    const reresolveSeeds = (): void => {
      if (resolving || !hasSeedNames(config.join)) return;
      resolving = true;
      resolveSeeds(config.join, family, log, 1)
        .then((fresh) => {
          if (fresh.length > 0) driver.run((now) => node.join(fresh.filter((a) => a !== address), now));
        })
        .catch((err: Error) => log.warn({ event: 'seed-unresolved', err: err.message }, `cannot resolve seeds: ${err.message}`))
        .finally(() => (resolving = false));
    };
    const onEvents = (events: CoreEvent[]) => {
      for (const e of events) {
        // Canary lookups and beacon/pulse publishes are counted by the canary, not as user lookups and publishes.
        if (canary?.onEvent(e) !== true) metrics?.onEvent(e);
        logEvent(e);
        if (e.type === 'join-pending') reresolveSeeds();
        if (e.type === 'incarnation-bumped') {
          try {
            dataDir.saveIncarnation(e.incarnation);
          } catch (err) {
            log.error({ event: 'persist-failed', err: (err as Error).message }, `cannot save the incarnation: ${(err as Error).message}`);
          }
        }
      }
      api?.onEvents(events);
    };
    const driver = new Driver({
      core: node,
      transport,
      datagramBytesMax: core.datagramBytesMax,
      onEvents,
      onClientRequest: (req, from) => clients?.handle(req, from),
      onReject: (reason, detail, from) => {
        if (log.isLevelEnabled('debug')) log.debug({ event: 'wire-reject', reason, detail, from }, `rejected a datagram from ${from}: ${reason}`);
      },
      onEncodeError: (err, msg) => log.error({ event: 'encode-failed', type: msg.type, err: err.message }, `could not encode a message of type ${msg.type}: ${err.message}`),
    });
    api = new LocalApi({
      node,
      driver,
      dataDir,
      cluster: core.cluster,
      groups: core.groups,
      version: version(),
      startedAt,
      inflightMax: core.pendingMax,
      resolveSeed: (text) => resolveSeeds([text], family, log, 1),
      onPersistError: (err) => log.error({ event: 'persist-failed', err: err.message }, `cannot save published tuples: ${err.message}`),
    });
    const theApi = api;
    clients = new ClientServer(api, driver, core.groups, node.group, (err) => log.error({ event: 'client-error', err: err.message }, `client request failed: ${err.message}`));

    metrics = new AgentMetrics({
      info: () => ({ cluster: core.cluster, group: node.group, address, version: version() }),
      incarnation: () => node.incarnation,
      ready: () => theApi.ready(),
      members: () => theApi.members(),
      groups: () => core.groups,
      ownGroup: () => node.group,
      contactsByGroup: () => theApi.contactsByGroup(),
      tuplesStored: () => node.tupleCount,
      tuplesPublished: () => node.publishedTuples().filter((t) => !t.deleted && !isBeaconName(t.name)).length,
      coreDrops: () => node.counters.drops,
      suspectProbes: () => node.counters.suspectProbes,
      net: () => driver.net,
      authority: () => ({ synced: node.synced, recovering: node.recoveringUntil !== null, notReadyAnswers: node.counters.notReadyAnswers, groupResets: node.counters.groupResets }),
    });
    canary = new Canary({
      node,
      run: (fn) => driver.run(fn),
      now: () => driver.now(),
      ready: () => theApi.ready(),
      config: core,
      sink: metrics,
      onWrong: (result, d) =>
        log.warn({ event: 'canary-wrong', result, ...d }, `canary lookup of ${d.name} (known alive for ${Math.round(d.knownForMs / 1000)} s): ${result}, answered by ${d.answeredBy ?? 'nobody'}`),
      onError: (err) => log.error({ event: 'canary-error', err: err.message }, `canary: ${err.message}`),
    });
    const theCanary = canary;

    // 4. HTTP.
    let http: HttpServer | null = null;
    let metricsAddress: string | null = null;
    if (config.metrics !== null) {
      const m = parseHostPort(config.metrics, { allowPortZero: true }) as { host: string; port: number };
      http = new HttpServer({ api, metrics, onError: (err) => log.error({ event: 'http-error', err: err.message }, `HTTP: ${err.message}`) });
      try {
        const info = await http.listen(m.host, m.port);
        metricsAddress = formatHostPort(info.address, info.port);
      } catch (err) {
        throw new Error(`cannot listen for HTTP on ${config.metrics} (--metrics): ${(err as Error).message}`);
      }
    }

    driver.start();
    const stopGroupHealth = watchGroupHealth({ members: () => theApi.members(), group: () => node.group, joined: () => node.joined, now: () => driver.now(), log });
    theCanary.start();
    const b = transport.buffers;
    log.info(
      {
        event: 'started',
        address,
        bind: transport.localAddress,
        cluster: core.cluster,
        groups: core.groups,
        group: node.group,
        incarnation,
        seeds,
        metrics: metricsAddress,
        dataDir: config.dataDir,
        published: published.length,
        preset: config.preset,
        gossipIntervalMs: core.gossipIntervalMs,
        udpRecvBufferBytes: b.recvObtained,
        udpSendBufferBytes: b.sendObtained,
        version: version(),
      },
      `kelips ${version()} started: ${address} group ${node.group}/${core.groups} incarnation ${incarnation}` +
        (metricsAddress ? `, metrics on http://${metricsAddress}/metrics` : ''),
    );
    if (b.recvObtained < b.recvRequested)
      log.warn(
        { event: 'udp-buffer-small', requested: b.recvRequested, obtained: b.recvObtained },
        `UDP receive buffer is ${b.recvObtained} bytes, asked ${b.recvRequested}: bursts may be dropped. Raise it: sysctl -w net.core.rmem_max=${b.recvRequested}`,
      );

    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        stopGroupHealth();
        theCanary.stop();
        driver.run((now) => node.leave(now));
        driver.stop();
        theApi.abortAll('the agent is stopping');
        await withTimeout(transport.flush(), 500);
        await withTimeout(dataDir.flush(), 500);
        try {
          dataDir.savePublishedSync();
        } catch (err) {
          log.error({ event: 'persist-failed', err: (err as Error).message }, `cannot save published tuples: ${(err as Error).message}`);
        }
        if (http !== null) await withTimeout(http.close(), 300);
        await withTimeout(transport.close(), 300);
        log.info({ event: 'stopped' }, 'stopped');
      })();
      return stopping;
    };

    return { address, bound: transport.localAddress, metricsAddress, node, driver, api, transport, stop };
  } catch (err) {
    await transport.close().catch(() => {});
    throw err;
  }
}

/** The advertised address: --advertise, else the bound address, else (wildcard bind) an interface address. */
function advertiseAddress(config: AgentConfig, bound: string): string {
  const b = parseHostPort(bound, { allowPortZero: true }) as { host: string; port: number; family: number };
  let text: string;
  if (config.advertise !== null) text = config.advertise;
  else if (!isWildcard(b.host)) text = bound;
  else {
    const ip = firstInterfaceAddress(b.host === '::' ? 6 : 4);
    if (ip === null)
      throw new AgentConfigError('advertise', `invalid advertise: bound to ${bound} and no non-loopback interface address found; set --advertise IP:PORT`);
    text = formatHostPort(ip, b.port);
  }
  const canon = canonicaliseAddress(text);
  if (canon === null) throw new AgentConfigError('advertise', `invalid advertise: ${text} is not an address other nodes can use`);
  return canon;
}

function firstInterfaceAddress(family: 4 | 6): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (family === 4 && a.family === 'IPv4') return a.address;
      if (family === 6 && a.family === 'IPv6' && !a.address.startsWith('fe80')) return a.address;
    }
  }
  if (family === 6) return firstInterfaceAddress(4);
  return null;
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}

/** A logger callback that writes at most one warn line per interval, with how many it summarised. */
function rateLimited<A extends unknown[]>(log: Logger, _key: string, fmt: (...args: A) => [Record<string, unknown>, string]): (...args: A) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (...args: A) => {
    const now = performance.now();
    if (now - last < NOISY_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    last = now;
    const [fields, msg] = fmt(...args);
    log.warn({ ...fields, suppressed }, suppressed > 0 ? `${msg} (${suppressed} more since the last report)` : msg);
    suppressed = 0;
  };
}
