/** Where `antrea local` keeps its state and how clients find the cluster. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

/** The per-user default state directory: `$XDG_STATE_HOME/antrea-ts/local`, else `~/.local/state/antrea-ts/local`. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'antrea-ts', 'local');
}

export function kubeconfigPath(stateDir: string): string {
  return join(stateDir, 'kubeconfig');
}

/**
 * The kubeconfig a client uses: `--kubeconfig`, else `KUBECONFIG` (its first entry), else the default local
 * cluster's. Undefined when none exists.
 */
export function findKubeconfig(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string): string | undefined {
  if (flag) return resolve(cwd, flag);
  const fromEnv = env.KUBECONFIG?.split(':').find(Boolean);
  if (fromEnv) return resolve(cwd, fromEnv);
  const local = kubeconfigPath(defaultStateDir(env));
  return existsSync(local) ? local : undefined;
}
