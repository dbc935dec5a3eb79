/**
 * SimCluster: simulated Nodes wired by an underlay, and the traffic API. A packet's journey is a queue of hops:
 * a Pod or host stack hands it to its Node's bridge; the bridge's outputs go to Pod stacks, to the host behind
 * antrea-gw0, or through antrea-tun0 (Geneve/VXLAN, 50 bytes of outer headers) to the peer Node's bridge; the
 * host routes it to gw0, over the underlay (noEncap), or out of the cluster.
 */
import type { NodeConfig } from '../types.js';
import { AntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
import { GATEWAY_OFPORT, TUNNEL_OFPORT, GLOBAL_VIRTUAL_MAC, CustomReasonField, CustomReasonReject } from '../pipeline/fields.js';
import { Table, tableName } from '../pipeline/tables.js';
import { ETH_TYPE_ARP, ETH_TYPE_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../pipeline/flow.js';
import { BROADCAST_MAC, cidrContains, formatIpv4, parseIpv4, parseMac, type Ipv4, type Mac } from '../net/addr.js';
import type { ConnectRequest, ConnectionResult, DatapathExecutor, Delivery, Endpoint, PacketResult, SendRequest } from '../traffic.js';
import type { ConntrackEntry } from './conntrack.js';
import { ipLength, frameLength, describePacket, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Packet } from './packet.js';
import { SimNode, type PodStack } from './node.js';
import { systemClock, type Clock } from './clock.js';
import type { DropInfo, TraceStep } from './trace.js';
import { traceflowObservations, type NodeResult } from './traceflow.js';

/** Geneve and VXLAN over IPv4 both add outer Ethernet 14 + IPv4 20 + UDP 8 + 8 bytes. */
export const TUNNEL_OVERHEAD = 50;
const MAX_HOPS = 256;

type Hop =
  | { at: 'bridge'; node: SimNode; inPort: number; packet: Packet }
  | { at: 'pod'; node: SimNode; pod: PodStack; packet: Packet }
  | { at: 'host'; node: SimNode; packet: Packet; from: 'gw' | 'underlay' }
  | { at: 'external'; from: SimNode; packet: Packet };

interface Journey {
  trace?: TraceStep[];
  /** The endpoint that sent the packet, for Reject answers. */
  sender?: { node: SimNode; pod?: PodStack };
  rejected?: NonNullable<PacketResult['rejected']>;
  queue: Hop[];
  deliveries: { delivery: Delivery; packet: Packet }[];
  drop?: DropInfo;
  hops: number;
}

export interface SimClusterOptions {
  clock?: Clock;
  logger?: Logger;
}

/** A packet as a tap sees it when it leaves its sender (after the sender's own NAT, before any bridge). */
export interface TapPacket {
  /** The Node whose bridge or host stack the packet enters first. */
  node: string;
  /** `namespace/name` when a Pod sent it. */
  fromPod?: string;
  srcIP: string;
  dstIP: string;
  /** IP protocol number (1 ICMP, 6 TCP, 17 UDP). */
  proto: number;
  /** TCP/UDP ports; for ICMP the echo id is the source port and the destination port is 0. */
  srcPort: number;
  dstPort: number;
  /** IP total length. */
  length: number;
  ttl: number;
  tcpFlags?: number;
  icmp?: { type: number; id: number; seq: number };
}

/**
 * Samples real traffic, as Antrea's live-traffic Traceflow flows do: `match` sees each packet as it is sent; a packet
 * it accepts runs with its trace on and `onPacket` gets its result once the packet has gone as far as it goes.
 */
export interface PacketTap {
  match(pkt: TapPacket): boolean;
  onPacket(result: PacketResult, pkt: TapPacket): void;
}

export interface UnderlayStats {
  tunnelPackets: number;
  /** Outer bytes on the wire (inner frame + 50). */
  tunnelBytes: number;
  routedPackets: number;
  routedBytes: number;
}

export class SimCluster implements DatapathExecutor {
  readonly name = 'sim';
  readonly clock: Clock;
  private readonly log: Logger;
  private readonly nodes = new Map<string, SimNode>();
  private readonly nodesByIp = new Map<Ipv4, SimNode>();
  private nextPort = 32768;
  private taps: PacketTap[] = [];
  readonly underlay: UnderlayStats = { tunnelPackets: 0, tunnelBytes: 0, routedPackets: 0, routedBytes: 0 };

  constructor(opts: SimClusterOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
  }

  static async create(opts: SimClusterOptions = {}): Promise<SimCluster> {
    return new SimCluster(opts);
  }

  /** Adds a Node and installs its node config. Peers are the caller's business (upsertPeerNode), as for the agent. */
  async addNode(cfg: NodeConfig): Promise<SimNode> {
    if (this.nodes.has(cfg.nodeName)) throw new AntreaError('ERR_DATAPATH_INVALID', `Node ${cfg.nodeName} already exists`, { field: 'nodeName' });
    const node = new SimNode(cfg.nodeName, this.clock, { logger: this.log.child({ node: cfg.nodeName }) });
    await node.setNodeConfig(cfg);
    this.nodes.set(cfg.nodeName, node);
    this.nodesByIp.set(parseIpv4(cfg.nodeIP), node);
    return node;
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new AntreaError('ERR_DATAPATH_UNKNOWN_NODE', `no Node named ${name}`, { field: 'node' });
    return n;
  }

  nodeList(): SimNode[] {
    return [...this.nodes.values()];
  }

  async conntrack(nodeName: string): Promise<ConntrackEntry[]> {
    return this.node(nodeName).bridge.conntrack.list();
  }

  async close(): Promise<void> {
    this.nodes.clear();
    this.nodesByIp.clear();
  }

  /** Traceflow observations per Node for a traced packet (send with trace on, the default). */
  traceflow(result: PacketResult): NodeResult[] {
    return traceflowObservations(
      result.trace,
      (name) => {
        const n = this.node(name);
        return { encap: n.parsed.encap, gatewayIP: n.config.gatewayIP };
      },
      (name, conjID) => this.node(name).compiler.policyRefOf(conjID),
      (name, identity) => this.node(name).compiler.policyRefsOfFlow(identity),
    );
  }

  /** Installs a tap on every packet sent from now on (send and connect alike); returns its removal. */
  tap(t: PacketTap): () => void {
    // Copy on write: a tap removed from inside onPacket must not disturb the list being iterated.
    this.taps = [...this.taps, t];
    return () => {
      this.taps = this.taps.filter((x) => x !== t);
    };
  }

  /** The taps that want `packet`; turns the journey's trace on for them. Costs one length check without taps. */
  private tapsFor(j: Journey, node: SimNode, fromPod: string | undefined, packet: Packet): { taps: PacketTap[]; pkt: TapPacket } | undefined {
    if (this.taps.length === 0 || !packet.ip) return undefined;
    const ip = packet.ip;
    const l4 = packet.l4;
    const pkt: TapPacket = {
      node: node.nodeName,
      ...(fromPod !== undefined ? { fromPod } : {}),
      srcIP: formatIpv4(ip.src),
      dstIP: formatIpv4(ip.dst),
      proto: ip.proto,
      srcPort: l4 === undefined ? 0 : l4.kind === 'icmp' ? l4.id : l4.srcPort,
      dstPort: l4 === undefined || l4.kind === 'icmp' ? 0 : l4.dstPort,
      length: ipLength(packet),
      ttl: ip.ttl,
      ...(l4?.kind === 'tcp' ? { tcpFlags: l4.flags } : {}),
      ...(l4?.kind === 'icmp' ? { icmp: { type: l4.type, id: l4.id, seq: l4.seq } } : {}),
    };
    const taps = this.taps.filter((t) => t.match(pkt));
    if (taps.length === 0) return undefined;
    j.trace ??= [];
    return { taps, pkt };
  }

  private fireTaps(hit: { taps: PacketTap[]; pkt: TapPacket } | undefined, j: Journey, packet: Packet): void {
    if (!hit || !packet.ip) return;
    const result = this.result(j, hit.pkt.srcPort, packet.l4?.kind, packet.ip.proto);
    for (const t of hit.taps) {
      try {
        t.onPacket(result, hit.pkt);
      } catch (err) {
        // A tap is an observer: its failure must not change what happened to the traffic.
        this.log.error('packet tap failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** A fresh source port / ICMP id, unique per request in this cluster. */
  allocatePort(): number {
    const p = this.nextPort++;
    if (this.nextPort > 60999) this.nextPort = 32768;
    return p;
  }

  findPod(key: string): { node: SimNode; pod: PodStack } | undefined {
    for (const node of this.nodes.values()) {
      const pod = node.pods.get(key);
      if (pod) return { node, pod };
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Journeys

  private run(j: Journey): void {
    while (j.queue.length > 0) {
      if (++j.hops > MAX_HOPS) {
        j.drop = { node: '-', reason: `packet looped: more than ${MAX_HOPS} hops` };
        return;
      }
      const hop = j.queue.shift() as Hop;
      switch (hop.at) {
        case 'bridge':
          this.atBridge(j, hop.node, hop.inPort, hop.packet);
          break;
        case 'pod':
          this.atPod(j, hop.node, hop.pod, hop.packet);
          break;
        case 'host':
          this.atHost(j, hop.node, hop.packet, hop.from);
          break;
        case 'external':
          j.trace?.push({ kind: 'host', node: hop.from.nodeName, action: 'external', detail: `left the cluster: ${describePacket(hop.packet)}` });
          if (hop.packet.ip) j.deliveries.push({ delivery: { node: hop.from.nodeName, external: true }, packet: hop.packet });
          break;
      }
    }
  }

  private journey(trace: boolean, first: Hop): Journey {
    const j: Journey = { ...(trace ? { trace: [] } : {}), queue: [first], deliveries: [], hops: 0 };
    this.run(j);
    return j;
  }

  /** The Node an Egress IP is assigned to (its antrea-egress0 address): the one whose datapath has the IP's mark. */
  private egressIpHolder(ip: Ipv4): SimNode | undefined {
    for (const node of this.nodesByIp.values()) {
      for (const e of node.compiler.egressesByIP().values()) if (e.mark !== undefined && parseIpv4(e.egressIP) === ip) return node;
    }
    return undefined;
  }

  private atBridge(j: Journey, node: SimNode, inPort: number, packet: Packet): void {
    const r = node.bridge.process(packet, inPort, j.trace);
    if (r.drop && r.outputs.length === 0) j.drop = r.drop;
    const rejectIn = r.packetIns.find((p) => p.reason === 0);
    if (rejectIn && ((r.regs.reg0 >>> CustomReasonField.lo) & CustomReasonReject) !== 0 && packet.ip) this.reject(j, node, packet, rejectIn.table);
    for (const out of r.outputs) {
      const port = node.bridge.port(out.port);
      if (!port) continue;
      if (port.kind === 'tunnel') {
        const dstIp = out.packet.tunnel?.dst ?? 0;
        const peer = this.nodesByIp.get(dstIp) ?? this.egressIpHolder(dstIp);
        if (!peer || !peer.parsed.encap) {
          j.drop = { node: node.nodeName, reason: `tunnel destination ${formatIpv4(dstIp)} is not a Node with a tunnel port` };
          j.trace?.push({ kind: 'drop', node: node.nodeName, reason: j.drop.reason });
          continue;
        }
        const outer = frameLength(out.packet) + TUNNEL_OVERHEAD;
        this.underlay.tunnelPackets++;
        this.underlay.tunnelBytes += outer;
        const vni = out.packet.tunnel?.vni ?? 0;
        j.trace?.push({ kind: 'tunnel', from: node.nodeName, to: peer.nodeName, tunnelType: node.config.tunnelType, vni, outerBytes: outer });
        // The skb mark stays on the sending host: it never crosses the wire.
        const { pktMark: _mark, ...sent } = out.packet;
        const inner: Packet = { ...sent, tunnel: { src: node.parsed.nodeIP, dst: dstIp, vni } };
        j.queue.push({ at: 'bridge', node: peer, inPort: TUNNEL_OFPORT, packet: inner });
      } else if (port.kind === 'gateway') {
        const { tunnel: _t, ...p } = out.packet;
        j.queue.push({ at: 'host', node, packet: p, from: 'gw' });
      } else {
        const pod = node.podsByPort.get(out.port);
        if (pod) {
          const { tunnel: _t, ...p } = out.packet;
          j.queue.push({ at: 'pod', node, pod, packet: p });
        }
      }
    }
  }

  private atPod(j: Journey, node: SimNode, pod: PodStack, p: Packet): void {
    if (p.arp) {
      if (p.arp.op === 1 && pod.ips.includes(p.arp.tpa)) {
        pod.neighbors.set(p.arp.spa, p.arp.sha);
        const reply: Packet = {
          ethSrc: pod.mac, ethDst: p.arp.sha, ethType: ETH_TYPE_ARP, payloadLength: 0,
          arp: { op: 2, sha: pod.mac, spa: p.arp.tpa, tha: p.arp.sha, tpa: p.arp.spa },
        };
        j.queue.push({ at: 'bridge', node, inPort: pod.ofPort, packet: reply });
      } else if (p.arp.op === 2 && p.ethDst === pod.mac) {
        pod.neighbors.set(p.arp.spa, p.arp.sha);
      }
      return;
    }
    if (!p.ip) return;
    if (p.ethDst !== pod.mac && p.ethDst !== BROADCAST_MAC) {
      this.refuse(j, node, pod.key, `Pod ${pod.key} dropped a frame for another MAC`);
      return;
    }
    if (!pod.ips.includes(p.ip.dst)) {
      this.refuse(j, node, pod.key, `Pod ${pod.key} dropped a packet for ${formatIpv4(p.ip.dst)}, which is not its IP`);
      return;
    }
    j.trace?.push({ kind: 'endpoint', node: node.nodeName, endpoint: pod.key, action: 'received', detail: describePacket(p) });
    j.deliveries.push({ delivery: { node: node.nodeName, pod: pod.key }, packet: p });
  }

  /**
   * The agent's answer to a Reject packet-in: TCP gets RST+ACK, anything else ICMP type 3 code 10, from the original
   * destination to the sender. The simulator hands it straight to the sender's stack (Antrea's packet-out takes
   * several routes depending on where both ends are; the answer the sender sees is the same).
   */
  private reject(j: Journey, node: SimNode, p: Packet, fromTable: number): void {
    const ip = p.ip as NonNullable<Packet['ip']>;
    const reply = p.l4?.kind === 'tcp' ? 'tcp-rst' as const : 'icmp-unreachable' as const;
    const sender = j.sender;
    const ok = sender?.pod !== undefined && sender.pod.ips.includes(ip.src);
    j.rejected = { node: node.nodeName, reply, deliveredToSender: ok };
    // A reject from ServiceLB is a Service without Endpoints (ICMP port unreachable, as kube-proxy); any other is a
    // policy Reject rule (ICMP admin prohibited).
    const noEndpoints = fromTable === Table.ServiceLB;
    const answer = reply === 'tcp-rst' ? 'TCP RST+ACK' : `ICMP destination unreachable (${noEndpoints ? 'port unreachable' : 'admin prohibited'})`;
    const where = noEndpoints
      ? { table: fromTable, tableName: tableName(fromTable) }
      : j.drop?.table === undefined ? {} : { table: j.drop.table, tableName: j.drop.tableName as string };
    const why = noEndpoints ? `rejected: the Service ${formatIpv4(ip.dst)}${p.l4 && p.l4.kind !== 'icmp' ? `:${p.l4.dstPort}` : ''} has no endpoints` : 'rejected by a Reject rule';
    j.drop = { node: node.nodeName, ...where, reason: `${why}: ${answer} sent back to ${formatIpv4(ip.src)}` };
    j.trace?.push({ kind: 'host', node: node.nodeName, action: 'dropped', detail: `packet-in (Reject${noEndpoints ? ', Service without endpoints' : ''}): agent answers ${reply} from ${formatIpv4(ip.dst)} to ${formatIpv4(ip.src)}` });
    if (ok && sender?.pod) j.trace?.push({ kind: 'endpoint', node: sender.node.nodeName, endpoint: sender.pod.key, action: 'received', detail: reply });
  }

  private refuse(j: Journey, node: SimNode, endpoint: string, reason: string): void {
    j.drop = { node: node.nodeName, reason };
    j.trace?.push({ kind: 'endpoint', node: node.nodeName, endpoint, action: 'rejected', detail: reason });
  }

  private atHost(j: Journey, node: SimNode, packet: Packet, from: 'gw' | 'underlay'): void {
    const { gwIP, gwMAC, nodeIP } = node.parsed;
    let p = packet;
    if (p.ip) {
      const pre = node.hostNat.prerouting(p, nodeIP);
      if (pre.nat) j.trace?.push({ kind: 'host', node: node.nodeName, action: 'received', detail: `${pre.nat}: ${describePacket(p)} → ${describePacket(pre.packet)}` });
      p = pre.packet;
    }
    if (p.arp) {
      if (from !== 'gw') return;
      if (p.arp.op === 1 && p.arp.tpa === gwIP) {
        node.hostNeighbors.set(p.arp.spa, p.arp.sha);
        const reply: Packet = {
          ethSrc: gwMAC, ethDst: p.arp.sha, ethType: ETH_TYPE_ARP, payloadLength: 0,
          arp: { op: 2, sha: gwMAC, spa: gwIP, tha: p.arp.sha, tpa: p.arp.spa },
        };
        j.queue.push({ at: 'bridge', node, inPort: GATEWAY_OFPORT, packet: reply });
      } else if (p.arp.op === 2 && p.ethDst === gwMAC) {
        node.hostNeighbors.set(p.arp.spa, p.arp.sha);
      }
      return;
    }
    if (!p.ip) return;
    if (from === 'gw' && p.ethDst !== gwMAC && p.ethDst !== BROADCAST_MAC) {
      this.refuse(j, node, 'host', `host of ${node.nodeName} dropped a frame on antrea-gw0 for another MAC`);
      return;
    }
    if (p.ip.dst === gwIP || p.ip.dst === nodeIP) {
      j.trace?.push({ kind: 'host', node: node.nodeName, action: 'delivered', detail: describePacket(p) });
      j.deliveries.push({ delivery: { node: node.nodeName, host: true }, packet: p });
      return;
    }
    const { serviceCIDR } = node.parsed;
    if (serviceCIDR && cidrContains(serviceCIDR, p.ip.dst)) {
      j.drop = { node: node.nodeName, reason: `host of ${node.nodeName} dropped a packet to ${formatIpv4(p.ip.dst)}: no kube-proxy in antrea local: ClusterIP traffic is not load-balanced with AntreaProxy off` };
      j.trace?.push({ kind: 'host', node: node.nodeName, action: 'dropped', detail: j.drop.reason });
      return;
    }
    // Forwarding: the host decrements the TTL.
    if (p.ip.ttl <= 1) {
      j.drop = { node: node.nodeName, reason: `host of ${node.nodeName}: TTL expired in transit` };
      j.trace?.push({ kind: 'host', node: node.nodeName, action: 'dropped', detail: j.drop.reason });
      return;
    }
    const fwd: Packet = { ...p, ip: { ...p.ip, ttl: p.ip.ttl - 1 } };
    this.hostSend(j, node, fwd, from);
  }

  /** Routes a packet from the host network stack of `node`. */
  private hostSend(j: Journey, node: SimNode, p: Packet, from: 'gw' | 'underlay' | 'local'): void {
    const ip = p.ip;
    if (!ip) return;
    const route = node.route(ip.dst);
    const peer = this.nodesByIp.get(ip.dst);
    if (peer && peer !== node) {
      this.underlaySend(j, node, peer, p);
      return;
    }
    if (!route) {
      if (from === 'underlay') {
        j.drop = { node: node.nodeName, reason: `host of ${node.nodeName}: no route to ${formatIpv4(ip.dst)}` };
        j.trace?.push({ kind: 'host', node: node.nodeName, action: 'dropped', detail: j.drop.reason });
        return;
      }
      const post = node.hostNat.postrouting(p, node.parsed.nodeIP);
      if (post.nat) j.trace?.push({ kind: 'host', node: node.nodeName, action: 'routed', detail: `${post.nat}: ${describePacket(p)} → ${describePacket(post.packet)}` });
      j.queue.push({ at: 'external', from: node, packet: post.packet });
      return;
    }
    if (route.via === 'underlay') {
      const next = this.nodesByIp.get(route.nextHop);
      if (!next) {
        j.drop = { node: node.nodeName, reason: `host of ${node.nodeName}: next hop ${formatIpv4(route.nextHop)} is unreachable` };
        return;
      }
      this.underlaySend(j, node, next, p);
      return;
    }
    // Out antrea-gw0: resolve the next hop's MAC (a local Pod, or a peer gateway answered by the ARP responder).
    const nextHop = node.parsed.podCIDR && route.cidr === node.parsed.podCIDR ? ip.dst : route.nextHop;
    const mac = this.resolve(node, { kind: 'host' }, nextHop);
    if (mac === undefined) {
      j.drop = { node: node.nodeName, reason: `host of ${node.nodeName}: ARP for ${formatIpv4(nextHop)} on antrea-gw0 got no reply` };
      j.trace?.push({ kind: 'host', node: node.nodeName, action: 'dropped', detail: j.drop.reason });
      return;
    }
    j.trace?.push({ kind: 'host', node: node.nodeName, action: 'routed', detail: `${describePacket(p)} via antrea-gw0` });
    j.queue.push({ at: 'bridge', node, inPort: GATEWAY_OFPORT, packet: { ...p, ethSrc: node.parsed.gwMAC, ethDst: mac } });
  }

  private underlaySend(j: Journey, from: SimNode, to: SimNode, p: Packet): void {
    this.underlay.routedPackets++;
    this.underlay.routedBytes += frameLength(p);
    j.trace?.push({ kind: 'host', node: from.nodeName, action: 'underlay', detail: `${describePacket(p)} to ${to.nodeName}` });
    j.queue.push({ at: 'host', node: to, packet: p, from: 'underlay' });
  }

  /**
   * Resolves an IP to a MAC for a Pod or the host: from the cache, else by an ARP request sent through the
   * pipeline (its own journey, not part of the caller's trace).
   */
  private resolve(node: SimNode, who: { kind: 'pod'; pod: PodStack } | { kind: 'host' }, ip: Ipv4): Mac | undefined {
    const cache = who.kind === 'pod' ? who.pod.neighbors : node.hostNeighbors;
    const hit = cache.get(ip);
    if (hit !== undefined) return hit;
    const mac = who.kind === 'pod' ? who.pod.mac : node.parsed.gwMAC;
    const spa = who.kind === 'pod' ? who.pod.ip : node.parsed.gwIP;
    const req: Packet = {
      ethSrc: mac, ethDst: BROADCAST_MAC, ethType: ETH_TYPE_ARP, payloadLength: 0,
      arp: { op: 1, sha: mac, spa, tha: 0, tpa: ip },
    };
    this.journey(false, { at: 'bridge', node, inPort: who.kind === 'pod' ? who.pod.ofPort : GATEWAY_OFPORT, packet: req });
    return cache.get(ip);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Traffic API

  private buildL4(protocol: SendRequest['protocol'], srcPort: number, dstPort: number, flags: number, icmpType = 8, seq = 0): Pick<Packet, 'l4'> & { proto: number } {
    if (protocol === 'TCP') return { proto: IPPROTO_TCP, l4: { kind: 'tcp', srcPort, dstPort, flags } };
    if (protocol === 'UDP') return { proto: IPPROTO_UDP, l4: { kind: 'udp', srcPort, dstPort } };
    return { proto: IPPROTO_ICMP, l4: { kind: 'icmp', type: icmpType, code: 0, id: srcPort, seq } };
  }

  /** Sends one IP packet from an endpoint; `l4` overrides the default transport header. */
  private sendPacket(from: Endpoint, dst: Ipv4, l4: Packet['l4'], proto: number, opts: { srcIP?: string; srcMAC?: string; payloadLength?: number; ttl?: number; trace: boolean; srcIPOverride?: Ipv4 }): { journey: Journey; packet?: Packet } {
    const ttl = opts.ttl ?? 64;
    const payloadLength = opts.payloadLength ?? 0;
    const trace = opts.trace;
    if ('pod' in from) {
      const found = this.findPod(from.pod);
      if (!found) throw new AntreaError('ERR_DATAPATH_UNKNOWN_POD', `no Pod ${from.pod} on any Node`, { field: 'from.pod' });
      const { node, pod } = found;
      const srcIp = opts.srcIP !== undefined ? parseIpv4(opts.srcIP) : (opts.srcIPOverride ?? pod.ip);
      const srcMac = opts.srcMAC !== undefined ? parseMac(opts.srcMAC) : pod.mac;
      const onLink = (dst & node.parsed.podCIDR.mask) >>> 0 === node.parsed.podCIDR.ip;
      const nextHop = onLink ? dst : node.parsed.gwIP;
      const dstMac = this.resolve(node, { kind: 'pod', pod }, nextHop);
      const packet: Packet = { ethSrc: srcMac, ethDst: dstMac ?? 0, ethType: ETH_TYPE_IP, payloadLength, ip: { src: srcIp, dst, proto, ttl, dscp: 0 }, ...(l4 ? { l4 } : {}) };
      if (dstMac === undefined) {
        const reason = `Pod ${pod.key}: ARP for ${formatIpv4(nextHop)} got no reply`;
        const j: Journey = { ...(trace ? { trace: [{ kind: 'drop', node: node.nodeName, reason }] } : {}), queue: [], deliveries: [], hops: 0, drop: { node: node.nodeName, reason } };
        return { journey: j, packet };
      }
      const j0: Journey = { ...(trace ? { trace: [] } : {}), sender: { node, pod }, queue: [{ at: 'bridge', node, inPort: pod.ofPort, packet }], deliveries: [], hops: 0 };
      const tapped = this.tapsFor(j0, node, pod.key, packet);
      j0.trace?.push({ kind: 'endpoint', node: node.nodeName, endpoint: pod.key, action: 'sent', detail: describePacket(packet) });
      this.run(j0);
      this.fireTaps(tapped, j0, packet);
      return { journey: j0, packet };
    }
    if ('node' in from) {
      const node = this.node(from.node);
      const route = node.route(dst);
      const srcIp = opts.srcIP !== undefined ? parseIpv4(opts.srcIP) : (opts.srcIPOverride ?? (route && route.via === 'gw' ? node.parsed.gwIP : node.parsed.nodeIP));
      const raw: Packet = { ethSrc: node.parsed.gwMAC, ethDst: 0, ethType: ETH_TYPE_IP, payloadLength, ip: { src: srcIp, dst, proto, ttl, dscp: 0 }, ...(l4 ? { l4 } : {}) };
      // OUTPUT hook: NodePortLocal and DNAT apply to the Node's own traffic too.
      const packet = node.hostNat.prerouting(raw, node.parsed.nodeIP).packet;
      const j: Journey = { ...(trace ? { trace: [] } : {}), queue: [], deliveries: [], hops: 0 };
      const tapped = this.tapsFor(j, node, undefined, packet);
      j.trace?.push({ kind: 'endpoint', node: node.nodeName, endpoint: 'host', action: 'sent', detail: describePacket(packet) });
      const pdst = packet.ip?.dst ?? dst;
      if (pdst === node.parsed.nodeIP || pdst === node.parsed.gwIP) j.deliveries.push({ delivery: { node: node.nodeName, host: true }, packet });
      else this.hostSend(j, node, packet, 'local');
      this.run(j);
      this.fireTaps(tapped, j, packet);
      return { journey: j, packet };
    }
    const via = this.node(from.via);
    const srcIp = opts.srcIPOverride ?? parseIpv4(from.external);
    const packet: Packet = { ethSrc: parseMac('02:ee:ee:ee:ee:ee'), ethDst: 0, ethType: ETH_TYPE_IP, payloadLength, ip: { src: srcIp, dst, proto, ttl, dscp: 0 }, ...(l4 ? { l4 } : {}) };
    const j: Journey = { ...(trace ? { trace: [] } : {}), queue: [{ at: 'host', node: via, packet, from: 'underlay' }], deliveries: [], hops: 0 };
    const tapped = this.tapsFor(j, via, undefined, packet);
    j.trace?.push({ kind: 'endpoint', node: via.nodeName, endpoint: `external ${from.external}`, action: 'sent', detail: describePacket(packet) });
    this.run(j);
    this.fireTaps(tapped, j, packet);
    return { journey: j, packet };
  }

  private result(j: Journey, srcPort: number, wantL4: 'tcp' | 'udp' | 'icmp' | undefined, proto: number): PacketResult {
    const hit = j.deliveries.find((d) => d.packet.ip?.proto === proto && (wantL4 === undefined || d.packet.l4?.kind === wantL4));
    const r: PacketResult = { delivered: hit !== undefined, srcPort, trace: j.trace ?? [], ...(j.rejected ? { rejected: j.rejected } : {}) };
    if (hit) {
      r.deliveredTo = hit.delivery;
      const p = hit.packet;
      const l4 = p.l4;
      r.received = {
        srcIP: formatIpv4(p.ip?.src ?? 0),
        dstIP: formatIpv4(p.ip?.dst ?? 0),
        srcPort: l4 && l4.kind !== 'icmp' ? l4.srcPort : l4?.kind === 'icmp' ? l4.id : 0,
        dstPort: l4 && l4.kind !== 'icmp' ? l4.dstPort : 0,
        ttl: p.ip?.ttl ?? 0,
      };
    } else {
      r.dropped = j.drop ?? { node: '-', reason: 'the packet reached no endpoint' };
    }
    return r;
  }

  async send(req: SendRequest): Promise<PacketResult> {
    return this.sendSync(req);
  }

  sendSync(req: SendRequest): PacketResult {
    const srcPort = req.srcPort ?? this.allocatePort();
    const flags = req.protocol === 'TCP' ? parseTcpFlags(req.tcpFlags ?? 'S') : 0;
    const { proto, l4 } = this.buildL4(req.protocol, srcPort, req.to.port ?? 0, flags);
    const { journey } = this.sendPacket(req.from, parseIpv4(req.to.ip), l4, proto, {
      ...(req.srcIP !== undefined ? { srcIP: req.srcIP } : {}),
      ...(req.srcMAC !== undefined ? { srcMAC: req.srcMAC } : {}),
      ...(req.payloadLength !== undefined ? { payloadLength: req.payloadLength } : {}),
      ...(req.ttl !== undefined ? { ttl: req.ttl } : {}),
      trace: req.trace ?? true,
    });
    return this.result(journey, srcPort, l4?.kind, proto);
  }

  async connect(req: ConnectRequest): Promise<ConnectionResult> {
    return this.connectSync(req);
  }

  /**
   * A connection: TCP handshake (SYN, SYN-ACK, ACK), `exchanges` request/reply pairs with payload, and an optional
   * FIN close; UDP and ICMP echo do request/reply pairs. Replies come from whoever received the request, addressed
   * to the source it saw, so conntrack sees both directions (and un-NATs the replies).
   */
  connectSync(req: ConnectRequest): ConnectionResult {
    const srcPort = req.srcPort ?? this.allocatePort();
    const dst = parseIpv4(req.to.ip);
    const dport = req.to.port ?? 0;
    const trace = req.trace ?? false;
    const payload = req.payloadLength ?? 100;
    const exchanges = req.exchanges ?? 1;
    const res: ConnectionResult = { established: false, srcPort, delivered: { request: 0, reply: 0 }, sent: { request: 0, reply: 0 }, bytes: { request: 0, reply: 0 }, packets: [] };
    let replyFrom: Endpoint | undefined;
    let replyTo: { ip: Ipv4; port: number } | undefined;
    let replySrc: { ip: Ipv4; port: number } | undefined;
    const proto = req.protocol;

    const request = (flags: number, len: number, seq: number): PacketResult => {
      const b = this.buildL4(proto, srcPort, dport, flags, 8, seq);
      const { journey, packet } = this.sendPacket(req.from, dst, b.l4, b.proto, { payloadLength: len, trace });
      const r = this.result(journey, srcPort, b.l4?.kind, b.proto);
      res.sent.request++;
      if (packet) res.bytes.request += ipLength(packet);
      res.packets.push(r);
      if (r.delivered) {
        res.delivered.request++;
        const d = r.deliveredTo as Delivery;
        const recv = r.received as NonNullable<PacketResult['received']>;
        replyFrom = d.pod ? { pod: d.pod } : d.host ? { node: d.node } : { external: recv.dstIP, via: d.node };
        replyTo = { ip: parseIpv4(recv.srcIP), port: recv.srcPort };
        replySrc = { ip: parseIpv4(recv.dstIP), port: recv.dstPort };
      } else res.failure ??= r;
      return r;
    };
    const reply = (flags: number, len: number, seq: number): PacketResult | undefined => {
      if (!replyFrom || !replyTo || !replySrc) return undefined;
      const b = proto === 'ICMP'
        ? { proto: IPPROTO_ICMP, l4: { kind: 'icmp' as const, type: 0, code: 0, id: replyTo.port, seq } }
        : this.buildL4(proto, replySrc.port, replyTo.port, flags);
      const { journey, packet } = this.sendPacket(replyFrom, replyTo.ip, b.l4, b.proto, { payloadLength: len, trace, srcIPOverride: replySrc.ip });
      const r = this.result(journey, replyTo.port, b.l4?.kind, b.proto);
      res.sent.reply++;
      if (packet) res.bytes.reply += ipLength(packet);
      res.packets.push(r);
      if (r.delivered) res.delivered.reply++;
      else res.failure ??= r;
      return r;
    };

    if (proto === 'TCP') {
      if (!request(TCP_SYN, 0, 0).delivered) return res;
      if (!reply(TCP_SYN | TCP_ACK, 0, 0)?.delivered) return res;
      if (!request(TCP_ACK, 0, 0).delivered) return res;
      res.established = true;
      for (let i = 0; i < exchanges; i++) {
        request(TCP_PSH | TCP_ACK, payload, i);
        reply(TCP_PSH | TCP_ACK, payload, i);
      }
      if (req.close) {
        request(TCP_FIN | TCP_ACK, 0, 0);
        reply(TCP_FIN | TCP_ACK, 0, 0);
        request(TCP_ACK, 0, 0);
      }
      return res;
    }
    for (let i = 0; i < exchanges; i++) {
      const q = request(0, payload, i);
      if (!q.delivered) return res;
      const r = reply(0, payload, i);
      if (r?.delivered) res.established = true;
    }
    return res;
  }
}

export function parseTcpFlags(text: string): number {
  let f = 0;
  for (const ch of text.toUpperCase()) {
    if (ch === 'S') f |= TCP_SYN;
    else if (ch === 'A') f |= TCP_ACK;
    else if (ch === 'F') f |= TCP_FIN;
    else if (ch === 'R') f |= TCP_RST;
    else if (ch === 'P') f |= TCP_PSH;
    else throw new AntreaError('ERR_DATAPATH_INVALID', `TCP flag "${ch}" is not one of S, A, F, R, P`, { field: 'tcpFlags' });
  }
  return f;
}

export { GLOBAL_VIRTUAL_MAC };
