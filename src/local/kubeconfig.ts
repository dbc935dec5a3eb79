/** The kubeconfig `antrea local up` writes for its API server (plain HTTP on loopback). */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export const LOCAL_CONTEXT = 'antrea-local';

export function localKubeconfig(server: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses http:// unless TLS verification is marked skipped; kubectl accepts both.
    clusters: [{ name: LOCAL_CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: LOCAL_CONTEXT, user: {} }],
    contexts: [{ name: LOCAL_CONTEXT, context: { cluster: LOCAL_CONTEXT, user: LOCAL_CONTEXT } }],
    'current-context': LOCAL_CONTEXT,
  });
}

/** Writes atomically, so a client never reads half a file. */
export function writeKubeconfig(path: string, server: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, localKubeconfig(server), { mode: 0o600 });
  renameSync(tmp, path);
}
