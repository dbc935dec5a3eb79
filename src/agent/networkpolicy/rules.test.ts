import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressGroup, AppliedToGroup, ControlplaneNetworkPolicy, GroupMember } from '../../apis/controlplane.js';
import { policyFlows } from '../../datapath/pipeline/stages/policy.js';
import { assignPriorities, buildNodeRules, NO_PEER } from './rules.js';

const member = (name: string, ip: string, node: string, ports?: GroupMember['ports']): GroupMember => ({ pod: { namespace: 'ns', name }, ips: [ip], node, ...(ports ? { ports } : {}) });
const group = (kind: 'AddressGroup' | 'AppliedToGroup', name: string, members: GroupMember[]) => ({ kind, metadata: { name }, members, span: ['n1'] }) as AddressGroup & AppliedToGroup;

const targets = group('AppliedToGroup', 'tg', Array.from({ length: 10 }, (_, i) => member(`t${i}`, `10.0.1.${i + 2}`, i < 8 ? 'n1' : 'n2', [{ name: 'http', port: 8080 + (i % 2), protocol: 'TCP' }])));
const peers = group('AddressGroup', 'pg', Array.from({ length: 20 }, (_, i) => member(`p${i}`, `10.0.2.${i + 2}`, 'n2')));
const ofPorts = new Map(targets.members.map((m, i) => [`ns/${m.pod.name}`, 10 + i]));

const policy = (over: Partial<ControlplaneNetworkPolicy>): ControlplaneNetworkPolicy => ({
  metadata: { name: 'uid1' },
  sourceRef: { type: 'K8sNetworkPolicy', namespace: 'ns', name: 'np', uid: 'uid1' },
  appliedToGroups: ['tg'],
  rules: [{ direction: 'In', from: { addressGroups: ['pg'] }, to: {}, priority: 0 }],
  policyTypes: ['Ingress'],
  span: ['n1'],
  ...over,
});

test('one rule with M peers and N local targets is one conjunction costing M+N match flows', () => {
  const rules = buildNodeRules('n1', { policies: [policy({})], addressGroups: [peers], appliedToGroups: [targets] }, ofPorts);
  const rule = rules.find((r) => r.ruleID === 'uid1/In/0');
  assert.equal(rule?.from.ipBlocks?.length, 20);
  assert.deepEqual(rule?.to.ofPorts, [10, 11, 12, 13, 14, 15, 16, 17], 'only the targets on this Node, by OF port');
  const flows = policyFlows({ ...rule!, conjID: 7 }, 1n);
  const matchFlows = flows.filter((f) => f.actions.some((a) => JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).includes('conjunction')));
  assert.equal(matchFlows.length, 20 + 8);
  const iso = rules.find((r) => r.ruleID === 'uid1/isolate-In');
  assert.deepEqual(iso?.from.ipBlocks, [NO_PEER], 'K8s isolation: a rule no packet matches, for its default drops');
});

test('named ports split a rule per resolved port; egress uses the targets’ IPs', () => {
  const p = policy({ rules: [{ direction: 'In', from: { addressGroups: ['pg'] }, to: {}, services: [{ protocol: 'TCP', port: 'http' }], priority: 0 }] });
  const rules = buildNodeRules('n1', { policies: [p], addressGroups: [peers], appliedToGroups: [targets] }, ofPorts).filter((r) => !r.ruleID.includes('isolate'));
  assert.deepEqual(rules.map((r) => [r.services?.[0]?.port, r.to.ofPorts?.length]).sort(), [[8080, 4], [8081, 4]]);
  const e = policy({ rules: [{ direction: 'Out', from: {}, to: { ipBlocks: [{ cidr: '10.0.0.0/24', except: ['10.0.0.0/25'] }] }, priority: 0 }], policyTypes: ['Egress'] });
  const [out] = buildNodeRules('n1', { policies: [e], addressGroups: [], appliedToGroups: [targets] }, ofPorts);
  assert.deepEqual(out?.to.ipBlocks, ['10.0.0.128/25']);
  assert.equal(out?.from.ipBlocks?.length, 8);
});

test('a rule whose peers select nothing matches nothing (it is not "any")', () => {
  const empty = group('AddressGroup', 'pg', []);
  const rules = buildNodeRules('n1', { policies: [policy({})], addressGroups: [empty], appliedToGroups: [targets] }, ofPorts);
  assert.deepEqual(rules.map((r) => r.ruleID), ['uid1/isolate-In']);
});

test('OpenFlow priorities follow tier, policy priority, rule order; Baseline in its own low range', () => {
  const antrea = (uid: string, tier: number, prio: number, rules: number): ControlplaneNetworkPolicy =>
    policy({
      metadata: { name: uid },
      sourceRef: { type: 'AntreaClusterNetworkPolicy', name: uid, uid },
      tierPriority: tier,
      priority: prio,
      rules: Array.from({ length: rules }, (_, i) => ({ direction: 'In' as const, from: { addressGroups: ['pg'] }, to: {}, action: 'Drop' as const, priority: i })),
    });
  const drafts = buildNodeRules('n1', { policies: [antrea('app', 250, 1, 2), antrea('sec', 100, 9, 1), antrea('base', 253, 1, 1), antrea('sec2', 100, 2.5, 1)], addressGroups: [peers], appliedToGroups: [targets] }, ofPorts);
  const prio = assignPriorities(drafts);
  const order = [...prio].sort((a, b) => b[1] - a[1]).map(([id]) => id);
  assert.deepEqual(order, ['sec2/In/0', 'sec/In/0', 'app/In/0', 'app/In/1', 'base/In/0']);
  assert.ok((prio.get('base/In/0') ?? 999) <= 180, 'Baseline below the K8s default drops (200)');
  assert.equal(drafts.find((d) => d.ruleID === 'base/In/0')?.kind, 'Baseline');
});
