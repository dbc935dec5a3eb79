/**
 * Plays the kubelets of the local cluster's Nodes: a Pod whose network the agent has wired (it has `status.podIP`)
 * is marked Running and Ready; a host-network Pod takes its Node's address and runs at once.
 */
import type { Node, Pod, PodCondition } from '../../apis/core.js';
import { nowTimestamp } from '../../apiserver/objects.js';
import { gvr } from '../../apiserver/registry.js';
import { cacheKey, splitKey } from '../../client/cache.js';
import type { SharedInformerFactory } from '../../client/factory.js';
import type { ApiClient } from '../../client/types.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { Stoppable } from '../../features/modules.js';
import type { Logger } from '../../util/log.js';

export function nodeInternalIp(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

const conditionTypes = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'] as const;

export function startKubelets(client: ApiClient, informers: SharedInformerFactory, logger: Logger): Stoppable {
  const log = logger.child({ controller: 'kubelet' });
  const nodes = informers.informerFor<Node>(gvr.nodes);
  const pods = informers.informerFor<Pod>(gvr.pods);
  const queue = new WorkQueue<string>({ name: 'kubelet' });
  const enqueue = (p: Pod) => queue.add(cacheKey(p.metadata.namespace, p.metadata.name ?? ''));
  pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });

  const sync = async (key: string) => {
    const pod = pods.get(key);
    if (!pod?.spec.nodeName || pod.metadata.deletionTimestamp) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const node = nodes.getByName(undefined, pod.spec.nodeName);
    if (!node) return;
    const hostIP = nodeInternalIp(node);
    const status: NonNullable<Pod['status']> = {};
    if (pod.spec.hostNetwork && hostIP && !pod.status?.podIP) {
      status.podIP = hostIP;
      status.podIPs = [{ ip: hostIP }];
    }
    const wired = Boolean(pod.status?.podIP ?? status.podIP);
    if (!wired) return;
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (phase === 'Running' && ready && pod.status?.hostIP === hostIP) return;
    const at = nowTimestamp();
    const conditions: PodCondition[] = conditionTypes.map((type) => ({ type, status: 'True', lastTransitionTime: at }));
    const { namespace, name } = splitKey(key);
    await client
      .resource<Pod>(gvr.pods)
      .inNamespace(namespace ?? 'default')
      .patch(name, 'merge', { status: { ...status, phase: 'Running', hostIP, startTime: pod.status?.startTime ?? at, conditions } }, { subresource: 'status' });
    log.debug('Pod running', { pod: key, node: pod.spec.nodeName });
  };

  informers.start();
  const workers = runWorkers(queue, 2, sync, { logger: log });
  return {
    async stop() {
      queue.shutDown();
      await workers;
    },
  };
}
