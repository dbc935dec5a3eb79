/** Every resource type antrea-ts serves: the Kubernetes core types and Antrea's. */
import { defaultResources, type ResourceDef } from '../registry.js';
import { antreaAgentInfoResource, antreaControllerInfoResource } from './antrea-info.js';
import { traceflowResource } from './traceflow.js';
import { egressResource, externalIPPoolResource } from './egress.js';
import { policyResources } from './policy.js';

export function allResources(): ResourceDef[] {
  return [...defaultResources(), antreaControllerInfoResource, antreaAgentInfoResource, ...policyResources, traceflowResource, egressResource, externalIPPoolResource];
}
