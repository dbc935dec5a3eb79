import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../datapath/sim/cluster.js';
import { nodeConfig, peerOf, podOn } from '../../datapath/pipeline/testing.js';
import { flowIdentity } from '../../datapath/pipeline/render.js';
import { ruleStatsFromConjMetrics, ruleStatsFromFlowCounters } from './counters.js';

test('rule counters by rule ID: from conjunction metrics (simulator) and from per-flow counters (OVS dump) agree', async () => {
  const c = await SimCluster.create();
  const cfgs = [nodeConfig(1), nodeConfig(2)] as const;
  const [n1, n2] = [await c.addNode(cfgs[0]), await c.addNode(cfgs[1])];
  await n1.upsertPeerNode(peerOf(cfgs[1]));
  await n2.upsertPeerNode(peerOf(cfgs[0]));
  const [a, a2, b] = [podOn(cfgs[0], 0), podOn(cfgs[0], 1), podOn(cfgs[1], 0)];
  await n1.upsertPod(a);
  await n1.upsertPod(a2);
  await n2.upsertPod(b);
  await n2.upsertPolicyRule({
    ruleID: 'allow-a-80', conjID: 5, direction: 'In', action: 'Allow', kind: 'K8sNetworkPolicy',
    from: { ipBlocks: [a.ips[0] as string] }, to: { ofPorts: [b.ofPort] }, services: [{ protocol: 'TCP', port: 80 }], policyRef: 'K8sNetworkPolicy:default/allow-a',
  });
  await n2.upsertPolicyRule({
    ruleID: 'deny-a2', conjID: 9, direction: 'In', action: 'Drop', kind: 'AntreaNative', priority: 14000,
    from: { ipBlocks: [`${a2.ips[0] as string}/32`] }, to: { ofPorts: [b.ofPort] }, policyRef: 'AntreaClusterNetworkPolicy:deny',
  });
  const ok = await c.connect({ from: { pod: 'default/' + a.name }, to: { ip: b.ips[0] as string, port: 80 }, protocol: 'TCP', exchanges: 2 });
  assert.ok(ok.established, ok.failure?.dropped?.reason);
  for (let i = 0; i < 3; i++) assert.equal((await c.send({ from: { pod: 'default/' + a2.name }, to: { ip: b.ips[0] as string, port: 80 }, protocol: 'UDP' })).delivered, false);

  const fromConj = ruleStatsFromConjMetrics(n2.ruleMetrics(), (id) => n2.compiler.ruleIDOf(id));
  assert.equal(fromConj.get('allow-a-80')?.sessions, 1);
  assert.equal(fromConj.get('allow-a-80')?.packets, ok.sent.request + ok.sent.reply);
  assert.equal(fromConj.get('deny-a2')?.sessions, 3, 'every denied packet is a session attempt');
  assert.equal(fromConj.get('deny-a2')?.packets, 3);

  // What `ovs-ofctl dump-flows` would report: counters by flow identity.
  const byIdentity = new Map(n2.bridge.flowStats().map((s) => [flowIdentity(s.flow), { packets: s.packets, bytes: s.bytes }]));
  const fromFlows = ruleStatsFromFlowCounters(n2.compiler.policyRuleIDs(), (id) => n2.compiler.flowsOf(`policyRule/${id}`), byIdentity);
  assert.deepEqual(fromFlows, fromConj);

  // A conjunction no installed rule holds is not reported.
  await n2.removePolicyRule('deny-a2');
  assert.equal(ruleStatsFromConjMetrics(new Map([[9, { sessions: 1, packets: 1, bytes: 1 }]]), (id) => n2.compiler.ruleIDOf(id)).size, 0);
  await c.close();
});
