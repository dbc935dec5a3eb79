// FlowExporter through the local cluster: real agents poll the simulator's conntrack and export IPFIX to a collector
// of ours on loopback; the records must carry the counters of the traffic we sent and the Kubernetes names.
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod, Service } from '../../src/apis/core.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import { IpfixCollector, type DataRecord, type MessageMeta } from '../../src/ipfix/index.js';
import { DEFAULT_MANIFEST, type LocalCluster } from '../../src/local/cluster.js';
import type { ConnectionResult } from '../../src/datapath/traffic.js';
import { observationDomainId } from '../../src/agent/flowexporter/index.js';
import { antrea } from '../../src/cli/antrea.js';
import type { CliIO } from '../../src/cli/io.js';
import { capture } from '../../src/cli/testing.js';
import { startLocalCluster, tempDir, waitFor } from '../helpers/cluster.js';

/**
 * The default manifest with the agent conf's flow exporter keys set, whether its lines are commented out or set. A
 * plain text edit: setFeatureGates only edits gates.
 */
function manifestWithCollector(addr: string, keys: { poll: string; active: string; idle: string }): string {
  const text = readFileSync(DEFAULT_MANIFEST, 'utf8');
  const set = (src: string, key: string, value: string) => {
    const re = new RegExp(`^(\\s*)#?${key}: .*$`, 'm');
    assert.match(src, re, `the manifest has a line for ${key}, set or commented out`);
    return src.replace(re, `$1${key}: "${value}"`);
  };
  let out = set(text, 'flowCollectorAddr', addr);
  out = set(out, 'flowPollInterval', keys.poll);
  out = set(out, 'activeFlowExportTimeout', keys.active);
  out = set(out, 'idleFlowExportTimeout', keys.idle);
  return out;
}

interface Received {
  fields: DataRecord['fields'];
  domain: number;
}

async function startCollector(t: TestContext, proto: 'tcp' | 'udp') {
  const collector = new IpfixCollector({ [proto]: { host: '127.0.0.1', port: 0 } });
  await collector.start();
  t.after(() => collector.close());
  const records: Received[] = [];
  collector.on('record', (r: DataRecord, meta: MessageMeta) => records.push({ fields: r.fields, domain: meta.observationDomainId }));
  const addr = proto === 'tcp' ? collector.address().tcp : collector.address().udp;
  return { collector, records, port: addr?.port as number };
}

const podObj = (name: string, node: string, labels: Record<string, string> = { app: name }): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 80 }] }] },
});

async function runningPods(client: ApiClient, names: string[]): Promise<Map<string, string>> {
  return waitFor(`Pods ${names.join(', ')} running`, async () => {
    const pods = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    const ips = new Map<string, string>();
    for (const p of pods) if (p.status?.phase === 'Running' && p.status.podIP) ips.set(p.metadata.name as string, p.status.podIP);
    return names.every((n) => ips.has(n)) ? ips : undefined;
  });
}

/** Records for one connection (by client port) exported by one Node. */
function recordsOf(records: Received[], srcPort: number, node: string): Received['fields'][] {
  const domain = observationDomainId(node);
  return records.filter((r) => r.fields.sourceTransportPort === srcPort && r.domain === domain).map((r) => r.fields);
}

/** The records of a connection must add up to what was sent (deltas) and end with the totals. */
function assertCounters(recs: Received['fields'][], r: ConnectionResult, what: string): void {
  assert.ok(recs.length > 0, `${what}: no record`);
  const last = recs[recs.length - 1]!;
  assert.equal(last.packetTotalCount, BigInt(r.sent.request), `${what}: packets`);
  assert.equal(last.octetTotalCount, BigInt(r.bytes.request), `${what}: octets`);
  assert.equal(last.reversePacketTotalCount, BigInt(r.sent.reply), `${what}: reverse packets`);
  assert.equal(last.reverseOctetTotalCount, BigInt(r.bytes.reply), `${what}: reverse octets`);
  const sum = (k: string) => recs.reduce((s, x) => s + (x[k] as bigint), 0n);
  assert.equal(sum('packetDeltaCount'), BigInt(r.sent.request), `${what}: delta packets add up`);
  assert.equal(sum('octetDeltaCount'), BigInt(r.bytes.request), `${what}: delta octets add up`);
  assert.equal(sum('reversePacketDeltaCount'), BigInt(r.sent.reply), `${what}: reverse delta packets add up`);
  assert.equal(sum('reverseOctetDeltaCount'), BigInt(r.bytes.reply), `${what}: reverse delta octets add up`);
}

async function twoNodeCluster(t: TestContext, manifestText: string, gates: Record<string, boolean>): Promise<{ cluster: LocalCluster; ips: Map<string, string> }> {
  const cluster = await startLocalCluster(t, { nodes: 2, manifestText, gates });
  const client = cluster.client();
  const pods = client.resource<Pod>(gvr.pods).inNamespace('default');
  await pods.create(podObj('client', 'node-1'));
  await pods.create(podObj('server-local', 'node-1', { app: 'local' }));
  await pods.create(podObj('server-remote', 'node-2', { app: 'web' }));
  const ips = await runningPods(client, ['client', 'server-local', 'server-remote']);
  return { cluster, ips };
}

describe('FlowExporter in the local cluster', () => {
  test('TCP Pod to Pod on one Node and across Nodes: end-of-flow records with the traffic’s counters and the Pods’ names (tcp collector)', async (t) => {
    const { records, port } = await startCollector(t, 'tcp');
    const manifestText = manifestWithCollector(`127.0.0.1:${port}:tcp`, { poll: '1s', active: '2s', idle: '1s' });
    const { cluster, ips } = await twoNodeCluster(t, manifestText, { FlowExporter: true });
    const local = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: ips.get('server-local') as string, port: 80 }, protocol: 'TCP', exchanges: 3, payloadLength: 200, close: true });
    const remote = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: ips.get('server-remote') as string, port: 80 }, protocol: 'TCP', exchanges: 5, payloadLength: 1000, close: true });
    assert.ok(local.established && remote.established);
    const ended = (srcPort: number, node: string) => recordsOf(records, srcPort, node).some((f) => f.flowEndReason === 3);
    await waitFor('end-of-flow records from both Nodes', () => ended(local.srcPort, 'node-1') && ended(remote.srcPort, 'node-1') && ended(remote.srcPort, 'node-2'), 15_000);

    const l = recordsOf(records, local.srcPort, 'node-1');
    assertCounters(l, local, 'intra-Node');
    const lf = l[l.length - 1]!;
    assert.equal(lf.flowEndReason, 3);
    assert.equal(lf.tcpState, 'TIME_WAIT');
    assert.equal(lf.protocolIdentifier, 6);
    assert.equal(lf.sourceIPv4Address, ips.get('client'));
    assert.equal(lf.destinationIPv4Address, ips.get('server-local'));
    assert.equal(lf.destinationTransportPort, 80);
    assert.deepEqual([lf.sourcePodName, lf.sourcePodNamespace, lf.sourceNodeName], ['client', 'default', 'node-1']);
    assert.deepEqual([lf.destinationPodName, lf.destinationPodNamespace, lf.destinationNodeName], ['server-local', 'default', 'node-1']);
    assert.equal(lf.flowType, 1, 'IntraNode');
    assert.equal(lf.destinationClusterIPv4, '0.0.0.0');
    assert.equal(lf.destinationServicePort, 0);
    assert.ok((lf.flowStartSeconds as number) <= (lf.flowEndSeconds as number));
    assert.ok(Math.abs((lf.flowStartSeconds as number) - Date.now() / 1000) < 60);

    for (const node of ['node-1', 'node-2']) {
      const rr = recordsOf(records, remote.srcPort, node);
      assertCounters(rr, remote, `inter-Node seen from ${node}`);
      const f = rr[rr.length - 1]!;
      assert.deepEqual([f.sourcePodName, f.sourceNodeName, f.destinationPodName, f.destinationNodeName], ['client', 'node-1', 'server-remote', 'node-2']);
      assert.equal(f.flowType, 2, 'InterNode');
    }
    assert.equal(records.filter((r) => r.fields.flowEndReason === 3 && r.fields.sourceTransportPort === local.srcPort).length, 1, 'one end-of-flow record per connection and Node');

    const stats = (await (await fetch(`${cluster.agent('node-1').url}/flowexporter`)).json()) as { collector: string; polls: number; records: { endOfFlow: number }; ipfix: { connected: boolean; recordsDropped: number } };
    assert.equal(stats.collector, `127.0.0.1:${port}:tcp`);
    assert.ok(stats.polls >= 1);
    assert.ok(stats.records.endOfFlow >= 2);
    assert.equal(stats.ipfix.connected, true);
    assert.equal(stats.ipfix.recordsDropped, 0);
  });

  test('UDP Pod to Pod: an idle record after the idle timeout, then active records for new traffic (udp collector)', async (t) => {
    const { records, port } = await startCollector(t, 'udp');
    const manifestText = manifestWithCollector(`127.0.0.1:${port}:udp`, { poll: '1s', active: '3s', idle: '1s' });
    const { cluster, ips } = await twoNodeCluster(t, manifestText, { FlowExporter: true });
    const r = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: ips.get('server-remote') as string, port: 53 }, protocol: 'UDP', exchanges: 4, payloadLength: 64 });
    assert.ok(r.established);
    await waitFor('an idle record from node-1', () => recordsOf(records, r.srcPort, 'node-1').some((f) => f.flowEndReason === 1), 15_000);
    const recs = recordsOf(records, r.srcPort, 'node-1');
    assertCounters(recs, r, 'UDP');
    const f = recs[recs.length - 1]!;
    assert.equal(f.protocolIdentifier, 17);
    assert.equal(f.tcpState, '');
    assert.equal(f.destinationPodName, 'server-remote');
    // More traffic on the same 5-tuple: the connection is active again and its next record carries only the new packets.
    const again = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: ips.get('server-remote') as string, port: 53 }, protocol: 'UDP', exchanges: 2, payloadLength: 64, srcPort: r.srcPort });
    const before = recs.length;
    await waitFor('a record for the new traffic', () => recordsOf(records, r.srcPort, 'node-1').length > before, 15_000);
    const next = recordsOf(records, r.srcPort, 'node-1')[before]!;
    assert.equal(next.packetDeltaCount, BigInt(again.sent.request));
    assert.equal(next.packetTotalCount, BigInt(r.sent.request + again.sent.request));
  });

  test('a Service ClusterIP connection names the Service, its port and the ClusterIP', async (t) => {
    const { records, port } = await startCollector(t, 'tcp');
    const manifestText = manifestWithCollector(`127.0.0.1:${port}:tcp`, { poll: '1s', active: '2s', idle: '1s' });
    const { cluster, ips } = await twoNodeCluster(t, manifestText, { FlowExporter: true });
    const client = cluster.client();
    await client.resource<Service>(gvr.services).inNamespace('default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 8080, targetPort: 80, protocol: 'TCP' }] },
    } as Service);
    const clusterIP = await waitFor('a ClusterIP', async () => (await client.resource<Service>(gvr.services).inNamespace('default').get('web')).spec.clusterIP);
    const r: ConnectionResult = await waitFor('the Service to answer', async () => {
      const c = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: clusterIP, port: 8080 }, protocol: 'TCP', exchanges: 2, close: true });
      // Until AntreaProxy has synced, the ClusterIP is not translated yet: wait for the Endpoint.
      return c.established && c.packets[0]?.deliveredTo?.pod === 'default/server-remote' ? c : undefined;
    }, 10_000);
    await waitFor('an end-of-flow record for the Service connection', () => recordsOf(records, r.srcPort, 'node-1').some((f) => f.flowEndReason === 3), 15_000);
    const recs = recordsOf(records, r.srcPort, 'node-1');
    assertCounters(recs, r, 'Service');
    const f = recs[recs.length - 1]!;
    assert.equal(f.destinationServicePortName, 'default/web:http');
    assert.equal(f.destinationServicePort, 8080);
    assert.equal(f.destinationClusterIPv4, clusterIP);
    assert.equal(f.destinationIPv4Address, ips.get('server-remote'), 'the Endpoint after DNAT');
    assert.equal(f.destinationTransportPort, 80);
    assert.equal(f.destinationPodName, 'server-remote');
  });

  test('a connection allowed by a NetworkPolicy names the policy in the ingress IEs of the receiving Node', async (t) => {
    const { records, port } = await startCollector(t, 'tcp');
    const manifestText = manifestWithCollector(`127.0.0.1:${port}:tcp`, { poll: '1s', active: '2s', idle: '1s' });
    const { cluster, ips } = await twoNodeCluster(t, manifestText, { FlowExporter: true });
    const policies = cluster.client().resource({ group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' }).inNamespace('default');
    await policies.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-client', namespace: 'default' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ protocol: 'TCP', port: 80 }] }] },
    } as never);
    // The rule is in the datapath once a new connection is committed with its conjunction id in ct_label.
    const r: ConnectionResult = await waitFor('a connection committed by the policy rule', async () => {
      const c = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: ips.get('server-remote') as string, port: 80 }, protocol: 'TCP', close: true });
      const ct = await cluster.sim.conntrack('node-2');
      return c.established && ct.some((e) => e.orig.sport === c.srcPort && e.labels !== '0x0') ? c : undefined;
    }, 8_000);
    await waitFor('an end-of-flow record from node-2', () => recordsOf(records, r.srcPort, 'node-2').some((f) => f.flowEndReason === 3), 15_000);
    const f = recordsOf(records, r.srcPort, 'node-2').at(-1)!;
    assert.equal(f.ingressNetworkPolicyName, 'allow-client');
    assert.equal(f.ingressNetworkPolicyNamespace, 'default');
    assert.equal(f.ingressNetworkPolicyType, 1, 'K8s NetworkPolicy');
    assert.equal(f.ingressNetworkPolicyRuleAction, 1, 'Allow');
    assert.equal(f.egressNetworkPolicyName, '');
  });

  test('with the gate off no record arrives and the module is Disabled on /modules', async (t) => {
    const { records, port } = await startCollector(t, 'tcp');
    const manifestText = manifestWithCollector(`127.0.0.1:${port}:tcp`, { poll: '1s', active: '1s', idle: '1s' });
    const { cluster, ips } = await twoNodeCluster(t, manifestText, { FlowExporter: false });
    const r = await cluster.sim.connect({ from: { pod: 'default/client' }, to: { ip: ips.get('server-local') as string, port: 80 }, protocol: 'TCP', close: true });
    assert.ok(r.established);
    const modules = (await (await fetch(`${cluster.agent('node-1').url}/modules`)).json()) as { name: string; gate?: string; state: string }[];
    assert.deepEqual(modules.find((m) => m.name === 'flowexporter'), { name: 'flowexporter', gate: 'FlowExporter', state: 'Disabled' });
    assert.equal((await fetch(`${cluster.agent('node-1').url}/flowexporter`)).status, 404);
    await new Promise((res) => setTimeout(res, 2500));
    assert.equal(records.length, 0);
  });
});

test('antrea local up --flows FILE runs a collector and the agents export to it', async (t) => {
  const dir = tempDir(t);
  const flowsFile = join(dir, 'flows.jsonl');
  writeFileSync(
    join(dir, 'demo.yaml'),
    `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default}
spec: {nodeName: node-1, containers: [{name: c, image: busybox}]}
`,
  );
  // Short intervals for the test; --flows points the collector address at its own collector.
  writeFileSync(join(dir, 'antrea.yml'), manifestWithCollector('placeholder:4739:tcp', { poll: '1s', active: '2s', idle: '1s' }));
  const stop = new AbortController();
  let out = '';
  let err = '';
  const io: CliIO = { stdout: (x) => void (out += x), stderr: (x) => void (err += x), env: {}, cwd: dir, isTTY: false, stopSignal: stop.signal };
  const up = antrea(['local', 'up', '--nodes', '1', '--port', '0', '--state', join(dir, 'state'), '--apply', 'demo.yaml', '--manifest', 'antrea.yml', '--flows', 'flows.jsonl', '--log-level', 'error'], io);
  t.after(async () => {
    stop.abort();
    await up;
  });
  await waitFor('antrea local up', () => out.includes('flow records (IPFIX from 127.0.0.1:') && out.includes('pods/client'), 20_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\nstdout: ${out}\nstderr: ${err}`);
  });
  const env = { KUBECONFIG: join(dir, 'state', 'kubeconfig') };
  const traffic = await waitFor('traffic from client to web', async () => {
    const r = await capture(antrea, ['local', 'traffic', 'default/client', 'default/web', '--port', '8080', '-o', 'json'], { env, cwd: dir });
    return r.code === 0 ? r : undefined;
  }, 20_000);
  const srcPort = (JSON.parse(traffic.stdout) as { connections: { srcPort: number }[] }).connections[0]!.srcPort;
  const line = await waitFor('a record for the connection in the flows file', () => {
    if (!existsSync(flowsFile)) return undefined;
    return readFileSync(flowsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.sourceTransportPort === srcPort);
  }, 20_000);
  assert.equal(line.sourcePodName, 'client');
  assert.equal(line.destinationPodName, 'web');
  assert.equal(line.destinationTransportPort, 8080);
  stop.abort();
  assert.equal(await up, 0, err);
});
