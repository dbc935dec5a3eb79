import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/meta.js';
import { policyGvr, systemTierObject, systemTiers } from '../../apis/crd/policy.js';
import { createStore, type Store } from '../store.js';
import { defaultResources } from '../registry.js';
import { isApiError } from '../types.js';
import { silentLogger } from '../../util/log.js';
import { policyResources } from './policy.js';

function newStore(t: { after(fn: () => unknown): void }): Store {
  const s = createStore({ logger: silentLogger, resources: [...defaultResources(), ...policyResources] });
  t.after(() => s.close());
  return s;
}

async function refused(p: Promise<unknown>, reason: 'Invalid' | 'Forbidden', message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isApiError(err, reason), String(err));
    assert.equal(err.statusCode, reason === 'Invalid' ? 422 : 403);
    assert.match(err.message, message);
    return true;
  });
}

const policySpec = (tier: string | undefined) => ({ ...(tier !== undefined ? { tier } : {}), priority: 1, appliedTo: [{ podSelector: {} }], ingress: [{ action: 'Drop' }] });
const acnp = (name: string, tier?: string) => ({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'ClusterNetworkPolicy', metadata: { name }, spec: policySpec(tier) }) as KubeObject;
const anp = (name: string, tier?: string) => ({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'NetworkPolicy', metadata: { name, namespace: 'default' }, spec: policySpec(tier) }) as KubeObject;
const tier = (name: string, priority: number) => ({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Tier', metadata: { name }, spec: { priority } }) as KubeObject;

async function withSystemTiers(s: Store): Promise<void> {
  for (const t of systemTiers) await s.create(policyGvr.tiers, undefined, systemTierObject(t));
}

test('a policy naming a Tier that does not exist is refused (create, update, patch), as by Antrea\'s webhook', async (t) => {
  const s = newStore(t);
  await withSystemTiers(s);
  const rv = s.resourceVersion();
  await refused(s.create(policyGvr.clusternetworkpolicies, undefined, acnp('a', 'missing')), 'Invalid', /^ClusterNetworkPolicy "a" is invalid: spec.tier: Invalid value: "missing": tier missing does not exist$/);
  await refused(s.create(policyGvr.antreanetworkpolicies, 'default', anp('b', 'Missing')), 'Invalid', /tier Missing does not exist/);
  assert.equal(s.resourceVersion(), rv, 'nothing stored');
  // Static names (case-sensitive), Tier CR names and the empty default all resolve to existing Tiers.
  await s.create(policyGvr.clusternetworkpolicies, undefined, acnp('static', 'SecurityOps'));
  await s.create(policyGvr.clusternetworkpolicies, undefined, acnp('cr', 'baseline'));
  const dflt = await s.create(policyGvr.antreanetworkpolicies, 'default', anp('dflt'));
  await refused(s.update(policyGvr.antreanetworkpolicies, 'default', { ...dflt, spec: policySpec('nope') } as KubeObject), 'Invalid', /tier nope does not exist/);
  await refused(s.patch(policyGvr.clusternetworkpolicies, undefined, 'cr', 'merge', { spec: { tier: 'nope' } }), 'Invalid', /tier nope does not exist/);
  // The controller's status writes are not admitted.
  await s.patch(policyGvr.clusternetworkpolicies, undefined, 'cr', 'merge', { status: { phase: 'Realized' } }, { subresource: 'status' });
  await s.create(policyGvr.tiers, undefined, tier('custom', 10));
  await s.patch(policyGvr.clusternetworkpolicies, undefined, 'cr', 'merge', { spec: { tier: 'custom' } });
});

test('with no Tier at all (AntreaPolicy off, or before the controller starts) policies are not checked against Tiers', async (t) => {
  const s = newStore(t);
  await s.create(policyGvr.clusternetworkpolicies, undefined, acnp('early', 'application'));
  await s.create(policyGvr.antreanetworkpolicies, 'default', anp('early', 'custom'));
});

test('Tiers: a shared priority and a 21st Tier are refused; system and referenced Tiers cannot be deleted', async (t) => {
  const s = newStore(t);
  await withSystemTiers(s);
  await s.create(policyGvr.tiers, undefined, tier('custom', 10));
  await refused(s.create(policyGvr.tiers, undefined, tier('dup', 10)), 'Invalid', /^Tier "dup" is invalid: spec.priority: Invalid value: 10: tier dup priority 10 overlaps with existing Tier$/);
  await refused(s.create(policyGvr.tiers, undefined, tier('dup', 100)), 'Invalid', /tier dup priority 100 overlaps with existing Tier/);
  for (let i = 0; i < 13; i++) await s.create(policyGvr.tiers, undefined, tier(`t${i}`, 11 + i));
  await refused(s.create(policyGvr.tiers, undefined, tier('t21', 40)), 'Invalid', /maximum number of Tiers supported: 20/);
  for (let i = 0; i < 13; i++) await s.delete(policyGvr.tiers, undefined, `t${i}`);

  const rv = s.resourceVersion();
  await refused(s.delete(policyGvr.tiers, undefined, 'emergency'), 'Forbidden', /^tiers\.crd\.antrea\.io "emergency" is forbidden: cannot delete reserved tier emergency$/);
  await refused(s.delete(policyGvr.tiers, undefined, 'application'), 'Forbidden', /cannot delete reserved tier application/);
  await s.create(policyGvr.clusternetworkpolicies, undefined, acnp('c1', 'custom'));
  await s.create(policyGvr.antreanetworkpolicies, 'default', anp('n1', 'custom'));
  await s.create(policyGvr.antreanetworkpolicies, 'default', anp('n2', 'custom'));
  const afterPolicies = s.resourceVersion();
  assert.notEqual(afterPolicies, rv);
  await refused(s.delete(policyGvr.tiers, undefined, 'custom'), 'Forbidden', /tier custom is referenced by 1 Antrea ClusterNetworkPolicies/);
  await refused(s.deleteCollection(policyGvr.tiers), 'Forbidden', /cannot delete reserved tier/);
  await s.delete(policyGvr.clusternetworkpolicies, undefined, 'c1');
  await refused(s.delete(policyGvr.tiers, undefined, 'custom'), 'Forbidden', /tier custom is referenced by 2 Antrea NetworkPolicies/);
  assert.equal((await s.list(policyGvr.tiers)).items.length, systemTiers.length + 1, 'every refused delete left the Tiers in place');
  await s.delete(policyGvr.antreanetworkpolicies, 'default', 'n1');
  await s.delete(policyGvr.antreanetworkpolicies, 'default', 'n2');
  await s.delete(policyGvr.tiers, undefined, 'custom');
  assert.equal(await s.get(policyGvr.tiers, undefined, 'custom').catch(() => undefined), undefined);
});
