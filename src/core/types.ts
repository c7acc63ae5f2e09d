/**
 * The vocabulary of the protocol: what nodes say to each other (messages), what a node tells its runtime
 * (events), and what an application asks of it (commands). The wire codec (src/wire) encodes exactly these
 * shapes; the core never sees bytes.
 *
 * Addresses are strings "a.b.c.d:port" or "[v6]:port": a node's advertised UDP address is its identity together
 * with its incarnation. All times are milliseconds on the owning node's monotonic clock; only durations (ages,
 * TTLs, echoes) ever cross the wire, never absolute times, because clocks on two hosts share no origin.
 */

/** Advertised UDP address, "ip:port". */
export type Address = string;

/** Numeric message types. Append only: a number, once shipped, keeps its meaning forever. */
export enum MessageType {
  Gossip = 1,
  GossipAck = 2,
  JoinRequest = 3,
  JoinReply = 4,
  SyncRequest = 5,
  SyncChunk = 6,
  LookupRequest = 7,
  LookupReply = 8,
  PublishRequest = 9,
  PublishAck = 10,
  ContactRequest = 11,
  ContactReply = 12,
  Leave = 13,
  GroupReset = 14,
  GroupResetAck = 15,
  // 32..63 are reserved for client messages (kelips-ctl <-> agent), defined by the agent's wire module.
}

/** What one node knows about another: its identity, its heartbeat and how stale that heartbeat is. */
export interface MemberEntry {
  addr: Address;
  incarnation: number;
  heartbeat: number;
  /** How long ago (ms) the sender last saw this heartbeat advance; 0 for the sender itself. */
  ageMs: number;
}

/** A departure: the node left gracefully, or was found dead (so a stale copy of itself can refute it). */
export interface GoneEntry {
  addr: Address;
  incarnation: number;
  reason: GoneReason;
}
export enum GoneReason {
  Left = 1,
  Failed = 2,
}

/**
 * A filetuple as it travels: <name, location> published by owner. The pair (name, owner) is the key; the version
 * orders updates from that owner: (incarnation, seq) compared lexicographically, so a restarted owner (higher
 * incarnation) always wins over what it published before the restart.
 */
export interface TupleEntry {
  name: string;
  location: string;
  owner: Address;
  versionIncarnation: number;
  versionSeq: number;
  /** Remaining lifetime in ms at the moment of sending. */
  ttlMs: number;
  /** A tombstone: the owner unpublished this name. */
  deleted: boolean;
}

/** Every message starts with this. The core drops (and counts) a message whose cluster or k differs from its own. */
export interface Header {
  cluster: string;
  groups: number;
  /** The sender, as it advertises itself. */
  from: Address;
  incarnation: number;
  heartbeat: number;
}

export interface GossipMessage extends Header {
  type: MessageType.Gossip;
  /** Sender's local time when sent; echoed in the ack to measure RTT. */
  sentAt: number;
  /** Ask the receiver for a GossipAck (RTT, liveness of contacts). */
  wantAck: boolean;
  /** Heartbeats of members of the sender's group (in-group gossip) or of the sender's group (to a contact). */
  members: MemberEntry[];
  /** Members of other groups than the receiver's: contact candidates. */
  foreign: MemberEntry[];
  gone: GoneEntry[];
  tuples: TupleEntry[];
}

export interface GossipAckMessage extends Header {
  type: MessageType.GossipAck;
  echoSentAt: number;
  /** Fresh heartbeats of the responder's group (a pull for contacts in another group). */
  members: MemberEntry[];
  /** Tombstone of the receiver itself, when the responder holds it dead: the receiver must refute. */
  gone: GoneEntry[];
}

export interface JoinRequestMessage extends Header {
  type: MessageType.JoinRequest;
  id: number;
}

export interface JoinReplyMessage extends Header {
  type: MessageType.JoinReply;
  id: number;
  /** Members of the joiner's group known to the seed. */
  members: MemberEntry[];
  /** Nodes of other groups (contact candidates). */
  foreign: MemberEntry[];
  /** Chunk index and count: a reply bigger than one datagram comes in several. */
  chunk: number;
  chunks: number;
}

/** Anti-entropy and join transfer: "here are my digests; send me what differs". */
export interface SyncRequestMessage extends Header {
  type: MessageType.SyncRequest;
  id: number;
  /** One 32-bit digest per tuple bucket (bucket = hash(name) mod digests.length). */
  digests: number[];
  /** Also send the whole affinity group view (join). */
  wantMembers: boolean;
}

export interface SyncChunkMessage extends Header {
  type: MessageType.SyncChunk;
  id: number;
  members: MemberEntry[];
  tuples: TupleEntry[];
  /** Buckets where the responder saw a difference: the requester should push its tuples of these buckets. */
  want: number[];
  /** True on the last chunk of this reply. */
  last: boolean;
  /** Whether the responder holds its group's state (see join.ts): only then may a puller answer "not found". */
  authority: SyncAuthority;
}

export enum SyncAuthority {
  /** Still joining: the puller asks another member. */
  None = 0,
  /** Holds the group's state: the puller now holds it too. */
  Holds = 1,
  /** Recovering it (it asked the owners to re-publish): the puller waits for it instead of asking them again. */
  Recovering = 2,
}

export interface LookupRequestMessage extends Header {
  type: MessageType.LookupRequest;
  id: number;
  name: string;
}

export enum LookupStatus {
  Found = 1,
  NotFound = 2,
  /** The responder does not hold its group's state (still joining, or recovering it) and has no copy of the name. Ask another. */
  NotReady = 3,
  /** Only in results, never on the wire: no member of the group answered. */
  Unavailable = 4,
}

export interface Location {
  location: string;
  owner: Address;
}

export interface LookupReplyMessage extends Header {
  type: MessageType.LookupReply;
  id: number;
  status: LookupStatus;
  locations: Location[];
}

export interface PublishRequestMessage extends Header {
  type: MessageType.PublishRequest;
  id: number;
  tuple: TupleEntry;
}

export interface PublishAckMessage extends Header {
  type: MessageType.PublishAck;
  id: number;
  accepted: boolean;
  /** Members of the file's group the responder knows alive, itself included: how many copies the publisher can ask for. */
  groupSize: number;
}

/** "Do you know a node of group G?" Forwarded with ttl-1 when the receiver does not; the answer goes to origin. */
export interface ContactRequestMessage extends Header {
  type: MessageType.ContactRequest;
  id: number;
  group: number;
  origin: Address;
  ttl: number;
}

export interface ContactReplyMessage extends Header {
  type: MessageType.ContactReply;
  id: number;
  group: number;
  candidates: MemberEntry[];
}

export interface LeaveMessage extends Header {
  type: MessageType.Leave;
}

/**
 * "Group `group` lost its filetuples": sent by a node that found no member of its group holding the group's state
 * (every member restarted, or the group was empty), to its contacts in every other group, which forward it once to
 * the members of their group. Every owner that receives it re-publishes what it owns in that group at once, instead
 * of at its next refresh.
 */
export interface GroupResetMessage extends Header {
  type: MessageType.GroupReset;
  group: number;
  /** The recovering node, and the incarnation it recovers in (one reset per origin incarnation is acted on). */
  origin: Address;
  originIncarnation: number;
  /** Already forwarded once inside a group: not forwarded again. */
  forwarded: boolean;
}

/** A contact heard a recovering node's GroupReset (from the origin itself): that group's owners will hear of it. */
export interface GroupResetAckMessage extends Header {
  type: MessageType.GroupResetAck;
  /** The incarnation the origin recovers in, echoed. */
  originIncarnation: number;
}

export type Message =
  | GossipMessage
  | GossipAckMessage
  | JoinRequestMessage
  | JoinReplyMessage
  | SyncRequestMessage
  | SyncChunkMessage
  | LookupRequestMessage
  | LookupReplyMessage
  | PublishRequestMessage
  | PublishAckMessage
  | ContactRequestMessage
  | ContactReplyMessage
  | LeaveMessage
  | GroupResetMessage
  | GroupResetAckMessage;

/** A message body as the core builds it; the node stamps the header on. */
export type Body<M extends Message = Message> = M extends Message ? Omit<M, keyof Header> : never;

/** A datagram the runtime must send. The same message object may go to several destinations. */
export interface Send {
  to: Address;
  msg: Message;
}

export enum MemberState {
  Alive = 1,
  Suspect = 2,
}

/** Typed events for the runtime to log and count. The core itself neither logs nor counts metrics. */
export type CoreEvent =
  | { type: 'member-joined'; addr: Address; incarnation: number }
  | { type: 'member-rejoined'; addr: Address; incarnation: number; previous: number }
  | { type: 'member-suspected'; addr: Address; incarnation: number; silentMs: number }
  | { type: 'member-refuted'; addr: Address; incarnation: number }
  | { type: 'member-removed'; addr: Address; incarnation: number; reason: 'failed' | 'left' }
  | { type: 'contact-added'; group: number; addr: Address }
  | { type: 'contact-replaced'; group: number; old: Address; addr: Address | null; reason: ContactReplaceReason }
  | { type: 'joined'; viaSeed: Address; members: number }
  | { type: 'synced'; from: Address; tuples: number; members: number; how: SyncedHow }
  | { type: 'authority-dropped'; reason: 'stalled' | 'declared-dead' | 'older-node' }
  | { type: 'recovering'; reason: 'no-member' | 'no-authoritative-member' | 'member-recovering'; untilMs: number; tuples: number }
  | { type: 'group-reset'; group: number; origin: Address; republished: number }
  | { type: 'join-pending'; attempts: number; waitedMs: number; seeds: number }
  | { type: 'incarnation-bumped'; incarnation: number; reason: 'declared-dead' }
  | { type: 'local-stall'; stalledMs: number }
  | { type: 'lookup-done'; result: LookupResult }
  | { type: 'publish-done'; result: PublishResult }
  | { type: 'tuple-stored'; name: string; owner: Address; fresh: boolean }
  | { type: 'tuple-expired'; name: string; owner: Address }
  | { type: 'mismatch'; from: Address; cluster: string; groups: number }
  | { type: 'left' };

/**
 * How a node came to hold its group's state: it founded the cluster; it pulled from a member that held it; or it
 * recovered: no member held it, so it asked every owner to re-publish and waited long enough for them to (join.ts).
 */
export type SyncedHow = 'founder' | 'pulled' | 'recovered';

export type ContactReplaceReason = 'unresponsive' | 'stale' | 'better-rtt' | 'removed' | 'left';

export interface LookupResult {
  id: number;
  name: string;
  status: LookupStatus;
  locations: Location[];
  /** 0: answered from the own group's table; 1: one contact answered; 2+: a contact had to be found first. */
  hops: number;
  /** Requests sent before the answer (1 when the first contact answered). */
  attempts: number;
  latencyMs: number;
  /** The node that answered, when one did. */
  answeredBy: Address | null;
}

export interface PublishResult {
  id: number;
  name: string;
  deleted: boolean;
  /** stored: the file's group holds it; queued: not yet confirmed, kept and retried by refresh. */
  status: 'stored' | 'queued';
  storedAt: Address | null;
  /**
   * Members of the group that acknowledged holding it (0 when queued). A publish waits for min(2, group size);
   * 1 with a larger group means the second copy could not be confirmed before the deadline.
   */
  replicas: number;
  /** The group's size as the last acknowledging member saw it (0 when unknown). */
  groupSize: number;
  latencyMs: number;
}
