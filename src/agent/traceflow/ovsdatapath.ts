/**
 * Traceflow over Open vSwitch (`antrea local --datapath ovs`): the packet-out of `TraceflowDatapath` as
 * `ovs-appctl ofproto/trace` of the Traceflow's packet through the real bridges, Node after Node across the tunnel
 * (OvsCluster.traceflow). The trace runs the same flows a tagged packet-out would cross, and its steps become the
 * same observations the simulator reports; each Node's share goes to that Node's listeners, as each bridge would send
 * its own packet-ins to its own agent.
 *
 * Not modelled: the DSCP tag is not in the traced packet (ofproto/trace runs no per-tag flows), so the packet-ins are
 * tagged here; live traffic (`watch`) is absent, so live-traffic Traceflows on OVS fail saying the datapath cannot
 * sample it.
 */
import type { NodeResult } from '../../datapath/sim/traceflow.js';
import type { PacketResult, SendRequest } from '../../datapath/traffic.js';
import { AntreaError } from '../../util/errors.js';
import type { TraceflowDatapath, TraceflowPacketIn } from '../nodedatapath.js';
import { PacketInRouter } from './packetins.js';

/** What this needs of the OVS executor; structural, so the local cluster need not load the OVS modules to check. */
export interface OvsTracer {
  readonly name: string;
  traceflow(req: SendRequest): Promise<NodeResult[]>;
}

export function isOvsTracer(x: object): x is OvsTracer {
  return (x as { name?: unknown }).name === 'ovs' && typeof (x as { traceflow?: unknown }).traceflow === 'function';
}

type Listener = (p: TraceflowPacketIn) => void;

class OvsTraceflowHub {
  readonly #packetIns = new PacketInRouter();

  constructor(private readonly ovs: OvsTracer) {}

  subscribe(node: string, listener: Listener): () => void {
    return this.#packetIns.subscribe(node, listener);
  }

  async inject(node: string, req: SendRequest, tag: number): Promise<PacketResult> {
    if (!('pod' in req.from)) throw new AntreaError('ERR_TRACEFLOW_INJECT', 'a Traceflow packet is sent from a Pod', { field: 'from' });
    const results = await this.ovs.traceflow(req);
    const first = results[0];
    if (!first) throw new AntreaError('ERR_TRACEFLOW_INJECT', `ofproto/trace of the packet from ${req.from.pod} crossed no bridge`);
    if (first.node !== node) {
      throw new AntreaError('ERR_TRACEFLOW_INJECT', `Pod ${req.from.pod} is on Node ${first.node}, not on ${node}: a packet-out enters the local bridge only`);
    }
    // One packet-in per Node, a Node crossed twice reporting both visits in order (as the simulator's hub does).
    const byNode = new Map<string, NodeResult['observations']>();
    for (const r of results) byNode.set(r.node, [...(byNode.get(r.node) ?? []), ...r.observations]);
    const packetIns: TraceflowPacketIn[] = [...byNode].map(([n, observations]) => ({ tag, node: n, observations }));
    // Packet-ins reach the agents after the packet-out returns, as they would from a bridge.
    setImmediate(() => {
      this.#packetIns.emit(packetIns);
    });
    const last = results.at(-1)?.observations.at(-1);
    const delivered = last?.action === 'Delivered' || last?.action === 'ForwardedOutOfOverlay';
    // A trace moves no packet: the result says what the flows decided, with no per-hop steps or received headers.
    return {
      delivered,
      srcPort: req.srcPort ?? 0,
      trace: [],
      ...(delivered ? {} : { dropped: { node: results.at(-1)?.node ?? node, ...(last?.componentInfo ? { tableName: last.componentInfo } : {}), reason: `ofproto/trace: ${last?.action ?? 'no observation'}` } }),
    };
  }
}

const hubs = new WeakMap<OvsTracer, OvsTraceflowHub>();

/** The Traceflow side of one OVS Node's datapath; Nodes of one OvsCluster share packet-in delivery. */
export function ovsTraceflowDatapath(ovs: OvsTracer, nodeName: string): TraceflowDatapath {
  let hub = hubs.get(ovs);
  if (!hub) hubs.set(ovs, (hub = new OvsTraceflowHub(ovs)));
  const h = hub;
  return {
    inject: (req, tag) => h.inject(nodeName, req, tag),
    onPacketIn: (listener) => h.subscribe(nodeName, listener),
  };
}
