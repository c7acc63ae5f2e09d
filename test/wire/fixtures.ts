/** Messages for the wire tests: one of each type with chosen values, and seeded random gossip. */
import { randInt, SeededRng } from '../../src/core/rng.js';
import type { Rng } from '../../src/core/rng.js';
import type {
  GoneEntry,
  Header,
  MemberEntry,
  Message,
  TupleEntry,
} from '../../src/core/types.js';
import { GoneReason, LookupStatus, MessageType, SyncAuthority } from '../../src/core/types.js';

export const V4 = '10.1.2.3:7946';
export const V4B = '192.168.100.200:65535';
export const V6 = '[2001:db8::1]:7946';
export const V6B = '[fe80::a:b:c:d]:1';
export const V6MAPPED = '[::ffff:10.0.0.1]:7946';
export const MAX = Number.MAX_SAFE_INTEGER;
export const U32 = 0xffff_ffff;

export function header(from: string, over: Partial<Header> = {}): Header {
  return { cluster: 'kelips', groups: 8, from, incarnation: 3, heartbeat: 1234, ...over };
}

export const member = (addr: string, incarnation = 1, heartbeat = 2, ageMs = 3): MemberEntry => ({
  addr,
  incarnation,
  heartbeat,
  ageMs,
});

export const tuple = (over: Partial<TupleEntry> = {}): TupleEntry => ({
  name: 'file.txt',
  location: 'http://10.1.2.3/file.txt',
  owner: V4,
  versionIncarnation: 3,
  versionSeq: 7,
  ttlMs: 3_600_000,
  deleted: false,
  ...over,
});

export const gone = (addr: string, reason = GoneReason.Failed, incarnation = 4): GoneEntry => ({ addr, incarnation, reason });

/** One message of every type, with the given header address (and the other family elsewhere). */
export function everyMessage(from: string, other: string): Message[] {
  const h = header(from);
  return [
    { ...h, type: MessageType.Gossip, sentAt: 12345.678, wantAck: true,
      members: [member(from, 3, 1234, 0), member(other, MAX, MAX, U32)],
      foreign: [member(other, 0, 0, 0)], gone: [gone(other), gone(from, GoneReason.Left, 0)],
      tuples: [tuple({ owner: other }), tuple({ name: 'ünïcödé/日本語/😀', deleted: true, ttlMs: 0 })] },
    { ...h, type: MessageType.Gossip, sentAt: 0, wantAck: false, members: [], foreign: [], gone: [], tuples: [] },
    { ...h, type: MessageType.GossipAck, echoSentAt: 2 ** 40 + 0.5, members: [member(other)], gone: [gone(from)] },
    { ...h, type: MessageType.JoinRequest, id: 0 },
    { ...h, type: MessageType.JoinRequest, id: MAX },
    { ...h, type: MessageType.JoinReply, id: 17, members: [member(from)], foreign: [member(other)], chunk: 0, chunks: 1 },
    { ...h, type: MessageType.JoinReply, id: 17, members: [], foreign: [], chunk: 65534, chunks: 65535 },
    { ...h, type: MessageType.SyncRequest, id: 5, digests: [0, 1, U32, 123456], wantMembers: true },
    { ...h, type: MessageType.SyncRequest, id: 5, digests: new Array<number>(256).fill(U32), wantMembers: false },
    { ...h, type: MessageType.SyncChunk, id: 6, members: [member(other)], tuples: [tuple()], want: [0, 255], last: true, authority: SyncAuthority.Holds },
    { ...h, type: MessageType.SyncChunk, id: 6, members: [], tuples: [], want: [], last: false, authority: SyncAuthority.Recovering },
    { ...h, type: MessageType.LookupRequest, id: 8, name: 'a' },
    { ...h, type: MessageType.LookupRequest, id: 8, name: 'ñ'.repeat(1024) },
    { ...h, type: MessageType.LookupReply, id: 9, status: LookupStatus.Found,
      locations: [{ location: 'l1', owner: from }, { location: 'l2', owner: other }] },
    { ...h, type: MessageType.LookupReply, id: 9, status: LookupStatus.NotFound, locations: [] },
    { ...h, type: MessageType.LookupReply, id: 9, status: LookupStatus.NotReady, locations: [] },
    { ...h, type: MessageType.PublishRequest, id: 10, tuple: tuple({ owner: from, versionIncarnation: MAX, versionSeq: MAX, ttlMs: U32 }) },
    { ...h, type: MessageType.PublishAck, id: 11, accepted: true, groupSize: 3 },
    { ...h, type: MessageType.PublishAck, id: 11, accepted: false, groupSize: 0 },
    { ...h, type: MessageType.ContactRequest, id: 12, group: 7, origin: other, ttl: 16 },
    { ...h, type: MessageType.ContactRequest, id: 12, group: 0, origin: from, ttl: 0 },
    { ...h, type: MessageType.ContactReply, id: 13, group: 3, candidates: [member(other), member(from)] },
    { ...h, type: MessageType.Leave },
    { ...h, type: MessageType.GroupReset, group: 5, origin: other, originIncarnation: MAX, forwarded: false },
    { ...h, type: MessageType.GroupReset, group: 0, origin: from, originIncarnation: 0, forwarded: true },
    { ...h, type: MessageType.GroupResetAck, originIncarnation: MAX },
    { ...header(from, { cluster: 'A-z_0.9'.padEnd(64, 'x'), groups: 65535, incarnation: MAX, heartbeat: MAX }),
      type: MessageType.ContactRequest, id: MAX, group: 65534, origin: other, ttl: 1 },
    { ...header(from, { cluster: 'k', groups: 1, incarnation: 0, heartbeat: 0 }), type: MessageType.Leave },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Random gossip

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789/._-';
const UNICODE = ['é', 'ß', '日', '本', '😀', 'Ω', '\u0000', '\u07ff', '\u0800', '\uffff'];

export function randAddress(rng: Rng): string {
  if (rng.next() < 0.7) {
    return `${randInt(rng, 256)}.${randInt(rng, 256)}.${randInt(rng, 256)}.${randInt(rng, 256)}:${1 + randInt(rng, 65535)}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(rng.next() < 0.4 ? '0' : randInt(rng, 65536).toString(16));
  // Let the codec's helper decide the canonical form.
  return `[${groups.join(':')}]:${1 + randInt(rng, 65535)}`;
}

/** A count spread over all CBOR integer widths. */
export function randUint(rng: Rng, max = Number.MAX_SAFE_INTEGER): number {
  const widths = [24, 256, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER + 1];
  const w = Math.min(widths[randInt(rng, widths.length)]!, max + 1);
  return Math.floor(rng.next() * w);
}

export function randText(rng: Rng, maxLen: number): string {
  const len = 1 + randInt(rng, maxLen);
  let s = '';
  while (s.length < len) {
    const c = rng.next() < 0.9 ? NAME_CHARS[randInt(rng, NAME_CHARS.length)]! : UNICODE[randInt(rng, UNICODE.length)]!;
    s += s.length + c.length <= len ? c : 'z'; // never cut a surrogate pair
  }
  return s;
}

export function randMember(rng: Rng, canon: (a: string) => string): MemberEntry {
  return { addr: canon(randAddress(rng)), incarnation: randUint(rng), heartbeat: randUint(rng), ageMs: randUint(rng, 0xffffffff) };
}

export function randTuple(rng: Rng, canon: (a: string) => string): TupleEntry {
  return {
    name: randText(rng, rng.next() < 0.9 ? 40 : 1024),
    location: randText(rng, rng.next() < 0.9 ? 60 : 1024),
    owner: canon(randAddress(rng)),
    versionIncarnation: randUint(rng),
    versionSeq: randUint(rng),
    ttlMs: randUint(rng, 0xffffffff),
    deleted: rng.next() < 0.2,
  };
}

export function randGossip(rng: Rng, canon: (a: string) => string): Message {
  const list = <T>(max: number, f: () => T): T[] => Array.from({ length: randInt(rng, max + 1) }, f);
  const sentAtKinds = [0, randUint(rng), rng.next() * 1e7, 2 ** 33 + rng.next()];
  return {
    type: MessageType.Gossip,
    cluster: ['k', 'kelips', 'prod-eu.west_1', 'x'.repeat(64)][randInt(rng, 4)]!,
    groups: 1 + randInt(rng, 65535),
    from: canon(randAddress(rng)),
    incarnation: randUint(rng),
    heartbeat: randUint(rng),
    sentAt: sentAtKinds[randInt(rng, sentAtKinds.length)]!,
    wantAck: rng.next() < 0.5,
    members: list(20, () => randMember(rng, canon)),
    foreign: list(10, () => randMember(rng, canon)),
    gone: list(5, () => ({ addr: canon(randAddress(rng)), incarnation: randUint(rng), reason: 1 + randInt(rng, 2) })),
    tuples: list(8, () => randTuple(rng, canon)),
  };
}

export { SeededRng };
