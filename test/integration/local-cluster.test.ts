import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../../src/apis/core.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import { cidrContains, parseCidr, parseIp } from '../../src/util/ip.js';
import { startLocalCluster, tempDir, waitFor } from '../helpers/cluster.js';
import { LocalCluster } from '../../src/local/cluster.js';
import { silentLogger } from '../../src/util/log.js';

const podObj = (name: string, opts: { node?: string; labels?: Record<string, string> } = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: opts.labels ?? { app: 'web' } },
  spec: { ...(opts.node ? { nodeName: opts.node } : {}), containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 80 }] }] },
});

async function runningPods(client: ApiClient, count: number): Promise<Pod[]> {
  return waitFor(`${count} running Pods with addresses`, async () => {
    const pods = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    const running = pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP);
    return running.length === count ? running : undefined;
  });
}

describe('antrea local', () => {
  test('Pods are scheduled, get an address from their Node’s Pod CIDR, and run', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    for (let i = 0; i < 6; i++) await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj(`p${i}`));
    const pods = await runningPods(client, 6);
    const nodes = new Map((await client.resource<Node>(gvr.nodes).list()).items.map((n) => [n.metadata.name, n.spec?.podCIDR]));
    const perNode = new Map<string, number>();
    for (const p of pods) {
      const cidr = nodes.get(p.spec.nodeName);
      assert.ok(cidr, `Pod ${p.metadata.name} is on a known Node`);
      assert.ok(cidrContains(parseCidr(cidr), parseIp(p.status?.podIP as string)), `${p.status?.podIP} in ${cidr}`);
      assert.ok(!(p.status?.podIP as string).endsWith('.1'), 'the gateway address is never a Pod address');
      perNode.set(p.spec.nodeName as string, (perNode.get(p.spec.nodeName as string) ?? 0) + 1);
    }
    assert.deepEqual([...perNode.values()], [3, 3], 'the scheduler spreads Pods');
    assert.equal(new Set(pods.map((p) => p.status?.podIP)).size, 6);
  });

  test('restarting an agent loses no allocation and never hands out an address twice', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1 });
    const client = cluster.client();
    const pods = client.resource<Pod>(gvr.pods).inNamespace('default');
    for (let i = 0; i < 3; i++) await pods.create(podObj(`a${i}`));
    const before = await runningPods(client, 3);
    await cluster.stopAgent('node-1');
    await pods.delete('a1');
    for (let i = 0; i < 3; i++) await pods.create(podObj(`b${i}`));
    await cluster.startAgent('node-1');
    const after = await runningPods(client, 5);
    const ips = after.map((p) => p.status?.podIP);
    assert.equal(new Set(ips).size, 5, `distinct addresses: ${ips.join(', ')}`);
    for (const p of before.filter((p) => p.metadata.name !== 'a1')) {
      assert.equal(after.find((q) => q.metadata.name === p.metadata.name)?.status?.podIP, p.status?.podIP, 'kept its address');
    }
  });

  test('restarting the whole cluster with a state directory loses nothing', async (t) => {
    const stateDir = tempDir(t);
    const first = await LocalCluster.start({ nodes: 2, stateDir, http: false, logger: silentLogger });
    const c1 = first.client();
    for (let i = 0; i < 4; i++) await c1.resource<Pod>(gvr.pods).inNamespace('default').create(podObj(`p${i}`));
    const before = await runningPods(c1, 4);
    await first.stop();
    const second = await LocalCluster.start({ nodes: 2, stateDir, http: false, logger: silentLogger });
    t.after(() => second.stop());
    const c2 = second.client();
    await c2.resource<Pod>(gvr.pods).inNamespace('default').create(podObj('late'));
    const after = await runningPods(c2, 5);
    for (const p of before) assert.equal(after.find((q) => q.metadata.name === p.metadata.name)?.status?.podIP, p.status?.podIP);
    assert.equal(new Set(after.map((p) => p.status?.podIP)).size, 5);
  });

  test('Services get Endpoints and EndpointSlices that follow their Pods', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    await client.resource(gvr.services).inNamespace('default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    } as never);
    for (let i = 0; i < 3; i++) await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj(`w${i}`));
    await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj('other', { labels: { app: 'db' } }));
    await runningPods(client, 4);
    const slices = await waitFor('3 ready endpoints in the slices', async () => {
      const list = (await client.resource(gvr.endpointslices).inNamespace('default').list({ labelSelector: 'kubernetes.io/service-name=web' })).items as unknown as Array<{ endpoints: Array<{ conditions: { ready: boolean } }> }>;
      const ready = list.flatMap((s) => s.endpoints).filter((e) => e.conditions.ready);
      return ready.length === 3 ? list : undefined;
    });
    assert.equal(slices.length, 1);
    await client.resource(gvr.pods).inNamespace('default').delete('w0');
    await waitFor('the deleted Pod to leave the Endpoints', async () => {
      const ep = (await client.resource(gvr.endpoints).inNamespace('default').get('web')) as unknown as { subsets?: Array<{ addresses?: unknown[] }> };
      return ep.subsets?.[0]?.addresses?.length === 2;
    });
  });
});

describe('feature gates in the running processes', () => {
  test('/featuregates of agents and controller reflect the manifest, in Antrea’s format', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1, gates: { Traceflow: false, EndpointSlice: true } });
    const res = await fetch(`${cluster.agent('node-1').url}/featuregates`);
    const agentGates = (await res.json()) as Array<{ component: string; name: string; status: string; version: string }>;
    assert.deepEqual(agentGates.find((g) => g.name === 'Traceflow'), { component: 'agent', name: 'Traceflow', status: 'Disabled', version: 'BETA' });
    assert.deepEqual(agentGates.find((g) => g.name === 'EndpointSlice'), { component: 'agent', name: 'EndpointSlice', status: 'Enabled', version: 'ALPHA' });
    assert.deepEqual(agentGates.find((g) => g.name === 'NodePortLocal'), { component: 'agent', name: 'NodePortLocal', status: 'Enabled', version: 'BETA' }, 'Beta, on by default');
    assert.ok(!agentGates.some((g) => g.name === 'NodeIPAM'), 'controller-only gates are not listed by the agent');
    const ctrl = (await (await fetch(`${cluster.controller.url}/featuregates`)).json()) as Array<{ component: string; name: string; status: string }>;
    assert.deepEqual(ctrl.filter((g) => g.name === 'Traceflow').map((g) => [g.component, g.status]), [['agent', 'Disabled'], ['controller', 'Disabled']]);
    assert.ok(ctrl.some((g) => g.component === 'controller' && g.name === 'NodeIPAM'));
    const health = await fetch(`${cluster.agent('node-1').url}/healthz`);
    assert.equal(await health.text(), 'ok');
  });
});

describe('packets through the local cluster', () => {
  test('Pod to Pod on one Node and across Nodes, TCP, UDP and ICMP', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj('a', { node: 'node-1' }));
    await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj('b', { node: 'node-1' }));
    await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj('c', { node: 'node-2' }));
    const pods = await runningPods(client, 3);
    const ip = (name: string) => pods.find((p) => p.metadata.name === name)?.status?.podIP as string;
    for (const [to, node] of [['b', 'node-1'], ['c', 'node-2']] as const) {
      for (const protocol of ['TCP', 'UDP', 'ICMP'] as const) {
        const r = await cluster.sim.connect({ from: { pod: 'default/a' }, to: { ip: ip(to), ...(protocol === 'ICMP' ? {} : { port: 80 }) }, protocol });
        assert.ok(r.established, `${protocol} a -> ${to}: ${JSON.stringify(r.failure?.dropped)}`);
        assert.deepEqual(r.packets[0]?.deliveredTo, { node, pod: `default/${to}` });
      }
    }
  });
});

test('Pod traffic leaving the cluster is masqueraded to the Node IP, whatever the gates', async (t) => {
  const cluster = await startLocalCluster(t, { nodes: 1 });
  const client = cluster.client();
  await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj('out', { node: 'node-1' }));
  await runningPods(client, 1);
  const r = await cluster.sim.send({ from: { pod: 'default/out' }, to: { ip: '10.0.0.9', port: 80 }, protocol: 'TCP' });
  assert.ok(r.delivered, JSON.stringify(r.dropped));
  assert.equal(r.deliveredTo?.external, true);
  assert.equal(r.received?.srcIP, '192.168.77.100', 'the Node IP, not the Pod IP');
});

test('antrea local traffic to a Service says which endpoint Pod served each connection', async (t) => {
  const cluster = await startLocalCluster(t, { nodes: 2 });
  const client = cluster.client();
  await client.resource(gvr.services).inNamespace('default').create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  } as never);
  for (const name of ['w1', 'w2', 'w3']) await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj(name));
  await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj('client', { labels: { app: 'client' } }));
  await runningPods(client, 4);
  const summary = await waitFor('the Service to serve all three endpoints', async () => {
    const s = await cluster.traffic({ from: 'default/client', to: 'default/web', connections: 60 });
    return s.delivered === 60 && new Set(s.connections.map((c) => c.pod)).size === 3 ? s : undefined;
  });
  assert.equal(summary.destination.kind, 'service');
  assert.equal(summary.destination.port, 80);
  for (const c of summary.connections) {
    assert.match(c.pod ?? '', /^default\/w[123]$/);
    assert.match(c.receivedAt ?? '', /^10\.10\.\d+\.\d+:80$/, 'the endpoint address after DNAT');
  }
});
