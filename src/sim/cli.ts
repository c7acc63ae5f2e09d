/**
 * Replays one simulator scenario: `node dist/src/sim/cli.js --scenario NAME --seed S`. Prints the seed and every
 * drawn setting first, the fault actions as they happen, then the outcome. Exit status 0 without violations, 1 with,
 * 2 on a usage error. `--list` names the scenarios.
 */
import { runScenario } from './scenario.js';
import { findScenario, SCENARIOS } from './scenarios.js';
import { coreSupports } from './scenarios/identity.js';
import { REAL } from './real.js';

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: node dist/src/sim/cli.js --scenario NAME --seed N [--quiet]\n       node dist/src/sim/cli.js --list\n`);
  process.exit(2);
}

function main(argv: string[]): number {
  let name: string | undefined;
  let seed: number | undefined;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--list') {
      for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(22)} ${s.about}\n`);
      return 0;
    } else if (a === '--scenario') name = argv[++i];
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--quiet') quiet = true;
    else usage(`unknown argument ${a}`);
  }
  if (!name) usage('--scenario is required');
  if (seed === undefined || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) usage('--seed must be an integer from 0 to 4294967295');
  const spec = findScenario(name);
  if (!spec) usage(`unknown scenario ${name}; --list names them`);
  if (spec.needs && !coreSupports(spec.needs)) usage(`scenario ${name} needs a core feature this core lacks (${spec.needs})`);
  const started = Date.now();
  const r = runScenario(spec, seed, { ...REAL, log: quiet ? undefined : (line) => process.stdout.write(line + '\n') });
  if (quiet) process.stdout.write(r.settings + '\n');
  process.stdout.write((r.violations.count ? `FAIL: ${r.violations.count} violations\n${r.violations.format(50)}\n` : 'PASS: no violations\n') + `digest ${r.digest.toString(16)}, wall ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return r.violations.count ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
