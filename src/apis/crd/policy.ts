/**
 * `crd.antrea.io/v1alpha1` ClusterNetworkPolicy (acnp), NetworkPolicy (anp) and Tier (tr): types, the static Tiers,
 * and what Antrea's validating webhook rejects (`pkg/controller/networkpolicy/validate.go`, reference/antrea.md 4.3).
 *
 * Checks that need other objects (does the Tier exist, is a Tier still referenced, the 20-Tier limit, overlapping
 * Tier priorities) take the other objects as arguments, so the API server (prepareForCreate) and the controller can
 * both call them.
 *
 * antrea-ts does not implement ClusterGroups, FQDN peers, ExternalEntities, `toServices` or `namespaces.match`
 * yet: those fields are rejected with a Forbidden error naming the field rather than silently ignored.
 */
import { createHash } from 'node:crypto';
import type { GroupVersionResource, KubeObject } from '../meta.js';
import { type LabelSelector, validateLabelSelector } from '../labels.js';
import type { IPBlock, NetworkPolicyPort } from '../networking.js';
import { validateIPBlock, validatePolicyPort } from '../networking.js';
import {
  type FieldError,
  duplicate,
  eachOf,
  forbidden,
  invalid,
  isDNS1123Label,
  isDNS1123Subdomain,
  isObject,
  notSupported,
  required,
  typeInvalid,
  validateBoolean,
  validateObjectMeta,
} from '../validation.js';

export const policyGvr = {
  clusternetworkpolicies: { group: 'crd.antrea.io', version: 'v1alpha1', resource: 'clusternetworkpolicies' },
  antreanetworkpolicies: { group: 'crd.antrea.io', version: 'v1alpha1', resource: 'networkpolicies' },
  tiers: { group: 'crd.antrea.io', version: 'v1alpha1', resource: 'tiers' },
  k8snetworkpolicies: { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' },
} as const satisfies Record<string, GroupVersionResource>;

export type RuleAction = 'Allow' | 'Drop' | 'Reject' | 'Pass';
export const ruleActions: readonly RuleAction[] = ['Allow', 'Drop', 'Reject', 'Pass'];

export interface AntreaPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
  namespaces?: { match?: string };
  externalEntitySelector?: LabelSelector;
  group?: string;
  fqdn?: string;
}

export interface AntreaRule {
  action: RuleAction;
  name?: string;
  ports?: NetworkPolicyPort[];
  from?: AntreaPeer[];
  to?: AntreaPeer[];
  toServices?: { name: string; namespace: string }[];
  appliedTo?: AntreaPeer[];
  enableLogging?: boolean;
}

export interface AntreaPolicySpec {
  tier?: string;
  priority: number;
  appliedTo?: AntreaPeer[];
  ingress?: AntreaRule[];
  egress?: AntreaRule[];
}

export interface AntreaPolicyStatus {
  phase?: 'Pending' | 'Realizing' | 'Realized';
  observedGeneration?: number;
  currentNodesRealized?: number;
  desiredNodesRealized?: number;
}

export interface ClusterNetworkPolicy extends KubeObject {
  spec: AntreaPolicySpec;
  status?: AntreaPolicyStatus;
}

export interface AntreaNetworkPolicy extends KubeObject {
  spec: AntreaPolicySpec;
  status?: AntreaPolicyStatus;
}

export interface Tier extends KubeObject {
  spec: { priority: number; description?: string };
}

// ---------------------------------------------------------------- Tiers

/** The system Tiers the controller creates at start (pkg/controller/networkpolicy/tier.go). */
export const systemTiers: readonly { staticName: string; name: string; priority: number }[] = [
  { staticName: 'Emergency', name: 'emergency', priority: 50 },
  { staticName: 'SecurityOps', name: 'securityops', priority: 100 },
  { staticName: 'NetworkOps', name: 'networkops', priority: 150 },
  { staticName: 'Platform', name: 'platform', priority: 200 },
  { staticName: 'Application', name: 'application', priority: 250 },
  { staticName: 'Baseline', name: 'baseline', priority: 253 },
];
export const DEFAULT_TIER = 'application';
export const BASELINE_TIER_PRIORITY = 253;
/** The priority K8s NetworkPolicies take in the total order: after every Tier up to Application, before Baseline. */
export const K8S_POLICY_TIER_PRIORITY = 251;
export const MAX_TIERS = 20;
const reservedTierPriorities = new Set([251, 252, 254, 255]);

/** The Tier CR name a policy's `tier` refers to: static names (case-sensitive) map to their CRs; empty is application. */
export function tierNameOf(tier: string | undefined): string {
  if (!tier) return DEFAULT_TIER;
  return systemTiers.find((t) => t.staticName === tier)?.name ?? tier;
}

export function systemTierObject(t: (typeof systemTiers)[number]): Tier {
  return {
    apiVersion: 'crd.antrea.io/v1alpha1',
    kind: 'Tier',
    metadata: { name: t.name },
    spec: { priority: t.priority, description: `[READ-ONLY]: System generated ${t.staticName} Tier` },
  };
}

export function isSystemTier(name: string | undefined): boolean {
  return systemTiers.some((t) => t.name === name);
}

export function validateTier(obj: KubeObject): FieldError[] {
  const o = obj as Tier;
  const errs = validateObjectMeta(o.metadata, { namespaced: false, nameValidator: isDNS1123Subdomain });
  const spec: unknown = o.spec;
  if (!isObject(spec)) return [...errs, required('spec')];
  const p = spec.priority;
  if (p === undefined || p === null) errs.push(required('spec.priority'));
  else if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 255) errs.push(invalid('spec.priority', p, 'must be an integer between 0 and 255'));
  else if (reservedTierPriorities.has(p) && !isSystemTier(o.metadata.name)) errs.push(invalid('spec.priority', p, `tier ${o.metadata.name} priority ${p} is reserved`));
  if (spec.description !== undefined && typeof spec.description !== 'string') errs.push(typeInvalid('spec.description', spec.description, 'must be a string'));
  return errs;
}

/** Checks against the other Tiers on create: at most 20, and no two with one priority. */
export function validateTierAgainst(obj: KubeObject, others: Iterable<KubeObject>): FieldError[] {
  const o = obj as Tier;
  const list = [...others].filter((t) => t.metadata.name !== o.metadata.name) as Tier[];
  if (list.length + 1 > MAX_TIERS) return [forbidden('metadata.name', `maximum number of Tiers supported: ${MAX_TIERS}`)];
  if (list.some((t) => t.spec?.priority === o.spec?.priority)) {
    return [invalid('spec.priority', o.spec.priority, `tier ${o.metadata.name} priority ${o.spec.priority} overlaps with existing Tier`)];
  }
  return [];
}

export function validateTierUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const p = (obj as Tier).spec?.priority;
  const q = (old as Tier).spec?.priority;
  return p !== q ? [forbidden('spec.priority', 'update to Tier priority is not allowed')] : [];
}

/** Why a Tier may not be deleted, or undefined: system Tiers never, others not while a policy uses them. */
export function tierDeleteProblem(name: string, acnps: readonly ClusterNetworkPolicy[], anps: readonly AntreaNetworkPolicy[]): string | undefined {
  if (isSystemTier(name)) return `cannot delete reserved tier ${name}`;
  const c = acnps.filter((p) => tierNameOf(p.spec?.tier) === name).length;
  if (c > 0) return `tier ${name} is referenced by ${c} Antrea ClusterNetworkPolicies`;
  const n = anps.filter((p) => tierNameOf(p.spec?.tier) === name).length;
  if (n > 0) return `tier ${name} is referenced by ${n} Antrea NetworkPolicies`;
  return undefined;
}

/** The webhook's `tier %s does not exist`, given the Tier names that exist. */
export function validatePolicyTier(obj: KubeObject, tiers: ReadonlySet<string>): FieldError[] {
  const tier = (obj as ClusterNetworkPolicy).spec?.tier;
  const name = tierNameOf(tier);
  return tiers.has(name) ? [] : [notSupportedTier(tier ?? '')];
}

const notSupportedTier = (tier: string): FieldError => invalid('spec.tier', tier, `tier ${tier} does not exist`);

// ---------------------------------------------------------------- policies

const unsupportedPeerFields = ['externalEntitySelector', 'group', 'fqdn'] as const;

function validatePeer(errs: FieldError[], p: string, peer: unknown, opts: { cluster: boolean; appliedTo: boolean }): void {
  if (!isObject(peer)) return void errs.push(typeInvalid(p, peer, 'must be an object'));
  for (const f of unsupportedPeerFields) if (peer[f] !== undefined) errs.push(forbidden(`${p}.${f}`, `${f} is not supported by antrea-ts yet`));
  if (peer.namespaces !== undefined) {
    if (!opts.cluster) errs.push(forbidden(`${p}.namespaces`, 'namespaces can only be set in Antrea ClusterNetworkPolicies'));
    else if (peer.namespaceSelector !== undefined) errs.push(forbidden(p, 'namespaces and namespaceSelector cannot be set at the same time for a single NetworkPolicyPeer'));
    else errs.push(forbidden(`${p}.namespaces`, 'namespaces.match is not supported by antrea-ts yet'));
  }
  if (peer.namespaceSelector !== undefined && !opts.cluster) {
    // An Antrea NetworkPolicy is confined to its Namespace: reaching other Namespaces is the ClusterNetworkPolicy's job.
    if (opts.appliedTo) errs.push(forbidden(`${p}.namespaceSelector`, 'namespaceSelector cannot be set in appliedTo of an Antrea NetworkPolicy'));
  }
  if (peer.ipBlock !== undefined) {
    if (opts.appliedTo) errs.push(forbidden(`${p}.ipBlock`, 'ipBlock cannot be set in appliedTo'));
    else validateIPBlock(errs, `${p}.ipBlock`, peer.ipBlock);
    if (peer.podSelector !== undefined || peer.namespaceSelector !== undefined) errs.push(forbidden(p, 'ipBlock cannot be set with other fields of a peer'));
  }
  const any = ['podSelector', 'namespaceSelector', 'ipBlock', 'namespaces', ...unsupportedPeerFields].some((k) => peer[k] !== undefined);
  if (!any) errs.push(required(p, 'must specify a peer'));
  errs.push(...validateLabelSelector(peer.podSelector, `${p}.podSelector`), ...validateLabelSelector(peer.namespaceSelector, `${p}.namespaceSelector`));
}

function validateSpec(errs: FieldError[], spec: Record<string, unknown>, cluster: boolean): void {
  const prio = spec.priority;
  if (prio === undefined || prio === null) errs.push(required('spec.priority'));
  else if (typeof prio !== 'number' || !Number.isFinite(prio) || prio < 1 || prio > 10000) errs.push(invalid('spec.priority', prio, 'must be a number between 1 and 10000'));
  if (spec.tier !== undefined && typeof spec.tier !== 'string') errs.push(typeInvalid('spec.tier', spec.tier, 'must be a string'));
  const baseline = tierNameOf(spec.tier as string | undefined) === 'baseline';
  const specApplied = Array.isArray(spec.appliedTo) && spec.appliedTo.length > 0;
  eachOf(errs, 'spec.appliedTo', spec.appliedTo, (peer, p) => validatePeer(errs, p, peer, { cluster, appliedTo: true }));
  let withRuleApplied = 0;
  let rules = 0;
  const names = new Set<string>();
  for (const dir of ['ingress', 'egress'] as const) {
    eachOf(errs, `spec.${dir}`, spec[dir], (r, p) => {
      rules++;
      if (!isObject(r)) return void errs.push(typeInvalid(p, r, 'must be an object'));
      if (r.action === undefined) errs.push(required(`${p}.action`));
      else if (!ruleActions.includes(r.action as RuleAction)) errs.push(notSupported(`${p}.action`, r.action, ruleActions));
      else if (r.action === 'Pass' && baseline) errs.push(forbidden(`${p}.action`, '`Pass` action should not be set for Baseline Tier policy rules'));
      if (r.name !== undefined) {
        if (typeof r.name !== 'string') errs.push(typeInvalid(`${p}.name`, r.name, 'must be a string'));
        else if (names.has(r.name)) errs.push(duplicate(`${p}.name`, r.name));
        else {
          names.add(r.name);
          for (const m of isDNS1123Label(r.name)) errs.push(invalid(`${p}.name`, r.name, m));
        }
      }
      validateBoolean(errs, `${p}.enableLogging`, r.enableLogging);
      eachOf(errs, `${p}.ports`, r.ports, (port, pp) => validatePolicyPort(errs, pp, port));
      const peers = dir === 'ingress' ? 'from' : 'to';
      const other = dir === 'ingress' ? 'to' : 'from';
      if (r[other] !== undefined) errs.push(forbidden(`${p}.${other}`, `${other} cannot be set in an ${dir} rule`));
      eachOf(errs, `${p}.${peers}`, r[peers], (peer, pp) => validatePeer(errs, pp, peer, { cluster, appliedTo: false }));
      if (r.toServices !== undefined) errs.push(forbidden(`${p}.toServices`, '`toServices` is not supported by antrea-ts yet'));
      if (Array.isArray(r.appliedTo) && r.appliedTo.length > 0) {
        withRuleApplied++;
        eachOf(errs, `${p}.appliedTo`, r.appliedTo, (peer, pp) => validatePeer(errs, pp, peer, { cluster, appliedTo: true }));
      }
    });
  }
  if (specApplied && withRuleApplied > 0) errs.push(forbidden('spec.appliedTo', 'appliedTo should not be set in both spec and rules'));
  else if (!specApplied && withRuleApplied === 0) errs.push(required('spec.appliedTo', 'appliedTo needs to be set in either spec or rules'));
  else if (!specApplied && withRuleApplied !== rules) errs.push(invalid('spec', 'appliedTo', 'appliedTo field should either be set in all rules or in none of them'));
}

function validatePolicy(obj: KubeObject, cluster: boolean): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: !cluster, nameValidator: isDNS1123Subdomain });
  const spec: unknown = (obj as ClusterNetworkPolicy).spec;
  if (!isObject(spec)) return [...errs, required('spec')];
  validateSpec(errs, spec, cluster);
  return errs;
}

export const validateClusterNetworkPolicy = (obj: KubeObject): FieldError[] => validatePolicy(obj, true);
export const validateAntreaNetworkPolicy = (obj: KubeObject): FieldError[] => validatePolicy(obj, false);

/** Antrea's mutating webhook names unnamed rules `<dir>-<action>-<7 hex of the rule's SHA-1>`; we default the same way. */
export function defaultPolicyRuleNames(obj: KubeObject): void {
  const spec = (obj as ClusterNetworkPolicy).spec;
  if (!isObject(spec)) return;
  for (const dir of ['ingress', 'egress'] as const) {
    const rules = spec[dir];
    if (!Array.isArray(rules)) continue;
    for (const r of rules) {
      if (!isObject(r) || (r.name !== undefined && r.name !== '') || typeof r.action !== 'string') continue;
      const hash = createHash('sha1').update(JSON.stringify(r)).digest('hex').slice(0, 7);
      r.name = `${dir}-${r.action.toLowerCase()}-${hash}`;
    }
  }
}
