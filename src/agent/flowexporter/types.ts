/**
 * The flow exporter's connection (Antrea's `flowexporter.Connection`) and the IPFIX enumerations it exports.
 */
import type { QueueItem } from './queue.js';

/** flowEndReason (IANA 136). */
export const FlowEndReason = { Idle: 1, Active: 2, EndOfFlow: 3 } as const;
/** Antrea's flowType (56506/137). 0: unknown (the source is not a Pod; From-External flows are not supported). */
export const FlowType = { Unknown: 0, IntraNode: 1, InterNode: 2, ToExternal: 3 } as const;
/** Antrea's ...NetworkPolicyRuleAction. */
export const RuleActionCode = { None: 0, Allow: 1, Drop: 2, Reject: 3 } as const;
/** Antrea's ...NetworkPolicyType. */
export const PolicyTypeCode = { None: 0, K8sNetworkPolicy: 1, AntreaNetworkPolicy: 2, AntreaClusterNetworkPolicy: 3 } as const;

export interface PodRef {
  name: string;
  namespace: string;
  node: string;
}

export interface ServiceRef {
  /** `namespace/name:portName` (Kubernetes' ServicePortName; no `:portName` when the port has no name). */
  portName: string;
  port: number;
  clusterIP: string;
}

export interface PolicyRef {
  name: string;
  namespace: string;
  type: number;
  ruleName: string;
  action: number;
}

/** One tracked connection. Mutable: the store updates it in place on every poll. */
export interface Connection extends QueueItem {
  /** `zone|protocol|src|dst|sport|dport` of the original tuple, for logs. */
  readonly key: string;
  /** The store's hash of (zone, original tuple); `bucketNext` chains connections with the same hash. Store-owned. */
  readonly hash: number;
  bucketNext: Connection | undefined;
  readonly zone: number;
  /** As conntrack names it (`tcp`, `udp`, `icmp`, or a number). */
  readonly protocol: string;
  readonly proto: number;
  readonly ipv6: boolean;
  readonly srcIP: string;
  readonly srcPort: number;
  /** After DNAT: the Endpoint that answers (the reply tuple's source). */
  readonly dstIP: string;
  readonly dstPort: number;
  /** Before DNAT: what the client dialled (a ClusterIP for a Service). */
  readonly origDstIP: string;
  readonly origDstPort: number;
  readonly startMs: number;
  /** Last time the connection was seen alive (poll time), or its last packet once it is closed. */
  stopMs: number;
  packets: number;
  bytes: number;
  revPackets: number;
  revBytes: number;
  /** Counters at the last export; deltas are current minus these. */
  prevPackets: number;
  prevBytes: number;
  prevRevPackets: number;
  prevRevBytes: number;
  tcpState: string;
  mark: number;
  labels: string;
  /** Poll generation that last saw it in conntrack. */
  seenGen: number;
  /** Closed (TCP TIME_WAIT/CLOSE) or gone from conntrack: its next record says end-of-flow. */
  dying: boolean;
  /** Had traffic since its idle expiry was last set. */
  active: boolean;
  /** Exported as end-of-flow: removed from the store once it is gone from conntrack. */
  readyToDelete: boolean;
  lastExportMs: number;
  activeExpireMs: number;
  idleExpireMs: number;
  srcPod: PodRef | undefined;
  dstPod: PodRef | undefined;
  service: ServiceRef | undefined;
  ingress: PolicyRef | undefined;
  egress: PolicyRef | undefined;
}

/** What the exporter needs to know about the cluster to enrich a connection. */
export interface Enricher {
  podByIP(ip: string): PodRef | undefined;
  /** The Service port whose ClusterIP:port/protocol a connection dialled. */
  serviceByFrontend(ip: string, port: number, proto: number): ServiceRef | undefined;
  /** The policy rule behind a conjunction id found in ct_label (ingress bits 0..31, egress 32..63). */
  policyByConjID(conjID: number, direction: 'In' | 'Out'): PolicyRef | undefined;
}

export const noEnrichment: Enricher = {
  podByIP: () => undefined,
  serviceByFrontend: () => undefined,
  policyByConjID: () => undefined,
};
