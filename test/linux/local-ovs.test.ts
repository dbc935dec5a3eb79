/**
 * `antrea local up --datapath ovs`: the same local cluster, with each Node a network namespace running its own Open
 * vSwitch and each Pod a namespace behind a veth, so the agents move real packets through real sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../src/apis/core.js';
import { gvr } from '../../src/apiserver/registry.js';
import { ovsAvailable } from '../../src/datapath/ovs/exec.js';
import { startLocalCluster, waitFor } from '../helpers/cluster.js';

const available = await ovsAvailable();
const skip = available.ok ? false : `skipped: ${available.reason}`;

const pod = (name: string, node: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] },
});

test('antrea local on Open vSwitch: Pods on two Nodes talk over real sockets, encap', { skip, timeout: 240_000 }, async (t) => {
  const cluster = await startLocalCluster(t, { nodes: 2, datapath: 'ovs' });
  const client = cluster.client();
  for (const [name, node] of [['a', 'node-1'], ['b', 'node-1'], ['c', 'node-2']] as const) await client.resource<Pod>(gvr.pods).inNamespace('default').create(pod(name, node));
  await waitFor('three running Pods', async () => {
    const pods = (await client.resource<Pod>(gvr.pods).inNamespace('default').list()).items;
    return pods.filter((p) => p.status?.phase === 'Running').length === 3 || undefined;
  }, 120_000);
  for (const to of ['default/b', 'default/c']) {
    const tcp = await cluster.traffic({ from: 'default/a', to, port: 8080, protocol: 'TCP', connections: 2 });
    assert.equal(tcp.delivered, 2, JSON.stringify(tcp.connections));
    const icmp = await cluster.traffic({ from: 'default/a', to, protocol: 'ICMP' });
    assert.equal(icmp.delivered, 1, JSON.stringify(icmp.connections));
  }
  // A Service without a ready endpoint: OVS's packet-in reaches the Node's controller, which answers with a reset,
  // and `antrea local traffic` says so as it does on the simulator.
  await client.resource<Service>(gvr.services).inNamespace('default').create({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: 'default' },
    spec: { selector: { app: 'nobody' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  });
  const refused = await waitFor('the Service without endpoints refuses', async () => {
    const r = await cluster.traffic({ from: 'default/a', to: 'default/empty', port: 80, protocol: 'TCP' });
    return r.connections[0]?.rejected ? r : undefined;
  }, 30_000);
  assert.equal(refused.dropped, 1);
  assert.deepEqual(
    { rejected: refused.connections[0]?.rejected, stage: refused.connections[0]?.stage, node: refused.connections[0]?.node },
    { rejected: 'tcp-rst', stage: 'ServiceLB', node: 'node-1' },
  );
  assert.match(refused.connections[0]?.reason ?? '', /has no endpoints: TCP RST\+ACK sent back to /);
});
