/**
 * JSON for people's scripts (kelips-ctl --json, the HTTP API). Durations (keys ending in `Ms`) are rounded to 3
 * decimals, 1 µs: a monotonic clock's float noise (1.7390210000012303) is no information.
 */

/** `ms` rounded to 3 decimals. */
export function roundMs(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : ms;
}

/** JSON.stringify with every `...Ms` number rounded by roundMs. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key.endsWith('Ms') && typeof v === 'number' ? roundMs(v) : v));
}
