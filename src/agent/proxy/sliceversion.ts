/**
 * Which EndpointSlice version to watch: `discovery.k8s.io/v1` (Kubernetes 1.21+), else `v1beta1` on older API
 * servers (what Antrea 1.5 read). Both hold the same objects; v1beta1's `topology` map is understood by the slice
 * cache. Asked once at start with a one-item list; anything but "not served" (NotFound) keeps v1, and the informer
 * then reports the real problem.
 */
import type { GroupVersionResource } from '../../apis/meta.js';
import { gvr } from '../../apiserver/registry.js';
import { isApiError } from '../../apiserver/types.js';

export const endpointSlicesV1beta1: GroupVersionResource = { ...gvr.endpointslices, version: 'v1beta1' };

export async function servedEndpointSliceVersion(list: (r: GroupVersionResource) => Promise<unknown>): Promise<GroupVersionResource> {
  try {
    await list(gvr.endpointslices);
    return gvr.endpointslices;
  } catch (err) {
    if (!isApiError(err, 'NotFound')) return gvr.endpointslices;
  }
  try {
    await list(endpointSlicesV1beta1);
    return endpointSlicesV1beta1;
  } catch {
    return gvr.endpointslices;
  }
}
