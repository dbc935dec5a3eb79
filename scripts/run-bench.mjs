// `npm run bench -- NAME [args]` runs bench/NAME.ts; with no NAME it lists the benchmarks.
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [name, ...rest] = process.argv.slice(2);
if (!name) {
  const names = readdirSync('bench').filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  console.log(`usage: npm run bench -- NAME\nbenchmarks: ${names.join(', ')}`);
  process.exit(2);
}
const file = `bench/${name}.ts`;
if (!existsSync(file)) {
  console.error(`no benchmark ${file}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
