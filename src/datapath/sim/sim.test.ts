import { datapathConformance } from '../conformance.js';
import { SimCluster } from './cluster.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeConfig, peerOf, podOn } from '../pipeline/testing.js';
import { TUNNEL_OVERHEAD } from './cluster.js';
import { ManualClock } from './clock.js';
import type { NodeConfig } from '../types.js';
import { isAntreaError } from '../../util/errors.js';
import { renderFlow } from '../pipeline/render.js';

datapathConformance(() => SimCluster.create());


async function cluster(mode: NodeConfig['trafficEncapMode'] = 'encap', tunnelType: NodeConfig['tunnelType'] = 'geneve') {
  const clock = new ManualClock();
  const c = await SimCluster.create({ clock });
  const cfgs = [nodeConfig(1, mode, tunnelType), nodeConfig(2, mode, tunnelType)];
  const [n1, n2] = [await c.addNode(cfgs[0]!), await c.addNode(cfgs[1]!)];
  await n1.upsertPeerNode(peerOf(cfgs[1]!));
  await n2.upsertPeerNode(peerOf(cfgs[0]!));
  const a = podOn(cfgs[0]!, 0);
  const b = podOn(cfgs[1]!, 0);
  const a2 = podOn(cfgs[0]!, 1);
  await n1.upsertPod(a);
  await n1.upsertPod(a2);
  await n2.upsertPod(b);
  return { c, clock, n1, n2, a, a2, b, key: (p: typeof a) => `${p.namespace}/${p.name}` };
}

describe('simulator: traces', () => {
  it('a cross-Node packet goes through the tables of worked example (a), in order, on both Nodes', async () => {
    const { c, a, b, key } = await cluster();
    const r = await c.send({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP' });
    assert.ok(r.delivered);
    const tables = (node: string) => r.trace.filter((s) => s.kind === 'flow' && s.node === node).map((s) => (s.kind === 'flow' ? s.table : -1));
    assert.deepEqual(tables('node1'), [0, 10, 23, 30, 31, 40, 41, 42, 45, 50, 60, 61, 70, 72, 80, 101, 105, 108, 110]);
    assert.deepEqual(tables('node2'), [0, 30, 31, 40, 41, 42, 45, 50, 60, 61, 70, 72, 80, 85, 90, 100, 101, 105, 108, 110]);
    const l3 = r.trace.find((s) => s.kind === 'flow' && s.node === 'node1' && s.table === 70);
    assert.ok(l3 && l3.kind === 'flow');
    assert.equal(l3.match, 'ip,nw_dst=10.10.1.0/24');
    assert.equal(l3.actions, 'set_field:0a:00:00:00:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->eth_dst,set_field:192.168.77.12->tun_dst,goto_table:72');
    const tun = r.trace.find((s) => s.kind === 'tunnel');
    assert.deepEqual(tun, { kind: 'tunnel', from: 'node1', to: 'node2', tunnelType: 'geneve', vni: 0, outerBytes: 14 + 40 + TUNNEL_OVERHEAD });
  });

  it('a reply skips the Service and policy entry tables (ct -new+trk goes to EgressRule) and is ESTABLISHED', async () => {
    const { c, a, b, key } = await cluster();
    const conn = await c.connect({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP', trace: true });
    const synack = conn.packets[1]!;
    const node2 = synack.trace.filter((s) => s.kind === 'flow' && s.node === 'node2').map((s) => (s.kind === 'flow' ? s.table : -1));
    assert.deepEqual(node2.slice(0, 6), [0, 10, 23, 30, 31, 50]);
    assert.ok(synack.trace.some((s) => s.kind === 'ct' && s.node === 'node1' && s.state === '+est+rpl+trk'));
  });

  it('Traceflow observations: sender SpoofGuard/Forwarded, tunnel Forwarded with tunnelDstIP, receiver Received then Delivered', async () => {
    const { c, a, b, key } = await cluster();
    const r = await c.send({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP' });
    assert.deepEqual(c.traceflow(r), [
      { node: 'node1', observations: [{ component: 'SpoofGuard', action: 'Forwarded' }, { component: 'Forwarding', componentInfo: 'Output', action: 'Forwarded', tunnelDstIP: '192.168.77.12' }] },
      { node: 'node2', observations: [{ component: 'Forwarding', action: 'Received' }, { component: 'Forwarding', componentInfo: 'Output', action: 'Delivered', pod: key(b) }] },
    ]);
    const spoof = await c.send({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP', srcIP: '1.2.3.4' });
    assert.deepEqual(c.traceflow(spoof), [{ node: 'node1', observations: [{ component: 'SpoofGuard', componentInfo: 'SpoofGuard', action: 'Dropped' }] }]);
    const out = await c.send({ from: { pod: key(a) }, to: { ip: '8.8.8.8', port: 53 }, protocol: 'UDP' });
    assert.deepEqual(out.deliveredTo, { node: 'node1', external: true });
    assert.equal(c.traceflow(out)[0]!.observations.at(-1)!.action, 'ForwardedOutOfOverlay');
  });
});

describe('simulator: underlay and tunnels', () => {
  it('counts tunnel packets with 50 bytes of outer headers in encap, and routed packets in noEncap', async () => {
    const enc = await cluster('encap', 'vxlan');
    await enc.c.connect({ from: { pod: enc.key(enc.a) }, to: { ip: enc.b.ips[0]!, port: 80 }, protocol: 'UDP', payloadLength: 100 });
    assert.equal(enc.c.underlay.tunnelPackets, 2);
    assert.equal(enc.c.underlay.tunnelBytes, 2 * (14 + 20 + 8 + 100 + 50));
    assert.equal(enc.c.underlay.routedPackets, 0);
    const ne = await cluster('noEncap');
    const r = await ne.c.connect({ from: { pod: ne.key(ne.a) }, to: { ip: ne.b.ips[0]!, port: 80 }, protocol: 'UDP', trace: true });
    assert.ok(r.established);
    assert.equal(ne.c.underlay.tunnelPackets, 0);
    assert.equal(ne.c.underlay.routedPackets, 2);
    assert.ok(r.packets[0]!.trace.some((s) => s.kind === 'host' && s.action === 'underlay'));
  });

  it('the ARP responder answers gw0 for the peer gateway with the global virtual MAC', async () => {
    const { c, n1, b } = await cluster();
    const r = await c.send({ from: { node: 'node1' }, to: { ip: b.ips[0]!, port: 22 }, protocol: 'TCP' });
    assert.ok(r.delivered);
    assert.equal(n1.hostNeighbors.get(0x0a0a0101), 0xaabbccddeeff);
  });

  it('noEncap: connections from a remote Pod are committed with the FromGateway ct_mark on the receiving Node', async () => {
    const ne = await cluster('noEncap');
    await ne.c.connect({ from: { pod: ne.key(ne.a) }, to: { ip: ne.b.ips[0]!, port: 80 }, protocol: 'TCP' });
    const [entry] = await ne.c.conntrack('node2');
    assert.equal(entry!.mark & 0x2, 0x2);
  });
});

describe('simulator: conntrack and counters', () => {
  it('conntrack entries time out on the injected clock', async () => {
    const { c, clock, a, a2, key } = await cluster();
    await c.connect({ from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'UDP' });
    assert.equal((await c.conntrack('node1')).length, 1);
    clock.advance(121_000);
    assert.equal((await c.conntrack('node1')).length, 0);
  });

  it('flow counters: every packet of a connection is counted by the ConntrackZone flow', async () => {
    const { c, n1, a, a2, key } = await cluster();
    const conn = await c.connect({ from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'TCP', exchanges: 3 });
    const ct = n1.bridge.flowStats().find((s) => s.flow.table === 30 && s.flow.priority === 200)!;
    assert.equal(ct.packets, conn.sent.request + conn.sent.reply);
  });

  it('a Pod change on one Node never reaches the other Node\'s flows', async () => {
    const { n1, n2, a } = await cluster();
    const before = (await n2.dumpFlows()).length;
    const d = await n1.upsertPod({ ...a, mac: '02:00:00:00:00:99' });
    assert.ok(d.added.length > 0);
    assert.equal((await n2.dumpFlows()).length, before);
  });

  it('unknown Pods and Nodes are errors with stable codes', async () => {
    const { c } = await cluster();
    await assert.rejects(c.send({ from: { pod: 'x/y' }, to: { ip: '10.10.0.2' }, protocol: 'ICMP' }), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_UNKNOWN_POD'));
    assert.throws(() => c.node('nope'), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_UNKNOWN_NODE'));
  });
});

describe('simulator: Services', () => {
  it('Traceflow shows the LB observation with the translated destination; the group counts the connection', async () => {
    const { c, n1, a, b, key } = await cluster();
    await n1.upsertService({ namespace: 'default', name: 'web', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.10', port: 80, endpoints: [{ ip: b.ips[0]!, port: 8080, isLocal: false }] });
    const r = await c.send({ from: { pod: key(a) }, to: { ip: '10.96.0.10', port: 80 }, protocol: 'TCP' });
    assert.ok(r.delivered, r.dropped?.reason);
    const obs = c.traceflow(r)[0]!.observations;
    assert.deepEqual(obs[1], { component: 'LB', action: 'Forwarded', translatedDstIP: b.ips[0] });
    assert.equal(n1.bridge.groupStats()[0]!.packets, 1);
    const [e] = await c.conntrack('node1');
    assert.equal(e!.orig.dst, '10.96.0.10');
    assert.equal(e!.reply.src, b.ips[0]);
    assert.equal(e!.mark & 0x4, 0x4);
  });

  it('ClientIP affinity: every connection of a client sticks to one Endpoint until the learned flow times out', async () => {
    const { c, clock, n1, n2, a, a2, b, key } = await cluster();
    const b2 = podOn(nodeConfig(2), 1);
    await n2.upsertPod(b2);
    const eps = [a2, b, b2].map((p) => ({ ip: p.ips[0]!, port: 8080, isLocal: false }));
    await n1.upsertService({ namespace: 'default', name: 'sticky', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.30', port: 80, sessionAffinityTimeout: 60, endpoints: eps });
    const pick = async () => (await c.connect({ from: { pod: key(a) }, to: { ip: '10.96.0.30', port: 80 }, protocol: 'TCP' })).packets[0]!.deliveredTo?.pod;
    const first = await pick();
    assert.ok(first);
    for (let i = 0; i < 20; i++) assert.equal(await pick(), first);
    assert.equal(n1.bridge.groupStats()[0]!.packets, 1, 'only the first connection went through the group');
    assert.equal(n1.bridge.flowStats().filter((s) => s.flow.table === 40 && s.flow.priority === 200).length, 1, 'one learned flow');
    clock.advance(61_000);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      seen.add((await pick()) as string);
      clock.advance(61_000);
    }
    assert.ok(seen.size > 1, 'after the timeout the client is balanced again');
    await n1.removeService('default/sticky:http/TCP');
    assert.equal(n1.bridge.flowStats().filter((s) => s.flow.table === 40 && s.flow.priority === 200).length, 0, 'delete_learned');
  });

  it('ClientIP affinity survives Endpoints coming and going: the group changes bucket by bucket, the learned flow stays', async () => {
    const { c, n1, n2, a, a2, b, key } = await cluster();
    const more = [1, 2, 3].map((i) => podOn(nodeConfig(2), i));
    for (const p of more) await n2.upsertPod(p);
    const ep = (p: typeof a) => ({ ip: p.ips[0]!, port: 8080, isLocal: false });
    const svc = { namespace: 'default', name: 'sticky', portName: 'http', protocol: 'TCP' as const, clusterIP: '10.96.0.30', port: 80, sessionAffinityTimeout: 60 };
    await n1.upsertService({ ...svc, endpoints: [a2, b, more[0]!].map(ep) });
    const pick = async () => (await c.connect({ from: { pod: key(a) }, to: { ip: '10.96.0.30', port: 80 }, protocol: 'TCP' })).packets[0]!.deliveredTo?.pod;
    const first = await pick();
    assert.ok(first);
    const learned = () => n1.bridge.flowStats().filter((s) => s.flow.table === 40 && s.flow.priority === 200).length;
    assert.equal(learned(), 1);
    // Add two Endpoints, then drop one the client is not pinned to: bucket patches, no ServiceLB flow change.
    const pinned = [a2, b, more[0]!].find((p) => key(p) === first)!;
    const other = [a2, b, more[0]!].find((p) => key(p) !== first)!;
    const grown = await n1.upsertService({ ...svc, endpoints: [a2, b, ...more].map(ep) });
    assert.equal(grown.groupBuckets?.[0]?.inserted.length, 2);
    assert.ok([...grown.added, ...grown.modified, ...grown.removed].every((f) => f.table === 42), 'only EndpointDNAT flows change');
    const shrunk = await n1.upsertService({ ...svc, endpoints: [a2, b, ...more].filter((p) => p !== other).map(ep) });
    assert.equal(shrunk.groupBuckets?.[0]?.removed.length, 1);
    assert.equal(learned(), 1, 'the learned flow is kept');
    for (let i = 0; i < 10; i++) assert.equal(await pick(), key(pinned));
    assert.equal(n1.bridge.groupStats()[0]!.packets, 1, 'later connections skip the group');
  });

  it('a Service without Endpoints rejects in ServiceLB: ICMP port unreachable for UDP, TCP RST for TCP', async () => {
    const { c, n1, a, key } = await cluster();
    await n1.upsertService({ namespace: 'default', name: 'empty', portName: 'dns', protocol: 'UDP', clusterIP: '10.96.0.20', port: 53, endpoints: [] });
    const r = await c.send({ from: { pod: key(a) }, to: { ip: '10.96.0.20', port: 53 }, protocol: 'UDP' });
    assert.equal(r.delivered, false);
    assert.deepEqual(r.rejected, { node: 'node1', reply: 'icmp-unreachable', deliveredToSender: true });
    assert.match(r.dropped!.reason, /the Service 10\.96\.0\.20:53 has no endpoints: ICMP destination unreachable \(port unreachable\)/);
    assert.equal(r.dropped!.tableName, 'ServiceLB');
    await n1.upsertService({ namespace: 'default', name: 'empty', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.20', port: 80, endpoints: [] });
    const t = await c.connect({ from: { pod: key(a) }, to: { ip: '10.96.0.20', port: 80 }, protocol: 'TCP' });
    assert.equal(t.established, false);
    assert.equal(t.packets[0]?.rejected?.reply, 'tcp-rst');
  });
});

describe('simulator: NetworkPolicy', () => {
  it('worked example (a): a K8s rule allows A → B:80; other ports and peers hit IngressDefaultRule; metrics count sessions and packets', async () => {
    const { c, n2, a, a2, b, key } = await cluster();
    await n2.upsertPolicyRule({
      ruleID: 'allow-a-80', conjID: 5, direction: 'In', action: 'Allow', kind: 'K8sNetworkPolicy',
      from: { ipBlocks: [a.ips[0]!] }, to: { ofPorts: [b.ofPort] }, services: [{ protocol: 'TCP', port: 80 }], policyRef: 'K8sNetworkPolicy:default/allow-a',
    });
    const ok = await c.connect({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP', exchanges: 2 });
    assert.ok(ok.established, ok.failure?.dropped?.reason);
    const wrongPort = await c.send({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 81 }, protocol: 'TCP' });
    assert.equal(wrongPort.dropped?.tableName, 'IngressDefaultRule');
    const wrongPeer = await c.send({ from: { pod: key(a2) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP' });
    assert.equal(wrongPeer.dropped?.tableName, 'IngressDefaultRule');
    assert.deepEqual(c.traceflow(wrongPeer)[1]!.observations.at(-1), {
      component: 'NetworkPolicy', componentInfo: 'IngressDefaultRule', action: 'Dropped', networkPolicy: 'K8sNetworkPolicy:default/allow-a',
    }, 'the isolation drop names the policy that isolates B');
    const metric = n2.bridge.flowStats().filter((s) => s.flow.table === 101 && s.flow.priority === 200);
    const [newFlow, estFlow] = [metric.find((s) => renderFlow(s.flow).includes('+new'))!, metric.find((s) => renderFlow(s.flow).includes('-new'))!];
    assert.equal(newFlow.packets, 1, 'one session');
    assert.equal(newFlow.packets + estFlow.packets, ok.sent.request + ok.sent.reply, 'both directions of the connection pass IngressMetric with the rule label');
    const m = n2.ruleMetrics().get(5)!;
    assert.deepEqual([m.sessions, m.packets], [1, ok.sent.request + ok.sent.reply]);
    assert.equal(m.bytes, newFlow.bytes + estFlow.bytes);
    const [entry] = (await c.conntrack('node2')).filter((e) => e.orig.dport === 80 && e.orig.sport === ok.srcPort);
    assert.equal(entry!.labels, '0x5');
    const traced = await c.send({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP', srcPort: 33333 });
    assert.deepEqual(c.traceflow(traced)[1]!.observations.find((o) => o.component === 'NetworkPolicy'), {
      component: 'NetworkPolicy', componentInfo: 'IngressRule', action: 'Forwarded', networkPolicy: 'K8sNetworkPolicy:default/allow-a',
    });
  });

  it('tiers: an Antrea Allow skips K8s NetworkPolicy; a Pass hands the decision to it', async () => {
    const { c, n2, a, b, key } = await cluster();
    // K8s isolation of B with a rule that allows nothing from A (port 9999 only).
    await n2.upsertPolicyRule({
      ruleID: 'k8s-b', conjID: 1, direction: 'In', action: 'Allow', kind: 'K8sNetworkPolicy',
      from: { ipBlocks: ['10.99.0.0/16'] }, to: { ofPorts: [b.ofPort] }, services: [{ protocol: 'TCP', port: 9999 }], policyRef: 'K8sNetworkPolicy:default/b',
    });
    const send = () => c.send({ from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP' });
    assert.equal((await send()).dropped?.tableName, 'IngressDefaultRule');
    const anp = (action: 'Allow' | 'Pass') => n2.upsertPolicyRule({
      ruleID: 'anp-b', conjID: 2, direction: 'In', action, kind: 'AntreaNative', priority: 14000,
      from: { ipBlocks: [a.ips[0]!] }, to: { ofPorts: [b.ofPort] }, policyRef: 'AntreaClusterNetworkPolicy:acnp',
    });
    await anp('Allow');
    const allowed = await send();
    assert.ok(allowed.delivered, allowed.dropped?.reason);
    assert.ok(!allowed.trace.some((s) => s.kind === 'flow' && s.node === 'node2' && s.table === 90), 'K8s tables skipped');
    await anp('Pass');
    assert.equal((await send()).dropped?.tableName, 'IngressDefaultRule');
  });

  it('an Antrea-native egress Drop rule drops at EgressMetric and counts the denied session', async () => {
    const { c, n1, a, a2, key } = await cluster();
    await n1.upsertPolicyRule({
      ruleID: 'deny-a-to-a2', conjID: 9, direction: 'Out', action: 'Drop', kind: 'AntreaNative', priority: 14000,
      from: { ipBlocks: [a.ips[0]!] }, to: { ipBlocks: [a2.ips[0]! + '/32'] }, policyRef: 'AntreaClusterNetworkPolicy:deny',
    });
    const r = await c.send({ from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'UDP' });
    assert.equal(r.dropped?.tableName, 'EgressMetric', r.dropped?.reason);
    assert.deepEqual(c.traceflow(r)[0]!.observations.slice(1), [{ component: 'NetworkPolicy', componentInfo: 'EgressMetric', action: 'Dropped', networkPolicy: 'AntreaClusterNetworkPolicy:deny' }]);
    const deny = n1.bridge.flowStats().find((s) => s.flow.table === 61 && s.flow.priority === 200)!;
    assert.equal(deny.packets, 1);
    assert.deepEqual(n1.ruleMetrics().get(9), { sessions: 1, packets: 1, bytes: deny.bytes });
    assert.ok((await c.send({ from: { pod: key(a2) }, to: { ip: a.ips[0]!, port: 80 }, protocol: 'UDP' })).delivered, 'the other direction is allowed');
    await n1.upsertPolicyRule({
      ruleID: 'deny-a-to-a2', conjID: 9, direction: 'Out', action: 'Reject', kind: 'AntreaNative', priority: 14000,
      from: { ipBlocks: [a.ips[0]!] }, to: { ipBlocks: [a2.ips[0]! + '/32'] }, policyRef: 'AntreaClusterNetworkPolicy:deny',
    });
    const rej = await c.send({ from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'UDP' });
    assert.equal(c.traceflow(rej)[0]!.observations.at(-1)!.action, 'Rejected');
    assert.deepEqual(rej.rejected, { node: 'node1', reply: 'icmp-unreachable', deliveredToSender: true });
    assert.equal(rej.dropped?.tableName, 'EgressMetric');
    const conn = await c.connect({ from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'TCP' });
    assert.equal(conn.established, false);
    assert.equal(conn.failure?.rejected?.reply, 'tcp-rst');
    assert.match(conn.failure?.dropped?.reason ?? '', /TCP RST\+ACK/);
    await n1.removePolicyRule('deny-a-to-a2');
    assert.ok((await c.send({ from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'UDP' })).delivered);
  });
});

describe('simulator: Node and external traffic', () => {
  it('the Node reaches its own Pods through antrea-gw0, committed with the FromGateway mark', async () => {
    const { c, a, key } = await cluster();
    const conn = await c.connect({ from: { node: 'node1' }, to: { ip: a.ips[0]!, port: 8080 }, protocol: 'TCP' });
    assert.ok(conn.established, conn.failure?.dropped?.reason);
    assert.equal(conn.packets[0]!.received?.srcIP, '10.10.0.1', 'the host sources from antrea-gw0');
    assert.equal(conn.packets[0]!.deliveredTo?.pod, key(a));
    const [entry] = await c.conntrack('node1');
    assert.equal(entry!.mark & 0x2, 0x2);
  });

  it('a client outside the cluster reaches a Pod through its Node, and the Pod answers it', async () => {
    const { c, b, key } = await cluster('noEncap');
    const conn = await c.connect({ from: { external: '203.0.113.7', via: 'node2' }, to: { ip: b.ips[0]!, port: 443 }, protocol: 'TCP' });
    assert.ok(conn.established, conn.failure?.dropped?.reason);
    assert.equal(conn.packets[0]!.deliveredTo?.pod, key(b));
    assert.deepEqual(conn.packets[1]!.deliveredTo, { node: 'node2', external: true });
  });
});

describe('simulator: host NAT (outside OVS)', () => {
  it('NodePortLocal: nodeIP:nodePort reaches the Pod from outside and from the Node; replies come back from the Node port', async () => {
    const { c, n1, a, key } = await cluster();
    await n1.apply([{ kind: 'nodePortLocal', op: 'upsert', mapping: { protocol: 'TCP', nodePort: 61001, podIP: a.ips[0]!, podPort: 8080 } }]);
    const ext = await c.connect({ from: { external: '203.0.113.9', via: 'node1' }, to: { ip: '192.168.77.11', port: 61001 }, protocol: 'TCP', trace: true });
    assert.ok(ext.established, ext.failure?.dropped?.reason);
    assert.equal(ext.packets[0]!.deliveredTo?.pod, key(a));
    assert.equal(ext.packets[0]!.received?.dstPort, 8080);
    assert.deepEqual([ext.packets[1]!.received?.srcIP, ext.packets[1]!.received?.srcPort], ['192.168.77.11', 61001]);
    const local = await c.connect({ from: { node: 'node1' }, to: { ip: '192.168.77.11', port: 61001 }, protocol: 'TCP' });
    assert.ok(local.established, local.failure?.dropped?.reason);
    assert.equal(local.packets[0]!.deliveredTo?.pod, key(a));
    assert.equal(n1.hostNat.conntrack.list().length, 2);
  });

  it('Masquerade: Pod traffic leaving the cluster is SNATed to the Node IP and replies are un-SNATed', async () => {
    const { c, n1, a, key } = await cluster();
    await n1.apply([{ kind: 'hostNat', op: 'upsert', rule: { id: 'masq', kind: 'Masquerade', match: { srcCIDR: '10.10.0.0/16' }, to: { ip: '0.0.0.0' } } }]);
    const conn = await c.connect({ from: { pod: key(a) }, to: { ip: '8.8.8.8', port: 53 }, protocol: 'UDP' });
    assert.ok(conn.established, conn.failure?.dropped?.reason);
    assert.equal(conn.packets[0]!.received?.srcIP, '192.168.77.11');
    assert.equal(conn.packets[1]!.deliveredTo?.pod, key(a));
    assert.equal(conn.packets[1]!.received?.srcIP, '8.8.8.8');
    const pod = await c.send({ from: { pod: key(a) }, to: { ip: '10.10.1.2', port: 53 }, protocol: 'UDP' });
    assert.equal(pod.received?.srcIP, a.ips[0], 'Pod-to-Pod traffic is not masqueraded');
  });
});
