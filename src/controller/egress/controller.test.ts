import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../apis/core.js';
import { egressGvr, externalIPPoolGvr, type Egress, type ExternalIPPool } from '../../apis/crd/egress.js';
import { gvr } from '../../apiserver/registry.js';
import { createStore } from '../../apiserver/store.js';
import { allResources } from '../../apiserver/resources/index.js';
import { SharedInformerFactory } from '../../client/factory.js';
import { InProcessClient } from '../../client/inprocess.js';
import { silentLogger } from '../../util/log.js';
import { EgressController } from './controller.js';

const node = (name: string, ip: string, labels: Record<string, string> = {}, ready = true): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels },
  status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setup(t: TestContext) {
  const store = createStore({ resources: allResources(), logger: silentLogger });
  const client = new InProcessClient(store);
  const running: Array<{ c: EgressController; f: SharedInformerFactory }> = [];
  const start = () => {
    const f = new SharedInformerFactory(client, { logger: silentLogger });
    const c = new EgressController({ client, informers: f, logger: silentLogger });
    c.start();
    running.push({ c, f });
    return { c, f };
  };
  t.after(async () => {
    for (const r of running) {
      await r.c.stop();
      await r.f.stop();
    }
    await client.close();
    await store.close();
  });
  return { client, start };
}

const egressOf = (name: string, spec: Egress['spec']): Egress => ({ apiVersion: 'crd.antrea.io/v1alpha2', kind: 'Egress', metadata: { name }, spec });

test('pool IPs go to a Node matching the nodeSelector, and move when that Node is not Ready', async (t) => {
  const { client, start } = setup(t);
  const nodes = client.resource<Node>(gvr.nodes);
  await nodes.create(node('n1', '192.168.0.1', { egress: 'yes' }));
  await nodes.create(node('n2', '192.168.0.2', { egress: 'yes' }));
  await nodes.create(node('n3', '192.168.0.3'));
  await client.resource<ExternalIPPool>(externalIPPoolGvr).create({
    apiVersion: 'crd.antrea.io/v1alpha2', kind: 'ExternalIPPool', metadata: { name: 'pool' },
    spec: { ipRanges: [{ cidr: '10.99.0.0/29' }], nodeSelector: { matchLabels: { egress: 'yes' } } },
  });
  start();
  const egresses = client.resource<Egress>(egressGvr);
  for (let i = 0; i < 4; i++) await egresses.create(egressOf(`e${i}`, { appliedTo: { podSelector: {} }, externalIPPool: 'pool' }));
  const placed = await waitFor('4 placed Egresses', async () => {
    const list = (await egresses.list()).items;
    return list.every((e) => e.spec.egressIP && e.status?.egressNode) && list.length === 4 ? list : undefined;
  });
  assert.equal(new Set(placed.map((e) => e.spec.egressIP)).size, 4);
  for (const e of placed) assert.ok(['n1', 'n2'].includes(e.status?.egressNode as string), `${e.metadata.name} on ${e.status?.egressNode}`);
  const onN1 = placed.filter((e) => e.status?.egressNode === 'n1').map((e) => e.metadata.name);
  await nodes.retryUpdate('n1', (n) => void (n.status = { ...n.status, conditions: [{ type: 'Ready', status: 'False' }] }), { subresource: 'status' });
  const after = await waitFor('every Egress on n2', async () => {
    const list = (await egresses.list()).items;
    return list.every((e) => e.status?.egressNode === 'n2') ? list : undefined;
  });
  // Only the IPs n1 held moved; their IPs stayed the same.
  for (const e of after) assert.equal(e.spec.egressIP, placed.find((p) => p.metadata.name === e.metadata.name)?.spec.egressIP);
  assert.ok(onN1.length > 0 || placed.every((e) => e.status?.egressNode === 'n2'));
});

test('a static egressIP goes to the Node that lists it; a restarted controller keeps pool IPs', async (t) => {
  const { client, start } = setup(t);
  await client.resource<Node>(gvr.nodes).create(node('n1', '192.168.0.1'));
  await client.resource<ExternalIPPool>(externalIPPoolGvr).create({
    apiVersion: 'crd.antrea.io/v1alpha2', kind: 'ExternalIPPool', metadata: { name: 'pool' }, spec: { ipRanges: [{ start: '10.99.0.1', end: '10.99.0.2' }] },
  });
  const egresses = client.resource<Egress>(egressGvr);
  await egresses.create(egressOf('static', { appliedTo: { podSelector: {} }, egressIP: '192.168.0.1' }));
  await egresses.create(egressOf('held', { appliedTo: { podSelector: {} }, externalIPPool: 'pool', egressIP: '10.99.0.1' }));
  const first = start();
  await waitFor('static placed', async () => (await egresses.get('static')).status?.egressNode === 'n1');
  await first.c.stop();
  await first.f.stop();
  start();
  await egresses.create(egressOf('new', { appliedTo: { podSelector: {} }, externalIPPool: 'pool' }));
  const ip = await waitFor('new gets an IP', async () => (await egresses.get('new')).spec.egressIP);
  assert.equal(ip, '10.99.0.2', 'the IP an Egress already had is not handed out again');
});
