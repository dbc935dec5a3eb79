/**
 * The policy API types: `networking.k8s.io/v1` NetworkPolicy, `crd.antrea.io/v1alpha1` ClusterNetworkPolicy,
 * NetworkPolicy and Tier, the internal `controlplane.antrea.io/v1beta2` objects, and the `stats.antrea.io/v1alpha1`
 * stats. The store has no cross-type admission hook, so the checks that need other kinds (does a policy's Tier exist,
 * is a deleted Tier still referenced) are made by the controller (controller/networkpolicy/tiers.ts).
 */
import type { KubeObject } from '../../apis/meta.js';
import { defaultNetworkPolicy, validateNetworkPolicy, type NetworkPolicy } from '../../apis/networking.js';
import {
  defaultPolicyRuleNames,
  tierNameOf,
  validateAntreaNetworkPolicy,
  validateClusterNetworkPolicy,
  validateTier,
  validateTierAgainst,
  validateTierUpdate,
} from '../../apis/crd/policy.js';
import { CONTROLPLANE_GROUP, CONTROLPLANE_VERSION } from '../../apis/controlplane.js';
import { STATS_GROUP } from '../../apis/stats.js';
import { ageColumn, col, defineResource, pick, type ResourceDef } from '../registry.js';

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

export const k8sNetworkPolicyResource = defineResource({
  group: 'networking.k8s.io',
  versions: ['v1'],
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  shortNames: ['netpol'],
  strategicMerge: true,
  validate: validateNetworkPolicy,
  applyDefaults: (o) => defaultNetworkPolicy(o as NetworkPolicy),
  columns: [col('Pod-Selector', (o) => podSelectorCell(pick(o, 'spec', 'podSelector'))), ageColumn],
});

function podSelectorCell(sel: unknown): string {
  const ml = pick(sel, 'matchLabels') as Record<string, string> | undefined;
  const parts = Object.entries(ml ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(',') : '<none>';
}

const antreaPolicyColumns = [
  col('Tier', (o) => tierNameOf(pick(o, 'spec', 'tier') as string | undefined)),
  col('Priority', (o) => text(pick(o, 'spec', 'priority'))),
  col('Desired Nodes', (o) => text(pick(o, 'status', 'desiredNodesRealized'))),
  col('Current Nodes', (o) => text(pick(o, 'status', 'currentNodesRealized'))),
  ageColumn,
];

export const clusterNetworkPolicyResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1alpha1'],
  kind: 'ClusterNetworkPolicy',
  plural: 'clusternetworkpolicies',
  shortNames: ['acnp'],
  namespaced: false,
  statusSubresource: true,
  validate: validateClusterNetworkPolicy,
  applyDefaults: defaultPolicyRuleNames,
  columns: antreaPolicyColumns,
});

export const antreaNetworkPolicyResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1alpha1'],
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  shortNames: ['anp'],
  namespaced: true,
  statusSubresource: true,
  validate: validateAntreaNetworkPolicy,
  applyDefaults: defaultPolicyRuleNames,
  columns: antreaPolicyColumns,
});

export const tierResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1alpha1'],
  kind: 'Tier',
  plural: 'tiers',
  shortNames: ['tr'],
  namespaced: false,
  validate: validateTier,
  validateUpdate: validateTierUpdate,
  prepareForCreate: (obj: KubeObject, others: () => Iterable<KubeObject>) => validateTierAgainst(obj, others()),
  columns: [col('Priority', (o) => text(pick(o, 'spec', 'priority'))), ageColumn],
});

// The internal objects: written by the controller, read by agents (cluster-scoped, as in Antrea).
const spanColumn = col('Span', (o) => text((pick(o, 'span') as string[] | undefined)?.join(',')), { priority: 1 });
const controlplane = (kind: string, plural: string, columns = [spanColumn]) =>
  defineResource({ group: CONTROLPLANE_GROUP, versions: [CONTROLPLANE_VERSION], kind, plural, namespaced: false, columns });

export const controlplaneResources: ResourceDef[] = [
  controlplane('AddressGroup', 'addressgroups'),
  controlplane('AppliedToGroup', 'appliedtogroups'),
  controlplane('NetworkPolicy', 'networkpolicies', [col('Source', (o) => `${text(pick(o, 'sourceRef', 'type'))}:${text(pick(o, 'sourceRef', 'namespace'))}/${text(pick(o, 'sourceRef', 'name'))}`), spanColumn]),
  controlplane('NodeStatsSummary', 'nodestatssummaries', []),
];

// Antrea's columns: NAME, SESSIONS, PACKETS, BYTES, CREATED AT (the time collection started).
const statsColumns = [
  col('Sessions', (o) => Number(pick(o, 'trafficStats', 'sessions') ?? 0), { type: 'integer' }),
  col('Packets', (o) => Number(pick(o, 'trafficStats', 'packets') ?? 0), { type: 'integer' }),
  col('Bytes', (o) => Number(pick(o, 'trafficStats', 'bytes') ?? 0), { type: 'integer' }),
  col('Created At', (o) => text(o.metadata.creationTimestamp), { type: 'date' }),
];
const stats = (kind: string, plural: string, namespaced: boolean) =>
  defineResource({ group: STATS_GROUP, versions: ['v1alpha1'], kind, plural, namespaced, columns: statsColumns });

export const statsResources: ResourceDef[] = [
  stats('NetworkPolicyStats', 'networkpolicystats', true),
  stats('AntreaClusterNetworkPolicyStats', 'antreaclusternetworkpolicystats', false),
  stats('AntreaNetworkPolicyStats', 'antreanetworkpolicystats', true),
];

export const policyResources: ResourceDef[] = [
  k8sNetworkPolicyResource,
  clusterNetworkPolicyResource,
  antreaNetworkPolicyResource,
  tierResource,
  ...controlplaneResources,
  ...statsResources,
];
