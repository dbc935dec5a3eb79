/**
 * AntreaProxy through the local cluster: Services, Pods and EndpointSlices go in through the API, connections go
 * through the simulated datapath every agent programmed, and the assertions are on where the packets landed.
 */
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service } from '../../src/apis/core.js';
import type { EndpointSlice } from '../../src/apis/discovery.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import { agentModules } from '../../src/agent/index.js';
import { antreaProxy, antreaProxyModule, resolveServiceTarget, ENDPOINTSLICE_WITHOUT_PROXY_WARNING, type ProxyState } from '../../src/agent/proxy/index.js';
import { Table } from '../../src/datapath/pipeline/tables.js';
import type { LocalCluster } from '../../src/local/cluster.js';
import type { LocalClusterOptions } from '../../src/local/cluster.js';
import { memoryLogger } from '../../src/util/log.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

const NS = 'default';
/** The proxy with a short minimum interval, so tests wait milliseconds, not seconds, for a sync. */
const fastModules = agentModules.map((m) => (m === antreaProxy ? antreaProxyModule({ minIntervalMs: 10, maxIntervalMs: 2000 }) : m));

async function cluster(t: TestContext, opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  return startLocalCluster(t, { nodes: 2, agentModules: fastModules, ...opts });
}

function pod(name: string, labels: Record<string, string>, opts: { node?: string; httpPort?: number } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels },
    spec: {
      ...(opts.node ? { nodeName: opts.node } : {}),
      containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: opts.httpPort ?? 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] }],
    },
  };
}

async function createPods(client: ApiClient, pods: Pod[]): Promise<Map<string, string>> {
  const r = client.resource<Pod>(gvr.pods).inNamespace(NS);
  for (const p of pods) await r.create(p);
  const names = new Set(pods.map((p) => p.metadata.name));
  return waitFor(`Pods ${[...names].join(',')} running`, async () => {
    const running = (await r.list()).items.filter((p) => names.has(p.metadata.name) && p.status?.phase === 'Running' && p.status.podIP);
    return running.length === names.size ? new Map(running.map((p) => [p.metadata.name as string, p.status?.podIP as string])) : undefined;
  });
}

async function createService(client: ApiClient, name: string, spec: Partial<Service['spec']>): Promise<Service> {
  return client.resource<Service>(gvr.services).inNamespace(NS).create({
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
  });
}

async function proxyState(c: LocalCluster, node: string): Promise<ProxyState> {
  return (await (await fetch(`${c.agent(node).url}/proxy`)).json()) as ProxyState;
}

/** Waits until every agent has programmed `key` with `n` endpoints (selectable for new connections). */
async function programmed(c: LocalCluster, key: string, n: number): Promise<void> {
  await waitFor(`${key} with ${n} endpoints on every Node`, async () => {
    for (const node of c.nodeNames) {
      const f = (await proxyState(c, node)).frontends.find((x) => x.key === key);
      if (f?.endpoints !== n) return false;
    }
    return true;
  }, 15_000);
}

/** Runs `n` connections and counts which Pod served each. */
async function spread(c: LocalCluster, from: string, to: { ip: string; port: number }, n: number, protocol: 'TCP' | 'UDP' = 'TCP') {
  const hits = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await c.sim.connect({ from: { pod: `${NS}/${from}` }, to, protocol, close: true });
    assert.ok(r.established, `connection ${i}: ${JSON.stringify(r.failure?.dropped)}`);
    const served = r.packets[0]?.deliveredTo?.pod as string;
    hits.set(served, (hits.get(served) ?? 0) + 1);
  }
  return hits;
}

/** Pearson's chi-square of observed counts against a uniform spread over `k` categories. */
function chiSquare(counts: number[], k = counts.length): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / k;
  const seen = counts.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
  return seen + (k - counts.length) * expected;
}

describe('AntreaProxy: ClusterIP load balancing', () => {
  test('connections spread evenly over all endpoints (chi-square), each DNATed to its own named target port, replies from the ClusterIP', async (t) => {
    const c = await cluster(t);
    const client = c.client();
    const ips = await createPods(client, [
      pod('client', { app: 'client' }, { node: 'node-1' }),
      pod('web-a', { app: 'web' }, { node: 'node-1', httpPort: 8080 }),
      pod('web-b', { app: 'web' }, { node: 'node-1', httpPort: 9090 }),
      pod('web-c', { app: 'web' }, { node: 'node-2', httpPort: 8080 }),
      pod('web-d', { app: 'web' }, { node: 'node-2', httpPort: 9090 }),
    ]);
    const svc = await createService(client, 'web', { selector: { app: 'web' } });
    const vip = svc.spec.clusterIP as string;
    await programmed(c, `${NS}/web:http/TCP`, 4);
    const hits = new Map<string, number>();
    const n = 1200;
    for (let i = 0; i < n; i++) {
      const r = await c.sim.connect({ from: { pod: `${NS}/client` }, to: { ip: vip, port: 80 }, protocol: 'TCP', close: true });
      assert.ok(r.established, JSON.stringify(r.failure?.dropped));
      const [syn, synAck] = r.packets;
      const served = syn?.deliveredTo?.pod as string;
      const name = served.split('/')[1] as string;
      assert.equal(syn?.received?.dstIP, ips.get(name), 'DNAT to the endpoint Pod');
      assert.equal(syn?.received?.dstPort, name === 'web-b' || name === 'web-d' ? 9090 : 8080, 'the named port resolved for that Pod');
      assert.equal(synAck?.deliveredTo?.pod, `${NS}/client`);
      assert.deepEqual([synAck?.received?.srcIP, synAck?.received?.srcPort], [vip, 80], 'the reply is reverse-NATed to the ClusterIP');
      hits.set(name, (hits.get(name) ?? 0) + 1);
    }
    assert.equal(hits.size, 4, JSON.stringify([...hits]));
    // df = 3: P(chi2 > 16.27) = 0.001.
    const x2 = chiSquare([...hits.values()], 4);
    assert.ok(x2 < 16.27, `chi-square ${x2.toFixed(2)} over ${JSON.stringify([...hits])}`);
  });

  test('UDP Services balance too; SCTP ports are programmed', async (t) => {
    const c = await cluster(t);
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' }), pod('dns-a', { app: 'dns' }), pod('dns-b', { app: 'dns' })]);
    const svc = await createService(client, 'dns', {
      selector: { app: 'dns' },
      ports: [{ name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' }, { name: 'sctp', port: 3868, targetPort: 3868, protocol: 'SCTP' }],
    });
    await programmed(c, `${NS}/dns:dns/UDP`, 2);
    await programmed(c, `${NS}/dns:sctp/SCTP`, 2);
    const hits = await spread(c, 'client', { ip: svc.spec.clusterIP as string, port: 53 }, 200, 'UDP');
    assert.deepEqual([...hits.keys()].sort(), [`${NS}/dns-a`, `${NS}/dns-b`]);
    assert.ok(chiSquare([...hits.values()]) < 10.83, JSON.stringify([...hits])); // df = 1, p = 0.001
  });

  test('a Pod reaching itself through its Service is hairpinned (local endpoint)', async (t) => {
    const c = await cluster(t, { nodes: 1 });
    const client = c.client();
    await createPods(client, [pod('self', { app: 'self' })]);
    const svc = await createService(client, 'self', { selector: { app: 'self' } });
    await programmed(c, `${NS}/self:http/TCP`, 1);
    const r = await c.sim.connect({ from: { pod: `${NS}/self` }, to: { ip: svc.spec.clusterIP as string, port: 80 }, protocol: 'TCP' });
    assert.ok(r.established, JSON.stringify(r.failure?.dropped));
    assert.equal(r.packets[0]?.received?.srcIP, '169.254.169.252');
    assert.equal(r.packets[1]?.received?.srcIP, svc.spec.clusterIP);
  });

  test('scaling endpoints up and down moves only new connections', async (t) => {
    const c = await cluster(t);
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' }), pod('s0', { app: 's' }), pod('s1', { app: 's' })]);
    const svc = await createService(client, 's', { selector: { app: 's' } });
    const to = { ip: svc.spec.clusterIP as string, port: 80 };
    await programmed(c, `${NS}/s:http/TCP`, 2);
    // 40 open connections, remembered by source port.
    const open = new Map<number, string>();
    for (let i = 0; i < 40; i++) {
      const r = await c.sim.connect({ from: { pod: `${NS}/client` }, to, protocol: 'TCP' });
      assert.ok(r.established);
      open.set(r.srcPort, r.packets[0]?.deliveredTo?.pod as string);
    }
    const stillOn = async (ports: Iterable<number>) => {
      for (const srcPort of ports) {
        const p = await c.sim.send({ from: { pod: `${NS}/client` }, to, protocol: 'TCP', srcPort, tcpFlags: 'PA', trace: false });
        assert.equal(p.deliveredTo?.pod, open.get(srcPort), `connection from port ${srcPort} stays on its endpoint`);
      }
    };
    await createPods(client, [pod('s2', { app: 's' }), pod('s3', { app: 's' }), pod('s4', { app: 's' })]);
    await programmed(c, `${NS}/s:http/TCP`, 5);
    await stillOn(open.keys());
    const up = await spread(c, 'client', to, 300);
    assert.equal(up.size, 5, `new connections use the new endpoints: ${JSON.stringify([...up])}`);
    await client.resource(gvr.pods).inNamespace(NS).delete('s1');
    await client.resource(gvr.pods).inNamespace(NS).delete('s3');
    await programmed(c, `${NS}/s:http/TCP`, 3);
    await stillOn([...open].filter(([, p]) => p === `${NS}/s0`).map(([port]) => port));
    const down = await spread(c, 'client', to, 150);
    assert.deepEqual([...down.keys()].sort(), [`${NS}/s0`, `${NS}/s2`, `${NS}/s4`]);
  });

  test('a Service with no ready endpoint rejects new connections in ServiceLB (TCP RST), and serves again once one is back', async (t) => {
    const c = await cluster(t);
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' })]);
    const svc = await createService(client, 'empty', { selector: { app: 'nobody' } });
    await programmed(c, `${NS}/empty:http/TCP`, 0);
    const r = await c.sim.connect({ from: { pod: `${NS}/client` }, to: { ip: svc.spec.clusterIP as string, port: 80 }, protocol: 'TCP' });
    assert.equal(r.established, false);
    assert.equal(r.packets[0]?.rejected?.reply, 'tcp-rst', 'rejected, not dropped: the client fails fast');
    assert.match(r.failure?.dropped?.reason ?? '', /has no endpoints/);
    assert.equal(r.failure?.dropped?.tableName, 'ServiceLB');
    await createPods(client, [pod('late', { app: 'nobody' })]);
    await programmed(c, `${NS}/empty:http/TCP`, 1);
    const again = await c.sim.connect({ from: { pod: `${NS}/client` }, to: { ip: svc.spec.clusterIP as string, port: 80 }, protocol: 'TCP' });
    assert.equal(again.packets[0]?.deliveredTo?.pod, `${NS}/late`);
  });

  test('a Service deleted while the agent was down is removed from the datapath when the agent starts again', async (t) => {
    const c = await cluster(t);
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' }, { node: 'node-1' }), pod('web', { app: 'web' }, { node: 'node-2' })]);
    const gone = await createService(client, 'gone', { selector: { app: 'web' } });
    await createService(client, 'kept', { selector: { app: 'web' } });
    await programmed(c, `${NS}/gone:http/TCP`, 1);
    await programmed(c, `${NS}/kept:http/TCP`, 1);
    await c.stopAgent('node-1');
    await client.resource<Service>(gvr.services).inNamespace(NS).delete('gone');
    // The datapath outlives the agent: the deleted Service still load-balances until the agent comes back.
    assert.ok(c.sim.node('node-1').compiler.serviceKeys().includes(`${NS}/gone:http/TCP`));
    await c.startAgent('node-1');
    await waitFor('gone removed from node-1', async () => !c.sim.node('node-1').compiler.serviceKeys().includes(`${NS}/gone:http/TCP`), 15_000);
    assert.ok(c.sim.node('node-1').compiler.serviceKeys().includes(`${NS}/kept:http/TCP`), 'the Service that still exists stays');
    const r = await c.sim.connect({ from: { pod: `${NS}/client` }, to: { ip: gone.spec.clusterIP as string, port: 80 }, protocol: 'TCP' });
    assert.notEqual(r.packets[0]?.deliveredTo?.pod, `${NS}/web`, 'the deleted ClusterIP no longer reaches its old endpoint');
  });

  test('ClientIP session affinity pins a client to one endpoint until its timeout', async (t) => {
    const c = await cluster(t);
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' }), pod('a0', { app: 'a' }), pod('a1', { app: 'a' }), pod('a2', { app: 'a' })]);
    const svc = await createService(client, 'sticky', { selector: { app: 'a' }, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 2 } } });
    await programmed(c, `${NS}/sticky:http/TCP`, 3);
    const frontend = (await proxyState(c, 'node-1')).frontends.find((f) => f.key === `${NS}/sticky:http/TCP`);
    assert.equal(frontend?.sessionAffinityTimeout, 2, 'the proxy hands the timeout to the datapath');
    const flows = await c.sim.node('node-1').dumpFlows();
    assert.ok(flows.some((f) => f.table === Table.ServiceLB && f.actions.some((a) => a.type === ('learn' as string))), 'a session-affinity learn flow');
    const to = { ip: svc.spec.clusterIP as string, port: 80 };
    const pinned = await spread(c, 'client', to, 30);
    assert.equal(pinned.size, 1, `one endpoint while the affinity lasts: ${JSON.stringify([...pinned])}`);
    await new Promise((r) => setTimeout(r, 2500));
    const after = await spread(c, 'client', to, 60);
    assert.ok(after.size > 1 || !after.has([...pinned.keys()][0] as string), 'after the timeout the client is balanced again');
  });

  test('ClientIP session affinity: a client pinned to a deleted endpoint moves to a remaining one and stays there', async (t) => {
    // kube-proxy balances a client whose affinity endpoint went away to a remaining endpoint; the learned
    // SessionAffinity flow must not keep sending it to the gone one for the rest of its timeout.
    const c = await cluster(t);
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' }), pod('a0', { app: 'a' }), pod('a1', { app: 'a' }), pod('a2', { app: 'a' })]);
    const svc = await createService(client, 'sticky', { selector: { app: 'a' }, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } });
    await programmed(c, `${NS}/sticky:http/TCP`, 3);
    const to = { ip: svc.spec.clusterIP as string, port: 80 };
    const pinned = await spread(c, 'client', to, 10);
    assert.equal(pinned.size, 1, `pinned: ${JSON.stringify([...pinned])}`);
    const gone = [...pinned.keys()][0] as string;
    await client.resource<Pod>(gvr.pods).inNamespace(NS).delete(gone.split('/')[1] as string);
    await programmed(c, `${NS}/sticky:http/TCP`, 2);
    const moved = await spread(c, 'client', to, 20);
    assert.equal(moved.size, 1, `pinned again to one endpoint: ${JSON.stringify([...moved])}`);
    // spread() counts a connection that reached no Pod (left through the gateway un-DNATed) under `undefined`.
    const [now] = moved.keys();
    assert.ok(now !== undefined && now !== gone && [...'012'].some((i) => now === `${NS}/a${i}`), `a remaining endpoint, not the deleted ${gone}: ${JSON.stringify([...moved])}`);
  });

  test('ClientIP session affinity: a client pinned to an endpoint that leaves the Service (still another Service\'s) moves to a remaining one', async (t) => {
    // The Pod stays and still backs `web` on the same port, so its shared EndpointDNAT flow stays: `sticky`'s
    // learned flow must still stop using it.
    const c = await cluster(t);
    const client = c.client();
    const labels = { app: 'a', tier: 'web' };
    await createPods(client, [pod('client', { app: 'client' }), pod('a0', labels), pod('a1', labels), pod('a2', labels)]);
    const svc = await createService(client, 'sticky', { selector: { app: 'a' }, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } });
    await createService(client, 'web', { selector: { tier: 'web' } });
    await programmed(c, `${NS}/sticky:http/TCP`, 3);
    await programmed(c, `${NS}/web:http/TCP`, 3);
    const to = { ip: svc.spec.clusterIP as string, port: 80 };
    const pinned = await spread(c, 'client', to, 10);
    assert.equal(pinned.size, 1, `pinned: ${JSON.stringify([...pinned])}`);
    const left = [...pinned.keys()][0] as string;
    await client.resource<Pod>(gvr.pods).inNamespace(NS).mergePatch(left.split('/')[1] as string, { metadata: { labels: { app: null } } });
    await programmed(c, `${NS}/sticky:http/TCP`, 2);
    await programmed(c, `${NS}/web:http/TCP`, 3);
    const moved = await spread(c, 'client', to, 20);
    assert.equal(moved.size, 1, `pinned again to one endpoint: ${JSON.stringify([...moved])}`);
    assert.ok(!moved.has(left), `not ${left}, which left the Service: ${JSON.stringify([...moved])}`);
  });
});

describe('AntreaProxy: Services without a selector', () => {
  test('hand-made Endpoints (EndpointSlice gate off) are load-balanced', async (t) => {
    const c = await cluster(t, { gates: { EndpointSlice: false } });
    const client = c.client();
    const ips = await createPods(client, [pod('client', { app: 'client' }), pod('ext-a', { app: 'x' }), pod('ext-b', { app: 'x' })]);
    const svc = await createService(client, 'manual', { ports: [{ name: 'web', port: 8000, protocol: 'TCP' }] });
    await client.resource<Endpoints>(gvr.endpoints).inNamespace(NS).create({
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: NS },
      subsets: [{ addresses: [{ ip: ips.get('ext-a') as string }, { ip: ips.get('ext-b') as string }], ports: [{ name: 'web', port: 7000, protocol: 'TCP' }] }],
    });
    assert.equal((await proxyState(c, 'node-1')).source, 'Endpoints');
    await programmed(c, `${NS}/manual:web/TCP`, 2);
    const hits = await spread(c, 'client', { ip: svc.spec.clusterIP as string, port: 8000 }, 100);
    assert.deepEqual([...hits.keys()].sort(), [`${NS}/ext-a`, `${NS}/ext-b`]);
  });

  test('EndpointSlice gate: a terminating endpoint keeps its established connection, takes no new ones, and is the fallback when no endpoint is ready', async (t) => {
    const c = await cluster(t, { gates: { EndpointSlice: true } });
    const client = c.client();
    const ips = await createPods(client, [pod('client', { app: 'client' }), pod('old', { app: 'x' }), pod('new', { app: 'x' })]);
    const svc = await createService(client, 'manual', { ports: [{ name: 'web', port: 8000, protocol: 'TCP' }] });
    assert.equal((await proxyState(c, 'node-1')).source, 'EndpointSlices');
    const slices = client.resource<EndpointSlice>(gvr.endpointslices).inNamespace(NS);
    const sliceOf = (name: string, pod: string, conditions: { ready: boolean; serving: boolean; terminating: boolean }): EndpointSlice => ({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': 'manual' } },
      addressType: 'IPv4', ports: [{ name: 'web', port: 7000, protocol: 'TCP' }],
      endpoints: [{ addresses: [ips.get(pod) as string], conditions }],
    });
    const ready = { ready: true, serving: true, terminating: false };
    const terminating = { ready: false, serving: true, terminating: true };
    await slices.create(sliceOf('manual-old', 'old', ready));
    await slices.create(sliceOf('manual-new', 'new', ready));
    const key = `${NS}/manual:web/TCP`;
    await programmed(c, key, 2);
    const to = { ip: svc.spec.clusterIP as string, port: 8000 };
    let onOld: number | undefined;
    for (let i = 0; i < 50 && onOld === undefined; i++) {
      const r = await c.sim.connect({ from: { pod: `${NS}/client` }, to, protocol: 'TCP' });
      if (r.packets[0]?.deliveredTo?.pod === `${NS}/old`) onOld = r.srcPort;
    }
    assert.ok(onOld !== undefined, 'a connection to the old endpoint');
    await slices.retryUpdate('manual-old', (s) => ({ ...s, endpoints: [{ addresses: [ips.get('old') as string], conditions: terminating }] }));
    await programmed(c, key, 1);
    const established = await c.sim.send({ from: { pod: `${NS}/client` }, to, protocol: 'TCP', srcPort: onOld, tcpFlags: 'PA' });
    assert.equal(established.deliveredTo?.pod, `${NS}/old`, 'the established connection stays on the terminating endpoint');
    const fresh = await spread(c, 'client', to, 40);
    assert.deepEqual([...fresh.keys()], [`${NS}/new`], 'new connections avoid the terminating endpoint');
    // The ready endpoint goes away: kube-proxy falls back to serving-terminating endpoints.
    await slices.delete('manual-new');
    await programmed(c, key, 1);
    const fallback = await spread(c, 'client', to, 10);
    assert.deepEqual([...fallback.keys()], [`${NS}/old`]);
    // Not serving any more: no endpoint at all.
    await slices.retryUpdate('manual-old', (s) => ({ ...s, endpoints: [{ addresses: [ips.get('old') as string], conditions: { ready: false, serving: false, terminating: true } }] }));
    await programmed(c, key, 0);
  });

  test('dual-stack slices: the IPv4 slice is used, the IPv6 one skipped (the datapath is IPv4-only)', async (t) => {
    const c = await cluster(t, { gates: { EndpointSlice: true } });
    const client = c.client();
    const ips = await createPods(client, [pod('client', { app: 'client' }), pod('v4', { app: 'x' })]);
    const svc = await createService(client, 'dual', { ports: [{ name: 'web', port: 8000, protocol: 'TCP' }], ipFamilies: ['IPv4', 'IPv6'] });
    const slices = client.resource<EndpointSlice>(gvr.endpointslices).inNamespace(NS);
    const base = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', ports: [{ name: 'web', port: 7000, protocol: 'TCP' as const }] };
    await slices.create({ ...base, metadata: { name: 'dual-v6', namespace: NS, labels: { 'kubernetes.io/service-name': 'dual' } }, addressType: 'IPv6', endpoints: [{ addresses: ['fd00:10::5'], conditions: { ready: true } }] });
    await slices.create({ ...base, metadata: { name: 'dual-v4', namespace: NS, labels: { 'kubernetes.io/service-name': 'dual' } }, addressType: 'IPv4', endpoints: [{ addresses: [ips.get('v4') as string], conditions: { ready: true } }] });
    await programmed(c, `${NS}/dual:web/TCP`, 1);
    const hits = await spread(c, 'client', { ip: svc.spec.clusterIP as string, port: 8000 }, 10);
    assert.deepEqual([...hits.keys()], [`${NS}/v4`]);
  });

  test('10,000 endpoints in one Service (100 hand-made EndpointSlices) are all programmed and balanced', async (t) => {
    const c = await cluster(t, { nodes: 1, gates: { EndpointSlice: true } });
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' })]);
    const svc = await createService(client, 'big', { ports: [{ name: 'web', port: 80, protocol: 'TCP' }] });
    const slices = client.resource<EndpointSlice>(gvr.endpointslices).inNamespace(NS);
    // Endpoints outside every Pod CIDR: the chosen one is read off the DNATed destination of the first packet.
    const epIP = (i: number) => `172.16.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const started = Date.now();
    for (let s = 0; s < 100; s++) {
      await slices.create({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: `big-${s}`, namespace: NS, labels: { 'kubernetes.io/service-name': 'big' } },
        addressType: 'IPv4', ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
        endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [epIP(s * 100 + i)], conditions: { ready: true } })),
      });
    }
    await programmed(c, `${NS}/big:web/TCP`, 10_000);
    const programMs = Date.now() - started;
    const index = new Map(Array.from({ length: 10_000 }, (_, i) => [epIP(i), i]));
    const perGroup = new Array<number>(100).fill(0);
    const seen = new Set<number>();
    // One SYN per distinct source port: each is a new connection (the simulator's own port counter wraps at 28k).
    const n = 40_000;
    const sendStart = Date.now();
    for (let i = 0; i < n; i++) {
      const p = await c.sim.send({ from: { pod: `${NS}/client` }, to: { ip: svc.spec.clusterIP as string, port: 80 }, protocol: 'TCP', srcPort: 20_000 + i, trace: false });
      const dst = p.received?.dstIP as string;
      const at = index.get(dst);
      assert.ok(at !== undefined, `DNATed to an endpoint, got ${dst}: ${JSON.stringify(p.dropped)}`);
      assert.equal(p.received?.dstPort, 8080);
      seen.add(at);
      perGroup[Math.floor(at / 100)]! += 1;
    }
    t.diagnostic(`programmed 10,000 endpoints in ${programMs} ms; ${n} connections in ${Date.now() - sendStart} ms`);
    // Expected share per endpoint is 4 connections: about 1 - e^-4 = 98.2 % of them are hit at least once.
    assert.ok(seen.size > 9_750, `endpoints used: ${seen.size}`);
    // 100 groups of 100 endpoints, df = 99: P(chi2 > 148.2) = 0.001.
    const x2 = chiSquare(perGroup);
    assert.ok(x2 < 148.2, `chi-square ${x2.toFixed(1)}`);
  });
});

describe('AntreaProxy and EndpointSlice gates', () => {
  test('AntreaProxy off: no Service flows, the module is Disabled, and traffic to a ClusterIP is dropped by the host (no kube-proxy)', async (t) => {
    const c = await cluster(t, { gates: { AntreaProxy: false } });
    const client = c.client();
    await createPods(client, [pod('client', { app: 'client' }), pod('web', { app: 'web' })]);
    const svc = await createService(client, 'web', { selector: { app: 'web' } });
    await waitFor('Endpoints', async () => ((await client.resource<Endpoints>(gvr.endpoints).inNamespace(NS).tryGet('web'))?.subsets?.length ?? 0) > 0);
    const modules = (await (await fetch(`${c.agent('node-1').url}/modules`)).json()) as Array<{ name: string; state: string }>;
    assert.equal(modules.find((m) => m.name === 'antreaproxy')?.state, 'Disabled');
    assert.equal((await fetch(`${c.agent('node-1').url}/proxy`)).status, 404);
    for (const node of c.nodeNames) {
      const flows = await c.sim.node(node).dumpFlows();
      assert.ok(!flows.some((f) => f.table === Table.ServiceLB && f.priority !== 0), `${node}: no ServiceLB flow but the miss`);
      assert.deepEqual(await c.sim.node(node).dumpGroups(), []);
    }
    const r = await c.sim.connect({ from: { pod: `${NS}/client` }, to: { ip: svc.spec.clusterIP as string, port: 80 }, protocol: 'TCP', trace: true });
    const first = r.packets[0];
    t.diagnostic(`ClusterIP without AntreaProxy: ${JSON.stringify({ dropped: first?.dropped, deliveredTo: first?.deliveredTo, received: first?.received })}`);
    assert.equal(first?.deliveredTo?.pod, undefined, 'no endpoint Pod gets it');
    assert.equal(first?.received, undefined, 'no fake external host answers');
    assert.equal(r.established, false);
    assert.match(first?.dropped?.reason ?? '', /no kube-proxy in antrea local: ClusterIP traffic is not load-balanced with AntreaProxy off/);
    assert.ok(first?.dropped?.reason.includes(svc.spec.clusterIP as string), 'the reason names the ClusterIP');
  });

  test('EndpointSlice on with AntreaProxy off: the agent logs one warning and nothing else changes', async (t) => {
    const logger = memoryLogger('warn');
    const c = await cluster(t, { nodes: 1, gates: { AntreaProxy: false, EndpointSlice: true }, logger });
    const warnings = logger.lines.filter((l) => l.includes(ENDPOINTSLICE_WITHOUT_PROXY_WARNING));
    assert.equal(warnings.length, 1, logger.lines.join('\n'));
    assert.equal((JSON.parse(warnings[0] as string) as { node?: string }).node, 'node-1');
    const modules = (await (await fetch(`${c.agent('node-1').url}/modules`)).json()) as Array<{ name: string; state: string }>;
    assert.equal(modules.find((m) => m.name === 'antreaproxy')?.state, 'Disabled');
  });

  test('both gates on: no warning, the proxy reads EndpointSlices', async (t) => {
    const logger = memoryLogger('warn');
    const c = await cluster(t, { nodes: 1, gates: { AntreaProxy: true, EndpointSlice: true }, logger });
    assert.ok(!logger.lines.some((l) => l.includes(ENDPOINTSLICE_WITHOUT_PROXY_WARNING)));
    assert.equal((await proxyState(c, 'node-1')).source, 'EndpointSlices');
  });
});

describe('resolveServiceTarget (for `antrea local traffic NS/POD NS/SVC --port P`)', () => {
  test('resolves a Service and port to its ClusterIP, by number or name, with clear errors', async (t) => {
    const c = await cluster(t, { nodes: 1 });
    const client = c.client();
    const svc = await createService(client, 'two', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    assert.deepEqual(await resolveServiceTarget(client, `${NS}/two`, 53), { ip: svc.spec.clusterIP, port: 53, protocol: 'UDP', portName: 'dns' });
    assert.deepEqual(await resolveServiceTarget(client, `${NS}/two`, 'http'), { ip: svc.spec.clusterIP, port: 80, protocol: 'TCP', portName: 'http' });
    await assert.rejects(resolveServiceTarget(client, `${NS}/two`), { code: 'ERR_SERVICE_PORT_NOT_FOUND' });
    await assert.rejects(resolveServiceTarget(client, `${NS}/two`, 81), { code: 'ERR_SERVICE_PORT_NOT_FOUND' });
    await assert.rejects(resolveServiceTarget(client, `${NS}/nope`, 80), { code: 'ERR_SERVICE_NOT_FOUND' });
    await assert.rejects(resolveServiceTarget(client, 'two', 80), { code: 'ERR_INVALID_ARGUMENT' });
    await createService(client, 'headless', { clusterIP: 'None' });
    await assert.rejects(resolveServiceTarget(client, `${NS}/headless`, 80), { code: 'ERR_SERVICE_NO_CLUSTERIP' });
  });
});
