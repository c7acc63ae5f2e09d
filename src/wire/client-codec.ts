/**
 * Client messages (client.ts) to and from plain arrays, with the same strictness as node-to-node messages.
 * Only the header is written here: every argument and payload field is encoded and decoded from its declaration
 * in CLIENT_OPS (client.ts) by client-schema.ts.
 */
import type { ClientMessage, ClientReply, ClientRequest } from './client.js';
import { ClientCode, ClientMessageType, ClientOp, CLIENT_OPS, replyPayload } from './client.js';
import { decodeFields, decodeValue, encodeFields, encodeValue, fieldCount, INVALID, type KindSpec } from './client-schema.js';
import { encodeError, encUint, fail, isIntIn, isUint, show, WIRE_VERSION } from './fields.js';
import { CHUNKS_MAX } from './messages.js';

const OP_RULE = `a client op ${ClientOp.Lookup}..${ClientOp.Join}`;
const CODE_RULE = 'a reply code of the op (4, not found, for lookups only; 5, redirect, for members only)';

function isOp(v: unknown): v is ClientOp {
  return isIntIn(v, ClientOp.Lookup, ClientOp.Join);
}

/** The payload kind of a reply with this op and code, or undefined when the op never answers with the code. */
function payloadOf(op: ClientOp, code: unknown): KindSpec | undefined {
  return isIntIn(code, 0, 255) ? replyPayload(op, code) : undefined;
}

function chunked(op: ClientOp, code: ClientCode): boolean {
  return code === ClientCode.Ok && CLIENT_OPS[op].chunked;
}

/** The plain array of a client message; throws WireEncodeError naming the first field that breaks a rule. */
export function clientToArray(m: ClientMessage): unknown[] {
  const id = encUint(m.id, 'id');
  if (m.type !== ClientMessageType.Request && m.type !== ClientMessageType.Reply)
    throw encodeError('type', (m as { type: unknown }).type, 'a message type');
  if (!isOp(m.op)) throw encodeError('op', m.op, OP_RULE);
  const out: unknown[] = [WIRE_VERSION, m.type, id, m.op];
  if (m.type === ClientMessageType.Request) {
    encodeFields(CLIENT_OPS[m.op].args, m as unknown as Record<string, unknown>, '', out);
    return out;
  }
  const payload = payloadOf(m.op, m.code);
  if (payload === undefined) throw encodeError('code', m.code, CODE_RULE);
  if (chunked(m.op, m.code)) {
    if (!isIntIn(m.chunks, 1, CHUNKS_MAX)) throw encodeError('chunks', m.chunks, `an integer 1..${CHUNKS_MAX}`);
    if (!isIntIn(m.chunk, 0, m.chunks - 1)) throw encodeError('chunk', m.chunk, `an integer 0..${m.chunks - 1}`);
  } else if (m.chunk !== 0 || m.chunks !== 1) {
    throw encodeError('chunk', `${m.chunk} of ${m.chunks}`, 'chunk 0 of 1 (this reply is not chunked)');
  }
  out.push(m.code, m.chunk, m.chunks, encodeValue(payload, m.payload, 'payload'));
  return out;
}

/** The client message of a datagram's array (a[1] is 32 or 33); null with `failDetail` set when a field is bad. */
export function arrayToClient(a: unknown[], type: ClientMessageType): ClientMessage | null {
  if (a.length < 4) return fail('datagram', `${a.length} items, a client message has at least 4`);
  const id: unknown = a[2];
  if (!isUint(id)) return fail('id', `${show(id)}, not a non-negative safe integer`);
  const op: unknown = a[3];
  if (!isOp(op)) return fail('op', `${show(op)}, not ${OP_RULE}`);
  if (type === ClientMessageType.Request) {
    const args = CLIENT_OPS[op].args;
    const items = 4 + fieldCount(args);
    if (a.length !== items) return fail('datagram', `${a.length} items, a request of op ${op} has ${items}`);
    const r = decodeFields(args, a, 4, '');
    return r === INVALID ? null : ({ type, id, op, ...r } as ClientRequest);
  }
  if (a.length !== 8) return fail('datagram', `${a.length} items, a reply has 8`);
  const code: unknown = a[4];
  const kind = payloadOf(op, code);
  if (kind === undefined) return fail('code', `${show(code)}, not ${CODE_RULE}`);
  const chunks: unknown = a[6];
  const chunk: unknown = a[5];
  if (chunked(op, code as ClientCode)) {
    if (!isIntIn(chunks, 1, CHUNKS_MAX)) return fail('chunks', `${show(chunks)}, not an integer 1..${CHUNKS_MAX}`);
    if (!isIntIn(chunk, 0, chunks - 1)) return fail('chunk', `${show(chunk)}, not an integer 0..${chunks - 1}`);
  } else if (chunk !== 0 || chunks !== 1) {
    return fail('chunk', `${show(chunk)} of ${show(chunks)}, not 0 of 1 (this reply is not chunked)`);
  }
  const payload = decodeValue(kind, a[7], 'payload');
  return payload === INVALID ? null : ({ type, id, op, code, chunk, chunks, payload } as ClientReply);
}
