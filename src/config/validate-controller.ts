/** Antrea 1.5's controller `validate()` rules (cmd/antrea-controller/options.go), collecting every problem. */
import type { FeatureGate } from '../featuregate/index.js';
import { parseCidr, type Cidr } from './net.js';
import { error, warning, type Issue } from './problems.js';
import type { ControllerConfig } from './types.js';

export function validateController(config: ControllerConfig, gates: FeatureGate): Issue[] {
  const issues: Issue[] = [];
  const ipam = config.nodeIPAM;
  if (ipam.enableNodeIPAM) {
    if (gates.isKnown('NodeIPAM') && !gates.enabled('NodeIPAM')) {
      issues.push(
        warning('WARN_SETTING_NO_EFFECT', 'nodeIPAM.enableNodeIPAM is true but the NodeIPAM feature gate is disabled, so Node IPAM does not run', {
          key: 'nodeIPAM.enableNodeIPAM',
          gate: 'NodeIPAM',
        }),
      );
    }
    const cidrs: Cidr[] = [];
    const bad = ipam.clusterCIDRs.filter((c) => {
      const parsed = parseCidr(c);
      if (parsed) cidrs.push(parsed);
      return !parsed;
    });
    const key = 'nodeIPAM.clusterCIDRs';
    if (bad.length > 0) {
      issues.push(error('ERR_INVALID_VALUE', `cluster CIDRs [${ipam.clusterCIDRs.join(' ')}] is invalid: ${bad.join(', ')} is not a CIDR`, { key }));
    } else if (cidrs.length === 0) {
      issues.push(error('ERR_INVALID_VALUE', 'at least one cluster CIDR must be specified', { key }));
    } else if (cidrs.length > 2) {
      issues.push(error('ERR_INVALID_VALUE', 'at most two cluster CIDRs may be specified', { key }));
    } else if (cidrs.length === 2 && cidrs[0]?.family === cidrs[1]?.family) {
      issues.push(error('ERR_INVALID_VALUE', 'at most one cluster CIDR may be specified for each IP family', { key }));
    }
    if (cidrs.some((c) => c.family === 'ipv4')) {
      const m = ipam.nodeCIDRMaskSizeIPv4;
      if (m < 16 || m > 30) {
        issues.push(error('ERR_INVALID_VALUE', `node IPv4 CIDR mask size ${m} is invalid, should be between 16 and 30`, { key: 'nodeIPAM.nodeCIDRMaskSizeIPv4' }));
      }
    }
    if (cidrs.some((c) => c.family === 'ipv6')) {
      const m = ipam.nodeCIDRMaskSizeIPv6;
      if (m < 64 || m > 126) {
        issues.push(error('ERR_INVALID_VALUE', `node IPv6 CIDR mask size ${m} is invalid, should be between 64 and 126`, { key: 'nodeIPAM.nodeCIDRMaskSizeIPv6' }));
      }
    }
    if (ipam.serviceCIDR !== '' && !parseCidr(ipam.serviceCIDR)) {
      issues.push(error('ERR_INVALID_VALUE', `service CIDR ${ipam.serviceCIDR} is invalid`, { key: 'nodeIPAM.serviceCIDR' }));
    }
    if (ipam.serviceCIDRv6 !== '' && !parseCidr(ipam.serviceCIDRv6)) {
      issues.push(error('ERR_INVALID_VALUE', `secondary service CIDR ${ipam.serviceCIDRv6} is invalid`, { key: 'nodeIPAM.serviceCIDRv6' }));
    }
  }
  if (!Number.isInteger(config.apiPort) || config.apiPort < 1 || config.apiPort > 65535) {
    issues.push(error('ERR_INVALID_VALUE', `port ${config.apiPort} is not between 1 and 65535`, { key: 'apiPort' }));
  }
  return issues;
}
