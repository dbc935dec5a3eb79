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
 * What an agent reports: for each policy (by UID), the counters since its datapath started counting. The controller
 * turns successive reports into deltas, so a lost or repeated report never double counts; the `epoch` changes when
 * the Node's counters restart from zero (a new datapath), which tells the controller to take the values as deltas.
 */
export interface NodeStatsSummary extends KubeObject {
  epoch: string;
  policies: { ref: NetworkPolicyReference; rules?: Record<string, TrafficCounters>; counters: TrafficCounters }[];
}
