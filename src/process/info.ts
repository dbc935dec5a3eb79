/**
 * Publishes a process's AntreaControllerInfo / AntreaAgentInfo: created or updated at start, refreshed by a
 * heartbeat, so antctl finds the process's API and sees it is alive.
 */
import type { GroupVersionResource, KubeObject } from '../apis/meta.js';
import { isApiError } from '../apiserver/types.js';
import type { ApiClient } from '../client/types.js';
import type { Stoppable } from '../features/modules.js';
import { describeError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export const ANTREA_TS_VERSION = '0.1.0';

export async function publishInfo<T extends KubeObject>(
  client: ApiClient,
  gvr: GroupVersionResource,
  build: () => T,
  logger: Logger,
  heartbeatMs = 60_000,
): Promise<Stoppable> {
  const resource = client.resource<T>(gvr);
  const write = async () => {
    const want = build();
    const name = want.metadata.name ?? '';
    const current = await resource.tryGet(name);
    if (!current) {
      try {
        await resource.create(want);
        return;
      } catch (err) {
        if (!isApiError(err, 'AlreadyExists')) throw err;
      }
    }
    await resource.retryUpdate(name, (cur) => ({ ...want, metadata: { ...want.metadata, resourceVersion: cur.metadata.resourceVersion } }));
  };
  await write();
  const timer = setInterval(() => {
    write().catch((err: unknown) => logger.warn('heartbeat update failed', { resource: gvr.resource, error: describeError(err) }));
  }, heartbeatMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
