/**
 * Antrea's feature gates as data: every gate antrea-ts implements, with its component(s), its stage history by
 * release, its requirements and its documentation note. This table is the single source for `antctl featuregates`,
 * configuration validation, the processes' module wiring and the web UI.
 *
 * Sources: Antrea's feature-gate page at release 1.5 and the stage changes of later releases
 * (`shared/reference/feature-gates.md`, `shared/reference/antrea.md` section 1.1).
 */
import type { Stage } from '../featuregate/index.js';

export type Component = 'agent' | 'controller';
export type Os = 'linux' | 'windows';
export type TrafficMode = 'encap' | 'noEncap' | 'hybrid' | 'networkPolicyOnly';
export type IpFamily = 'ipv4' | 'ipv6';
export type OvsDatapathType = 'system' | 'netdev';

/** What a feature needs besides its own gate. Evaluated by `config/` against a component's configuration. */
export type Requirement =
  /** Another gate must be on; without it the feature fails (error) or silently does less (warning). */
  | { kind: 'gate'; gate: string; severity: 'error' | 'warning'; message: string }
  /** The operating systems the feature runs on. */
  | { kind: 'os'; os: Os[] }
  /** The feature must stay on for Windows Nodes. */
  | { kind: 'requiredOnWindows'; message: string }
  | { kind: 'trafficMode'; modes: TrafficMode[] }
  /** Needs `noSNAT: true`. */
  | { kind: 'noSNAT' }
  | { kind: 'ipFamily'; families: IpFamily[] }
  | { kind: 'ovsDatapath'; types: OvsDatapathType[] }
  /** Minimum Linux kernel, e.g. '4.6'. */
  | { kind: 'kernel'; min: string; note?: string }
  /** A conf setting that must hold for the feature to run; without it the gate alone does nothing (a warning). */
  | { kind: 'setting'; component: Component; key: string; equals: unknown; message: string };

/** A stage change at a release. Later entries override earlier ones from their release on. */
export interface StageChange {
  release: string;
  stage: Stage;
  default: boolean;
  lockToDefault?: boolean;
  /** Set when the components changed at this release. */
  components?: Component[];
}

export interface FeatureDefinition {
  name: string;
  /**
   * Whether antrea-ts provides the feature. One it does not is listed (it is on Antrea's page) but stays off, and
   * turning it on is an error saying so: a gate that can be set and changes nothing would be a defect.
   */
  implemented: boolean;
  components: Component[];
  description: string;
  note: string;
  requirements: Requirement[];
  history: StageChange[];
}

const proxyNeeded = (what: string): Requirement => ({
  kind: 'gate',
  gate: 'AntreaProxy',
  severity: 'warning',
  message: `${what} needs AntreaProxy, which is disabled`,
});

export const FEATURES: readonly FeatureDefinition[] = [
  {
    name: 'AntreaProxy',
    implemented: true,
    components: ['agent'],
    description: 'Load-balances traffic from Pods to ClusterIP Services in the datapath instead of kube-proxy.',
    note: 'Must be enabled for Windows',
    requirements: [
      { kind: 'requiredOnWindows', message: 'AntreaProxy must stay enabled on Windows Nodes, or NetworkPolicies do not apply to Service traffic' },
      { kind: 'kernel', min: '4.6', note: 'Linux 4.6 or newer with the built-in OVS kernel module (4.4 with the OVS tree module)' },
    ],
    history: [
      { release: 'v0.8', stage: 'Alpha', default: false },
      { release: 'v0.11', stage: 'Beta', default: true },
      { release: 'v1.14', stage: 'GA', default: true },
    ],
  },
  {
    name: 'EndpointSlice',
    implemented: true,
    components: ['agent'],
    description: 'AntreaProxy reads EndpointSlices instead of Endpoints.',
    note: '',
    requirements: [{ kind: 'gate', gate: 'AntreaProxy', severity: 'warning', message: 'EndpointSlice has no effect unless AntreaProxy is enabled' }],
    history: [
      { release: 'v0.13.0', stage: 'Alpha', default: false },
      { release: 'v1.11', stage: 'Beta', default: true },
      { release: 'v1.14', stage: 'GA', default: true },
      { release: 'v2.5', stage: 'GA', default: true, lockToDefault: true },
    ],
  },
  {
    name: 'AntreaPolicy',
    implemented: true,
    components: ['agent', 'controller'],
    description: 'Antrea ClusterNetworkPolicy and Antrea NetworkPolicy: tiers, priorities and rule actions on top of Kubernetes NetworkPolicies.',
    note: 'Agent side config required from v0.9.0+',
    requirements: [],
    history: [
      { release: 'v0.8', stage: 'Alpha', default: false },
      { release: 'v1.0', stage: 'Beta', default: true },
    ],
  },
  {
    name: 'Traceflow',
    implemented: true,
    components: ['agent', 'controller'],
    description: 'The Traceflow API: traces a packet through the Pod network and reports where it went.',
    note: '',
    requirements: [proxyNeeded('Traceflow to a Service')],
    history: [
      { release: 'v0.8', stage: 'Alpha', default: false },
      { release: 'v0.11', stage: 'Beta', default: true },
    ],
  },
  {
    name: 'FlowExporter',
    implemented: true,
    components: ['agent'],
    description: 'Exports IPFIX flow records built from the connections in conntrack to a flow collector.',
    note: '',
    requirements: [{ kind: 'os', os: ['linux'] }],
    history: [{ release: 'v0.9', stage: 'Alpha', default: false }],
  },
  {
    name: 'NetworkPolicyStats',
    implemented: true,
    components: ['agent', 'controller'],
    description: 'Collects per-policy sessions, packets and bytes and serves them through the stats.antrea.io API.',
    note: '',
    requirements: [],
    history: [
      { release: 'v0.10', stage: 'Alpha', default: false },
      { release: 'v1.2', stage: 'Beta', default: true },
    ],
  },
  {
    name: 'NodePortLocal',
    implemented: true,
    components: ['agent'],
    description: "Makes each port of a Service's backend Pods reachable through a port of the Pod's Node, published as a Pod annotation.",
    note: 'Important user-facing change in v1.2.0',
    requirements: [
      { kind: 'os', os: ['linux'] },
      { kind: 'ipFamily', families: ['ipv4'] },
      {
        kind: 'setting',
        component: 'agent',
        key: 'nodePortLocal.enable',
        equals: true,
        message: 'NodePortLocal runs only when nodePortLocal.enable is also true',
      },
    ],
    history: [
      { release: 'v0.13', stage: 'Alpha', default: false },
      { release: 'v1.4', stage: 'Beta', default: true },
      { release: 'v1.14', stage: 'GA', default: true },
    ],
  },
  {
    name: 'Egress',
    implemented: true,
    components: ['agent', 'controller'],
    description: 'The Egress API: chooses the SNAT IP of traffic from selected Pods to the outside.',
    note: '',
    requirements: [
      { kind: 'os', os: ['linux'] },
      { kind: 'trafficMode', modes: ['encap'] },
    ],
    history: [
      { release: 'v1.0', stage: 'Alpha', default: false },
      { release: 'v1.6', stage: 'Beta', default: true },
    ],
  },
  {
    name: 'NodeIPAM',
    implemented: true,
    components: ['controller'],
    description: 'The controller allocates Pod CIDRs to Nodes, for clusters where kube-controller-manager does not.',
    note: '',
    requirements: [
      {
        kind: 'setting',
        component: 'controller',
        key: 'nodeIPAM.enableNodeIPAM',
        equals: true,
        message: 'NodeIPAM allocates Pod CIDRs only when nodeIPAM.enableNodeIPAM is also true',
      },
    ],
    history: [
      { release: 'v1.4', stage: 'Alpha', default: false },
      { release: 'v1.12', stage: 'Beta', default: true },
    ],
  },
  {
    name: 'AntreaIPAM',
    implemented: false,
    components: ['agent', 'controller'],
    description: 'IPPool resources give Pods addresses from chosen ranges, selected by Namespace or Pod annotation.',
    note: '',
    requirements: [
      { kind: 'os', os: ['linux'] },
      { kind: 'ipFamily', families: ['ipv4'] },
      { kind: 'ovsDatapath', types: ['system'] },
      { kind: 'trafficMode', modes: ['noEncap'] },
      { kind: 'noSNAT' },
    ],
    history: [{ release: 'v1.4', stage: 'Alpha', default: false }],
  },
  {
    name: 'Multicast',
    implemented: false,
    components: ['agent'],
    description: 'Forwards multicast traffic between Pods, and between the cluster and the outside.',
    note: '',
    requirements: [
      { kind: 'os', os: ['linux'] },
      { kind: 'ipFamily', families: ['ipv4'] },
      { kind: 'trafficMode', modes: ['noEncap'] },
    ],
    history: [
      { release: 'v1.5', stage: 'Alpha', default: false },
      { release: 'v1.12', stage: 'Beta', default: true, components: ['agent', 'controller'] },
    ],
  },
  {
    name: 'SecondaryNetwork',
    implemented: false,
    components: ['agent'],
    description: 'Extra network interfaces for Pods, requested by Pod annotation.',
    note: '',
    requirements: [{ kind: 'os', os: ['linux'] }],
    history: [{ release: 'v1.5', stage: 'Alpha', default: false }],
  },
];

/** Gates of Antrea that antrea-ts does not implement, with the release that introduced (and, where gone, removed) each. */
export const NOT_IMPLEMENTED: readonly { name: string; since: string; until?: string }[] = [
  { name: 'ServiceExternalIP', since: 'v1.5' },
  { name: 'Multicluster', since: 'v1.7' },
  { name: 'TrafficControl', since: 'v1.7' },
  { name: 'IPsecCertAuth', since: 'v1.7' },
  { name: 'TopologyAwareHints', since: 'v1.8' },
  { name: 'ExternalNode', since: 'v1.8' },
  { name: 'SupportBundleCollection', since: 'v1.10' },
  { name: 'L7NetworkPolicy', since: 'v1.10' },
  { name: 'CleanupStaleUDPSvcConntrack', since: 'v1.13' },
  { name: 'LoadBalancerModeDSR', since: 'v1.13' },
  { name: 'AdminNetworkPolicy', since: 'v1.13' },
  { name: 'EgressTrafficShaping', since: 'v1.14' },
  { name: 'EgressSeparateSubnet', since: 'v1.15' },
  { name: 'NodeNetworkPolicy', since: 'v1.15' },
  { name: 'L7FlowExporter', since: 'v1.15', until: 'v2.6' },
  { name: 'BGPPolicy', since: 'v2.1' },
  { name: 'NodeLatencyMonitor', since: 'v2.1' },
  { name: 'ServiceTrafficDistribution', since: 'v2.2' },
  { name: 'PacketCapture', since: 'v2.2' },
  { name: 'PreferSameTrafficDistribution', since: 'v2.5' },
  { name: 'NFTablesHostNetworkMode', since: 'v2.5' },
  { name: 'ClusterNetworkPolicy', since: 'v2.7' },
  { name: 'AntreaNodeConfig', since: 'v2.7' },
];
