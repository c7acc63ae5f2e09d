/**
 * "Did you mean ...?" for a mistyped name: the known name closest by edit distance (insertions, deletions,
 * substitutions and swaps of two neighbours), if it is close enough to be a typo rather than another word.
 */

/** Optimal-string-alignment distance between `a` and `b` (case-sensitive). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j]!;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate nearest to `word`, or null when none is within a third of the word's length (at least 1, at most
 * 3 edits): close enough to be a typo. Names are compared as written and with case, '-' and '_' ignored
 * (`loglevel` is `log-level`). Ties go to the first candidate.
 */
export function nearest(word: string, candidates: Iterable<string>): string | null {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  const bare = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = Math.min(editDistance(word, c), editDistance(bare(word), bare(c)));
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best !== null && bestDistance <= limit ? best : null;
}
