/**
 * The wire codec: one message <-> one datagram.
 *
 * A datagram is one CBOR array, `[version, type, ...]` (version 2; types: MessageType 1..15 from src/core/types.ts,
 * ClientMessageType 32..33 from client.ts). Node-to-node layouts are in messages.ts, client layouts in client.ts,
 * field rules in fields.ts, the CBOR profile in cbor.ts, the writer of its bytes in writer.ts.
 *
 * `encode` throws WireEncodeError on local misuse: a field that breaks a rule (the error names it, as `decode`
 * would), an address not in canonical form, or a datagram over `maxBytes`. Whatever `encode` returns, `decode`
 * accepts and returns a deep-equal message. `decode` never throws: bad input from the network yields a reason
 * (for a metric label) and a detail naming the field (for a debug log).
 */
import type { Message } from '../core/types.js';
import { MessageType } from '../core/types.js';
import { cborDecoder, guard, Guard, guardDepth, guardDetail, guardPath, guardType } from './cbor.js';
import type { ClientMessage } from './client.js';
import { ClientMessageType } from './client.js';
import { arrayToClient, clientToArray } from './client-codec.js';
import { WireEncodeError } from './errors.js';
import { failDetail, MAX_DATAGRAM_BYTES } from './fields.js';
import { arrayToMessage, BODY_FIELDS, ENTRY_FIELDS, HEADER_FIELDS, messageToArray } from './messages.js';
import { writeDatagram } from './writer.js';

export type RejectReason =
  | 'empty'
  | 'oversized'
  | 'not-cbor'
  | 'not-array'
  | 'unsupported-version'
  | 'unknown-type'
  | 'invalid-field'
  | 'trailing-bytes';

/** Every RejectReason, for metric labels. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'empty',
  'oversized',
  'not-cbor',
  'not-array',
  'unsupported-version',
  'unknown-type',
  'invalid-field',
  'trailing-bytes',
];

export type DecodeResult =
  | { ok: true; msg: Message | ClientMessage }
  | { ok: false; reason: RejectReason; detail: string };

/** knownTypes[t] === 1 for every type this build decodes. */
const KNOWN_TYPES = new Uint8Array(256);
for (const t of Object.keys(BODY_FIELDS)) KNOWN_TYPES[Number(t)] = 1;
KNOWN_TYPES[ClientMessageType.Request] = 1;
KNOWN_TYPES[ClientMessageType.Reply] = 1;

/** The decode scratch: a datagram up to this size is copied in and decoded from there (one DataView for all). */
const SCRATCH_BYTES = MAX_DATAGRAM_BYTES;
const scratch = new Uint8Array(SCRATCH_BYTES);
/** cbor-x's decode(source, end) (its type declarations omit `end`, which bounds the read). */
const decodeScratch = cborDecoder.decode.bind(cborDecoder) as unknown as (source: Uint8Array, end: number) => unknown;

/**
 * Encodes a message into one datagram (a Buffer the caller may keep; it is never overwritten). Does not modify
 * `msg`. Throws WireEncodeError when a field breaks a rule or the datagram would be longer than `maxBytes`.
 */
export function encode(msg: Message | ClientMessage, maxBytes: number = MAX_DATAGRAM_BYTES): Buffer {
  if (msg === null || typeof msg !== 'object') throw new WireEncodeError('', `${String(msg)} is not a message`);
  const t = msg.type;
  const a = t === ClientMessageType.Request || t === ClientMessageType.Reply ? clientToArray(msg as ClientMessage) : messageToArray(msg as Message);
  return writeDatagram(a, maxBytes);
}

function reject(reason: RejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Decodes one datagram. Never throws: anything that is not exactly one valid message of this protocol version
 * is rejected with a reason and a detail that names the offending field ("members[3].incarnation: ...").
 */
export function decode(buf: Uint8Array, maxBytes: number = MAX_DATAGRAM_BYTES): DecodeResult {
  if (!(buf instanceof Uint8Array)) return reject('not-cbor', 'not a byte array');
  const n = buf.length;
  if (n === 0) return reject('empty', 'no bytes');
  if (n > maxBytes) return reject('oversized', `${n} bytes, over the limit of ${maxBytes}`);
  const g = guard(buf, KNOWN_TYPES);
  if (g !== Guard.Ok) return guardReject(g);
  let a: unknown;
  try {
    // cbor-x caches a DataView as a property of its source. Decoding from one scratch array of our own (the datagram
    // copied in) keeps that property off the caller's object and builds the DataView once, not per datagram. Byte
    // strings come back as views of the scratch: the message layouts turn every one into an address string before
    // decode returns (no Uint8Array survives in a decoded message; test/wire/codec.test.ts checks it).
    if (n <= SCRATCH_BYTES) {
      scratch.set(buf);
      a = decodeScratch(scratch, n);
    } else {
      a = cborDecoder.decode(new Uint8Array(buf.buffer, buf.byteOffset, n));
    }
  } catch (e) {
    // Unreachable when the guard is right; kept so that decode can never throw.
    return reject('not-cbor', `cbor-x: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(a)) return reject('not-array', 'cbor-x did not return an array');
  const type = a[1] as number;
  const msg =
    type === ClientMessageType.Request || type === ClientMessageType.Reply
      ? arrayToClient(a, type)
      : arrayToMessage(a, type as MessageType);
  if (msg === null) return reject('invalid-field', failDetail);
  return { ok: true, msg };
}

function guardReject(g: Guard): DecodeResult {
  switch (g) {
    case Guard.NotArray:
      return reject('not-array', guardDetail);
    case Guard.Version:
      return reject('unsupported-version', guardDetail);
    case Guard.UnknownType:
      return reject('unknown-type', `type ${guardType < 0 ? '(not a small unsigned integer)' : guardType} is not known`);
    case Guard.TrailingBytes:
      return reject('trailing-bytes', guardDetail);
    case Guard.NotCbor:
      return reject('not-cbor', `${fieldAt()}: ${guardDetail}`);
    default:
      return reject('invalid-field', `${fieldAt()}: ${guardDetail}`);
  }
}

/** The name of the item where the guard stopped, as the field checks would name it. */
function fieldAt(): string {
  const type = guardType;
  const i = guardPath[0]!;
  const client = type === ClientMessageType.Request || type === ClientMessageType.Reply;
  let top: string;
  if (client) {
    const names = type === ClientMessageType.Request ? ['version', 'type', 'id', 'op'] : ['version', 'type', 'id', 'op', 'code', 'chunk', 'chunks', 'payload'];
    top = names[i] ?? (type === ClientMessageType.Request ? `args[${i - 4}]` : `[${i}]`);
  } else {
    const body = BODY_FIELDS[type as MessageType] ?? [];
    top = HEADER_FIELDS[i] ?? body[i - HEADER_FIELDS.length] ?? `[${i}]`;
  }
  if (guardDepth <= 1) return top;
  const j = guardPath[1]!;
  const entry = client ? undefined : ENTRY_FIELDS[top];
  if (top === 'tuple') return `tuple.${entry?.[j] ?? `[${j}]`}`;
  let s = `${top}[${j}]`;
  for (let d = 2; d < guardDepth; d++) {
    const k = guardPath[d]!;
    s += d === 2 && entry !== undefined && entry[k] !== undefined ? `.${entry[k]}` : `[${k}]`;
  }
  return s;
}
