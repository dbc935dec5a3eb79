import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultPolicyRuleNames,
  systemTierObject,
  systemTiers,
  tierDeleteProblem,
  validateAntreaNetworkPolicy,
  validateClusterNetworkPolicy,
  validatePolicyTier,
  validateTier,
  validateTierAgainst,
  validateTierUpdate,
  type ClusterNetworkPolicy,
} from './policy.js';

const acnp = (spec: Record<string, unknown>): ClusterNetworkPolicy =>
  ({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'ClusterNetworkPolicy', metadata: { name: 'p' }, spec }) as unknown as ClusterNetworkPolicy;
const anp = (spec: Record<string, unknown>) => ({ ...acnp(spec), kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'ns' } });
const fields = (errs: { field: string; detail?: string }[]) => errs.map((e) => `${e.field}: ${e.detail ?? ''}`);

const ok = { priority: 5, appliedTo: [{ podSelector: {} }], ingress: [{ action: 'Allow', from: [{ podSelector: { matchLabels: { a: 'b' } } }] }] };

test('a well-formed ClusterNetworkPolicy passes', () => {
  assert.deepEqual(validateClusterNetworkPolicy(acnp(ok)), []);
});

test('priority out of range and unknown actions are rejected', () => {
  assert.match(fields(validateClusterNetworkPolicy(acnp({ ...ok, priority: 0 }))).join(), /spec.priority: must be a number between 1 and 10000/);
  assert.match(fields(validateClusterNetworkPolicy(acnp({ ...ok, priority: 10001 }))).join(), /spec.priority/);
  const e = validateClusterNetworkPolicy(acnp({ ...ok, ingress: [{ action: 'Accept' }] }));
  assert.equal(e[0]?.type, 'FieldValueNotSupported');
  assert.equal(e[0]?.field, 'spec.ingress[0].action');
});

test('bad port ranges give Antrea’s reasons', () => {
  const rule = (port: Record<string, unknown>) => acnp({ ...ok, ingress: [{ action: 'Allow', ports: [port] }] });
  assert.match(fields(validateClusterNetworkPolicy(rule({ port: 90, endPort: 80 }))).join(), /`endPort` should be greater than or equal to `port`/);
  assert.match(fields(validateClusterNetworkPolicy(rule({ endPort: 80 }))).join(), /if `endPort` is specified `port` must be specified/);
  assert.match(fields(validateClusterNetworkPolicy(rule({ port: 'http', endPort: 80 }))).join(), /if `port` is a string `endPort` cannot be specified/);
  assert.deepEqual(validateClusterNetworkPolicy(rule({ port: 80, endPort: 90 })), []);
});

test('appliedTo placement rules', () => {
  const both = { priority: 1, appliedTo: [{ podSelector: {} }], ingress: [{ action: 'Allow', appliedTo: [{ podSelector: {} }] }] };
  assert.match(fields(validateClusterNetworkPolicy(acnp(both))).join(), /appliedTo should not be set in both spec and rules/);
  assert.match(fields(validateClusterNetworkPolicy(acnp({ priority: 1, ingress: [{ action: 'Allow' }] }))).join(), /appliedTo needs to be set in either spec or rules/);
  const some = { priority: 1, ingress: [{ action: 'Allow', appliedTo: [{ podSelector: {} }] }, { action: 'Drop' }] };
  assert.match(fields(validateClusterNetworkPolicy(acnp(some))).join(), /either be set in all rules or in none of them/);
});

test('an Antrea NetworkPolicy may not select Namespaces in appliedTo; namespaces.match is for ClusterNetworkPolicies', () => {
  const bad = { ...ok, appliedTo: [{ namespaceSelector: {} }] };
  assert.match(fields(validateAntreaNetworkPolicy(anp(bad))).join(), /namespaceSelector cannot be set in appliedTo/);
  assert.deepEqual(validateClusterNetworkPolicy(acnp(bad)), []);
  const self = { ...ok, ingress: [{ action: 'Allow', from: [{ namespaces: { match: 'Self' }, namespaceSelector: {} }] }] };
  assert.match(fields(validateClusterNetworkPolicy(acnp(self))).join(), /namespaces and namespaceSelector cannot be set at the same time/);
});

test('invalid selectors and Pass in the baseline tier', () => {
  const sel = { ...ok, appliedTo: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }] };
  assert.equal(validateClusterNetworkPolicy(acnp(sel))[0]?.field, 'spec.appliedTo[0].podSelector.matchExpressions[0].operator');
  const pass = { ...ok, tier: 'baseline', ingress: [{ action: 'Pass' }] };
  assert.match(fields(validateClusterNetworkPolicy(acnp(pass))).join(), /`Pass` action should not be set for Baseline Tier policy rules/);
});

test('rule names are unique and defaulted like the mutating webhook', () => {
  const dup = { ...ok, ingress: [{ action: 'Allow', name: 'r' }, { action: 'Drop', name: 'r' }] };
  assert.equal(validateClusterNetworkPolicy(acnp(dup))[0]?.type, 'FieldValueDuplicate');
  const p = acnp({ ...ok });
  defaultPolicyRuleNames(p);
  assert.match(p.spec.ingress?.[0]?.name ?? '', /^ingress-allow-[0-9a-f]{7}$/);
});

test('unknown tier', () => {
  const tiers = new Set(systemTiers.map((t) => t.name));
  assert.deepEqual(validatePolicyTier(acnp({ ...ok, tier: 'SecurityOps' }), tiers), []);
  assert.deepEqual(validatePolicyTier(acnp(ok), tiers), []);
  assert.match(validatePolicyTier(acnp({ ...ok, tier: 'nope' }), tiers)[0]?.detail ?? '', /tier nope does not exist/);
});

test('Tier rules: range, reserved, overlap, limit, immutable priority, delete in use', () => {
  const tier = (name: string, priority: number) => ({ metadata: { name }, spec: { priority } });
  assert.deepEqual(validateTier(tier('t', 10)), []);
  assert.match(validateTier(tier('t', 256))[0]?.detail ?? '', /between 0 and 255/);
  assert.match(validateTier(tier('t', 252))[0]?.detail ?? '', /tier t priority 252 is reserved/);
  const system = systemTiers.map(systemTierObject);
  assert.match(validateTierAgainst(tier('t', 100), system)[0]?.detail ?? '', /overlaps with existing Tier/);
  const many = Array.from({ length: 20 }, (_, i) => tier(`x${i}`, i));
  assert.match(validateTierAgainst(tier('t', 99), many)[0]?.detail ?? '', /maximum number of Tiers supported: 20/);
  assert.match(validateTierUpdate(tier('t', 1), tier('t', 2))[0]?.detail ?? '', /update to Tier priority is not allowed/);
  assert.equal(tierDeleteProblem('emergency', [], []), 'cannot delete reserved tier emergency');
  assert.equal(tierDeleteProblem('t', [acnp({ ...ok, tier: 't' })], []), 'tier t is referenced by 1 Antrea ClusterNetworkPolicies');
  assert.equal(tierDeleteProblem('t', [], []), undefined);
});
