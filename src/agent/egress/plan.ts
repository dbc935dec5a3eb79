/**
 * What one Node's datapath needs for Egress, from the Egresses, this Node's Pods and the Namespaces: per Egress IP,
 * the local Pods whose traffic leaves through it, and whether this Node holds the IP (it then SNATs with a mark).
 * Pure, so it is tested without a cluster.
 */
import type { Namespace, Pod } from '../../apis/core.js';
import type { Egress } from '../../apis/crd/egress.js';
import { matchesLabelSelector } from '../../apis/labels.js';
import { isValidIp } from '../../util/ip.js';

export interface PlannedEgressIP {
  egressIP: string;
  /** This Node holds the IP. */
  local: boolean;
  /** `namespace/name` of the local Pods that use it. */
  pods: string[];
}

/** An Egress selects a Pod when its Namespace matches namespaceSelector (if set) and the Pod matches podSelector (if set). */
export function egressSelects(eg: Egress, pod: Pod, nsLabels: Readonly<Record<string, string>> | undefined): boolean {
  const at = eg.spec?.appliedTo ?? {};
  if (!at.podSelector && !at.namespaceSelector) return false;
  if (at.namespaceSelector && !matchesLabelSelector(at.namespaceSelector, nsLabels ?? {})) return false;
  if (at.podSelector && !matchesLabelSelector(at.podSelector, pod.metadata.labels ?? {})) return false;
  return true;
}

/**
 * Egresses are taken in name order; a Pod selected by several uses the first (Antrea picks one too). Egresses
 * without an IPv4 egressIP or without an egressNode are left out: their Pods keep the default path.
 */
export function planEgress(nodeName: string, egresses: readonly Egress[], localPods: readonly Pod[], namespaces: ReadonlyMap<string, Namespace>): Map<string, PlannedEgressIP> {
  const plan = new Map<string, PlannedEgressIP>();
  const claimed = new Set<string>();
  const sorted = [...egresses].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const eg of sorted) {
    const ip = eg.spec?.egressIP ?? '';
    const node = eg.status?.egressNode ?? '';
    if (!ip || !node || !isValidIp(ip) || ip.includes(':')) continue;
    let entry = plan.get(ip);
    if (!entry) plan.set(ip, (entry = { egressIP: ip, local: node === nodeName, pods: [] }));
    for (const pod of localPods) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if (claimed.has(key) || pod.spec?.hostNetwork) continue;
      if (!egressSelects(eg, pod, namespaces.get(pod.metadata.namespace ?? '')?.metadata.labels)) continue;
      claimed.add(key);
      entry.pods.push(key);
    }
  }
  // A remote IP none of our Pods use needs nothing here.
  for (const [ip, e] of plan) if (!e.local && e.pods.length === 0) plan.delete(ip);
  return plan;
}
