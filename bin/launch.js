// Runs a CLI entry point. In an installed package that is the compiled dist/. In a development checkout it is the
// TypeScript in src/ through tsx, unless `npm run build` has compiled dist/ since the last change to src/: the
// compiled form starts several times faster, and what runs is always what src/ says.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.built');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function distIsCurrent() {
  if (!existsSync(stamp)) return false;
  return newestSource(join(root, 'src')) <= statSync(stamp).mtimeMs;
}

/** Imports a CLI module (it exports `main`). */
export async function launch(entry) {
  const source = join(root, 'src', `${entry}.ts`);
  if (existsSync(source) && !distIsCurrent()) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return await import(pathToFileURL(source).href);
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('tsx')) throw err;
    }
  }
  return import(pathToFileURL(join(root, 'dist', `${entry}.js`)).href);
}
