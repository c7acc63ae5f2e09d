/**
 * A throwaway Prometheus: Debian's binary run directly (not the system service) with a temporary config,
 * a temporary TSDB, a loopback listen address, a 1 s scrape interval and the kelips rules loaded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { freePort, poll, stop, track } from './procs.js';
import { RULES_FILE } from './expressions.js';

export interface PromOptions {
  dir: string;
  /** host:port of every agent's metrics endpoint. */
  targets: string[];
  scrapeIntervalS?: number;
  rulesFile?: string;
  /** Where Prometheus' own log goes (a file); default dir/prometheus.log. */
}

export interface Sample {
  metric: Record<string, string>;
  values: [number, string][];
}

export function requireBinary(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} not found: run \`make setup-system\` (scripts/ensure-deploy-tools.sh) first`);
  }
}

export class Prometheus {
  private proc: ChildProcess | null = null;
  url = '';
  constructor(private readonly opts: PromOptions) {}

  async start(): Promise<void> {
    const bin = requireBinary('prometheus');
    const { dir } = this.opts;
    mkdirSync(join(dir, 'data'), { recursive: true });
    const interval = `${this.opts.scrapeIntervalS ?? 1}s`;
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: [this.opts.rulesFile ?? RULES_FILE],
      scrape_configs: [{ job_name: 'kelips', static_configs: [{ targets: this.opts.targets }] }],
    };
    // JSON is valid YAML.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const { openSync } = await import('node:fs');
    const log = openSync(join(dir, 'prometheus.log'), 'a');
    this.proc = track(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1d',
        '--log.level=warn',
        '--web.enable-lifecycle',
      ],
      { stdio: ['ignore', log, log] },
    );
    await poll('prometheus ready', async () => ((await fetch(`${this.url}/-/ready`)).ok ? true : undefined), 150, 200);
  }

  async stop(): Promise<void> {
    if (this.proc) await stop(this.proc, 'SIGTERM', 5000);
    this.proc = null;
  }

  private async api<T>(path: string, params: Record<string, string>): Promise<T> {
    const body = new URLSearchParams(params);
    const res = await fetch(`${this.url}${path}`, { method: 'POST', body });
    const json = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (json.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${json.errorType}: ${json.error}`);
    return json.data;
  }

  async query(expr: string, time?: number): Promise<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }> {
    return this.api('/api/v1/query', { query: expr, ...(time !== undefined ? { time: String(time) } : {}) });
  }

  async queryRange(expr: string, start: number, end: number, step: number): Promise<Sample[]> {
    const data = await this.api<{ result: Sample[] }>('/api/v1/query_range', {
      query: expr,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    return data.result;
  }

  async labelValues(label: string, match: string): Promise<string[]> {
    const res = await fetch(`${this.url}/api/v1/label/${encodeURIComponent(label)}/values?${new URLSearchParams({ 'match[]': match })}`);
    const json = (await res.json()) as { status: string; data: string[]; error?: string };
    if (json.status !== 'success') throw new Error(`label values ${label} ${match}: ${json.error}`);
    return json.data;
  }

  async rules(): Promise<{ name: string; rules: { name: string; type: string; health: string; lastError?: string; query: string }[] }[]> {
    const res = await fetch(`${this.url}/api/v1/rules`);
    const json = (await res.json()) as { data: { groups: never[] } };
    return json.data.groups;
  }

  async targets(): Promise<{ scrapeUrl: string; health: string; lastError: string }[]> {
    const res = await fetch(`${this.url}/api/v1/targets`);
    const json = (await res.json()) as { data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] } };
    return json.data.activeTargets;
  }
}

/** A series has data if at least one of its values is a finite number. */
export function hasFiniteValue(series: Sample[]): boolean {
  return series.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
}
