/**
 * Small statistics for simulator reports: a growable sample of numbers with percentiles (nearest rank), and a
 * 32-bit digest for comparing runs.
 */

export class Samples {
  private data = new Float64Array(64);
  private n = 0;
  private sorted = true;

  get count(): number {
    return this.n;
  }

  add(x: number): void {
    if (this.n === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    if (this.n > 0 && x < (this.data[this.n - 1] as number)) this.sorted = false;
    this.data[this.n++] = x;
  }

  /** Nearest-rank percentile, p in [0, 100]; NaN when empty. */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    this.sort();
    return percentileOfSorted(this.data, this.n, p);
  }

  mean(): number {
    if (this.n === 0) return NaN;
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.data[i] as number;
    return s / this.n;
  }

  max(): number {
    if (this.n === 0) return NaN;
    this.sort();
    return this.data[this.n - 1] as number;
  }

  values(): number[] {
    return Array.from(this.data.subarray(0, this.n));
  }

  private sort(): void {
    if (this.sorted) return;
    this.data.subarray(0, this.n).sort();
    this.sorted = true;
  }
}

/** Nearest-rank percentile of the first n (sorted ascending) values. */
export function percentileOfSorted(sorted: ArrayLike<number>, n: number, p: number): number {
  if (n === 0) return NaN;
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n);
  return sorted[Math.max(0, rank - 1)] as number;
}

export function percentile(values: readonly number[], p: number): number {
  const s = Float64Array.from(values).sort();
  return percentileOfSorted(s, s.length, p);
}

/** Round to `digits` decimals (for JSON reports); NaN becomes null. */
export function round(x: number, digits = 3): number | null {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** FNV-1a style mixing of a number into a 32-bit digest. */
export function mix(h: number, x: number): number {
  return Math.imul(h ^ (x | 0), 0x01000193) >>> 0;
}

export function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
