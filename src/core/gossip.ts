/**
 * Building datagrams within the byte budget (`datagramBytesMax`), using the size bounds of ./size.ts.
 *
 * In-group gossip carries, in order of priority: the sender's own heartbeat, ceil(H/2) of the freshest and
 * floor(H/2) random heartbeats of the group (H = heartbeatMult * L(G)), a few contact candidates for other groups,
 * then queued news (tuples, departures), fewest-sent first, until the datagram is full.
 * Cross-group gossip (to a contact) carries the sender's heartbeat and fresh heartbeats of its group, so the
 * receiving group learns contact candidates; the ack carries the same from the other side.
 */
import type { BroadcastQueue } from './broadcasts.js';
import type { KelipsConfig, Timeouts } from './config.js';
import type { ContactTable } from './contacts.js';
import type { Rng } from './rng.js';
import { FLOAT_BYTES, headerBytes, LIST_HEADER_BYTES, memberEntryBytes, tupleEntryBytes } from './size.js';
import type { GossipMessage, Header, MemberEntry, SyncAuthority, SyncChunkMessage, TupleEntry } from './types.js';
import { MessageType } from './types.js';
import type { GroupView } from './view.js';

export interface GossipContext {
  cfg: Readonly<KelipsConfig>;
  header: Header;
  now: number;
  rng: Rng;
  t: Timeouts;
  view: GroupView;
  contacts: ContactTable;
  queue: BroadcastQueue;
  self: MemberEntry;
}

/** Bytes left for lists after the header and fixed fields of a message with `lists` lists. */
function bodyBudget(cfg: Readonly<KelipsConfig>, h: Header, fixedBytes: number, lists: number): number {
  return cfg.datagramBytesMax - headerBytes(h.cluster, h.groups, h.from, h.incarnation, h.heartbeat) - fixedBytes - lists * LIST_HEADER_BYTES;
}

function sumBytes(entries: readonly MemberEntry[]): number {
  let n = 0;
  for (const e of entries) n += memberEntryBytes(e);
  return n;
}

/** Trim `entries` (in place) to fit `budget` bytes; returns the bytes they take. */
function fit(entries: MemberEntry[], budget: number): number {
  let used = 0;
  for (let i = 0; i < entries.length; i++) {
    const b = memberEntryBytes(entries[i]!);
    if (used + b > budget) {
      entries.length = i;
      break;
    }
    used += b;
  }
  return used;
}

export function buildInGroupGossip(ctx: GossipContext, copies: number, wantAck: boolean): GossipMessage {
  const { cfg, now, t } = ctx;
  let budget = bodyBudget(cfg, ctx.header, FLOAT_BYTES + 1, 4);
  const members: MemberEntry[] = [ctx.self];
  const fresh = Math.ceil(t.heartbeats / 2);
  ctx.view.pickForGossip(now, fresh, t.heartbeats - fresh, ctx.rng, members);
  budget -= fit(members, budget);
  const foreign: MemberEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < cfg.foreignPerGossip; i++) {
    const e = ctx.contacts.randomForeignEntry(ctx.rng, -1, now);
    if (e === null || seen.has(e.addr)) continue;
    seen.add(e.addr);
    foreign.push(e);
  }
  budget -= fit(foreign, budget);
  const news = ctx.queue.take(budget, copies, t.retransmits, now);
  return { type: MessageType.Gossip, ...ctx.header, sentAt: now, wantAck, members, foreign, gone: news.gone, tuples: news.tuples };
}

export function buildCrossGroupGossip(ctx: GossipContext, to: string, toGroup: number): GossipMessage {
  const members: MemberEntry[] = [ctx.self];
  ctx.view.pickForGossip(ctx.now, ctx.cfg.crossGroupEntries, 0, ctx.rng, members);
  let budget = bodyBudget(ctx.cfg, ctx.header, FLOAT_BYTES + 1, 4);
  budget -= fit(members, budget);
  const foreign = receiversGroupEntries(ctx.contacts, toGroup, to, ctx.now);
  fit(foreign, budget);
  return { type: MessageType.Gossip, ...ctx.header, sentAt: ctx.now, wantAck: true, members, foreign, gone: [], tuples: [] };
}

/**
 * Nodes we know in the receiver's own group (our contacts there). The receiver may not know them: this is what
 * joins up the pieces of a group whose members started at the same time through different seeds.
 */
export function receiversGroupEntries(contacts: ContactTable, group: number, exclude: string, now: number): MemberEntry[] {
  const out: MemberEntry[] = [];
  contacts.entries(group, now, out, { exclude, responsiveOnly: true });
  return out;
}

/** Split members then foreign entries into datagram-sized chunks (a join reply). Always at least one chunk. */
export function chunkEntries(cfg: Readonly<KelipsConfig>, h: Header, members: MemberEntry[], foreign: MemberEntry[]): { members: MemberEntry[]; foreign: MemberEntry[] }[] {
  const budget = bodyBudget(cfg, h, 5 + 3 + 3, 2);
  const chunks: { members: MemberEntry[]; foreign: MemberEntry[] }[] = [];
  let cur = { members: [] as MemberEntry[], foreign: [] as MemberEntry[] };
  let used = 0;
  const add = (e: MemberEntry, list: 'members' | 'foreign'): void => {
    const b = memberEntryBytes(e);
    if (used + b > budget && used > 0) {
      chunks.push(cur);
      cur = { members: [], foreign: [] };
      used = 0;
    }
    cur[list].push(e);
    used += b;
  };
  for (const e of members) add(e, 'members');
  for (const e of foreign) add(e, 'foreign');
  chunks.push(cur);
  return chunks;
}

/** A sync reply or push as datagram-sized chunks; `want` rides on the last one. */
export function packSyncChunks(cfg: Readonly<KelipsConfig>, h: Header, id: number, members: MemberEntry[], tuples: TupleEntry[], want: number[], authority: SyncAuthority): SyncChunkMessage[] {
  const wantBytes = LIST_HEADER_BYTES + want.length * 2;
  const budget = bodyBudget(cfg, h, 5 + 1 + 1, 3) - wantBytes;
  const out: SyncChunkMessage[] = [];
  let cur: SyncChunkMessage = { type: MessageType.SyncChunk, ...h, id, members: [], tuples: [], want: [], last: false, authority };
  let used = 0;
  const flush = (): void => {
    out.push(cur);
    cur = { type: MessageType.SyncChunk, ...h, id, members: [], tuples: [], want: [], last: false, authority };
    used = 0;
  };
  for (const e of members) {
    const b = memberEntryBytes(e);
    if (used + b > budget && used > 0) flush();
    cur.members.push(e);
    used += b;
  }
  for (const t of tuples) {
    const b = tupleEntryBytes(t);
    if (used + b > budget && used > 0) flush();
    cur.tuples.push(t);
    used += b;
  }
  cur.want = want;
  cur.last = true;
  out.push(cur);
  return out;
}

export { sumBytes };
