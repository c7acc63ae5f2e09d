/**
 * Answers kelips-ctl's client messages (src/wire/client.ts) that arrive on the gossip UDP port: each request is
 * run through the local API and answered to the UDP source it came from. Members and Contacts replies are cut
 * into datagram-sized chunks; kelips-ctl asks for each chunk by number. A payload may be a wider object than its
 * type (the StatusView for a ping, a MemberView with its group): the codec sends the declared fields only.
 */
import type { ContactView, MemberView } from '../core/api.js';
import { groupOfNode } from '../core/hash.js';
import type { Address, PublishResult } from '../core/types.js';
import type { Driver } from '../net/driver.js';
import {
  ClientCode,
  ClientMessageType,
  ClientOp,
  chunkContactRows,
  chunkMemberRows,
  errorReply,
  lookupReply,
  redirectReply,
  CLIENT_VERSION_CHARS_MAX,
  type ClientReply,
  type ClientRequest,
  type ContactRow,
  type MemberRow,
} from '../wire/index.js';
import type { ApiError, LocalApi } from './localapi.js';

const U32_MAX = 0xffff_ffff;

export class ClientServer {
  constructor(
    private readonly api: LocalApi,
    private readonly driver: Driver,
    private readonly groups: number,
    private readonly ownGroup: number,
    private readonly onError?: (err: Error) => void,
  ) {}

  handle(req: ClientRequest, from: Address): void {
    try {
      this.dispatch(req, from);
    } catch (err) {
      this.onError?.(err as Error);
      this.reply(from, errorReply(req, ClientCode.Unavailable, `internal error: ${(err as Error).message}`));
    }
  }

  private dispatch(req: ClientRequest, from: Address): void {
    switch (req.op) {
      case ClientOp.Lookup:
        return this.api.lookup(req.name, (err, r) => this.reply(from, err ? errorFor(req, err) : lookupReply(req.id, r!)));
      case ClientOp.Publish:
        return this.api.publish(req.name, req.location, (err, r) => this.reply(from, err ? errorFor(req, err) : publishReply(req.id, req.op, r!)));
      case ClientOp.Unpublish:
        return this.api.unpublish(req.name, (err, r) => this.reply(from, err ? errorFor(req, err) : publishReply(req.id, req.op, r!)));
      case ClientOp.Members: {
        const group = req.group ?? this.ownGroup;
        if (group >= this.groups) return this.reply(from, errorReply(req, ClientCode.BadRequest, `group ${group} does not exist: k = ${this.groups}`));
        if (group !== this.ownGroup) {
          // The agent keeps its own group's view only: name a member of the group asked about, when it knows one.
          const contact = this.api.contacts().find((c) => c.group === group)?.addr;
          if (contact !== undefined) return this.reply(from, redirectReply(req, contact));
          return this.reply(
            from,
            errorReply(req, ClientCode.Unavailable, `this node is in group ${this.ownGroup} and keeps the view of that group only; it knows no member of group ${group}`),
          );
        }
        const rows = this.api.members().map((m) => memberRow(m, this.groups));
        const chunks = chunkMemberRows(rows);
        if (req.chunk >= chunks.length) return this.reply(from, errorReply(req, ClientCode.BadRequest, `chunk ${req.chunk} does not exist: ${chunks.length} chunks`));
        return this.reply(from, { type: ClientMessageType.Reply, id: req.id, op: ClientOp.Members, code: ClientCode.Ok, chunk: req.chunk, chunks: chunks.length, payload: chunks[req.chunk]! });
      }
      case ClientOp.Contacts: {
        const rows = this.api.contacts().map(contactRow);
        const chunks = chunkContactRows(rows);
        if (req.chunk >= chunks.length) return this.reply(from, errorReply(req, ClientCode.BadRequest, `chunk ${req.chunk} does not exist: ${chunks.length} chunks`));
        return this.reply(from, { type: ClientMessageType.Reply, id: req.id, op: ClientOp.Contacts, code: ClientCode.Ok, chunk: req.chunk, chunks: chunks.length, payload: chunks[req.chunk]! });
      }
      case ClientOp.Status: {
        const s = this.api.status();
        const payload = { ...s, version: s.version.slice(0, CLIENT_VERSION_CHARS_MAX) };
        return this.reply(from, { type: ClientMessageType.Reply, id: req.id, op: ClientOp.Status, code: ClientCode.Ok, chunk: 0, chunks: 1, payload });
      }
      case ClientOp.Join:
        return this.api.join(req.seed, (err, seeds) =>
          this.reply(from, err ? errorFor(req, err) : { type: ClientMessageType.Reply, id: req.id, op: ClientOp.Join, code: ClientCode.Ok, chunk: 0, chunks: 1, payload: { seeds: seeds! } }),
        );
      case ClientOp.Ping: {
        return this.reply(from, { type: ClientMessageType.Reply, id: req.id, op: ClientOp.Ping, code: ClientCode.Ok, chunk: 0, chunks: 1, payload: this.api.status() });
      }
    }
  }

  private reply(to: Address, reply: ClientReply): void {
    this.driver.sendClientReply(to, reply);
  }
}

function errorFor(req: ClientRequest, err: ApiError): ClientReply {
  if (err.apiCode === 'busy') return errorReply(req, ClientCode.Busy, err.message);
  // A lookup that cannot run (the agent is stopping) gets an unavailable result (see errorReply).
  if (err.apiCode === 'unavailable') return errorReply(req, ClientCode.Unavailable, err.message);
  return errorReply(req, ClientCode.BadRequest, err.message);
}

function publishReply(id: number, op: ClientOp.Publish | ClientOp.Unpublish, r: PublishResult): ClientReply {
  return {
    type: ClientMessageType.Reply,
    id,
    op,
    code: ClientCode.Ok,
    chunk: 0,
    chunks: 1,
    payload: { ...r, latencyMs: Math.max(0, r.latencyMs) },
  };
}

function clampU32(n: number): number {
  return Math.min(U32_MAX, Math.max(0, Math.round(n)));
}

export function memberRow(m: MemberView, groups: number): MemberRow {
  return { ...m, ageMs: clampU32(m.ageMs), rttMs: m.rttMs === null ? null : Math.max(0, m.rttMs), group: groupOfNode(m.addr, groups) };
}

export function contactRow(c: ContactView): ContactRow {
  return { ...c, rttMs: c.rttMs === null ? null : Math.max(0, c.rttMs), ageMs: clampU32(c.ageMs) };
}
