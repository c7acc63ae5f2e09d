#!/usr/bin/env node
/** `kelips-ctl`: see src/cli/ctl.ts and `kelips-ctl --help`. */
import { runCtl } from './ctl.js';

// `kelips-ctl ... | head`: a closed stdout ends the command quietly, like any Unix tool.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

runCtl(process.argv.slice(2), process.env, {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kelips-ctl: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
