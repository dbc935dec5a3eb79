import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../src/apis/core.js';
import { egressGvr, externalIPPoolGvr, type Egress, type ExternalIPPool } from '../../src/apis/crd/egress.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import type { LocalCluster } from '../../src/local/cluster.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

const OUTSIDE = { ip: '10.0.0.9', port: 80 };
const POOL_IPS = ['192.168.77.200', '192.168.77.201'];

const podObj = (name: string, node: string, labels: Record<string, string>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
});

async function setup(cluster: LocalCluster): Promise<ApiClient> {
  const client = cluster.client();
  await client.resource<ExternalIPPool>(externalIPPoolGvr).create({
    apiVersion: 'crd.antrea.io/v1alpha2',
    kind: 'ExternalIPPool',
    metadata: { name: 'pool' },
    spec: { ipRanges: [{ start: POOL_IPS[0] as string, end: POOL_IPS[1] as string }], nodeSelector: {} },
  });
  await client.resource<Egress>(egressGvr).create({
    apiVersion: 'crd.antrea.io/v1alpha2',
    kind: 'Egress',
    metadata: { name: 'web-egress' },
    spec: { appliedTo: { podSelector: { matchLabels: { egress: 'yes' } } }, externalIPPool: 'pool' },
  });
  const pods = client.resource<Pod>(gvr.pods).inNamespace('default');
  await pods.create(podObj('sel-1', 'node-1', { egress: 'yes' }));
  await pods.create(podObj('sel-2', 'node-2', { egress: 'yes' }));
  await pods.create(podObj('other-1', 'node-1', { egress: 'no' }));
  await waitFor('3 running Pods', async () => {
    const list = (await pods.list()).items;
    return list.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length === 3;
  });
  return client;
}

const srcSeenOutside = async (cluster: LocalCluster, pod: string) => {
  const r = await cluster.sim.send({ from: { pod: `default/${pod}` }, to: OUTSIDE, protocol: 'TCP' });
  return r.delivered ? r.received?.srcIP : undefined;
};

describe('Egress', () => {
  test('selected Pods leave the cluster with the Egress IP from the pool, on any Node; the others with their Node IP', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, gates: { Egress: true } });
    const client = await setup(cluster);
    const eg = await waitFor('the Egress IP and Node', async () => {
      const e = await client.resource<Egress>(egressGvr).get('web-egress');
      return e.spec.egressIP && e.status?.egressNode ? e : undefined;
    });
    assert.ok(POOL_IPS.includes(eg.spec.egressIP as string), `${eg.spec.egressIP} from the pool`);
    assert.ok(['node-1', 'node-2'].includes(eg.status?.egressNode as string));
    const ip = eg.spec.egressIP as string;
    for (const pod of ['sel-1', 'sel-2']) {
      assert.equal(await waitFor(`${pod} leaves with ${ip}`, async () => ((await srcSeenOutside(cluster, pod)) === ip ? ip : undefined)), ip);
    }
    const nodeIP = (await client.resource<Node>(gvr.nodes).get('node-1')).status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    assert.equal(await srcSeenOutside(cluster, 'other-1'), nodeIP, 'an unselected Pod is masqueraded to its Node IP');
    const pool = await waitFor('pool usage', async () => {
      const p = await client.resource<ExternalIPPool>(externalIPPoolGvr).get('pool');
      return p.status?.usage?.used === 1 ? p : undefined;
    });
    assert.deepEqual(pool.status?.usage, { total: 2, used: 1 });

    // Restarting both agents changes nothing: the plan is rebuilt and re-applied as it was.
    for (const n of ['node-1', 'node-2']) await cluster.restartAgent(n);
    for (const pod of ['sel-1', 'sel-2']) {
      assert.equal(await waitFor(`${pod} still leaves with ${ip}`, async () => ((await srcSeenOutside(cluster, pod)) === ip ? ip : undefined)), ip);
    }

    // Deleting the Egress: its Pods are masqueraded like the others, and the IP goes back to the pool.
    await client.resource<Egress>(egressGvr).delete('web-egress');
    await waitFor('sel-1 leaves with its Node IP', async () => ((await srcSeenOutside(cluster, 'sel-1')) === nodeIP ? true : undefined));
    await waitFor('the pool IP freed', async () => (await client.resource<ExternalIPPool>(externalIPPoolGvr).get('pool')).status?.usage?.used === 0);
  });

  test('the Egress API validates as Antrea does', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1, gates: { Egress: true } });
    const egresses = cluster.client().resource<Egress>(egressGvr);
    const bad = (spec: unknown) => egresses.create({ apiVersion: 'crd.antrea.io/v1alpha2', kind: 'Egress', metadata: { name: 'bad' }, spec } as Egress);
    await assert.rejects(bad({ appliedTo: { podSelector: {} } }), /either egressIP or externalIPPool must be set/);
    await assert.rejects(bad({ appliedTo: { podSelector: {} }, egressIP: 'nope' }), /must be a valid IP address/);
    await assert.rejects(
      cluster.client().resource<ExternalIPPool>(externalIPPoolGvr).create({ apiVersion: 'crd.antrea.io/v1alpha2', kind: 'ExternalIPPool', metadata: { name: 'p' }, spec: { ipRanges: [{ start: '10.0.0.9', end: '10.0.0.1' }] } }),
      /start must not be greater than end/,
    );
  });

  test('gate off: nothing is allocated and no traffic takes the Egress IP', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    assert.ok(cluster.controller.modules().some((m) => m.name === 'egress' && m.state === 'Disabled'));
    assert.ok(cluster.agent('node-1').modules().some((m) => m.name === 'egress' && m.state === 'Disabled'));
    const client = await setup(cluster);
    await new Promise((r) => setTimeout(r, 200));
    const eg = await client.resource<Egress>(egressGvr).get('web-egress');
    assert.equal(eg.spec.egressIP, undefined);
    for (const pod of ['sel-1', 'sel-2']) assert.ok(!POOL_IPS.includes((await srcSeenOutside(cluster, pod)) ?? ''), pod);
  });
});
