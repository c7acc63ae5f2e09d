/**
 * Logs: pino JSON lines on stdout, one line per event worth an operator's time. Nothing is logged per datagram at
 * info level: lookups, publishes, stored and expired tuples, contacts added and RTT-driven contact swaps are
 * debug. Every line has `event` (a stable name to filter on) and `msg` (for humans).
 *
 * | level | events |
 * |-------|--------|
 * | info  | started, joined, synced, member-joined, member-rejoined, member-refuted, member-removed (left), contact-replaced (unresponsive, stale, removed, left), leaving, stopped |
 * | warn  | member-suspected, member-removed (failed), cluster-mismatch, incarnation-bumped, local-stall, small UDP buffer, config-warning |
 * | error | persist failures, encode failures (a bug), crash |
 *
 * An error that stops the start is not logged: kelips prints it once, on stderr (src/cli/kelips.ts).
 * | debug | lookup-done, publish-done, tuple-stored, tuple-expired, contact-added, contact-replaced (better-rtt), wire rejects |
 */
import pino, { type Logger } from 'pino';
import { LookupStatus, type CoreEvent } from '../core/types.js';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

const STATUS_NAMES: Record<number, string> = {
  [LookupStatus.Found]: 'found',
  [LookupStatus.NotFound]: 'not_found',
  [LookupStatus.NotReady]: 'not_ready',
  [LookupStatus.Unavailable]: 'unavailable',
};

/** Events logged at debug only: skipped without a call into pino when debug is off (the per-request path). */
const DEBUG_ONLY = new Set<CoreEvent['type']>(['lookup-done', 'publish-done', 'tuple-stored', 'tuple-expired', 'contact-added']);

/** A logEvent bound to `log` that checks the level once: the log level is fixed for the life of the agent. */
export function eventLogger(log: Logger): (e: CoreEvent) => void {
  const debug = log.isLevelEnabled('debug');
  return (e) => {
    if (!debug && DEBUG_ONLY.has(e.type)) return;
    logEvent(log, e);
  };
}

/** Turn one core event into (at most) one log line. */
export function logEvent(log: Logger, e: CoreEvent): void {
  switch (e.type) {
    case 'joined':
      log.info({ event: 'joined', seed: e.viaSeed, members: e.members }, `joined the cluster through ${e.viaSeed}`);
      return;
    case 'synced':
      log.info(
        { event: 'synced', from: e.from, tuples: e.tuples, members: e.members, how: e.how },
        e.how === 'pulled'
          ? `holding the group's state: pulled from ${e.from} (${e.members} members, ${e.tuples} tuples)`
          : e.how === 'recovered'
            ? `holding the group's state: recovered (${e.tuples} tuples after the owners re-published)`
            : 'holding the group\'s state: founded the cluster',
      );
      return;
    case 'authority-dropped':
      log.warn(
        { event: 'authority-dropped', reason: e.reason },
        `no longer vouching for this group's state (${e.reason === 'stalled' ? 'this process stalled' : e.reason === 'declared-dead' ? 'the group declared this node dead' : 'founder met a node older than itself: the cluster existed before it'}): pulling it again`,
      );
      return;
    case 'recovering':
      log.warn(
        { event: 'recovering', reason: e.reason, untilMs: e.untilMs, tuples: e.tuples },
        `no member of this group holds its state (${e.reason === 'no-member' ? 'none found' : 'none that holds it answered'}): ` +
          `asked every owner to re-publish; answering "not ready" instead of "not found" for ${e.untilMs} ms`,
      );
      return;
    case 'group-reset':
      log.info(
        { event: 'group-reset', group: e.group, origin: e.origin, republished: e.republished },
        `group ${e.group} lost its state (${e.origin} recovering): re-publishing ${e.republished} tuples there`,
      );
      return;
    case 'join-pending':
      log.warn(
        { event: 'join-pending', attempts: e.attempts, waitedMs: e.waitedMs, seeds: e.seeds },
        e.seeds === 0
          ? `no seed address to join through yet (${e.attempts} attempts over ${Math.round(e.waitedMs / 1000)} s): not ready; retrying`
          : `no seed answered ${e.attempts} join requests over ${Math.round(e.waitedMs / 1000)} s: not ready; retrying with backoff`,
      );
      return;
    case 'member-joined':
      log.info({ event: 'member-joined', member: e.addr, incarnation: e.incarnation }, `member ${e.addr} joined`);
      return;
    case 'member-rejoined':
      log.info(
        { event: 'member-rejoined', member: e.addr, incarnation: e.incarnation, previous: e.previous },
        `member ${e.addr} rejoined (incarnation ${e.previous} -> ${e.incarnation})`,
      );
      return;
    case 'member-suspected':
      log.warn(
        { event: 'member-suspected', member: e.addr, incarnation: e.incarnation, silentMs: e.silentMs },
        `member ${e.addr} suspected: silent for ${e.silentMs} ms`,
      );
      return;
    case 'member-refuted':
      log.info({ event: 'member-refuted', member: e.addr, incarnation: e.incarnation }, `member ${e.addr} is alive again`);
      return;
    case 'member-removed':
      if (e.reason === 'failed')
        log.warn({ event: 'member-removed', member: e.addr, incarnation: e.incarnation, reason: e.reason }, `member ${e.addr} removed: failed`);
      else log.info({ event: 'member-removed', member: e.addr, incarnation: e.incarnation, reason: e.reason }, `member ${e.addr} left`);
      return;
    case 'contact-added':
      log.debug({ event: 'contact-added', group: e.group, contact: e.addr }, `contact ${e.addr} added for group ${e.group}`);
      return;
    case 'contact-replaced': {
      const fields = { event: 'contact-replaced', group: e.group, old: e.old, contact: e.addr, reason: e.reason };
      const msg = `contact ${e.old} for group ${e.group} replaced by ${e.addr ?? 'nobody'} (${e.reason})`;
      if (e.reason === 'better-rtt') log.debug(fields, msg);
      else log.info(fields, msg);
      return;
    }
    case 'mismatch':
      log.warn(
        { event: 'cluster-mismatch', from: e.from, cluster: e.cluster, groups: e.groups },
        `ignoring ${e.from}: it belongs to cluster "${e.cluster}" with k=${e.groups}`,
      );
      return;
    case 'incarnation-bumped':
      log.warn(
        { event: 'incarnation-bumped', incarnation: e.incarnation, reason: e.reason },
        `another node declared this one dead: refuting with incarnation ${e.incarnation}`,
      );
      return;
    case 'local-stall':
      log.warn({ event: 'local-stall', stalledMs: e.stalledMs }, `this process stalled for ${e.stalledMs} ms (paused or overloaded)`);
      return;
    case 'left':
      log.info({ event: 'leaving' }, 'leaving the cluster');
      return;
    case 'lookup-done':
      if (log.isLevelEnabled('debug')) {
        const r = e.result;
        log.debug(
          { event: 'lookup-done', name: r.name, status: STATUS_NAMES[r.status], hops: r.hops, attempts: r.attempts, latencyMs: r.latencyMs, answeredBy: r.answeredBy },
          `lookup ${r.name}: ${STATUS_NAMES[r.status]}`,
        );
      }
      return;
    case 'publish-done':
      if (log.isLevelEnabled('debug')) {
        const r = e.result;
        log.debug(
          { event: 'publish-done', name: r.name, deleted: r.deleted, status: r.status, storedAt: r.storedAt, latencyMs: r.latencyMs },
          `${r.deleted ? 'unpublish' : 'publish'} ${r.name}: ${r.status}`,
        );
      }
      return;
    case 'tuple-stored':
      log.debug({ event: 'tuple-stored', name: e.name, owner: e.owner, fresh: e.fresh }, `stored ${e.name} from ${e.owner}`);
      return;
    case 'tuple-expired':
      log.debug({ event: 'tuple-expired', name: e.name, owner: e.owner }, `tuple ${e.name} of ${e.owner} expired`);
      return;
  }
}
