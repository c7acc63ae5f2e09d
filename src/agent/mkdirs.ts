/**
 * `mkdir -p`, one level at a time. fs.mkdirSync's recursive mode is not used: where mkdir fails with ENOENT under a
 * parent that exists (any path under /proc), Node 20's recursive mode retries forever, a busy loop that also
 * keeps the process from handling SIGTERM.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Create `path` and its missing parents with `mode`; throws the first mkdir error (ENOENT, EACCES, ENOTDIR...). */
export function makeDirectories(path: string, mode: number): void {
  const missing: string[] = [];
  for (let p = resolve(path); !existsSync(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (err) {
      // Created by someone else meanwhile: fine if it is a directory.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw err;
    }
  }
}
