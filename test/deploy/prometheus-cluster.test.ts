/**
 * A real Prometheus (Debian's binary, run directly with a temporary config and TSDB) scrapes a local cluster of
 * real kelips agents every second while the test crashes (SIGKILL) and gracefully stops (SIGTERM) agents and
 * restarts them under a lookup load. Then every PromQL expression in every dashboard panel, annotation and
 * variable, and every recording and alerting rule, is evaluated through Prometheus' HTTP API and must return
 * data (at least one series with a finite value over the test's time range).
 *
 * Dashboard variables are substituted as Grafana would: $cluster = the cluster's name (the only value of
 * label_values(kelips_node_info, cluster)), $instance = ".*" (the variable's "All" value), $__rate_interval =
 * 4s (Grafana's max(4 x scrape interval, $__interval + scrape interval) at a 1 s scrape interval),
 * $__interval = 1s, $__range = the test's time range.
 *
 * Alert rules are conditions a healthy cluster rightly leaves empty (`... > 0`): for those the test evaluates
 * the inner expression(s) — the condition without its threshold comparison, each operand of and/or/unless
 * separately — and checks the alert itself loads with health "ok".
 *
 * Needs: `make build` (dist/) and `make setup-system` (prometheus). Bounded: every wait is a poll with a limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LocalCluster, AGENT_JS } from './lib/cluster.js';
import { Churner, LookupLoad, sendGarbage } from './lib/churn.js';
import { Prometheus, hasFiniteValue, requireBinary, type Sample } from './lib/prometheus.js';
import { REPO, alertInnerExpressions, dashboardExpressions, ruleExpressions, substitute } from './lib/expressions.js';
import { poll } from './lib/procs.js';

const CLUSTER = 'deploytest';
const OUT = join(REPO, '.tmp/deploy-test');

describe('dashboards and rules against a real Prometheus scraping a churning cluster', () => {
  let dir: string;
  let cluster: LocalCluster;
  let prom: Prometheus;
  let load: LookupLoad;
  let churner: Churner;
  let start = 0;
  let end = 0;
  const exitStatuses: (number | string)[] = [];
  const report: string[] = [];

  beforeAll(async () => {
    requireBinary('prometheus');
    if (!existsSync(AGENT_JS))
      throw new Error(`${AGENT_JS} missing: run \`make build\` first (make test does)`);
    mkdirSync(OUT, { recursive: true });
    dir = mkdtempSync(join(OUT, 'run-'));
    cluster = new LocalCluster({
      dir,
      size: 6,
      groups: 2,
      cluster: CLUSTER,
      hostBase: 21,
    });
    await cluster.allocate();
    cluster.startAll();
    await cluster.waitReady();
    prom = new Prometheus({ dir: join(dir, 'prometheus'), targets: cluster.agents.map((a) => a.metrics), scrapeIntervalS: 1 });
    await prom.start();
    start = Math.floor(Date.now() / 1000);
    await poll('all targets up', async () => {
      const t = await prom.targets();
      return t.length === cluster.agents.length && t.every((x) => x.health === 'up') ? true : undefined;
    });

    load = new LookupLoad(cluster, { files: 30, perSecond: 15 });
    await load.publishAll();
    load.start();
    await sendGarbage(cluster.agents[0]!, 5);

    // Churn: crash and gracefully stop agents that share a group (so a peer observes the removal), restart them.
    churner = new Churner(cluster);
    const victims = await churner.victims();
    expect(victims.length, 'some agents share a group').toBeGreaterThanOrEqual(2);
    const [v1, v2] = [victims[victims.length - 1]!, victims[victims.length - 2]!];
    exitStatuses.push(await churner.cycle(v1, 'SIGKILL'));
    exitStatuses.push(await churner.cycle(v2, 'SIGTERM'));
    exitStatuses.push(await churner.cycle(v1, 'SIGKILL'));
    exitStatuses.push(await churner.cycle(v2, 'SIGTERM'));
    await cluster.waitReady();

    // Let the recorded series (1m and 5m windows) and the post-churn rates fill in: poll until the found share,
    // the canary success ratio and the propagation delay quantiles exist.
    for (const series of ['cluster:kelips_lookup_found:ratio_rate1m', 'cluster:kelips_canary_success:ratio_rate5m', 'cluster_quantile:kelips_propagation_delay_seconds:rate5m']) {
      await poll(
        `recording rules produce ${series}`,
        async () => {
          const r = await prom.query(`${series}{cluster="${CLUSTER}"}`);
          return r.result.some((s) => Number.isFinite(Number(s.value[1]))) ? true : undefined;
        },
        100,
        300,
      );
    }
    await poll('a few more scrapes after the last restart', async () => {
      const r = await prom.query(`count(kelips_node_ready{job="kelips"} == 1)`);
      return Number(r.result[0]?.value[1] ?? 0) === cluster.agents.length ? true : undefined;
    });
    end = Math.ceil(Date.now() / 1000);
  }, 240_000);

  afterAll(async () => {
    load?.stop();
    const statuses = cluster ? await Promise.all(cluster.agents.map((a) => cluster.kill(a, 'SIGTERM'))) : [];
    await prom?.stop();
    if (report.length) writeFileSync(join(OUT, 'expressions.md'), report.join('\n') + '\n');
    if (process.env.KEEP_DEPLOY_TEST !== '1' && dir) rmSync(dir, { recursive: true, force: true });
    // Graceful stop: every agent exits 0 on SIGTERM.
    for (const s of statuses) expect(s).toBe(0);
  }, 60_000);

  const subs = () => ({ cluster: CLUSTER, instance: '.*', rateInterval: '4s', interval: '1s', range: `${Math.max(60, end - start)}s` });

  async function evaluate(expr: string, instant: boolean): Promise<Sample[]> {
    if (instant) {
      const r = await prom.query(expr, end);
      return r.result.map((s) => ({ metric: s.metric, values: [s.value] }));
    }
    return prom.queryRange(expr, start, end, 1);
  }

  it('the churn happened: crashes and graceful leaves were observed, SIGTERM exits 0', async () => {
    expect(exitStatuses).toEqual(['SIGKILL', 0, 'SIGKILL', 0]);
    expect(churner.events.filter((e) => e.kind === 'start')).toHaveLength(4);
    expect(load.stats.lookups).toBeGreaterThan(50);
    // Activity the dashboards must show (non-zero, not just zero-valued series).
    const nonZero = async (expr: string) => {
      const r = await prom.query(expr, end);
      return Number(r.result[0]?.value[1] ?? 0);
    };
    const window = `${end - start + 5}s`;
    expect(await nonZero(`sum(increase(kelips_detector_removed_total{reason="failed"}[${window}]))`)).toBeGreaterThan(0);
    expect(await nonZero(`sum(increase(kelips_detector_removed_total{reason="left"}[${window}]))`)).toBeGreaterThan(0);
    expect(await nonZero(`sum(increase(kelips_membership_joins_total[${window}]))`)).toBeGreaterThan(0);
    expect(await nonZero(`sum(increase(kelips_lookups_total{result="found"}[${window}]))`)).toBeGreaterThan(0);
    expect(await nonZero(`sum(increase(kelips_net_datagrams_dropped_total{reason=~"wire-.*"}[${window}]))`)).toBeGreaterThan(0);
    expect(await nonZero(`count(changes(kelips_node_incarnation[${window}]) > 0)`)).toBeGreaterThanOrEqual(2);
    // Canaries ran through the churn, found their beacons, measured propagation, and never got a wrong answer.
    // (The counters restart with a restarted agent; increase() over the window follows the resets.)
    expect(await nonZero(`sum(increase(kelips_canary_lookups_total{result="found"}[${window}]))`)).toBeGreaterThan(0);
    expect(await nonZero(`sum(increase(kelips_propagation_delay_seconds_count[${window}]))`)).toBeGreaterThan(0);
    const wrong = await prom.query(`sum(increase(kelips_canary_lookups_total{result=~"wrong_.*"}[${window}]))`, end);
    expect(wrong.result.length, 'the wrong-answer series exists').toBe(1);
    expect(Number(wrong.result[0]!.value[1]), 'canary lookups answered wrongly (wrong_not_found, wrong_location)').toBe(0);
    // A user publish under the reserved beacon prefix is refused.
    const a = cluster.agents[0]!;
    const res = await fetch(`${a.url}/v1/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'kelips.beacon/someone', location: 'x' }),
      signal: AbortSignal.timeout(3000),
    });
    expect(res.status).toBe(400);
  });

  it('every dashboard expression (panels, annotations, variables) returns data', async () => {
    const exprs = dashboardExpressions();
    const failures: string[] = [];
    report.push(`# Dashboard expressions evaluated against a live Prometheus (${exprs.length})`, '');
    report.push(`cluster=${CLUSTER}, range ${end - start}s, variables: ${JSON.stringify(subs())}`, '');
    for (const e of exprs) {
      if (e.kind === 'variable') {
        // label_values(<selector>, <label>) -> Prometheus' label values API, as Grafana does it.
        const m = /^label_values\((.*),\s*(\w+)\)$/.exec(e.raw);
        expect(m, e.raw).not.toBeNull();
        const values = await prom.labelValues(m![2]!, substitute(m![1]!, subs()));
        const ok = values.length > 0 && (m![2] !== 'cluster' || values.includes(CLUSTER));
        report.push(`- [${ok ? 'data' : 'EMPTY'}] ${e.where}: \`${e.raw}\` -> ${values.join(', ')}`);
        if (!ok) failures.push(`${e.where}: ${e.raw} -> no values`);
        continue;
      }
      const q = e.kind === 'annotation' ? alertInnerExpressions(substitute(e.raw, subs())) : [substitute(e.raw, subs())];
      for (const expr of q) {
        const series = await evaluate(expr, e.instant);
        const ok = hasFiniteValue(series);
        report.push(`- [${ok ? 'data' : 'EMPTY'}] ${e.where}: ${series.length} series: \`${expr}\``);
        if (!ok) failures.push(`${e.where}: ${expr} -> ${series.length} series, no finite value`);
      }
    }
    console.log(report.join('\n'));
    expect(failures).toEqual([]);
    expect(exprs.length).toBeGreaterThan(30);
  });

  it('every recording and alerting rule loads with health "ok" and its expression returns data', async () => {
    const rules = ruleExpressions();
    const loaded = (await prom.rules()).flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
    const failures: string[] = [];
    report.push('', `# Rules (${rules.length})`, '');
    for (const r of rules) {
      const l = loaded.find((x) => x.name === r.name && x.query.replace(/\s+/g, '') === r.expr.replace(/\s+/g, ''));
      if (!l || l.health !== 'ok') failures.push(`${r.name}: loaded=${Boolean(l)} health=${l?.health} ${l?.lastError ?? ''}`);
      // Recording rules: the rule's expression and the recorded series. Alerts: the inner expressions.
      const exprs = r.kind === 'record' ? [r.expr, r.name] : alertInnerExpressions(r.expr);
      for (const expr of exprs) {
        const series = await evaluate(expr, false);
        const ok = hasFiniteValue(series);
        const label = r.kind === 'alert' ? `${r.name} (inner, threshold removed)` : expr === r.name ? `${r.name} (recorded series)` : r.name;
        report.push(`- [${ok ? 'data' : 'EMPTY'}] ${r.kind} ${label}: ${series.length} series: \`${expr.replace(/\s+/g, ' ')}\``);
        if (!ok) failures.push(`${r.kind} ${r.name}: ${expr} -> no finite value`);
      }
    }
    console.log(report.slice(report.indexOf(`# Rules (${rules.length})`)).join('\n'));
    expect(failures).toEqual([]);
  });

  it('kelips-ctl plan and status work as deploy/README.md shows them', () => {
    const ctl = join(REPO, 'dist/src/cli/kelips-ctl.js');
    const plan = spawnSync(process.execPath, [ctl, 'plan', '--nodes', '400', '--files', '100000', '--json'], { encoding: 'utf8', timeout: 20_000 });
    expect(plan.status, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout) as { groupsRecommended: number; groupSize: number; warnings: string[] };
    expect(p.groupsRecommended).toBe(20); // the README's example
    expect(p.groupSize).toBe(20);
    const a = cluster.agents[0]!;
    const status = spawnSync(process.execPath, [ctl, '--node', a.gossip, '--json', 'status'], { encoding: 'utf8', timeout: 20_000 });
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toBeTypeOf('object');
  });

  it('the container health check command works against a real agent', () => {
    const hc = join(REPO, 'deploy/container/healthcheck.mjs');
    const a = cluster.agents[0]!;
    const ok = spawnSync(process.execPath, [hc], { env: { ...process.env, KELIPS_METRICS: a.metrics }, encoding: 'utf8', timeout: 10_000 });
    expect(ok.status, ok.stderr).toBe(0);
    // The image sets KELIPS_METRICS=0.0.0.0:<port>: a wildcard is probed on loopback. Agents here listen on
    // 127.0.0.2x, so point the probe at one through KELIPS_HEALTHCHECK_URL's sibling form instead.
    const url = spawnSync(process.execPath, [hc], {
      env: { ...process.env, KELIPS_HEALTHCHECK_URL: `http://${a.metrics}/healthz` },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(url.status, url.stderr).toBe(0);
    const dead = spawnSync(process.execPath, [hc], { env: { ...process.env, KELIPS_METRICS: '127.0.0.1:1' }, encoding: 'utf8', timeout: 10_000 });
    expect(dead.status).toBe(1);
  });
});
