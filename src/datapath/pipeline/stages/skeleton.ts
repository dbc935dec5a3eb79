/**
 * The Node-level flows: every table's miss entry, the conntrack stages, the Service and policy stage skeletons
 * (default allow), and the gateway's and tunnel's own flows. Feature objects (Pods, peers, Services, rules) only add
 * flows on top of these. reference/ovs-pipeline.md section 4.
 */
import { Table } from '../tables.js';
import {
  CT_ZONE, GATEWAY_OFPORT, GLOBAL_VIRTUAL_MAC, HAIRPIN_VIRTUAL_IP, Priority, TUNNEL_OFPORT,
  FromGatewayRegMark, FromLocalRegMark, FromTunnelRegMark, RewriteMACRegMark, OFPortFoundRegMark, HairpinRegMark,
  EpToSelectRegMark, EpSelectedRegMark, NotAntreaFlexibleIPAMRegMark, TargetOFPortField, CustomReasonField, CustomReasonReject,
  FromGatewayCTMark, ServiceCTMark, HostLocalSourceMark,
} from '../fields.js';
import { act, flow, match, type Flow } from '../flow.js';
import type { NodeContext } from '../context.js';

/** Flows that exist on every Node whatever its config: misses, conntrack, Service and policy skeletons. */
export function defaultFlows(cookie: bigint): Flow[] {
  const f = (table: number, priority: number, m: ReturnType<typeof match>, actions: Parameters<typeof flow>[4]) =>
    flow(table, priority, cookie, m, actions);
  const est = () => match().ip().ctState('-new+est');
  const rel = () => match().ip().ctState('-new+rel');
  const rejectBypass = () => match().ip().reg({ field: CustomReasonField, value: CustomReasonReject });
  const bypass = (table: number, priority: number, to: number): Flow[] => [
    f(table, priority, est(), [act.goto(to)]),
    f(table, priority, rel(), [act.goto(to)]),
    f(table, priority, rejectBypass(), [act.goto(to)]),
  ];
  return [
    // 0 Classification, 10 SpoofGuard, 20 ARPResponder: miss drops.
    f(Table.Classifier, Priority.miss, match(), []),
    f(Table.SpoofGuard, Priority.miss, match(), []),
    f(Table.ARPResponder, Priority.low, match().arp(), [act.normal()]),
    f(Table.ARPResponder, Priority.miss, match(), []),
    // 23 ServiceHairpin: undo the hairpin SNAT on replies.
    f(Table.ServiceHairpin, Priority.normal, match().ip().nwDst(HAIRPIN_VIRTUAL_IP), [
      act.move('nw_src', 'nw_dst'),
      act.loadReg(HairpinRegMark),
      act.goto(Table.ConntrackZone),
    ]),
    f(Table.ServiceHairpin, Priority.miss, match(), [act.goto(Table.ConntrackZone)]),
    // 30 ConntrackZone: un-DNAT of replies and re-DNAT of requests happen here.
    f(Table.ConntrackZone, Priority.normal, match().ip(), [
      act.ct({ zone: CT_ZONE, table: Table.ConntrackState, nat: { kind: 'reapply' } }),
    ]),
    // 31 ConntrackState
    f(Table.ConntrackState, Priority.normal, match().ip().ctState('-new+trk').ctMark(ServiceCTMark), [
      act.loadReg(RewriteMACRegMark),
      act.goto(Table.EgressRule),
    ]),
    f(Table.ConntrackState, Priority.low, match().ip().ctState('+inv+trk'), []),
    f(Table.ConntrackState, Priority.low, match().ip().ctState('-new+trk'), [act.goto(Table.EgressRule)]),
    f(Table.ConntrackState, Priority.miss, match(), [act.resubmit(Table.SessionAffinity), act.resubmit(Table.ServiceLB)]),
    // 40 SessionAffinity: side-effect table, marks "needs selection".
    f(Table.SessionAffinity, Priority.miss, match(), [act.loadReg(EpToSelectRegMark)]),
    // 41 ServiceLB, 42 EndpointDNAT
    f(Table.ServiceLB, Priority.miss, match(), [act.goto(Table.EndpointDNAT)]),
    f(Table.EndpointDNAT, Priority.low, match().reg(EpSelectedRegMark), [
      act.loadReg(EpToSelectRegMark),
      act.resubmit(Table.ServiceLB),
    ]),
    f(Table.EndpointDNAT, Priority.miss, match(), [act.goto(Table.AntreaPolicyEgressRule)]),
    // 45/50/60/61 egress policy skeleton: established traffic bypasses, everything else is allowed by the misses.
    ...bypass(Table.AntreaPolicyEgressRule, Priority.top, Table.EgressMetric),
    f(Table.AntreaPolicyEgressRule, Priority.miss, match(), [act.goto(Table.EgressRule)]),
    ...bypass(Table.EgressRule, Priority.high, Table.EgressMetric),
    f(Table.EgressRule, Priority.miss, match(), [act.goto(Table.EgressDefaultRule)]),
    ...bypass(Table.EgressDefaultRule, Priority.top, Table.EgressMetric),
    f(Table.EgressDefaultRule, Priority.miss, match(), [act.goto(Table.EgressMetric)]),
    f(Table.EgressMetric, Priority.miss, match(), [act.goto(Table.L3Forwarding)]),
    // 70 L3Forwarding miss, 72 IPTTLDec
    f(Table.L3Forwarding, Priority.miss, match(), [act.goto(Table.L2ForwardingCalc)]),
    f(Table.L3DecTTL, Priority.high, match().ip().reg(FromGatewayRegMark), [act.goto(Table.L2ForwardingCalc)]),
    f(Table.L3DecTTL, Priority.normal, match().ip(), [act.decTtl(), act.goto(Table.L2ForwardingCalc)]),
    f(Table.L3DecTTL, Priority.miss, match(), [act.goto(Table.L2ForwardingCalc)]),
    // 80 L2Forwarding miss
    f(Table.L2ForwardingCalc, Priority.miss, match(), [act.goto(Table.IngressMetric)]),
    // 85/90/100/101 ingress policy skeleton
    ...bypass(Table.AntreaPolicyIngressRule, Priority.top, Table.IngressMetric),
    f(Table.AntreaPolicyIngressRule, Priority.miss, match(), [act.goto(Table.IngressRule)]),
    ...bypass(Table.IngressRule, Priority.high, Table.IngressMetric),
    f(Table.IngressRule, Priority.high, match().ip().field('pkt_mark', HostLocalSourceMark.value, HostLocalSourceMark.mask), [
      act.goto(Table.ConntrackCommit),
    ]),
    f(Table.IngressRule, Priority.miss, match(), [act.goto(Table.IngressDefaultRule)]),
    ...bypass(Table.IngressDefaultRule, Priority.top, Table.IngressMetric),
    f(Table.IngressDefaultRule, Priority.miss, match(), [act.goto(Table.IngressMetric)]),
    f(Table.IngressMetric, Priority.miss, match(), [act.goto(Table.ConntrackCommit)]),
    // 105 ConntrackCommit
    f(Table.ConntrackCommit, Priority.normal, match().ip().ctState('+new+trk').reg(FromGatewayRegMark), [
      act.ct({ commit: true, zone: CT_ZONE, table: Table.HairpinSNAT, exec: [act.set('ct_mark', FromGatewayCTMark.value, FromGatewayCTMark.mask)] }),
    ]),
    f(Table.ConntrackCommit, Priority.low, match().ip().ctState('+trk').ctMark(ServiceCTMark).reg(EpSelectedRegMark), [
      act.goto(Table.HairpinSNAT),
    ]),
    f(Table.ConntrackCommit, Priority.low, match().ip().ctState('+new+trk'), [
      act.ct({ commit: true, zone: CT_ZONE, table: Table.HairpinSNAT }),
    ]),
    f(Table.ConntrackCommit, Priority.miss, match(), [act.goto(Table.HairpinSNAT)]),
    // 108 HairpinSNAT, 110 Output
    f(Table.HairpinSNAT, Priority.miss, match(), [act.goto(Table.L2ForwardingOut)]),
    f(Table.L2ForwardingOut, Priority.high, match().reg(HairpinRegMark), [act.inPort()]),
    f(Table.L2ForwardingOut, Priority.normal, match().ip().reg(OFPortFoundRegMark), [act.outputReg(TargetOFPortField)]),
    f(Table.L2ForwardingOut, Priority.miss, match(), []),
  ];
}

/** Flows for antrea-gw0 and (in encap) antrea-tun0, which depend on the Node's gateway IP and MAC. */
export function gatewayFlows(ctx: NodeContext, cookie: bigint): Flow[] {
  const { gatewayIP: gwIP, gatewayMAC: gwMAC } = ctx.cfg;
  const f = (table: number, priority: number, m: ReturnType<typeof match>, actions: Parameters<typeof flow>[4]) =>
    flow(table, priority, cookie, m, actions);
  const flows: Flow[] = [
    f(Table.Classifier, Priority.normal, match().inPort(GATEWAY_OFPORT), [act.loadReg(FromGatewayRegMark), act.goto(Table.SpoofGuard)]),
    f(Table.SpoofGuard, Priority.normal, match().ip().inPort(GATEWAY_OFPORT), [act.goto(Table.ServiceHairpin)]),
    f(Table.SpoofGuard, Priority.normal, match().arp().inPort(GATEWAY_OFPORT).arpSha(gwMAC).arpSpa(gwIP), [
      act.goto(Table.ARPResponder),
    ]),
    // Replies of connections that started at gw0 go back to the host.
    f(Table.L3Forwarding, Priority.high, match().ip().ctState('+rpl+trk').ctMark(FromGatewayCTMark).reg(FromLocalRegMark), [
      act.setMac('dl_dst', gwMAC),
      act.goto(Table.L2ForwardingCalc),
    ]),
    f(Table.L3Forwarding, Priority.normal, match().ip().reg(RewriteMACRegMark).nwDst(gwIP), [
      act.setMac('dl_dst', gwMAC),
      act.goto(Table.L2ForwardingCalc),
    ]),
    // Service traffic whose Endpoint is in no Pod CIDR leaves through gw0.
    f(Table.L3Forwarding, Priority.low, match().ip().ctState('+trk').ctMark(ServiceCTMark).reg(RewriteMACRegMark).reg(NotAntreaFlexibleIPAMRegMark), [
      act.setMac('dl_dst', gwMAC),
      act.goto(Table.L3DecTTL),
    ]),
    f(Table.L2ForwardingCalc, Priority.normal, match().dlDst(gwMAC), [
      act.loadRegField(TargetOFPortField, GATEWAY_OFPORT),
      act.loadReg(OFPortFoundRegMark),
      act.goto(Table.IngressMetric),
    ]),
  ];
  if (ctx.encap) {
    flows.push(
      f(Table.Classifier, Priority.normal, match().inPort(TUNNEL_OFPORT), [
        act.loadReg(FromTunnelRegMark),
        act.loadReg(RewriteMACRegMark),
        act.goto(Table.ConntrackZone),
      ]),
      f(Table.L3Forwarding, Priority.high, match().ip().ctState('+rpl+trk').ctMark(FromGatewayCTMark).reg(FromTunnelRegMark), [
        act.setMac('dl_dst', gwMAC),
        act.goto(Table.L2ForwardingCalc),
      ]),
      f(Table.L2ForwardingCalc, Priority.normal, match().dlDst(GLOBAL_VIRTUAL_MAC), [
        act.loadRegField(TargetOFPortField, TUNNEL_OFPORT),
        act.loadReg(OFPortFoundRegMark),
        act.goto(Table.IngressMetric),
      ]),
    );
  }
  return flows;
}
