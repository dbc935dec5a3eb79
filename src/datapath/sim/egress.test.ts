import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from './cluster.js';
import { nodeConfig, peerOf, podOn } from '../pipeline/testing.js';
import { renderFlow } from '../pipeline/render.js';
import { Table } from '../pipeline/tables.js';

const EGRESS_IP = '192.168.77.200';
const OUTSIDE = '10.0.0.9';

async function cluster() {
  const c = await SimCluster.create();
  const cfgs = [nodeConfig(1, 'encap'), nodeConfig(2, 'encap')];
  const [n1, n2] = [await c.addNode(cfgs[0]!), await c.addNode(cfgs[1]!)];
  await n1.upsertPeerNode(peerOf(cfgs[1]!));
  await n2.upsertPeerNode(peerOf(cfgs[0]!));
  const a = podOn(cfgs[0]!, 0);
  const a2 = podOn(cfgs[0]!, 1);
  const b = podOn(cfgs[1]!, 0);
  await n1.upsertPod(a);
  await n1.upsertPod(a2);
  await n2.upsertPod(b);
  // Both Nodes masquerade their Pod CIDR; node2 holds the Egress IP (mark 1), node1 tunnels a's traffic to it.
  for (const [n, cfg] of [[n1, cfgs[0]!], [n2, cfgs[1]!]] as const) {
    await n.apply([{ kind: 'hostNat', op: 'upsert', rule: { id: 'masq', kind: 'Masquerade', match: { srcCIDR: cfg.podCIDR }, to: { ip: cfg.nodeIP } } }]);
  }
  await n2.apply([
    { kind: 'hostNat', op: 'upsert', rule: { id: 'egress/1', kind: 'SNAT', match: { pktMark: 1 }, to: { ip: EGRESS_IP } } },
    { kind: 'egress', op: 'upsert', egress: { egressIP: EGRESS_IP, mark: 1, podOfPorts: [b.ofPort] } },
  ]);
  await n1.apply([{ kind: 'egress', op: 'upsert', egress: { egressIP: EGRESS_IP, podOfPorts: [a.ofPort] } }]);
  return { c, cfgs, n1, n2, a, a2, b, key: (p: typeof a) => `${p.namespace}/${p.name}` };
}

describe('simulator: Egress', () => {
  it('selected Pods leave with the Egress IP, from its Node and tunnelled from others; the rest are masqueraded', async () => {
    const { c, cfgs, a, a2, b, key } = await cluster();
    const local = await c.send({ from: { pod: key(b) }, to: { ip: OUTSIDE, port: 80 }, protocol: 'TCP' });
    assert.ok(local.delivered, local.dropped?.reason);
    assert.equal(local.received?.srcIP, EGRESS_IP);
    const remote = await c.send({ from: { pod: key(a) }, to: { ip: OUTSIDE, port: 80 }, protocol: 'TCP' });
    assert.ok(remote.delivered, remote.dropped?.reason);
    assert.equal(remote.received?.srcIP, EGRESS_IP);
    assert.ok(remote.trace.some((s) => s.kind === 'tunnel' && s.from === 'node1' && s.to === 'node2'), 'tunnelled to the Egress Node');
    const other = await c.send({ from: { pod: key(a2) }, to: { ip: OUTSIDE, port: 80 }, protocol: 'TCP' });
    assert.equal(other.received?.srcIP, cfgs[0]!.nodeIP);
  });

  it('a connection through a remote Egress IP is established: replies are un-SNATed and tunnelled back', async () => {
    const { c, a, key } = await cluster();
    const conn = await c.connect({ from: { pod: key(a) }, to: { ip: OUTSIDE, port: 80 }, protocol: 'TCP', exchanges: 2 });
    assert.ok(conn.established, conn.failure?.dropped?.reason);
    assert.deepEqual(conn.delivered, conn.sent);
    assert.ok(conn.packets.every((p) => p.received?.srcIP === EGRESS_IP || p.received?.dstIP === a.ips[0]), 'requests leave with the Egress IP, replies reach the Pod');
  });

  it('except CIDRs keep the default path (masquerade to the Node IP)', async () => {
    const { c, cfgs, n1, a, key } = await cluster();
    await n1.apply([{ kind: 'egress', op: 'upsert', egress: { egressIP: EGRESS_IP, podOfPorts: [a.ofPort], exceptCIDRs: ['10.0.0.0/24'] } }]);
    const r = await c.send({ from: { pod: key(a) }, to: { ip: OUTSIDE, port: 80 }, protocol: 'TCP' });
    assert.equal(r.received?.srcIP, cfgs[0]!.nodeIP);
    const far = await c.send({ from: { pod: key(a) }, to: { ip: '10.0.1.9', port: 80 }, protocol: 'TCP' });
    assert.equal(far.received?.srcIP, EGRESS_IP);
  });

  it('traffic inside the cluster keeps its Pod source', async () => {
    const { c, a, b, key } = await cluster();
    const r = await c.send({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP' });
    assert.ok(r.delivered, r.dropped?.reason);
    assert.equal(r.received?.srcIP, a.ips[0]);
  });

  it('table 71 flows as Antrea 1.5 writes them; removing the last Egress IP removes the common flows', async () => {
    const { n1, n2, a, b } = await cluster();
    const snat = async (n: typeof n1) => (await n.dumpFlows()).filter((f) => f.table === Table.SNAT).map(renderFlow);
    const onOwner = await snat(n2);
    assert.ok(onOwner.some((f) => f.includes(`ct_state=+new+trk,ip,tun_dst=${EGRESS_IP}`) && f.includes('set_field:0x1/0xff->pkt_mark')), onOwner.join('\n'));
    assert.ok(onOwner.some((f) => f.includes(`in_port=${b.ofPort}`) && f.includes('set_field:0x1/0xff->pkt_mark')), onOwner.join('\n'));
    // The mark also rides in the source MAC, which the userspace datapath's host reads back (snatMarkMac).
    assert.equal(onOwner.filter((f) => f.includes('set_field:0x1/0xff->pkt_mark')).length, 2);
    assert.ok(onOwner.filter((f) => f.includes('set_field:0x1/0xff->pkt_mark')).every((f) => f.includes('set_field:0a:a5:4e:00:00:01->eth_src')), onOwner.join('\n'));
    const onOther = await snat(n1);
    assert.ok(onOther.some((f) => f.includes(`in_port=${a.ofPort}`) && f.includes(`set_field:${EGRESS_IP}->tun_dst`)), onOther.join('\n'));
    await n1.apply([{ kind: 'egress', op: 'remove', key: EGRESS_IP }]);
    assert.deepEqual(await snat(n1), []);
  });
});
