/**
 * The typed configurations, every key present with its effective value (Antrea's defaults applied, including the
 * ones that depend on feature gates). Key names are Antrea's YAML keys; `schema.ts` documents each.
 */
import type { TrafficMode } from '../features/index.js';
import type { FlowCollector } from './flowexport.js';

export type TunnelType = 'geneve' | 'vxlan' | 'gre' | 'stt';
export type EncryptionMode = 'none' | 'ipsec' | 'wireGuard';
export type DatapathType = 'system' | 'netdev';

export interface ClientConnection {
  kubeconfig: string;
  acceptContentTypes: string;
  contentType: string;
  qps: number;
  burst: number;
}

export interface AgentConfig {
  /** The gates written in the file (not the defaults); see `ResolvedConfig.gates` for the effective values. */
  featureGates: Record<string, boolean>;
  cniSocket: string;
  clientConnection: ClientConnection;
  antreaClientConnection: ClientConnection;
  ovsBridge: string;
  /** As written; validation rejects anything but system and netdev. */
  ovsDatapathType: string;
  ovsRunDir: string;
  hostGateway: string;
  /** As written (Antrea compares case-insensitively); `trafficMode` below is the normalised value. */
  trafficEncapMode: string;
  noSNAT: boolean;
  tunnelType: string;
  trafficEncryptionMode: string;
  enableIPSecTunnel: boolean;
  enableBridgingMode: boolean;
  defaultMTU: number;
  hostProcPathPrefix: string;
  wireGuard: { port: number };
  egress: { exceptCIDRs: string[] };
  /** Defaults to 10.96.0.0/12 only when AntreaProxy is off; '' otherwise. */
  serviceCIDR: string;
  serviceCIDRv6: string;
  apiPort: number;
  clusterPort: number;
  enablePrometheusMetrics: boolean;
  /** The four flow exporter keys default only when FlowExporter is on; '' otherwise. */
  flowCollectorAddr: string;
  flowPollInterval: string;
  activeFlowExportTimeout: string;
  idleFlowExportTimeout: string;
  nplPortRange: string;
  /** portRange defaults (from nplPortRange, then 61000-62000) only when NodePortLocal is on. */
  nodePortLocal: { enable: boolean; portRange: string };
  kubeAPIServerOverride: string;
  tlsCipherSuites: string;
  tlsMinVersion: string;
  transportInterface: string;
  transportInterfaceCIDRs: string[];
  multicastInterfaces: string[];
  antreaProxy: {
    proxyAll: boolean;
    nodePortAddresses: string[];
    skipServices: string[];
    /** Defaults to true when AntreaProxy is on (false otherwise, where it means nothing). */
    proxyLoadBalancerIPs: boolean;
  };
}

export interface ControllerConfig {
  featureGates: Record<string, boolean>;
  clientConnection: ClientConnection;
  apiPort: number;
  enablePrometheusMetrics: boolean;
  selfSignedCert: boolean;
  tlsCipherSuites: string;
  tlsMinVersion: string;
  legacyCRDMirroring: boolean;
  nodeIPAM: {
    enableNodeIPAM: boolean;
    clusterCIDRs: string[];
    serviceCIDR: string;
    serviceCIDRv6: string;
    nodeCIDRMaskSizeIPv4: number;
    nodeCIDRMaskSizeIPv6: number;
  };
}

/** Values derived from an agent conf once validated, for the agent's modules. */
export interface AgentDerived {
  /** trafficEncapMode normalised (`NoEncap` -> `noEncap`); undefined when it is invalid. */
  trafficMode?: TrafficMode;
  encryptionMode?: EncryptionMode;
  /** Present when FlowExporter is on and its settings are valid. */
  flowExporter?: {
    collector: FlowCollector;
    pollIntervalNs: number;
    activeFlowTimeoutNs: number;
    idleFlowTimeoutNs: number;
    staleConnectionTimeoutNs: number;
  };
  /** Present when the NodePortLocal gate is on and the range is valid. */
  nodePortLocalRange?: { start: number; end: number };
}
