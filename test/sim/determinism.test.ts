import { describe, expect, test } from 'vitest';
import { REAL } from '../../src/sim/real.js';
import { runScenario } from '../../src/sim/scenario.js';
import { findScenario } from '../../src/sim/scenarios.js';

describe('determinism', () => {
  test('one seed, one run: two runs of a faulty scenario give identical digests, counters and output', () => {
    const spec = findScenario('churn-lossy')!;
    const run = () => {
      const lines: string[] = [];
      const r = runScenario(spec, 7, { ...REAL, log: (l) => lines.push(l) });
      return { digest: r.digest, datagrams: r.datagrams, bytes: r.bytes, violations: r.violations.list, lines };
    };
    const a = run();
    const b = run();
    expect(b).toEqual(a);
    expect(a.lines[0]).toMatch(/^scenario=churn-lossy seed=7 nodes=\d+ .*drawn: /);
  });

  test('another seed, another run', () => {
    const spec = findScenario('churn')!;
    const a = runScenario(spec, 1, REAL);
    const b = runScenario(spec, 2, REAL);
    expect(a.digest).not.toBe(b.digest);
  });
});
