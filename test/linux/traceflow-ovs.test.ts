/**
 * Traceflow on `antrea local --datapath ovs`: the agents trace the packet with ofproto/trace through the real bridges,
 * and live-traffic Traceflows sample real packets with a flow on the watching Node (root and Open vSwitch needed;
 * skipped with the reason otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../src/apis/core.js';
import { traceflowGvr, type Traceflow, type TraceflowSpec } from '../../src/apis/crd/traceflow.js';
import { policyGvr } from '../../src/apis/crd/policy.js';
import type { NetworkPolicy } from '../../src/apis/networking.js';
import { gvr } from '../../src/apiserver/registry.js';
import { antctl } from '../../src/cli/antctl.js';
import { capture } from '../../src/cli/testing.js';
import { OvsCluster } from '../../src/datapath/ovs/cluster.js';
import { ovsAvailable } from '../../src/datapath/ovs/exec.js';
import { SAMPLING_COOKIE_BASE, SAMPLING_COOKIE_MASK } from '../../src/datapath/ovs/sampling.js';
import type { LocalCluster } from '../../src/local/cluster.js';
import { startLocalCluster, tempDir, waitFor } from '../helpers/cluster.js';

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

const SAMPLING_COOKIES = `cookie=${'0x' + SAMPLING_COOKIE_BASE.toString(16)}/${'0x' + (SAMPLING_COOKIE_MASK | (0xffffn << 48n)).toString(16)}`;

/** The live-traffic sampling flows every Node's br-int holds, by `ovs-ofctl dump-flows` of their cookie. */
async function samplingFlows(cluster: LocalCluster): Promise<string[]> {
  const ovs = cluster.executor;
  assert.ok(ovs instanceof OvsCluster);
  const out: string[] = [];
  for (const n of ovs.nodeList()) {
    const { stdout } = await n.ovs.ofctlPlain('dump-flows', 'br-int', [SAMPLING_COOKIES]);
    for (const line of stdout.split('\n')) if (line.includes('cookie=')) out.push(`${n.nodeName}: ${line.trim()}`);
  }
  return out;
}

async function agentWatching(cluster: LocalCluster, node: string): Promise<Record<string, number>> {
  const res = await fetch(`${cluster.agent(node).url}/traceflow`);
  return ((await res.json()) as { watching: Record<string, number> }).watching;
}

async function controllerTags(cluster: LocalCluster): Promise<Record<string, number>> {
  const res = await fetch(`${cluster.controller.url}/traceflow`);
  return ((await res.json()) as { tags: Record<string, number> }).tags;
}

test('live-traffic Traceflow on Open vSwitch: real packets sampled by a flow, traced per Node, the flow removed', { skip, timeout: 300_000 }, async (t) => {
  const cluster = await startLocalCluster(t, { nodes: 2, datapath: 'ovs', http: { port: 0 }, stateDir: tempDir(t) });
  const ovs = cluster.executor;
  assert.ok(ovs instanceof OvsCluster);
  const client = cluster.client();
  for (const [name, node] of [['client', 'node-1'], ['other', 'node-1'], ['server', 'node-2']] as const) await client.resource<Pod>(gvr.pods).inNamespace('default').create(pod(name, node));
  const pods = await waitFor('three running Pods', async () => {
    const list = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items.filter((p) => p.status?.phase === 'Running' && p.status.podIP);
    return list.length === 3 ? Object.fromEntries(list.map((p) => [p.metadata.name as string, p.status?.podIP as string])) : undefined;
  }, 120_000);
  const [clientIP, serverIP] = [pods.client as string, pods.server as string];
  const traceflows = client.resource<Traceflow>(traceflowGvr);
  const finished = (name: string, timeoutMs: number) => waitFor(`Traceflow ${name} to finish`, async () => {
    const cur = await traceflows.get(name);
    return cur.status?.phase === 'Succeeded' || cur.status?.phase === 'Failed' ? cur : undefined;
  }, timeoutMs);
  const create = (name: string, spec: TraceflowSpec) => traceflows.create({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Traceflow', metadata: { name }, spec });
  const tcp80 = { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } };

  await t.test('a connection opened after the trace starts is captured and its path reported per Node', async () => {
    // Traffic before the trace starts is not what it samples.
    assert.ok((await ovs.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' })).established);
    await create('live', { source: { namespace: 'default', pod: 'client' }, destination: { namespace: 'default', pod: 'server' }, liveTraffic: true, packet: tcp80 });
    await waitFor('node-1 to sample live traffic', async () => (await agentWatching(cluster, 'node-1')).live !== undefined, 20_000);
    const held = await samplingFlows(cluster);
    assert.equal(held.length, 1, held.join('\n'));
    assert.match(held[0] ?? '', /^node-1: .*table=31, .*priority=65000,ct_state=\+new\+trk,tcp,reg15=0\/0x1,in_port=\d+,nw_dst=[\d.]+,tp_dst=80 actions=CONTROLLER:65535/);
    // A connection to another port does not match the filter.
    assert.ok((await ovs.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 8080 }, protocol: 'TCP' })).established);
    assert.equal((await traceflows.get('live')).status?.capturedPacket, undefined);
    const conn = await ovs.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP', exchanges: 3 });
    assert.ok(conn.established);
    const tf = await finished('live', 20_000);
    assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
    const cap = tf.status?.capturedPacket;
    // The SYN as the client's kernel sent it: its length includes the kernel's TCP options.
    assert.deepEqual({ ...cap, length: undefined }, {
      srcIP: clientIP, dstIP: serverIP, length: undefined, ipHeader: { protocol: 6, ttl: 64 },
      transportHeader: { tcp: { srcPort: conn.srcPort, dstPort: 80, flags: 2 } },
    });
    assert.ok((cap?.length ?? 0) >= 40, `IP length ${cap?.length}`);
    const byNode = Object.fromEntries((tf.status?.results ?? []).map((r) => [r.node, r.observations]));
    assert.deepEqual(byNode['node-1']?.[0], { component: 'SpoofGuard', action: 'Forwarded' });
    assert.equal(byNode['node-1']?.at(-1)?.tunnelDstIP, ovs.node('node-2').config.nodeIP, JSON.stringify(byNode['node-1']));
    assert.deepEqual(byNode['node-2']?.[0], { component: 'Forwarding', action: 'Received' });
    assert.deepEqual(byNode['node-2']?.at(-1), { component: 'Forwarding', componentInfo: 'Output', action: 'Delivered', pod: 'default/server' });
    assert.deepEqual(await samplingFlows(cluster), [], 'the sampling flow is gone after the first packet');
    await waitFor('node-1 to stop sampling', async () => Object.keys(await agentWatching(cluster, 'node-1')).length === 0);
    assert.deepEqual(await controllerTags(cluster), {});
  });

  await t.test('no matching packet: the trace times out Failed, the flow is removed and the tag freed', async () => {
    await create('live-quiet', { source: { namespace: 'default', pod: 'client' }, destination: { namespace: 'default', pod: 'server' }, liveTraffic: true, timeout: 1, packet: { ipHeader: { protocol: 17 } } });
    await waitFor('node-1 to sample live traffic', async () => (await agentWatching(cluster, 'node-1'))['live-quiet'] !== undefined, 20_000);
    assert.equal((await samplingFlows(cluster)).length, 1);
    // TCP does not match a UDP filter.
    await ovs.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' });
    const tf = await finished('live-quiet', 20_000);
    assert.equal(tf.status?.phase, 'Failed');
    assert.equal(tf.status?.reason, 'Traceflow timeout');
    assert.equal(tf.status?.capturedPacket, undefined);
    await waitFor('node-1 to stop sampling', async () => Object.keys(await agentWatching(cluster, 'node-1')).length === 0);
    await waitFor('the sampling flow to be removed', async () => (await samplingFlows(cluster)).length === 0);
    assert.deepEqual(await controllerTags(cluster), {});
  });

  await t.test('antctl traceflow --live-traffic waits for a matching packet and prints the captured packet', async () => {
    const run = capture(antctl, ['traceflow', '-S', 'default/client', '-D', 'default/server', '--live-traffic', '-f', 'udp,udp_dst=53', '-t', '20s', '-o', 'json', '--kubeconfig', cluster.kubeconfig as string]);
    await waitFor('node-1 to sample live traffic', async () => Object.keys(await agentWatching(cluster, 'node-1')).length === 1, 20_000);
    const conn = await ovs.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 53 }, protocol: 'UDP' });
    const out = await run;
    assert.equal(out.code, 0, out.stderr);
    const res = JSON.parse(out.stdout) as { phase: string; capturedPacket?: { srcIP: string; dstIP: string; transportHeader?: { udp?: { srcPort: number; dstPort: number } } } };
    assert.equal(res.phase, 'Succeeded');
    assert.equal(res.capturedPacket?.srcIP, clientIP);
    assert.equal(res.capturedPacket?.dstIP, serverIP);
    assert.deepEqual(res.capturedPacket?.transportHeader, { udp: { srcPort: conn.srcPort, dstPort: 53 } });
    assert.deepEqual(await samplingFlows(cluster), []);
  });

  await t.test('droppedOnly: delivered connections are ignored, the one a NetworkPolicy drops is captured', async () => {
    await client.resource<NetworkPolicy>(policyGvr.k8snetworkpolicies).inNamespace('default').create({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'only-other', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'other' } } }], ports: [{ port: 80 }] }] },
    });
    await waitFor('the policy is enforced', async () => !(await ovs.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' })).established || undefined, 30_000);
    // No source Pod: the destination Pod's agent samples, on its own Node, what comes out of the tunnel.
    await create('live-drop', { destination: { namespace: 'default', pod: 'server' }, liveTraffic: true, droppedOnly: true, timeout: 60, packet: tcp80 });
    await waitFor('node-2 to sample live traffic', async () => (await agentWatching(cluster, 'node-2'))['live-drop'] !== undefined, 20_000);
    assert.match((await samplingFlows(cluster)).join('\n'), /^node-2: .*ct_state=\+new\+trk,tcp,reg15=0\/0x1,nw_dst=[\d.]+,tp_dst=80 /);
    assert.ok((await ovs.connect({ from: { pod: 'default/other' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' })).established);
    await new Promise((r) => setTimeout(r, 1000));
    const still = await traceflows.get('live-drop');
    assert.equal(still.status?.phase, 'Running', `a delivered connection is not captured: ${JSON.stringify(still.status)}`);
    assert.equal(still.status?.capturedPacket, undefined);
    assert.equal((await samplingFlows(cluster)).length, 1, 'the sampling flow stays for the next connection');
    const refused = await ovs.connect({ from: { pod: 'default/client' }, to: { ip: serverIP, port: 80 }, protocol: 'TCP' });
    assert.equal(refused.established, false);
    const tf = await finished('live-drop', 20_000);
    assert.equal(tf.status?.phase, 'Succeeded', tf.status?.reason);
    assert.equal(tf.status?.capturedPacket?.srcIP, clientIP);
    assert.equal(tf.status?.capturedPacket?.transportHeader?.tcp?.srcPort, refused.srcPort);
    assert.deepEqual(tf.status?.results?.map((r) => r.node), ['node-2'], 'only the Node that dropped it reports');
    assert.deepEqual(tf.status?.results?.[0]?.observations[0], { component: 'Forwarding', action: 'Received' });
    assert.deepEqual(tf.status?.results?.[0]?.observations.at(-1), {
      component: 'NetworkPolicy', componentInfo: 'IngressDefaultRule', action: 'Dropped', networkPolicy: 'K8sNetworkPolicy:default/only-other',
    });
    await waitFor('the sampling flow to be removed', async () => (await samplingFlows(cluster)).length === 0);
    await waitFor('node-2 to stop sampling', async () => Object.keys(await agentWatching(cluster, 'node-2')).length === 0);
    assert.deepEqual(await controllerTags(cluster), {});
  });
});
