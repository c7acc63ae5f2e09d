/**
 * "host:port" strings as the protocol uses them: "a.b.c.d:port" for IPv4 and "[v6]:port" for IPv6. An advertised
 * address is part of a node's identity, so it is kept in one canonical form: IP literals only (no host names),
 * IPv6 compressed and lower case, IPv4-mapped IPv6 ("::ffff:1.2.3.4") folded to plain IPv4.
 */
import { isIP, isIPv4 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
  /** 4 or 6 for IP literals, 0 for a host name. */
  family: 0 | 4 | 6;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parse "host:port" / "[v6]:port". Returns a reason (for an error message) instead of throwing.
 * `allowHostname`: accept DNS names (seeds may be names; advertised and bound addresses may not).
 * `allowPortZero`: accept port 0 (bind to an ephemeral port).
 */
export function parseHostPort(
  text: string,
  opts: { allowHostname?: boolean; allowPortZero?: boolean } = {},
): HostPort | { error: string } {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return { error: 'an IPv6 address must be written "[addr]:port"' };
    host = text.slice(1, end);
    portText = text.slice(end + 2);
    if (isIP(host) !== 6) return { error: `"${host}" is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return { error: 'expected HOST:PORT' };
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return { error: 'an IPv6 address must be written "[addr]:port"' };
    if (host === '') return { error: 'expected HOST:PORT (the host is missing)' };
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return { error: `port "${portText}" is not a number from ${opts.allowPortZero ? 0 : 1} to 65535` };
  const port = Number(portText);
  if (port > 65535 || (port === 0 && !opts.allowPortZero))
    return { error: `port ${port} is out of range (${opts.allowPortZero ? 0 : 1} to 65535)` };
  const family = isIP(host);
  if (family === 4 || family === 6) return { host: canonicalHost(host), port, family: isIPv4(canonicalHost(host)) ? 4 : family };
  if (!opts.allowHostname) return { error: `"${host}" is not an IP address` };
  if (!HOSTNAME.test(host)) return { error: `"${host}" is not a valid host name` };
  return { host, port, family: 0 };
}

/** Canonical text of an IP literal: IPv6 compressed lower case, IPv4-mapped IPv6 folded to IPv4. */
export function canonicalHost(host: string): string {
  if (isIP(host) !== 6) return host;
  const lower = host.toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted && dotted[1] && isIPv4(dotted[1])) return dotted[1];
  let canon: string;
  try {
    // The URL parser serialises IPv6 hosts in the RFC 5952 canonical form.
    canon = new URL(`http://[${lower}]/`).hostname.slice(1, -1);
  } catch {
    return lower;
  }
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canon);
  if (hex && hex[1] && hex[2]) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return canon;
}

export function formatHostPort(host: string, port: number): string {
  const h = canonicalHost(host);
  return isIP(h) === 6 ? `[${h}]:${port}` : `${h}:${port}`;
}

/** True for 0.0.0.0 and ::, the "every interface" addresses one binds to but never advertises. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
