/** The Node's own parameters, validated once, that every stage reads. */
import type { NodeConfig } from '../types.js';
import { parseCidr, parseIpv4, parseMac, isIpv4, cidrContains, type Cidr } from '../net/addr.js';
import { AntreaError } from '../../util/errors.js';

export interface NodeContext {
  readonly cfg: NodeConfig;
  readonly podCIDR: Cidr;
  readonly encap: boolean;
}

export function nodeContext(cfg: NodeConfig): NodeContext {
  const field = (name: keyof NodeConfig) => ({ field: `nodeConfig.${name}`, node: cfg.nodeName });
  if (!cfg.nodeName) throw new AntreaError('ERR_DATAPATH_INVALID', 'node config has no nodeName', field('nodeName'));
  if (!isIpv4(cfg.nodeIP)) throw new AntreaError('ERR_DATAPATH_INVALID', `nodeIP "${cfg.nodeIP}" is not an IPv4 address`, field('nodeIP'));
  if (!isIpv4(cfg.gatewayIP)) throw new AntreaError('ERR_DATAPATH_INVALID', `gatewayIP "${cfg.gatewayIP}" is not an IPv4 address`, field('gatewayIP'));
  parseMac(cfg.gatewayMAC);
  const podCIDR = parseCidr(cfg.podCIDR);
  if (!cidrContains(podCIDR, parseIpv4(cfg.gatewayIP))) {
    throw new AntreaError('ERR_DATAPATH_INVALID', `gatewayIP ${cfg.gatewayIP} is outside podCIDR ${cfg.podCIDR}`, field('gatewayIP'));
  }
  if (cfg.trafficEncapMode !== 'encap' && cfg.trafficEncapMode !== 'noEncap') {
    throw new AntreaError('ERR_DATAPATH_INVALID', `trafficEncapMode "${String(cfg.trafficEncapMode)}" is not encap or noEncap`, field('trafficEncapMode'));
  }
  if (cfg.tunnelType !== 'geneve' && cfg.tunnelType !== 'vxlan') {
    throw new AntreaError('ERR_DATAPATH_INVALID', `tunnelType "${String(cfg.tunnelType)}" is not geneve or vxlan`, field('tunnelType'));
  }
  return { cfg, podCIDR, encap: cfg.trafficEncapMode === 'encap' };
}
