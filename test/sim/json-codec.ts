/** A stand-in codec for simulator unit tests: JSON bytes (not the wire format; byte counts are not CBOR's). */
import type { Message } from '../../src/core/types.js';
import type { Codec, DecodeResult } from '../../src/sim/sim-node.js';

export const jsonCodec: Codec = {
  wireFormat: false,
  encode(msg: Message): Uint8Array {
    return Buffer.from(JSON.stringify(msg));
  },
  decode(buf: Uint8Array): DecodeResult {
    try {
      return { ok: true, msg: JSON.parse(Buffer.from(buf).toString()) as Message };
    } catch (e) {
      return { ok: false, reason: 'json', detail: String(e) };
    }
  },
};
