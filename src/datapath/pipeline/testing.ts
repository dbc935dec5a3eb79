/** Fixtures shared by the datapath tests and benches: Node configs and Pods laid out like ovs-pipeline.md's examples. */
import type { NodeConfig, PeerNode, PodInterface } from '../types.js';
import { formatIpv4, formatMac, macForIp, parseIpv4 } from '../net/addr.js';

/** Node n (1-based): IP 192.168.77.(10+n), Pod CIDR 10.10.(n-1).0/24, gateway .1 with MAC 0a:00:00:00:0n:01. */
export function nodeConfig(n: number, mode: NodeConfig['trafficEncapMode'] = 'encap', tunnelType: NodeConfig['tunnelType'] = 'geneve'): NodeConfig {
  const hex = n.toString(16).padStart(2, '0');
  return {
    nodeName: `node${n}`,
    nodeIP: `192.168.77.${10 + n}`,
    podCIDR: `10.10.${n - 1}.0/24`,
    gatewayIP: `10.10.${n - 1}.1`,
    gatewayMAC: `0a:00:00:00:${hex}:01`,
    trafficEncapMode: mode,
    tunnelType,
  };
}

export function peerOf(cfg: NodeConfig): PeerNode {
  return { nodeName: cfg.nodeName, nodeIP: cfg.nodeIP, podCIDR: cfg.podCIDR, gatewayIP: cfg.gatewayIP };
}

/** The i-th Pod (i ≥ 0) of a Node: IP = CIDR base + 2 + i, OF port 3 + i. */
export function podOn(cfg: NodeConfig, i: number, namespace = 'default', name?: string): PodInterface {
  const base = parseIpv4(cfg.podCIDR.split('/')[0] as string);
  const ip = (base + 2 + i) >>> 0;
  const podName = name ?? `pod-${cfg.nodeName}-${i}`;
  return {
    namespace,
    name: podName,
    interfaceName: `${podName.slice(0, 8)}-${i}`,
    ofPort: 3 + i,
    ips: [formatIpv4(ip)],
    mac: formatMac(macForIp(ip)),
  };
}
