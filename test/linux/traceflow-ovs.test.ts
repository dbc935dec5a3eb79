/**
 * Traceflow on `antrea local --datapath ovs`: the agents trace the packet with ofproto/trace through the real bridges
 * (root and Open vSwitch needed; skipped with the reason otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/apis/core.js';
import { traceflowGvr, type Traceflow } from '../../src/apis/crd/traceflow.js';
import { gvr } from '../../src/apiserver/registry.js';
import { ovsAvailable } from '../../src/datapath/ovs/exec.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

const available = await ovsAvailable();
const skip = available.ok ? false : `skipped: Traceflow on OVS needs root and Open vSwitch: ${available.reason}`;

const pod = (name: string, node: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] },
});

test('Traceflow on Open vSwitch: a cross-Node trace Succeeds with the tunnel and the delivery', { skip, timeout: 240_000 }, async (t) => {
  const cluster = await startLocalCluster(t, { nodes: 2, datapath: 'ovs' });
  const client = cluster.client();
  for (const [name, node] of [['client', 'node-1'], ['server', 'node-2']] as const) await client.resource<Pod>(gvr.pods).inNamespace('default').create(pod(name, node));
  await waitFor('two running Pods', async () => {
    const pods = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    return pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length === 2 || undefined;
  }, 120_000);
  const traceflows = client.resource<Traceflow>(traceflowGvr);
  await traceflows.create({
    apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Traceflow', metadata: { name: 'ovs-cross-node' },
    spec: { source: { namespace: 'default', pod: 'client' }, destination: { namespace: 'default', pod: 'server' }, packet: { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } } },
  });
  const tf = await waitFor('the Traceflow to finish', async () => {
    const cur = await traceflows.get('ovs-cross-node');
    return cur.status?.phase === 'Succeeded' || cur.status?.phase === 'Failed' ? cur : undefined;
  }, 30_000);
  assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
  const byNode = Object.fromEntries((tf.status?.results ?? []).map((r) => [r.node, r.observations]));
  assert.deepEqual(byNode['node-1']?.[0], { component: 'SpoofGuard', action: 'Forwarded' });
  assert.ok(byNode['node-1']?.at(-1)?.tunnelDstIP, `out through the tunnel: ${JSON.stringify(byNode['node-1'])}`);
  assert.deepEqual(byNode['node-2']?.at(-1), { component: 'Forwarding', componentInfo: 'Output', action: 'Delivered', pod: 'default/server' });
});
