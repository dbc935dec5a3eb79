import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Node, Pod } from '../../src/apis/core.js';
import { gvr } from '../../src/apiserver/registry.js';
import type { ApiClient } from '../../src/client/types.js';
import { DEFAULT_MANIFEST } from '../../src/local/cluster.js';
import { LOCAL_CLUSTER_CIDR } from '../../src/local/nodes.js';
import { cidrContains, cidrsOverlap, parseCidr, parseIp } from '../../src/util/ip.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

const CLUSTER_CIDR = '10.20.0.0/16';
const SERVICE_CIDR = '10.20.0.0/24';

/** Our manifest with antrea-controller.conf saying `nodeIPAM.enableNodeIPAM: <enable>` and the cluster CIDR above. */
function manifestWithNodeIpam(enable: boolean): string {
  const text = readFileSync(DEFAULT_MANIFEST, 'utf8');
  const edits: Array<[RegExp, string]> = [
    [/^([ \t]*)#[ \t]*enableNodeIPAM: false$/m, `$1  enableNodeIPAM: ${enable}`],
    [/^([ \t]*)#[ \t]*clusterCIDRs: \[\]$/m, `$1  clusterCIDRs: [${CLUSTER_CIDR}]`],
    [/^([ \t]*)#[ \t]*serviceCIDR:$/m, `$1  serviceCIDR: ${SERVICE_CIDR}`],
  ];
  let out = text;
  for (const [re, repl] of edits) {
    assert.match(out, re, `the manifest has ${re}`);
    out = out.replace(re, repl);
  }
  return out;
}

const podObj = (name: string, node: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'ipam' } },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] },
});

async function runningPods(client: ApiClient, count: number): Promise<Pod[]> {
  return waitFor(`${count} running Pods with addresses`, async () => {
    const pods = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    const running = pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP);
    return running.length === count ? running : undefined;
  });
}

describe('NodeIPAM', () => {
  test('the controller gives each Node a distinct Pod CIDR from the cluster CIDR; Pods use them and talk across Nodes', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 3, gates: { NodeIPAM: true }, manifestText: manifestWithNodeIpam(true) });
    assert.ok(cluster.controller.modules().some((m) => m.name === 'nodeipam' && m.state === 'Running'));
    const client = cluster.client();
    const nodes = (await client.resource<Node>(gvr.nodes).list()).items;
    const cidrs = new Map(nodes.map((n) => [n.metadata.name as string, n.spec?.podCIDR as string]));
    assert.equal(cidrs.size, 3);
    assert.equal(new Set(cidrs.values()).size, 3, `distinct: ${[...cidrs.values()].join(', ')}`);
    for (const n of nodes) {
      const cidr = parseCidr(n.spec?.podCIDR as string);
      assert.deepEqual(n.spec?.podCIDRs, [n.spec?.podCIDR]);
      assert.equal(cidr.prefix, 24);
      assert.ok(cidrsOverlap(cidr, parseCidr(CLUSTER_CIDR)), `${n.spec?.podCIDR} is inside ${CLUSTER_CIDR}`);
      assert.ok(!cidrsOverlap(cidr, parseCidr(SERVICE_CIDR)), `${n.spec?.podCIDR} keeps out of the Service CIDR`);
    }
    for (const [i, node] of ['node-1', 'node-2', 'node-3'].entries()) await client.resource<Pod>(gvr.pods).inNamespace('default').create(podObj(`p${i}`, node));
    const pods = await runningPods(client, 3);
    for (const p of pods) {
      const cidr = cidrs.get(p.spec.nodeName as string) as string;
      assert.ok(cidrContains(parseCidr(cidr), parseIp(p.status?.podIP as string)), `${p.status?.podIP} in ${cidr}`);
    }
    const ip = (name: string) => pods.find((p) => p.metadata.name === name)?.status?.podIP as string;
    for (const [from, to] of [['p0', 'p1'], ['p1', 'p2'], ['p2', 'p0']] as const) {
      const r = await cluster.sim.connect({ from: { pod: `default/${from}` }, to: { ip: ip(to), port: 80 }, protocol: 'TCP' });
      assert.ok(r.established, `${from} -> ${to} (${ip(to)})`);
    }
    const state = (await (await fetch(`${cluster.controller.url}/nodeipam`)).json()) as { enabled: boolean; clusterCIDRs: Array<{ used: number }> };
    assert.equal(state.enabled, true);
    assert.equal(state.clusterCIDRs[0]?.used, 3);
  });

  test('gate off: the module is Disabled and the local cluster assigns the Pod CIDRs itself', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, manifestText: manifestWithNodeIpam(true) });
    assert.ok(cluster.controller.modules().some((m) => m.name === 'nodeipam' && m.state === 'Disabled'));
    const nodes = (await cluster.client().resource<Node>(gvr.nodes).list()).items;
    for (const n of nodes) assert.ok(cidrsOverlap(parseCidr(n.spec?.podCIDR as string), parseCidr(LOCAL_CLUSTER_CIDR)), `${n.spec?.podCIDR} from the local cluster`);
  });

  test('gate on but enableNodeIPAM false: the controller allocates nothing', async (t) => {
    const cluster = await startLocalCluster(t, { nodes: 2, gates: { NodeIPAM: true }, manifestText: manifestWithNodeIpam(false) });
    const nodes = (await cluster.client().resource<Node>(gvr.nodes).list()).items;
    for (const n of nodes) assert.ok(cidrsOverlap(parseCidr(n.spec?.podCIDR as string), parseCidr(LOCAL_CLUSTER_CIDR)), `${n.spec?.podCIDR} from the local cluster`);
  });
});
