/**
 * promtool's unit tests of the rules (test/deploy/rules/kelips-rules.test.yml): lookup shares counted apart
 * (found / not found / unavailable), the found-share drop alert, and the canary alerts firing on synthetic
 * series. Needs promtool (`make setup-system`).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './lib/expressions.js';
import { requireBinary } from './lib/prometheus.js';

describe('alerting and recording rules, unit-tested with promtool', () => {
  it('promtool test rules passes', () => {
    requireBinary('promtool');
    const r = spawnSync('promtool', ['test', 'rules', join(REPO, 'test/deploy/rules/kelips-rules.test.yml')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
