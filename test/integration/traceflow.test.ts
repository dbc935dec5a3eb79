import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../src/apis/core.js';
import { traceflowGvr, type Traceflow, type TraceflowSpec } from '../../src/apis/crd/traceflow.js';
import { gvr } from '../../src/apiserver/registry.js';
import { policyGvr } from '../../src/apis/crd/policy.js';
import type { NetworkPolicy } from '../../src/apis/networking.js';
import { SharedInformerFactory } from '../../src/client/factory.js';
import type { ApiClient } from '../../src/client/types.js';
import { antctl } from '../../src/cli/antctl.js';
import { capture } from '../../src/cli/testing.js';
import { controllerModules } from '../../src/controller/index.js';
import { TraceflowController } from '../../src/controller/traceflow/controller.js';
import type { LocalCluster } from '../../src/local/cluster.js';
import { silentLogger } from '../../src/util/log.js';
import { startLocalCluster, tempDir, waitFor } from '../helpers/cluster.js';

const podObj = (name: string, node: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] },
});

async function runningPods(client: ApiClient, pods: Record<string, string>): Promise<Record<string, Pod>> {
  for (const [name, node] of Object.entries(pods)) await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj(name, node));
  return waitFor('running Pods with addresses', async () => {
    const list = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    const ready = list.filter((p) => p.status?.phase === 'Running' && p.status.podIP && (p.metadata.name ?? '') in pods);
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

async function agentTraceflowState(cluster: LocalCluster, node: string): Promise<{ watching: Record<string, number>; liveTraffic: boolean }> {
  const res = await fetch(`${cluster.agent(node).url}/traceflow`);
  return (await res.json()) as { watching: Record<string, number>; liveTraffic: boolean };
}

const fromClient = (destination: TraceflowSpec['destination'], extra: Partial<TraceflowSpec> = {}): TraceflowSpec => ({
  source: { namespace: 'default', pod: 'client' },
  destination,
  ...extra,
});

describe('Traceflow', () => {
  test('a cross-Node trace shows the source Node, the tunnel and the delivery on the destination Node', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', server: 'node-2' });
    await createTraceflow(client, 'cross-node', fromClient({ namespace: 'default', pod: 'server' }, { packet: { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } } }));
    const tf = await finished(client, 'cross-node');
    assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
    const byNode = Object.fromEntries((tf.status?.results ?? []).map((r) => [r.node, r]));
    const src = byNode['node-1'];
    const dst = byNode['node-2'];
    assert.ok(src && dst, 'both Nodes reported their own observations');
    assert.equal(src.role, 'Sender');
    assert.deepEqual(src.observations[0], { component: 'SpoofGuard', action: 'Forwarded' });
    const tunnel = src.observations.at(-1);
    assert.equal(tunnel?.action, 'Forwarded');
    assert.equal(tunnel?.tunnelDstIP, '192.168.77.101', 'out through the tunnel to node-2');
    assert.deepEqual(dst.observations[0], { component: 'Forwarding', action: 'Received' });
    assert.deepEqual(dst.observations.at(-1), { component: 'Forwarding', componentInfo: 'Output', action: 'Delivered', pod: 'default/server' });
    assert.ok(tf.status?.dataplaneTag !== undefined && tf.status.startTime);
    assert.deepEqual(await controllerTags(cluster), {}, 'the tag is freed once the trace succeeded');
    assert.ok(pods.server);
  });

  test('a same-Node UDP trace and a trace to a Service (AntreaProxy load balancing, translated address named)', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', local: 'node-1', server: 'node-2' });
    await createTraceflow(client, 'same-node', fromClient({ namespace: 'default', pod: 'local' }, { packet: { transportHeader: { udp: { dstPort: 53 } } } }));
    const same = await finished(client, 'same-node');
    assert.equal(same.status?.phase, 'Succeeded', same.status?.reason);
    assert.deepEqual(same.status?.results?.map((r) => r.node), ['node-1']);
    assert.equal(same.status?.results?.[0]?.observations.at(-1)?.pod, 'default/local');

    await client.resource<Service>(gvr.services).inNamespace('default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'server' }, ports: [{ port: 8080, targetPort: 80, protocol: 'TCP' }] },
    });
    // Traced packets go through what the agent programmed: wait until AntreaProxy load-balances the Service.
    const svc = await client.resource<Service>(gvr.services).inNamespace('default').get('web');
    await waitFor('the Service to be load-balanced', async () => {
      const r = await cluster.sim.send({ from: { pod: 'default/client' }, to: { ip: svc.spec?.clusterIP as string, port: 8080 }, protocol: 'TCP', trace: false });
      return r.deliveredTo?.pod === 'default/server';
    });
    await createTraceflow(client, 'to-service', fromClient({ namespace: 'default', service: 'web' }, { packet: { ipHeader: { protocol: 6 } } }));
    const tf = await finished(client, 'to-service');
    assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
    const lb = tf.status?.results?.flatMap((r) => r.observations).find((o) => o.component === 'LB');
    assert.equal(lb?.translatedDstIP, pods.server?.status?.podIP);
    assert.equal(lb?.pod, 'default/server', 'the controller names the Pod behind the translated address');
  });

  test('without AntreaProxy a trace to a Service fails, saying it needs AntreaProxy', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, gates: { AntreaProxy: false } });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    await client.resource<Service>(gvr.services).inNamespace('default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'server' }, ports: [{ port: 8080, targetPort: 80, protocol: 'TCP' }] },
    });
    await createTraceflow(client, 'no-proxy', fromClient({ namespace: 'default', service: 'web' }));
    const tf = await finished(client, 'no-proxy');
    assert.equal(tf.status?.phase, 'Failed');
    assert.equal(tf.status?.reason, 'Node: node-1, error: using Service destination requires AntreaProxy feature enabled');
  });

  test('a dropped trace names where it dropped, and a trace that cannot start says why', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    // An address in node-2's Pod CIDR that no Pod holds: the packet crosses the tunnel and is dropped there.
    await createTraceflow(client, 'unknown-dst', fromClient({ ip: '10.10.1.200' }));
    const dropped = await finished(client, 'unknown-dst');
    assert.equal(dropped.status?.phase, 'Succeeded', dropped.status?.reason);
    const last = dropped.status?.results?.find((r) => r.node === 'node-2')?.observations.at(-1);
    assert.equal(last?.action, 'Dropped');
    assert.ok(last?.component && last.componentInfo, `names the stage: ${JSON.stringify(last)}`);
    // An address of node-1's own subnet that nobody answers for never leaves the Pod.
    await createTraceflow(client, 'no-arp', fromClient({ ip: '10.10.0.200' }));
    const noArp = await finished(client, 'no-arp');
    assert.equal(noArp.status?.phase, 'Failed');
    assert.match(noArp.status?.reason ?? '', /^Node: node-1, error: .*ARP for 10\.10\.0\.200/);
    // A Service destination needs AntreaProxy on the agent; here a missing Service is caught by the controller.
    await createTraceflow(client, 'no-svc', fromClient({ namespace: 'default', service: 'nope' }));
    assert.equal((await finished(client, 'no-svc')).status?.reason, 'Invalid Traceflow request, err: requested destination Service default/nope not found');
  });

  test('a trace dropped by a K8s NetworkPolicy names the policy; one it allows names the allowing policy', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', other: 'node-1', server: 'node-2' });
    // server accepts port 80 from app=other only: client is dropped by the isolation the policy brings.
    await client.resource<NetworkPolicy>(policyGvr.k8snetworkpolicies).inNamespace('default').create({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'only-other', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'other' } } }], ports: [{ port: 80 }] }] },
    });
    const serverIP = pods.server?.status?.podIP as string;
    await waitFor('the policy is enforced', async () => {
      const r = await cluster.sim.send({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP', trace: false });
      return r.delivered ? undefined : true;
    });
    const tcp80 = { packet: { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } } };
    await createTraceflow(client, 'np-drop', fromClient({ namespace: 'default', pod: 'server' }, tcp80));
    const dropped = await finished(client, 'np-drop');
    assert.equal(dropped.status?.phase, 'Succeeded', dropped.status?.reason);
    assert.deepEqual(dropped.status?.results?.find((r) => r.node === 'node-2')?.observations.at(-1), {
      component: 'NetworkPolicy', componentInfo: 'IngressDefaultRule', action: 'Dropped', networkPolicy: 'K8sNetworkPolicy:default/only-other',
    });
    await createTraceflow(client, 'np-allow', { ...fromClient({ namespace: 'default', pod: 'server' }, tcp80), source: { namespace: 'default', pod: 'other' } });
    const allowed = await finished(client, 'np-allow');
    assert.equal(allowed.status?.phase, 'Succeeded', allowed.status?.reason);
    const dst = allowed.status?.results?.find((r) => r.node === 'node-2')?.observations ?? [];
    assert.deepEqual(dst.find((o) => o.component === 'NetworkPolicy'), {
      component: 'NetworkPolicy', componentInfo: 'IngressRule', action: 'Forwarded', networkPolicy: 'K8sNetworkPolicy:default/only-other',
    });
    assert.equal(dst.at(-1)?.action, 'Delivered');
  });

  test('a trace to a deleted Pod fails with a clear reason; so does one from a missing source', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    await client.resource<Pod>(gvr.pods).inNamespace('default').delete('server');
    await waitFor('the Pod to be gone', async () => !(await client.resource<Pod>(gvr.pods).inNamespace('default').tryGet('server')));
    await createTraceflow(client, 'to-deleted', fromClient({ namespace: 'default', pod: 'server' }));
    const tf = await finished(client, 'to-deleted');
    assert.equal(tf.status?.phase, 'Failed');
    assert.equal(tf.status?.reason, 'Invalid Traceflow request, err: requested destination Pod default/server not found');
    await createTraceflow(client, 'from-missing', { source: { namespace: 'default', pod: 'ghost' }, destination: { ip: '10.10.1.2' } });
    assert.equal((await finished(client, 'from-missing')).status?.reason, 'Invalid Traceflow request, err: requested source Pod default/ghost not found');
    assert.deepEqual(await controllerTags(cluster), {});
  });

  test('concurrent traces get distinct tags; when all 14 are held the next waits for one to be freed', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    // With the source Node's agent away nothing is injected, so the traces stay Running and hold their tags.
    await cluster.stopAgent('node-1');
    for (let i = 0; i < 15; i++) await createTraceflow(client, `tf-${i}`, fromClient({ namespace: 'default', pod: 'server' }, { timeout: 60 }));
    const running = await waitFor('14 Running Traceflows', async () => {
      const items = (await traceflows(client).list()).items.filter((tf) => tf.status?.phase === 'Running');
      return items.length === 14 ? items : undefined;
    });
    const tags = running.map((tf) => tf.status?.dataplaneTag);
    assert.equal(new Set(tags).size, 14, `distinct tags: ${tags.join(',')}`);
    const waiting = (await traceflows(client).list()).items.filter((tf) => tf.status?.phase === undefined);
    assert.equal(waiting.length, 1, 'the 15th waits without a tag');
    const freed = running[0]?.status?.dataplaneTag;
    await traceflows(client).delete(running[0]?.metadata.name as string);
    const late = await waitFor('the waiting Traceflow to run', async () => {
      const tf = await traceflows(client).get(waiting[0]?.metadata.name as string);
      return tf.status?.phase === 'Running' ? tf : undefined;
    });
    assert.equal(late.status?.dataplaneTag, freed, 'it gets the freed tag');
    // The agent comes back and injects every Running trace, each with its own tag.
    await cluster.startAgent('node-1');
    for (const tf of (await traceflows(client).list()).items) {
      assert.equal((await finished(client, tf.metadata.name as string)).status?.phase, 'Succeeded');
    }
    assert.deepEqual(await controllerTags(cluster), {});
  });

  test('a timed-out trace ends Failed and frees its tag', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    await cluster.stopAgent('node-1');
    await createTraceflow(client, 'slow', fromClient({ namespace: 'default', pod: 'server' }, { timeout: 1 }));
    await waitFor('the tag to be held', async () => (await controllerTags(cluster)).slow !== undefined);
    const tf = await finished(client, 'slow', 5_000);
    assert.equal(tf.status?.phase, 'Failed');
    assert.equal(tf.status?.reason, 'Traceflow timeout');
    assert.deepEqual(await controllerTags(cluster), {});
  });

  test('a restarted controller re-reads the tags of Running Traceflows and never hands one out twice', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 1, controllerModules: controllerModules.filter((m) => m.name !== 'traceflow') });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1' });
    await cluster.stopAgent('node-1');
    const start = () => {
      const informers = new SharedInformerFactory(client, { logger: silentLogger });
      const c = new TraceflowController({ client, informers, logger: silentLogger });
      c.start();
      return { c, stop: async () => (await c.stop(), await informers.stop()) };
    };
    const first = start();
    for (const n of ['a', 'b', 'c']) await createTraceflow(client, n, fromClient({ ip: '10.10.0.99' }, { timeout: 120 }));
    await waitFor('3 tags', () => Object.keys(first.c.state().tags).length === 3);
    const before = first.c.state().tags;
    await first.stop();
    const second = start();
    t.after(() => second.stop());
    await createTraceflow(client, 'd', fromClient({ ip: '10.10.0.99' }, { timeout: 120 }));
    await waitFor('4 tags', () => Object.keys(second.c.state().tags).length === 4);
    const after = second.c.state().tags;
    assert.deepEqual({ a: after.a, b: after.b, c: after.c }, before);
    assert.equal(new Set(Object.values(after)).size, 4);
  });

  test('live traffic: a connection opened after the trace starts is captured and its path reported per Node', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', server: 'node-2' });
    const clientIP = pods.client?.status?.podIP as string;
    const serverIP = pods.server?.status?.podIP as string;
    // Traffic before the trace starts is not what it samples.
    assert.ok((await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' })).established);
    await createTraceflow(client, 'live', fromClient({ namespace: 'default', pod: 'server' }, { liveTraffic: true, packet: { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } } }));
    await waitFor('node-1 to sample live traffic', async () => (await agentTraceflowState(cluster, 'node-1')).watching.live !== undefined);
    // Traffic that does not match the filter (another port) is not sampled either.
    await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 8080 }, protocol: 'TCP' });
    const conn = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP', exchanges: 3 });
    assert.ok(conn.established);
    const tf = await finished(client, 'live');
    assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
    assert.deepEqual(tf.status?.capturedPacket, {
      srcIP: clientIP, dstIP: serverIP, length: 40, ipHeader: { protocol: 6, ttl: 64 },
      transportHeader: { tcp: { srcPort: conn.srcPort, dstPort: 80, flags: 2 } },
    }, 'the first packet of the connection: its SYN');
    const byNode = Object.fromEntries((tf.status?.results ?? []).map((r) => [r.node, r.observations]));
    assert.deepEqual(byNode['node-1']?.[0], { component: 'SpoofGuard', action: 'Forwarded' });
    assert.equal(byNode['node-1']?.at(-1)?.tunnelDstIP, '192.168.77.101');
    assert.deepEqual(byNode['node-2']?.at(-1), { component: 'Forwarding', componentInfo: 'Output', action: 'Delivered', pod: 'default/server' });
    await waitFor('sampling to stop after the first packet', async () => Object.keys((await agentTraceflowState(cluster, 'node-1')).watching).length === 0);
    assert.deepEqual(await controllerTags(cluster), {});
  });

  test('live traffic, dropped only: delivered packets are ignored, the one a NetworkPolicy drops is captured', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', other: 'node-1', server: 'node-2' });
    const serverIP = pods.server?.status?.podIP as string;
    await client.resource<NetworkPolicy>(policyGvr.k8snetworkpolicies).inNamespace('default').create({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'only-other', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'other' } } }], ports: [{ port: 80 }] }] },
    });
    await waitFor('the policy is enforced', async () => {
      const r = await cluster.sim.send({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP', trace: false });
      return r.delivered ? undefined : true;
    });
    // No source Pod: the destination Pod's agent samples, as Antrea's does.
    await createTraceflow(client, 'live-drop', {
      destination: { namespace: 'default', pod: 'server' }, liveTraffic: true, droppedOnly: true, timeout: 30,
      packet: { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } },
    });
    await waitFor('node-2 to sample live traffic', async () => (await agentTraceflowState(cluster, 'node-2')).watching['live-drop'] !== undefined);
    assert.ok((await cluster.sim.connect({ from: { pod: 'default/other' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' })).established);
    await new Promise((r) => setTimeout(r, 200));
    const still = await traceflows(client).get('live-drop');
    assert.equal(still.status?.phase, 'Running', 'a delivered connection is not captured');
    assert.equal(still.status?.capturedPacket, undefined);
    const refused = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' });
    assert.equal(refused.established, false);
    const tf = await finished(client, 'live-drop');
    assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
    assert.equal(tf.status?.capturedPacket?.srcIP, pods.client?.status?.podIP);
    assert.equal(tf.status?.capturedPacket?.transportHeader?.tcp?.srcPort, refused.srcPort);
    assert.deepEqual(tf.status?.results?.map((r) => r.node), ['node-2'], 'only the Node that dropped it reports');
    assert.deepEqual(tf.status?.results?.[0]?.observations.at(-1), {
      component: 'NetworkPolicy', componentInfo: 'IngressDefaultRule', action: 'Dropped', networkPolicy: 'K8sNetworkPolicy:default/only-other',
    });
  });

  test('live traffic with no matching packet times out Failed, stops sampling and frees its tag', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2 });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', server: 'node-2' });
    await createTraceflow(client, 'live-quiet', fromClient({ namespace: 'default', pod: 'server' }, { liveTraffic: true, timeout: 1, packet: { ipHeader: { protocol: 17 } } }));
    await waitFor('node-1 to sample live traffic', async () => (await agentTraceflowState(cluster, 'node-1')).watching['live-quiet'] !== undefined);
    // TCP does not match a UDP filter.
    await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: pods.server?.status?.podIP as string, port: 80 }, protocol: 'TCP' });
    const tf = await finished(client, 'live-quiet', 5_000);
    assert.equal(tf.status?.phase, 'Failed');
    assert.equal(tf.status?.reason, 'Traceflow timeout');
    assert.equal(tf.status?.capturedPacket, undefined);
    await waitFor('node-1 to stop sampling', async () => Object.keys((await agentTraceflowState(cluster, 'node-1')).watching).length === 0);
    assert.deepEqual(await controllerTags(cluster), {});
  });

  test('antctl traceflow --live-traffic waits for a matching packet and prints the captured packet', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, http: { port: 0 }, stateDir: tempDir(t) });
    const client = cluster.client();
    const pods = await runningPods(client, { client: 'node-1', server: 'node-2' });
    const serverIP = pods.server?.status?.podIP as string;
    const run = capture(antctl, ['traceflow', '-S', 'default/client', '-D', 'default/server', '--live-traffic', '-f', 'udp,udp_dst=53', '-t', '10s', '-o', 'json', '--kubeconfig', cluster.kubeconfig as string]);
    await waitFor('node-1 to sample live traffic', async () => Object.keys((await agentTraceflowState(cluster, 'node-1')).watching).length === 1);
    const conn = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 53 }, protocol: 'UDP' });
    const out = await run;
    assert.equal(out.code, 0, out.stderr);
    const res = JSON.parse(out.stdout) as { phase: string; capturedPacket?: { srcIP: string; dstIP: string; transportHeader?: { udp?: { srcPort: number; dstPort: number } } } };
    assert.equal(res.phase, 'Succeeded');
    assert.equal(res.capturedPacket?.dstIP, serverIP);
    assert.deepEqual(res.capturedPacket?.transportHeader, { udp: { srcPort: conn.srcPort, dstPort: 53 } });
  });

  test('Ctrl-C while antctl traceflow waits: it says it was interrupted, exits 130 and deletes its Traceflow', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, http: { port: 0 }, stateDir: tempDir(t) });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    const stop = new AbortController();
    const run = capture(antctl, ['traceflow', '-S', 'default/client', '-D', 'default/server', '--live-traffic', '-t', '60s', '--kubeconfig', cluster.kubeconfig as string], { stopSignal: stop.signal });
    await waitFor('node-1 to sample live traffic', async () => Object.keys((await agentTraceflowState(cluster, 'node-1')).watching).length === 1);
    stop.abort();
    const out = await run;
    assert.equal(out.code, 130, out.stderr);
    assert.match(out.stderr, /^interrupted: Traceflow \S+ is deleted before it finished\n$/);
    assert.doesNotMatch(out.stderr, /timeout/);
    assert.deepEqual((await traceflows(client).list()).items, [], 'the Traceflow is gone');
  });

  test('gate off: the controller and agents ignore Traceflows, and antctl says the feature is disabled', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, gates: { Traceflow: false }, http: { port: 0 }, stateDir: tempDir(t) });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    await createTraceflow(client, 'ignored', fromClient({ namespace: 'default', pod: 'server' }));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await traceflows(client).get('ignored')).status, undefined, 'nobody touched it');
    assert.ok(cluster.controller.modules().some((m) => m.name === 'traceflow' && m.state === 'Disabled'));
    const out = await capture(antctl, ['traceflow', '-S', 'default/client', '-D', 'default/server', '--kubeconfig', cluster.kubeconfig as string]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /Traceflow is disabled/);
  });

  test('antctl traceflow against a cluster served over HTTP: a delivered trace exits 0, a failed one exits 1', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, http: { port: 0 }, stateDir: tempDir(t) });
    const client = cluster.client();
    await runningPods(client, { client: 'node-1', server: 'node-2' });
    const kubeconfig = cluster.kubeconfig as string;
    const ok = await capture(antctl, ['traceflow', '-S', 'default/client', '-D', 'default/server', '-f', 'tcp,tcp_dst=80', '-o', 'json', '--kubeconfig', kubeconfig]);
    assert.equal(ok.code, 0, ok.stderr);
    const res = JSON.parse(ok.stdout) as { name: string; phase: string; source: string; destination: string; results: { node: string }[] };
    assert.equal(res.phase, 'Succeeded');
    assert.equal(res.source, 'default/client');
    assert.equal(res.destination, 'default/server');
    assert.deepEqual(res.results.map((r) => r.node).sort(), ['node-1', 'node-2']);
    assert.equal(await traceflows(client).tryGet(res.name), undefined, 'antctl deletes the Traceflow it created');
    const yaml = await capture(antctl, ['traceflow', '-S', 'client', '-D', '10.10.1.200', '--kubeconfig', kubeconfig]);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.match(yaml.stdout, /phase: Succeeded/);
    assert.match(yaml.stdout, /action: Dropped/);
    const failed = await capture(antctl, ['traceflow', '-S', 'default/client', '-D', 'default/gone', '--kubeconfig', kubeconfig]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /phase: Failed/);
    assert.match(failed.stderr, /requested destination Pod default\/gone not found/);
  });
});
