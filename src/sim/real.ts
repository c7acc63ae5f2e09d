/**
 * The real thing: the protocol core (`KelipsNode`) and the wire codec, as the simulator's factory and codec. Every
 * datagram is encoded to CBOR bytes (its length counted) and decoded by the receiver with full validation; a
 * datagram the codec rejects is counted as dropped.
 */
import { KelipsNode } from '../core/node.js';
import { decode, encode, isClientMessage } from '../wire/index.js';
import type { Codec, NodeFactory } from './sim-node.js';

export const realFactory: NodeFactory = (opts) => new KelipsNode(opts);

export const wireCodec: Codec = {
  wireFormat: true,
  encode: (msg) => encode(msg),
  decode: (buf) => {
    const r = decode(buf);
    if (!r.ok) return r;
    // Nodes never send client messages to each other; the simulator treats one as undecodable.
    if (isClientMessage(r.msg)) return { ok: false, reason: 'client-message', detail: `type ${r.msg.type}` };
    return { ok: true, msg: r.msg };
  },
};

export const REAL = { factory: realFactory, codec: wireCodec };

/** Freeze a decoded message and everything in it. */
function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  if (ArrayBuffer.isView(v)) return; // typed arrays cannot be frozen; messages hold none
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}

/**
 * The real codec, with every decoded message deep-frozen: receivers share one decoded message per datagram
 * (datagram.ts), so a core that writes into a message it received would corrupt its neighbours' input. Under this
 * codec such a write throws (ES modules run in strict mode). The scenario tests use it.
 */
export const frozenCodec: Codec = {
  wireFormat: true,
  encode: wireCodec.encode,
  decode: (buf) => {
    const r = wireCodec.decode(buf);
    if (r.ok) deepFreeze(r.msg);
    return r;
  },
};

export const FROZEN = { factory: realFactory, codec: frozenCodec };
