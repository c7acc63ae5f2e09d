/**
 * Randomness is an input of the core, never drawn on its own: the simulator passes a seeded generator so that one
 * seed replays a run exactly; the agent passes one seeded from the operating system.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** sfc32: a small, fast generator with a 128-bit state; plenty for protocol choices (not for cryptography). */
export class SeededRng implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
}

/** Integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/** Up to `count` distinct elements of `items`, uniformly (partial Fisher-Yates on a copy). */
export function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  const n = items.length;
  if (count >= n) return items.slice();
  const copy = items.slice();
  for (let i = 0; i < count; i++) {
    const j = i + randInt(rng, n - i);
    const tmp = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = tmp;
  }
  copy.length = count;
  return copy;
}
