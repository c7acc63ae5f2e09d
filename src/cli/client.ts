/**
 * kelips-ctl's side of the client protocol (src/wire/client.ts): one request, answered by one reply, over UDP to
 * the agent's gossip port. A request is re-sent with the same id on a schedule (250 ms, then doubling) until a
 * reply arrives or the overall timeout passes; chunked replies (members, contacts) are fetched chunk by chunk.
 */
import { randomInt } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { formatHostPort, parseHostPort } from '../net/address.js';
import { UdpTransport } from '../net/transport.js';
import {
  ClientCode,
  ClientMessageType,
  ClientOp,
  decode,
  encode,
  type ClientReply,
  type ClientRequest,
  type ContactRow,
  type MemberRow,
} from '../wire/index.js';

import { NoAnswerError, RefusedError } from './errors.js';

export { NoAnswerError, RefusedError };

type RequestBody = ClientRequest extends infer R ? (R extends ClientRequest ? Omit<R, 'type' | 'id'> : never) : never;

export interface Answer<R extends ClientReply = ClientReply> {
  reply: R;
  /** Time from the first send to the reply (ms), retries included. */
  elapsedMs: number;
  attempts: number;
}

const FIRST_RETRY_MS = 250;

export class CtlClient {
  private readonly waiting = new Map<number, (r: ClientReply) => void>();
  private nextId = randomInt(1, 2 ** 31);

  private constructor(
    private readonly transport: UdpTransport,
    readonly node: string,
    readonly timeoutMs: number,
  ) {
    transport.onDatagram((bytes) => {
      const d = decode(bytes);
      if (!d.ok || d.msg.type !== ClientMessageType.Reply) return;
      const w = this.waiting.get(d.msg.id);
      if (w !== undefined) w(d.msg);
    });
  }

  /** `node`: "host:port" (a host name is resolved). */
  static async open(node: string, timeoutMs: number): Promise<CtlClient> {
    const p = parseHostPort(node, { allowHostname: true });
    if ('error' in p) throw new Error(`--node ${node}: ${p.error}`);
    let host = p.host;
    let family = p.family;
    if (family === 0) {
      const a = await dnsLookup(p.host);
      host = a.address;
      family = a.family === 6 ? 6 : 4;
    }
    const transport = await UdpTransport.open({ bind: family === 6 ? '[::]:0' : '0.0.0.0:0', recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 20 });
    return new CtlClient(transport, formatHostPort(host, p.port), timeoutMs);
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** Send one request and wait for its reply (re-sent until answered or timed out). */
  request<R extends ClientReply = ClientReply>(body: RequestBody, node: string = this.node): Promise<Answer<R>> {
    const id = this.nextId++;
    const bytes = encode({ type: ClientMessageType.Request, id, ...body } as ClientRequest);
    const start = performance.now();
    return new Promise((resolve, reject) => {
      let attempts = 0;
      let retry: NodeJS.Timeout | null = null;
      let delay = FIRST_RETRY_MS;
      const overall = setTimeout(() => {
        done();
        reject(new NoAnswerError(node, this.timeoutMs));
      }, this.timeoutMs);
      const done = () => {
        clearTimeout(overall);
        if (retry !== null) clearTimeout(retry);
        this.waiting.delete(id);
      };
      const send = () => {
        attempts++;
        this.transport.send(node, bytes);
        retry = setTimeout(send, delay);
        delay *= 2;
      };
      this.waiting.set(id, (reply) => {
        if (reply.op !== body.op) return;
        done();
        resolve({ reply: reply as R, elapsedMs: performance.now() - start, attempts });
      });
      send();
    });
  }

  /** All rows of a chunked reply (members, contacts): chunk 0, then the others it announces. */
  async rows<T extends MemberRow | ContactRow>(body: { op: ClientOp.Members; group: number | null } | { op: ClientOp.Contacts }, node: string = this.node): Promise<T[]> {
    const first = await this.request({ ...body, chunk: 0 } as RequestBody, node);
    const r0 = okOrThrow(first.reply);
    const rows = [...(r0.payload as T[])];
    for (let c = 1; c < r0.chunks; c++) {
      const next = okOrThrow((await this.request({ ...body, chunk: c } as RequestBody, node)).reply);
      rows.push(...(next.payload as T[]));
    }
    return rows;
  }
}

/** The reply if it is a success (or a lookup result); RefusedError otherwise (with the member to ask, on a redirect). */
export function okOrThrow(reply: ClientReply): ClientReply {
  if (reply.code === ClientCode.Ok) return reply;
  if (reply.op === ClientOp.Lookup && (reply.code === ClientCode.NotFound || reply.code === ClientCode.Unavailable)) return reply;
  if (reply.code === ClientCode.Redirect)
    throw new RefusedError(reply.code, `the agent keeps no view of that group; ask ${reply.payload.member}, a member of it`, reply.payload.member);
  const text = typeof reply.payload === 'string' ? reply.payload : CODE_TEXT[reply.code];
  throw new RefusedError(reply.code, text ?? `error code ${reply.code}`);
}

const CODE_TEXT: Record<number, string> = {
  [ClientCode.BadRequest]: 'bad request',
  [ClientCode.Busy]: 'the agent is busy; try again',
  [ClientCode.Unavailable]: 'unavailable',
  [ClientCode.NotFound]: 'not found',
};
