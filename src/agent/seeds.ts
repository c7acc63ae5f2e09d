/**
 * Seeds: the `--join` text (addresses or host:port names) turned into canonical addresses. Names are resolved to
 * every address they have; a name that does not resolve is left out and logged, and the node waits for it: the
 * agent resolves again whenever the core reports that its joins go unanswered, and `kelips-ctl join` resolves the
 * seed it is given the same way.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { formatHostPort, parseHostPort } from '../net/address.js';
import { canonicaliseAddress } from '../wire/index.js';
import type { Logger } from './logger.js';

/** Pause between two tries of a name that did not resolve (ms, times the try's number): DNS of a pod not yet up. */
const RESOLVE_RETRY_MS = 500;

/** True when some seed is a host name (worth resolving again later). */
export function hasSeedNames(join: readonly string[]): boolean {
  return join.some((j) => (parseHostPort(j, { allowHostname: true }) as { family: number }).family === 0);
}

/** Canonical addresses of `join`, each name tried `attempts` times; names that do not resolve are logged and skipped. */
export async function resolveSeeds(join: readonly string[], family: 4 | 6, log: Logger | null, attempts: number): Promise<string[]> {
  const out: string[] = [];
  for (const s of join) {
    const p = parseHostPort(s, { allowHostname: true }) as { host: string; port: number; family: number };
    if (p.family !== 0) {
      const c = canonicaliseAddress(formatHostPort(p.host, p.port));
      if (c !== null && !out.includes(c)) out.push(c);
      continue;
    }
    let resolved = false;
    for (let attempt = 0; attempt < attempts && !resolved; attempt++) {
      try {
        const addrs = await dnsLookup(p.host, { all: true, family: family === 6 ? 0 : 4 });
        for (const a of addrs) {
          const c = canonicaliseAddress(formatHostPort(a.address, p.port));
          if (c !== null && !out.includes(c)) out.push(c);
        }
        resolved = addrs.length > 0;
      } catch (err) {
        if (attempt === attempts - 1) log?.warn({ event: 'seed-unresolved', seed: s, err: (err as Error).message }, `cannot resolve seed ${s}: ${(err as Error).message}`);
        else await new Promise((r) => setTimeout(r, RESOLVE_RETRY_MS * (attempt + 1)));
      }
    }
  }
  return out;
}
