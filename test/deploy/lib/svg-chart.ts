/**
 * A small SVG line-chart renderer for Prometheus range data: stacked panels sharing one time axis, with
 * event markers (kills and restarts). No dependencies; the output opens in any browser.
 */

export interface ChartSeries {
  name: string;
  /** [unix seconds, value]; NaN or missing values break the line. */
  points: [number, number][];
  color?: string;
  /** Draw dashed (e.g. a smoothed or recorded version of another series). */
  dashed?: boolean;
}

export interface ChartPanel {
  title: string;
  unit?: 'count' | 'ratio' | 'seconds' | 'ops';
  series: ChartSeries[];
  /** Fixed y range; otherwise 0..max (padded). */
  yMin?: number;
  yMax?: number;
}

export interface ChartMarker {
  t: number;
  label: string;
  kind: 'kill' | 'term' | 'start' | 'other';
}

export interface Chart {
  title: string;
  /** One line, or several (each drawn on its own line under the title). */
  subtitle?: string | string[];
  start: number;
  end: number;
  panels: ChartPanel[];
  markers?: ChartMarker[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const MARKER_COLOR: Record<ChartMarker['kind'], string> = { kill: '#d62728', term: '#ff7f0e', start: '#2ca02c', other: '#7f7f7f' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Nice" tick step for a range (1, 2, 5 x 10^n). */
export function niceStep(range: number, target: number): number {
  if (!(range > 0)) return 1;
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
  return nice * mag;
}

export function formatValue(v: number, unit: ChartPanel['unit']): string {
  if (unit === 'ratio') return `${+(v * 100).toFixed(1)}%`;
  if (unit === 'seconds') {
    if (v === 0) return '0';
    if (v < 1e-3) return `${(v * 1e6).toFixed(0)}µs`;
    if (v < 1) return `${+(v * 1e3).toFixed(1)}ms`;
    return `${+v.toFixed(2)}s`;
  }
  if (Math.abs(v) >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

function formatTime(t: number, start: number): string {
  const s = Math.round(t - start);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function renderSvg(chart: Chart): string {
  const width = 1000;
  const left = 80;
  const right = 190;
  const subtitle = chart.subtitle === undefined ? [] : Array.isArray(chart.subtitle) ? chart.subtitle : [chart.subtitle];
  const top = 60 + 14 * Math.max(0, subtitle.length - 1);
  const panelH = 170;
  const gap = 50;
  const plotW = width - left - right;
  const height = top + chart.panels.length * (panelH + gap) + 30;
  const span = Math.max(1, chart.end - chart.start);
  const x = (t: number) => left + ((t - chart.start) / span) * plotW;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(chart.title)}</text>`);
  subtitle.forEach((line, i) => out.push(`<text x="${left}" y="${42 + 14 * i}" fill="#555">${esc(line)}</text>`));

  const xStep = niceStep(span, 10);
  chart.panels.forEach((panel, pi) => {
    const y0 = top + pi * (panelH + gap) + 18;
    const values = panel.series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => Number.isFinite(v));
    let yMin = panel.yMin ?? Math.min(0, ...values);
    let yMax = panel.yMax ?? (values.length ? Math.max(...values) : 1);
    if (panel.yMax === undefined) yMax = yMax <= yMin ? yMin + 1 : yMax + (yMax - yMin) * 0.08;
    if (!(yMax > yMin)) yMax = yMin + 1;
    if (!Number.isFinite(yMin)) yMin = 0;
    const y = (v: number) => y0 + panelH - ((v - yMin) / (yMax - yMin)) * panelH;
    out.push(`<g class="panel" data-title="${esc(panel.title)}">`);
    out.push(`<text x="${left}" y="${y0 - 6}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="#fafafa" stroke="#bbb"/>`);
    // y grid and labels
    const yStep = niceStep(yMax - yMin, 4);
    for (let v = Math.ceil(yMin / yStep) * yStep; v <= yMax + 1e-12; v += yStep) {
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#e3e3e3"/>`);
      out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#444">${esc(formatValue(v, panel.unit))}</text>`);
    }
    // x grid and labels (elapsed m:ss)
    for (let t = chart.start; t <= chart.end + 1e-9; t += xStep) {
      const xx = x(t).toFixed(1);
      out.push(`<line x1="${xx}" y1="${y0}" x2="${xx}" y2="${y0 + panelH}" stroke="#eee"/>`);
      out.push(`<text x="${xx}" y="${y0 + panelH + 14}" text-anchor="middle" fill="#444">${formatTime(t, chart.start)}</text>`);
    }
    // markers
    for (const m of chart.markers ?? []) {
      if (m.t < chart.start || m.t > chart.end) continue;
      const xx = x(m.t).toFixed(1);
      out.push(
        `<line x1="${xx}" y1="${y0}" x2="${xx}" y2="${y0 + panelH}" stroke="${MARKER_COLOR[m.kind]}" stroke-dasharray="3,3" stroke-opacity="0.7"><title>${esc(m.label)}</title></line>`,
      );
    }
    // series
    panel.series.forEach((s, si) => {
      const color = s.color ?? PALETTE[si % PALETTE.length];
      const segs: string[] = [];
      let cur: string[] = [];
      let prevT = -Infinity;
      const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
      const gapLimit = Math.max(5, xStep / 2);
      for (const [t, v] of sorted) {
        if (!Number.isFinite(v) || t - prevT > gapLimit) {
          if (cur.length) segs.push(cur.join(' '));
          cur = [];
        }
        if (Number.isFinite(v)) cur.push(`${x(t).toFixed(1)},${y(Math.min(Math.max(v, yMin), yMax)).toFixed(1)}`);
        prevT = t;
      }
      if (cur.length) segs.push(cur.join(' '));
      for (const seg of segs) {
        const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
        if (seg.includes(' ')) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6"${dash} points="${seg}"/>`);
        else {
          const [cx, cy] = seg.split(',');
          out.push(`<circle cx="${cx}" cy="${cy}" r="1.8" fill="${color}"/>`);
        }
      }
      const ly = y0 + 12 + si * 16;
      out.push(
        `<line x1="${left + plotW + 12}" y1="${ly - 6}" x2="${left + plotW + 26}" y2="${ly - 6}" stroke="${color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="4,2"' : ''}/>`,
      );
      out.push(`<text x="${left + plotW + 30}" y="${ly - 4}" fill="#222">${esc(s.name)}</text>`);
    });
    if (panel.series.length === 0 || values.length === 0)
      out.push(`<text x="${left + plotW / 2}" y="${y0 + panelH / 2}" text-anchor="middle" fill="#999">no data</text>`);
    out.push('</g>');
  });
  // marker legend
  const ly = height - 12;
  let lx = left;
  for (const [kind, label] of [
    ['kill', 'kill -9 (crash)'],
    ['term', 'SIGTERM (graceful leave)'],
    ['start', 'agent (re)started'],
  ] as const) {
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${MARKER_COLOR[kind]}" stroke-dasharray="3,3"/>`);
    out.push(`<text x="${lx + 22}" y="${ly}" fill="#444">${label}</text>`);
    lx += 190;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
