/**
 * Plays kube-scheduler for the local cluster: binds each Pod without `spec.nodeName` to the schedulable Node that
 * matches its `nodeSelector` and runs the fewest Pods (ties by name, so placement is reproducible).
 */
import type { Node, Pod } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { cacheKey, splitKey } from '../../client/cache.js';
import type { SharedInformerFactory } from '../../client/factory.js';
import type { ApiClient } from '../../client/types.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { Stoppable } from '../../features/modules.js';
import { AntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

export function pickNode(pod: Pod, nodes: readonly Node[], podsOn: (node: string) => number): Node | undefined {
  const selector = (pod.spec.nodeSelector ?? {}) as Record<string, string>;
  const fits = nodes.filter(
    (n) => !n.spec?.unschedulable && Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v),
  );
  return fits
    .map((n) => ({ n, load: podsOn(n.metadata.name ?? '') }))
    .sort((a, b) => a.load - b.load || (a.n.metadata.name ?? '').localeCompare(b.n.metadata.name ?? ''))[0]?.n;
}

export function startScheduler(client: ApiClient, informers: SharedInformerFactory, logger: Logger): Stoppable {
  const log = logger.child({ controller: 'scheduler' });
  const nodes = informers.informerFor<Node>(gvr.nodes);
  const pods = informers.informerFor<Pod>(gvr.pods);
  const queue = new WorkQueue<string>({ name: 'scheduler' });
  // Bindings made but not yet seen in the cache count as load, so a burst of Pods spreads.
  const pending = new Map<string, string>();
  const enqueue = (p: Pod) => {
    if (!p.spec.nodeName) queue.add(cacheKey(p.metadata.namespace, p.metadata.name ?? ''));
  };
  pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
  nodes.addEventHandler({ onAdd: () => pods.list().forEach(enqueue) });

  const podsOn = (node: string) => {
    let count = pods.byIndex('nodeName', node).length;
    for (const [key, target] of pending) {
      if (target !== node) continue;
      // Bound (the cache counts it now) or deleted before the cache saw the binding: either way no longer pending.
      const p = pods.get(key);
      if (!p || p.spec.nodeName) pending.delete(key);
      else count++;
    }
    return count;
  };

  const sync = async (key: string) => {
    const pod = pods.get(key);
    if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp) return;
    const node = pickNode(pod, nodes.list(), podsOn);
    if (!node) {
      log.warnOnce(`unschedulable:${key}`, 'no Node fits the Pod; it stays Pending', { pod: key });
      throw new AntreaError('ERR_UNSCHEDULABLE', `no Node fits Pod ${key}`);
    }
    const { namespace, name } = splitKey(key);
    const nodeName = node.metadata.name ?? '';
    pending.set(key, nodeName);
    try {
      await client.resource<Pod>(gvr.pods).inNamespace(namespace ?? 'default').patch(name, 'merge', { spec: { nodeName } });
    } catch (err) {
      pending.delete(key);
      throw err;
    }
    log.debug('Pod bound', { pod: key, node: nodeName });
  };

  informers.start();
  const workers = runWorkers(queue, 1, sync, { logger: log, maxRetries: 1_000_000 });
  return {
    async stop() {
      queue.shutDown();
      await workers;
    },
  };
}
