/**
 * Traceflow over the simulator: the packet-out and packet-ins of `TraceflowDatapath` for the Nodes of one
 * SimCluster. A packet-out runs the packet through the simulated network with its trace on; the trace becomes
 * Antrea-style observations per Node, and each Node's share is handed to that Node's listeners, as each Node's
 * bridge would send its own packet-ins to its own agent.
 */
import type { Observation } from '../../apis/crd/traceflow.js';
import type { SimCluster } from '../../datapath/sim/cluster.js';
import type { PacketResult, SendRequest } from '../../datapath/traffic.js';
import { AntreaError } from '../../util/errors.js';
import type { TraceflowDatapath, TraceflowPacketIn } from '../nodedatapath.js';

type Listener = (p: TraceflowPacketIn) => void;

const TERMINAL = new Set<Observation['action']>(['Delivered', 'Dropped', 'Rejected', 'ForwardedOutOfOverlay']);

class SimTraceflowHub {
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(private readonly sim: SimCluster) {}

  subscribe(node: string, listener: Listener): () => void {
    let set = this.#listeners.get(node);
    if (!set) this.#listeners.set(node, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
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
    const packetIns = observationsByNode(this.sim, result).map(({ node: n, observations }) => ({ tag, node: n, observations }));
    // Packet-ins reach the agents after the packet-out returns, as they would from a bridge.
    setImmediate(() => {
      for (const p of packetIns) for (const l of this.#listeners.get(p.node) ?? []) l(p);
    });
    return result;
  }
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
  };
}
