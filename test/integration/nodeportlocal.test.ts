import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Node, Pod, Service } from '../../src/apis/core.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import { DEFAULT_MANIFEST } from '../../src/local/cluster.js';
import { NPL_ANNOTATION_KEY, decodeAnnotation, type NplAnnotationEntry, type NodePortLocalState } from '../../src/agent/nodeportlocal/index.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

/** Our manifest with `nodePortLocal.enable` set (and, optionally, a port range), by a careful edit of its conf. */
function manifestWithNpl(enable: boolean, portRange?: string): string {
  const text = readFileSync(DEFAULT_MANIFEST, 'utf8');
  const commented = '    nodePortLocal:\n    #  Run NodePortLocal. The NodePortLocal feature gate must be enabled too (it is by default).\n    #  enable: false\n';
  assert.ok(text.includes(commented), 'the manifest still has the commented nodePortLocal section this test edits');
  const set = `    nodePortLocal:\n      enable: ${enable}\n${portRange ? `      portRange: ${portRange}\n` : ''}`;
  return text.replace(commented, set);
}

const web = (name: string, node: string, labels: Record<string, string> = { app: 'web' }): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }] },
});

const nplService = (name = 'web', annotations: Record<string, string> = { 'nodeportlocal.antrea.io/enabled': 'true' }): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', annotations },
  spec: {
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
    ],
  },
});

async function nodeIP(client: ApiClient, node: string): Promise<string> {
  const n = await client.resource<Node>(gvr.nodes).get(node);
  return n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address as string;
}

/** The Pod's NPL annotation once `check` accepts it. */
async function annotationOf(client: ApiClient, name: string, check: (e: NplAnnotationEntry[] | undefined) => boolean): Promise<NplAnnotationEntry[] | undefined> {
  let last: NplAnnotationEntry[] | undefined;
  await waitFor(`the ${NPL_ANNOTATION_KEY} annotation of ${name} (last: ${JSON.stringify(last)})`, async () => {
    const pod = await client.resource<Pod>(gvr.pods).inNamespace('default').get(name);
    const text = pod.metadata.annotations?.[NPL_ANNOTATION_KEY];
    last = text === undefined ? undefined : decodeAnnotation(text).entries;
    return check(last) ? true : undefined;
  });
  return last;
}

async function agentState(url: string): Promise<NodePortLocalState> {
  return (await (await fetch(`${url}/nodeportlocal`)).json()) as NodePortLocalState;
}

async function runningPods(client: ApiClient, count: number): Promise<void> {
  await waitFor(`${count} running Pods`, async () => {
    const pods = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    return pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length === count;
  });
}

describe('NodePortLocal', () => {
  test('Pods of an annotated Service get Node ports; traffic from outside to nodeIP:nodePort reaches them; removing the annotation undoes it', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, manifestText: manifestWithNpl(true) });
    const client = cluster.client();
    const pods = client.resource<Pod>(gvr.pods).inNamespace('default');
    const services = client.resource<Service>(gvr.services).inNamespace('default');
    await pods.create(web('a', 'node-1'));
    await pods.create(web('b', 'node-2'));
    await pods.create(web('other', 'node-1', { app: 'db' }));
    await runningPods(client, 3);
    await services.create(nplService());

    const ip1 = await nodeIP(client, 'node-1');
    const ip2 = await nodeIP(client, 'node-2');
    const two = (e: NplAnnotationEntry[] | undefined) => e?.length === 2;
    const a = (await annotationOf(client, 'a', two)) as NplAnnotationEntry[];
    const b = (await annotationOf(client, 'b', two)) as NplAnnotationEntry[];
    for (const [entries, ip] of [[a, ip1], [b, ip2]] as const) {
      assert.deepEqual(new Set(entries.map((e) => `${e.podPort}/${e.protocols.join()}`)), new Set(['8080/tcp', '53/udp']));
      assert.ok(entries.every((e) => e.nodeIP === ip && e.nodePort >= 61000 && e.nodePort <= 62000), JSON.stringify(entries));
    }
    const other = await pods.get('other');
    assert.equal(other.metadata.annotations?.[NPL_ANNOTATION_KEY], undefined, 'a Pod no annotated Service selects gets nothing');

    // Real simulated packets: a client outside the cluster, entering at each Node, to the Node's IP and Node port.
    const http = (entries: NplAnnotationEntry[]) => entries.find((e) => e.podPort === 8080)?.nodePort as number;
    const dns = (entries: NplAnnotationEntry[]) => entries.find((e) => e.podPort === 53)?.nodePort as number;
    for (const [entries, ip, node, pod] of [[a, ip1, 'node-1', 'default/a'], [b, ip2, 'node-2', 'default/b']] as const) {
      const tcp = await cluster.sim.connect({ from: { external: '10.0.0.9', via: node }, to: { ip, port: http(entries) }, protocol: 'TCP' });
      assert.ok(tcp.established, `TCP to ${ip}:${http(entries)}: ${JSON.stringify(tcp.failure?.dropped)}`);
      assert.deepEqual(tcp.packets[0]?.deliveredTo, { node, pod });
      assert.equal(tcp.packets[0]?.received?.dstPort, 8080);
      assert.deepEqual([tcp.packets[1]?.received?.srcIP, tcp.packets[1]?.received?.srcPort], [ip, http(entries)], 'the reply comes from the Node port');
      const udp = await cluster.sim.connect({ from: { external: '10.0.0.9', via: node }, to: { ip, port: dns(entries) }, protocol: 'UDP' });
      assert.ok(udp.established, `UDP to ${ip}:${dns(entries)}: ${JSON.stringify(udp.failure?.dropped)}`);
      assert.equal(udp.packets[0]?.received?.dstPort, 53);
    }
    const unmapped = await cluster.sim.send({ from: { external: '10.0.0.9', via: 'node-1' }, to: { ip: ip1, port: dns(a) }, protocol: 'TCP' });
    assert.notEqual(unmapped.deliveredTo?.pod, 'default/a', 'the DNS port is mapped for UDP only');

    const state = await agentState(cluster.agent('node-1').url);
    assert.equal(state.ready, true);
    assert.deepEqual(state.mappings.map((m) => m.pod), ['default/a', 'default/a']);

    // The Service annotation goes away: mappings, annotations and the path from outside go with it.
    const svc = await services.get('web');
    await services.update({ ...svc, metadata: { ...svc.metadata, annotations: {} } });
    await annotationOf(client, 'a', (e) => e === undefined);
    await annotationOf(client, 'b', (e) => e === undefined);
    await waitFor('node-1 to hold no mapping', async () => (await agentState(cluster.agent('node-1').url)).mappings.length === 0);
    const gone = await cluster.sim.connect({ from: { external: '10.0.0.9', via: 'node-1' }, to: { ip: ip1, port: http(a) }, protocol: 'TCP' });
    // The simulated host answers on any port: what matters is that the Pod no longer gets the traffic.
    assert.deepEqual(gone.packets[0]?.deliveredTo, { node: 'node-1', host: true }, 'the Node port leads to the Pod no more');
  });

  test('a Pod leaving the selection or being deleted loses its mapping; restarting the agent keeps every Node port', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1, manifestText: manifestWithNpl(true, '61000-61009') });
    const client = cluster.client();
    const pods = client.resource<Pod>(gvr.pods).inNamespace('default');
    await client.resource<Service>(gvr.services).inNamespace('default').create(nplService());
    for (const n of ['p0', 'p1', 'p2', 'p3']) await pods.create(web(n, 'node-1'));
    const before = new Map<string, NplAnnotationEntry[]>();
    for (const n of ['p0', 'p1', 'p2', 'p3']) before.set(n, (await annotationOf(client, n, (e) => e?.length === 2)) as NplAnnotationEntry[]);
    const ports = [...before.values()].flat().map((e) => e.nodePort);
    assert.equal(new Set(ports).size, 8, `distinct Node ports: ${ports.join(',')}`);

    // p1 leaves the selection, p2 is deleted.
    const p1 = await pods.get('p1');
    await pods.update({ ...p1, metadata: { ...p1.metadata, labels: { app: 'other' } } });
    await pods.delete('p2');
    await annotationOf(client, 'p1', (e) => e === undefined);
    await waitFor('p1 and p2 mappings to go', async () => (await agentState(cluster.agent('node-1').url)).mappings.length === 4);

    // While the agent is down p3 is deleted (its annotation goes with it, its mappings stay in the datapath) and p4
    // is created. After the restart nothing published moves, p3's leftovers are gone, nothing is given twice.
    await cluster.stopAgent('node-1');
    const p3Ports = (before.get('p3') ?? []).map((e) => e.nodePort);
    await pods.delete('p3');
    await pods.create(web('p4', 'node-1'));
    await cluster.startAgent('node-1');
    const p4 = (await annotationOf(client, 'p4', (e) => e?.length === 2)) as NplAnnotationEntry[];
    assert.deepEqual(await annotationOf(client, 'p0', (e) => e?.length === 2), before.get('p0'), 'p0 keeps its Node ports across the restart');
    const kept = (before.get('p0') ?? []).map((e) => e.nodePort);
    assert.ok(p4.every((e) => !kept.includes(e.nodePort)), `p4 got ports nobody holds: ${JSON.stringify(p4)}`);
    const state = await waitFor('4 mappings (p0 and p4)', async () => {
      const s = await agentState(cluster.agent('node-1').url);
      return s.mappings.length === 4 ? s : undefined;
    });
    assert.deepEqual([...new Set(state.mappings.map((m) => m.pod))].sort(), ['default/p0', 'default/p4']);
    const ip = await nodeIP(client, 'node-1');
    const r = await cluster.sim.connect({ from: { external: '10.0.0.9', via: 'node-1' }, to: { ip, port: before.get('p0')?.find((e) => e.podPort === 8080)?.nodePort as number }, protocol: 'TCP' });
    assert.deepEqual(r.packets[0]?.deliveredTo, { node: 'node-1', pod: 'default/p0' }, 'the restored mapping still carries traffic');
    for (const port of p3Ports.filter((p) => !p4.some((e) => e.nodePort === p))) {
      for (const protocol of ['TCP', 'UDP'] as const) {
        const stale = await cluster.sim.send({ from: { external: '10.0.0.9', via: 'node-1' }, to: { ip, port }, protocol });
        assert.deepEqual(stale.deliveredTo, { node: 'node-1', host: true }, `p3's old Node port ${port}/${protocol} leads nowhere`);
      }
    }
  });

  test('port range exhausted: the agent keeps running, reports the waiting Pod, and maps it once a port frees', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1, manifestText: manifestWithNpl(true, '61000-61002') });
    const client = cluster.client();
    const pods = client.resource<Pod>(gvr.pods).inNamespace('default');
    await client.resource<Service>(gvr.services).inNamespace('default').create(nplService());
    await pods.create(web('x', 'node-1'));
    await annotationOf(client, 'x', (e) => e?.length === 2);
    await pods.create(web('y', 'node-1'));
    await waitFor('y to wait for a port', async () => (await agentState(cluster.agent('node-1').url)).waiting.some((w) => w.pod === 'default/y'));
    const y = await annotationOf(client, 'y', (e) => e?.length === 1);
    assert.equal(y?.length, 1, 'y got the one port that was left');
    assert.ok(cluster.agent('node-1').ready());
    await pods.delete('x');
    await annotationOf(client, 'y', (e) => e?.length === 2);
    assert.deepEqual((await agentState(cluster.agent('node-1').url)).waiting, []);
  });

  test('gate on but nodePortLocal.enable false: nothing is mapped or annotated', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1, manifestText: manifestWithNpl(false) });
    const client = cluster.client();
    await client.resource<Service>(gvr.services).inNamespace('default').create(nplService());
    await client.resource<Pod>(gvr.pods).inNamespace('default').create(web('a', 'node-1'));
    await runningPods(client, 1);
    const modules = (await (await fetch(`${cluster.agent('node-1').url}/modules`)).json()) as Array<{ name: string; state: string }>;
    assert.deepEqual(modules.find((m) => m.name === 'nodeportlocal'), { name: 'nodeportlocal', gate: 'NodePortLocal', state: 'Running' });
    assert.deepEqual(await agentState(cluster.agent('node-1').url), { enabled: false, ready: true, mappings: [], waiting: [] });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await client.resource<Pod>(gvr.pods).inNamespace('default').get('a')).metadata.annotations?.[NPL_ANNOTATION_KEY], undefined);
  });

  test('gate off: the module is Disabled and nothing happens, even with nodePortLocal.enable', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1, manifestText: manifestWithNpl(true), gates: { NodePortLocal: false } });
    const client = cluster.client();
    await client.resource<Service>(gvr.services).inNamespace('default').create(nplService());
    await client.resource<Pod>(gvr.pods).inNamespace('default').create(web('a', 'node-1'));
    await runningPods(client, 1);
    const url = cluster.agent('node-1').url;
    const modules = (await (await fetch(`${url}/modules`)).json()) as Array<{ name: string; state: string }>;
    assert.deepEqual(modules.find((m) => m.name === 'nodeportlocal'), { name: 'nodeportlocal', gate: 'NodePortLocal', state: 'Disabled' });
    const gates = (await (await fetch(`${url}/featuregates`)).json()) as Array<{ name: string; status: string }>;
    assert.equal(gates.find((g) => g.name === 'NodePortLocal')?.status, 'Disabled');
    assert.equal((await fetch(`${url}/nodeportlocal`)).status, 404);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await client.resource<Pod>(gvr.pods).inNamespace('default').get('a')).metadata.annotations?.[NPL_ANNOTATION_KEY], undefined);
  });
});
