/**
 * A datagram in flight: its encoded bytes and, once the first copy is delivered, what they decode to.
 *
 * The simulator encodes each message the core emits once and may deliver the bytes many times (a gossip datagram
 * goes to `gossipFanout` members; the network may duplicate it). Decoding is a pure function of the bytes, so every
 * copy would decode to an equal message: the first delivery decodes with full validation and the rest reuse that
 * result. Receivers therefore share one message object, which the core must treat as read-only (the scenario tests
 * run with deep-frozen messages, see FROZEN in real.ts, so a core that writes into a received message fails them).
 */
import type { DecodeResult } from './sim-node.js';

export class Datagram {
  /** Set by the first delivery. */
  decoded: DecodeResult | null = null;

  constructor(readonly bytes: Uint8Array) {}

  get length(): number {
    return this.bytes.length;
  }
}
