import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/apis/core.js';
import { traceflowGvr, type Traceflow, type TraceflowSpec } from '../../src/apis/crd/traceflow.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import type { LocalCluster } from '../../src/local/cluster.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

const podObj = (name: string, node: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
});

async function runningPods(client: ApiClient, pods: Record<string, string>): Promise<Record<string, Pod>> {
  for (const [name, node] of Object.entries(pods)) await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj(name, node));
  return waitFor('running Pods with addresses', async () => {
    const list = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    const ready = list.filter((p) => p.status?.phase === 'Running' && p.status.podIP && p.metadata.name && p.metadata.name in pods);
    return ready.length === Object.keys(pods).length ? Object.fromEntries(ready.map((p) => [p.metadata.name as string, p])) : undefined;
  });
}

const traceflows = (client: ApiClient) => client.resource<Traceflow>(traceflowGvr);

async function createTraceflow(client: ApiClient, name: string, spec: TraceflowSpec): Promise<Traceflow> {
  return traceflows(client).create({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Traceflow', metadata: { name }, spec });
}

async function finished(client: ApiClient, name: string, timeoutMs = 10_000): Promise<Traceflow> {
  return waitFor(`Traceflow ${name} to finish`, async () => {
    const tf = await traceflows(client).get(name);
    return tf.status?.phase === 'Succeeded' || tf.status?.phase === 'Failed' ? tf : undefined;
  }, timeoutMs);
}

async function controllerTags(cluster: LocalCluster): Promise<Record<string, number>> {
  const res = await fetch(`${cluster.controller.url}/traceflow`);
  return ((await res.json()) as { tags: Record<string, number> }).tags;
}

describe('Traceflow', () => {
  test('a cross-Node trace shows the source Node, the tunnel and the delivery on the destination Node', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', server: 'node-2' });
    await createTraceflow(client, 'cross-node', {
      source: { namespace: 'default', pod: 'client' },
      destination: { namespace: 'default', pod: 'server' },
      packet: { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } },
    });
    const tf = await finished(client, 'cross-node');
    assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
    const byNode = Object.fromEntries((tf.status?.results ?? []).map((r) => [r.node, r]));
    const src = byNode['node-1'];
    const dst = byNode['node-2'];
    assert.ok(src && dst, 'both Nodes reported');
    assert.deepEqual(src.observations[0], { component: 'SpoofGuard', action: 'Forwarded' });
    const tunnel = src.observations.find((o) => o.component === 'Forwarding' && o.action === 'Forwarded');
    assert.ok(tunnel?.tunnelDstIP, 'out through the tunnel to the peer Node');
    assert.deepEqual(dst.observations[0], { component: 'Forwarding', action: 'Received' });
    const last = dst.observations.at(-1);
    assert.equal(last?.action, 'Delivered');
    assert.equal(last?.pod, 'default/server');
    assert.ok(pods.server);
  });
});
