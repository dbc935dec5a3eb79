/**
 * Which endpoints take new connections (kube-proxy's `CategorizeEndpoints` for cluster traffic): the ready ones;
 * when none is ready, the ones still serving while terminating, so a Service whose Pods are all shutting down keeps
 * answering until they are gone. Endpoints that are neither never take new connections. Established connections
 * do not depend on this: conntrack keeps them on their endpoint whatever the group holds.
 */
import type { ServiceEndpoint } from '../../datapath/types.js';
import type { EndpointInfo } from './types.js';

export function usableEndpoints(endpoints: readonly EndpointInfo[], localNode: string): ServiceEndpoint[] {
  let chosen = endpoints.filter((e) => e.ready);
  if (chosen.length === 0) chosen = endpoints.filter((e) => e.serving && e.terminating);
  return chosen.map((e) => ({ ip: e.ip, port: e.port, isLocal: e.nodeName !== undefined && e.nodeName === localNode }));
}
