#!/usr/bin/env node
/** `kelips-ctl`: see src/cli/ctl.ts and `kelips-ctl --help`. */
import { runCtl } from './ctl.js';

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
