/** Flows for one local Pod interface: Classifier, SpoofGuard (IP and ARP), L3Forwarding, L2ForwardingCalc. */
import { Table } from '../tables.js';
import { Priority, FromLocalRegMark, RewriteMACRegMark, OFPortFoundRegMark, TargetOFPortField } from '../fields.js';
import { act, flow, match, type Flow } from '../flow.js';
import type { NodeContext } from '../context.js';
import type { PodInterface } from '../../types.js';

export function podFlows(ctx: NodeContext, pod: PodInterface, cookie: bigint): Flow[] {
  const gwMAC = ctx.cfg.gatewayMAC;
  const flows: Flow[] = [
    flow(Table.Classifier, Priority.low, cookie, match().inPort(pod.ofPort), [
      act.loadReg(FromLocalRegMark),
      act.goto(Table.SpoofGuard),
    ]),
    flow(Table.L2ForwardingCalc, Priority.normal, cookie, match().dlDst(pod.mac), [
      act.loadRegField(TargetOFPortField, pod.ofPort),
      act.loadReg(OFPortFoundRegMark),
      act.goto(Table.AntreaPolicyIngressRule),
    ]),
  ];
  for (const ip of pod.ips) {
    flows.push(
      flow(Table.SpoofGuard, Priority.normal, cookie, match().ip().inPort(pod.ofPort).dlSrc(pod.mac).nwSrc(ip), [
        act.goto(Table.ServiceHairpin),
      ]),
      flow(Table.SpoofGuard, Priority.normal, cookie, match().arp().inPort(pod.ofPort).arpSpa(ip).arpSha(pod.mac), [
        act.goto(Table.ARPResponder),
      ]),
      // Traffic from the tunnel or DNATed by a Service: rewrite the MACs for the local Pod.
      flow(Table.L3Forwarding, Priority.normal, cookie, match().ip().reg(RewriteMACRegMark).nwDst(ip), [
        act.setMac('dl_src', gwMAC),
        act.setMac('dl_dst', pod.mac),
        act.goto(Table.L3DecTTL),
      ]),
    );
  }
  return flows;
}
