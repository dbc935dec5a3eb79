/**
 * Antrea 1.5's agent `validate()` rules (cmd/antrea-agent/options.go), in its order, but collecting every problem
 * instead of stopping at the first. Feature requirements driven by the catalog (traffic mode, OS, ...) are in
 * requirements.ts; this file holds the rules about the conf's own values.
 */
import type { FeatureGate } from '../featuregate/index.js';
import type { Os, TrafficMode } from '../features/index.js';
import { parseFlowCollectorAddr, resolveFlowIntervals } from './flowexport.js';
import { parseCidr } from './net.js';
import { parsePortRange } from './portrange.js';
import { error, warning, type Issue } from './problems.js';
import type { AgentConfig, AgentDerived, EncryptionMode } from './types.js';

export const TUNNEL_TYPES = ['geneve', 'vxlan', 'gre', 'stt'] as const;
export const TRAFFIC_MODES: readonly TrafficMode[] = ['encap', 'noEncap', 'hybrid', 'networkPolicyOnly'];
export const ENCRYPTION_MODES: readonly EncryptionMode[] = ['none', 'ipsec', 'wireGuard'];
export const DATAPATH_TYPES = ['system', 'netdev'] as const;

/** Antrea compares encap and encryption modes case-insensitively. */
export function parseTrafficMode(text: string): TrafficMode | undefined {
  return TRAFFIC_MODES.find((m) => m.toLowerCase() === text.toLowerCase());
}

export function parseEncryptionMode(text: string): EncryptionMode | undefined {
  return ENCRYPTION_MODES.find((m) => m.toLowerCase() === text.toLowerCase());
}

/** noEncap, hybrid and networkPolicyOnly route some Pod traffic unencapsulated. */
export function supportsNoEncap(mode: TrafficMode): boolean {
  return mode !== 'encap';
}

export interface AgentValidateOptions {
  os?: Os;
}

export function validateAgent(config: AgentConfig, gates: FeatureGate, opts: AgentValidateOptions = {}): { derived: AgentDerived; issues: Issue[] } {
  const issues: Issue[] = [];
  const derived: AgentDerived = {};
  const on = (name: string) => gates.isKnown(name) && gates.enabled(name);

  if (!(TUNNEL_TYPES as readonly string[]).includes(config.tunnelType)) {
    issues.push(error('ERR_INVALID_VALUE', `tunnel type ${config.tunnelType} is invalid; valid types: ${TUNNEL_TYPES.join(', ')}`, { key: 'tunnelType' }));
  }
  const encryption = parseEncryptionMode(config.trafficEncryptionMode);
  if (encryption === undefined) {
    issues.push(
      error('ERR_INVALID_VALUE', `TrafficEncryptionMode ${config.trafficEncryptionMode} is unknown; valid modes: none, ipsec, wireGuard`, { key: 'trafficEncryptionMode' }),
    );
  } else {
    derived.encryptionMode = encryption;
  }
  if (!(DATAPATH_TYPES as readonly string[]).includes(config.ovsDatapathType)) {
    issues.push(
      error('ERR_INVALID_VALUE', `OVS datapath type ${config.ovsDatapathType} is not supported; valid types: system, netdev`, { key: 'ovsDatapathType' }),
    );
  }
  const mode = parseTrafficMode(config.trafficEncapMode);
  if (mode === undefined) {
    issues.push(
      error('ERR_INVALID_VALUE', `TrafficEncapMode ${config.trafficEncapMode} is unknown; valid modes: ${TRAFFIC_MODES.join(', ')}`, { key: 'trafficEncapMode' }),
    );
  } else {
    derived.trafficMode = mode;
  }

  if (opts.os === 'windows') issues.push(...windowsSettings(config, mode, encryption));

  if (mode !== undefined && supportsNoEncap(mode)) {
    if (!on('AntreaProxy')) {
      issues.push(
        error('ERR_GATE_REQUIRED', `TrafficEncapMode ${mode} requires AntreaProxy to be enabled`, { key: 'trafficEncapMode', gate: 'AntreaProxy' }),
      );
    }
    if (encryption !== undefined && encryption !== 'none') {
      issues.push(
        error('ERR_INVALID_VALUE', `TrafficEncryptionMode ${config.trafficEncryptionMode} may only be enabled in encap mode`, { key: 'trafficEncryptionMode' }),
      );
    }
  }
  if (config.noSNAT && mode !== undefined && mode !== 'noEncap' && mode !== 'networkPolicyOnly') {
    issues.push(error('ERR_INVALID_VALUE', `noSNAT is only applicable to the noEncap mode, not ${mode}`, { key: 'noSNAT' }));
  }

  issues.push(...proxyRules(config, on('AntreaProxy')));
  if (on('FlowExporter')) issues.push(...flowExporterRules(config, derived));
  if (on('Egress')) {
    for (const cidr of config.egress.exceptCIDRs) {
      if (!parseCidr(cidr)) issues.push(error('ERR_INVALID_VALUE', `Egress Except CIDR ${cidr} is invalid`, { key: 'egress.exceptCIDRs' }));
    }
  }
  if (on('NodePortLocal')) {
    const key = config.nodePortLocal.portRange === config.nplPortRange && config.nplPortRange !== '' ? 'nplPortRange' : 'nodePortLocal.portRange';
    const range = parsePortRange(config.nodePortLocal.portRange);
    if ('error' in range) issues.push(error('ERR_INVALID_VALUE', `NodePortLocal portRange is not valid: ${range.error}`, { key }));
    else derived.nodePortLocalRange = range;
  } else if (config.nodePortLocal.enable) {
    issues.push(
      warning('WARN_SETTING_NO_EFFECT', 'nodePortLocal.enable is true but the NodePortLocal feature gate is disabled, so NodePortLocal does not run', {
        key: 'nodePortLocal.enable',
        gate: 'NodePortLocal',
      }),
    );
  }

  for (const [key, port] of [['apiPort', config.apiPort], ['clusterPort', config.clusterPort], ['wireGuard.port', config.wireGuard.port]] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) issues.push(error('ERR_INVALID_VALUE', `port ${port} is not between 1 and 65535`, { key }));
  }
  if (config.defaultMTU !== 0 && (config.defaultMTU < 68 || config.defaultMTU > 65535)) {
    issues.push(error('ERR_INVALID_VALUE', `MTU ${config.defaultMTU} is not 0 (discover) or between 68 and 65535`, { key: 'defaultMTU' }));
  }
  for (const cidr of config.transportInterfaceCIDRs) {
    if (!parseCidr(cidr)) issues.push(error('ERR_INVALID_VALUE', `transport interface CIDR ${cidr} is invalid`, { key: 'transportInterfaceCIDRs' }));
  }
  return { derived, issues };
}

/** Antrea's checkUnsupportedFeatures for the settings (the gates are checked with the catalog's OS requirements). */
function windowsSettings(config: AgentConfig, mode: TrafficMode | undefined, encryption: EncryptionMode | undefined): Issue[] {
  const issues: Issue[] = [];
  const unsupported = (key: string, what: string) => issues.push(error('ERR_UNSUPPORTED_ON_WINDOWS', `${what} is not supported on Windows`, { key }));
  if (config.ovsDatapathType !== 'system') unsupported('ovsDatapathType', `OVSDatapathType: ${config.ovsDatapathType}`);
  if (mode === 'networkPolicyOnly') unsupported('trafficEncapMode', 'TrafficEncapMode: networkPolicyOnly');
  if (config.tunnelType === 'gre') unsupported('tunnelType', 'TunnelType: gre');
  if (encryption !== undefined && encryption !== 'none') unsupported('trafficEncryptionMode', `TrafficEncryptionMode: ${config.trafficEncryptionMode}`);
  return issues;
}

function proxyRules(config: AgentConfig, proxyOn: boolean): Issue[] {
  const issues: Issue[] = [];
  const invalid = (key: string, message: string) => issues.push(error('ERR_INVALID_VALUE', `proxy config is invalid: ${message}`, { key }));
  if (!proxyOn) {
    if (!parseCidr(config.serviceCIDR)) invalid('serviceCIDR', `Service CIDR ${config.serviceCIDR} is invalid`);
    if (config.serviceCIDRv6 !== '' && parseCidr(config.serviceCIDRv6)?.family !== 'ipv6') {
      invalid('serviceCIDRv6', `Service CIDR v6 ${config.serviceCIDRv6} is invalid`);
    }
    if (config.antreaProxy.skipServices.length > 0) {
      issues.push(
        warning('WARN_SETTING_NO_EFFECT', 'skipServices is ignored because AntreaProxy is disabled', { key: 'antreaProxy.skipServices', gate: 'AntreaProxy' }),
      );
    }
    if (config.antreaProxy.proxyAll) {
      issues.push(warning('WARN_SETTING_NO_EFFECT', 'proxyAll has no effect because AntreaProxy is disabled', { key: 'antreaProxy.proxyAll', gate: 'AntreaProxy' }));
    }
  }
  if (config.antreaProxy.proxyAll) {
    for (const addr of config.antreaProxy.nodePortAddresses) {
      if (!parseCidr(addr)) invalid('antreaProxy.nodePortAddresses', `invalid NodePort IP address \`${addr}\`: not a CIDR`);
    }
  }
  return issues;
}

function flowExporterRules(config: AgentConfig, derived: AgentDerived): Issue[] {
  const issues: Issue[] = [];
  const prefix = 'failed to validate flow exporter config: ';
  const collector = parseFlowCollectorAddr(config.flowCollectorAddr);
  if ('error' in collector) issues.push(error('ERR_INVALID_VALUE', prefix + collector.error, { key: 'flowCollectorAddr' }));
  else if (collector.proto === 'tls') {
    // Antrea's default transport; antrea-ts has no IPFIX over TLS, and sending in clear text instead would be a
    // silent downgrade.
    issues.push(
      error(
        'ERR_UNSUPPORTED_VALUE',
        `flow records over tls are not supported by antrea-ts: set flowCollectorAddr to "${collector.host.includes(':') ? `[${collector.host}]` : collector.host}:${collector.port}:tcp" or ":udp"`,
        { key: 'flowCollectorAddr' },
      ),
    );
  }
  const { intervals, issues: found } = resolveFlowIntervals(config.flowPollInterval, config.activeFlowExportTimeout, config.idleFlowExportTimeout);
  for (const i of found) {
    issues.push(i.severity === 'error' ? error('ERR_INVALID_VALUE', prefix + i.message, { key: i.key }) : warning('WARN_VALUE_ADJUSTED', i.message, { key: i.key }));
  }
  if (!('error' in collector) && intervals) derived.flowExporter = { collector, ...intervals };
  return issues;
}
