/** The wire format: message types, CBOR encode/decode with strict validation, addresses, client messages. */
export { decode, encode, REJECT_REASONS } from './codec.js';
export { isClientMessage } from './client.js';
export type { DecodeResult, RejectReason } from './codec.js';
export { WireEncodeError } from './errors.js';
export {
  addressError,
  addressFromBytes,
  addressToBytes,
  canonicaliseAddress,
  formatAddress,
  isCanonicalAddress,
  isValidAddress,
  mustParseAddress,
  parseAddress,
  IPV4_ADDRESS_BYTES,
  IPV6_ADDRESS_BYTES,
} from './address.js';
export type { ParsedAddress } from './address.js';
export { WIRE_VERSION, MAX_DATAGRAM_BYTES, LIST_MAX, STRING_MAX } from './fields.js';
export { CHUNKS_MAX, CONTACT_TTL_MAX, DIGESTS_MAX, WANT_MAX } from './messages.js';
export {
  ClientCode,
  ClientMessageType,
  ClientOp,
  CLIENT_DATAGRAM_BYTES,
  CLIENT_ERROR_CHARS_MAX,
  CLIENT_VERSION_CHARS_MAX,
  errorReply,
  lookupReply,
  redirectReply,
  LOOKUP_STATUS,
} from './client.js';
export type {
  ClientErrorReply,
  ClientMessage,
  ClientReply,
  ClientRequest,
  ContactRow,
  ContactsClientReply,
  ContactsClientRequest,
  JoinClientReply,
  JoinClientRequest,
  JoinPayload,
  LookupClientReply,
  LookupClientRequest,
  LookupErrorReply,
  LookupCode,
  LookupPayload,
  MemberRow,
  MembersClientReply,
  MembersClientRequest,
  MembersRedirectReply,
  OpErrorReply,
  PingClientReply,
  PingClientRequest,
  PingPayload,
  PublishClientReply,
  PublishClientRequest,
  PublishPayload,
  RedirectPayload,
  StatusClientReply,
  StatusClientRequest,
  StatusPayload,
  UnpublishClientRequest,
} from './client.js';
export { chunkRows, chunkContactRows, chunkMemberRows, contactRowBytes, memberRowBytes, CLIENT_REPLY_OVERHEAD_BYTES } from './chunk.js';
