// The flow exporter on the simulator's real conntrack: the datapath's ct_label layout (ingress rule id in bits 0..31,
// egress in 32..63) decodes to the rules installed on that Node, and the counters are the connection's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../datapath/sim/cluster.js';
import { ManualClock } from '../../datapath/sim/clock.js';
import { nodeConfig, peerOf, podOn } from '../../datapath/pipeline/testing.js';
import type { Pod } from '../../apis/core.js';
import { ClusterIndex } from './enrich.js';
import { InstalledRuleLookup } from './policies.js';
import type { InstalledRule } from '../networkpolicy/index.js';
import { buildRecord } from './record.js';
import { ConnectionStore } from './store.js';
import { FlowEndReason, FlowType, PolicyTypeCode, RuleActionCode, type Connection } from './types.js';

test('a connection allowed by an egress and an ingress rule names both policies, with the counters of the traffic', async () => {
  const clock = new ManualClock();
  const c = await SimCluster.create({ clock });
  const cfgs = [nodeConfig(1, 'encap', 'geneve'), nodeConfig(2, 'encap', 'geneve')];
  const n1 = await c.addNode(cfgs[0]!);
  const n2 = await c.addNode(cfgs[1]!);
  await n1.upsertPeerNode(peerOf(cfgs[1]!));
  await n2.upsertPeerNode(peerOf(cfgs[0]!));
  const a = podOn(cfgs[0]!, 0);
  const b = podOn(cfgs[1]!, 0);
  await n1.upsertPod(a);
  await n2.upsertPod(b);
  const egress = { ruleID: 'acnp-out', conjID: 11, direction: 'Out' as const, action: 'Allow' as const, kind: 'AntreaNative' as const, priority: 14000, from: { ipBlocks: [a.ips[0]!] }, to: { ipBlocks: [`${b.ips[0]!}/32`] }, policyRef: 'AntreaClusterNetworkPolicy:allow-out', ruleName: 'to-b' };
  const ingress = { ruleID: 'knp-in', conjID: 5, direction: 'In' as const, action: 'Allow' as const, kind: 'K8sNetworkPolicy' as const, from: { ipBlocks: [a.ips[0]!] }, to: { ofPorts: [b.ofPort] }, services: [{ protocol: 'TCP' as const, port: 80 }], policyRef: 'K8sNetworkPolicy:default/allow-a' };
  await n1.upsertPolicyRule(egress);
  await n2.upsertPolicyRule(ingress);
  // What the agent's NetworkPolicy module publishes for each Node (its installedRules).
  const { ruleName, ...egressRule } = egress;
  const installed = new Map<string, Map<string, InstalledRule>>([
    ['node1', new Map([[egress.ruleID, { rule: egressRule, policyUID: 'u1', ruleName } as InstalledRule]])],
    ['node2', new Map([[ingress.ruleID, { rule: ingress, policyUID: 'u2' } as InstalledRule]])],
  ]);

  const conn = await c.connect({ from: { pod: `${a.namespace}/${a.name}` }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP', exchanges: 2, close: true });
  assert.ok(conn.established, conn.failure?.dropped?.reason);

  const pods = new Map([
    [a.ips[0]!, { name: a.name, node: 'node1' }],
    [b.ips[0]!, { name: b.name, node: 'node2' }],
  ]);
  const recordOn = async (node: 'node1' | 'node2') => {
    const index = new ClusterIndex(new InstalledRuleLookup(node, installed));
    for (const [ip, p] of pods) index.upsertPod({ metadata: { namespace: 'default', name: p.name }, spec: { nodeName: p.node, containers: [] }, status: { podIP: ip } } as unknown as Pod);
    const store = new ConnectionStore({ activeTimeoutMs: 5000, idleTimeoutMs: 5000, enricher: index });
    store.poll(await c.conntrack(node), clock.now());
    const out: { c: Connection; reason: number }[] = [];
    store.exportExpired(clock.now(), 10, (conn2, reason) => out.push({ c: conn2, reason }));
    assert.equal(out.length, 1, `${node}: one record`);
    return buildRecord(out[0]!.c, out[0]!.reason);
  };

  const r1 = await recordOn('node1');
  assert.equal(r1[2], FlowEndReason.EndOfFlow);
  assert.equal(r1[6], conn.sent.request);
  assert.equal(r1[7], conn.bytes.request);
  assert.equal(r1[12], conn.sent.reply);
  assert.equal(r1[13], conn.bytes.reply);
  assert.deepEqual(r1.slice(24, 29), ['', '', 0, '', 0], 'no ingress rule on the sending Node');
  assert.deepEqual(r1.slice(29, 34), ['allow-out', '', PolicyTypeCode.AntreaClusterNetworkPolicy, 'to-b', RuleActionCode.Allow]);
  assert.equal(r1[35], FlowType.InterNode);

  const r2 = await recordOn('node2');
  assert.deepEqual(r2.slice(24, 29), ['allow-a', 'default', PolicyTypeCode.K8sNetworkPolicy, '', RuleActionCode.Allow]);
  assert.deepEqual(r2.slice(29, 34), ['', '', 0, '', 0], 'no egress rule on the receiving Node');
  assert.equal(r2[6], conn.sent.request);
  assert.equal(r2[13], conn.bytes.reply);
});
