/**
 * Antrea's defaults. Static ones come from the schema; these depend on the feature gates, which is why Antrea's
 * agent sets its gates before its defaults:
 * - AntreaProxy off: serviceCIDR defaults to 10.96.0.0/12; AntreaProxy on: antreaProxy.proxyLoadBalancerIPs to true.
 * - FlowExporter on: the collector address, poll interval and export timeouts.
 * - NodePortLocal on: nodePortLocal.portRange from the deprecated nplPortRange, else 61000-62000.
 * - enableIPSecTunnel (deprecated) turns trafficEncryptionMode into ipsec.
 */
import type { FeatureGate } from '../featuregate/index.js';
import type { KeySpec, Schema } from './schema.js';
import { AGENT_SCHEMA, CONTROLLER_SCHEMA } from './schema.js';
import type { AgentConfig, ControllerConfig } from './types.js';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_NPL_PORT_RANGE = '61000-62000';
export const FLOW_EXPORTER_DEFAULTS = {
  flowCollectorAddr: 'flow-aggregator.flow-aggregator.svc:4739:tls',
  flowPollInterval: '5s',
  activeFlowExportTimeout: '30s',
  idleFlowExportTimeout: '15s',
} as const;

function zero(spec: KeySpec): unknown {
  switch (spec.type) {
    case 'string':
      return '';
    case 'boolean':
      return false;
    case 'integer':
    case 'number':
      return 0;
    case 'stringList':
      return [];
    case 'gateMap':
      return {};
    case 'object':
      return {};
  }
}

/** Every key of the schema present: the decoded value, else the schema default, else the zero value. */
export function withStaticDefaults(values: Readonly<Record<string, unknown>>, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    const v = values[name];
    if (spec.type === 'object') {
      out[name] = withStaticDefaults((v ?? {}) as Record<string, unknown>, spec.children ?? {});
    } else if (v !== undefined) {
      out[name] = Array.isArray(v) ? [...(v as unknown[])] : v;
    } else {
      const d = spec.default;
      out[name] = d === undefined ? zero(spec) : Array.isArray(d) ? [...d] : d;
    }
  }
  return out;
}

export function agentDefaults(values: Readonly<Record<string, unknown>>, gates: FeatureGate): AgentConfig {
  // Checked by decode against the schema, whose shape types.ts mirrors (types.test.ts holds the two together).
  const config = withStaticDefaults(values, AGENT_SCHEMA) as unknown as AgentConfig;
  const on = (name: string) => gates.isKnown(name) && gates.enabled(name);
  const explicitProxyLB = (values.antreaProxy as Record<string, unknown> | undefined)?.proxyLoadBalancerIPs;
  if (on('AntreaProxy')) {
    config.antreaProxy.proxyLoadBalancerIPs = explicitProxyLB === undefined ? true : (explicitProxyLB as boolean);
  } else if (config.serviceCIDR === '') {
    config.serviceCIDR = DEFAULT_SERVICE_CIDR;
  }
  if (on('FlowExporter')) {
    for (const [key, value] of Object.entries(FLOW_EXPORTER_DEFAULTS)) {
      const k = key as keyof typeof FLOW_EXPORTER_DEFAULTS;
      if (config[k] === '') config[k] = value;
    }
  }
  if (on('NodePortLocal') && config.nodePortLocal.portRange === '') {
    if (config.nplPortRange !== '') {
      // The deprecation itself is reported for any deprecated key that is set (see unused.ts).
      config.nodePortLocal.portRange = config.nplPortRange;
    } else {
      config.nodePortLocal.portRange = DEFAULT_NPL_PORT_RANGE;
    }
  }
  if (config.enableIPSecTunnel) {
    config.trafficEncryptionMode = 'ipsec';
  }
  return config;
}

export function controllerDefaults(values: Readonly<Record<string, unknown>>): ControllerConfig {
  return withStaticDefaults(values, CONTROLLER_SCHEMA) as unknown as ControllerConfig;
}
