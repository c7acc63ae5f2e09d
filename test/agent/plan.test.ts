import { describe, expect, it } from 'vitest';
import { resolveConfig, timeouts, type KelipsConfig } from '../../src/core/config.js';
import { HEAP_BYTES, paperGroups, plan, planRows, recommendGroups, type PlanInput } from '../../src/cli/plan.js';
import { checkSizing, formatChance, maxSafeGroups, minNodesFor, smallGroupRisk, SMALL_GROUP_RISK_MAX } from '../../src/cli/sizing.js';
import { runCtl } from '../../src/cli/ctl.js';

const lan = resolveConfig();
const base = { nameBytes: 32, locationBytes: 48, config: lan };

/** Every number anywhere in a value, with its path. */
function numbers(v: unknown, path = '', out: [string, number][] = []): [string, number][] {
  if (typeof v === 'number') out.push([path, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => numbers(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) numbers(x, `${path}.${k}`, out);
  return out;
}

async function ctl(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await runCtl(argv, {}, { out: (s) => out.push(s), err: (s) => out.push(s) });
  return { code, out: out.join('\n') };
}

/** A recognisable change in a warning: a flag with a value, a file count, a node count or a k bound. */
const SAYS_WHAT_TO_CHANGE = /--[a-z-]+ \d+|at most \d+ files|run at least \d+ nodes|use k <= \d+|at least \d+ nodes for k = \d+|raise [a-z-]+ to \d+/;

describe('the sizing rule (src/cli/sizing.ts)', () => {
  // Closed forms, derived by hand: with k = 2 and N >= 4 "group A < 2" and "group B < 2" are disjoint, so
  // P = 2 (1 + N) / 2^N; all groups >= 2 for N = 6, k = 3 is the multinomial 6!/(2!2!2!) / 3^6 = 90/729;
  // an empty group among 3 for N = 5: 1 - surjections/3^5 = 1 - 150/243.
  const exact: [string, number, number, number, number][] = [
    ['5 nodes, k = 2', 5, 2, 2, (2 * 6) / 32],
    ['9 nodes, k = 2', 9, 2, 2, (2 * 10) / 512],
    ['12 nodes, k = 2', 12, 2, 2, (2 * 13) / 4096],
    ['16 nodes, k = 2', 16, 2, 2, (2 * 17) / 65536],
    ['6 nodes, k = 3', 6, 3, 2, 1 - 90 / 729],
    ['5 nodes, k = 3, empty group', 5, 3, 1, 1 - 150 / 243],
    ['5 nodes, k = 3 (needs 6)', 5, 3, 2, 1],
    ['5 nodes, k = 1', 5, 1, 2, 0],
    ['1 node, k = 1', 1, 1, 2, 1],
  ];
  for (const [what, n, k, min, p] of exact)
    it(`P(some group < ${min}) for ${what} is ${p.toPrecision(4)}`, () => {
      const r = smallGroupRisk(n, k, min);
      expect(r.exact).toBe(true);
      expect(r.p).toBeCloseTo(p, 12);
    });

  it('the union bound is an upper bound within S1^2 / 2 of the exact value, and replaces it for large clusters', () => {
    // Group counts are negatively associated, so P(two given groups small) <= P(one)^2 and the second Bonferroni
    // term is at most C(k, 2) (S1 / k)^2 <= S1^2 / 2, where S1 = k P(Binomial(N, 1/k) < 2) is the union bound.
    const union = (n: number, k: number) => k * ((1 - 1 / k) ** n + (n / k) * (1 - 1 / k) ** (n - 1));
    for (const [n, k] of [
      [100, 12],
      [100, 15],
      [60, 8],
    ] as const) {
      const ex = smallGroupRisk(n, k);
      expect(ex.exact).toBe(true);
      const s1 = union(n, k);
      expect(ex.p, `N=${n} k=${k}`).toBeGreaterThan(0.001);
      expect(s1).toBeGreaterThanOrEqual(ex.p);
      expect(s1 - ex.p, `N=${n} k=${k}`).toBeLessThanOrEqual((s1 * s1) / 2);
    }
    const far = smallGroupRisk(2000, 40);
    expect(far.exact).toBe(false);
    expect(far.p).toBeCloseTo(union(2000, 40), 15);
  });

  const rule: [number, number, string[]][] = [
    [1, 1, ['too-few-nodes']],
    [2, 1, ['too-few-nodes']],
    [3, 1, []],
    [5, 1, []],
    [5, 2, ['small-group-risk']],
    [5, 3, ['small-group-risk']],
    [9, 2, ['small-group-risk']],
    [12, 2, []],
    [16, 2, []],
    [16, 4, ['small-group-risk']],
    [10, 100, ['more-groups-than-nodes']],
    [1000, 32, []],
    [1000, 100, ['small-group-risk']],
    [10_000, 100, []],
  ];
  for (const [nodes, groups, codes] of rule)
    it(`${nodes} nodes, k = ${groups}: ${codes.length === 0 ? 'fits' : codes.join(', ')}`, () => {
      const problems = checkSizing({ nodes, groups });
      expect(problems.map((p) => p.code)).toEqual(codes);
      for (const p of problems) expect(p.message).toMatch(SAYS_WHAT_TO_CHANGE);
      // The k it proposes passes for these nodes; the node count it proposes passes for this k.
      const kMax = /use k <= (\d+)/.exec(problems.map((p) => p.message).join(' '));
      if (kMax !== null && nodes >= 3) expect(checkSizing({ nodes, groups: Number(kMax[1]) })).toEqual([]);
      const nMin = /at least (\d+) nodes for k = (\d+)/.exec(problems.map((p) => p.message).join(' '));
      if (nMin !== null) expect(checkSizing({ nodes: Number(nMin[1]), groups })).toEqual([]);
    });

  it('maxSafeGroups and minNodesFor are the edges of the rule', () => {
    for (const n of [3, 12, 16, 50, 100, 400, 1000, 10_000]) {
      const k = maxSafeGroups(n);
      expect(smallGroupRisk(n, k).p, `N=${n} k=${k}`).toBeLessThanOrEqual(SMALL_GROUP_RISK_MAX);
      expect(smallGroupRisk(n, k + 1).p, `N=${n} k=${k + 1}`).toBeGreaterThan(SMALL_GROUP_RISK_MAX);
    }
    for (const k of [2, 3, 10, 32]) {
      const n = minNodesFor(k);
      expect(checkSizing({ nodes: n, groups: k })).toEqual([]);
      expect(checkSizing({ nodes: n - 1, groups: k }).map((p) => p.code)).toContain('small-group-risk');
    }
  });

  it('formats chances without exponents, Infinity or NaN', () => {
    expect([0, 1, 0.375, 0.0063476, 0.00051879, 2e-7].map(formatChance)).toEqual(['0%', '100%', '38%', '0.63%', '0.052%', '< 0.0001%']);
  });
});

describe('kelips-ctl plan math', () => {
  const paper: [number, number][] = [
    [1, 1],
    [2, 1],
    [3, 2],
    [16, 4],
    [100, 10],
    [1000, 32],
    [10_000, 100],
    [1_000_000, 1000],
  ];
  for (const [n, k] of paper) it(`the paper's k for N=${n} is round(sqrt N) = ${k}`, () => expect(paperGroups(n)).toBe(k));

  // round(sqrt N) capped by the rule: small clusters get fewer groups than sqrt(N).
  const recommended: [number, number][] = [
    [1, 1],
    [3, 1],
    [5, 1],
    [9, 1],
    [12, 2],
    [16, 2],
    [100, 10],
    [1000, 32],
    [10_000, 100],
  ];
  for (const [n, k] of recommended)
    it(`recommends k=${k} for N=${n} from the group count alone`, () => {
      expect(recommendGroups(n)).toBe(k);
      expect(checkSizing({ nodes: n, groups: k }).filter((p) => p.code !== 'too-few-nodes')).toEqual([]);
    });

  it('memory follows view N/k + contacts (c + spares)(k-1) + filetuples F/k', () => {
    const p = plan({ ...base, nodes: 10_000, files: 1_000_000, groups: 100 });
    expect(p.groups).toBe(100);
    expect(p.groupSize).toBe(100);
    expect(p.contactsPerNode).toBe((lan.contactsPerGroup + lan.candidatesPerGroup) * 99);
    expect(p.tuplesPerNode).toBe(10_000);
    expect(p.memory.viewBytes).toBe(100 * HEAP_BYTES.member);
    expect(p.memory.contactsBytes).toBe(6 * 99 * HEAP_BYTES.contact);
    expect(p.memory.filetuplesBytes).toBe(10_000 * (HEAP_BYTES.tupleBase + 80));
    expect(p.memory.publishedBytes).toBe(100 * (HEAP_BYTES.ownedBase + 80));
    const m = p.memory;
    expect(m.totalBytes).toBe(m.viewBytes + m.contactsBytes + m.filetuplesBytes + m.publishedBytes);
  });

  it('uses the core timeouts for the group size', () => {
    const p = plan({ ...base, nodes: 961, files: 0 });
    expect(p.groups).toBe(31);
    expect(p.logRounds).toBe(5);
    expect(p.timeouts).toEqual({ suspectMs: timeouts(lan, 31).suspectMs, failMs: timeouts(lan, 31).failMs });
    expect(p.timeouts.failMs).toBe(6 * 5 * 1000);
  });

  it('a lone node sends nothing in the background', () => {
    const p = plan({ ...base, nodes: 1, files: 0 });
    expect(p.bandwidth.datagramsPerSecond).toBe(0);
    expect(p.bandwidth.bytesPerSecond).toBe(0);
  });

  it('gossip costs fanout + acks + probe and its ack per round plus anti-entropy, and scales with the round length', () => {
    // Per round: 2 in-group datagrams, 2/memberRttEvery acks, one probe and its ack; anti-entropy: 2 datagrams.
    const perRound = (c: typeof lan) => c.gossipFanout + c.gossipFanout / c.memberRttEvery + 2;
    const ae = (c: typeof lan) => 2000 / c.antiEntropyIntervalMs;
    const p = plan({ ...base, nodes: 1000, files: 0 });
    expect(p.bandwidth.datagramsPerSecond).toBeCloseTo(perRound(lan) + ae(lan), 6);
    const slowCfg = resolveConfig({ gossipIntervalMs: 2000 });
    const slow = plan({ ...base, nodes: 1000, files: 0, config: slowCfg });
    expect(slow.bandwidth.datagramsPerSecond).toBeCloseTo(perRound(slowCfg) / 2 + ae(slowCfg), 6);
    expect(p.bandwidth.bytesPerSecond).toBeGreaterThan(1000);
    expect(p.bandwidth.bytesPerSecond).toBeLessThan(6 * 1428 + 1000); // no datagram over the budget
  });

  it('tuple news grows with F/k and warns when it outgrows the gossip room', () => {
    const small = plan({ ...base, nodes: 1000, files: 10_000, groups: 32 });
    const big = plan({ ...base, nodes: 1000, files: 100_000_000, groups: 32 });
    expect(big.bandwidth.tupleNewsBytesPerSecond).toBeCloseTo(small.bandwidth.tupleNewsBytesPerSecond * 10_000, 0);
    expect(small.warnings).toEqual([]);
    expect(big.bandwidth.newsLoad).toBeGreaterThan(1);
    expect(big.warnings.join()).toMatch(/gossip room/);
  });

  it('evaluates an explicit k and warns about empty groups, saying which k to use', () => {
    const p = plan({ ...base, nodes: 4, files: 0, groups: 8 });
    expect(p.groups).toBe(8);
    expect(p.groupsRecommended).toBe(1);
    expect(p.warnings.join()).toMatch(/empty; use k <= 1/);
  });
});

describe('kelips-ctl plan agrees with itself', () => {
  it('the README example (1,000 nodes, 100,000 files) recommends a k whose refreshes fit, with no warning', () => {
    const p = plan({ ...base, nodes: 1000, files: 100_000 });
    expect(p.warnings).toEqual([]);
    expect(p.bandwidth.newsLoad).toBeLessThanOrEqual(1);
    // round(sqrt N) = 32 needs more than the room, so the recommendation is raised, within the rule.
    expect(plan({ ...base, nodes: 1000, files: 100_000, groups: 32 }).bandwidth.newsLoad).toBeGreaterThan(1);
    expect(p.groups).toBeGreaterThan(32);
    expect(p.groups).toBeLessThanOrEqual(maxSafeGroups(1000));
    expect(checkSizing({ nodes: 1000, groups: p.groups })).toEqual([]);
    expect(p.recommendedBecause).toMatch(/raised from round\(sqrt\(N\)\) = 32/);
  });

  const grid: [number, number][] = [];
  for (const n of [1, 2, 3, 5, 9, 12, 16, 50, 100, 400, 1000, 10_000, 1_000_000]) for (const f of [0, 100, 100_000, 10_000_000]) grid.push([n, f]);
  grid.push([100_000_000, 1e12]);
  const FLAG_KEYS: Record<string, keyof KelipsConfig> = {
    'filetuple-refresh-ms': 'filetupleRefreshMs',
    'filetuple-ttl-ms': 'filetupleTtlMs',
    'gossip-fanout': 'gossipFanout',
    'view-max': 'viewMax',
    'filetuples-max': 'filetuplesMax',
    'published-max': 'publishedMax',
  };
  it(`for ${grid.length} (nodes, files) pairs: the recommended k passes the rule, every warning says what to change, every figure is finite`, () => {
    let warned = 0;
    for (const [nodes, files] of grid) {
      const p = plan({ ...base, nodes, files });
      expect(p.groups, `${nodes}/${files}`).toBe(p.groupsRecommended);
      expect(p.problems.map((x) => x.code).filter((c) => c !== 'too-few-nodes'), `${nodes}/${files}`).toEqual([]);
      for (const w of p.warnings) {
        expect(w, `${nodes}/${files}`).toMatch(SAYS_WHAT_TO_CHANGE);
        // Every setting it proposes is one the agent accepts (with the others it proposes alongside).
        const patch: Partial<KelipsConfig> = {};
        for (const m of w.matchAll(/(?:--|raise )([a-z-]+) (?:to )?(\d+)/g)) if (FLAG_KEYS[m[1]!]) (patch as Record<string, number>)[FLAG_KEYS[m[1]!]!] = Number(m[2]);
        expect(() => resolveConfig({ ...lan, ...patch }), `${nodes}/${files}: ${w}`).not.toThrow();
        const k = /use k >= (\d+)|--groups (\d+)/.exec(w);
        if (k !== null) expect(checkSizing({ nodes, groups: Number(k[1] ?? k[2]) }), w).toEqual([]);
      }
      warned += p.warnings.length;
      for (const [path, x] of numbers(p)) expect(Number.isFinite(x), `${nodes}/${files} ${path} = ${x}`).toBe(true);
    }
    // The grid reaches configurations that cannot fit (so the check on warnings above ran).
    expect(warned).toBeGreaterThan(0);
  });

  // Each change a news-room warning proposes, applied alone, makes that warning go away.
  const overloaded: [string, number, number, number | undefined][] = [
    ['1,000 nodes, 100,000 files, k = 32', 1000, 100_000, 32],
    ['400 nodes, 100,000 files', 400, 100_000, undefined],
    ['10,000 nodes, 1,000,000 files', 10_000, 1_000_000, undefined],
  ];
  for (const [what, nodes, files, groups] of overloaded)
    it(`${what}: every proposed change fits`, () => {
      const input: PlanInput = { ...base, nodes, files, groups };
      const w = plan(input).warnings.find((x) => /gossip room/.test(x));
      expect(w).toBeDefined();
      const changes: [string, (i: PlanInput) => PlanInput][] = [];
      const flag = (name: string, key: keyof KelipsConfig) => {
        const m = new RegExp(`--${name} (\\d+)`).exec(w!);
        if (m !== null) changes.push([`--${name} ${m[1]}`, (i) => ({ ...i, config: resolveConfig({ ...i.config, [key]: Number(m[1]), ...ttlFor(key, Number(m[1]), w!) }) })]);
      };
      flag('filetuple-refresh-ms', 'filetupleRefreshMs');
      flag('gossip-fanout', 'gossipFanout');
      const g = /--groups (\d+)/.exec(w!);
      if (g !== null) changes.push([`--groups ${g[1]}`, (i) => ({ ...i, groups: Number(g[1]) })]);
      const f = /at most (\d+) files/.exec(w!);
      if (f !== null) changes.push([`${f[1]} files`, (i) => ({ ...i, files: Number(f[1]) })]);
      expect(changes.length).toBeGreaterThanOrEqual(2);
      for (const [name, apply] of changes) {
        const after = plan(apply(input));
        expect(after.bandwidth.newsLoad, name).toBeLessThanOrEqual(1);
        expect(after.warnings.filter((x) => /gossip room/.test(x)), name).toEqual([]);
      }
    });

  it('plan --nodes 10 --files 1 --groups 100 prints no Infinity or NaN, and says which k to use', async () => {
    const t = await ctl('plan', '--nodes', '10', '--files', '1', '--groups', '100');
    expect(t.code).toBe(0);
    expect(t.out).not.toMatch(/Infinity|NaN/);
    expect(t.out).toMatch(/^warning: more groups \(100\) than nodes \(10\).*use k <= 1$/m);
    const j = await ctl('plan', '--nodes', '10', '--files', '1', '--groups', '100', '--json');
    expect(j.out).not.toMatch(/Infinity|NaN|null/);
    for (const [path, x] of numbers(JSON.parse(j.out))) expect(Number.isFinite(x), path).toBe(true);
  });

  it('plan prints the chance of a small group and the rule', async () => {
    const t = await ctl('plan', '--nodes', '16', '--files', '10');
    expect(t.out).toMatch(/^groups \(k\): +2 \(recommended: lowered from round\(sqrt\(N\)\) = 4/m);
    expect(t.out).toMatch(/^small groups: +chance that some group starts with < 2 members: 0\.052% \(rule: at most 1%, so k <= 2\); < 3: 0\.42%$/m);
    expect(t.out).not.toMatch(/^warning/m);
    const rows = planRows(plan({ ...base, nodes: 16, files: 10 }), 1000, 'lan').rows;
    expect(rows.map(([k]) => k)).toContain('small groups');
  });

  it('plan --nodes 1000 --files 100000 (README) prints no warning; with --groups 32 it warns and names each change', async () => {
    const t = await ctl('plan', '--nodes', '1000', '--files', '100000');
    expect(t.out).not.toMatch(/^warning/m);
    const w = await ctl('plan', '--nodes', '1000', '--files', '100000', '--groups', '32');
    expect(w.out).toMatch(/^warning: at k = 32, tuple refreshes need \d+% of the gossip room .*change one: --groups \d+ \(the recommendation\); --filetuple-refresh-ms \d+ or more/m);
    // The change it names, given to plan, fits.
    const refresh = /--filetuple-refresh-ms (\d+)/.exec(w.out)![1]!;
    const fixed = await ctl('plan', '--nodes', '1000', '--files', '100000', '--groups', '32', '--filetuple-refresh-ms', refresh);
    expect(fixed.code).toBe(0);
    expect(fixed.out).not.toMatch(/^warning/m);
  });
});

/** A refresh above the TTL comes with the TTL the warning names. */
function ttlFor(key: keyof KelipsConfig, _value: number, warning: string): Partial<KelipsConfig> {
  const m = /--filetuple-ttl-ms (\d+)/.exec(warning);
  return key === 'filetupleRefreshMs' && m !== null ? { filetupleTtlMs: Number(m[1]) } : {};
}
