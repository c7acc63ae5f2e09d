/**
 * Check the dashboards against Grafana's published TypeScript types (@grafana/schema): every dashboard JSON is
 * pasted into a generated .ts file as an object literal typed as `Dashboard`, every panel's options and
 * fieldConfig.defaults.custom as that panel plugin's `Options` / `FieldConfig`, and tsc must accept the file.
 * Object literals get TypeScript's excess-property check, so unknown or misspelt keys fail as well as wrong
 * types and missing required fields. JSON has strings where the types have string enums, so the check uses
 * `Plain<T>`, which turns each string enum into the union of its values (numeric enums are unchanged).
 *
 * Not covered by @grafana/schema (its Prometheus query type moved to another package): Prometheus targets are
 * checked against a local `PromTarget` type holding the fields Grafana's Prometheus editor writes, and
 * Prometheus annotation fields (titleFormat, tagKeys, ...) against `PromAnnotationExtras`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO, allPanels, dashboardFiles, loadDashboard } from './expressions.js';

const PANEL_TYPES: Record<string, { module: string; fieldConfig: boolean }> = {
  timeseries: { module: 'timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen', fieldConfig: true },
  stat: { module: 'stat/panelcfg/x/StatPanelCfg_types.gen', fieldConfig: false },
  table: { module: 'table/panelcfg/x/TablePanelCfg_types.gen', fieldConfig: true },
};

const PRELUDE = `
import type { Dashboard, DataQuery, AnnotationQuery } from '@grafana/schema';

/** JSON form of a Grafana type: string enums become the union of their values. */
type Plain<T> = T extends string
  ? \`\${T}\`
  : T extends number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? Plain<U>[]
      : T extends object
        ? { [K in keyof T]: Plain<T[K]> }
        : T;

/** What Grafana's Prometheus query editor stores in a panel target. */
interface PromTarget extends Plain<DataQuery> {
  refId: string;
  datasource: { type: 'prometheus'; uid: string };
  expr: string;
  legendFormat?: string;
  editorMode?: 'code' | 'builder';
  range?: boolean;
  instant?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  exemplar?: boolean;
}

/** Prometheus annotation fields Grafana's Prometheus datasource reads (processEvents) beside AnnotationQuery. */
interface PromAnnotationExtras {
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
  step?: string;
}
type Annotation = Plain<AnnotationQuery<Omit<PromTarget, 'datasource'>>> & PromAnnotationExtras;
`;

export interface TypeCheckResult {
  ok: boolean;
  output: string;
  file: string;
  checked: string[];
}

function ident(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

export function typeCheckDashboards(outDir = join(REPO, '.tmp/deploy-test/grafana-types')): TypeCheckResult {
  mkdirSync(outDir, { recursive: true });
  const lines: string[] = [PRELUDE];
  const imports: string[] = [];
  const checked: string[] = [];
  for (const [type, spec] of Object.entries(PANEL_TYPES)) {
    const T = ident(type);
    imports.push(
      `import type { Options as ${T}Options${spec.fieldConfig ? `, FieldConfig as ${T}FieldConfig` : ''} } from '@grafana/schema/dist/esm/raw/composable/${spec.module}';`,
    );
  }
  for (const file of dashboardFiles()) {
    const dash = loadDashboard(file);
    const d = ident(basename(file, '.json'));
    // The whole dashboard; annotations are checked separately below (Prometheus extras).
    const { annotations, ...rest } = dash as { annotations?: { list?: unknown[] } } & Record<string, unknown>;
    lines.push(`export const ${d}: Plain<Dashboard> = ${JSON.stringify({ ...rest, annotations: { list: [] } }, null, 2)};`);
    checked.push(`${basename(file)}: Dashboard`);
    (annotations?.list ?? []).forEach((a, i) => {
      const isBuiltIn = (a as { builtIn?: number }).builtIn === 1;
      lines.push(`export const ${d}_annotation_${i}: ${isBuiltIn ? 'Plain<AnnotationQuery>' : 'Annotation'} = ${JSON.stringify(a, null, 2)};`);
      checked.push(`${basename(file)} annotation ${i}: ${isBuiltIn ? 'AnnotationQuery' : 'AnnotationQuery<PromTarget> + Prometheus extras'}`);
    });
    for (const p of allPanels(dash)) {
      const type = String(p.type);
      if (type === 'row') continue;
      const spec = PANEL_TYPES[type];
      const pid = `${d}_panel_${String(p.id)}`;
      if (!spec) {
        lines.push(`// panel ${String(p.id)} has type "${type}", which this check has no schema for`);
        lines.push(`export const ${pid}_unknown_type: never = ${JSON.stringify(type)};`);
        continue;
      }
      const T = ident(type);
      lines.push(`export const ${pid}_options: Plain<${T}Options> = ${JSON.stringify(p.options ?? {}, null, 2)};`);
      checked.push(`${basename(file)} panel ${String(p.id)} "${String(p.title)}": ${type} Options`);
      const custom = ((p.fieldConfig as { defaults?: { custom?: unknown } } | undefined)?.defaults?.custom ?? undefined) as unknown;
      if (spec.fieldConfig && custom !== undefined) {
        lines.push(`export const ${pid}_custom: Plain<${T}FieldConfig> = ${JSON.stringify(custom, null, 2)};`);
        checked.push(`${basename(file)} panel ${String(p.id)}: ${type} FieldConfig (custom)`);
      }
      lines.push(`export const ${pid}_targets: PromTarget[] = ${JSON.stringify(p.targets ?? [], null, 2)};`);
    }
  }
  const source = [...imports, ...lines].join('\n') + '\n';
  const file = join(outDir, 'dashboards-check.ts');
  writeFileSync(file, source);
  writeFileSync(
    join(outDir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['dashboards-check.ts'],
      },
      null,
      2,
    ),
  );
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', outDir], { encoding: 'utf8', cwd: REPO });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`, file, checked };
}
