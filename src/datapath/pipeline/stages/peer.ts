/**
 * Flows for one peer Node: the ARP responder entry for its gateway (so gw0's onlink route resolves to the global
 * virtual MAC) and the L3Forwarding entry for its Pod CIDR: through the tunnel in encap, through gw0 and the host's
 * routes in noEncap.
 */
import { Table } from '../tables.js';
import { GLOBAL_VIRTUAL_MAC, Priority } from '../fields.js';
import { act, flow, match, type Flow } from '../flow.js';
import type { NodeContext } from '../context.js';
import type { PeerNode } from '../../types.js';
import { cidrHost, formatIpv4, parseCidr } from '../../net/addr.js';

export function peerGatewayIP(peer: PeerNode): string {
  return peer.gatewayIP ?? formatIpv4(cidrHost(parseCidr(peer.podCIDR), 1));
}

export function peerFlows(ctx: NodeContext, peer: PeerNode, cookie: bigint): Flow[] {
  const gwMAC = ctx.cfg.gatewayMAC;
  const cidr = parseCidr(peer.podCIDR);
  const flows: Flow[] = [];
  if (ctx.encap) {
    flows.push(
      flow(Table.ARPResponder, Priority.normal, cookie, match().arp().arpTpa(peerGatewayIP(peer)).arpOp(1), [
        act.move('dl_src', 'dl_dst'),
        act.setMac('dl_src', GLOBAL_VIRTUAL_MAC),
        act.set('arp_op', 2),
        act.move('arp_sha', 'arp_tha'),
        act.setMac('arp_sha', GLOBAL_VIRTUAL_MAC),
        act.move('arp_spa', 'arp_tpa'),
        act.setIp('arp_spa', peerGatewayIP(peer)),
        act.inPort(),
      ]),
      flow(Table.L3Forwarding, Priority.normal, cookie, match().ip().nwDst(cidr), [
        act.setMac('dl_src', gwMAC),
        act.setMac('dl_dst', GLOBAL_VIRTUAL_MAC),
        act.setIp('tun_dst', peer.nodeIP),
        act.goto(Table.L3DecTTL),
      ]),
    );
  } else {
    flows.push(
      flow(Table.L3Forwarding, Priority.normal, cookie, match().ip().nwDst(cidr), [
        act.setMac('dl_dst', gwMAC),
        act.goto(Table.L2ForwardingCalc),
      ]),
    );
  }
  return flows;
}
