/**
 * Every key of Antrea 1.5's `antrea-agent.conf` and `antrea-controller.conf` (plus the few config-struct keys the
 * shipped templates leave out), with its type, Antrea's static default, and whether antrea-ts uses it.
 *
 * Antrea parses these files strictly, so an unknown key is an error; a manifest written for Antrea 1.5 may set any
 * key here, so each is known. Keys antrea-ts does not act on carry `unused` (the reason), and `check` reports them
 * when a conf sets them. Defaults that depend on feature gates (flow exporter, NodePortLocal, AntreaProxy) are
 * applied in `defaults.ts`, not here.
 *
 * Extension point: a key antrea-ts needs that Antrea lacks goes in `ANTREA_TS_AGENT_KEYS` /
 * `ANTREA_TS_CONTROLLER_KEYS` with `origin: 'antrea-ts'` and a doc line; keep them few. A manifest using one is not
 * portable back to Antrea, and `check` says so.
 */

export type ValueType = 'string' | 'boolean' | 'integer' | 'number' | 'stringList' | 'gateMap' | 'object';

export interface KeySpec {
  type: ValueType;
  /** Antrea's default when the key is absent or null; undefined means the zero value of the type. */
  default?: string | number | boolean | readonly string[];
  doc: string;
  /** Present when antrea-ts accepts the key but does not act on it: why. */
  unused?: string;
  /** Present when Antrea deprecated the key: what to use instead. */
  deprecated?: string;
  /** Keys added by antrea-ts are marked; everything else is Antrea's. */
  origin?: 'antrea' | 'antrea-ts';
  /** For `object`: its keys. */
  children?: Readonly<Record<string, KeySpec>>;
}

export type Schema = Readonly<Record<string, KeySpec>>;

const clientConnection = (who: string): KeySpec => ({
  type: 'object',
  doc: `kubeconfig and client settings for ${who}`,
  unused: 'antrea-ts reads the in-cluster config or --kubeconfig',
  children: {
    kubeconfig: { type: 'string', doc: 'path to a kubeconfig file' },
    acceptContentTypes: { type: 'string', doc: 'Accept header sent to the API server' },
    contentType: { type: 'string', doc: 'content type of requests' },
    qps: { type: 'number', doc: 'queries per second allowed' },
    burst: { type: 'integer', doc: 'extra queries allowed in a burst' },
  },
});

const TLS_UNUSED = 'antrea-ts serves its API with Node.js TLS defaults';

/** Keys antrea-ts adds to antrea-agent.conf (see the module comment). */
export const ANTREA_TS_AGENT_KEYS: Schema = {
  // Antrea hard-codes its collector's 60s period (pkg/agent/stats/collector.go); tests and `antrea local` shorten it.
  networkPolicyStatsCollectInterval: {
    type: 'string',
    default: '60s',
    origin: 'antrea-ts',
    doc: 'how often the agent reports NetworkPolicyStats to the controller, a Go duration >= 100ms (NetworkPolicyStats)',
  },
};
/** Keys antrea-ts adds to antrea-controller.conf (none yet; see the module comment). */
export const ANTREA_TS_CONTROLLER_KEYS: Schema = {};

export const AGENT_SCHEMA: Schema = {
  featureGates: { type: 'gateMap', doc: 'map of feature names to booleans' },
  cniSocket: { type: 'string', default: '/var/run/antrea/cni.sock', doc: 'path of the CNI server socket', unused: 'antrea-ts has no CNI server socket yet' },
  clientConnection: clientConnection('the Kubernetes API'),
  antreaClientConnection: clientConnection('the Antrea Controller API'),
  ovsBridge: { type: 'string', default: 'br-int', doc: 'name of the OVS bridge the agent creates and uses' },
  ovsDatapathType: { type: 'string', default: 'system', doc: 'OVS datapath type: system or netdev' },
  ovsRunDir: { type: 'string', default: '/var/run/openvswitch', doc: 'Open vSwitch runtime directory', unused: 'antrea-ts finds OVS through its own datapath settings' },
  hostGateway: { type: 'string', default: 'antrea-gw0', doc: 'name of the host gateway interface' },
  trafficEncapMode: { type: 'string', default: 'encap', doc: 'encap, noEncap, hybrid or networkPolicyOnly (case-insensitive)' },
  noSNAT: { type: 'boolean', default: false, doc: 'do not SNAT Pod-to-external traffic (noEncap and networkPolicyOnly only)' },
  tunnelType: { type: 'string', default: 'geneve', doc: 'geneve, vxlan, gre or stt' },
  trafficEncryptionMode: {
    type: 'string',
    default: 'none',
    doc: 'none, ipsec or wireGuard (case-insensitive)',
    unused: 'antrea-ts does not encrypt tunnel traffic',
  },
  enableIPSecTunnel: {
    type: 'boolean',
    default: false,
    doc: 'deprecated switch for IPsec',
    deprecated: 'use trafficEncryptionMode: ipsec',
    unused: 'antrea-ts does not encrypt tunnel traffic',
  },
  enableBridgingMode: {
    type: 'boolean',
    default: false,
    doc: 'bridging mode for AntreaIPAM Pods (an Antrea 1.6 option)',
    unused: 'antrea-ts implements Antrea 1.5, where AntreaIPAM needs no separate bridging switch',
  },
  defaultMTU: { type: 'integer', default: 0, doc: 'MTU of the gateway and Pod interfaces; 0 discovers it' },
  hostProcPathPrefix: { type: 'string', default: '/host', doc: 'where the host /proc is mounted', unused: 'antrea-ts does not read the host /proc' },
  wireGuard: {
    type: 'object',
    doc: 'WireGuard settings',
    children: { port: { type: 'integer', default: 51820, doc: 'WireGuard UDP port', unused: 'antrea-ts does not encrypt tunnel traffic' } },
  },
  egress: {
    type: 'object',
    doc: 'Egress settings',
    children: { exceptCIDRs: { type: 'stringList', default: [], doc: 'destinations that Egress never SNATs' } },
  },
  serviceCIDR: { type: 'string', doc: 'ClusterIP range; needed only when AntreaProxy is off (then default 10.96.0.0/12)' },
  serviceCIDRv6: { type: 'string', default: '', doc: 'IPv6 ClusterIP range; needed only when AntreaProxy is off' },
  apiPort: { type: 'integer', default: 10350, doc: 'port of the agent API server' },
  clusterPort: {
    type: 'integer',
    default: 10351,
    doc: 'memberlist port the agents use to place Egress IPs',
    unused: 'in antrea-ts the controller places Egress IPs; agents run no memberlist',
  },
  enablePrometheusMetrics: { type: 'boolean', default: true, doc: 'serve Prometheus metrics', unused: 'antrea-ts serves no Prometheus metrics yet' },
  flowCollectorAddr: { type: 'string', doc: 'IPFIX collector, <HOST>:[<PORT>][:<PROTO>] (FlowExporter)' },
  flowPollInterval: { type: 'string', doc: 'how often conntrack is polled, a Go duration >= 1s (FlowExporter)' },
  activeFlowExportTimeout: { type: 'string', doc: 'export period of active flows, a Go duration (FlowExporter)' },
  idleFlowExportTimeout: { type: 'string', doc: 'idle time after which a flow is exported, a Go duration (FlowExporter)' },
  nplPortRange: { type: 'string', doc: 'NodePortLocal port range', deprecated: 'use nodePortLocal.portRange' },
  nodePortLocal: {
    type: 'object',
    doc: 'NodePortLocal settings',
    children: {
      enable: { type: 'boolean', default: false, doc: 'run NodePortLocal (the NodePortLocal gate must be on too)' },
      portRange: { type: 'string', doc: 'Node ports NodePortLocal allocates from (default 61000-62000)' },
    },
  },
  kubeAPIServerOverride: {
    type: 'string',
    default: '',
    doc: 'address of the Kubernetes API server, overriding the kubeconfig',
    unused: 'antrea-ts takes the API server from its kubeconfig or the in-cluster config',
  },
  tlsCipherSuites: { type: 'string', default: '', doc: 'comma-separated TLS cipher suites', unused: TLS_UNUSED },
  tlsMinVersion: { type: 'string', default: '', doc: 'minimum TLS version', unused: TLS_UNUSED },
  transportInterface: { type: 'string', default: '', doc: 'interface used for tunnels and routing between Nodes' },
  transportInterfaceCIDRs: { type: 'stringList', default: [], doc: 'CIDRs that select the transport interface' },
  multicastInterfaces: { type: 'stringList', default: [], doc: 'interfaces that forward multicast (default: the transport interface)' },
  antreaProxy: {
    type: 'object',
    doc: 'AntreaProxy settings',
    children: {
      proxyAll: { type: 'boolean', default: false, doc: 'proxy NodePort and LoadBalancer traffic too, replacing kube-proxy' },
      nodePortAddresses: { type: 'stringList', default: [], doc: 'host address CIDRs that serve NodePorts (proxyAll)' },
      skipServices: { type: 'stringList', default: [], doc: 'Services AntreaProxy ignores (ClusterIP or namespace/name)' },
      proxyLoadBalancerIPs: { type: 'boolean', doc: 'load-balance traffic to LoadBalancer IPs (default true with AntreaProxy)' },
    },
  },
  ...ANTREA_TS_AGENT_KEYS,
};

export const CONTROLLER_SCHEMA: Schema = {
  featureGates: { type: 'gateMap', doc: 'map of feature names to booleans' },
  clientConnection: clientConnection('the Kubernetes API'),
  apiPort: { type: 'integer', default: 10349, doc: 'port of the controller API server' },
  enablePrometheusMetrics: { type: 'boolean', default: true, doc: 'serve Prometheus metrics', unused: 'antrea-ts serves no Prometheus metrics yet' },
  selfSignedCert: {
    type: 'boolean',
    default: true,
    doc: 'generate a self-signed certificate for the API',
    unused: 'antrea-ts always generates its own serving certificate',
  },
  tlsCipherSuites: { type: 'string', default: '', doc: 'comma-separated TLS cipher suites', unused: TLS_UNUSED },
  tlsMinVersion: { type: 'string', default: '', doc: 'minimum TLS version', unused: TLS_UNUSED },
  legacyCRDMirroring: {
    type: 'boolean',
    default: true,
    doc: 'mirror the legacy *.antrea.tanzu.vmware.com CRDs',
    unused: 'antrea-ts serves only the crd.antrea.io groups',
  },
  nodeIPAM: {
    type: 'object',
    doc: 'NodeIPAM settings',
    children: {
      enableNodeIPAM: { type: 'boolean', default: false, doc: 'allocate Pod CIDRs to Nodes (the NodeIPAM gate must be on too)' },
      clusterCIDRs: { type: 'stringList', default: [], doc: 'one CIDR per IP family that Node Pod CIDRs are cut from' },
      serviceCIDR: { type: 'string', default: '', doc: 'IPv4 Service range kept out of Node CIDRs' },
      serviceCIDRv6: { type: 'string', default: '', doc: 'IPv6 Service range kept out of Node CIDRs' },
      nodeCIDRMaskSizeIPv4: { type: 'integer', default: 24, doc: 'prefix length of IPv4 Node CIDRs (16..30)' },
      nodeCIDRMaskSizeIPv6: { type: 'integer', default: 64, doc: 'prefix length of IPv6 Node CIDRs (64..126)' },
    },
  },
  ...ANTREA_TS_CONTROLLER_KEYS,
};

export type ComponentName = 'agent' | 'controller';

export const CONF_FILE: Readonly<Record<ComponentName, string>> = {
  agent: 'antrea-agent.conf',
  controller: 'antrea-controller.conf',
};

export function schemaOf(component: ComponentName): Schema {
  return component === 'agent' ? AGENT_SCHEMA : CONTROLLER_SCHEMA;
}

/** Every dotted key path of a schema, objects included (`antreaProxy`, `antreaProxy.proxyAll`, ...). */
export function keyPaths(schema: Schema, prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    const path = prefix + name;
    out.push(path);
    if (spec.children) out.push(...keyPaths(spec.children, `${path}.`));
  }
  return out;
}
