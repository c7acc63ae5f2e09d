/**
 * Wire codec throughput: encode + decode of one full gossip datagram (~1,300 bytes) through src/wire, against a
 * bare cbor-x encode + decode of the same plain array (same encoder options, no validation) measured in the same
 * run. Prints one JSON object.
 *
 *   npm run -s build && node dist/bench/wire.js
 */
import { Decoder, Encoder } from 'cbor-x';
import { SeededRng, randInt } from '../src/core/rng.js';
import type { GossipMessage, MemberEntry, TupleEntry } from '../src/core/types.js';
import { GoneReason, MessageType } from '../src/core/types.js';
import { decode, encode } from '../src/wire/index.js';
import { messageToArray } from '../src/wire/messages.js';

const rng = new SeededRng(1);
const addr = (): string => `10.${randInt(rng, 256)}.${randInt(rng, 256)}.${1 + randInt(rng, 254)}:7946`;
const member = (): MemberEntry => ({
  addr: addr(),
  incarnation: 1 + randInt(rng, 50),
  heartbeat: 1000 + randInt(rng, 1_000_000),
  ageMs: randInt(rng, 30_000),
});
const tuple = (i: number): TupleEntry => ({
  name: `datasets/run-${1000 + i}/part-${randInt(rng, 10_000)}.parquet`,
  location: `http://${addr()}/blobs/${randInt(rng, 1e9)}`,
  owner: addr(),
  versionIncarnation: 1 + randInt(rng, 50),
  versionSeq: randInt(rng, 100_000),
  ttlMs: 3_000_000 + randInt(rng, 600_000),
  deleted: i % 7 === 0,
});

const msg: GossipMessage = {
  type: MessageType.Gossip,
  cluster: 'kelips-prod',
  groups: 100,
  from: addr(),
  incarnation: 12,
  heartbeat: 123_456,
  sentAt: 987_654.321,
  wantAck: true,
  members: Array.from({ length: 18 }, member),
  foreign: Array.from({ length: 8 }, member),
  gone: [
    { addr: addr(), incarnation: 3, reason: GoneReason.Failed },
    { addr: addr(), incarnation: 9, reason: GoneReason.Left },
  ],
  tuples: Array.from({ length: 8 }, (_, i) => tuple(i)),
};

const datagram = encode(msg);
const plain = messageToArray(msg);
const bareEncoder = new Encoder({ tagUint8Array: false, useRecords: false });
const bareDecoder = new Decoder({ useRecords: false });

let sink = 0;
function codecOp(): void {
  const r = decode(encode(msg));
  if (r.ok) sink += r.msg.type;
}
function bareOp(): void {
  const a = bareDecoder.decode(bareEncoder.encode(plain)) as unknown[];
  sink += a.length;
}

/** Operations per second over `ms` of wall time (checked every 256 operations). */
function rate(op: () => void, ms: number): number {
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(ms) * 1_000_000n;
  let n = 0;
  let now = t0;
  while (now < end) {
    for (let i = 0; i < 256; i++) op();
    n += 256;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - t0) / 1e9);
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

// Warm up both paths, then alternate short rounds so that both see the same machine load.
rate(codecOp, 500);
rate(bareOp, 500);
const rounds = 7;
const codec: number[] = [];
const bare: number[] = [];
for (let i = 0; i < rounds; i++) {
  codec.push(rate(codecOp, 300));
  bare.push(rate(bareOp, 300));
}
const c = median(codec);
const b = median(bare);
const check = decode(datagram);
process.stdout.write(
  JSON.stringify({
    bench: 'wire',
    datagram_bytes: datagram.length,
    members: msg.members.length + msg.foreign.length,
    gone: msg.gone.length,
    tuples: msg.tuples.length,
    codec_ops_per_s: Math.round(c),
    bare_cbor_ops_per_s: Math.round(b),
    ratio: Math.round((c / b) * 1000) / 1000,
    codec_us_per_op: Math.round((1e6 / c) * 100) / 100,
    bare_cbor_us_per_op: Math.round((1e6 / b) * 100) / 100,
    rounds,
    round_ms: 300,
    roundtrip_ok: check.ok,
    sink: sink > 0,
  }) + '\n',
);
