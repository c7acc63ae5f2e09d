#!/usr/bin/env node
/**
 * `kelips`: run one agent. Exit status: 0 after a clean stop (SIGTERM/SIGINT: graceful leave, within 2 s),
 * 1 on a runtime failure (address in use, corrupt data file...), 2 on a bad option value.
 */
import { readFileSync } from 'node:fs';
import { startAgent, type Agent } from '../agent/agent.js';
import { AgentConfigError, loadConfig } from '../agent/config.js';
import { createLogger } from '../agent/logger.js';
import { CorruptFileError } from '../agent/persistence.js';
import { version } from '../agent/version.js';

/** SIGTERM to exit: the leave, the last save and the socket close must fit in this (systemd, Kubernetes). */
const STOP_DEADLINE_MS = 1800;

async function main(): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig({ argv: process.argv.slice(2), env: process.env, readFile: (p) => readFileSync(p, 'utf8') });
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`kelips: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.kind === 'help') {
    process.stdout.write(loaded.text + '\n');
    return 0;
  }
  if (loaded.kind === 'version') {
    process.stdout.write(`kelips ${version()}\n`);
    return 0;
  }
  const config = loaded.config;
  const log = createLogger(config.logLevel);
  for (const w of config.warnings) log.warn({ event: 'config-warning' }, w);

  // Signals that arrive while starting are honoured as soon as the agent is up.
  let agent: Agent | null = null;
  let signalled: string | null = null;
  const onSignal = (sig: string) => {
    if (signalled !== null) {
      log.warn({ event: 'signal', signal: sig }, `${sig} again: exiting now`);
      process.exit(0);
    }
    signalled = sig;
    log.info({ event: 'signal', signal: sig }, `${sig}: leaving the cluster and stopping`);
    const hard = setTimeout(() => {
      log.warn({ event: 'stop-timeout' }, `the graceful stop took over ${STOP_DEADLINE_MS} ms: exiting`);
      process.exit(0);
    }, STOP_DEADLINE_MS);
    hard.unref();
    if (agent !== null) void agent.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  // A failed start is reported once, on stderr like an option error (not also as a log line on stdout, where the
  // journal or a terminal would show it a second time).
  try {
    agent = await startAgent(config, log);
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`kelips: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof CorruptFileError ? err.message : `cannot start: ${(err as Error).message}`;
    process.stderr.write(`kelips: ${msg}\n`);
    return 1;
  }
  if (signalled !== null) void agent.stop().then(() => process.exit(0));
  process.on('uncaughtException', (err) => {
    log.fatal({ event: 'crash', err: err.message, stack: err.stack }, `uncaught exception: ${err.message}`);
    process.exit(1);
  });
  return -1; // keep running
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
    if (code >= 0) setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`kelips: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
