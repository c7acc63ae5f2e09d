/** The software version, read once from the package.json this file ships in (src/ in tests, dist/src/ built). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function version(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kelips' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      /* keep looking upwards */
    }
    dir = dirname(dir);
  }
  return (cached = 'unknown');
}
