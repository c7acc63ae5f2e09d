#!/usr/bin/env node
// Container health check: GET /healthz on the agent's metrics address; exit 0 if it answers 200, else 1.
// The address comes from KELIPS_HEALTHCHECK_URL if set, else from KELIPS_METRICS (the agent's own setting;
// a wildcard bind address is probed on loopback). No dependencies, so it runs in the slim runtime image.
import http from 'node:http';

function target() {
  const explicit = process.env.KELIPS_HEALTHCHECK_URL;
  if (explicit) return explicit;
  const metrics = process.env.KELIPS_METRICS || '127.0.0.1:9946';
  if (metrics === 'off') {
    console.error('healthcheck: KELIPS_METRICS=off, nothing to probe');
    process.exit(1);
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(metrics);
  if (!m) {
    console.error(`healthcheck: cannot parse KELIPS_METRICS=${metrics}`);
    process.exit(1);
  }
  const v6 = m[1];
  let host = v6 ?? m[2];
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `http://${hostPart}:${m[3]}/healthz`;
}

const url = target();
const req = http.get(url, { timeout: 2000 }, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  console.error(`healthcheck: ${url} answered ${res.statusCode}`);
  process.exit(1);
});
req.on('timeout', () => {
  console.error(`healthcheck: ${url} timed out`);
  req.destroy();
  process.exit(1);
});
req.on('error', (err) => {
  console.error(`healthcheck: ${url}: ${err.message}`);
  process.exit(1);
});
