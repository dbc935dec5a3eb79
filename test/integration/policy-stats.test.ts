/**
 * NetworkPolicyStats end to end: simulated connections through two Nodes, counted by the datapath's metric flows,
 * reported by the agents, summed by the controller and served as stats.antrea.io objects; an agent restart neither
 * loses nor double counts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Namespace, Pod } from '../../src/apis/core.js';
import type { KubeObject } from '../../src/apis/meta.js';
import { gvr } from '../../src/apiserver/registry.js';
import { isApiError } from '../../src/apiserver/types.js';
import { policyGvr, type ClusterNetworkPolicy } from '../../src/apis/crd/policy.js';
import type { NetworkPolicy } from '../../src/apis/networking.js';
import { statsGvr, type AntreaClusterNetworkPolicyStats, type NetworkPolicyStats } from '../../src/apis/stats.js';
import { DEFAULT_MANIFEST, LocalCluster } from '../../src/local/cluster.js';
import { createLogger } from '../../src/util/log.js';
import { waitFor } from '../helpers/cluster.js';
import { controlplaneGvr } from '../../src/apis/controlplane.js';

let cluster: LocalCluster;
const ips = new Map<string, string>();

const manifestText = readFileSync(DEFAULT_MANIFEST, 'utf8').replace('    #networkPolicyStatsCollectInterval: "60s"', '    networkPolicyStatsCollectInterval: "100ms"');

before(async () => {
  const level = process.env.ANTREA_TEST_LOG === '1' ? 'debug' : 'error';
  cluster = await LocalCluster.start({ nodes: 2, http: false, manifestText, logger: createLogger({ level, format: 'text' }), gates: { AntreaPolicy: true, NetworkPolicyStats: true } });
  const c = cluster.client();
  for (const ns of ['prod', 'dev']) await c.resource<Namespace>(gvr.namespaces).create({ metadata: { name: ns, labels: { env: ns } } });
  const pods = [
    { ns: 'prod', name: 'web', app: 'web', node: 'node-1' },
    { ns: 'prod', name: 'client', app: 'client', node: 'node-1' },
    { ns: 'dev', name: 'client', app: 'client', node: 'node-2' },
  ];
  for (const p of pods) {
    await c.resource<Pod>(gvr.pods).inNamespace(p.ns).create({ metadata: { name: p.name, namespace: p.ns, labels: { app: p.app } }, spec: { nodeName: p.node, containers: [{ name: 'c' }] } });
  }
  await waitFor('Pods with addresses', async () => {
    for (const p of pods) {
      const ip = (await c.resource<Pod>(gvr.pods).inNamespace(p.ns).get(p.name)).status?.podIP;
      if (!ip) return false;
      ips.set(`${p.ns}/${p.name}`, ip);
    }
    return true;
  });
});

after(async () => {
  await cluster?.stop();
});

async function connect(from: string, to: string, port: number, times: number): Promise<{ established: number; requestPackets: number }> {
  let established = 0;
  let requestPackets = 0;
  for (let i = 0; i < times; i++) {
    const r = await cluster.sim.connect({ from: { pod: from }, to: { ip: ips.get(to) as string, port }, protocol: 'TCP', trace: false });
    if (r.established) established++;
    requestPackets += r.sent.request;
  }
  return { established, requestPackets };
}

/** Several collection intervals: every probe so far is reported. */
const settle = () => new Promise((res) => setTimeout(res, 600));

async function statsOf<T extends KubeObject>(r: ReturnType<ReturnType<LocalCluster['client']>['resource']>, name: string, sessions: number): Promise<T> {
  let last: unknown;
  return waitFor(`stats of ${name} reach ${sessions} sessions`, async () => {
    const s = (await r.tryGet(name)) as (T & { trafficStats?: { sessions?: number } }) | undefined;
    last = s?.trafficStats;
    return s && (s.trafficStats?.sessions ?? 0) === sessions ? s : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; last: ${JSON.stringify(last)}`);
  });
}

test('Antrea policy stats sum both Nodes, per policy and per rule; an agent restart loses and repeats nothing', async () => {
  const c = cluster.client();
  // Egress from every client to web: counted on node-1 (prod/client) and node-2 (dev/client).
  await c.resource<ClusterNetworkPolicy>(policyGvr.clusternetworkpolicies).create({
    apiVersion: 'crd.antrea.io/v1alpha1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: 'clients-to-web' },
    spec: { priority: 1, appliedTo: [{ podSelector: { matchLabels: { app: 'client' } } }], egress: [{ name: 'to-web', action: 'Allow', to: [{ podSelector: { matchLabels: { app: 'web' } } }] }] },
  });
  const r = c.resource(statsGvr.antreaclusternetworkpolicystats);
  await statsOf(r, 'clients-to-web', 0);
  // Until the rules are installed, connections are not counted; wait for them through a first probe.
  await waitFor('egress rule counting on both Nodes', async () => {
    await connect('prod/client', 'prod/web', 80, 1);
    await connect('dev/client', 'prod/web', 80, 1);
    const s = (await r.tryGet('clients-to-web')) as AntreaClusterNetworkPolicyStats | undefined;
    return (s?.trafficStats.sessions ?? 0) >= 2 && s?.ruleTrafficStats?.length === 1 ? true : undefined;
  });
  await settle();
  const base = ((await r.get('clients-to-web')) as AntreaClusterNetworkPolicyStats).trafficStats.sessions ?? 0;
  const settled = await statsOf<AntreaClusterNetworkPolicyStats>(r, 'clients-to-web', base);
  const a = await connect('prod/client', 'prod/web', 80, 5);
  const b = await connect('dev/client', 'prod/web', 80, 7);
  assert.equal(a.established + b.established, 12);
  const s1 = await statsOf<AntreaClusterNetworkPolicyStats>(r, 'clients-to-web', base + 12);
  assert.ok((s1.trafficStats.packets ?? 0) - (settled.trafficStats.packets ?? 0) >= a.requestPackets + b.requestPackets, 'every request packet counted');
  assert.ok((s1.trafficStats.bytes ?? 0) > (settled.trafficStats.bytes ?? 0));
  assert.equal(s1.ruleTrafficStats?.[0]?.name, 'to-web');
  assert.equal(s1.ruleTrafficStats?.[0]?.trafficStats.sessions, base + 12);

  // Traffic right before a restart (not yet reported), then traffic after it.
  await connect('dev/client', 'prod/web', 80, 3);
  await cluster.restartAgent('node-2');
  await connect('dev/client', 'prod/web', 80, 4);
  const s2 = await statsOf<AntreaClusterNetworkPolicyStats>(r, 'clients-to-web', base + 19);
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(((await r.get('clients-to-web')) as AntreaClusterNetworkPolicyStats).trafficStats.sessions, base + 19, 'nothing counted twice after a few more reports');
  assert.ok((s2.trafficStats.packets ?? 0) > (s1.trafficStats.packets ?? 0));
});

test('K8s NetworkPolicy stats, namespaced; a deleted policy takes its stats with it', async () => {
  const c = cluster.client();
  const np = c.resource<NetworkPolicy>(policyGvr.k8snetworkpolicies).inNamespace('prod');
  await np.create({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web-from-prod', namespace: 'prod' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: {} }] }] } });
  const r = c.resource(statsGvr.networkpolicystats).inNamespace('prod');
  await statsOf<NetworkPolicyStats>(r, 'web-from-prod', 0);
  await waitFor('isolation enforced (dev dropped)', async () => (await connect('dev/client', 'prod/web', 80, 1)).established === 0 || undefined);
  await waitFor('counting', async () => {
    await connect('prod/client', 'prod/web', 80, 1);
    const s = (await r.tryGet('web-from-prod')) as NetworkPolicyStats | undefined;
    return (s?.trafficStats.sessions ?? 0) > 0 || undefined;
  });
  await settle();
  const before = ((await r.get('web-from-prod')) as NetworkPolicyStats).trafficStats.sessions ?? 0;
  await statsOf(r, 'web-from-prod', before);
  await connect('prod/client', 'prod/web', 80, 6);
  await statsOf(r, 'web-from-prod', before + 6);
  const all = await c.resource(statsGvr.networkpolicystats).list();
  assert.ok(all.items.some((i) => i.metadata.name === 'web-from-prod' && i.metadata.namespace === 'prod'), 'listed across all namespaces');
  await np.delete('web-from-prod');
  await waitFor('stats deleted with the policy', async () => (await r.tryGet('web-from-prod')) === undefined || undefined);
});

test('gates off: no Antrea policy enforcement, no Tiers, no stats collected; K8s policies still enforced', async (t) => {
  const off = await LocalCluster.start({ nodes: 1, http: false, manifestText, logger: createLogger({ level: 'error', format: 'text' }), gates: { AntreaPolicy: false, NetworkPolicyStats: false } });
  t.after(() => off.stop());
  const c = off.client();
  for (const name of ['a', 'b']) {
    await c.resource<Pod>(gvr.pods).inNamespace('default').create({ metadata: { name, namespace: 'default', labels: { app: name } }, spec: { nodeName: 'node-1', containers: [{ name: 'c' }] } });
  }
  const ip = await waitFor('b has an address', async () => (await c.resource<Pod>(gvr.pods).inNamespace('default').get('b')).status?.podIP);
  await c.resource<ClusterNetworkPolicy>(policyGvr.clusternetworkpolicies).create({
    apiVersion: 'crd.antrea.io/v1alpha1',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: 'drop-all' },
    spec: { tier: 'application', priority: 1, appliedTo: [{ podSelector: {} }], ingress: [{ action: 'Drop' }] },
  });
  const conn = async () => (await off.sim.connect({ from: { pod: 'default/a' }, to: { ip, port: 80 }, protocol: 'TCP', trace: false })).established;
  await settle();
  assert.equal(await conn(), true, 'the ClusterNetworkPolicy is not enforced with AntreaPolicy off');
  assert.deepEqual((await c.resource(policyGvr.tiers).list()).items, [], 'no system Tiers');
  await c.resource<NetworkPolicy>(policyGvr.k8snetworkpolicies).inNamespace('default').create({ metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: { matchLabels: { app: 'b' } } } });
  await waitFor('the K8s policy is enforced', async () => (await conn()) === false || undefined);
  await settle();
  // stats.antrea.io is the controller's aggregated API: with its gate off it is not served at all.
  await assert.rejects(c.resource(statsGvr.networkpolicystats).list(), (err: unknown) => isApiError(err, 'NotFound'), 'no stats API');
  assert.deepEqual((await c.resource(controlplaneGvr.nodestatssummaries).list()).items, [], 'no agent reports');
});
