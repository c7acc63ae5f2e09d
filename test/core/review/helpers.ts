/** Reproductions of a review of the "not found is a promise" change, kept as regression tests (MiniNet, exact). */
import { groupOfName, groupOfNode } from '../../../src/core/hash.js';
import type { Address, LookupResult } from '../../../src/core/types.js';
import { LookupStatus } from '../../../src/core/types.js';
import { addr, MiniNet } from '../harness.js';
export { addr, MiniNet };
export function byGroup(n: number, k: number, from = 0): number[][] {
  const out: number[][] = Array.from({ length: k }, () => []);
  for (let i = from; i < from + n; i++) out[groupOfNode(addr(i), k)]!.push(i);
  return out;
}
export function nameIn(group: number, k: number, tag: string, skip = 0): string {
  for (let i = 0; ; i++) if (groupOfName(`${tag}${i}`, k) === group && skip-- <= 0) return `${tag}${i}`;
}
export function namesIn(group: number, k: number, tag: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (groupOfName(`${tag}${i}`, k) === group) out.push(`${tag}${i}`);
  return out;
}
export function start(net: MiniNet, ids: number[]): void {
  for (const i of ids) {
    net.add(addr(i), i === ids[0] ? [] : [addr(ids[0]!)]);
    net.run(net.now + 100);
  }
  net.run(net.now + 30_000);
}
export function ask(net: MiniNet, asker: Address, name: string): void {
  const n = net.nodes.get(asker)!;
  n.lookup(name, net.now);
  net.flush(asker, n);
}
export function askUntil(net: MiniNet, askers: Address[], names: string[], until: number, everyMs = 250): LookupResult[] {
  const from = net.events.length;
  while (net.now < until) {
    for (const a of askers) for (const name of names) ask(net, a, name);
    net.run(net.now + everyMs);
  }
  net.run(net.now + 3_000);
  const out: LookupResult[] = [];
  for (const x of net.events.slice(from)) if (x.e.type === 'lookup-done' && names.includes(x.e.result.name)) out.push(x.e.result);
  return out;
}
export function tally(rs: LookupResult[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of rs) t[LookupStatus[r.status]] = (t[LookupStatus[r.status]] ?? 0) + 1;
  return t;
}
