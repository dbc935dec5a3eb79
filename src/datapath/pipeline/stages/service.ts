/**
 * AntreaProxy flows for one ServicePort (reference/ovs-pipeline.md section 6): a select group with one bucket per
 * Endpoint (weight 100: load reg3 = Endpoint IP, reg4[0..15] = port, resubmit to EndpointDNAT), a ServiceLB flow per
 * ClusterIP and LoadBalancer IP that marks the Endpoint as selected and jumps to the group, one EndpointDNAT flow per
 * Endpoint (commit + DNAT + ServiceCTMark), and a HairpinSNAT flow per local Endpoint. Endpoint flows are shared
 * between Services that have the same Endpoint (the compiler reference-counts identical flows).
 *
 * ClientIP session affinity: the ServiceLB flow marks "select and learn" (011), buckets resubmit to ServiceLB, where a
 * p190 flow learns a SessionAffinity flow (hard_timeout = affinity seconds, keyed on client IP, Service IP and port)
 * and marks "selected". Later connections hit the learned flow in table 40 and skip the group.
 *
 * A ServicePort with no Endpoint rejects new connections in ServiceLB (packet-in with the reject reason), as Antrea.
 *
 * Not yet: NodePort (needs proxyAll's ServiceClassifier), externalTrafficPolicy=Local groups.
 */
import { Table } from '../tables.js';
import {
  CT_ZONE, HAIRPIN_VIRTUAL_IP, Priority, EpToSelectRegMark, EpSelectedRegMark, RewriteMACRegMark, HairpinRegMark,
  ServiceCTMark, ServiceGroupIDField, EndpointIPField, EndpointPortField, EpUnionField, EpToLearnRegMark, ServiceEPStateField,
  CustomReasonField,
} from '../fields.js';
import { act, flow, match, type Flow, type Group, type Proto } from '../flow.js';
import type { ServiceFrontend, L4Protocol } from '../../types.js';
import { parseIpv4 } from '../../net/addr.js';

/** CustomReasonField bit 2: reject (reference/ovs-pipeline.md, reg0[24..28]). */
const CUSTOM_REASON_REJECT = 2;

export function protoOf(p: L4Protocol): Proto {
  return p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : 'sctp';
}

const dstPortNxm: Record<L4Protocol, string> = { TCP: 'NXM_OF_TCP_DST', UDP: 'NXM_OF_UDP_DST', SCTP: 'OXM_OF_SCTP_DST' };
const ipProto: Record<L4Protocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };

export function serviceGroup(svc: ServiceFrontend, groupId: number): Group {
  const affinity = svc.sessionAffinityTimeout !== undefined;
  return {
    id: groupId,
    type: 'select',
    buckets: svc.endpoints.map((ep, i) => ({
      id: i,
      weight: 100,
      actions: [
        act.loadRegField(EndpointIPField, parseIpv4(ep.ip)),
        act.loadRegField(EndpointPortField, ep.port),
        act.resubmit(affinity ? Table.ServiceLB : Table.EndpointDNAT),
      ],
    })),
  };
}

export function serviceFlows(svc: ServiceFrontend, groupId: number, cookie: bigint): Flow[] {
  const proto = protoOf(svc.protocol);
  const flows: Flow[] = [];
  const affinity = svc.sessionAffinityTimeout;
  for (const vip of [svc.clusterIP, ...(svc.loadBalancerIPs ?? [])]) {
    if (svc.endpoints.length === 0) {
      // No Endpoint: as Antrea, reject rather than drop, so clients fail fast (TCP RST, ICMP port unreachable) instead
      // of timing out. The reject reason goes to the controller; the packet-in's table (ServiceLB) tells the agent it
      // is a Service without Endpoints, not a policy Reject.
      flows.push(
        flow(Table.ServiceLB, Priority.normal, cookie, match().proto(proto).reg(EpToSelectRegMark).nwDst(vip).tpDst(svc.port), [
          act.loadRegField(CustomReasonField, CUSTOM_REASON_REJECT),
          act.controller(0),
        ]),
      );
      continue;
    }
    flows.push(
      flow(Table.ServiceLB, Priority.normal, cookie, match().proto(proto).reg(EpToSelectRegMark).nwDst(vip).tpDst(svc.port), [
        act.loadReg(affinity === undefined ? EpSelectedRegMark : EpToLearnRegMark),
        act.loadReg(RewriteMACRegMark),
        act.loadRegField(ServiceGroupIDField, groupId),
        act.group(groupId),
      ]),
    );
    if (affinity !== undefined) {
      flows.push(
        flow(Table.ServiceLB, Priority.low, cookie, match().proto(proto).reg(EpToLearnRegMark).nwDst(vip).tpDst(svc.port), [
          act.learn({
            table: Table.SessionAffinity,
            priority: Priority.normal,
            hardTimeout: affinity,
            cookie,
            deleteLearned: true,
            matchConst: [{ field: 'eth_type', value: 0x0800 }, { field: 'nw_proto', value: ipProto[svc.protocol] }],
            matchCopy: [{ field: 'tp_dst', nxm: dstPortNxm[svc.protocol] }, { field: 'nw_dst', nxm: 'NXM_OF_IP_DST' }, { field: 'nw_src', nxm: 'NXM_OF_IP_SRC' }],
            loads: [
              { dst: EndpointIPField, src: EndpointIPField },
              { dst: EndpointPortField, src: EndpointPortField },
              { dst: ServiceEPStateField, value: EpSelectedRegMark.value },
              { dst: RewriteMACRegMark.field, value: 1 },
            ],
          }),
          act.loadReg(EpSelectedRegMark),
          act.goto(Table.EndpointDNAT),
        ]),
      );
    }
  }
  const seen = new Set<string>();
  for (const ep of svc.endpoints) {
    const id = `${ep.ip}:${ep.port}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const epIP = parseIpv4(ep.ip);
    flows.push(
      flow(Table.EndpointDNAT, Priority.normal, cookie, match().proto(proto).regValue(EndpointIPField, epIP).regValue(EpUnionField, (EpSelectedRegMark.value << 16) | ep.port), [
        act.ct({
          commit: true,
          zone: CT_ZONE,
          table: Table.AntreaPolicyEgressRule,
          nat: { kind: 'dst', ip: epIP, port: ep.port },
          exec: [act.set('ct_mark', ServiceCTMark.value, ServiceCTMark.mask)],
        }),
      ]),
    );
  }
  const hairpin = new Set(svc.endpoints.filter((e) => e.isLocal).map((e) => e.ip));
  for (const ip of hairpin) {
    flows.push(
      flow(Table.HairpinSNAT, Priority.normal, cookie, match().ip().nwSrc(ip).nwDst(ip), [
        act.setIp('nw_src', HAIRPIN_VIRTUAL_IP),
        act.loadReg(HairpinRegMark),
        act.goto(Table.L2ForwardingOut),
      ]),
    );
  }
  return flows;
}
