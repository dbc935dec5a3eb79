/**
 * Egress (Antrea 1.5, reference/ovs-pipeline.md section 9). The common flows, present while any Egress IP is
 * known: L3Forwarding (70) sends traffic from local Pods (p190) and tunnelled traffic for the outside (p190, dst MAC
 * rewritten to the gateway) to SNAT (71), except what stays inside the cluster (p200 bypasses: the local Pod CIDR
 * without L3 rewrite, the Node's own IP, each peer Node's transport IP, the except CIDRs). Per Egress IP, table 71:
 * on the IP's Node, new connections from its local Pods (→ 80) and those tunnelled to the IP (→ 72) get the SNAT
 * mark (and the source MAC that carries it to the host, see snatMarkMac); elsewhere its local Pods' packets are
 * tunnelled to the IP. A new tunnelled connection for no local IP is
 * dropped; the miss goes on to 80 (the host's default masquerade).
 */
import { Table } from '../tables.js';
import { FromLocalRegMark, FromTunnelRegMark, GLOBAL_VIRTUAL_MAC, NotRewriteMACRegMark, Priority } from '../fields.js';
import { act, flow, match, type Flow } from '../flow.js';
import type { NodeContext } from '../context.js';
import type { EgressSnat, PeerNode } from '../../types.js';
import { parseCidr, parseIpv4 } from '../../net/addr.js';
import { AntreaError } from '../../../util/errors.js';

/** pkt_mark bits that carry the SNAT mark (Antrea's snatPktMarkRange, mask 0xff). */
export const SNAT_MARK_MASK = 0xff;

/**
 * The source MAC a marked packet carries to the host, `0a:a5:4e:00:00:<mark>` (locally administered, unicast).
 * Why a second signal: OVS's kernel datapath hands pkt_mark to the host stack as skb->mark, but the userspace
 * (netdev) datapath writes the frame to the gateway's tap and the mark is lost, so a host rule matching the mark
 * never fires. The frame's own bytes do reach the host: there the OVS executor turns this MAC back into the mark
 * (nftables, src/datapath/ovs/hostnat.ts) before its SNAT-by-mark rule runs. The flows stay the same on every
 * datapath; the gateway MAC stays the destination, so the host accepts the frame.
 */
export const SNAT_MARK_MAC_PREFIX = '0a:a5:4e:00:00';

export function snatMarkMac(mark: number): string {
  if (!Number.isInteger(mark) || mark < 1 || mark > SNAT_MARK_MASK) throw new AntreaError('ERR_DATAPATH_INVALID', `SNAT mark ${mark} is not in 1..${SNAT_MARK_MASK}`, { field: 'mark' });
  return `${SNAT_MARK_MAC_PREFIX}:${mark.toString(16).padStart(2, '0')}`;
}

export function egressCommonFlows(ctx: NodeContext, peers: Iterable<PeerNode>, exceptCIDRs: Iterable<string>, cookie: bigint): Flow[] {
  const gwMAC = ctx.cfg.gatewayMAC;
  const toL2 = [act.goto(Table.L2ForwardingCalc)];
  const flows: Flow[] = [
    flow(Table.L3Forwarding, Priority.normal, cookie, match().ip().reg(NotRewriteMACRegMark).nwDst(ctx.podCIDR), toL2),
    flow(Table.L3Forwarding, Priority.normal, cookie, match().ip().reg(FromLocalRegMark).nwDst(ctx.cfg.nodeIP), toL2),
    flow(Table.L3Forwarding, Priority.low, cookie, match().ip().reg(FromLocalRegMark), [act.goto(Table.SNAT)]),
    flow(Table.L3Forwarding, Priority.low, cookie, match().ip().reg(FromTunnelRegMark), [act.setMac('dl_dst', gwMAC), act.goto(Table.SNAT)]),
    flow(Table.SNAT, Priority.low, cookie, match().ip().ctState('+new+trk').reg(FromTunnelRegMark), []),
    flow(Table.SNAT, Priority.miss, cookie, match(), [act.goto(Table.L2ForwardingCalc)]),
  ];
  const seen = new Set<string>([ctx.cfg.nodeIP]);
  for (const peer of peers) {
    if (seen.has(peer.nodeIP)) continue;
    seen.add(peer.nodeIP);
    flows.push(flow(Table.L3Forwarding, Priority.normal, cookie, match().ip().reg(FromLocalRegMark).nwDst(peer.nodeIP), toL2));
  }
  for (const cidr of new Set(exceptCIDRs)) {
    flows.push(flow(Table.L3Forwarding, Priority.normal, cookie, match().ip().reg(FromLocalRegMark).nwDst(parseCidr(cidr)), toL2));
  }
  return flows;
}

export function egressFlows(ctx: NodeContext, e: EgressSnat, cookie: bigint): Flow[] {
  const flows: Flow[] = [];
  const ports = [...new Set(e.podOfPorts)].sort((a, b) => a - b);
  if (e.mark !== undefined) {
    const mark = act.set('pkt_mark', e.mark, SNAT_MARK_MASK);
    const markMac = act.setMac('dl_src', snatMarkMac(e.mark));
    flows.push(flow(Table.SNAT, Priority.normal, cookie, match().ip().ctState('+new+trk').field('tun_dst', parseIpv4(e.egressIP)), [mark, markMac, act.goto(Table.L3DecTTL)]));
    for (const port of ports) {
      flows.push(flow(Table.SNAT, Priority.normal, cookie, match().ip().ctState('+new+trk').inPort(port), [mark, markMac, act.goto(Table.L2ForwardingCalc)]));
    }
  } else {
    for (const port of ports) {
      flows.push(
        flow(Table.SNAT, Priority.normal, cookie, match().ip().inPort(port), [
          act.setMac('dl_src', ctx.cfg.gatewayMAC),
          act.setMac('dl_dst', GLOBAL_VIRTUAL_MAC),
          act.setIp('tun_dst', e.egressIP),
          act.goto(Table.L3DecTTL),
        ]),
      );
    }
  }
  return flows;
}
