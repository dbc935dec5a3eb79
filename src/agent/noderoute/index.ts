/**
 * Node routes (Antrea's NodeRouteController and route client): every other Node with a Pod CIDR and an address
 * becomes a peer of this Node's datapath: a tunnel destination in encap mode, a route over the underlay in noEncap
 * mode. Pod traffic leaving the cluster is masqueraded to the Node IP, unless the conf says noSNAT.
 */
import type { Node } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { PeerNode } from '../../datapath/types.js';
import { defineModule } from '../../features/modules.js';
import { describeError } from '../../util/errors.js';
import { cidrAddress, formatIp, parseCidr } from '../../util/ip.js';
import type { AgentContext } from '../context.js';

export function peerOf(node: Node): PeerNode | undefined {
  const podCIDR = node.spec?.podCIDRs?.find((c) => !c.includes(':')) ?? node.spec?.podCIDR;
  const nodeIP = node.status?.addresses?.find((a) => a.type === 'InternalIP' && !a.address.includes(':'))?.address;
  if (!podCIDR || !nodeIP || podCIDR.includes(':')) return undefined;
  return { nodeName: node.metadata.name ?? '', nodeIP, podCIDR, gatewayIP: formatIp(cidrAddress(parseCidr(podCIDR), 1n)) };
}

export const MASQUERADE_RULE = 'antrea-masquerade-pods';

export const nodeRoute = defineModule<AgentContext>({
  name: 'noderoute',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'noderoute' });
    const { nodeConfig } = ctx;
    const masquerade = { id: MASQUERADE_RULE, kind: 'Masquerade' as const, match: { srcCIDR: nodeConfig.podCIDR }, to: { ip: nodeConfig.nodeIP } };
    await ctx.datapath.apply([ctx.config.noSNAT ? { kind: 'hostNat', op: 'remove', key: MASQUERADE_RULE } : { kind: 'hostNat', op: 'upsert', rule: masquerade }]);
    const nodes = ctx.informers.informerFor<Node>(gvr.nodes);
    const queue = new WorkQueue<string>({ name: 'noderoute' });
    const installed = new Map<string, string>();
    const sync = async (name: string) => {
      if (name === ctx.nodeName) return;
      const node = nodes.getByName(undefined, name);
      const peer = node ? peerOf(node) : undefined;
      if (!peer) {
        if (installed.delete(name)) {
          await ctx.datapath.removePeerNode(name);
          log.info('peer Node removed', { peer: name });
        }
        return;
      }
      const fingerprint = JSON.stringify(peer);
      if (installed.get(name) === fingerprint) return;
      await ctx.datapath.upsertPeerNode(peer);
      installed.set(name, fingerprint);
      log.debug('peer Node installed', { peer: name, nodeIP: peer.nodeIP, podCIDR: peer.podCIDR });
    };
    const enqueue = (n: Node) => queue.add(n.metadata.name ?? '');
    nodes.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    ctx.informers.start();
    ctx.addReadinessCheck('noderoute', () => nodes.hasSynced());
    const workers = runWorkers(queue, 1, sync, { logger: log });
    return {
      async stop() {
        queue.shutDown();
        await workers.catch((err: unknown) => log.error('workers ended with an error', { error: describeError(err) }));
      },
    };
  },
});
