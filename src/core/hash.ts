/**
 * The hash that places nodes and filenames in affinity groups. FNV-1a over UTF-16 code units, finished with
 * murmur3's fmix32 avalanche so that `mod k` sees well-mixed low bits. Fast (no allocation) and identical on every
 * platform: two nodes must agree on every group assignment, so this function is part of the protocol and never
 * changes.
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Node id: the hash of the advertised address. */
export function nodeId(addr: string): number {
  return hash32(addr);
}

/** Affinity group of a node: hash(node id) mod k. */
export function groupOfNode(addr: string, k: number): number {
  return fmix32(nodeId(addr) ^ 0x9e3779b9) % k;
}

/** Affinity group of a filename: hash(filename) mod k. */
export function groupOfName(name: string, k: number): number {
  return hash32(name) % k;
}
