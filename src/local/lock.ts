/**
 * One `antrea local` per state directory: two processes writing one store would corrupt it. The lock is a file
 * holding the owner's pid, taken with O_EXCL; a lock whose process is gone (a crash) is taken over.
 */
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AntreaError } from '../util/errors.js';
import { processAlive } from '../util/process.js';

export interface StateLock {
  release(): void;
}

export function lockStateDir(dir: string): StateLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
        throw new AntreaError('ERR_STATE_IN_USE', `the state directory ${dir} is in use by another antrea local (pid ${owner}); stop it or use --state DIR`, { field: 'state' });
      }
      rmSync(path, { force: true });
    }
  }
  throw new AntreaError('ERR_STATE_IN_USE', `could not lock the state directory ${dir}`, { field: 'state' });
}
