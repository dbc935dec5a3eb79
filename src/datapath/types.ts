/**
 * The desired state that the agent's feature modules publish to one `Datapath` per Node, and that interface.
 * Modules never touch the network; they upsert and remove objects here. Each object has a stable key, and a change
 * to one object recompiles only that object's flows (see pipeline/compiler.ts).
 *
 * Addresses are strings at this boundary (IPv4 dotted quads, CIDRs, colon MACs). IPv6 fields are not modelled yet:
 * every object carries `ips: string[]` so a second family slots in without a shape change.
 */
import type { Bucket, Flow, Group } from './pipeline/flow.js';

export type TrafficEncapMode = 'encap' | 'noEncap';
export type TunnelType = 'geneve' | 'vxlan';
export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

/** The Node this datapath runs on. Set once before anything else; changing it recompiles every object's flows. */
export interface NodeConfig {
  nodeName: string;
  /** Transport (underlay) IP: tunnel endpoint and noEncap next hop. */
  nodeIP: string;
  /** This Node's Pod CIDR, e.g. 10.10.0.0/24. */
  podCIDR: string;
  /** antrea-gw0's IP (by convention the CIDR's first address). */
  gatewayIP: string;
  gatewayMAC: string;
  trafficEncapMode: TrafficEncapMode;
  tunnelType: TunnelType;
  /** Node's MAC on the underlay (sim only needs it for traces). */
  nodeMAC?: string;
  /**
   * The cluster's Service CIDR (ClusterIPs). The simulated host drops traffic to it: `antrea local` has no kube-proxy,
   * so a ClusterIP that AntreaProxy did not translate has nowhere to go.
   */
  serviceCIDR?: string;
}

/** A Pod's container interface, as the CNI server creates it. Key: `${namespace}/${name}`. */
export interface PodInterface {
  namespace: string;
  name: string;
  /** Host-side interface name (the OVS port name). */
  interfaceName: string;
  ofPort: number;
  ips: string[];
  mac: string;
}

/** Another Node, for tunnel (encap) or routed (noEncap) forwarding to its Pod CIDR. Key: nodeName. */
export interface PeerNode {
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
  /** The peer's antrea-gw0 IP; defaults to the first address of podCIDR. */
  gatewayIP?: string;
}

// ---- Declared now, compiled later (the compiler rejects them with ERR_DATAPATH_UNSUPPORTED until then) ----

export interface ServiceEndpoint {
  ip: string;
  port: number;
  /** True when the Endpoint is a Pod on this Node (adds a HairpinSNAT flow). */
  isLocal: boolean;
}

/** One ServicePort's frontend for AntreaProxy. Key: `${namespace}/${name}:${portName}/${protocol}`. */
export interface ServiceFrontend {
  namespace: string;
  name: string;
  portName: string;
  protocol: L4Protocol;
  clusterIP: string;
  port: number;
  nodePort?: number;
  loadBalancerIPs?: string[];
  externalTrafficPolicyLocal?: boolean;
  /** ClientIP affinity timeout in seconds; absent means no affinity. */
  sessionAffinityTimeout?: number;
  endpoints: ServiceEndpoint[];
}

export type RuleAction = 'Allow' | 'Drop' | 'Reject' | 'Pass';
export type RuleDirection = 'In' | 'Out';

export interface PolicyPeer {
  /** IPs or CIDRs. */
  ipBlocks?: string[];
  /** OF ports of local Pods (ingress applied-to side). */
  ofPorts?: number[];
  /** Service group IDs (`toServices`). */
  serviceGroupIDs?: number[];
}

export interface PolicyService {
  protocol: L4Protocol;
  port?: number;
  endPort?: number;
}

/** One OpenFlow-level policy rule (one conjunction). Key: `${ruleID}`. */
export interface PolicyRule {
  ruleID: string;
  /** Conjunction ID; allocated by the agent, stable for the rule's life. */
  conjID: number;
  direction: RuleDirection;
  action: RuleAction;
  /** K8s NetworkPolicy rules go to 50/90 at p200/p190; Antrea-native rules to 45/85 at this priority. */
  kind: 'K8sNetworkPolicy' | 'AntreaNative' | 'Baseline';
  priority?: number;
  from: PolicyPeer;
  to: PolicyPeer;
  services?: PolicyService[];
  /** Policy reference for stats and Traceflow, e.g. `K8sNetworkPolicy:ns/name`. */
  policyRef: string;
  enableLogging?: boolean;
}

/** Host-side SNAT (Egress, masquerade) or DNAT rule kept outside OVS. Key: id. */
export interface HostNatRule {
  id: string;
  kind: 'SNAT' | 'DNAT' | 'Masquerade';
  match: { srcCIDR?: string; dstCIDR?: string; protocol?: L4Protocol; dstPort?: number; pktMark?: number };
  to: { ip: string; port?: number };
}

/**
 * Egress SNAT through one Egress IP (Antrea's table 71, reference/ovs-pipeline.md section 9). Key: egressIP.
 * On the Node that holds the IP (`mark` set), new connections of the listed local Pods, and those tunnelled here by
 * other Nodes to the IP, get pkt_mark `mark`, which the host's SNAT rule (a HostNatRule matching the mark) turns
 * into the Egress IP as source; the simulator also treats the IP as an address of this Node (antrea-egress0). On
 * other Nodes (`mark` absent), the listed local Pods' traffic to the outside is tunnelled to the IP.
 */
export interface EgressSnat {
  egressIP: string;
  /** SNAT mark, 1..255 (pkt_mark[0..7]); present only on the Node that holds the IP. */
  mark?: number;
  /** OF ports of the local Pods whose traffic to the outside leaves through this IP. */
  podOfPorts: number[];
  /** Destinations that keep the default path (Antrea's egress.exceptCIDRs). */
  exceptCIDRs?: string[];
}

/** NodePortLocal: nodeIP:nodePort → podIP:podPort. Key: `${protocol}/${nodePort}`. */
export interface NodePortLocalMapping {
  protocol: L4Protocol;
  nodePort: number;
  podIP: string;
  podPort: number;
}

/** Multicast group membership on this Node. Key: group IP. */
export interface MulticastGroup {
  group: string;
  localPodPorts: number[];
}

/** One change to the desired state. */
export type DesiredStateChange =
  | { kind: 'pod'; op: 'upsert'; pod: PodInterface }
  | { kind: 'pod'; op: 'remove'; key: string }
  | { kind: 'peerNode'; op: 'upsert'; peer: PeerNode }
  | { kind: 'peerNode'; op: 'remove'; key: string }
  | { kind: 'service'; op: 'upsert'; service: ServiceFrontend }
  | { kind: 'service'; op: 'remove'; key: string }
  | { kind: 'policyRule'; op: 'upsert'; rule: PolicyRule }
  | { kind: 'policyRule'; op: 'remove'; key: string }
  | { kind: 'hostNat'; op: 'upsert'; rule: HostNatRule }
  | { kind: 'hostNat'; op: 'remove'; key: string }
  | { kind: 'nodePortLocal'; op: 'upsert'; mapping: NodePortLocalMapping }
  | { kind: 'nodePortLocal'; op: 'remove'; key: string }
  | { kind: 'egress'; op: 'upsert'; egress: EgressSnat }
  | { kind: 'egress'; op: 'remove'; key: string }
  | { kind: 'multicastGroup'; op: 'upsert'; group: MulticastGroup }
  | { kind: 'multicastGroup'; op: 'remove'; key: string };

export type ObjectKind = DesiredStateChange['kind'];

export function podKey(p: Pick<PodInterface, 'namespace' | 'name'>): string {
  return `${p.namespace}/${p.name}`;
}

export function serviceKey(s: Pick<ServiceFrontend, 'namespace' | 'name' | 'portName' | 'protocol'>): string {
  return `${s.namespace}/${s.name}:${s.portName}/${s.protocol}`;
}

/** What one apply changed in OVS terms: flows by identity (table, priority, match) and groups by id. */
export interface FlowDiff {
  added: Flow[];
  /** Same identity, new actions or cookie. */
  modified: Flow[];
  removed: Flow[];
  addedGroups: Group[];
  modifiedGroups: Group[];
  removedGroups: Group[];
  /**
   * Bucket-level detail of some of `modifiedGroups`: relative to the group as the previous diffs left it, the
   * buckets to remove (by id) and to insert (a changed bucket is both). An executor may patch the group with these
   * instead of rewriting it; a modified group without an entry changed as a whole.
   */
  groupBuckets?: GroupBucketChange[];
}

export interface GroupBucketChange {
  groupId: number;
  removed: number[];
  inserted: Bucket[];
}

/**
 * One Node's datapath. Every method is atomic (one OpenFlow bundle in the OVS executor) and idempotent;
 * `apply` takes a batch. Mutations return the flow diff they caused.
 */
export interface Datapath {
  readonly nodeName: string;
  /** Installs the Node's own flows. Must come first; may be called again to change the config. */
  setNodeConfig(cfg: NodeConfig): Promise<FlowDiff>;
  apply(changes: readonly DesiredStateChange[]): Promise<FlowDiff>;
  upsertPod(pod: PodInterface): Promise<FlowDiff>;
  removePod(namespace: string, name: string): Promise<FlowDiff>;
  upsertPeerNode(peer: PeerNode): Promise<FlowDiff>;
  removePeerNode(nodeName: string): Promise<FlowDiff>;
  /** AntreaProxy: one ServicePort's frontend and Endpoints. */
  upsertService(svc: ServiceFrontend): Promise<FlowDiff>;
  /** Key: `namespace/name:portName/PROTOCOL` (see serviceKey). */
  removeService(key: string): Promise<FlowDiff>;
  /** NetworkPolicy / AntreaPolicy: one OpenFlow-level rule (one conjunction). */
  upsertPolicyRule(rule: PolicyRule): Promise<FlowDiff>;
  removePolicyRule(ruleID: string): Promise<FlowDiff>;
  /** All installed flows, sorted by table, then priority (descending), then match. */
  dumpFlows(): Promise<Flow[]>;
  dumpGroups(): Promise<Group[]>;
}
