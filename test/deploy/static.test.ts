/**
 * Static checks of the deploy artefacts, dashboards and rules with the real tools where they exist:
 * promtool, systemd-analyze (verify, security --offline), shellcheck, docker-compose config (no engine needed),
 * tsc against @grafana/schema; and structural checks where no tool runs here (Dockerfile, Kubernetes).
 * System tools come from `make setup-system` (scripts/ensure-deploy-tools.sh); a missing tool fails the test.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { envName, optionNames } from '../../src/agent/config.js';
import { checkSizing, formatChance, minNodesFor, smallGroupRisk } from '../../src/cli/sizing.js';
import { plan } from '../../src/cli/plan.js';
import { resolveConfig } from '../../src/core/config.js';
import {
  REPO,
  RULES_FILE,
  allPanels,
  dashboardExpressions,
  dashboardFiles,
  loadDashboard,
  ruleExpressions,
  yamlToJson,
  alertInnerExpressions,
} from './lib/expressions.js';
import { typeCheckDashboards } from './lib/grafana-types.js';
import { requireBinary } from './lib/prometheus.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const run = (cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd ?? REPO, input: opts.input });

/** Every KELIPS_* variable the agent understands (from its option table), plus the config-file variable. */
const KNOWN_ENV = new Set([...optionNames().map(envName), 'KELIPS_CONFIG']);

/** The metric contract (see the issue) plus prom-client defaults used by the dashboards, and recorded series. */
const CONTRACT_METRICS = new Set([
  'kelips_node_info',
  'kelips_node_incarnation',
  'kelips_node_ready',
  'kelips_view_members',
  'kelips_contacts',
  'kelips_contacts_groups_missing',
  'kelips_view_group_small',
  'kelips_filetuples_stored',
  'kelips_filetuples_published',
  'kelips_net_datagrams_sent_total',
  'kelips_net_datagrams_received_total',
  'kelips_net_bytes_sent_total',
  'kelips_net_bytes_received_total',
  'kelips_net_datagrams_dropped_total',
  'kelips_lookups_total',
  'kelips_lookups_by_hops_total',
  'kelips_publishes_total',
  'kelips_detector_suspected_total',
  'kelips_detector_removed_total',
  'kelips_detector_refuted_total',
  'kelips_membership_joins_total',
  'kelips_membership_leaves_total',
  'kelips_contacts_replaced_total',
  'kelips_lookup_duration_seconds_bucket',
  'kelips_lookup_duration_seconds_sum',
  'kelips_lookup_duration_seconds_count',
  'kelips_canary_lookups_total',
  'kelips_propagation_delay_seconds_bucket',
  // prom-client default metrics with prefix kelips_
  'kelips_nodejs_eventloop_lag_p99_seconds',
  'kelips_process_cpu_seconds_total',
  'kelips_process_resident_memory_bytes',
  'up',
]);

function metricNames(expr: string): string[] {
  // Strip strings and label matchers, then take identifiers that are not functions, keywords or durations.
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const keywords = new Set([
    ...['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset'],
    // aggregation operators (may be followed by `by (...)` instead of a parenthesis)
    ...['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile'],
  ]);
  const names: string[] = [];
  for (const m of noStrings.matchAll(/(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    const name = m[1] as string;
    if (m[2] || keywords.has(name)) continue;
    // Inside by (...) / on (...) clauses: label names.
    const before = noStrings.slice(0, m.index);
    const open = before.lastIndexOf('(');
    const close = before.lastIndexOf(')');
    if (open > close && /(by|without|on|ignoring|group_left|group_right)\s*\($/.test(before.slice(0, open + 1))) continue;
    if (/^\d/.test(name)) continue;
    names.push(name);
  }
  return names;
}

describe('Prometheus rules', () => {
  it('promtool check rules passes', () => {
    requireBinary('promtool');
    const r = run('promtool', ['check', 'rules', RULES_FILE]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('rules use only contract metrics and recorded series', () => {
    const rules = ruleExpressions();
    const recorded = new Set(rules.filter((r) => r.kind === 'record').map((r) => r.name));
    expect(rules.filter((r) => r.kind === 'alert').length).toBeGreaterThanOrEqual(4);
    for (const r of rules) {
      for (const n of metricNames(r.expr)) expect(CONTRACT_METRICS.has(n) || recorded.has(n), `${r.name}: ${n}`).toBe(true);
      // Every alert has something left to evaluate once its threshold is removed.
      if (r.kind === 'alert') for (const inner of alertInnerExpressions(r.expr)) expect(inner).not.toMatch(/(>|<|==)\s*[\d.]+\s*$/);
    }
  });

  it('the compose Prometheus config is valid (promtool check config)', () => {
    const r = run('promtool', ['check', 'config', 'deploy/container/prometheus/prometheus.yml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('Grafana dashboards', () => {
  const files = dashboardFiles();

  it('has the overview and churn dashboards', () => {
    expect(files.map((f) => relative(REPO, f))).toEqual(['dashboards/kelips-churn.json', 'dashboards/kelips-overview.json']);
  });

  it("type-check against Grafana's published dashboard and panel types (@grafana/schema)", () => {
    const r = typeCheckDashboards();
    expect(r.ok, `${r.output}\n(generated ${r.file})`).toBe(true);
    expect(r.checked.length).toBeGreaterThan(20);
  }, 120_000);

  for (const file of files) {
    const name = relative(REPO, file);
    it(`${name}: structure, variables and datasource references`, () => {
      const d = loadDashboard(file) as Json;
      expect(d.uid).toMatch(/^kelips-/);
      expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
      const vars = (d.templating.list as Json[]).map((v) => v.name);
      expect(vars).toEqual(['datasource', 'cluster', 'instance']);
      const ds = (d.templating.list as Json[])[0] as Json;
      expect(ds.type).toBe('datasource');
      expect(ds.query).toBe('prometheus');
      const panels = allPanels(d) as Json[];
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, 'unique panel ids').toBe(ids.length);
      // Grid: inside 24 columns, no two panels overlap.
      const boxes = panels.map((p) => p.gridPos as { x: number; y: number; w: number; h: number });
      for (const [i, b] of boxes.entries()) {
        expect(b.x + b.w, `panel ${ids[i]} fits 24 columns`).toBeLessThanOrEqual(24);
        for (const [j, c] of boxes.entries()) {
          if (j <= i) continue;
          const overlap = b.x < c.x + c.w && c.x < b.x + b.w && b.y < c.y + c.h && c.y < b.y + b.h;
          expect(overlap, `panels ${ids[i]} and ${ids[j]} overlap`).toBe(false);
        }
      }
      for (const p of panels) {
        if (p.type === 'row') continue;
        expect(p.datasource, `panel ${p.id} datasource`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.title, `panel ${p.id} title`).toBeTruthy();
        expect(p.description, `panel ${p.id} description`).toBeTruthy();
        const refIds = (p.targets as Json[]).map((t) => t.refId);
        expect(new Set(refIds).size, `panel ${p.id} refIds unique`).toBe(refIds.length);
        for (const t of p.targets as Json[]) {
          expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
          expect(t.expr).toContain('$cluster');
        }
      }
    });
  }

  it('every dashboard expression uses contract metrics or recorded series, and known variables only', () => {
    const recorded = new Set(ruleExpressions().filter((r) => r.kind === 'record').map((r) => r.name));
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(30);
    for (const e of exprs) {
      const body = e.kind === 'variable' ? e.raw.replace(/^label_values\((.*),\s*\w+\)$/, '$1') : e.raw;
      for (const n of metricNames(body)) expect(CONTRACT_METRICS.has(n) || recorded.has(n), `${e.where}: ${n}`).toBe(true);
      for (const v of e.raw.matchAll(/\$\{?(\w+)/g)) expect(['cluster', 'instance', '__rate_interval', '__interval', '__range']).toContain(v[1]);
    }
  });

  it('covers what the issue asks for', () => {
    const all = dashboardExpressions()
      .map((e) => e.raw)
      .join('\n');
    for (const m of [
      'kelips_view_members',
      'kelips_contacts_groups_missing',
      'kelips_filetuples_stored',
      'kelips_lookups_total',
      'kelips_lookup_duration_seconds_bucket',
      'kelips_lookups_by_hops_total',
      'kelips_net_bytes_sent_total',
      'kelips_net_datagrams_dropped_total',
      'kelips_detector_suspected_total',
      'kelips_membership_joins_total',
      'kelips_membership_leaves_total',
      'kelips_detector_removed_total',
      'cluster:kelips_lookup_found:ratio_rate1m',
      'cluster:kelips_lookup_not_found:ratio_rate1m',
      'kelips_canary_lookups_total',
      'cluster:kelips_canary_success:ratio_rate5m',
      'kelips_propagation_delay_seconds_bucket',
    ])
      expect(all, m).toContain(m);
  });
});

describe('systemd unit', () => {
  const unit = join(REPO, 'deploy/systemd/kelips@.service');

  /**
   * `systemd-analyze verify` checks that ExecStart's binary exists. The unit runs /usr/bin/node (Debian's
   * nodejs); where node lives elsewhere (CI images with /usr/local/bin/node) the test verifies a copy whose
   * ExecStart points at this machine's node. Everything else in the unit is verified unchanged.
   */
  function verifiableCopy(): { dir: string; file: string } {
    const dir = mkdtempSync(join(tmpdir(), 'kelips-unit-'));
    let text = readFileSync(unit, 'utf8');
    if (!existsSync('/usr/bin/node')) text = text.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `);
    const file = join(dir, 'kelips@test.service');
    writeFileSync(file, text);
    return { dir, file };
  }

  it('systemd-analyze verify passes (template and an instance) with no warnings', () => {
    requireBinary('systemd-analyze');
    const { dir, file } = verifiableCopy();
    try {
      for (const target of [file, join(dir, 'kelips@.service')]) {
        if (target.endsWith('kelips@.service')) writeFileSync(target, readFileSync(file, 'utf8'));
        const r = run('systemd-analyze', ['verify', target]);
        const output = (r.stdout + r.stderr).trim();
        expect(r.status, output).toBe(0);
        expect(output, 'verify printed warnings').toBe('');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('systemd-analyze security --offline=true rates it 2.0 or lower', () => {
    const r = run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]);
    const m = /Overall exposure level for \S+: (\d+\.\d+) (\w+)/.exec(r.stdout + r.stderr);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    const score = Number(m?.[1]);
    console.log(`systemd-analyze security --offline=true deploy/systemd/kelips@.service: ${score} ${m?.[2]}`);
    expect(score).toBeLessThanOrEqual(2.0);
  });

  it('restarts on failure, leaves gracefully, logs to the journal, runs as its own user', () => {
    const text = readFileSync(unit, 'utf8');
    for (const line of [
      'Restart=on-failure',
      'KillSignal=SIGTERM',
      'StandardOutput=journal',
      'DynamicUser=yes',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
      'EnvironmentFile=/etc/kelips/%i.env',
    ])
      expect(text.split('\n'), line).toContain(line);
    // The example environment file only sets variables the agent knows.
    const env = readFileSync(join(REPO, 'deploy/systemd/kelips.env.example'), 'utf8');
    for (const m of env.matchAll(/^#?\s*(KELIPS_\w+)=/gm)) expect(KNOWN_ENV.has(m[1] as string), m[1]).toBe(true);
  });
});

describe('shell scripts', () => {
  function shellScripts(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        if (['node_modules', 'dist', '.git', '.tmp', 'coverage'].includes(e)) continue;
        const p = join(dir, e);
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (e.endsWith('.sh') || /^#!.*\b(ba)?sh\b/.test(readFileSync(p, 'utf8').slice(0, 100))) out.push(p);
      }
    };
    for (const d of ['scripts', 'deploy', '.ci']) if (existsSync(join(REPO, d))) walk(join(REPO, d));
    return out;
  }

  it('shellcheck passes on every shell script', () => {
    requireBinary('shellcheck');
    const files = shellScripts();
    expect(files.map((f) => relative(REPO, f))).toContain('scripts/ensure-deploy-tools.sh');
    const r = run('shellcheck', ['--severity=style', ...files]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("shellcheck passes on the Dockerfile's RUN commands", () => {
    const runs = dockerInstructions().filter((i) => i.op === 'RUN' && !i.args.startsWith('['));
    expect(runs.length).toBeGreaterThan(0);
    for (const i of runs) {
      const r = run('shellcheck', ['-s', 'sh', '-'], { input: `#!/bin/sh\n${i.args}\n` });
      expect(r.status, `${i.args}\n${r.stdout}`).toBe(0);
    }
  });
});

interface DockerInstruction {
  op: string;
  args: string;
  line: number;
}

function dockerInstructions(file = join(REPO, 'deploy/container/Dockerfile')): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let text = lines[i] as string;
    const start = i + 1;
    if (/^\s*(#|$)/.test(text)) continue;
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + (lines[++i] as string);
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(text);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse: ${text}`);
    out.push({ op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: start });
  }
  return out;
}

describe('container', () => {
  const OPS = new Set(['FROM', 'ARG', 'ENV', 'WORKDIR', 'COPY', 'RUN', 'USER', 'VOLUME', 'EXPOSE', 'STOPSIGNAL', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD', 'LABEL']);

  it('Dockerfile parses: multi-stage, copies only paths that exist, runs as non-root with a /healthz check', () => {
    const ins = dockerInstructions();
    for (const i of ins) expect(OPS.has(i.op), `line ${i.line}: ${i.op}`).toBe(true);
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const stages = new Set(froms.map((f) => /\bAS\s+(\S+)/i.exec(f.args)?.[1]).filter(Boolean));
    // COPY sources: from the build context (repository root) or an earlier stage.
    const built = new Set(['/src/dist', '/src/node_modules']);
    for (const c of ins.filter((i) => i.op === 'COPY')) {
      const parts = c.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith('--from='));
      const paths = parts.filter((p) => !p.startsWith('--'));
      const sources = paths.slice(0, -1);
      if (from) {
        expect(stages.has(from.slice('--from='.length)), c.args).toBe(true);
        for (const s of sources) expect(built.has(s), `${s} is produced by a build stage`).toBe(true);
      } else {
        for (const s of sources) expect(existsSync(join(REPO, s)), `COPY source ${s} exists in the repository`).toBe(true);
      }
    }
    // The build runs the project's own compile command; tsconfig's inputs are all copied.
    expect(ins.some((i) => i.op === 'RUN' && i.args.includes('npx tsc -p tsconfig.build.json'))).toBe(true);
    const tsconfig = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const copied = ins.filter((i) => i.op === 'COPY' && !i.args.includes('--from')).map((i) => i.args.split(/\s+/)[0]);
    for (const inc of tsconfig.include) expect(copied, `tsconfig include ${inc} is copied`).toContain((inc.split('/')[0] as string));
    // Runtime stage: non-root, health check, entry point into the built agent.
    const last = ins.slice(ins.lastIndexOf(froms[froms.length - 1] as DockerInstruction));
    const user = last.filter((i) => i.op === 'USER').pop();
    expect(user?.args).toBeDefined();
    expect(user?.args).not.toMatch(/^(root|0)(:|$)/);
    const hc = last.find((i) => i.op === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/CMD \["node", "\/opt\/kelips\/healthcheck\.mjs"\]/);
    expect(last.some((i) => i.op === 'COPY' && i.args === 'deploy/container/healthcheck.mjs ./healthcheck.mjs')).toBe(true);
    const entry = last.find((i) => i.op === 'ENTRYPOINT');
    expect(entry?.args).toBe('["node", "/opt/kelips/dist/src/cli/kelips.js"]');
    expect(last.find((i) => i.op === 'WORKDIR')?.args).toBe('/opt/kelips');
    // dist/src/cli/kelips.js is what `npm run build` produces from src/cli/kelips.ts.
    expect(existsSync(join(REPO, 'src/cli/kelips.ts')), 'src/cli/kelips.ts (the agent entry point) exists').toBe(true);
    // Configuration through KELIPS_* variables the agent knows.
    const envs = ins.filter((i) => i.op === 'ENV').flatMap((i) => [...i.args.matchAll(/(KELIPS_\w+)=/g)].map((m) => m[1] as string));
    expect(envs.length).toBeGreaterThan(0);
    for (const e of envs) expect(KNOWN_ENV.has(e), e).toBe(true);
    expect(readFileSync(join(REPO, 'deploy/container/Dockerfile'), 'utf8')).not.toMatch(/registry|npmjs/i);
  });

  it('compose file: docker-compose config accepts it; every path, variable and target it uses exists', () => {
    requireBinary('docker-compose');
    const file = join(REPO, 'deploy/container/compose.yaml');
    const r = run('docker-compose', ['-f', file, 'config']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const dir = dirname(file);
    const c = yamlToJson(file) as Json;
    const services = c.services as Record<string, Json>;
    const agents = Object.keys(services).filter((s) => s.startsWith('kelips-'));
    expect(agents.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['prometheus', 'grafana']));
    for (const [name, s] of Object.entries(services)) {
      if (s.build) {
        const ctx = resolve(dir, s.build.context as string);
        expect(existsSync(join(ctx, s.build.dockerfile as string)), `${name} dockerfile`).toBe(true);
      }
      for (const v of (s.volumes as string[] | undefined) ?? []) {
        const src = v.split(':')[0] as string;
        if (src.startsWith('.') || src.startsWith('/')) expect(existsSync(resolve(dir, src)), `${name} mounts ${src}`).toBe(true);
        else expect(Object.keys(c.volumes ?? {}), `${name} named volume ${src}`).toContain(src);
      }
      for (const k of Object.keys((s.environment as Json | undefined) ?? {}))
        if (k.startsWith('KELIPS_')) expect(KNOWN_ENV.has(k), `${name}: ${k}`).toBe(true);
      for (const dep of Object.keys(Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((x: string) => [x, 1])) : s.depends_on ?? {}))
        expect(Object.keys(services)).toContain(dep);
    }
    // Seeds name compose services; Prometheus scrapes every agent's metrics port.
    const env = services['kelips-1']?.environment as Json;
    for (const seed of String(env.KELIPS_JOIN).split(',')) expect(agents).toContain(seed.split(':')[0]);
    const metricsPort = String(env.KELIPS_METRICS).split(':')[1];
    const prom = yamlToJson(join(dir, 'prometheus/prometheus.yml')) as Json;
    const targets = (prom.scrape_configs as Json[]).find((j) => j.job_name === 'kelips')?.static_configs[0].targets as string[];
    expect(targets.sort()).toEqual(agents.map((a) => `${a}:${metricsPort}`).sort());
    // Rules mounted where prometheus.yml loads them from; Grafana provisioning and dashboards.
    const promMounts = services.prometheus?.volumes as string[];
    expect(promMounts).toContain('../../dashboards/rules:/etc/prometheus/rules:ro');
    expect((prom.rule_files as string[])[0]).toBe('/etc/prometheus/rules/*.yml');
    const gds = yamlToJson(join(dir, 'grafana/provisioning/datasources/prometheus.yaml')) as Json;
    expect(gds.datasources[0].type).toBe('prometheus');
    expect(gds.datasources[0].url).toBe('http://prometheus:9090');
    const gdb = yamlToJson(join(dir, 'grafana/provisioning/dashboards/kelips.yaml')) as Json;
    const dashPath = gdb.providers[0].options.path as string;
    expect(services.grafana?.volumes).toContain(`../../dashboards:${dashPath}:ro`);
    const home = (services.grafana?.environment as Json).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    expect(existsSync(join(REPO, 'dashboards', relative(dashPath, home))), home).toBe(true);
  });
});

describe('Kubernetes manifests', () => {
  const docs = () => yamlToJson(join(REPO, 'deploy/kubernetes/kelips.yaml'), true) as Json[];
  const byKind = (kind: string) => docs().filter((d) => d.kind === kind);

  it('StatefulSet + headless Service (seeds) + ConfigMap + probes + PDB + scrape config fit together', () => {
    const [sts] = byKind('StatefulSet') as [Json];
    const [svc] = byKind('Service') as [Json];
    const [cm] = byKind('ConfigMap') as [Json];
    const [pdb] = byKind('PodDisruptionBudget') as [Json];
    for (const d of [sts, svc, cm, pdb]) expect(d).toBeDefined();
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(sts.apiVersion).toBe('apps/v1');
    // Headless Service whose DNS names are the seeds; it publishes not-ready pods so the first pods find each other.
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(sts.spec.serviceName).toBe(svc.metadata.name);
    const podLabels = sts.spec.template.metadata.labels as Json;
    const matches = (sel: Json) => Object.entries(sel).every(([k, v]) => podLabels[k] === v);
    expect(matches(sts.spec.selector.matchLabels)).toBe(true);
    expect(matches(svc.spec.selector)).toBe(true);
    expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
    const container = sts.spec.template.spec.containers[0] as Json;
    const ports = Object.fromEntries((container.ports as Json[]).map((p) => [p.name, p]));
    expect(ports.gossip.protocol).toBe('UDP');
    for (const p of svc.spec.ports as Json[]) expect(ports[p.targetPort], `service port ${p.name}`).toBeDefined();
    // Probes.
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // Config: ConfigMap wired in, every variable known; seeds are pod DNS names of this StatefulSet.
    expect(container.envFrom[0].configMapRef.name).toBe(cm.metadata.name);
    for (const k of Object.keys(cm.data)) expect(KNOWN_ENV.has(k), k).toBe(true);
    for (const e of container.env as Json[]) if (String(e.name).startsWith('KELIPS_')) expect(KNOWN_ENV.has(e.name), e.name).toBe(true);
    const gossipPort = ports.gossip.containerPort as number;
    for (const seed of String(cm.data.KELIPS_JOIN).split(',')) {
      const m = /^([a-z0-9-]+)-(\d+)\.([a-z0-9-]+):(\d+)$/.exec(seed);
      expect(m, seed).not.toBeNull();
      expect(m?.[1]).toBe(sts.metadata.name);
      expect(Number(m?.[2])).toBeLessThan(sts.spec.replicas as number);
      expect(m?.[3]).toBe(svc.metadata.name);
      expect(Number(m?.[4])).toBe(gossipPort);
    }
    expect(String(cm.data.KELIPS_METRICS).split(':')[1]).toBe(String(ports.metrics.containerPort));
    // Prometheus scrape annotation on the pods, matching the metrics port.
    const ann = sts.spec.template.metadata.annotations as Json;
    expect(ann['prometheus.io/scrape']).toBe('true');
    expect(ann['prometheus.io/port']).toBe(String(ports.metrics.containerPort));
    // Hardened pod: non-root, no privilege escalation, read-only root fs with the data dir on a volume.
    expect(sts.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const mounts = (container.volumeMounts as Json[]).map((m) => m.mountPath);
    expect(mounts).toContain(cm.data.KELIPS_DATA_DIR);
  });

  it('ServiceMonitor scrapes the Service metrics port', () => {
    const [sm] = yamlToJson(join(REPO, 'deploy/kubernetes/servicemonitor.yaml'), true) as Json[];
    const [svc] = byKind('Service') as [Json];
    expect(sm?.kind).toBe('ServiceMonitor');
    expect((svc.spec.ports as Json[]).map((p) => p.name)).toContain(sm?.spec.endpoints[0].port);
    expect(Object.entries(sm?.spec.selector.matchLabels as Json).every(([k, v]) => svc.metadata.labels[k] === v)).toBe(true);
  });
});

describe('deploy/README.md', () => {
  it('covers each way to deploy, sizing k, rolling restarts and the missing container engine', () => {
    const text = readFileSync(join(REPO, 'deploy/README.md'), 'utf8');
    for (const s of ['systemd', 'docker compose', 'kubectl apply', 'kelips-ctl plan', 'rolling restart', 'no container engine'])
      expect(text.toLowerCase(), s).toContain(s);
    // Every repository path the README names exists.
    for (const m of text.matchAll(/`((?:deploy|dashboards|scripts|test)\/[\w./@-]+)`/g)) expect(existsSync(join(REPO, m[1] as string)), m[1]).toBe(true);
  });
});


describe('every shipped configuration follows the sizing rule (src/cli/sizing.ts, kelips-ctl plan)', () => {
  const read = (path: string) => readFileSync(join(REPO, path), 'utf8');
  const fits = (what: string, nodes: number, groups: number) => expect(checkSizing({ nodes, groups }), `${what}: ${nodes} nodes, k = ${groups}`).toEqual([]);

  it('compose: its agents and KELIPS_GROUPS', () => {
    const c = yamlToJson(join(REPO, 'deploy/container/compose.yaml')) as Json;
    const agents = Object.keys(c.services).filter((s) => s.startsWith('kelips-'));
    const ks = new Set(agents.map((a) => Number(c.services[a].environment.KELIPS_GROUPS)));
    expect(ks.size, 'the same k on every agent').toBe(1);
    fits('compose', agents.length, [...ks][0]!);
  });

  it('Kubernetes: replicas and KELIPS_GROUPS', () => {
    const docs = yamlToJson(join(REPO, 'deploy/kubernetes/kelips.yaml'), true) as Json[];
    const sts = docs.find((d) => d.kind === 'StatefulSet')!;
    const cm = docs.find((d) => d.kind === 'ConfigMap')!;
    fits('kubernetes', Number(sts.spec.replicas), Number(cm.data.KELIPS_GROUPS));
  });

  it("scripts/demo.sh: its default agent count, with the k kelips-ctl plan recommends for it", () => {
    const sh = read('scripts/demo.sh');
    const agents = Number(/^AGENTS=\$\{DEMO_AGENTS:-(\d+)\}$/m.exec(sh)?.[1]);
    expect(agents).toBeGreaterThan(0);
    // k comes from plan, for the agent count in use: any DEMO_AGENTS gets a k that fits.
    const kLine = /^K=.*$/m.exec(sh)?.[0] ?? '';
    expect(kLine).toMatch(/plan --nodes "\$AGENTS" --files (\d+) --json/);
    expect(kLine).toContain('groupsRecommended');
    const files = Number(/--files (\d+)/.exec(kLine)![1]);
    const k = plan({ nodes: agents, files, nameBytes: 32, locationBytes: 48, config: resolveConfig() }).groupsRecommended;
    expect(k).toBeGreaterThan(1); // the demo shows contacts and one-hop lookups across groups
    fits('demo.sh', agents, k);
  });

  it('scripts/churn-demo.ts: its default agents and groups', () => {
    const ts = read('scripts/churn-demo.ts');
    const def = (name: string) => Number(new RegExp(`^\\s*${name}: \\{ type: 'string', default: process\\.env\\.CHURN_DEMO_${name.toUpperCase()} \\?\\? '(\\d+)' \\}`, 'm').exec(ts)?.[1]);
    const [agents, groups] = [def('agents'), def('groups')];
    expect(agents).toBeGreaterThan(0);
    expect(groups).toBeGreaterThan(0);
    fits('churn-demo', agents, groups);
  });

  it('the systemd example: k with the smallest cluster it fits, as its comment says', () => {
    const env = read('deploy/systemd/kelips.env.example');
    const k = Number(/^KELIPS_GROUPS=(\d+)$/m.exec(env)?.[1]);
    const n = Number(/k = (\d+) fits clusters of (\d+) nodes or more/.exec(env)?.[2]);
    expect(Number(/k = (\d+) fits clusters/.exec(env)?.[1])).toBe(k);
    expect(n).toBe(minNodesFor(k));
    fits('systemd example', n, k);
  });

  it('the docs: every "N agents (k = K)" (or replicas, nodes) and every plan example with --groups', () => {
    let checked = 0;
    for (const doc of ['README.md', 'docs/AGENT.md', 'deploy/README.md']) {
      const text = read(doc);
      for (const m of text.matchAll(/(\d[\d,]*) (?:agents|nodes|replicas) \(k = (\d+)[);]/g)) {
        fits(`${doc}: "${m[0]}"`, Number(m[1]!.replace(/,/g, '')), Number(m[2]));
        checked++;
      }
      for (const m of text.matchAll(/plan --nodes (\d+) --files \d+ --groups (\d+)/g)) {
        fits(`${doc}: "${m[0]}"`, Number(m[1]), Number(m[2]));
        checked++;
      }
    }
    // deploy/README.md states the compose and Kubernetes sizes this way, so the check above ran.
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('deploy/README.md states the compose and Kubernetes sizes as shipped, and its table of chances is the rule', () => {
    const text = read('deploy/README.md');
    const c = yamlToJson(join(REPO, 'deploy/container/compose.yaml')) as Json;
    const agents = Object.keys(c.services).filter((x) => x.startsWith('kelips-'));
    expect(text).toContain(`\`deploy/container/compose.yaml\` runs ${agents.length} agents (k = ${c.services[agents[0]!].environment.KELIPS_GROUPS})`);
    const docs = yamlToJson(join(REPO, 'deploy/kubernetes/kelips.yaml'), true) as Json[];
    const sts = docs.find((d) => d.kind === 'StatefulSet')!;
    const cm = docs.find((d) => d.kind === 'ConfigMap')!;
    expect(text).toContain(`of ${sts.spec.replicas} replicas (k = ${cm.data.KELIPS_GROUPS}`);
    const rows = [...text.matchAll(/^\| (\d+) \| ([^\n]+) \|$/gm)].filter((m) => /%/.test(m[2]!));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const m of rows) {
      const cells = m[2]!.split(' | ').map((x) => x.replace(/\*/g, ''));
      cells.forEach((cell, i) => expect(cell, `${m[1]} nodes, k = ${i + 1}`).toBe(formatChance(smallGroupRisk(Number(m[1]), i + 1).p)));
    }
  });
});
