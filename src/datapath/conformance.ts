/**
 * The conformance suite every datapath executor must pass (the simulator in sim/sim.test.ts, the OVS executor
 * under root later). It drives Nodes only through the `Datapath` interface and traffic only through the
 * `DatapathExecutor` traffic API, and asserts on behaviour: delivered or not, to whom, and where a drop happened.
 *
 *   datapathConformance(() => SimCluster.create(), { skip: { 'noEncap: Pod to Pod across Nodes': 'no underlay yet' } })
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Datapath, NodeConfig, PodInterface, PolicyService } from './types.js';
import type { DatapathExecutor, PacketResult, Protocol } from './traffic.js';
import { nodeConfig, peerOf, podOn } from './pipeline/testing.js';

export interface ConformanceOptions {
  /** Test name → reason; a skipped test names why. */
  skip?: Record<string, string>;
}

interface Topology {
  exec: DatapathExecutor;
  nodes: Datapath[];
  cfgs: NodeConfig[];
  /** pods[n][i] = i-th Pod on Node n. */
  pods: PodInterface[][];
}

async function twoNodes(
  make: () => Promise<DatapathExecutor>,
  mode: NodeConfig['trafficEncapMode'],
  tunnelType: NodeConfig['tunnelType'] = 'geneve',
  podsPerNode = 2,
): Promise<Topology> {
  const exec = await make();
  const cfgs = [nodeConfig(1, mode, tunnelType), nodeConfig(2, mode, tunnelType)];
  const nodes: Datapath[] = [];
  for (const cfg of cfgs) nodes.push(await exec.addNode(cfg));
  await (nodes[0] as Datapath).upsertPeerNode(peerOf(cfgs[1] as NodeConfig));
  await (nodes[1] as Datapath).upsertPeerNode(peerOf(cfgs[0] as NodeConfig));
  const pods = cfgs.map((cfg) => Array.from({ length: podsPerNode }, (_, i) => podOn(cfg, i, 'conformance')));
  for (let n = 0; n < nodes.length; n++) for (const p of pods[n] as PodInterface[]) await (nodes[n] as Datapath).upsertPod(p);
  return { exec, nodes, cfgs, pods };
}

const key = (p: PodInterface) => `${p.namespace}/${p.name}`;
const ip = (p: PodInterface) => p.ips[0] as string;

function explain(r: PacketResult): string {
  return r.dropped ? `dropped on ${r.dropped.node} ${r.dropped.tableName ?? ''}: ${r.dropped.reason}` : 'delivered';
}

/**
 * The Endpoint Pods that served `n` TCP connections from `client` to `clusterIP:80`. Each must reach a Pod: a packet
 * the Service tables leave un-DNATed goes out through the gateway instead, and would still count as established.
 */
async function endpointPodsServing(exec: DatapathExecutor, client: PodInterface, clusterIP: string, n: number): Promise<Set<string>> {
  const served = new Set<string>();
  for (let i = 0; i < n; i++) {
    const c = await exec.connect({ from: { pod: key(client) }, to: { ip: clusterIP, port: 80 }, protocol: 'TCP' });
    assert.ok(c.established, c.failure ? explain(c.failure) : 'not established');
    const pod = c.packets[0]?.deliveredTo?.pod;
    assert.ok(pod, `connection ${i} reached an Endpoint Pod: ${explain(c.packets[0] as PacketResult)}`);
    served.add(pod);
  }
  return served;
}

export function datapathConformance(make: () => Promise<DatapathExecutor>, opts: ConformanceOptions = {}): void {
  const skip = opts.skip ?? {};
  const test = (name: string, fn: () => Promise<void>) => (skip[name] !== undefined ? it(name, { skip: skip[name] }, () => undefined) : it(name, fn));
  const open: DatapathExecutor[] = [];
  const topo = async (...args: Parameters<typeof twoNodes> extends [unknown, ...infer R] ? R : never) => {
    const t = await twoNodes(make, ...args);
    open.push(t.exec);
    return t;
  };
  after(async () => {
    for (const e of open) await e.close();
  });

  const protocols: Protocol[] = ['TCP', 'UDP', 'ICMP'];

  describe('datapath conformance: Pod to Pod on one Node', () => {
    for (const protocol of protocols) {
      test(`same Node: ${protocol} connection is established both ways`, async () => {
        const t = await topo('encap');
        const [a, b] = t.pods[0] as PodInterface[];
        const c = await t.exec.connect({ from: { pod: key(a!) }, to: { ip: ip(b!), port: 8080 }, protocol, exchanges: 2 });
        assert.ok(c.established, c.failure ? explain(c.failure) : 'not established');
        assert.deepEqual(c.delivered, c.sent);
        const first = c.packets[0] as PacketResult;
        assert.deepEqual(first.deliveredTo, { node: 'node1', pod: key(b!) });
        assert.equal(first.received?.srcIP, ip(a!));
        assert.equal(first.received?.ttl, 64, 'local Pod to Pod is switched, not routed: no TTL decrement');
      });
    }
  });

  for (const [mode, tunnelType] of [['encap', 'geneve'], ['encap', 'vxlan'], ['noEncap', 'geneve']] as const) {
    const label = mode === 'encap' ? `encap (${tunnelType})` : 'noEncap';
    describe(`datapath conformance: Pod to Pod across Nodes, ${label}`, () => {
      for (const protocol of protocols) {
        test(`${label}: ${protocol} connection across Nodes is established both ways`, async () => {
          const t = await topo(mode, tunnelType);
          const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
          const b = (t.pods[1] as PodInterface[])[1] as PodInterface;
          const c = await t.exec.connect({ from: { pod: key(a) }, to: { ip: ip(b), port: 5432 }, protocol, exchanges: 2 });
          assert.ok(c.established, c.failure ? explain(c.failure) : 'not established');
          assert.deepEqual(c.delivered, c.sent);
          const first = c.packets[0] as PacketResult;
          assert.deepEqual(first.deliveredTo, { node: 'node2', pod: key(b) });
          assert.equal(first.received?.srcIP, ip(a), 'Pod-to-Pod traffic is not SNATed');
          assert.equal(first.received?.ttl, 62, 'routed twice: TTL 64 → 62');
        });
      }
      test(`${label}: the Node reaches a remote Pod and the Pod answers`, async () => {
        const t = await topo(mode, tunnelType);
        const b = (t.pods[1] as PodInterface[])[0] as PodInterface;
        const c = await t.exec.connect({ from: { node: 'node1' }, to: { ip: ip(b), port: 10250 }, protocol: 'TCP' });
        assert.ok(c.established, c.failure ? explain(c.failure) : 'not established');
        assert.equal(c.packets[0]?.deliveredTo?.pod, key(b));
      });
    });
  }

  describe('datapath conformance: drops', () => {
    test('a spoofed source IP is dropped at SpoofGuard', async () => {
      const t = await topo('encap');
      const [a, b] = t.pods[0] as PodInterface[];
      const r = await t.exec.send({ from: { pod: key(a!) }, to: { ip: ip(b!), port: 80 }, protocol: 'TCP', srcIP: '10.10.0.200' });
      assert.equal(r.delivered, false);
      assert.equal(r.dropped?.node, 'node1');
      assert.equal(r.dropped?.tableName, 'SpoofGuard', explain(r));
    });
    test('a spoofed source MAC is dropped at SpoofGuard', async () => {
      const t = await topo('encap');
      const [a, b] = t.pods[0] as PodInterface[];
      const r = await t.exec.send({ from: { pod: key(a!) }, to: { ip: ip(b!), port: 80 }, protocol: 'UDP', srcMAC: '02:de:ad:be:ef:01' });
      assert.equal(r.delivered, false);
      assert.equal(r.dropped?.tableName, 'SpoofGuard', explain(r));
    });
    test('an unknown destination in a peer Pod CIDR is dropped with a reason', async () => {
      const t = await topo('encap');
      const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const r = await t.exec.send({ from: { pod: key(a) }, to: { ip: '10.10.1.200', port: 80 }, protocol: 'TCP' });
      assert.equal(r.delivered, false);
      assert.equal(r.dropped?.node, 'node2', explain(r));
      assert.ok(r.dropped?.reason, 'a drop names its reason');
    });
    test('an unknown destination in the local Pod CIDR is dropped with a reason', async () => {
      const t = await topo('encap');
      const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const r = await t.exec.send({ from: { pod: key(a) }, to: { ip: '10.10.0.200', port: 80 }, protocol: 'UDP' });
      assert.equal(r.delivered, false);
      assert.ok(r.dropped?.reason);
    });
  });

  describe('datapath conformance: conntrack', () => {
    test('conntrack counters match the packets and bytes sent, on both Nodes', async () => {
      const t = await topo('encap');
      const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const b = (t.pods[1] as PodInterface[])[0] as PodInterface;
      const c = await t.exec.connect({ from: { pod: key(a) }, to: { ip: ip(b), port: 443 }, protocol: 'TCP', exchanges: 5, payloadLength: 200 });
      assert.ok(c.established);
      for (const node of ['node1', 'node2']) {
        const entries = (await t.exec.conntrack(node)).filter((e) => e.orig.sport === c.srcPort && e.orig.dport === 443);
        assert.equal(entries.length, 1, `one entry on ${node}`);
        const e = entries[0]!;
        assert.equal(e.orig.src, ip(a));
        assert.equal(e.orig.dst, ip(b));
        assert.equal(e.orig.packets, c.sent.request, `${node} orig packets`);
        assert.equal(e.reply.packets, c.sent.reply, `${node} reply packets`);
        assert.equal(e.orig.bytes, c.bytes.request, `${node} orig bytes`);
        assert.equal(e.reply.bytes, c.bytes.reply, `${node} reply bytes`);
        assert.equal(e.state, 'ESTABLISHED');
      }
    });
    test('each connection gets its own source port and its own entry', async () => {
      const t = await topo('encap');
      const [a, b] = t.pods[0] as PodInterface[];
      const c1 = await t.exec.connect({ from: { pod: key(a!) }, to: { ip: ip(b!), port: 80 }, protocol: 'UDP' });
      const c2 = await t.exec.connect({ from: { pod: key(a!) }, to: { ip: ip(b!), port: 80 }, protocol: 'UDP' });
      assert.notEqual(c1.srcPort, c2.srcPort);
      const entries = (await t.exec.conntrack('node1')).filter((e) => e.protocol === 'udp' && e.orig.dport === 80);
      assert.equal(entries.length, 2);
    });
  });

  describe('datapath conformance: Services (AntreaProxy)', () => {
    test('a ClusterIP spreads connections over its Endpoints on both Nodes, and replies come from the ClusterIP', async () => {
      const t = await topo('encap');
      const client = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const eps = [(t.pods[0] as PodInterface[])[1] as PodInterface, ...(t.pods[1] as PodInterface[])];
      const svc = {
        namespace: 'conformance', name: 'web', portName: 'http', protocol: 'TCP' as const, clusterIP: '10.96.0.10', port: 80,
        endpoints: eps.map((p) => ({ ip: ip(p), port: 8080, isLocal: false })),
      };
      for (const [n, dp] of t.nodes.entries()) {
        // Endpoint 0 lives on node1, endpoints 1 and 2 on node2.
        await dp.upsertService({ ...svc, endpoints: svc.endpoints.map((e, i) => ({ ...e, isLocal: n === 0 ? i === 0 : i > 0 })) });
      }
      const hits = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const c = await t.exec.connect({ from: { pod: key(client) }, to: { ip: '10.96.0.10', port: 80 }, protocol: 'TCP' });
        assert.ok(c.established, c.failure ? explain(c.failure) : 'not established');
        const first = c.packets[0] as PacketResult;
        assert.equal(first.received?.dstPort, 8080, 'DNAT to the Endpoint port');
        const replyToClient = c.packets[1] as PacketResult;
        assert.equal(replyToClient.received?.srcIP, '10.96.0.10', 'the reply is un-DNATed');
        assert.equal(replyToClient.received?.srcPort, 80);
        const pod = first.deliveredTo?.pod as string;
        hits.set(pod, (hits.get(pod) ?? 0) + 1);
      }
      assert.equal(hits.size, 3, `every Endpoint gets connections: ${JSON.stringify([...hits])}`);
    });
    test('ClientIP affinity moves to a live endpoint when the pinned one is removed', async () => {
      // A learned SessionAffinity flow outlives its Endpoint (it lasts the affinity timeout); the client's next
      // connection must be balanced to a remaining Endpoint and pinned there, as kube-proxy does, not black-holed.
      const t = await topo('encap');
      const client = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const eps = [(t.pods[0] as PodInterface[])[1] as PodInterface, ...(t.pods[1] as PodInterface[])];
      const svc = (members: PodInterface[]) => ({
        namespace: 'conformance', name: 'sticky', portName: 'http', protocol: 'TCP' as const, clusterIP: '10.96.0.14', port: 80,
        sessionAffinityTimeout: 600, endpoints: members.map((p) => ({ ip: ip(p), port: 8080, isLocal: p === eps[0] })),
      });
      await (t.nodes[0] as Datapath).upsertService(svc(eps));
      const servedBy = (n: number) => endpointPodsServing(t.exec, client, '10.96.0.14', n);
      const pinned = await servedBy(4);
      assert.equal(pinned.size, 1, `pinned to one Endpoint: ${[...pinned].join(', ')}`);
      const gone = eps.find((p) => pinned.has(key(p))) as PodInterface;
      await (t.nodes[0] as Datapath).upsertService(svc(eps.filter((p) => p !== gone)));
      const moved = await servedBy(6);
      assert.equal(moved.size, 1, `pinned again to one Endpoint: ${[...moved].join(', ')}`);
      assert.ok(eps.some((p) => p !== gone && moved.has(key(p))), `a remaining Endpoint, not the removed ${key(gone)}: ${[...moved].join(', ')}`);
    });
    test('ClientIP affinity moves off an Endpoint removed from its Service while another Service still uses it', async () => {
      // EndpointDNAT flows are shared by every Service with that Endpoint, so the removed Endpoint's flow stays while
      // another Service needs it; the learned flow must not keep DNATing this Service's client to it.
      const t = await topo('encap');
      const client = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const eps = [(t.pods[0] as PodInterface[])[1] as PodInterface, ...(t.pods[1] as PodInterface[])];
      const svc = (name: string, clusterIP: string, members: PodInterface[], affinity: boolean) => ({
        namespace: 'conformance', name, portName: 'http', protocol: 'TCP' as const, clusterIP, port: 80,
        ...(affinity ? { sessionAffinityTimeout: 600 } : {}), endpoints: members.map((p) => ({ ip: ip(p), port: 8080, isLocal: p === eps[0] })),
      });
      const dp = t.nodes[0] as Datapath;
      await dp.upsertService(svc('sticky', '10.96.0.15', eps, true));
      await dp.upsertService(svc('other', '10.96.0.16', eps, false));
      const servedBy = (n: number) => endpointPodsServing(t.exec, client, '10.96.0.15', n);
      const pinned = await servedBy(4);
      assert.equal(pinned.size, 1, `pinned to one Endpoint: ${[...pinned].join(', ')}`);
      const gone = eps.find((p) => pinned.has(key(p))) as PodInterface;
      await dp.upsertService(svc('sticky', '10.96.0.15', eps.filter((p) => p !== gone), true));
      const moved = await servedBy(6);
      assert.equal(moved.size, 1, `pinned again to one Endpoint: ${[...moved].join(', ')}`);
      assert.ok(!moved.has(key(gone)), `not ${key(gone)}, which left this Service: ${[...moved].join(', ')}`);
    });
    test('a Pod reaching itself through its Service is hairpinned', async () => {
      const t = await topo('encap');
      const self = (t.pods[0] as PodInterface[])[0] as PodInterface;
      await (t.nodes[0] as Datapath).upsertService({
        namespace: 'conformance', name: 'self', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.11', port: 80,
        endpoints: [{ ip: ip(self), port: 8080, isLocal: true }],
      });
      const c = await t.exec.connect({ from: { pod: key(self) }, to: { ip: '10.96.0.11', port: 80 }, protocol: 'TCP' });
      assert.ok(c.established, c.failure ? explain(c.failure) : 'not established');
      assert.equal(c.packets[0]?.received?.srcIP, '169.254.169.252', 'hairpin SNAT to the virtual IP');
      assert.equal(c.packets[1]?.received?.srcIP, '10.96.0.11');
    });
  });

  describe('datapath conformance: Reject', () => {
    // An Antrea-native Reject rule for traffic to `to` (ingress, on its Node) or from `from` (egress, on its Node).
    const rejectRule = (dir: 'In' | 'Out', from: PodInterface, to: PodInterface, services?: PolicyService[]) => ({
      ruleID: `reject-${dir}`, conjID: 40, direction: dir, action: 'Reject' as const, kind: 'AntreaNative' as const, priority: 14000,
      from: { ipBlocks: [`${ip(from)}/32`] }, to: dir === 'In' ? { ofPorts: [to.ofPort] } : { ipBlocks: [`${ip(to)}/32`] },
      ...(services ? { services } : {}), policyRef: 'AntreaClusterNetworkPolicy:conformance/reject',
    });
    // A timeout would take the traffic helpers' whole wait (1.5 s on OVS); a reset ends the attempt at once.
    const FAST_MS = 1500;

    for (const [mode, label] of [['encap', 'encap'], ['noEncap', 'noEncap']] as const) {
      test(`${label}: an ingress Reject refuses a TCP connection from another Node with a reset the sender sees`, async () => {
        const t = await topo(mode);
        const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
        const b = (t.pods[1] as PodInterface[])[0] as PodInterface;
        await (t.nodes[1] as Datapath).upsertPolicyRule(rejectRule('In', a, b, [{ protocol: 'TCP', port: 5432 }]));
        const t0 = Date.now();
        const c = await t.exec.connect({ from: { pod: key(a) }, to: { ip: ip(b), port: 5432 }, protocol: 'TCP' });
        assert.ok(Date.now() - t0 < FAST_MS + 1500, 'refused, not timed out');
        assert.equal(c.established, false);
        assert.equal(c.delivered.request, 0, 'the SYN never reaches the server');
        const first = c.packets[0] as PacketResult;
        assert.deepEqual(first.rejected, { node: 'node2', reply: 'tcp-rst', deliveredToSender: true }, explain(first));
        assert.equal(first.dropped?.node, 'node2');
        assert.match(first.dropped?.reason ?? '', /rejected by a Reject rule: TCP RST\+ACK sent back to /);
        // Another port is not rejected.
        const ok = await t.exec.connect({ from: { pod: key(a) }, to: { ip: ip(b), port: 5433 }, protocol: 'TCP' });
        assert.ok(ok.established, ok.failure ? explain(ok.failure) : 'not established');
        assert.equal(ok.packets[0]?.rejected, undefined);
      });
    }

    test('an egress Reject answers UDP with ICMP administratively prohibited, from the destination', async () => {
      const t = await topo('encap');
      const [a, a2] = t.pods[0] as PodInterface[];
      await (t.nodes[0] as Datapath).upsertPolicyRule(rejectRule('Out', a!, a2!));
      const r = await t.exec.send({ from: { pod: key(a!) }, to: { ip: ip(a2!), port: 53 }, protocol: 'UDP' });
      assert.equal(r.delivered, false);
      assert.deepEqual(r.rejected, { node: 'node1', reply: 'icmp-unreachable', deliveredToSender: true }, explain(r));
      assert.match(r.dropped?.reason ?? '', /ICMP destination unreachable \(admin prohibited\) sent back to /);
      assert.equal(r.dropped?.tableName, 'EgressMetric');
    });

    test('an ingress Reject answers a ping from another Node with ICMP unreachable', async () => {
      const t = await topo('encap');
      const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const b = (t.pods[1] as PodInterface[])[1] as PodInterface;
      await (t.nodes[1] as Datapath).upsertPolicyRule(rejectRule('In', a, b));
      const c = await t.exec.connect({ from: { pod: key(a) }, to: { ip: ip(b) }, protocol: 'ICMP' });
      assert.equal(c.established, false);
      const first = c.packets[0] as PacketResult;
      assert.deepEqual(first.rejected, { node: 'node2', reply: 'icmp-unreachable', deliveredToSender: true }, explain(first));
      assert.equal(first.dropped?.tableName, 'IngressMetric', explain(first));
    });

    for (const where of ['local', 'remote'] as const) {
      test(`an ingress Reject at a Service's ${where} Endpoint refuses the client with a reset from the ClusterIP`, async () => {
        const t = await topo('encap');
        const client = (t.pods[0] as PodInterface[])[0] as PodInterface;
        const ep = where === 'local' ? (t.pods[0] as PodInterface[])[1] as PodInterface : (t.pods[1] as PodInterface[])[0] as PodInterface;
        const epNode = where === 'local' ? 0 : 1;
        for (const [n, dp] of t.nodes.entries()) {
          await dp.upsertService({
            namespace: 'conformance', name: 'guarded', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.13', port: 80,
            endpoints: [{ ip: ip(ep), port: 8080, isLocal: n === epNode }],
          });
        }
        await (t.nodes[epNode] as Datapath).upsertPolicyRule(rejectRule('In', client, ep));
        const c = await t.exec.connect({ from: { pod: key(client) }, to: { ip: '10.96.0.13', port: 80 }, protocol: 'TCP' });
        assert.equal(c.established, false);
        const first = c.packets[0] as PacketResult;
        assert.deepEqual(first.rejected, { node: `node${epNode + 1}`, reply: 'tcp-rst', deliveredToSender: true }, explain(first));
      });
    }

    test('a Service without Endpoints refuses a TCP connection with a reset from the ClusterIP', async () => {
      const t = await topo('encap');
      const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
      await (t.nodes[0] as Datapath).upsertService({
        namespace: 'conformance', name: 'empty', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.12', port: 80, endpoints: [],
      });
      const t0 = Date.now();
      const c = await t.exec.connect({ from: { pod: key(a) }, to: { ip: '10.96.0.12', port: 80 }, protocol: 'TCP' });
      assert.ok(Date.now() - t0 < FAST_MS + 1500, 'refused, not timed out');
      assert.equal(c.established, false);
      const first = c.packets[0] as PacketResult;
      assert.deepEqual(first.rejected, { node: 'node1', reply: 'tcp-rst', deliveredToSender: true }, explain(first));
      assert.equal(first.dropped?.tableName, 'ServiceLB');
      assert.match(first.dropped?.reason ?? '', /the Service 10\.96\.0\.12:80 has no endpoints: TCP RST\+ACK/);
    });
  });

  describe('datapath conformance: lifecycle', () => {
    test('removing a Pod stops delivery to it', async () => {
      const t = await topo('encap');
      const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const b = (t.pods[1] as PodInterface[])[0] as PodInterface;
      assert.ok((await t.exec.send({ from: { pod: key(a) }, to: { ip: ip(b), port: 80 }, protocol: 'UDP' })).delivered);
      await (t.nodes[1] as Datapath).removePod(b.namespace, b.name);
      const r = await t.exec.send({ from: { pod: key(a) }, to: { ip: ip(b), port: 80 }, protocol: 'UDP' });
      assert.equal(r.delivered, false);
      assert.ok(!(await (t.nodes[1] as Datapath).dumpFlows()).some((f) => f.match.some((m) => m.field === 'in_port' && Number(m.value) === b.ofPort)));
    });
    test('removing a peer Node stops cross-Node delivery', async () => {
      const t = await topo('encap');
      const a = (t.pods[0] as PodInterface[])[0] as PodInterface;
      const b = (t.pods[1] as PodInterface[])[0] as PodInterface;
      await (t.nodes[0] as Datapath).removePeerNode('node2');
      const r = await t.exec.send({ from: { pod: key(a) }, to: { ip: ip(b), port: 80 }, protocol: 'UDP' });
      assert.equal(r.deliveredTo?.pod, undefined);
    });
  });
}
