/**
 * OvsCluster: the DatapathExecutor on real Open vSwitch. Each Node is a network namespace with its own OVS
 * (OvsNode), the Nodes share an underlay namespace (a Linux bridge), each Pod is a namespace behind a veth. send()
 * and connect() open real sockets inside the sender's namespace (pod-helper.mjs) and report what the receivers'
 * kernels saw, from per-namespace nftables accounting (acct.ts). A packet that did not arrive is explained with
 * `ovs-appctl ofproto/trace` of the same packet, followed through the tunnel to the peer Node.
 *
 * What real packets cannot tell, compared with the simulator (marked where set): `trace` holds the OVS trace of the
 * first packet only when a drop is explained (no per-hop TraceSteps); `packets` holds one PacketResult per
 * direction (request, reply), aggregated from the accounting, not one per packet; spoofed sends (srcIP/srcMAC) are
 * crafted frames injected at the Pod's OF port with `ovs-ofctl packet-out`, because a socket cannot spoof.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeConfig, PodInterface } from '../types.js';
import type { ConnectRequest, ConnectionResult, ConntrackEntry, DatapathExecutor, Delivery, DropInfo, Endpoint, LiveSampleFilter, PacketResult, SendRequest, TraceStep } from '../traffic.js';
import { AntreaError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { GATEWAY_OFPORT } from '../pipeline/fields.js';
import { Table, tableName } from '../pipeline/tables.js';
import { OvsNode } from './node.js';
import type { RejectRecord } from './rejecter.js';
import { addNetns, cleanupStale, delNetns, ipIn, ownerTag, runRoot, txOff } from './netns.js';
import { installAccounting, readAccounting, readAnswers, type AcctEntry } from './acct.js';
import { PodHelper } from './helper.js';
import { parseConntrack } from './conntrack.js';
import { describeDrop } from './trace.js';
import { journeySteps, traceFrom, traceJourney } from './journey.js';
import type { SampleOptions, SampledPacket } from './sampler.js';
import { SampledRegMark } from '../pipeline/fields.js';
import { traceflowObservations, type NodeResult } from '../sim/traceflow.js';
import { buildFrame } from './frame.js';
import { ipv4 } from './validate.js';

let clusterSeq = 0;

export interface OvsClusterOptions {
  logger?: Logger;
}

interface Source {
  node: OvsNode;
  netns: string;
  ip: string;
  mac: string;
  ofPort: number;
  label: Endpoint;
}

export class OvsCluster implements DatapathExecutor {
  readonly name = 'ovs';
  readonly tag: string;
  readonly underlayNetns: string;
  readonly dir: string;
  private readonly nodes = new Map<string, OvsNode>();
  private readonly nodeIndex = new Map<string, number>();
  private readonly helpers = new Map<string, PodHelper>();
  private readonly log: Logger;
  /** Hosts outside the cluster on the underlay: IP → namespace. */
  private readonly externals = new Map<string, string>();
  private nextPort = 33000;
  private closed = false;

  private constructor(opts: OvsClusterOptions) {
    this.tag = `ats-${ownerTag()}-${++clusterSeq}`;
    this.underlayNetns = `${this.tag}-ul`;
    this.dir = join(runRoot(), this.tag);
    this.log = opts.logger ?? silentLogger;
  }

  static async create(opts: OvsClusterOptions = {}): Promise<OvsCluster> {
    await cleanupStale();
    const c = new OvsCluster(opts);
    mkdirSync(c.dir, { recursive: true });
    await addNetns(c.underlayNetns);
    await ipIn(c.underlayNetns, ['link', 'add', 'ul-br', 'type', 'bridge']);
    await ipIn(c.underlayNetns, ['link', 'set', 'ul-br', 'up']);
    return c;
  }

  async addNode(cfg: NodeConfig): Promise<OvsNode> {
    if (this.nodes.has(cfg.nodeName)) throw new AntreaError('ERR_DATAPATH_INVALID', `Node ${cfg.nodeName} already exists`, { field: 'nodeName' });
    const i = this.nodeIndex.size + 1;
    this.nodeIndex.set(cfg.nodeName, i);
    const netns = `${this.tag}-n${i}`;
    await addNetns(netns);
    await installAccounting(netns);
    const node = await this.openNode(cfg.nodeName, false);
    await node.setNodeConfig(cfg);
    return node;
  }

  private async openNode(name: string, resync: boolean): Promise<OvsNode> {
    const i = this.nodeIndex.get(name);
    if (i === undefined) throw new AntreaError('ERR_DATAPATH_UNKNOWN_NODE', `no Node named ${name}`, { field: 'node' });
    // A restarted agent takes over the Node's controller socket from the instance it replaces.
    await this.nodes.get(name)?.detach();
    const node = await OvsNode.open(name, {
      netns: `${this.tag}-n${i}`,
      dir: join(this.dir, `n${i}`),
      underlay: { netns: this.underlayNetns, link: `n${i}`, prefix: 24 },
      resync,
      logger: this.log.child({ node: name }),
    });
    this.nodes.set(name, node);
    return node;
  }

  /**
   * A host outside the cluster: a namespace on the underlay bridge with `ip` on the Node network. It answers
   * TCP/UDP (echo) and ping, and is where Pod traffic leaving the cluster (masquerade, Egress) can be observed.
   */
  async addExternalHost(ip: string): Promise<void> {
    const netns = `${this.tag}-x${this.externals.size + 1}`;
    await addNetns(netns);
    const link = `x${this.externals.size + 1}`;
    await ipIn(this.underlayNetns, ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await ipIn(this.underlayNetns, ['link', 'set', link, 'master', 'ul-br', 'up']);
    await ipIn(netns, ['addr', 'add', `${ipv4(ip)}/24`, 'dev', 'eth0']);
    await ipIn(netns, ['link', 'set', 'eth0', 'up']);
    // Its frames cross br-phy in OVS's userspace datapath: partial checksums would make the Node's conntrack mark
    // the replies invalid (no un-masquerade), as for Pods.
    await txOff(netns, 'eth0');
    await installAccounting(netns);
    this.externals.set(ip, netns);
  }

  /**
   * An agent restart: a new OvsNode over the Node's running OVS, in resync mode (see OvsNode). The caller
   * re-publishes the desired state and then calls `finishResync()`.
   */
  async restartNode(name: string): Promise<OvsNode> {
    return this.openNode(name, true);
  }

  node(name: string): OvsNode {
    const n = this.nodes.get(name);
    if (!n) throw new AntreaError('ERR_DATAPATH_UNKNOWN_NODE', `no Node named ${name}`, { field: 'node' });
    return n;
  }

  nodeList(): OvsNode[] {
    return [...this.nodes.values()];
  }

  async conntrack(nodeName: string): Promise<ConntrackEntry[]> {
    const { stdout } = await this.node(nodeName).ovs.appctl(['dpctl/dump-conntrack', '-s']);
    return parseConntrack(stdout);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.helpers.values()) h.stop();
    this.helpers.clear();
    // Best effort per step: one failing teardown step must not leave the other namespaces and daemons behind.
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const n of this.nodes.values()) {
      await step(() => n.stop());
      for (const p of n.host.pluggedPods()) await step(() => delNetns(p.netns));
      await step(() => delNetns(n.netns));
    }
    for (const ns of this.externals.values()) await step(() => delNetns(ns));
    await step(() => delNetns(this.underlayNetns));
    await step(() => rmSync(this.dir, { recursive: true, force: true }));
    if (errors.length) this.log.warn('OVS cluster teardown had errors', { cluster: this.tag, errors: errors.map(String) });
  }

  // -------------------------------------------------------------------------------------------------------
  // Traffic

  private helper(netns: string): PodHelper {
    let h = this.helpers.get(netns);
    if (!h) {
      h = new PodHelper(netns);
      this.helpers.set(netns, h);
    }
    return h;
  }

  private allocatePort(): number {
    const p = this.nextPort++;
    if (this.nextPort > 60999) this.nextPort = 33000;
    return p;
  }

  private findPod(key: string): { node: OvsNode; pod: PodInterface; netns: string } | undefined {
    for (const node of this.nodes.values()) {
      const p = node.host.plugged(key);
      if (p) return { node, pod: p.pod, netns: p.netns };
    }
    return undefined;
  }

  private source(from: Endpoint): Source {
    if ('pod' in from) {
      const f = this.findPod(from.pod);
      if (!f) throw new AntreaError('ERR_DATAPATH_UNKNOWN_POD', `no Pod ${from.pod} on any Node`, { field: 'from.pod' });
      return { node: f.node, netns: f.netns, ip: f.pod.ips[0] as string, mac: f.pod.mac, ofPort: f.pod.ofPort, label: from };
    }
    if ('node' in from) {
      const node = this.node(from.node);
      return { node, netns: node.netns, ip: node.config.gatewayIP, mac: node.config.gatewayMAC, ofPort: GATEWAY_OFPORT, label: from };
    }
    throw new AntreaError('ERR_DATAPATH_UNSUPPORTED', 'the OVS executor has no external hosts yet', { field: 'from' });
  }

  /** Every namespace that may receive: Pods and Node hosts, with who they are. */
  private receivers(): Array<{ netns: string; node: string; pod?: string; external?: boolean }> {
    // An external host is not on a Node: its deliveries name the pseudo-node "underlay".
    const out: Array<{ netns: string; node: string; pod?: string; external?: boolean }> = [...this.externals.values()].map((netns) => ({ netns, node: 'underlay', external: true }));
    for (const n of this.nodes.values()) {
      out.push({ netns: n.netns, node: n.nodeName });
      for (const p of n.host.pluggedPods()) out.push({ netns: p.netns, node: n.nodeName, pod: `${p.pod.namespace}/${p.pod.name}` });
    }
    return out;
  }

  /** Opens echo servers where a TCP/UDP request to ip:port can land: the Pod with that IP, or a Service's Endpoints. */
  private async ensureListeners(protocol: string, ip: string, port: number): Promise<void> {
    if (protocol === 'ICMP') return;
    const ext = this.externals.get(ip);
    if (ext) await this.helper(ext).call({ op: 'listen', proto: protocol, port });
    const targets: Array<{ ip: string; port: number }> = [{ ip, port }];
    for (const n of this.nodes.values()) {
      for (const s of n.services.values()) {
        if (s.protocol === protocol && s.clusterIP === ip && s.port === port) for (const e of s.endpoints) targets.push({ ip: e.ip, port: e.port });
      }
    }
    for (const n of this.nodes.values()) {
      // NodePortLocal: the Node IP and port lead to a Pod's port; a Node's own IPs are served by its host.
      if (n.config.nodeIP === ip || n.config.gatewayIP === ip) {
        for (const m of n.nat.mappings()) if (m.protocol === protocol && m.nodePort === port) targets.push({ ip: m.podIP, port: m.podPort });
        await this.helper(n.netns).call({ op: 'listen', proto: protocol, port });
      }
    }
    for (const t of targets) {
      for (const n of this.nodes.values()) {
        for (const p of n.host.pluggedPods()) {
          if (p.pod.ips.includes(t.ip)) await this.helper(p.netns).call({ op: 'listen', proto: protocol, port: t.port });
        }
      }
    }
  }

  private async accounting(): Promise<Array<{ who: { netns: string; node: string; pod?: string; external?: boolean }; entries: AcctEntry[] }>> {
    return Promise.all(this.receivers().map(async (who) => ({ who, entries: await readAccounting(who.netns).catch(() => []) })));
  }

  async send(req: SendRequest): Promise<PacketResult> {
    const since = Date.now();
    const src = this.source(req.from);
    const srcPort = req.srcPort ?? this.allocatePort();
    const spoofed = req.srcIP !== undefined || req.srcMAC !== undefined || (req.tcpFlags !== undefined && req.tcpFlags.toUpperCase() !== 'S') || req.ttl !== undefined;
    const port = req.to.port ?? 0;
    if (spoofed) {
      // A socket cannot spoof: craft the frame and inject it at the sender's OF port (Traceflow does the same).
      const frame = buildFrame({
        srcMac: req.srcMAC ?? src.mac, dstMac: await this.nextHopMac(src, req.to.ip),
        srcIp: req.srcIP ?? src.ip, dstIp: req.to.ip, protocol: req.protocol, srcPort, dstPort: port,
        ttl: req.ttl ?? 64, tcpFlags: req.tcpFlags ?? 'S', payloadLength: req.payloadLength ?? 0,
      });
      await src.node.ovs.ofctlPlain('packet-out', 'br-int', [`in_port=${src.ofPort},packet=${frame},actions=resubmit(,0)`]);
      await sleep(150);
    } else {
      await this.helper(src.netns).call({
        op: 'connect', proto: req.protocol, ip: req.to.ip, port, srcPort, exchanges: 1, payload: req.payloadLength ?? 16,
        timeoutMs: 400, synOnly: true, oneWay: true, close: true,
      });
      await sleep(50);
    }
    const acct = await this.accounting();
    const ip = req.srcIP ?? src.ip;
    const hit = findRequest(acct, req.protocol, srcPort, ip, req.to.ip, src.netns);
    const r: PacketResult = { delivered: hit !== undefined, srcPort, trace: [] };
    if (hit) {
      r.deliveredTo = deliveredTo(hit.who);
      r.received = { srcIP: hit.e.src, dstIP: hit.e.dst, srcPort: hit.e.sport, dstPort: hit.e.dport, ttl: hit.e.ttl };
    } else {
      r.dropped = await this.explain(src, { ...req, srcPort });
      await this.reportReject(r, src, req.protocol, req.srcIP ?? src.ip, srcPort, req.to.ip, since);
    }
    return r;
  }

  async connect(req: ConnectRequest): Promise<ConnectionResult> {
    const since = Date.now();
    const src = this.source(req.from);
    const srcPort = req.srcPort ?? this.allocatePort();
    const port = req.to.port ?? 0;
    const payload = req.payloadLength ?? 100;
    await this.ensureListeners(req.protocol, req.to.ip, port);
    const reply = await this.helper(src.netns).call({
      op: 'connect', proto: req.protocol, ip: req.to.ip, port, srcPort, exchanges: req.exchanges ?? 1,
      payload, close: req.close ?? false, timeoutMs: 1500,
    });
    // Let delayed ACKs (40 ms in Linux) go out before counting.
    if (req.protocol === 'TCP') await sleep(120);
    const acct = await this.accounting();
    const mine = acct.find((a) => a.who.netns === src.netns)?.entries ?? [];
    const sentReq = mine.filter((e) => e.dir === 'tx' && e.proto === req.protocol && e.sport === srcPort);
    const gotReply = mine.filter((e) => e.dir === 'rx' && e.proto === req.protocol && (req.protocol === 'ICMP' ? e.sport === srcPort && e.src !== src.ip : e.dport === srcPort));
    const hit = findRequest(acct, req.protocol, srcPort, src.ip, req.to.ip, src.netns);
    const server = hit ? acct.find((a) => a.who.netns === hit.who.netns)?.entries ?? [] : [];
    const serverRx = server.filter((e) => e.dir === 'rx' && e.proto === req.protocol && e.sport === srcPort && (req.protocol !== 'ICMP' || e.dst !== src.ip));
    const serverTx = server.filter((e) => e.dir === 'tx' && e.proto === req.protocol && (req.protocol === 'ICMP' ? e.sport === srcPort : e.dport === srcPort));
    const sum = (es: AcctEntry[], k: 'packets' | 'bytes') => es.reduce((n, e) => n + e[k], 0);
    const res: ConnectionResult = {
      established: reply.established === true,
      srcPort,
      // Aggregated from the accounting of the sender's and receiver's namespaces (not per packet).
      delivered: { request: sum(serverRx, 'packets'), reply: sum(gotReply, 'packets') },
      sent: { request: sum(sentReq, 'packets'), reply: sum(serverTx, 'packets') },
      bytes: { request: sum(sentReq, 'bytes'), reply: sum(serverTx, 'bytes') },
      packets: [],
    };
    const first: PacketResult = { delivered: hit !== undefined, srcPort, trace: [] };
    if (hit) {
      first.deliveredTo = deliveredTo(hit.who);
      first.received = { srcIP: hit.e.src, dstIP: hit.e.dst, srcPort: hit.e.sport, dstPort: hit.e.dport, ttl: hit.e.ttl };
    } else {
      first.dropped = await this.explain(src, { from: req.from, to: req.to, protocol: req.protocol, srcPort });
      await this.reportReject(first, src, req.protocol, src.ip, srcPort, req.to.ip, since);
      res.failure = first;
    }
    res.packets.push(first);
    const r0 = gotReply[0];
    if (hit) {
      const back: PacketResult = { delivered: r0 !== undefined, srcPort, trace: [] };
      if (r0) {
        back.deliveredTo = { node: src.node.nodeName, ...('pod' in src.label ? { pod: src.label.pod } : { host: true }) };
        back.received = { srcIP: r0.src, dstIP: r0.dst, srcPort: r0.sport, dstPort: r0.dport, ttl: r0.ttl };
      } else {
        back.dropped = { node: hit.who.node, reason: 'the reply did not reach the sender' };
        res.failure ??= back;
      }
      res.packets.push(back);
    }
    return res;
  }

  /**
   * More exchanges on a TCP connection that connect() left open (same socket and source port): proves an
   * established connection survives a datapath change such as an agent restart. Returns the exchanges completed.
   */
  async exchangeOn(from: Endpoint, srcPort: number, exchanges = 1, payloadLength = 100): Promise<number> {
    const src = this.source(from);
    const r = await this.helper(src.netns).call({ op: 'again', srcPort, exchanges, payload: payloadLength, timeoutMs: 3000 });
    return r.exchanges ?? 0;
  }

  /** The MAC a Pod or host would address: the peer Pod on the same subnet (OVS answers ARP), else the gateway. */
  private async nextHopMac(src: Source, dst: string): Promise<string> {
    for (const p of src.node.host.pluggedPods()) if (p.pod.ips.includes(dst)) return p.pod.mac;
    return src.node.config.gatewayMAC;
  }

  /**
   * Fills `rejected` (and says so in `dropped`) when a Node answered the packet for a Reject, as the simulator does:
   * which Node's agent answered (its packet-in records), with what, and whether the answer reached the sender (the
   * sender's accounting of received resets and ICMP errors, from the address it sent to).
   */
  private async reportReject(r: PacketResult, src: Source, protocol: SendRequest['protocol'], srcIp: string, srcPort: number, dstIp: string, since: number): Promise<void> {
    const proto = protocol === 'TCP' ? 6 : protocol === 'UDP' ? 17 : 1;
    let hit: { node: OvsNode; rec: RejectRecord } | undefined;
    for (const node of this.nodes.values()) {
      const rec = node.rejects(since).find((x) => x.protocol === proto && x.src === srcIp && x.srcPort === srcPort);
      if (rec) hit = { node, rec };
    }
    if (!hit) return;
    const { node, rec } = hit;
    const answers = await readAnswers(src.netns, protocol).catch(() => []);
    // Only an answer from the address the sender used counts: from anywhere else its socket would not take it.
    const seen = answers.some((a) => a.reply === rec.reply && a.src === dstIp && a.dst === srcIp && a.sport === srcPort && a.packets > 0);
    r.rejected = { node: node.nodeName, reply: rec.reply, deliveredToSender: seen };
    const noEndpoints = rec.kind === 'no-endpoints';
    const answer = rec.reply === 'tcp-rst' ? 'TCP RST+ACK' : `ICMP destination unreachable (${noEndpoints ? 'port unreachable' : 'admin prohibited'})`;
    const why = noEndpoints ? `rejected: the Service ${rec.dst}${proto !== 1 ? `:${rec.dstPort}` : ''} has no endpoints` : 'rejected by a Reject rule';
    // A Reject rule's flow packets-in and goes on to its direction's metric table, whose deny flow drops the packet
    // (where the simulator reports the drop); a Service without Endpoints ends in ServiceLB.
    const table = noEndpoints ? Table.ServiceLB : rec.table <= Table.EgressMetric ? Table.EgressMetric : Table.IngressMetric;
    r.dropped = { node: node.nodeName, table, tableName: tableName(table), reason: `${why}: ${answer} sent back to ${rec.src}${rec.sent ? '' : ' (not sent: no switch connected to the controller)'}` };
  }

  /** Traces the packet through OVS on the sender's Node (and through the tunnel on the peer) to say where it died. */
  private async explain(src: Source, req: SendRequest & { srcPort: number }): Promise<DropInfo> {
    const journey = await traceJourney(src, req, await this.nextHopMac(src, req.to.ip), (ip) => this.nodeByIp(ip));
    const last = journey[journey.length - 1];
    if (!last) return { node: src.node.nodeName, reason: 'no trace' };
    const t = last.trace;
    if (t.dropped) {
      return { node: last.node.nodeName, ...(t.lastTable !== undefined ? { table: t.lastTable, tableName: tableName(t.lastTable) } : {}), reason: `ofproto/trace: ${describeDrop(t)}` };
    }
    return { node: last.node.nodeName, reason: `OVS forwarded it (${t.datapathActions}) but no receiver saw it` };
  }

  private nodeByIp(ip: string): OvsNode | undefined {
    return [...this.nodes.values()].find((n) => n.config.nodeIP === ip);
  }

  /**
   * Traceflow on this datapath: the packet traced with ofproto/trace across the Nodes, turned into the simulator's
   * TraceSteps and then into the same observations (sim/traceflow.ts) the simulator reports.
   */
  async traceflow(req: SendRequest): Promise<NodeResult[]> {
    const src = this.source(req.from);
    const r = { ...req, srcPort: req.srcPort ?? this.allocatePort() };
    const journey = await traceJourney(src, r, await this.nextHopMac(src, req.to.ip), (ip) => this.nodeByIp(ip));
    const steps = journeySteps(journey, { srcIP: req.srcIP ?? src.ip, dstIP: req.to.ip });
    return this.observations(steps);
  }

  /**
   * Live-traffic Traceflow: samples, on Node `nodeName`, the new connections matching `filter` (sampling.ts), and
   * hands each sampled packet to `onPacket`. Resolves once OVS holds the sampling flows; returns their removal.
   */
  async sampleLive(nodeName: string, filter: LiveSampleFilter, tag: number, opts: SampleOptions, onPacket: (p: SampledPacket) => void): Promise<() => Promise<void>> {
    const node = this.node(nodeName);
    let inPort: number | undefined;
    if (filter.fromPod !== undefined) {
      const p = node.host.plugged(filter.fromPod);
      if (!p) throw new AntreaError('ERR_DATAPATH_UNKNOWN_POD', `no Pod ${filter.fromPod} on Node ${nodeName}`, { field: 'fromPod' });
      inPort = p.pod.ofPort;
    }
    const { fromPod: _fromPod, ...rest } = filter;
    return node.samplers.start({ ...rest, ...(inPort !== undefined ? { inPort } : {}) }, tag, opts, onPacket);
  }

  /**
   * The observations of a sampled packet: the frame's own headers traced with ofproto/trace from the port it came in
   * by (with its tunnel metadata), followed through the tunnel as traceflow() does. The trace starts with
   * SampledRegMark set, so it steps over the sampling flow exactly as the sampled packet did. Traced as a flow, not as
   * the frame's bytes: with a packet, ofproto/trace runs side effects such as learn actions. `sender` says whether
   * the Node sampled for a source Pod (Antrea's sender, SpoofGuard/Forwarded) or as a receiver (Forwarding/Received).
   */
  async traceSampled(nodeName: string, s: SampledPacket, sender: boolean): Promise<NodeResult[]> {
    const h = s.headers;
    const protocol = h.protocol === 6 ? 'TCP' : h.protocol === 17 ? 'UDP' : h.protocol === 1 ? 'ICMP' : undefined;
    if (!protocol) throw new AntreaError('ERR_TRACEFLOW_PROTOCOL', `the sampled packet has IP protocol ${h.protocol}, which Traceflow does not trace (1 ICMP, 6 TCP, 17 UDP)`);
    const journey = await traceFrom({
      node: this.node(nodeName), inPort: s.inPort, ...(s.tunnel ? { tunnel: s.tunnel } : {}), regs: [`${SampledRegMark.field.reg}=0x1`],
      protocol, dlSrc: h.dlSrc, dlDst: h.dlDst, nwSrc: h.srcIP, nwDst: h.dstIP, ttl: h.ttl, srcPort: h.srcPort ?? 0, dstPort: h.dstPort ?? 0,
      ...(h.tcpFlags !== undefined ? { tcpFlags: h.tcpFlags } : {}), ...(h.icmp ? { icmp: { type: h.icmp.type, code: h.icmp.code } } : {}),
    }, (ip) => this.nodeByIp(ip));
    const results = this.observations(journeySteps(journey, { srcIP: h.srcIP, dstIP: h.dstIP }));
    const first = results[0]?.observations[0];
    if (!sender && first?.component === 'SpoofGuard' && first.action === 'Forwarded') results[0]?.observations.splice(0, 1, { component: 'Forwarding', action: 'Received' });
    return results;
  }

  private observations(steps: TraceStep[]): NodeResult[] {
    return traceflowObservations(
      steps,
      (name) => {
        const n = this.node(name);
        return { encap: n.config.trafficEncapMode === 'encap', gatewayIP: n.config.gatewayIP };
      },
      (name, conjID) => this.node(name).compiler.policyRefOf(conjID),
      (name, identity) => this.node(name).compiler.policyRefsOfFlow(identity),
    );
  }
}

function deliveredTo(who: { node: string; pod?: string; external?: boolean }): Delivery {
  return { node: who.node, ...(who.pod ? { pod: who.pod } : who.external ? { external: true } : { host: true }) };
}

function findRequest(
  acct: Array<{ who: { netns: string; node: string; pod?: string; external?: boolean }; entries: AcctEntry[] }>,
  protocol: string, srcPort: number, srcIp: string, dstIp: string, senderNetns: string,
): { who: { netns: string; node: string; pod?: string; external?: boolean }; e: AcctEntry } | undefined {
  for (const a of acct) {
    for (const e of a.entries) {
      if (e.dir !== 'rx' || e.proto !== protocol || e.sport !== srcPort) continue;
      if (protocol === 'ICMP') {
        // Echo requests and replies share the id: the request is the one addressed to dstIp from someone else.
        if (e.dst !== dstIp || a.who.netns === senderNetns) continue;
      } else if (a.who.netns === senderNetns && e.src === dstIp) continue;
      void srcIp;
      return { who: a.who, e };
    }
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
