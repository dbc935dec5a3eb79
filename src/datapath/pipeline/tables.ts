/**
 * Antrea 1.5's OVS tables: IDs, OVS names (as Traceflow and flow dumps show them) and the table each one's miss
 * entry goes to, for the default Linux profile (AntreaProxy on, proxyAll off, AntreaPolicy on, Egress and Multicast
 * off). See reference/ovs-pipeline.md section 3.
 */
export const Table = {
  Classifier: 0,
  SpoofGuard: 10,
  ARPResponder: 20,
  IPv6: 21,
  ServiceHairpin: 23,
  ConntrackZone: 30,
  ConntrackState: 31,
  SessionAffinity: 40,
  ServiceLB: 41,
  EndpointDNAT: 42,
  AntreaPolicyEgressRule: 45,
  EgressRule: 50,
  EgressDefaultRule: 60,
  EgressMetric: 61,
  L3Forwarding: 70,
  SNAT: 71,
  L3DecTTL: 72,
  L2ForwardingCalc: 80,
  AntreaPolicyIngressRule: 85,
  IngressRule: 90,
  IngressDefaultRule: 100,
  IngressMetric: 101,
  ConntrackCommit: 105,
  HairpinSNAT: 108,
  L2ForwardingOut: 110,
} as const;

export type TableId = (typeof Table)[keyof typeof Table];

export interface TableInfo {
  id: number;
  /** Go variable name in Antrea (ClassifierTable, ...) without the Table suffix. */
  goName: string;
  /** The name OVS and Traceflow's componentInfo use. */
  ovsName: string;
  /** Where the miss entry goes; undefined when the miss drops or there is no miss entry. */
  next?: number;
  /** How the miss entry behaves. */
  miss: 'drop' | 'next' | 'none' | 'special';
}

export const TABLES: readonly TableInfo[] = [
  { id: 0, goName: 'Classifier', ovsName: 'Classification', next: 10, miss: 'drop' },
  { id: 10, goName: 'SpoofGuard', ovsName: 'SpoofGuard', next: 23, miss: 'drop' },
  { id: 20, goName: 'arpResponder', ovsName: 'ARPResponder', miss: 'drop' },
  { id: 21, goName: 'IPv6', ovsName: 'IPv6', next: 23, miss: 'next' },
  { id: 23, goName: 'ServiceHairpin', ovsName: 'ServiceHairpin', next: 30, miss: 'next' },
  { id: 30, goName: 'Conntrack', ovsName: 'ConntrackZone', next: 31, miss: 'none' },
  { id: 31, goName: 'ConntrackState', ovsName: 'ConntrackState', next: 42, miss: 'special' },
  { id: 40, goName: 'SessionAffinity', ovsName: 'SessionAffinity', miss: 'special' },
  { id: 41, goName: 'ServiceLB', ovsName: 'ServiceLB', next: 42, miss: 'next' },
  { id: 42, goName: 'EndpointDNAT', ovsName: 'EndpointDNAT', next: 45, miss: 'next' },
  { id: 45, goName: 'AntreaPolicyEgressRule', ovsName: 'AntreaPolicyEgressRule', next: 50, miss: 'next' },
  { id: 50, goName: 'EgressRule', ovsName: 'EgressRule', next: 60, miss: 'next' },
  { id: 60, goName: 'EgressDefault', ovsName: 'EgressDefaultRule', next: 61, miss: 'next' },
  { id: 61, goName: 'EgressMetric', ovsName: 'EgressMetric', next: 70, miss: 'next' },
  { id: 70, goName: 'L3Forwarding', ovsName: 'L3Forwarding', next: 80, miss: 'next' },
  { id: 71, goName: 'SNAT', ovsName: 'SNAT', next: 80, miss: 'next' },
  { id: 72, goName: 'L3DecTTL', ovsName: 'IPTTLDec', next: 80, miss: 'next' },
  { id: 80, goName: 'L2ForwardingCalc', ovsName: 'L2Forwarding', next: 101, miss: 'next' },
  { id: 85, goName: 'AntreaPolicyIngressRule', ovsName: 'AntreaPolicyIngressRule', next: 90, miss: 'next' },
  { id: 90, goName: 'IngressRule', ovsName: 'IngressRule', next: 100, miss: 'next' },
  { id: 100, goName: 'IngressDefault', ovsName: 'IngressDefaultRule', next: 101, miss: 'next' },
  { id: 101, goName: 'IngressMetric', ovsName: 'IngressMetric', next: 105, miss: 'next' },
  { id: 105, goName: 'ConntrackCommit', ovsName: 'ConntrackCommit', next: 108, miss: 'next' },
  { id: 108, goName: 'HairpinSNAT', ovsName: 'HairpinSNAT', next: 110, miss: 'next' },
  { id: 110, goName: 'L2ForwardingOut', ovsName: 'Output', miss: 'drop' },
];

const byId = new Map(TABLES.map((t) => [t.id, t]));

export function tableInfo(id: number): TableInfo | undefined {
  return byId.get(id);
}

/** The OVS name of a table, or `table<N>` for tables outside Antrea's list. */
export function tableName(id: number): string {
  return byId.get(id)?.ovsName ?? `table${id}`;
}
