/**
 * Traceflow over the simulator: the packet-out and packet-ins of `TraceflowDatapath` for the Nodes of one
 * SimCluster. A packet-out runs the packet through the simulated network with its trace on; the trace becomes
 * Antrea-style observations per Node, and each Node's share is handed to that Node's listeners, as each Node's
 * bridge would send its own packet-ins to its own agent.
 */
import { PROTOCOL_ICMP, PROTOCOL_TCP, PROTOCOL_UDP, type Observation } from '../../apis/crd/traceflow.js';
import type { SimCluster, TapPacket } from '../../datapath/sim/cluster.js';
import type { PacketResult, SendRequest } from '../../datapath/traffic.js';
import { AntreaError } from '../../util/errors.js';
import type { CapturedPacket, LiveTrafficFilter, TraceflowDatapath, TraceflowPacketIn } from '../nodedatapath.js';
import { PacketInRouter } from './packetins.js';

type Listener = (p: TraceflowPacketIn) => void;

const TERMINAL = new Set<Observation['action']>(['Delivered', 'Dropped', 'Rejected', 'ForwardedOutOfOverlay']);

class SimTraceflowHub {
  readonly #packetIns = new PacketInRouter();

  constructor(private readonly sim: SimCluster) {}

  subscribe(node: string, listener: Listener): () => void {
    return this.#packetIns.subscribe(node, listener);
  }

  async inject(node: string, req: SendRequest, tag: number): Promise<PacketResult> {
    if (!('pod' in req.from)) throw new AntreaError('ERR_TRACEFLOW_INJECT', 'a Traceflow packet is sent from a Pod', { field: 'from' });
    const found = this.sim.findPod(req.from.pod);
    if (!found) throw new AntreaError('ERR_TRACEFLOW_INJECT', `Pod ${req.from.pod} has no interface on any Node`, { field: 'from.pod' });
    if (found.node.nodeName !== node) {
      throw new AntreaError('ERR_TRACEFLOW_INJECT', `Pod ${req.from.pod} is on Node ${found.node.nodeName}, not on ${node}: a packet-out enters the local bridge only`);
    }
    // The tag belongs in the packet's DSCP bits, matched by per-tag flows on every Node. The simulator's send has no
    // field for it yet, so the packet-ins of this one send are tagged here instead (see the report on issue 4).
    const result = await this.sim.send({ ...req, trace: true });
    if (!result.delivered && !result.trace.some((s) => s.kind === 'flow' || s.kind === 'miss')) {
      // The simulated Pod resolves the next hop before sending (Antrea's packet-out sets the MAC itself): a packet
      // that never reached a bridge has no observation to report, so the request fails with the reason.
      throw new AntreaError('ERR_TRACEFLOW_INJECT', `the packet did not reach the pipeline: ${result.dropped?.reason ?? 'no reason given'}`);
    }
    // Packet-ins reach the agents after the packet-out returns, as they would from a bridge.
    setImmediate(() => this.#deliver(tag, result));
    return result;
  }

  /** With `droppedOnly`, only the Node that dropped the packet reports: Antrea's sampling sends only drops up. */
  #deliver(tag: number, result: PacketResult, droppedOnly = false): void {
    let byNode = observationsByNode(this.sim, result);
    if (droppedOnly) {
      const dropping = byNode.filter((r) => r.observations.some((o) => o.action === 'Dropped' || o.action === 'Rejected'));
      if (dropping.length > 0) byNode = dropping;
    }
    const packetIns = byNode.map(({ node: n, observations }) => ({ tag, node: n, observations }));
    this.#packetIns.emit(packetIns);
  }

  /** Live traffic: a simulator tap stands in for the per-tag sampling flows Antrea installs. */
  watch(filter: LiveTrafficFilter, tag: number, onCapture: (p: CapturedPacket) => Promise<void>): () => void {
    let done = false;
    const untap = this.sim.tap({
      match: (pkt) => !done && matchesFilter(filter, pkt),
      onPacket: (result, pkt) => {
        // droppedOnly: a delivered packet is not the one wanted; the tap stays for the next.
        if (done || (filter.droppedOnly && result.delivered)) return;
        done = true;
        untap();
        // The capture is written before the packet-ins, whose results can end the Traceflow.
        void onCapture(capturedPacket(pkt))
          .catch(() => undefined)
          .then(() => this.#deliver(tag, result, filter.droppedOnly === true));
      },
    });
    return () => {
      done = true;
      untap();
    };
  }
}

export function matchesFilter(f: LiveTrafficFilter, p: TapPacket): boolean {
  return (
    (f.node === undefined || f.node === p.node) &&
    (f.fromPod === undefined || f.fromPod === p.fromPod) &&
    (f.srcIP === undefined || f.srcIP === p.srcIP) &&
    (f.dstIP === undefined || f.dstIP === p.dstIP) &&
    (f.proto === undefined || f.proto === p.proto) &&
    (f.srcPort === undefined || f.srcPort === p.srcPort) &&
    (f.dstPort === undefined || f.dstPort === p.dstPort)
  );
}

/** Traceflow's `capturedPacket` for a sampled packet. */
export function capturedPacket(p: TapPacket): CapturedPacket {
  const out: CapturedPacket = { srcIP: p.srcIP, dstIP: p.dstIP, length: p.length, ipHeader: { protocol: p.proto, ttl: p.ttl } };
  if (p.proto === PROTOCOL_TCP) out.transportHeader = { tcp: { srcPort: p.srcPort, dstPort: p.dstPort, ...(p.tcpFlags !== undefined ? { flags: p.tcpFlags } : {}) } };
  else if (p.proto === PROTOCOL_UDP) out.transportHeader = { udp: { srcPort: p.srcPort, dstPort: p.dstPort } };
  else if (p.proto === PROTOCOL_ICMP && p.icmp) out.transportHeader = { icmp: { id: p.icmp.id, sequence: p.icmp.seq } };
  return out;
}

/**
 * One observation list per Node (a Node the packet crossed twice gets both visits, in order). A drop outside the
 * pipeline (a Pod or host stack refusing the packet) has no packet-in in Antrea; here it is reported as Dropped on
 * the Node where it happened, so the trace ends with where the packet stopped instead of timing out.
 */
export function observationsByNode(sim: SimCluster, result: PacketResult): { node: string; observations: Observation[] }[] {
  const out = new Map<string, Observation[]>();
  for (const r of sim.traceflow(result)) out.set(r.node, [...(out.get(r.node) ?? []), ...r.observations]);
  const ended = [...out.values()].some((obs) => obs.some((o) => TERMINAL.has(o.action)));
  const drop = result.dropped;
  if (!result.delivered && drop && !ended && drop.node !== '-') {
    const obs = out.get(drop.node) ?? [];
    obs.push({ component: 'Forwarding', componentInfo: drop.tableName ?? 'HostNetwork', action: 'Dropped' });
    out.set(drop.node, obs);
  }
  return [...out].map(([node, observations]) => ({ node, observations }));
}

const hubs = new WeakMap<SimCluster, SimTraceflowHub>();

/** The Traceflow side of one simulated Node's datapath; Nodes of one SimCluster share packet-in delivery. */
export function simTraceflowDatapath(sim: SimCluster, nodeName: string): TraceflowDatapath {
  let hub = hubs.get(sim);
  if (!hub) hubs.set(sim, (hub = new SimTraceflowHub(sim)));
  const h = hub;
  return {
    inject: (req, tag) => h.inject(nodeName, req, tag),
    onPacketIn: (listener) => h.subscribe(nodeName, listener),
    watch: (filter, tag, onCapture) => h.watch(filter, tag, onCapture),
  };
}
