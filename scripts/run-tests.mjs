// Runs node's test runner over every *.test.ts file below the given folders (Node 20's `node --test` takes no
// globs and does not look for .ts files itself). Extra arguments after `--` go to node.
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const roots = dash === -1 ? args : args.slice(0, dash);
const nodeArgs = dash === -1 ? [] : args.slice(dash + 1);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = roots.filter((r) => existsSync(r)).flatMap((r) => (statSync(r).isDirectory() ? collect(r, []) : [r])).sort();
if (files.length === 0) {
  console.error(`no test files found under: ${roots.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// One seed for every property test in the run (see fast-check-seed.mjs): fixed unless FC_SEED says otherwise.
const DEFAULT_FC_SEED = '20261126';
const fcSeed = process.env.FC_SEED === 'random' ? String(Math.floor(Math.random() * 2 ** 31)) : (process.env.FC_SEED || DEFAULT_FC_SEED);
if (!/^-?\d+$/.test(fcSeed)) {
  console.error(`FC_SEED must be an integer or "random", not ${JSON.stringify(process.env.FC_SEED)}`);
  process.exit(2);
}
console.log(`property tests: fast-check seed ${fcSeed} (FC_SEED=random explores others)`);
const seedPreload = new URL('./fast-check-seed.mjs', import.meta.url).href;
// The spec reporter is for people; a TAP copy in a temporary file gives the counts for the closing line.
const tapDir = mkdtempSync(join(tmpdir(), 'antrea-ts-tests-'));
const tapFile = join(tapDir, 'report.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--import', seedPreload, '--test', `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...nodeArgs, ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, FC_SEED: fcSeed } },
);
const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
rmSync(tapDir, { recursive: true, force: true });
const count = (key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const passed = count('pass');
const failed = count('fail');
const skipped = count('skipped') + count('todo');
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(result.status ?? 1);
