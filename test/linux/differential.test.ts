/**
 * Differential test: the simulator against Open vSwitch on the same flows. One desired state (two Nodes, Pods, a
 * Service, a hairpin Service, K8s and Antrea-native policy rules in both directions) goes into a SimCluster and an
 * OvsCluster through the same Datapath calls; then each packet is processed by the simulator's bridge and by
 * `ovs-appctl ofproto/trace` on the same Node and port. Both must visit the same flows (table, priority, cookie) in
 * the same order and end in the same table. Together the packets cover every table that holds a flow.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OvsCluster } from '../../src/datapath/ovs/cluster.js';
import { ovsAvailable } from '../../src/datapath/ovs/exec.js';
import { parseTrace } from '../../src/datapath/ovs/trace.js';
import { SimCluster } from '../../src/datapath/sim/cluster.js';
import type { SimNode } from '../../src/datapath/sim/node.js';
import type { Packet } from '../../src/datapath/sim/packet.js';
import type { TraceStep } from '../../src/datapath/sim/trace.js';
import { nodeConfig, peerOf, podOn } from '../../src/datapath/pipeline/testing.js';
import { tableName } from '../../src/datapath/pipeline/tables.js';
import { GLOBAL_VIRTUAL_MAC } from '../../src/datapath/pipeline/fields.js';
import { formatIpv4, formatMac, parseIpv4, parseMac } from '../../src/datapath/net/addr.js';
import type { Datapath, NodeConfig, PodInterface, PolicyRule, ServiceFrontend } from '../../src/datapath/types.js';
import type { SendRequest } from '../../src/datapath/traffic.js';

const avail = await ovsAvailable();

interface Case {
  name: string;
  node: 'node1' | 'node2';
  inPort: number;
  packet: Packet;
}

/** The packet as an ofproto/trace flow, field for field what the simulator loads into its key. */
function ovsFlow(inPort: number, p: Packet): string {
  const parts = [`in_port=${inPort}`];
  if (p.tunnel) parts.push(`tun_id=${p.tunnel.vni}`, `tun_src=${formatIpv4(p.tunnel.src)}`, `tun_dst=${formatIpv4(p.tunnel.dst)}`);
  if (p.arp) {
    parts.push('arp', `dl_src=${formatMac(p.ethSrc)}`, `dl_dst=${formatMac(p.ethDst)}`, `arp_op=${p.arp.op}`, `arp_spa=${formatIpv4(p.arp.spa)}`,
      `arp_tpa=${formatIpv4(p.arp.tpa)}`, `arp_sha=${formatMac(p.arp.sha)}`, `arp_tha=${formatMac(p.arp.tha)}`);
    return parts.join(',');
  }
  const ip = p.ip!;
  const l4 = p.l4!;
  parts.push(l4.kind, `dl_src=${formatMac(p.ethSrc)}`, `dl_dst=${formatMac(p.ethDst)}`, `nw_src=${formatIpv4(ip.src)}`, `nw_dst=${formatIpv4(ip.dst)}`, `nw_ttl=${ip.ttl}`);
  if (l4.kind === 'icmp') parts.push(`icmp_type=${l4.type}`, `icmp_code=${l4.code}`);
  else parts.push(`${l4.kind}_src=${l4.srcPort}`, `${l4.kind}_dst=${l4.dstPort}`, ...(l4.kind === 'tcp' ? [`tcp_flags=0x${l4.flags.toString(16).padStart(3, '0')}`] : []));
  return parts.join(',');
}

function hopsOfSim(trace: TraceStep[]): string[] {
  return trace.flatMap((s) => (s.kind === 'flow' ? [`${s.table}/${s.priority}/${s.cookie}`] : []));
}

describe('differential: simulator vs ofproto/trace on the same flows', { skip: avail.ok ? false : avail.reason }, () => {
  let ovs: OvsCluster;
  let sim: SimCluster;
  const cfgs: NodeConfig[] = [nodeConfig(1, 'encap'), nodeConfig(2, 'encap')];
  const pods: PodInterface[][] = cfgs.map((cfg) => [0, 1].map((i) => podOn(cfg, i, 'diff')));
  const visited = new Map<string, Set<number>>([['node1', new Set()], ['node2', new Set()]]);
  let ovsNodes: Datapath[] = [];
  let sport = 40000;

  before(async () => {
    ovs = await OvsCluster.create();
    sim = await SimCluster.create();
    const a = pods[0]![0]!;
    const a2 = pods[0]![1]!;
    const b = pods[1]![0]!;
    const services: ServiceFrontend[] = [
      // One Endpoint: the two implementations hash differently, so a multi-Endpoint pick would not compare.
      { namespace: 'diff', name: 'web', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.10', port: 80, endpoints: [{ ip: b.ips[0]!, port: 8080, isLocal: false }] },
      { namespace: 'diff', name: 'sticky', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.12', port: 80, sessionAffinityTimeout: 600, endpoints: [{ ip: b.ips[0]!, port: 8080, isLocal: false }] },
      { namespace: 'diff', name: 'self', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.11', port: 80, endpoints: [{ ip: a.ips[0]!, port: 8080, isLocal: true }] },
    ];
    const rules: Record<string, PolicyRule[]> = {
      node1: [
        { ruleID: 'an-deny-a-a2', conjID: 9, direction: 'Out', action: 'Drop', kind: 'AntreaNative', priority: 14000, from: { ipBlocks: [a.ips[0]!] }, to: { ipBlocks: [`${a2.ips[0]!}/32`] }, services: [{ protocol: 'UDP', port: 80 }], policyRef: 'AntreaClusterNetworkPolicy:deny' },
        { ruleID: 'k8s-egress-a2', conjID: 10, direction: 'Out', action: 'Allow', kind: 'K8sNetworkPolicy', from: { ipBlocks: [a2.ips[0]!] }, to: { ipBlocks: ['10.10.1.0/24'] }, services: [{ protocol: 'TCP', port: 5432 }], policyRef: 'K8sNetworkPolicy:diff/egress' },
      ],
      node2: [
        { ruleID: 'k8s-in-b', conjID: 5, direction: 'In', action: 'Allow', kind: 'K8sNetworkPolicy', from: { ipBlocks: [a.ips[0]!] }, to: { ofPorts: [b.ofPort] }, services: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 8080 }], policyRef: 'K8sNetworkPolicy:diff/in' },
        { ruleID: 'an-in-b2', conjID: 6, direction: 'In', action: 'Allow', kind: 'AntreaNative', priority: 14000, from: { ipBlocks: ['10.10.0.0/24'] }, to: { ofPorts: [pods[1]![1]!.ofPort] }, policyRef: 'AntreaClusterNetworkPolicy:in' },
      ],
    };
    for (const exec of [ovs, sim] as const) {
      const nodes: Datapath[] = [];
      for (const cfg of cfgs) nodes.push(await exec.addNode(cfg));
      await nodes[0]!.upsertPeerNode(peerOf(cfgs[1]!));
      await nodes[1]!.upsertPeerNode(peerOf(cfgs[0]!));
      for (let n = 0; n < 2; n++) {
        for (const p of pods[n]!) await nodes[n]!.upsertPod(p);
        for (const s of services) await nodes[n]!.upsertService({ ...s, endpoints: s.endpoints.map((e) => ({ ...e, isLocal: n === 0 ? e.ip === a.ips[0] : e.ip === b.ips[0] })) });
        for (const r of rules[`node${n + 1}`]!) await nodes[n]!.upsertPolicyRule(r);
      }
      if (exec === ovs) ovsNodes = nodes;
    }
  });

  after(async () => {
    await ovs?.close();
    await sim?.close();
  });

  const mac = (m: string) => parseMac(m);
  const ip4 = (s: string) => parseIpv4(s);
  const tcp = (src: PodInterface | { ip: string; mac: string }, dstIp: string, dstMac: string, port: number, extra: Partial<Packet> = {}): Packet => {
    const s = 'ips' in src ? { ip: src.ips[0]!, mac: src.mac } : src;
    return { ethSrc: mac(s.mac), ethDst: mac(dstMac), ethType: 0x0800, payloadLength: 0, ip: { src: ip4(s.ip), dst: ip4(dstIp), proto: 6, ttl: 64, dscp: 0 }, l4: { kind: 'tcp', srcPort: sport++, dstPort: port, flags: 0x02 }, ...extra };
  };
  const udp = (src: PodInterface, dstIp: string, dstMac: string, port: number): Packet => ({
    ethSrc: mac(src.mac), ethDst: mac(dstMac), ethType: 0x0800, payloadLength: 0, ip: { src: ip4(src.ips[0]!), dst: ip4(dstIp), proto: 17, ttl: 64, dscp: 0 }, l4: { kind: 'udp', srcPort: sport++, dstPort: port },
  });

  const cases = (): Case[] => {
    const [a, a2] = pods[0] as [PodInterface, PodInterface];
    const [b, b2] = pods[1] as [PodInterface, PodInterface];
    const gw1 = cfgs[0]!.gatewayMAC;
    const gw2 = cfgs[1]!.gatewayMAC;
    const fromTunnel = (p: Packet): Packet => ({ ...p, ethSrc: mac(gw1), ethDst: mac(GLOBAL_VIRTUAL_MAC), ip: { ...p.ip!, ttl: 63 }, tunnel: { src: ip4(cfgs[0]!.nodeIP), dst: ip4(cfgs[1]!.nodeIP), vni: 0 } });
    return [
      { name: 'ARP request for the gateway (ARPResponder)', node: 'node1', inPort: a.ofPort, packet: { ethSrc: mac(a.mac), ethDst: 0xffffffffffff, ethType: 0x0806, payloadLength: 0, arp: { op: 1, sha: mac(a.mac), spa: ip4(a.ips[0]!), tha: 0, tpa: ip4(cfgs[0]!.gatewayIP) } } },
      { name: 'ARP request for a peer gateway', node: 'node1', inPort: 2, packet: { ethSrc: mac(gw1), ethDst: 0xffffffffffff, ethType: 0x0806, payloadLength: 0, arp: { op: 1, sha: mac(gw1), spa: ip4(cfgs[0]!.gatewayIP), tha: 0, tpa: ip4(cfgs[1]!.gatewayIP) } } },
      { name: 'Pod to Pod on one Node (TCP SYN)', node: 'node1', inPort: a.ofPort, packet: tcp(a, a2.ips[0]!, a2.mac, 8080) },
      { name: 'Antrea-native egress Drop (UDP)', node: 'node1', inPort: a.ofPort, packet: udp(a, a2.ips[0]!, a2.mac, 80) },
      { name: 'Pod to remote Pod, sending Node (tunnel)', node: 'node1', inPort: a.ofPort, packet: tcp(a, b.ips[0]!, gw1, 80) },
      { name: 'from the tunnel, K8s ingress Allow', node: 'node2', inPort: 1, packet: fromTunnel(tcp(a, b.ips[0]!, gw1, 80)) },
      { name: 'from the tunnel, K8s ingress default drop', node: 'node2', inPort: 1, packet: fromTunnel(tcp(a, b.ips[0]!, gw1, 81)) },
      { name: 'from the tunnel, Antrea-native ingress Allow', node: 'node2', inPort: 1, packet: fromTunnel(tcp(a, b2.ips[0]!, gw1, 22)) },
      { name: 'from the tunnel, unknown Pod', node: 'node2', inPort: 1, packet: fromTunnel(tcp(a, '10.10.1.200', gw1, 80)) },
      { name: 'K8s egress Allow to a remote Pod', node: 'node1', inPort: a2.ofPort, packet: tcp(a2, b2.ips[0]!, gw1, 5432) },
      { name: 'K8s egress default drop', node: 'node1', inPort: a2.ofPort, packet: tcp(a2, b2.ips[0]!, gw1, 9999) },
      { name: 'Pod to ClusterIP (ServiceLB, EndpointDNAT)', node: 'node1', inPort: a.ofPort, packet: tcp(a, '10.96.0.10', gw1, 80) },
      { name: 'Pod to a ClientIP-affinity ClusterIP (SessionAffinity learn)', node: 'node1', inPort: a.ofPort, packet: tcp(a, '10.96.0.12', gw1, 80) },
      { name: 'Pod to its own ClusterIP (HairpinSNAT)', node: 'node1', inPort: a.ofPort, packet: tcp(a, '10.96.0.11', gw1, 80) },
      { name: 'hairpin reply to the virtual IP (ServiceHairpin)', node: 'node1', inPort: a.ofPort, packet: tcp(a, '169.254.169.252', gw1, 40000) },
      { name: 'host to local Pod through antrea-gw0', node: 'node2', inPort: 2, packet: tcp({ ip: cfgs[1]!.gatewayIP, mac: gw2 }, b.ips[0]!, b.mac, 8080) },
      { name: 'spoofed source IP (SpoofGuard)', node: 'node1', inPort: a.ofPort, packet: tcp({ ip: '10.10.0.200', mac: a.mac }, a2.ips[0]!, a2.mac, 80) },
      { name: 'unknown in_port (Classifier)', node: 'node1', inPort: 77, packet: tcp(a, a2.ips[0]!, a2.mac, 80) },
    ];
  };

  it('every packet visits the same flows in the same order and ends in the same table', async () => {
    const failures: string[] = [];
    for (const c of cases()) {
      const simNode = sim.node(c.node) as SimNode;
      const trace: TraceStep[] = [];
      const simResult = simNode.bridge.process(c.packet, c.inPort, trace);
      const simHops = hopsOfSim(trace);
      const ovsNode = ovs.node(c.node);
      const t = parseTrace((await ovsNode.ovs.appctl(['ofproto/trace', 'br-int', ovsFlow(c.inPort, c.packet)])).stdout);
      const ovsHops = t.hops.map((h) => `${h.table}/${h.priority}/0x${h.cookie.toString(16)}`);
      for (const h of t.hops) visited.get(c.node)!.add(h.table);
      if (process.env.DIFF_DEBUG) console.log(c.name, "\n  sim:", simHops.join(" "), "\n  ovs:", ovsHops.join(" "));
      assert.ok(ovsHops.length > 0, `${c.name}: OVS traced no flow`);
      const simDropped = simResult.outputs.length === 0;
      if (simDropped !== t.dropped) failures.push(`${c.name}: sim ${simDropped ? 'drops' : 'forwards'}, OVS ${t.dropped ? 'drops' : 'forwards'} (${t.datapathActions})`);
      if (JSON.stringify(simHops) !== JSON.stringify(ovsHops)) {
        failures.push(`${c.name}:\n  sim: ${simHops.join(' ')}\n  ovs: ${ovsHops.join(' ')}`);
      }
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  it('Traceflow on OVS (ofproto/trace across Nodes) reports the same observations as on the simulator', async () => {
    const [a, a2] = pods[0] as [PodInterface, PodInterface];
    const [b] = pods[1] as [PodInterface, PodInterface];
    const key = (p: PodInterface) => `${p.namespace}/${p.name}`;
    const reqs: SendRequest[] = [
      { from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 8080 }, protocol: 'TCP' },
      { from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 80 }, protocol: 'TCP' },
      { from: { pod: key(a) }, to: { ip: b.ips[0]!, port: 81 }, protocol: 'TCP' },
      { from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'UDP' },
      { from: { pod: key(a) }, to: { ip: '10.96.0.10', port: 80 }, protocol: 'TCP' },
      { from: { pod: key(a) }, to: { ip: a2.ips[0]!, port: 80 }, protocol: 'TCP', srcIP: '10.10.0.200' },
    ];
    for (const req of reqs) {
      const want = sim.traceflow(await sim.send({ ...req, srcPort: sport++ }));
      const got = await ovs.traceflow({ ...req, srcPort: sport++ });
      if (process.env.DIFF_DEBUG) console.log(JSON.stringify(got));
      assert.ok(got.length > 0 && got[0]!.observations.length > 0, "observations reported");
      assert.deepEqual(got, want, `${req.protocol} to ${req.to.ip}:${req.to.port}${req.srcIP ? ` from ${req.srcIP}` : ''}`);
    }
  });

  it('the packets cover every table that holds a flow', async () => {
    const missing: string[] = [];
    for (const [i, name] of ['node1', 'node2'].entries()) {
      const tables = new Set((await ovsNodes[i]!.dumpFlows()).map((f) => f.table));
      for (const tbl of tables) if (!visited.get(name)!.has(tbl)) missing.push(`${name}: ${tbl} (${tableName(tbl)})`);
    }
    const all = new Set([...visited.get('node1')!, ...visited.get('node2')!]);
    const notAnywhere = missing.filter((m) => !all.has(Number(/: (\d+)/.exec(m)![1])));
    assert.deepEqual(notAnywhere, [], `tables no packet reached on any Node: ${notAnywhere.join(', ')}`);
  });
});
