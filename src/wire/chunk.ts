/**
 * Cutting the rows of a Members or Contacts reply into datagrams: each chunk's reply encodes to at most a byte
 * budget (CLIENT_DATAGRAM_BYTES by default), using upper bounds computed from the rows' declarations
 * (client-schema.ts's wireBytesMax) so that the agent need not encode to find out.
 */
import type { ContactRow, MemberRow } from './client.js';
import { CLIENT_DATAGRAM_BYTES, CONTACT_ROW, MEMBER_ROW } from './client.js';
import { wireBytesMax } from './client-schema.js';
import { WireEncodeError } from './errors.js';
import { LIST_MAX } from './fields.js';
import { CHUNKS_MAX } from './messages.js';

/**
 * Upper bound on a reply's bytes besides its rows: array header 1, version 1, type 2, id <= 9, op 1, code 1,
 * chunk <= 3, chunks <= 3, the rows' list header <= 3.
 */
export const CLIENT_REPLY_OVERHEAD_BYTES = 24;

/** Upper bound on the encoded size of a members row (from its declaration, MEMBER_ROW). */
export function memberRowBytes(r: MemberRow): number {
  return wireBytesMax(MEMBER_ROW, r);
}

/** Upper bound on the encoded size of a contacts row (CONTACT_ROW). */
export function contactRowBytes(r: ContactRow): number {
  return wireBytesMax(CONTACT_ROW, r);
}

/**
 * Splits `rows` (in order) into chunks whose rows' sizes, by `rowBytes`, add up to at most `budget`, and hold at
 * most LIST_MAX rows each. Always returns at least one chunk (an empty one for no rows). Throws WireEncodeError
 * when a single row exceeds the budget or more than CHUNKS_MAX chunks would be needed.
 */
export function chunkRows<T>(rows: readonly T[], rowBytes: (row: T) => number, budget: number): T[][] {
  if (!(budget > 0)) throw new WireEncodeError('budget', `${budget} bytes leaves no room for rows`);
  const chunks: T[][] = [];
  let cur: T[] = [];
  let used = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const b = rowBytes(row);
    if (b > budget) throw new WireEncodeError(`rows[${i}]`, `a row of up to ${b} bytes does not fit in ${budget}`);
    if (cur.length > 0 && (used + b > budget || cur.length === LIST_MAX)) {
      chunks.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(row);
    used += b;
  }
  chunks.push(cur);
  if (chunks.length > CHUNKS_MAX) throw new WireEncodeError('rows', `${chunks.length} chunks, at most ${CHUNKS_MAX}`);
  return chunks;
}

/** Members rows cut so that each chunk's reply fits in `datagramBytes`. */
export function chunkMemberRows(rows: readonly MemberRow[], datagramBytes = CLIENT_DATAGRAM_BYTES): MemberRow[][] {
  return chunkRows(rows, memberRowBytes, datagramBytes - CLIENT_REPLY_OVERHEAD_BYTES);
}

/** Contacts rows cut so that each chunk's reply fits in `datagramBytes`. */
export function chunkContactRows(rows: readonly ContactRow[], datagramBytes = CLIENT_DATAGRAM_BYTES): ContactRow[][] {
  return chunkRows(rows, contactRowBytes, datagramBytes - CLIENT_REPLY_OVERHEAD_BYTES);
}
