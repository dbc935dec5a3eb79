/**
 * The simulated Nodes of the local cluster: names, Pod CIDRs carved from the cluster CIDR, underlay addresses.
 * Deterministic, so a restarted cluster finds its Nodes as it left them.
 */
import type { Node } from '../apis/core.js';
import { AntreaError } from '../util/errors.js';
import { cidrAddress, cidrSize, formatCidr, formatIp, parseCidr } from '../util/ip.js';

export const LOCAL_CLUSTER_CIDR = '10.10.0.0/16';
export const LOCAL_NODE_CIDR_MASK = 24;
export const LOCAL_UNDERLAY_CIDR = '192.168.77.0/24';

export function localNodeName(index: number): string {
  return `node-${index + 1}`;
}

/** The Node objects of an N-Node local cluster (Pod CIDRs already set, as kube-controller-manager would). */
export function localNodes(count: number, opts: { assignPodCidrs?: boolean } = {}): Node[] {
  const cluster = parseCidr(LOCAL_CLUSTER_CIDR);
  const underlay = parseCidr(LOCAL_UNDERLAY_CIDR);
  const perNode = cidrSize(parseCidr(`0.0.0.0/${LOCAL_NODE_CIDR_MASK}`));
  const capacity = Number(cidrSize(cluster) / perNode);
  if (!Number.isInteger(count) || count < 1 || count > Math.min(capacity, 150)) {
    throw new AntreaError('ERR_INVALID_VALUE', `--nodes must be between 1 and ${Math.min(capacity, 150)}, not ${count}`, { field: 'nodes' });
  }
  return Array.from({ length: count }, (_, i) => {
    const podCidr = formatCidr({ family: 4, base: cluster.base + BigInt(i) * perNode, prefix: LOCAL_NODE_CIDR_MASK });
    const name = localNodeName(i);
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'antrea.io/local': 'true' } },
      spec: opts.assignPodCidrs === false ? {} : { podCIDR: podCidr, podCIDRs: [podCidr] },
      status: {
        addresses: [
          { type: 'InternalIP', address: formatIp(cidrAddress(underlay, BigInt(100 + i))) },
          { type: 'Hostname', address: name },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'antrea local Node' }],
      },
    } as Node;
  });
}
