/** Every resource type antrea-ts serves: the Kubernetes core types and Antrea's. */
import { defaultResources, type ResourceDef } from '../registry.js';
import { antreaAgentInfoResource, antreaControllerInfoResource } from './antrea-info.js';
import { traceflowResource } from './traceflow.js';
import { egressResource, externalIPPoolResource } from './egress.js';
import { policyResources, statsResources } from './policy.js';

export function allResources(): ResourceDef[] {
  return [...defaultResources(), antreaControllerInfoResource, antreaAgentInfoResource, ...policyResources, traceflowResource, egressResource, externalIPPoolResource];
}

/**
 * What the API serves for a controller with these gates. The stats API is the controller's own (an aggregated API
 * in Antrea, not a CRD), so it exists only while NetworkPolicyStats is on; CRDs are served whatever the gates, as
 * Antrea installs them.
 */
export function servedResources(gateEnabled: (name: string) => boolean): ResourceDef[] {
  const stats = new Set(statsResources);
  return allResources().filter((r) => !stats.has(r) || gateEnabled('NetworkPolicyStats'));
}
