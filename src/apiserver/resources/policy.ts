/**
 * The policy API types: `networking.k8s.io/v1` NetworkPolicy, `crd.antrea.io/v1alpha1` ClusterNetworkPolicy,
 * NetworkPolicy and Tier, the internal `controlplane.antrea.io/v1beta2` objects, and the `stats.antrea.io/v1alpha1`
 * stats. The checks of Antrea's webhooks that need other objects are admission hooks (`admit`), so the API refuses
 * what Antrea's would, with its messages: a policy naming a Tier that does not exist, a Tier whose priority another
 * Tier has (or a 21st Tier), and deleting a system Tier or a Tier that policies reference.
 *
 * Antrea's controller serves these webhooks only with the AntreaPolicy gate, and it is also the one that creates the
 * system Tiers. So while no Tier exists at all (the gate is off, or the controller has not started yet) the policy
 * check is skipped, as it is when Antrea's webhook is absent; the controller leaves such a policy Pending until its
 * Tier appears.
 */
import type { KubeObject } from '../../apis/meta.js';
import { forbidden, type FieldError } from '../../apis/validation.js';
import { defaultNetworkPolicy, validateNetworkPolicy, type NetworkPolicy } from '../../apis/networking.js';
import {
  defaultPolicyRuleNames,
  tierDeleteProblem,
  tierNameOf,
  validateAntreaNetworkPolicy,
  validateClusterNetworkPolicy,
  validatePolicyTier,
  validateTier,
  validateTierAgainst,
  validateTierUpdate,
  type AntreaNetworkPolicy,
  type ClusterNetworkPolicy,
} from '../../apis/crd/policy.js';
import { CONTROLPLANE_GROUP, CONTROLPLANE_VERSION } from '../../apis/controlplane.js';
import { STATS_GROUP } from '../../apis/stats.js';
import { ageColumn, col, defineResource, pick, text, type AdmissionOperation, type AdmissionView, type ResourceDef } from '../registry.js';

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

const CRD_GROUP = 'crd.antrea.io';

/** Antrea's policy webhook: on create and update, the policy's Tier must exist (`tier X does not exist`). */
export function admitAntreaPolicy(op: AdmissionOperation, obj: KubeObject, _old: KubeObject | undefined, view: AdmissionView): FieldError[] {
  if (op === 'delete') return [];
  const tier = tierNameOf((obj as ClusterNetworkPolicy).spec?.tier);
  if (view.get(CRD_GROUP, 'tiers', tier)) return [];
  const names = new Set<string>();
  for (const t of view.list(CRD_GROUP, 'tiers')) names.add(t.metadata.name ?? '');
  return names.size === 0 ? [] : validatePolicyTier(obj, names);
}

/**
 * Antrea's Tier webhook: on create, at most 20 Tiers and no shared priority; on delete, never a system Tier nor one
 * that policies reference. (Priority updates are refused by `validateTierUpdate`, which needs no other object.)
 */
export function admitTier(op: AdmissionOperation, obj: KubeObject, _old: KubeObject | undefined, view: AdmissionView): FieldError[] {
  if (op === 'create') return validateTierAgainst(obj, view.list(CRD_GROUP, 'tiers'));
  if (op !== 'delete') return [];
  const name = obj.metadata.name ?? '';
  const acnps = [...view.list(CRD_GROUP, 'clusternetworkpolicies')] as ClusterNetworkPolicy[];
  const anps = [...view.list(CRD_GROUP, 'networkpolicies')] as AntreaNetworkPolicy[];
  const problem = tierDeleteProblem(name, acnps, anps);
  return problem ? [forbidden('metadata.name', problem)] : [];
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
  admit: admitAntreaPolicy,
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
  admit: admitAntreaPolicy,
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
  admit: admitTier,
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
