/**
 * Every PromQL expression the dashboards and rules contain, with Grafana's variables substituted the way
 * Grafana would, ready to be evaluated against a live Prometheus.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

/** The repository root: the nearest directory above this file with a package.json (works compiled too). */
function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json) not found');
    dir = up;
  }
  return dir;
}
export const REPO = findRepo();
export const DASHBOARD_DIR = join(REPO, 'dashboards');
export const RULES_FILE = join(REPO, 'dashboards/rules/kelips-rules.yml');

export interface DashboardExpr {
  /** Where it is: "<dashboard uid> / <panel title> / <refId>" or "... / annotation <name>" or "... / variable <name>". */
  where: string;
  kind: 'panel' | 'annotation' | 'variable';
  /** The expression as written in the dashboard. */
  raw: string;
  /** Instant query (table panels) rather than a range query. */
  instant: boolean;
}

export interface RuleExpr {
  group: string;
  /** Recording rule name or alert name. */
  name: string;
  kind: 'record' | 'alert';
  expr: string;
}

type Json = Record<string, unknown>;

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(DASHBOARD_DIR, f));
}

export function loadDashboard(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

/** All panels, including those nested in rows. */
export function allPanels(dash: Json): Json[] {
  const out: Json[] = [];
  for (const p of (dash.panels as Json[] | undefined) ?? []) {
    out.push(p);
    for (const q of (p.panels as Json[] | undefined) ?? []) out.push(q);
  }
  return out;
}

export function dashboardExpressions(): DashboardExpr[] {
  const out: DashboardExpr[] = [];
  for (const file of dashboardFiles()) {
    const dash = loadDashboard(file);
    const uid = String(dash.uid);
    for (const p of allPanels(dash)) {
      for (const t of (p.targets as Json[] | undefined) ?? []) {
        if (typeof t.expr !== 'string') continue;
        out.push({
          where: `${uid} / ${String(p.title)} / ${String(t.refId)}`,
          kind: 'panel',
          raw: t.expr,
          instant: t.instant === true && t.range !== true,
        });
      }
    }
    const annotations = ((dash.annotations as Json | undefined)?.list as Json[] | undefined) ?? [];
    for (const a of annotations) {
      const target = a.target as Json | undefined;
      const expr = (target?.expr ?? a.expr) as unknown;
      if (typeof expr === 'string') out.push({ where: `${uid} / annotation ${String(a.name)}`, kind: 'annotation', raw: expr, instant: false });
    }
    const vars = ((dash.templating as Json | undefined)?.list as Json[] | undefined) ?? [];
    for (const v of vars) {
      if (v.type !== 'query') continue;
      const q = v.query as unknown;
      const text = typeof q === 'string' ? q : ((q as Json | undefined)?.query as string | undefined);
      if (typeof text === 'string') out.push({ where: `${uid} / variable ${String(v.name)}`, kind: 'variable', raw: text, instant: true });
    }
  }
  return out;
}

export interface Substitutions {
  cluster: string;
  /** Regex for $instance: ".*" is what Grafana sends for "All" (the variable's allValue). */
  instance: string;
  /** Grafana's $__rate_interval: max($__interval + scrape interval, 4 x scrape interval). */
  rateInterval: string;
  interval: string;
  range: string;
}

/** Substitute Grafana's variables in an expression ($var, ${var} and ${var:regex} forms). */
export function substitute(expr: string, s: Substitutions): string {
  const values: Record<string, string> = {
    cluster: s.cluster,
    instance: s.instance,
    __rate_interval: s.rateInterval,
    __interval: s.interval,
    __range: s.range,
  };
  const replaced = expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b) as string;
    const v = values[name];
    if (v === undefined) throw new Error(`unknown dashboard variable ${m} in ${expr}`);
    return v;
  });
  return replaced;
}

/** Parse the rules file with promtool-compatible YAML (through python3 + PyYAML, see scripts/ensure-deploy-tools.sh). */
export function ruleExpressions(file = RULES_FILE): RuleExpr[] {
  const doc = yamlToJson(file) as { groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] };
  const out: RuleExpr[] = [];
  for (const g of doc.groups) {
    for (const r of g.rules) {
      if (r.record) out.push({ group: g.name, name: r.record, kind: 'record', expr: r.expr });
      else if (r.alert) out.push({ group: g.name, name: r.alert, kind: 'alert', expr: r.expr });
    }
  }
  return out;
}

/** The python3 that has PyYAML: the one on PATH, else Debian's. */
export function pythonWithYaml(): string {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import yaml'], { stdio: 'ignore' });
      return py;
    } catch {
      /* try the next */
    }
  }
  throw new Error('no python3 with PyYAML: run scripts/ensure-deploy-tools.sh (make setup-system)');
}

/** Load a (multi-document) YAML file as JSON: a single document, or an array when `all` is set. */
export function yamlToJson(file: string, all = false): unknown {
  const script = all
    ? 'import sys, json, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None], sys.stdout)'
    : 'import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)';
  return JSON.parse(execFileSync(pythonWithYaml(), ['-c', script, file], { encoding: 'utf8' }));
}

/**
 * Split an alert condition into the expressions that should return data in a healthy cluster: the threshold
 * comparison against a number is removed (a healthy cluster rightly makes `x > 0` empty), and `and`/`unless`/`or`
 * operands are evaluated separately. Only top-level operators count (not inside parentheses or braces).
 */
export function alertInnerExpressions(expr: string): string[] {
  const parts = splitTopLevel(expr, /^(and|unless|or)\b(\s+(on|ignoring)\s*\([^)]*\))?/);
  return parts.map((p) => stripThreshold(p.trim()));
}

function splitTopLevel(expr: string, op: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (depth === 0 && /\s/.test(c)) {
      const m = op.exec(expr.slice(i + 1));
      if (m && (i + 1 + m[0].length >= expr.length || /\s/.test(expr[i + 1 + m[0].length] as string))) {
        parts.push(expr.slice(start, i));
        i += m[0].length;
        start = i + 1;
      }
    }
  }
  parts.push(expr.slice(start));
  return parts;
}

/** `A > 0.5` -> `A` (comparison with a number literal at top level, at the end). */
export function stripThreshold(expr: string): string {
  const m = /^(.*?)\s*(>=|<=|==|!=|>|<)\s*(bool\s+)?(-?\d+(\.\d+)?(e-?\d+)?)\s*$/s.exec(expr);
  if (!m) return expr;
  const left = m[1] as string;
  // Make sure the comparison is at top level: parentheses balance in `left`.
  let depth = 0;
  for (const c of left) {
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
  }
  return depth === 0 ? left : expr;
}
