/**
 * `controlplane.antrea.io/v1beta2`: the internal objects the controller computes from NetworkPolicies and Antrea
 * policies, and the agents consume (pkg/apis/controlplane). Each carries its span: the Nodes that need it.
 *
 * - AddressGroup: the Pods (IPs) a rule's peer selects. Shared by every rule with an equal selector.
 * - AppliedToGroup: the Pods a policy (or a rule) applies to. Shared the same way.
 * - NetworkPolicy: one per source policy; rules refer to the groups by name.
 * - NodeStatsSummary: what an agent reports for NetworkPolicyStats (one per Node).
 */
import type { GroupVersionResource, KubeObject } from './meta.js';
import type { RuleAction } from './crd/policy.js';
import type { IPBlock } from './networking.js';
import type { Protocol } from './validation.js';

export const CONTROLPLANE_GROUP = 'controlplane.antrea.io';
export const CONTROLPLANE_VERSION = 'v1beta2';

export const controlplaneGvr = {
  addressgroups: { group: CONTROLPLANE_GROUP, version: CONTROLPLANE_VERSION, resource: 'addressgroups' },
  appliedtogroups: { group: CONTROLPLANE_GROUP, version: CONTROLPLANE_VERSION, resource: 'appliedtogroups' },
  networkpolicies: { group: CONTROLPLANE_GROUP, version: CONTROLPLANE_VERSION, resource: 'networkpolicies' },
  nodestatssummaries: { group: CONTROLPLANE_GROUP, version: CONTROLPLANE_VERSION, resource: 'nodestatssummaries' },
} as const satisfies Record<string, GroupVersionResource>;

export interface NamedPort {
  name: string;
  port: number;
  protocol: Protocol;
}

/** One Pod in a group. `ports` are its named container ports (for named-port rules). */
export interface GroupMember {
  pod: { namespace: string; name: string };
  ips: string[];
  node: string;
  ports?: NamedPort[];
}

export interface AddressGroup extends KubeObject {
  members: GroupMember[];
  span: string[];
}

export interface AppliedToGroup extends KubeObject {
  members: GroupMember[];
  span: string[];
}

export type SourceType = 'K8sNetworkPolicy' | 'AntreaClusterNetworkPolicy' | 'AntreaNetworkPolicy';

export interface NetworkPolicyReference {
  type: SourceType;
  namespace?: string;
  name: string;
  uid: string;
}

export interface NetworkPolicyPeer {
  addressGroups?: string[];
  ipBlocks?: IPBlock[];
}

export interface Service {
  protocol: Protocol;
  port?: number | string;
  endPort?: number;
}

export type Direction = 'In' | 'Out';

export interface NetworkPolicyRule {
  direction: Direction;
  from: NetworkPolicyPeer;
  to: NetworkPolicyPeer;
  services?: Service[];
  /** Antrea-native only; K8s rules allow. */
  action?: RuleAction;
  /** The rule's index within its direction: the rule order of the total order. */
  priority: number;
  name?: string;
  enableLogging?: boolean;
  /** Per-rule appliedTo (Antrea policies whose rules carry appliedTo). */
  appliedToGroups?: string[];
}

export interface ControlplaneNetworkPolicy extends KubeObject {
  sourceRef: NetworkPolicyReference;
  rules: NetworkPolicyRule[];
  appliedToGroups: string[];
  /** Antrea-native: the Tier's priority and the policy's. Absent for K8s NetworkPolicies. */
  tierPriority?: number;
  priority?: number;
  /** K8s NetworkPolicy only: the directions the policy isolates (default deny for its Pods). */
  policyTypes?: ('Ingress' | 'Egress')[];
  span: string[];
}

export interface TrafficCounters {
  sessions: number;
  packets: number;
  bytes: number;
}

/**
 * What an agent reports for NetworkPolicyStats: per policy (by UID), its totals since the agent first counted for
 * it, and per rule the datapath counters it last read. Totals only grow, so the controller sums them over Nodes and
 * a lost or repeated report can never double count; a restarted agent resumes from `lastRead`, so the packets
 * counted while it was down are neither lost nor counted twice. (Antrea's agents push deltas instead.)
 */
export interface NodeStatsSummary extends KubeObject {
  policies: PolicyStatsTotal[];
  lastRead: Record<string, TrafficCounters>;
}

export interface PolicyStatsTotal {
  ref: NetworkPolicyReference;
  counters: TrafficCounters;
  /** By rule name (Antrea-native policies). */
  rules?: Record<string, TrafficCounters>;
}
