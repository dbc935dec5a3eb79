/**
 * Pod networking: this agent owns its Node's Pod CIDR(s). For each Pod scheduled here it allocates an address per
 * family, plugs the Pod's interface into the datapath (OF port, MAC, addresses), and only then writes
 * `status.podIP(s)`, which tells the kubelet the Pod's network is ready. A deleted or terminated Pod is unplugged
 * and its address freed. After a restart the agent restores every address from the Pods it finds, and every OF
 * port from the datapath, before it allocates anything, so nothing is ever handed out twice.
 */
import { isPodTerminal, podIPsOf, type Node, type Pod } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { WorkQueue } from '../../client/workqueue.js';
import { runWorkers } from '../../client/workers.js';
import { cacheKey, splitKey } from '../../client/cache.js';
import { defineModule } from '../../features/modules.js';
import { AntreaError, describeError } from '../../util/errors.js';
import { formatCidr, formatIp, parseCidr, type IpCidr } from '../../util/ip.js';
import type { AgentContext } from '../context.js';
import { PodIpAllocator } from './ipam.js';
import { OfPortAllocator, podInterfaceName, podMac } from './ports.js';

export function nodePodCidrs(node: Node): IpCidr[] {
  const texts = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  return texts.map((t, i) => parseCidr(t, `spec.podCIDRs[${i}]`));
}


/** Host-network Pods use the Node's address; the CNI never sees them. */
const usesPodNetwork = (pod: Pod) => !pod.spec?.hostNetwork;


export interface PodNetworkState {
  podCIDRs: string[];
  gateways: string[];
  pods: Record<string, { ips: string[]; ofPort: number | undefined; interface: string }>;
  usage: Record<number, { used: number; capacity: number }>;
}

export const podNetwork = defineModule<AgentContext>({
  name: 'podnetwork',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'podnetwork' });
    const pods = ctx.informers.informerFor<Pod>(gvr.pods, { fieldSelector: `spec.nodeName=${ctx.nodeName}` });
    const nodes = ctx.informers.informerFor<Node>(gvr.nodes, { fieldSelector: `metadata.name=${ctx.nodeName}` });
    const queue = new WorkQueue<string>({ name: 'podnetwork' });
    const ports = new OfPortAllocator();
    let allocator: PodIpAllocator | undefined;

    ctx.expose('/podnetwork', (): PodNetworkState => {
      const state: PodNetworkState = { podCIDRs: [], gateways: [], pods: {}, usage: {} };
      if (!allocator) return state;
      for (const pod of pods.list()) {
        const key = cacheKey(pod.metadata.namespace, pod.metadata.name ?? '');
        const owned = allocator.owned(key);
        if (owned) state.pods[key] = { ips: owned.map(formatIp), ofPort: ports.owned(key), interface: podInterfaceName(pod.metadata.namespace ?? '', pod.metadata.name ?? '') };
      }
      return { ...state, podCIDRs: allocator.cidrs().map(formatCidr), gateways: allocator.gateways().map(formatIp), usage: allocator.usage() };
    });
    ctx.addReadinessCheck('podnetwork', () => allocator !== undefined);

    /** Restores addresses from the API and OF ports from the datapath; unplugs what no live Pod owns any more. */
    const restore = async (node: Node): Promise<PodIpAllocator> => {
      const a = new PodIpAllocator(nodePodCidrs(node));
      const live = new Set<string>();
      for (const pod of pods.list()) {
        if (!usesPodNetwork(pod) || isPodTerminal(pod)) continue;
        const key = cacheKey(pod.metadata.namespace, pod.metadata.name ?? '');
        live.add(key);
        for (const c of a.restore(key, podIPsOf(pod))) log.error('Pod address conflict found while restoring allocations', { ...c });
      }
      for (const iface of await ctx.node.pods()) {
        const key = `${iface.namespace}/${iface.name}`;
        if (live.has(key)) ports.restore(key, iface.ofPort);
        else {
          await ctx.datapath.removePod(iface.namespace, iface.name);
          log.info('unplugged the interface of a Pod that is gone', { pod: key });
        }
      }
      log.info('Pod network ready', { podCIDRs: a.cidrs().map(formatCidr), restoredPods: live.size });
      return a;
    };

    const sync = async (key: string): Promise<void> => {
      if (!allocator) return;
      const { namespace, name } = splitKey(key);
      if (!namespace) throw new AntreaError('ERR_INTERNAL', `Pod key ${key} has no namespace`);
      const pod = pods.get(key);
      if (!pod || isPodTerminal(pod) || pod.metadata.deletionTimestamp || !usesPodNetwork(pod)) {
        if (ports.owned(key) !== undefined) await ctx.datapath.removePod(namespace, name);
        ports.release(key);
        const freed = allocator.release(key);
        if (freed.length > 0) log.debug('Pod unplugged', { pod: key, ips: freed.map(formatIp) });
        return;
      }
      const ips = allocator.allocate(key).map(formatIp);
      const v4 = ips.filter((ip) => !ip.includes(':'));
      await ctx.datapath.upsertPod({
        namespace,
        name,
        interfaceName: podInterfaceName(namespace, name),
        ofPort: ports.allocate(key),
        ips: v4,
        mac: podMac(v4[0] ?? '0.0.0.0'),
      });
      if (pod.status?.podIP === ips[0] && podIPsOf(pod).join(',') === ips.join(',')) return;
      await ctx.client
        .resource<Pod>(gvr.pods)
        .inNamespace(namespace)
        .patch(name, 'merge', { status: { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } }, { subresource: 'status' });
      log.debug('Pod plugged', { pod: key, ips });
    };

    const enqueue = (pod: Pod) => queue.add(cacheKey(pod.metadata.namespace, pod.metadata.name ?? ''));
    pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    ctx.informers.start();
    // Nothing is allocated until every Pod of this Node is known: restoring from a partial list could hand out an
    // address that a Pod not yet seen already holds.
    let stopped = false;
    void Promise.all([pods.waitForSync(), nodes.waitForSync()])
      .then(async () => {
        const node = nodes.getByName(undefined, ctx.nodeName);
        if (stopped || !node) return;
        allocator = await restore(node);
        for (const pod of pods.list()) enqueue(pod);
      })
      .catch((err: unknown) => log.error('Pod network did not start', { error: describeError(err) }));
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
