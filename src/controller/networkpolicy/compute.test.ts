import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../apis/core.js';
import type { NetworkPolicy } from '../../apis/networking.js';
import type { ClusterNetworkPolicy } from '../../apis/crd/policy.js';
import { systemTierObject, systemTiers } from '../../apis/crd/policy.js';
import { compareRulePriority, PolicyComputer } from './compute.js';

const pod = (ns: string, name: string, labels: Record<string, string>, node: string, ip: string): Pod => ({
  metadata: { namespace: ns, name, labels },
  spec: { nodeName: node, containers: [] },
  status: { phase: 'Running', podIP: ip },
});
const np = (ns: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({ metadata: { namespace: ns, name, uid: `${ns}/${name}` }, spec });
const allowFrom = (ns: string, name: string, target: Record<string, string>, from: Record<string, string>) =>
  np(ns, name, { podSelector: { matchLabels: target }, ingress: [{ from: [{ podSelector: { matchLabels: from } }] }] });

function setup() {
  const c = new PolicyComputer();
  c.upsertNamespace({ metadata: { name: 'a', labels: { team: 'x' } } });
  c.upsertNamespace({ metadata: { name: 'b', labels: { team: 'y' } } });
  c.upsertPod(pod('a', 'web1', { app: 'web' }, 'n1', '10.0.1.2'));
  c.upsertPod(pod('a', 'web2', { app: 'web' }, 'n2', '10.0.2.2'));
  c.upsertPod(pod('a', 'cli', { app: 'client' }, 'n3', '10.0.3.2'));
  c.upsertPod(pod('b', 'web', { app: 'web' }, 'n3', '10.0.3.3'));
  return c;
}

test('equal selectors share one group; spans follow the applied-to Pods’ Nodes', () => {
  const c = setup();
  c.upsertK8sPolicy(allowFrom('a', 'p1', { app: 'web' }, { app: 'client' }));
  c.upsertK8sPolicy(allowFrom('a', 'p2', { app: 'web' }, { app: 'client' }));
  const ch = c.flush();
  assert.equal(c.stats().groups, 2, 'one applied-to group (web) and one address group (client), shared by both policies');
  const p1 = ch.policies.find((p) => p.name === 'a/p1')?.policy;
  const p2 = ch.policies.find((p) => p.name === 'a/p2')?.policy;
  assert.deepEqual(p1?.appliedToGroups, p2?.appliedToGroups);
  assert.deepEqual(p1?.rules[0]?.from.addressGroups, p2?.rules[0]?.from.addressGroups);
  assert.deepEqual(p1?.span, ['n1', 'n2'], 'only the Nodes of the applied-to Pods (web in Namespace a)');
  const ag = c.addressGroup(p1?.rules[0]?.from.addressGroups?.[0] ?? '');
  assert.deepEqual(ag?.members.map((m) => m.ips[0]), ['10.0.3.2']);
  assert.deepEqual(ag?.span, ['n1', 'n2'], 'an address group goes where its policies go');
  const atg = c.appliedToGroup(p1?.appliedToGroups[0] ?? '');
  assert.deepEqual(atg?.members.map((m) => m.pod.name).sort(), ['web1', 'web2']);
  assert.deepEqual(c.objectsForNode('n3').policies, [], 'n3 has no applied-to Pod');
});

test('namespaceSelector peers select across Namespaces and follow Namespace labels', () => {
  const c = setup();
  c.upsertK8sPolicy(np('a', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y' } } }] }] }));
  const name = c.flush().policies[0]?.policy?.rules[0]?.from.addressGroups?.[0] ?? '';
  assert.deepEqual(c.addressGroup(name)?.members.map((m) => m.pod.name), ['web']);
  c.upsertNamespace({ metadata: { name: 'a', labels: { team: 'y' } } });
  assert.equal(c.addressGroup(name)?.members.length, 4);
});

test('a Pod label change touches only the groups it leaves or joins, and reports member deltas', () => {
  const c = setup();
  c.upsertK8sPolicy(allowFrom('a', 'p1', { app: 'web' }, { app: 'client' }));
  c.flush();
  c.upsertPod(pod('a', 'cli', { app: 'web' }, 'n3', '10.0.3.2'));
  const ch = c.flush();
  const byKind = Object.fromEntries(ch.groups.map((g) => [g.kind, g]));
  assert.deepEqual(byKind.AddressGroup?.removed, ['a/cli']);
  assert.deepEqual(byKind.AppliedToGroup?.added.map((m) => m.pod.name), ['cli']);
  assert.deepEqual(ch.policies.map((p) => p.policy?.span), [['n1', 'n2', 'n3']], 'the policy now spans n3 too');
  assert.deepEqual(c.addressGroup(byKind.AddressGroup?.name ?? '')?.span, ['n1', 'n2', 'n3']);
  // A change that moves nothing produces nothing.
  c.upsertPod(pod('a', 'cli', { app: 'web', extra: '1' }, 'n3', '10.0.3.2'));
  assert.deepEqual(c.flush(), { groups: [], policies: [] });
});

test('deleting the last policy using a group deletes the group', () => {
  const c = setup();
  c.upsertK8sPolicy(allowFrom('a', 'p1', { app: 'web' }, { app: 'client' }));
  c.flush();
  c.deleteK8sPolicy('a/p1');
  const ch = c.flush();
  assert.deepEqual(ch.policies, [{ name: 'a/p1', op: 'delete' }]);
  assert.ok(ch.groups.every((g) => g.op === 'delete'));
  assert.equal(c.stats().groups, 0);
});

test('Antrea policies wait for their Tier and carry the tier and policy priorities', () => {
  const c = setup();
  const acnp: ClusterNetworkPolicy = {
    metadata: { name: 'c1', uid: 'c1' },
    spec: { tier: 'SecurityOps', priority: 3, appliedTo: [{ podSelector: { matchLabels: { app: 'web' } } }], ingress: [{ action: 'Drop', from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] },
  };
  assert.match(c.upsertAntreaPolicy('acnp', acnp)?.message ?? '', /tier SecurityOps does not exist/);
  for (const t of systemTiers) c.upsertTier(systemTierObject(t));
  const p = c.policy('c1');
  assert.equal(p?.tierPriority, 100);
  assert.equal(p?.priority, 3);
  assert.deepEqual(p?.span, ['n1', 'n2', 'n3'], 'a cluster-wide podSelector selects web Pods of every Namespace');
  assert.deepEqual(p?.rules[0]?.from.ipBlocks, [{ cidr: '10.0.0.0/8' }]);
});

test('the total order: tier, then policy priority, then rule index; K8s (251) between Application and Baseline', () => {
  const ranks = [
    { tier: 253, policy: 1, rule: 0 },
    { tier: 251, policy: 0, rule: 0 },
    { tier: 250, policy: 5, rule: 1 },
    { tier: 250, policy: 5, rule: 0 },
    { tier: 250, policy: 1.5, rule: 9 },
    { tier: 50, policy: 10000, rule: 0 },
  ];
  assert.deepEqual([...ranks].sort(compareRulePriority), [ranks[5], ranks[4], ranks[3], ranks[2], ranks[1], ranks[0]]);
});
