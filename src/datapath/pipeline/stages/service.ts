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
 * A learned flow outlives its Endpoint (it lasts the whole timeout, 3 hours by default, and the learn flow does not
 * change when Endpoints do). kube-proxy moves a client whose Endpoint left the Service to a remaining one, so must we:
 * - Endpoint gone from every Service: its EndpointDNAT flow is gone, and the skeleton's p190 "selected but no DNAT
 *   flow" flow (Antrea's) sends the packet back to ServiceLB to select again; the learn then overwrites the stale flow.
 * - Endpoint gone from this Service but still another Service's (same ip:port): its shared p200 EndpointDNAT flow
 *   stays and would keep DNATing this Service's pinned clients to a Pod outside it. So an affinity Service's Endpoints
 *   get their own EndpointDNAT flows, qualified by the Service's group id in reg7 (which the learned flow now loads
 *   too) at p210, and the Service one p205 flow `reg7=group, selected` that selects again, above the shared p200 flows.
 * Selecting again in the pipeline was preferred to deleting stale learned flows: OVS can delete flows by match and
 * cookie, not by the Endpoint a learned flow loads, so that would mean dumping and parsing every learned flow of the
 * Service and racing new learns; the flows change with the Endpoint in the same diff, on both executors alike.
 * It cannot loop: a re-selection picks a bucket of the group, and every bucket's Endpoint has its qualified flow (they
 * are one part of the ServicePort and change together); a Service without Endpoints rejects in ServiceLB instead.
 *
 * A ServicePort with no Endpoint rejects new connections in ServiceLB (packet-in with the reject reason), as Antrea.
 *
 * The parts are built one by one (the frontend's ServiceLB flows, each Endpoint's EndpointDNAT flow and bucket, each
 * local Endpoint IP's HairpinSNAT flow) so the compiler can diff a ServicePort at Endpoint granularity: one Endpoint
 * change in a 10,000-Endpoint Service builds one flow and one bucket (compiler.ts, ServiceParts). Each bucket's id
 * derives from its Endpoint (`endpointBucketId`), so it is stable while the Endpoint stays and a restart reproduces it.
 *
 * Not yet: NodePort (needs proxyAll's ServiceClassifier), externalTrafficPolicy=Local groups.
 */
import { Table } from '../tables.js';
import {
  CT_ZONE, HAIRPIN_VIRTUAL_IP, Priority, EpToSelectRegMark, EpSelectedRegMark, RewriteMACRegMark, HairpinRegMark,
  ServiceCTMark, ServiceGroupIDField, EndpointIPField, EndpointPortField, EpUnionField, EpToLearnRegMark, ServiceEPStateField,
  CustomReasonField,
  CustomReasonReject,
} from '../fields.js';
import { act, flow, match, type Bucket, type Flow, type Proto } from '../flow.js';
import type { ServiceEndpoint, ServiceFrontend, L4Protocol } from '../../types.js';
import { parseIpv4 } from '../../net/addr.js';

/**
 * EndpointDNAT priorities of an affinity Service (see the comment at the top): its own Endpoints' flows above its
 * re-selection flow, which is above the p200 Endpoint flows every other Service shares.
 */
export const AFFINITY_ENDPOINT_PRIORITY = Priority.high;
export const AFFINITY_RESELECT_PRIORITY = Priority.normal + 5;

export function protoOf(p: L4Protocol): Proto {
  return p === 'TCP' ? 'tcp' : p === 'UDP' ? 'udp' : 'sctp';
}

const dstPortNxm: Record<L4Protocol, string> = { TCP: 'NXM_OF_TCP_DST', UDP: 'NXM_OF_UDP_DST', SCTP: 'OXM_OF_SCTP_DST' };
const ipProto: Record<L4Protocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };

/** `ip:port`: an Endpoint's identity within a ServicePort (its EndpointDNAT flow and its bucket). */
export function endpointKey(ep: Pick<ServiceEndpoint, 'ip' | 'port'>): string {
  return `${ep.ip}:${ep.port}`;
}

/**
 * The Endpoints of a ServicePort, one per `ip:port` in list order. A duplicate (the same Pod in two slices mid-update)
 * would otherwise get a second bucket, doubling its share; it is local if any copy is.
 */
export function uniqueEndpoints(endpoints: readonly ServiceEndpoint[]): Map<string, ServiceEndpoint> {
  const out = new Map<string, ServiceEndpoint>();
  for (const ep of endpoints) {
    const k = endpointKey(ep);
    const had = out.get(k);
    if (!had) out.set(k, ep);
    else if (ep.isLocal && !had.isLocal) out.set(k, { ...had, isLocal: true });
  }
  return out;
}

/** OpenFlow 1.5 bucket ids run up to OFPG15_BUCKET_MAX (0xffffff00); above are first/last/all. */
const BUCKET_ID_MAX = 0xffffff00;

/** FNV-1a, 32 bits (as the compiler's object ids). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The bucket id of an Endpoint: a hash of `ip:port`, probing upwards past ids `taken` by other Endpoints of the
 * group. Derived from the Endpoint rather than its position, so adding or removing one Endpoint leaves every other
 * bucket as it is (OVS's hash selection scores buckets by id, so their connections keep their bucket too). Only on
 * a collision (about 1% of 10,000-Endpoint groups hold one) does the id depend on which Endpoint came first.
 */
export function endpointBucketId(key: string, taken: (id: number) => boolean): number {
  let id = fnv1a32(key) % (BUCKET_ID_MAX + 1);
  while (taken(id)) id = id === BUCKET_ID_MAX ? 0 : id + 1;
  return id;
}

/** One Endpoint's bucket: load its IP and port, then EndpointDNAT (or ServiceLB, to learn affinity). */
export function endpointBucket(ep: Pick<ServiceEndpoint, 'ip' | 'port'>, affinity: boolean, id: number): Bucket {
  return {
    id,
    weight: 100,
    actions: [
      act.loadRegField(EndpointIPField, parseIpv4(ep.ip)),
      act.loadRegField(EndpointPortField, ep.port),
      act.resubmit(affinity ? Table.ServiceLB : Table.EndpointDNAT),
    ],
  };
}

/** The ServiceLB flows of a ServicePort: per VIP, select (or reject without Endpoints) and, with affinity, learn. */
export function serviceFrontendFlows(svc: ServiceFrontend, groupId: number, cookie: bigint): Flow[] {
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
          act.loadRegField(CustomReasonField, CustomReasonReject),
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
              // The group id tells EndpointDNAT which Service chose the Endpoint (its qualified flows, or re-select).
              { dst: ServiceGroupIDField, src: ServiceGroupIDField },
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
  if (affinity !== undefined) {
    // Selected (by a learned flow) for this Service, but no qualified flow of this Service has the Endpoint: it left.
    flows.push(
      flow(Table.EndpointDNAT, AFFINITY_RESELECT_PRIORITY, cookie, match().reg(EpSelectedRegMark).regValue(ServiceGroupIDField, groupId), [
        act.loadReg(EpToSelectRegMark),
        act.resubmit(Table.ServiceLB),
      ]),
    );
  }
  return flows;
}

/**
 * An Endpoint's EndpointDNAT flow: commit, DNAT to it, mark the connection as a Service's. Shared by every Service
 * without affinity that has the Endpoint; an affinity Service (`affinityGroup` = its group id) gets its own, matching
 * reg7, so that its learned flows stop at its re-selection flow once the Endpoint leaves it.
 */
export function endpointDnatFlow(protocol: L4Protocol, ep: Pick<ServiceEndpoint, 'ip' | 'port'>, cookie: bigint, affinityGroup?: number): Flow {
  const epIP = parseIpv4(ep.ip);
  const m = match().proto(protoOf(protocol)).regValue(EndpointIPField, epIP).regValue(EpUnionField, (EpSelectedRegMark.value << 16) | ep.port);
  if (affinityGroup !== undefined) m.regValue(ServiceGroupIDField, affinityGroup);
  return flow(Table.EndpointDNAT, affinityGroup === undefined ? Priority.normal : AFFINITY_ENDPOINT_PRIORITY, cookie, m, [
    act.ct({
      commit: true,
      zone: CT_ZONE,
      table: Table.AntreaPolicyEgressRule,
      nat: { kind: 'dst', ip: epIP, port: ep.port },
      exec: [act.set('ct_mark', ServiceCTMark.value, ServiceCTMark.mask)],
    }),
  ]);
}

/** A local Endpoint IP's HairpinSNAT flow: a Pod reaching itself through the Service gets the virtual IP as source. */
export function hairpinFlow(ip: string, cookie: bigint): Flow {
  return flow(Table.HairpinSNAT, Priority.normal, cookie, match().ip().nwSrc(ip).nwDst(ip), [
    act.setIp('nw_src', HAIRPIN_VIRTUAL_IP),
    act.loadReg(HairpinRegMark),
    act.goto(Table.L2ForwardingOut),
  ]);
}
