/**
 * A packet's path through the OVS Nodes, by `ofproto/trace`: traced on the sender's Node, then (when it leaves
 * through antrea-tun0) on the Node owning the tunnel destination, with the outer addresses, the MACs and TTL the
 * sender's pipeline wrote and the DNAT it applied. Used to explain drops and for Traceflow, which turns the hops
 * into the simulator's TraceSteps (same flows, same rendering) and so reports the same observations.
 */
import type { SendRequest, TraceStep } from '../traffic.js';
import type { Flow } from '../pipeline/flow.js';
import { renderActions, renderMatch } from '../pipeline/render.js';
import { tableName } from '../pipeline/tables.js';
import { GATEWAY_OFPORT, GLOBAL_VIRTUAL_MAC, TUNNEL_OFPORT } from '../pipeline/fields.js';
import type { OvsNode } from './node.js';
import { parseTrace, type OvsTrace } from './trace.js';

export interface JourneySource {
  node: OvsNode;
  ip: string;
  mac: string;
  ofPort: number;
}

export interface NodeTrace {
  node: OvsNode;
  trace: OvsTrace;
}

/** Where a trace starts: the first bridge and the packet's metadata and headers as it enters table 0. */
export interface TraceStart {
  node: OvsNode;
  inPort: number;
  /** The tunnel metadata of a packet that came out of antrea-tun0. */
  tunnel?: { src: string; dst: string; id: bigint };
  /** Registers preset in the traced flow (`reg15=0x1`): lets a trace step over flows that match them clear. */
  regs?: string[];
  protocol: 'TCP' | 'UDP' | 'ICMP';
  dlSrc: string;
  dlDst: string;
  nwSrc: string;
  nwDst: string;
  ttl: number;
  srcPort: number;
  dstPort: number;
  /** TCP flags (default SYN). */
  tcpFlags?: number;
  /** ICMP type and code (default an echo request). */
  icmp?: { type: number; code: number };
}

export async function traceJourney(
  src: JourneySource,
  req: SendRequest & { srcPort: number },
  dstMac: string,
  nodeByIp: (ip: string) => OvsNode | undefined,
): Promise<NodeTrace[]> {
  return traceFrom({
    node: src.node, inPort: src.ofPort, protocol: req.protocol, dlSrc: req.srcMAC ?? src.mac, dlDst: dstMac, nwSrc: req.srcIP ?? src.ip,
    nwDst: req.to.ip, ttl: req.ttl ?? 64, srcPort: req.srcPort, dstPort: req.to.port ?? 0,
  }, nodeByIp);
}

/** Traces a packet from `start` on its bridge, then on the Node each tunnel output leads to (up to 4 bridges). */
export async function traceFrom(start: TraceStart, nodeByIp: (ip: string) => OvsNode | undefined): Promise<NodeTrace[]> {
  const proto = start.protocol === 'TCP' ? 'tcp' : start.protocol === 'UDP' ? 'udp' : 'icmp';
  let dstIp = start.nwDst;
  let dstPort = start.dstPort;
  const flags = `0x${(start.tcpFlags ?? 0x002).toString(16).padStart(3, '0')}`;
  // tp_src/tp_dst are aliases of tcp_src/tcp_dst in OVS's field names: name the protocol's own fields.
  const l4 = () => (start.protocol === 'ICMP'
    ? `icmp_type=${start.icmp?.type ?? 8},icmp_code=${start.icmp?.code ?? 0}`
    : `${proto}_src=${start.srcPort},${proto}_dst=${dstPort}${start.protocol === 'TCP' ? `,tcp_flags=${flags}` : ''}`);
  let node = start.node;
  const tun = start.tunnel ? `tun_id=0x${start.tunnel.id.toString(16)},tun_src=${start.tunnel.src},tun_dst=${start.tunnel.dst},` : '';
  const regs = start.regs?.length ? `${start.regs.join(',')},` : '';
  let flow = `in_port=${start.inPort},${tun}${regs}${proto},dl_src=${start.dlSrc},dl_dst=${start.dlDst},nw_src=${start.nwSrc},nw_dst=${dstIp},nw_ttl=${start.ttl},${l4()}`;
  const out: NodeTrace[] = [];
  for (let hop = 0; hop < 4; hop++) {
    const trace = parseTrace((await node.ovs.appctl(['ofproto/trace', 'br-int', flow])).stdout);
    out.push({ node, trace });
    const tunDst = /set_field:([0-9.]+)->tun_dst/.exec(trace.raw)?.[1];
    if (!(trace.outputs.includes(TUNNEL_OFPORT) && tunDst)) break;
    const peer = nodeByIp(tunDst);
    if (!peer) break;
    const nat = /nat\(dst=([0-9.]+)(?::(\d+))?\)/.exec(trace.raw);
    if (nat) {
      dstIp = nat[1] as string;
      if (nat[2]) dstPort = Number(nat[2]);
    }
    flow = `in_port=${TUNNEL_OFPORT},tun_id=0,tun_src=${node.config.nodeIP},tun_dst=${tunDst},${proto},dl_src=${node.config.gatewayMAC},dl_dst=${GLOBAL_VIRTUAL_MAC},nw_src=${start.nwSrc},nw_dst=${dstIp},nw_ttl=${start.ttl - 1},${l4()}`;
    node = peer;
  }
  return out;
}

/** The installed flow a trace hop matched, found by (table, priority, cookie) and the printed match. */
function flowOf(node: OvsNode, table: number, priority: number, cookie: bigint, match: string): Flow | undefined {
  const candidates = node.compiler.flows().filter((f) => f.table === table && f.priority === priority && f.cookie === cookie);
  return candidates.find((f) => renderMatch(f.match) === match) ?? (candidates.length === 1 ? candidates[0] : undefined);
}

/** The journey as the simulator's TraceSteps: flows rendered as the simulator renders them, DNATs, outputs, drops. */
export function journeySteps(journey: NodeTrace[], sent: { srcIP: string; dstIP: string }): TraceStep[] {
  const steps: TraceStep[] = [{ kind: 'endpoint', node: journey[0]?.node.nodeName ?? '-', endpoint: 'sender', action: 'sent', detail: `${sent.srcIP} > ${sent.dstIP}` }];
  for (const { node, trace } of journey) {
    const name = node.nodeName;
    for (const h of trace.hops) {
      const f = flowOf(node, h.table, h.priority, h.cookie, h.match);
      steps.push({
        kind: 'flow', node: name, table: h.table, tableName: tableName(h.table), priority: h.priority, cookie: `0x${h.cookie.toString(16)}`,
        match: f ? renderMatch(f.match) : h.match, actions: f ? renderActions(f.actions) : h.actions.join(','), depth: h.depth,
      });
      for (const line of h.actions) {
        const nat = /^ct\(.*nat\(dst=([0-9.:]+)\)/.exec(line);
        if (nat) steps.push({ kind: 'ct', node: name, zone: 0, state: 'new', commit: line.includes('commit'), nat: `dst=${nat[1]}` });
      }
    }
    if (trace.dropped) {
      steps.push({ kind: 'drop', node: name, ...(trace.lastTable !== undefined ? { table: trace.lastTable, tableName: tableName(trace.lastTable) } : {}), reason: `datapath actions: ${trace.datapathActions || 'drop'}` });
      continue;
    }
    const port = trace.outputs[trace.outputs.length - 1];
    if (port === undefined) continue;
    const pod = node.host.pluggedPods().find((p) => p.pod.ofPort === port);
    const portName = port === TUNNEL_OFPORT ? 'antrea-tun0' : port === GATEWAY_OFPORT ? 'antrea-gw0' : pod?.pod.interfaceName ?? `port${port}`;
    steps.push({ kind: 'output', node: name, port, portName });
    if (pod) steps.push({ kind: 'endpoint', node: name, endpoint: `${pod.pod.namespace}/${pod.pod.name}`, action: 'received', detail: '' });
  }
  return steps;
}
