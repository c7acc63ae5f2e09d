/**
 * HTTP on the --metrics address (loopback by default: the JSON API can publish on this node's behalf).
 *
 *   GET  /metrics                 Prometheus text format (prom-client)
 *   GET  /healthz                 200 while the process runs
 *   GET  /readyz                  200 when ready (joined, synced, a live contact for every other group: readiness.ts),
 *                                 else 503; the body names what is missing
 *   POST /v1/publish              {"name": "...", "location": "..."}  (location defaults to the node's address)
 *   POST /v1/unpublish            {"name": "..."}
 *   GET  /v1/lookup?name=NAME     200 found, 404 not found, 503 unavailable
 *   GET  /v1/members              this node's affinity group
 *   GET  /v1/contacts             contacts for the other groups
 *   GET  /v1/tuples[?name=NAME]   filetuples this node stores (its group's names): owner, version, TTL
 *   GET  /v1/status               node, group, view and contact counts, tuples, uptime
 *
 * Errors are JSON {"error": {"code": "<stable code>", "message": "..."}} with codes bad_request, invalid_json,
 * not_found, method_not_allowed, payload_too_large, busy, limit, unavailable, internal.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LookupStatus, MemberState, type LookupResult, type PublishResult } from '../core/types.js';
import { ApiError, type LocalApi } from './localapi.js';
import type { AgentMetrics } from './metrics.js';
import { toJson } from './json.js';

/** Largest request body accepted (bytes): a name and a location of 1024 characters each fit many times over. */
export const BODY_BYTES_MAX = 64 * 1024;
/** Rows of /v1/tuples at most (a filter by name is the way to look at one). */
export const TUPLES_ROWS_MAX = 1000;

export interface HttpOptions {
  api: LocalApi;
  metrics: AgentMetrics;
  onError?: (err: Error) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export class HttpServer {
  private readonly server: Server;
  private readonly routes: Record<string, Partial<Record<string, Handler>>>;

  constructor(private readonly opts: HttpOptions) {
    const { api, metrics } = opts;
    this.routes = {
      '/metrics': {
        GET: async (_req, res) => {
          const body = await metrics.metrics();
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(body);
        },
      },
      '/healthz': { GET: (_req, res) => json(res, 200, { status: 'ok' }) },
      '/readyz': {
        GET: (_req, res) => {
          const r = api.readiness();
          json(res, r.ready ? 200 : 503, {
            ready: r.ready,
            joined: r.joined,
            synced: r.synced,
            contacts: api.contacts().length,
            groupsWithoutContact: r.groupsWithoutContactCount,
            missingGroups: r.groupsWithoutContact,
            missing: r.missing,
            reason: r.reason,
          });
        },
      },
      '/v1/lookup': {
        GET: (_req, res, url) => {
          const name = url.searchParams.get('name');
          if (name === null || name === '') return error(res, 400, 'bad_request', 'query parameter "name" is required');
          api.lookup(name, (err, r) => {
            if (err) return apiError(res, err);
            const body = lookupBody(r!);
            json(res, body.status === 'found' ? 200 : body.status === 'not_found' ? 404 : 503, body);
          });
        },
      },
      '/v1/publish': {
        POST: async (req, res) => {
          const body = await readJson(req, res);
          if (body === undefined) return;
          if (body.location !== undefined && typeof body.location !== 'string')
            return error(res, 400, 'bad_request', '"location" must be a string');
          api.publish(body.name, body.location, (err, r) => (err ? apiError(res, err) : json(res, 200, publishBody(r!))));
        },
      },
      '/v1/unpublish': {
        POST: async (req, res) => {
          const body = await readJson(req, res);
          if (body === undefined) return;
          api.unpublish(body.name, (err, r) => (err ? apiError(res, err) : json(res, 200, publishBody(r!))));
        },
      },
      '/v1/members': {
        GET: (_req, res) => {
          const s = api.status();
          json(res, 200, {
            group: s.group,
            members: api.members().map((m) => ({
              addr: m.addr,
              incarnation: m.incarnation,
              heartbeat: m.heartbeat,
              ageMs: Math.round(m.ageMs),
              rttMs: m.rttMs,
              state: m.state === MemberState.Suspect ? 'suspect' : 'alive',
              self: m.self,
            })),
          });
        },
      },
      '/v1/contacts': {
        GET: (_req, res) => {
          json(res, 200, {
            contacts: api.contacts().map((c) => ({ group: c.group, addr: c.addr, incarnation: c.incarnation, rttMs: c.rttMs, ageMs: Math.round(c.ageMs), misses: c.misses })),
          });
        },
      },
      '/v1/tuples': {
        GET: (_req, res, url) => {
          const name = url.searchParams.get('name');
          const all = api.tuples().filter((t) => name === null || t.name === name);
          json(res, 200, { tuples: all.slice(0, TUPLES_ROWS_MAX), truncated: all.length > TUPLES_ROWS_MAX });
        },
      },
      '/v1/status': { GET: (_req, res) => json(res, 200, api.status()) },
    };
    this.server = createServer((req, res) => this.dispatch(req, res));
    this.server.keepAliveTimeout = 5000;
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
  }

  /** Listen on "ip:port" (port 0: any); resolves with the bound address, rejects on EADDRINUSE etc. */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.opts.onError?.(err));
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return error(res, 400, 'bad_request', 'malformed request URL');
    }
    const route = this.routes[url.pathname];
    if (route === undefined) return error(res, 404, 'not_found', `no such endpoint: ${url.pathname}`);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const handler = route[method];
    if (handler === undefined) {
      res.setHeader('allow', Object.keys(route).join(', '));
      return error(res, 405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}; use ${Object.keys(route).join(' or ')}`);
    }
    try {
      const p = handler(req, res, url);
      if (p instanceof Promise) p.catch((err: unknown) => this.internal(res, err));
    } catch (err) {
      this.internal(res, err);
    }
  }

  private internal(res: ServerResponse, err: unknown): void {
    if (err instanceof ApiError) return apiError(res, err);
    this.opts.onError?.(err as Error);
    if (!res.headersSent) error(res, 500, 'internal', (err as Error).message);
    else res.destroy();
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = toJson(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

const API_STATUS: Record<string, number> = { bad_request: 400, busy: 503, limit: 409, unavailable: 503 };

function apiError(res: ServerResponse, err: ApiError): void {
  error(res, API_STATUS[err.apiCode] ?? 500, err.apiCode, err.message);
}

/** The JSON object body of a request, or undefined after answering with an error. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_BYTES_MAX) {
      res.setHeader('connection', 'close');
      res.on('finish', () => req.destroy());
      error(res, 413, 'payload_too_large', `request body over ${BODY_BYTES_MAX} bytes`);
      return undefined;
    }
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    error(res, 400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    error(res, 400, 'bad_request', 'request body must be a JSON object');
    return undefined;
  }
  return body as Record<string, unknown>;
}

export function lookupBody(r: LookupResult) {
  const status = r.status === LookupStatus.Found ? 'found' : r.status === LookupStatus.NotFound ? 'not_found' : 'unavailable';
  return { name: r.name, status, locations: r.locations, hops: r.hops, attempts: r.attempts, latencyMs: r.latencyMs, answeredBy: r.answeredBy };
}

export function publishBody(r: PublishResult) {
  return { name: r.name, deleted: r.deleted, status: r.status, storedAt: r.storedAt, replicas: r.replicas, groupSize: r.groupSize, latencyMs: r.latencyMs };
}
