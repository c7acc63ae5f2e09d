/** docs/AGENT.md stays true: every option with its env var (and the protocol knobs' defaults), every metric. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, OPTIONS } from '../../src/agent/config.js';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { idleMetricsSource } from './metrics-source.js';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'AGENT.md'), 'utf8');

describe('docs/AGENT.md', () => {
  it('documents every option with its environment variable', () => {
    for (const o of OPTIONS) expect(doc, o.name).toContain(`| \`--${o.name}\` | \`${envName(o.name)}\` |`);
  });

  it('shows the current default of every protocol knob', () => {
    for (const o of OPTIONS.filter((x) => x.core !== undefined && x.name !== 'cluster' && x.name !== 'groups')) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`--${o.name}\` |`));
      expect(row?.split('|')[3]?.trim(), o.name).toBe(o.shown);
    }
  });

  it('lists every kelips_ metric the agent registers', async () => {
    const m = new AgentMetrics(
      idleMetricsSource(),
      { defaultMetrics: false },
    );
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names.length).toBeGreaterThan(20);
    for (const n of names) expect(doc, n).toContain(`| \`${n}\` |`);
  });
});
