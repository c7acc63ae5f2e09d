/**
 * `make demo`: a 200-node kelips cluster in the simulator (real protocol core, real codec, virtual clock), a few
 * simulated minutes, some files published and looked up, and a readable summary. Runs in well under 30 s.
 */
import { resolveConfig } from '../core/config.js';
import { randInt, SeededRng } from '../core/rng.js';
import { LookupStatus, type CoreEvent } from '../core/types.js';
import { Cluster, SlotState } from './cluster.js';
import { Faults } from './faults.js';
import { PERFECT_LINKS } from './network.js';
import { REAL } from './real.js';
import { Samples } from './stats.js';

const NODES = 200;
const GROUPS = 14;
const SEED = Number(process.env.KELIPS_DEMO_SEED ?? 2026);
const MINUTES = 3;

const FILES = [
  'photos/2025/alps/IMG_0412.jpg', 'photos/2025/alps/IMG_0413.jpg', 'music/bach/goldberg-aria.flac', 'music/nina-simone/feeling-good.mp3',
  'datasets/taxi/2024-01.parquet', 'datasets/taxi/2024-02.parquet', 'models/resnet50.onnx', 'models/whisper-small.bin',
  'docs/kelips-iptps03.pdf', 'docs/design.md', 'backups/db/2025-11-20.tar.zst', 'backups/db/2025-11-21.tar.zst',
  'video/talks/kelips-intro.mp4', 'logs/edge-7/2025-11-21.log.gz', 'src/linux-6.12.tar.xz', 'iso/debian-13-amd64.iso',
  'genomes/hg38.fa.gz', 'maps/osm/europe.pbf', 'fonts/inter-variable.woff2', 'books/sicp.epub',
];

function main(): void {
  const started = Date.now();
  const config = resolveConfig({ groups: GROUPS }, 'lan');
  const links = { ...PERFECT_LINKS, delayMinMs: 0.1, linkSpreadMs: 0.4, jitterMs: 0.2, lossRate: 0.01 };
  const cluster = new Cluster({ seed: SEED, config, links, ...REAL });
  const faults = new Faults(cluster, SEED);
  const rng = new SeededRng(SEED);
  process.stdout.write(`kelips demo: seed=${SEED} nodes=${NODES} groups=${GROUPS} preset=lan (gossip every ${config.gossipIntervalMs} ms) ` +
    `links: ${links.delayMinMs}-${links.delayMinMs + links.linkSpreadMs + links.jitterMs} ms one way, ${links.lossRate * 100}% loss; ${MINUTES} simulated minutes\n\n`);

  const results: { asker: string; name: string; status: string; hops: number; latencyMs: number; where: string }[] = [];
  const pending = new Map<string, string>();
  cluster.observers.push({
    onEvent(slot: number, ev: CoreEvent): void {
      if (ev.type !== 'lookup-done') return;
      const key = `${slot}:${ev.result.id}`;
      const name = pending.get(key) ?? ev.result.name;
      pending.delete(key);
      const r = ev.result;
      results.push({
        asker: cluster.addrs[slot] as string, name, status: LookupStatus[r.status] ?? String(r.status), hops: r.hops, latencyMs: r.latencyMs,
        where: r.locations.map((l) => l.location).join(', ') || '-',
      });
    },
  });

  // Start: one founder, the rest join over 10 s through random running nodes.
  cluster.addNode([]);
  for (let i = 1; i < NODES; i++) cluster.at((i / NODES) * 10_000, () => void cluster.addNode(faults.pickLive(3)));
  // Publish at 20-40 s from random nodes.
  const owners = new Map<string, number>();
  FILES.forEach((name, i) =>
    cluster.at(20_000 + i * 1000, () => {
      const [owner] = faults.pickLive(1);
      if (owner === undefined) return;
      owners.set(name, owner);
      cluster.publish(owner, name, `http://${(cluster.addrs[owner] as string).split(':')[0]}:8080/${name}`);
    }),
  );
  // A node crashes at 60 s.
  let crashed = -1;
  cluster.at(60_000, () => {
    [crashed] = faults.pickLive(1) as [number];
    faults.crash(crashed);
  });
  // Look every file up from a random node at 100-120 s.
  FILES.forEach((name, i) =>
    cluster.at(100_000 + i * 1000, () => {
      let asker = randInt(rng, NODES);
      while (!cluster.isLive(asker)) asker = randInt(rng, NODES);
      const id = cluster.lookup(asker, name);
      pending.set(`${asker}:${id}`, name);
    }),
  );
  cluster.runUntil(MINUTES * 60_000);

  // Summary.
  const live: number[] = [];
  for (let i = 0; i < cluster.size; i++) if (cluster.state[i] === SlotState.Running) live.push(i);
  process.stdout.write(`cluster: ${live.length} nodes running of ${cluster.size} started (1 crashed at 60 s: ${cluster.addrs[crashed]})\n\n`);
  process.stdout.write('group  members  view size seen by its members (min/median/max)  complete views  nodes with all contacts\n');
  for (let g = 0; g < GROUPS; g++) {
    const members = live.filter((s) => cluster.group[s] === g);
    const views = new Samples();
    let complete = 0;
    let contactsOk = 0;
    for (const s of members) {
      const n = cluster.node(s);
      views.add(n.groupSize);
      if (members.every((m) => m === s || n.memberState(cluster.addrs[m] as string) !== null)) complete++;
      let ok = true;
      for (let h = 0; h < GROUPS; h++) if (h !== g && n.contactAddrs(h).length < config.contactsPerGroup) ok = false;
      if (ok) contactsOk++;
    }
    process.stdout.write(
      `${String(g).padStart(5)}  ${String(members.length).padStart(7)}  ${`${views.percentile(0)}/${views.percentile(50)}/${views.max()}`.padStart(46)}  ${`${complete}/${members.length}`.padStart(14)}  ${`${contactsOk}/${members.length}`.padStart(23)}\n`,
    );
  }
  const crashedAddr = cluster.addrs[crashed] as string;
  const stillListed = live.filter((s) => cluster.node(s).memberState(crashedAddr) !== null).length;
  process.stdout.write(`\nthe crashed node is still listed by ${stillListed} running nodes (fail timeout ${cluster.node(live[0] as number).currentTimeouts().failMs / 1000} s)\n\n`);

  process.stdout.write('lookups (at 100-120 s, each from a random node):\n');
  const lat = new Samples();
  let found = 0;
  for (const r of results) {
    if (r.status === 'Found') found++;
    lat.add(r.latencyMs);
    process.stdout.write(`  ${r.name.padEnd(36)} from ${r.asker.padEnd(17)} ${r.status.padEnd(11)} hops=${r.hops} ${r.latencyMs.toFixed(2).padStart(7)} ms  ${r.where}\n`);
  }
  const c = cluster.counters;
  const nodeSeconds = NODES * MINUTES * 60;
  process.stdout.write(
    `\n${found}/${results.length} found; latency p50 ${lat.percentile(50).toFixed(2)} ms, p99 ${lat.percentile(99).toFixed(2)} ms\n` +
      `traffic: ${c.datagramsSent} datagrams, ${(c.bytesSent / 1e6).toFixed(1)} MB; ${(c.bytesSent / nodeSeconds).toFixed(0)} bytes and ${(c.datagramsSent / nodeSeconds).toFixed(1)} datagrams per node per second; largest datagram ${c.largestDatagram} B\n` +
      `wall time ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

main();
