// Runs a CLI entry point: from the TypeScript sources through tsx in a development checkout (so that what runs is
// always what is in src/), or from the compiled dist/ in an installed package.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function launch(entry) {
  const source = join(root, 'src', `${entry}.ts`);
  if (existsSync(source)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      await import(pathToFileURL(source).href);
      return;
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('tsx')) throw err;
    }
  }
  await import(pathToFileURL(join(root, 'dist', `${entry}.js`)).href);
}
