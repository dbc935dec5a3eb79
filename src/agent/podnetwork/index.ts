/**
 * Pod networking, control side: this agent owns its Node's Pod CIDR(s), gives each Pod scheduled here an address
 * (one per family), writes it to `status.podIP(s)`, and frees it when the Pod is deleted or has terminated. After a
 * restart it restores every allocation from the Pods it finds before it allocates anything, so no address is ever
 * handed out twice.
 */
import type { Node, Pod } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { WorkQueue } from '../../client/workqueue.js';
import { runWorkers } from '../../client/workers.js';
import { cacheKey, splitKey } from '../../client/cache.js';
import type { Informer } from '../../client/informer.js';
import { defineModule } from '../../features/modules.js';
import { AntreaError, describeError } from '../../util/errors.js';
import { formatCidr, formatIp, parseCidr, type IpCidr } from '../../util/ip.js';
import type { AgentContext } from '../context.js';
import { PodIpAllocator } from './ipam.js';

export function nodePodCidrs(node: Node): IpCidr[] {
  const texts = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  return texts.map((t, i) => parseCidr(t, `spec.podCIDRs[${i}]`));
}

const isTerminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Host-network Pods use the Node's address; the CNI never sees them. */
const usesPodNetwork = (pod: Pod) => !pod.spec?.hostNetwork;

export interface PodNetworkState {
  podCIDRs: string[];
  gateways: string[];
  allocations: Record<string, string[]>;
  usage: Record<number, { used: number; capacity: number }>;
}

export const podNetwork = defineModule<AgentContext>({
  name: 'podnetwork',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'podnetwork' });
    const nodes = ctx.informers.informerFor<Node>(gvr.nodes, { fieldSelector: `metadata.name=${ctx.nodeName}` });
    const pods = ctx.informers.informerFor<Pod>(gvr.pods, { fieldSelector: `spec.nodeName=${ctx.nodeName}` });
    const queue = new WorkQueue<string>({ name: 'podnetwork' });
    let allocator: PodIpAllocator | undefined;

    ctx.expose('/podnetwork', (): PodNetworkState | { podCIDRs: [] } => {
      if (!allocator) return { podCIDRs: [] };
      const allocations: Record<string, string[]> = {};
      for (const pod of pods.list()) {
        const key = cacheKey(pod.metadata.namespace, pod.metadata.name ?? '');
        const owned = allocator.owned(key);
        if (owned) allocations[key] = owned.map(formatIp);
      }
      return { podCIDRs: allocator.cidrs().map(formatCidr), gateways: allocator.gateways().map(formatIp), allocations, usage: allocator.usage() };
    });
    ctx.addReadinessCheck('podnetwork', () => allocator !== undefined);

    /** Builds the allocator once the Node has a Pod CIDR, restoring every address already given out. */
    const initAllocator = (node: Node): void => {
      if (allocator) return;
      const cidrs = nodePodCidrs(node);
      if (cidrs.length === 0) {
        log.warnOnce('no-pod-cidr', 'the Node has no Pod CIDR yet; Pods here get no address until it has one', { node: ctx.nodeName });
        return;
      }
      const a = new PodIpAllocator(cidrs);
      for (const pod of pods.list()) {
        if (!usesPodNetwork(pod) || isTerminal(pod)) continue;
        const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => Boolean(ip));
        if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
        for (const c of a.restore(cacheKey(pod.metadata.namespace, pod.metadata.name ?? ''), ips)) {
          log.error('Pod address conflict found while restoring allocations', { ...c });
        }
      }
      allocator = a;
      log.info('Pod CIDR ready', { podCIDRs: cidrs.map(formatCidr), restored: Object.keys(a.usage()).length ? a.usage() : {} });
      for (const pod of pods.list()) queue.add(cacheKey(pod.metadata.namespace, pod.metadata.name ?? ''));
    };

    const sync = async (key: string): Promise<void> => {
      if (!allocator) return;
      const pod = pods.get(key);
      if (!pod || isTerminal(pod) || pod.metadata.deletionTimestamp) {
        const freed = allocator.release(key);
        if (freed.length > 0) log.debug('released Pod addresses', { pod: key, ips: freed.map(formatIp) });
        return;
      }
      if (!usesPodNetwork(pod)) return;
      const ips = allocator.allocate(key).map(formatIp);
      const current = (pod.status?.podIPs ?? []).map((p) => p.ip);
      if (pod.status?.podIP === ips[0] && current.join(',') === ips.join(',')) return;
      const { namespace, name } = splitKey(key);
      if (!namespace) throw new AntreaError('ERR_INTERNAL', `Pod key ${key} has no namespace`);
      await ctx.client
        .resource<Pod>(gvr.pods)
        .inNamespace(namespace)
        .patch(name, 'merge', { status: { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } }, { subresource: 'status' });
      log.debug('Pod addresses written', { pod: key, ips });
    };

    watchPods(pods, queue);
    ctx.informers.start();
    // Allocation starts only once every Pod of this Node is known: restoring from a partial list could hand out an
    // address that a Pod not yet seen already holds.
    let stopped = false;
    void Promise.all([pods.waitForSync(), nodes.waitForSync()]).then(
      () => {
        if (stopped) return;
        nodes.addEventHandler({ onAdd: (node) => initAllocator(node), onUpdate: (_old, node) => initAllocator(node) });
      },
      (err: unknown) => log.error('Pod and Node caches did not sync', { error: describeError(err) }),
    );
    const workers = runWorkers(queue, 2, sync, { logger: log });
    return {
      async stop() {
        stopped = true;
        queue.shutDown();
        await workers.catch((err: unknown) => log.error('workers ended with an error', { error: describeError(err) }));
      },
    };
  },
});

function watchPods(pods: Informer<Pod>, queue: WorkQueue<string>): void {
  const enqueue = (pod: Pod) => queue.add(cacheKey(pod.metadata.namespace, pod.metadata.name ?? ''));
  pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
}
