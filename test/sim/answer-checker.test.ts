/** The answer checker: a "not found" for a settled tuple of a live owner is a violation; every other one is not. */
import { describe, expect, test } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { groupOfName } from '../../src/core/hash.js';
import { LookupStatus, type LookupResult } from '../../src/core/types.js';
import { AnswerChecker, disseminationBoundRounds } from '../../src/sim/answer-checker.js';
import { Violations } from '../../src/sim/checkers.js';
import { Cluster } from '../../src/sim/cluster.js';
import { PERFECT_LINKS } from '../../src/sim/network.js';
import { FakeNode } from './fake-node.js';
import { jsonCodec } from './json-codec.js';

const NAME = 'datasets/a.parquet';

function setup() {
  const config = resolveConfig({ groups: 3 }, 'local');
  const c = new Cluster({ seed: 5, config, links: PERFECT_LINKS, factory: (o) => new FakeNode(o), codec: jsonCodec });
  const v = new Violations();
  const answers = new AnswerChecker(c, v);
  c.observers.push(answers);
  for (let i = 0; i < 12; i++) c.addNode(i === 0 ? [] : [0]);
  const g = groupOfName(NAME, config.groups);
  const inGroup = [...Array(c.size).keys()].filter((s) => c.group[s] === g);
  const outside = [...Array(c.size).keys()].filter((s) => c.group[s] !== g);
  const owner = outside[0]!;
  const member = inGroup[0]!;
  const asker = outside[1]!;
  const round = config.gossipIntervalMs;
  const boundMs = disseminationBoundRounds(inGroup.length) * round;
  const stored = (slot: number) => c.command(slot, (n) => (n as FakeNode).emit({ type: 'tuple-stored', name: NAME, owner: c.addrs[owner]!, fresh: true }));
  const answer = (status: LookupStatus, latencyMs = 1) => {
    const result: LookupResult = { id: 1, name: NAME, status, locations: [], hops: 1, attempts: 1, latencyMs, answeredBy: c.addrs[member]! };
    c.command(asker, (n) => (n as FakeNode).emit({ type: 'lookup-done', result }));
  };
  return { c, v, answers, owner, member, asker, round, boundMs, stored, answer, inGroup };
}

describe('answer checker', () => {
  test('the dissemination bound: ceil(log2 G) + 4 rounds', () => {
    expect([1, 2, 3, 4, 5, 8, 9, 100].map(disseminationBoundRounds)).toEqual([4, 5, 6, 6, 7, 7, 8, 11]);
  });

  test('not found for a tuple stored longer ago than the bound, owner running: wrong-not-found', () => {
    const { c, v, answers, owner, member, boundMs, stored, answer } = setup();
    c.publish(owner, NAME, 'nfs://a');
    stored(member);
    c.runUntil(c.now + boundMs + 10);
    answer(LookupStatus.NotFound);
    expect(v.byKind['wrong-not-found']).toBe(1);
    expect(answers.counts).toMatchObject({ answers: 1, notFound: 1, wrongNotFound: 1 });
    expect(v.list[0]!.detail).toContain(NAME);
    // Found and unavailable answers are never wrong-not-found.
    answer(LookupStatus.Found);
    answer(LookupStatus.Unavailable);
    expect(v.count).toBe(1);
  });

  test('not settled yet (stored less than the bound before the lookup was asked), or never stored: no violation', () => {
    const { c, v, answers, owner, member, boundMs, stored, answer } = setup();
    c.publish(owner, NAME, 'nfs://a');
    c.runUntil(c.now + 10 * boundMs);
    answer(LookupStatus.NotFound); // never stored: the publish failed
    stored(member);
    c.runUntil(c.now + boundMs - 50);
    answer(LookupStatus.NotFound);
    c.runUntil(c.now + 100);
    answer(LookupStatus.NotFound, 100); // answered after the bound, but asked before it
    expect(v.count).toBe(0);
    expect(answers.counts.notFoundUnsettled).toBe(3);
  });

  test('owner crashed, or unpublished: not found is the right answer; a restart with the tuple on disk starts over', () => {
    const { c, v, answers, owner, member, boundMs, stored, answer } = setup();
    c.publish(owner, NAME, 'nfs://a');
    stored(member);
    c.runUntil(c.now + boundMs + 10);
    c.crash(owner);
    answer(LookupStatus.NotFound);
    expect(answers.counts.notFoundNoOwner).toBe(1);
    c.restart(owner, [0]);
    answer(LookupStatus.NotFound);
    expect(answers.counts.notFoundUnsettled).toBe(1);
    stored(member);
    c.runUntil(c.now + boundMs + 10);
    answer(LookupStatus.NotFound);
    expect(v.byKind['wrong-not-found']).toBe(1);
    c.unpublish(owner, NAME);
    answer(LookupStatus.NotFound);
    expect(answers.counts.notFoundNoOwner).toBe(2);
    expect(v.count).toBe(1);
  });
});
