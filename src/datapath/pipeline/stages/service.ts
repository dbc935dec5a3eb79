/**
 * AntreaProxy flows for one ServicePort (reference/ovs-pipeline.md section 6): a select group with one bucket per
 * Endpoint (weight 100: load reg3 = Endpoint IP, reg4[0..15] = port, resubmit to EndpointDNAT), a ServiceLB flow per
 * ClusterIP and LoadBalancer IP that marks the Endpoint as selected and jumps to the group, one EndpointDNAT flow per
 * Endpoint (commit + DNAT + ServiceCTMark), and a HairpinSNAT flow per local Endpoint. Endpoint flows are shared
 * between Services that have the same Endpoint (the compiler reference-counts identical flows).
 *
 * Not yet: NodePort (needs proxyAll's ServiceClassifier), session affinity (learn into SessionAffinity),
 * externalTrafficPolicy=Local groups.
 */
import { Table } from '../tables.js';
import {
  CT_ZONE, HAIRPIN_VIRTUAL_IP, Priority, EpToSelectRegMark, EpSelectedRegMark, RewriteMACRegMark, HairpinRegMark,
  ServiceCTMark, ServiceGroupIDField, EndpointIPField, EndpointPortField, EpUnionField,
} from '../fields.js';
import { act, flow, match, type Flow, type Group, type Proto } from '../flow.js';
import type { ServiceFrontend, L4Protocol } from '../../types.js';
import { parseIpv4 } from '../../net/addr.js';

export function protoOf(p: L4Protocol): Proto {
  return p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : 'sctp';
}

export function serviceGroup(svc: ServiceFrontend, groupId: number): Group {
  return {
    id: groupId,
    type: 'select',
    buckets: svc.endpoints.map((ep, i) => ({
      id: i,
      weight: 100,
      actions: [
        act.loadRegField(EndpointIPField, parseIpv4(ep.ip)),
        act.loadRegField(EndpointPortField, ep.port),
        act.resubmit(Table.EndpointDNAT),
      ],
    })),
  };
}

export function serviceFlows(svc: ServiceFrontend, groupId: number, cookie: bigint): Flow[] {
  const proto = protoOf(svc.protocol);
  const flows: Flow[] = [];
  for (const vip of [svc.clusterIP, ...(svc.loadBalancerIPs ?? [])]) {
    flows.push(
      flow(Table.ServiceLB, Priority.normal, cookie, match().proto(proto).reg(EpToSelectRegMark).nwDst(vip).tpDst(svc.port), [
        act.loadReg(EpSelectedRegMark),
        act.loadReg(RewriteMACRegMark),
        act.loadRegField(ServiceGroupIDField, groupId),
        act.group(groupId),
      ]),
    );
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
