import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster, type TapPacket } from '../../datapath/sim/cluster.js';
import type { PacketResult } from '../../datapath/traffic.js';
import { nodeConfig, peerOf, podOn } from '../../datapath/pipeline/testing.js';
import type { CapturedPacket, TraceflowPacketIn } from '../nodedatapath.js';
import { simTraceflowDatapath } from './simdatapath.js';

async function twoNodes() {
  const c = await SimCluster.create();
  const cfgs = [nodeConfig(1, 'encap', 'geneve'), nodeConfig(2, 'encap', 'geneve')] as const;
  const n1 = await c.addNode(cfgs[0]);
  const n2 = await c.addNode(cfgs[1]);
  await n1.upsertPeerNode(peerOf(cfgs[1]));
  await n2.upsertPeerNode(peerOf(cfgs[0]));
  const a = podOn(cfgs[0], 0);
  const b = podOn(cfgs[1], 0);
  await n1.upsertPod(a);
  await n2.upsertPod(b);
  return { c, a: `${a.namespace}/${a.name}`, bIP: b.ips[0] as string };
}

test('a tap sees matching packets of untraced connections with their trace, until removed', async () => {
  const { c, a, bIP } = await twoNodes();
  const seen: { pkt: TapPacket; result: PacketResult }[] = [];
  const untap = c.tap({ match: (p) => p.dstIP === bIP && p.dstPort === 80, onPacket: (result, pkt) => seen.push({ pkt, result }) });
  const conn = await c.connect({ from: { pod: a }, to: { ip: bIP, port: 80 }, protocol: 'TCP', exchanges: 1 });
  assert.ok(conn.established);
  // SYN, ACK, one request: the replies go the other way and do not match.
  assert.equal(seen.length, 3);
  assert.equal(seen[0]?.pkt.fromPod, a);
  assert.equal(seen[0]?.pkt.tcpFlags, 2);
  assert.equal(seen[0]?.pkt.node, 'node1');
  assert.ok(seen[0]?.result.delivered && seen[0].result.trace.some((s) => s.kind === 'tunnel'), 'the tap turns the trace on');
  untap();
  await c.connect({ from: { pod: a }, to: { ip: bIP, port: 80 }, protocol: 'TCP' });
  assert.equal(seen.length, 3);
});

test('watch: the first matching packet is captured, then every Node reports it with the tag, once', async () => {
  const { c, a, bIP } = await twoNodes();
  const dp1 = simTraceflowDatapath(c, 'node1');
  const dp2 = simTraceflowDatapath(c, 'node2');
  const packetIns: TraceflowPacketIn[] = [];
  dp1.onPacketIn((p) => packetIns.push(p));
  dp2.onPacketIn((p) => packetIns.push(p));
  const captured: CapturedPacket[] = [];
  dp1.watch?.({ fromPod: a, proto: 17 }, 11, async (p) => {
    captured.push(p);
    assert.equal(packetIns.length, 0, 'the capture comes before the packet-ins');
  });
  await c.connect({ from: { pod: a }, to: { ip: bIP, port: 80 }, protocol: 'TCP' });
  const u = await c.connect({ from: { pod: a }, to: { ip: bIP, port: 53 }, protocol: 'UDP', exchanges: 2 });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(captured, [{ srcIP: captured[0]?.srcIP, dstIP: bIP, length: 128, ipHeader: { protocol: 17, ttl: 64 }, transportHeader: { udp: { srcPort: u.srcPort, dstPort: 53 } } }]);
  assert.deepEqual(packetIns.map((p) => [p.node, p.tag, p.observations.at(-1)?.action]), [['node1', 11, 'Forwarded'], ['node2', 11, 'Delivered']]);
});
