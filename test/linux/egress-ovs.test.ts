/**
 * Egress on Open vSwitch (`antrea local up --datapath ovs`), with real sockets: Pods selected by an Egress reach a
 * host outside the cluster (a namespace on the underlay) with the Egress IP as source, from the Node that holds the
 * IP and tunnelled from the other Node; everything else keeps its path (masquerade to the Node IP, Pod-to-Pod,
 * except CIDRs). The IP moves with the pool's nodeSelector, survives agent restarts without duplicate rules, and
 * goes away with the Egress. A last test restarts an agent over a running OVS (resync) and checks that nftables,
 * the host addresses and the flows are read back, not written twice. Only namespaces this test creates receive
 * traffic; each cluster removes its namespaces and daemons when its test ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Pod } from '../../src/apis/core.js';
import { egressGvr, externalIPPoolGvr, type Egress, type ExternalIPPool } from '../../src/apis/crd/egress.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import { ovsAvailable, run } from '../../src/datapath/ovs/exec.js';
import { OvsCluster } from '../../src/datapath/ovs/cluster.js';
import { phyMac } from '../../src/datapath/ovs/hostnet.js';
import { NFT_TABLE } from '../../src/datapath/ovs/hostnat.js';
import { nodeConfig, peerOf, podOn } from '../../src/datapath/pipeline/testing.js';
import type { DesiredStateChange } from '../../src/datapath/types.js';
import { DEFAULT_MANIFEST, type LocalCluster } from '../../src/local/cluster.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

const available = await ovsAvailable();
const skip = available.ok ? false : `skipped: ${available.reason}`;

/** Hosts outside the cluster, on the Node network (192.168.77.0/24): one ordinary, one in egress.exceptCIDRs. */
const EXTERNAL = '192.168.77.50';
const EXCEPTED = '192.168.77.60';
const POOL = { start: '192.168.77.200', end: '192.168.77.201' };
const NODE_IPS: Record<string, string> = { 'node-1': '192.168.77.100', 'node-2': '192.168.77.101' };

/** Our manifest with egress.exceptCIDRs set (the gate itself is set through the cluster options). */
function manifestWithExcept(cidr: string): string {
  const text = readFileSync(DEFAULT_MANIFEST, 'utf8');
  const edited = text.replace('    #  exceptCIDRs: []', `      exceptCIDRs: ["${cidr}"]`);
  assert.notEqual(edited, text, 'the manifest still has the commented exceptCIDRs line');
  return edited;
}

const podObj = (name: string, node: string, egress: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { egress } },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
});

async function setup(cluster: LocalCluster): Promise<{ client: ApiClient; ovs: OvsCluster }> {
  const ovs = cluster.executor;
  assert.ok(ovs instanceof OvsCluster, 'the cluster runs the OVS datapath');
  await ovs.addExternalHost(EXTERNAL);
  await ovs.addExternalHost(EXCEPTED);
  const client = cluster.client();
  await client.resource<ExternalIPPool>(externalIPPoolGvr).create({
    apiVersion: 'crd.antrea.io/v1alpha2', kind: 'ExternalIPPool', metadata: { name: 'pool' }, spec: { ipRanges: [POOL], nodeSelector: {} },
  });
  await client.resource<Egress>(egressGvr).create({
    apiVersion: 'crd.antrea.io/v1alpha2', kind: 'Egress', metadata: { name: 'web-egress' },
    spec: { appliedTo: { podSelector: { matchLabels: { egress: 'yes' } } }, externalIPPool: 'pool' },
  });
  const pods = client.resource<Pod>(gvr.pods).inNamespace('default');
  await pods.create(podObj('sel-1', 'node-1', 'yes'));
  await pods.create(podObj('sel-2', 'node-2', 'yes'));
  await pods.create(podObj('other-1', 'node-1', 'no'));
  await waitFor('3 running Pods', async () => (await pods.list()).items.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length === 3, 120_000);
  return { client, ovs };
}

/** The source address `to` saw on a TCP connection from the Pod, or undefined when it did not connect. */
async function sourceSeen(ovs: OvsCluster, pod: string, to: string): Promise<string | undefined> {
  const r = await ovs.connect({ from: { pod: `default/${pod}` }, to: { ip: to, port: 8080 }, protocol: 'TCP' });
  return r.established ? r.packets[0]?.received?.srcIP : undefined;
}

const leavesAs = (ovs: OvsCluster, pod: string, ip: string, to = EXTERNAL) =>
  waitFor(`${pod} reaches ${to} as ${ip}`, async () => ((await sourceSeen(ovs, pod, to)) === ip ? ip : undefined), 20_000);

async function nft(ovs: OvsCluster, node: string, what: string[]): Promise<string> {
  return (await run('nft', what, { netns: ovs.node(node).netns })).stdout;
}

/** `snat_mark` elements on a Node, as nftables holds them. */
async function snatMarks(ovs: OvsCluster, node: string): Promise<Array<[number, string]>> {
  const doc = JSON.parse(await nft(ovs, node, ['-j', 'list', 'map', 'ip', NFT_TABLE, 'snat_mark'])) as { nftables: Array<{ map?: { elem?: Array<[number, string]> } }> };
  return doc.nftables.flatMap((i) => i.map?.elem ?? []);
}

async function hostAddresses(ovs: OvsCluster, node: string): Promise<string> {
  return (await run('ip', ['-4', '-o', 'addr', 'show'], { netns: ovs.node(node).netns })).stdout;
}

async function placedEgress(client: ApiClient, notOn?: string): Promise<{ ip: string; node: string }> {
  return waitFor('the Egress IP and its Node', async () => {
    const e = await client.resource<Egress>(egressGvr).get('web-egress');
    const node = e.status?.egressNode;
    return e.spec.egressIP && node && node !== notOn ? { ip: e.spec.egressIP, node } : undefined;
  }, 20_000);
}

test('Egress on Open vSwitch: selected Pods leave with the Egress IP from either Node; the rest keep their path', { skip, timeout: 300_000 }, async (t) => {
  const cluster = await startLocalCluster(t, { nodes: 2, datapath: 'ovs', gates: { Egress: true }, manifestText: manifestWithExcept(`${EXCEPTED}/32`) });
  const { client, ovs } = await setup(cluster);
  const eg = await placedEgress(client);
  const other = eg.node === 'node-1' ? 'node-2' : 'node-1';

  await t.test('both selected Pods reach the outside as the Egress IP; the unselected Pod as its Node IP', async () => {
    await leavesAs(ovs, 'sel-1', eg.ip);
    await leavesAs(ovs, 'sel-2', eg.ip);
    assert.equal(await sourceSeen(ovs, 'other-1', EXTERNAL), NODE_IPS['node-1']);
    assert.match(await hostAddresses(ovs, eg.node), new RegExp(`inet ${eg.ip.replace(/\./g, '\\.')}/32 `), 'the holder has the IP');
    assert.doesNotMatch(await hostAddresses(ovs, other), new RegExp(`inet ${eg.ip.replace(/\./g, '\\.')}/`));
    // The holder's own conntrack did the SNAT (the host, not OVS): both Pods' connections, replies to the Egress IP.
    const ct = (await promisify(execFile)('ip', ['netns', 'exec', ovs.node(eg.node).netns, 'conntrack', '-L', '-p', 'tcp', '--orig-dst', EXTERNAL, '--reply-dst', eg.ip])).stdout;
    assert.ok(ct.trim().split('\n').length >= 2, ct);
  });

  await t.test('except CIDRs, Pod-to-Pod and Pod-to-Node traffic are not SNATed to the Egress IP', async () => {
    for (const [pod, node] of [['sel-1', 'node-1'], ['sel-2', 'node-2']] as const) {
      assert.equal(await sourceSeen(ovs, pod, EXCEPTED), NODE_IPS[node], `${pod} to an except CIDR is masqueraded to its Node IP`);
    }
    const podIPs = new Map((await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items.map((p) => [p.metadata.name ?? '', p.status?.podIP ?? '']));
    assert.equal(await sourceSeen(ovs, 'sel-1', podIPs.get('sel-2') as string), podIPs.get('sel-1'), 'Pod to Pod across Nodes keeps the Pod IP');
    assert.equal(await sourceSeen(ovs, 'sel-2', podIPs.get('sel-1') as string), podIPs.get('sel-2'));
    for (const [pod, node] of [['sel-1', 'node-1'], ['sel-2', 'node-2']] as const) {
      const peer = node === 'node-1' ? 'node-2' : 'node-1';
      const seen = await sourceSeen(ovs, pod, NODE_IPS[peer] as string);
      assert.ok(seen !== undefined && seen !== eg.ip, `${pod} to Node ${peer}: seen as ${seen}, not the Egress IP`);
    }
  });

  await t.test('agent restarts re-apply nothing twice: one SNAT element on the holder, none elsewhere', async () => {
    for (const n of ['node-1', 'node-2']) await cluster.restartAgent(n);
    await leavesAs(ovs, 'sel-1', eg.ip);
    await leavesAs(ovs, 'sel-2', eg.ip);
    assert.deepEqual((await snatMarks(ovs, eg.node)).map(([, ip]) => ip), [eg.ip]);
    assert.deepEqual(await snatMarks(ovs, other), []);
    const ruleset = await nft(ovs, eg.node, ['list', 'table', 'ip', NFT_TABLE]);
    assert.equal(ruleset.match(/meta mark set ether saddr map @mark_by_mac/g)?.length, 1, ruleset);
  });

  await t.test('the IP moves when the pool excludes its Node: the new holder SNATs, the old one lets go', async () => {
    const pools = client.resource<ExternalIPPool>(externalIPPoolGvr);
    const pool = await pools.get('pool');
    await pools.update({ ...pool, spec: { ...pool.spec, nodeSelector: { matchLabels: { 'kubernetes.io/hostname': other } } } });
    const moved = await placedEgress(client, eg.node);
    assert.equal(moved.node, other);
    // The new holder announces the IP (gratuitous ARP): the outside host's ARP entry follows before any new traffic.
    const externalNetns = `${ovs.tag}-x1`;
    await waitFor('the outside host learns the new holder', async () => {
      const neigh = (await run('ip', ['-n', externalNetns, 'neigh', 'show', moved.ip])).stdout;
      return neigh.includes(phyMac(NODE_IPS[other] as string)) || undefined;
    }, 5000);
    await leavesAs(ovs, 'sel-1', moved.ip);
    await leavesAs(ovs, 'sel-2', moved.ip);
    await waitFor('the old holder releases the IP', async () => !(await hostAddresses(ovs, eg.node)).includes(`inet ${moved.ip}/`));
    assert.deepEqual(await snatMarks(ovs, eg.node), []);
    assert.deepEqual((await snatMarks(ovs, other)).map(([, ip]) => ip), [moved.ip]);
  });

  await t.test('deleting the Egress: its Pods are masqueraded again and no Node holds the IP', async () => {
    const held = (await placedEgress(client)).ip;
    await client.resource<Egress>(egressGvr).delete('web-egress');
    await leavesAs(ovs, 'sel-1', NODE_IPS['node-1'] as string);
    await leavesAs(ovs, 'sel-2', NODE_IPS['node-2'] as string);
    for (const n of ['node-1', 'node-2']) {
      assert.deepEqual(await snatMarks(ovs, n), [], n);
      assert.doesNotMatch(await hostAddresses(ovs, n), new RegExp(`inet ${held.replace(/\./g, '\\.')}/`), n);
    }
  });
});

test('Egress gate off on Open vSwitch: no IP is allocated and selected Pods leave with their Node IP', { skip, timeout: 240_000 }, async (t) => {
  const cluster = await startLocalCluster(t, { nodes: 2, datapath: 'ovs' });
  assert.ok(cluster.agent('node-1').modules().some((m) => m.name === 'egress' && m.state === 'Disabled'));
  const { client, ovs } = await setup(cluster);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await client.resource<Egress>(egressGvr).get('web-egress')).spec.egressIP, undefined);
  assert.equal(await sourceSeen(ovs, 'sel-1', EXTERNAL), NODE_IPS['node-1']);
  assert.equal(await sourceSeen(ovs, 'sel-2', EXTERNAL), NODE_IPS['node-2']);
  for (const n of ['node-1', 'node-2']) assert.deepEqual(await snatMarks(ovs, n), [], n);
});

test('a restarted OVS agent reads the Egress state back: nothing is added twice, a stale Egress IP goes', { skip, timeout: 120_000 }, async (t) => {
  const ovs = await OvsCluster.create();
  t.after(() => ovs.close());
  const cfgs = [nodeConfig(1, 'encap'), nodeConfig(2, 'encap')] as const;
  const [n1, n2] = [await ovs.addNode(cfgs[0]), await ovs.addNode(cfgs[1])];
  await n1.upsertPeerNode(peerOf(cfgs[1]));
  await n2.upsertPeerNode(peerOf(cfgs[0]));
  const a = podOn(cfgs[0], 0, 'eg');
  const b = podOn(cfgs[1], 0, 'eg');
  await n1.upsertPod(a);
  await n2.upsertPod(b);
  await ovs.addExternalHost(EXTERNAL);
  const [kept, stale] = ['192.168.77.200', '192.168.77.201'];
  const masq = (i: 0 | 1): DesiredStateChange => ({ kind: 'hostNat', op: 'upsert', rule: { id: 'masq', kind: 'Masquerade', match: { srcCIDR: cfgs[i].podCIDR }, to: { ip: cfgs[i].nodeIP } } });
  const holder = (ip: string, mark: number, ports: number[]): DesiredStateChange[] => [
    { kind: 'hostNat', op: 'upsert', rule: { id: `egress-snat/${ip}`, kind: 'SNAT', match: { pktMark: mark }, to: { ip } } },
    { kind: 'egress', op: 'upsert', egress: { egressIP: ip, mark, podOfPorts: ports } },
  ];
  await n1.apply([masq(0), { kind: 'egress', op: 'upsert', egress: { egressIP: kept, podOfPorts: [a.ofPort] } }]);
  await n2.apply([masq(1), ...holder(kept, 1, [b.ofPort]), ...holder(stale, 2, [])]);
  const seenAs = async (p: typeof a) => (await ovs.connect({ from: { pod: `eg/${p.name}` }, to: { ip: EXTERNAL, port: 8080 }, protocol: 'TCP' })).packets[0]?.received?.srcIP;
  assert.equal(await seenAs(a), kept);
  assert.equal(await seenAs(b), kept);

  // The agent comes back and re-publishes its state, without the stale Egress IP.
  const restarted = await ovs.restartNode('node2');
  await restarted.setNodeConfig(cfgs[1]);
  await restarted.upsertPeerNode(peerOf(cfgs[0]));
  await restarted.upsertPod(b);
  await restarted.apply([masq(1), ...holder(kept, 1, [b.ofPort])]);
  assert.deepEqual(restarted.pushed, { flowLines: 0, groupLines: 0 }, 'no flow OVS already held (mark and MAC included) was sent again');
  assert.match(await hostAddresses(ovs, 'node2'), new RegExp(`inet ${stale.replace(/\./g, '\\.')}/32 `), 'kept until the resync ends');
  const { removedNatElements } = await restarted.finishResync();
  assert.equal(removedNatElements, 1, 'only the stale SNAT element');
  assert.deepEqual(await snatMarks(ovs, 'node2'), [[1, kept]]);
  const addrs = await hostAddresses(ovs, 'node2');
  assert.match(addrs, new RegExp(`inet ${kept.replace(/\./g, '\\.')}/32 `));
  assert.doesNotMatch(addrs, new RegExp(`inet ${stale.replace(/\./g, '\\.')}/`));
  const ruleset = await nft(ovs, 'node2', ['list', 'table', 'ip', NFT_TABLE]);
  assert.equal(ruleset.match(/meta mark set ether saddr map @mark_by_mac/g)?.length, 1, ruleset);
  assert.equal(ruleset.match(/0a:a5:4e:00:00:[0-9a-f]{2} : /g)?.length, 255, 'the MAC map once, whole');
  assert.equal(await seenAs(a), kept);
  assert.equal(await seenAs(b), kept);
});
