/** The local cluster's API over HTTP on loopback: the Kubernetes paths for kubectl and client-node. */
import { startApiServer, type ApiServer } from '../apiserver/http.js';
import type { Store } from '../apiserver/store.js';
import type { Logger } from '../util/log.js';

export async function serveLocalApi(store: Store, opts: { port?: number; host?: string; logger: Logger }): Promise<ApiServer> {
  return startApiServer({ backend: store, host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, resources: store.registry, logger: opts.logger.child({ component: 'apiserver' }) });
}
