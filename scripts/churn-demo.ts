/**
 * `make churn-demo`: what churn does to a kelips cluster, as a picture, without Grafana.
 *
 * Starts a local cluster of real agents on loopback (127.0.0.31...), a Prometheus scraping them every second
 * with the kelips rules loaded, and a lookup load; then for a few minutes crashes (kill -9) and gracefully
 * stops (SIGTERM) random agents — sometimes two at once — and restarts them after a random downtime. At the end
 * it reads cluster size, lookup answers, canary correctness, lookup latency and failure detector activity back
 * from Prometheus (/api/v1/query_range) and draws them, with the kills and restarts marked, into an SVG chart.
 *
 * It ends with the figures that say whether answers stayed right: the canary lookups' found share (whole run and
 * the lowest 1-minute window) and their wrong "not found" count, and the user lookups' found share next to the
 * share that was meant to be found (10% of the load asks for names never published).
 *
 *   node .tmp/churn-demo/build/scripts/churn-demo.js [--seconds 180] [--agents 12] [--groups 2] [--out DIR]
 *   (env CHURN_DEMO_SECONDS etc. work too). Output: DIR/churn.svg (default .tmp/churn-demo/churn.svg),
 *   DIR/churn-events.json, DIR/series.json, and DIR/churn.png if rsvg-convert is installed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { LocalCluster, AGENT_JS, type Agent } from '../test/deploy/lib/cluster.js';
import { LookupLoad, type ChurnEvent } from '../test/deploy/lib/churn.js';
import { Prometheus, requireBinary, type Sample } from '../test/deploy/lib/prometheus.js';
import { REPO } from '../test/deploy/lib/expressions.js';
import { poll, sleep } from '../test/deploy/lib/procs.js';
import { renderSvg, type ChartPanel, type ChartSeries } from '../test/deploy/lib/svg-chart.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.CHURN_DEMO_SECONDS ?? '180' },
    agents: { type: 'string', default: process.env.CHURN_DEMO_AGENTS ?? '12' },
    groups: { type: 'string', default: process.env.CHURN_DEMO_GROUPS ?? '2' },
    out: { type: 'string', default: process.env.CHURN_DEMO_OUT ?? join(REPO, '.tmp/churn-demo') },
    seed: { type: 'string', default: process.env.CHURN_DEMO_SEED ?? String(Date.now() % 100000) },
  },
});
const SECONDS = Number(values.seconds);
const AGENTS = Number(values.agents);
const GROUPS = Number(values.groups);
const OUT = values.out as string;
if (!(SECONDS >= 30 && AGENTS >= 3 && GROUPS >= 1)) {
  console.error('churn-demo: need --seconds >= 30, --agents >= 3, --groups >= 1');
  process.exit(2);
}

// A small seeded PRNG so a run can be repeated (--seed).
let rngState = Number(values.seed) >>> 0 || 1;
const rand = () => {
  rngState = (rngState * 1664525 + 1013904223) >>> 0;
  return rngState / 2 ** 32;
};
const between = (lo: number, hi: number) => lo + rand() * (hi - lo);
const log = (msg: string) => console.log(`[churn-demo ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main(): Promise<void> {
  requireBinary('prometheus');
  mkdirSync(OUT, { recursive: true });
  const work = join(OUT, 'run');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const cluster = new LocalCluster({ dir: work, size: AGENTS, groups: GROUPS, cluster: 'churn-demo', hostBase: 31 });
  let prom: Prometheus | null = null;
  let load: LookupLoad | null = null;
  const events: ChurnEvent[] = [];
  const cleanup = async () => {
    load?.stop();
    await Promise.all(cluster.agents.map((a) => cluster.kill(a, 'SIGTERM')));
    await prom?.stop();
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    await cluster.allocate();
    prom = new Prometheus({ dir: join(work, 'prometheus'), targets: cluster.agents.map((a) => a.metrics), scrapeIntervalS: 1 });
    const p = prom;
    log(`starting ${AGENTS} agents (k=${GROUPS}) on 127.0.0.31.. and Prometheus; agent: ${AGENT_JS}`);
    cluster.startAll();
    await cluster.waitReady();
    await p.start();
    log(`Prometheus at ${p.url} (scrape interval 1 s, rules from dashboards/rules)`);
    const start = Date.now() / 1000;
    load = new LookupLoad(cluster, { files: 60, perSecond: 20 });
    await load.publishAll();
    load.start();

    const calm = Math.min(30, SECONDS / 6);
    const churnUntil = start + SECONDS - calm;
    log(`churn for ${Math.round(churnUntil - start - 15)} s after a 15 s warm-up, then ${Math.round(calm)} s of calm`);
    await sleep(15_000);
    const down = new Set<Agent>();
    const restartLater = (a: Agent, ms: number) =>
      setTimeout(() => {
        cluster.start(a);
        down.delete(a);
        events.push({ t: Date.now() / 1000, kind: 'start', agent: a.index, note: `agent ${a.index} restarted` });
        log(`restart agent ${a.index}`);
      }, ms);
    const timers: NodeJS.Timeout[] = [];
    while (Date.now() / 1000 < churnUntil) {
      const up = cluster.agents.filter((a) => a.running && !down.has(a));
      // Keep a majority up; now and then take two agents at once.
      const n = rand() < 0.25 ? 2 : 1;
      for (let i = 0; i < n && up.length > Math.ceil(AGENTS / 2); i++) {
        const a = up.splice(Math.floor(rand() * up.length), 1)[0] as Agent;
        const graceful = rand() < 0.35;
        down.add(a);
        const status = await cluster.kill(a, graceful ? 'SIGTERM' : 'SIGKILL');
        events.push({ t: Date.now() / 1000, kind: graceful ? 'term' : 'kill', agent: a.index, note: `${graceful ? 'SIGTERM' : 'kill -9'} agent ${a.index} (exit ${status})` });
        const downMs = between(3_000, 15_000);
        log(`${graceful ? 'SIGTERM' : 'kill -9'} agent ${a.index}, back in ${(downMs / 1000).toFixed(1)} s`);
        timers.push(restartLater(a, downMs));
      }
      await sleep(between(6_000, 14_000));
    }
    // Calm: bring everyone back and let the cluster heal.
    await poll('every agent restarted', async () => (down.size === 0 ? true : undefined), 300, 100);
    await cluster.waitReady(cluster.agents, 300).catch((err: Error) => log(`not every agent ready: ${err.message}`));
    const remaining = start + SECONDS - Date.now() / 1000;
    if (remaining > 0) await sleep(remaining * 1000);
    for (const t of timers) clearTimeout(t);
    load.stop();
    const end = Date.now() / 1000;
    await sleep(2_000); // one more scrape and rule evaluation

    log('reading the series back from Prometheus');
    const q = async (expr: string, name: (m: Record<string, string>) => string): Promise<ChartSeries[]> => {
      const res: Sample[] = await p.queryRange(expr, Math.floor(start), Math.ceil(end), 2);
      return res.map((s) => ({ name: name(s.metric), points: s.values.map(([t, v]) => [t, Number(v)] as [number, number]) }));
    };
    const w = '10s';
    const st = load.stats;
    const meantShare = st.lookups > 0 ? st.meantToBeFound / st.lookups : NaN;
    const panels: ChartPanel[] = [
      {
        title: 'Cluster size',
        unit: 'count',
        series: [
          ...(await q('count(kelips_node_info{cluster="churn-demo"})', () => 'agents up (scraped)')),
          ...(await q('cluster:kelips_nodes_ready:sum{cluster="churn-demo"}', () => 'agents ready')),
          ...(await q('sum(cluster_group:kelips_members_alive:max{cluster="churn-demo"})', () => 'alive members (group views)')),
        ],
      },
      {
        title: `Canary lookups: found at the right place / all (${w} windows); wrong "not found" answers`,
        unit: 'ratio',
        yMin: 0,
        yMax: 1.05,
        series: [
          ...(await q(share('kelips_canary_lookups_total', 'found', w), () => 'canary found')),
          ...(await q('cluster:kelips_canary_success:ratio_rate5m{cluster="churn-demo"}', () => 'canary found (5m rule)')).map((s) => ({ ...s, dashed: true })),
          ...(await q(share('kelips_canary_lookups_total', 'wrong_not_found', w), () => 'canary wrong not found')),
        ],
      },
      {
        title: `User lookups by answer (share of all, ${w} windows)`,
        unit: 'ratio',
        yMin: 0,
        yMax: 1.05,
        series: [
          ...(await q(share('kelips_lookups_total', 'found', w), () => 'found')),
          ...(await q(share('kelips_lookups_total', 'not_found', w), () => 'not found')),
          ...(await q(share('kelips_lookups_total', 'unavailable', w), () => 'unavailable')),
          { name: `meant to be found (${pct(meantShare)})`, points: evenly(start, end, 2).map((t) => [t, meantShare] as [number, number]), dashed: true },
        ],
      },
      {
        title: `Lookup latency (${w} windows)`,
        unit: 'seconds',
        series: [
          ...(await q(`histogram_quantile(0.5, sum by (le) (rate(kelips_lookup_duration_seconds_bucket[${w}])))`, () => 'p50')),
          ...(await q(`histogram_quantile(0.9, sum by (le) (rate(kelips_lookup_duration_seconds_bucket[${w}])))`, () => 'p90')),
          ...(await q(`histogram_quantile(0.99, sum by (le) (rate(kelips_lookup_duration_seconds_bucket[${w}])))`, () => 'p99')),
        ],
      },
      {
        title: `Failure detector and membership (events/s, ${w} windows)`,
        unit: 'ops',
        series: [
          ...(await q(`sum(rate(kelips_detector_suspected_total[${w}]))`, () => 'suspected')),
          ...(await q(`sum by (reason) (rate(kelips_detector_removed_total[${w}]))`, (m) => `removed (${m.reason})`)),
          ...(await q(`sum(rate(kelips_membership_joins_total[${w}]))`, () => 'joins')),
        ],
      },
    ];
    const summary = await summarise(p, start, end, st);
    const kills = events.filter((e) => e.kind === 'kill').length;
    const terms = events.filter((e) => e.kind === 'term').length;
    const svg = renderSvg({
      title: `kelips under churn: ${AGENTS} agents, k=${GROUPS}, ${kills} crashes (kill -9) and ${terms} graceful stops in ${Math.round(end - start)} s`,
      subtitle: [
        `Prometheus data (1 s scrapes) from a local cluster on loopback; x axis: minutes:seconds since start; seed ${values.seed}`,
        `canary lookups: ${summary.canary.lookups}, found ${pct(summary.canary.foundShare)} (lowest 1-minute window ${pct(summary.canary.lowestFoundShare1m)}), ` +
          `${summary.canary.wrongNotFound} wrong "not found"`,
        `user lookups: ${st.lookups} at ~20/s, ${st.meantToMiss} meant to miss; found ${pct(summary.user.foundShare)}, meant to be found ${pct(summary.user.meantToBeFoundShare)}; ` +
          `${st.notFoundWhenMeantToBeFound} published names answered "not found"`,
      ],
      start,
      end,
      panels,
      markers: events.map((e) => ({ t: e.t, label: e.note, kind: e.kind })),
    });
    const svgPath = join(OUT, 'churn.svg');
    writeFileSync(svgPath, svg);
    writeFileSync(join(OUT, 'churn-events.json'), JSON.stringify({ start, end, seed: values.seed, events, load: st, summary }, null, 2) + '\n');
    writeFileSync(join(OUT, 'series.json'), JSON.stringify(panels, null, 1) + '\n');
    for (const p of panels) if (p.series.every((s) => s.points.length === 0)) log(`warning: panel "${p.title}" has no data`);
    log(`lookups: ${JSON.stringify(st)}`);
    const c = summary.canary;
    const u = summary.user;
    log(
      `canary lookups: ${c.lookups} (found ${c.found}, wrong_not_found ${c.wrongNotFound}, wrong_location ${c.wrongLocation}, unavailable ${c.unavailable}); ` +
        `canary found share ${pct(c.foundShare)}, lowest 1-minute window ${pct(c.lowestFoundShare1m)}; canary wrong_not_found: ${c.wrongNotFound}`,
    );
    log(
      `user lookups: ${u.lookups} answered, ${u.meantToMiss} meant to miss; found share ${pct(u.foundShare)} vs meant-to-be-found share ${pct(u.meantToBeFoundShare)} ` +
        `(difference ${(u.foundShare - u.meantToBeFoundShare).toFixed(3)}); wrong answers: ${u.notFoundWhenMeantToBeFound} not found for published names, ` +
        `${u.foundWhenMeantToMiss} found for never-published names; ${u.unavailable} unavailable`,
    );
    log(`pulse propagation delay over the run: p50 ${fmtS(summary.propagation.p50)}, p99 ${fmtS(summary.propagation.p99)} (${summary.propagation.samples} samples)`);
    log(`chart: ${svgPath}`);
    const rsvg = spawnSync('sh', ['-c', 'command -v rsvg-convert'], { encoding: 'utf8' });
    if (rsvg.status === 0) {
      const png = join(OUT, 'churn.png');
      const r = spawnSync('rsvg-convert', ['-o', png, svgPath]);
      if (r.status === 0) log(`png:   ${png}`);
    }
  } finally {
    await cleanup();
  }
}

/** `result`'s share of `counter` over windows of `w`; 0 (not missing) while there are lookups but none of that result. */
function share(counter: string, result: string, w: string): string {
  return `(sum(rate(${counter}{result="${result}"}[${w}])) or sum(rate(${counter}[${w}])) * 0) / sum(rate(${counter}[${w}]))`;
}

/** Times from `start` to `end` every `stepS` seconds (a constant reference line drawn like the queried series). */
function evenly(start: number, end: number, stepS: number): number[] {
  const out: number[] = [];
  for (let t = start; t <= end; t += stepS) out.push(t);
  return out;
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a';
}

function fmtS(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(2)} s` : 'n/a';
}

interface Summary {
  canary: { lookups: number; found: number; wrongNotFound: number; wrongLocation: number; unavailable: number; foundShare: number; lowestFoundShare1m: number };
  user: {
    lookups: number;
    meantToMiss: number;
    foundShare: number;
    meantToBeFoundShare: number;
    notFoundWhenMeantToBeFound: number;
    foundWhenMeantToMiss: number;
    unavailable: number;
  };
  propagation: { samples: number; p50: number; p99: number };
}

/**
 * The run's figures. Canary counts come from Prometheus: increase() over the run, which follows the counter
 * resets of restarted agents (rounded: increase() extrapolates to the window's edges). User lookups come from the
 * load generator, which knows which names were meant to miss.
 */
async function summarise(p: Prometheus, start: number, end: number, st: LookupLoad['stats']): Promise<Summary> {
  const range = `${Math.ceil(end - start) + 2}s`;
  const scalar = async (expr: string): Promise<number> => {
    const r = await p.query(expr, end);
    return Number(r.result[0]?.value[1] ?? NaN);
  };
  const canaries = async (result: string) => Math.round(await scalar(`sum(increase(kelips_canary_lookups_total{result="${result}"}[${range}]))`));
  const found = await canaries('found');
  const wrongNotFound = await canaries('wrong_not_found');
  const wrongLocation = await canaries('wrong_location');
  const unavailable = await canaries('unavailable');
  const lookups = found + wrongNotFound + wrongLocation + unavailable;
  const windows = await p.queryRange(share('kelips_canary_lookups_total', 'found', '1m'), Math.floor(start) + 60, Math.ceil(end), 10);
  const shares = windows.flatMap((s) => s.values.map(([, v]) => Number(v))).filter(Number.isFinite);
  const q = (x: number) => scalar(`histogram_quantile(${x}, sum by (le) (increase(kelips_propagation_delay_seconds_bucket[${range}])))`);
  return {
    canary: { lookups, found, wrongNotFound, wrongLocation, unavailable, foundShare: lookups > 0 ? found / lookups : NaN, lowestFoundShare1m: shares.length ? Math.min(...shares) : NaN },
    user: {
      lookups: st.lookups,
      meantToMiss: st.meantToMiss,
      foundShare: st.lookups > 0 ? st.found / st.lookups : NaN,
      meantToBeFoundShare: st.lookups > 0 ? st.meantToBeFound / st.lookups : NaN,
      notFoundWhenMeantToBeFound: st.notFoundWhenMeantToBeFound,
      foundWhenMeantToMiss: st.foundWhenMeantToMiss,
      unavailable: st.unavailable,
    },
    propagation: {
      samples: Math.round(await scalar(`sum(increase(kelips_propagation_delay_seconds_count[${range}]))`)),
      p50: await q(0.5),
      p99: await q(0.99),
    },
  };
}

main().catch((err: unknown) => {
  console.error(`churn-demo failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
