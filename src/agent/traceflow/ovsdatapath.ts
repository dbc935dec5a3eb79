/**
 * Traceflow over Open vSwitch (`antrea local --datapath ovs`): the packet-out of `TraceflowDatapath` as
 * `ovs-appctl ofproto/trace` of the Traceflow's packet through the real bridges, Node after Node across the tunnel
 * (OvsCluster.traceflow). The trace runs the same flows a tagged packet-out would cross, and its steps become the
 * same observations the simulator reports; each Node's share goes to that Node's listeners, as each bridge would send
 * its own packet-ins to its own agent.
 *
 * Live traffic (`watch`) samples real packets: the watching Node's bridge gets a sampling flow in ConntrackState
 * (`+new+trk` and the filter's 5-tuple, its own cookie; datapath/ovs/sampling.ts) that copies the first packet of a
 * matching new connection to the Node's OpenFlow controller and lets it go on. The packet-in removes the flow; the
 * captured frame's headers become `capturedPacket`, and the frame itself is traced with ofproto/trace from the port
 * it came in by (OvsCluster.traceSampled), across the tunnel, into the same per-Node observations. With droppedOnly
 * the flow stays and each sampled connection is traced until one is dropped (or rejected); the others are ignored.
 *
 * Not modelled: the DSCP tag is not in the traced or sampled packet (no per-tag flows on the other Nodes), so the
 * packet-ins are tagged here.
 */
import { PROTOCOL_ICMP, PROTOCOL_TCP, PROTOCOL_UDP } from '../../apis/crd/traceflow.js';
import type { LiveSampleFilter } from '../../datapath/traffic.js';
import type { SampleOptions, SampledPacket } from '../../datapath/ovs/sampler.js';
import type { SampledHeaders } from '../../datapath/ovs/sampling.js';
import type { NodeResult } from '../../datapath/sim/traceflow.js';
import type { PacketResult, SendRequest } from '../../datapath/traffic.js';
import { AntreaError, describeError } from '../../util/errors.js';
import { silentLogger, type Logger } from '../../util/log.js';
import type { CapturedPacket, LiveTrafficFilter, TraceflowDatapath, TraceflowPacketIn } from '../nodedatapath.js';
import { PacketInRouter } from './packetins.js';

/** What this needs of the OVS executor; structural, so the local cluster need not load the OVS modules to check. */
export interface OvsTracer {
  readonly name: string;
  traceflow(req: SendRequest): Promise<NodeResult[]>;
  /** Live traffic; both or neither. */
  sampleLive?(node: string, filter: LiveSampleFilter, tag: number, opts: SampleOptions, onPacket: (p: SampledPacket) => void): Promise<() => Promise<void>>;
  traceSampled?(node: string, s: SampledPacket, sender: boolean): Promise<NodeResult[]>;
}

/** The flows outlive the Traceflow's own timeout by the controller's 10 s check, then OVS drops them by itself. */
const HARD_TIMEOUT_MARGIN_S = 10;
/** droppedOnly: connections already found delivered, remembered so their further packet-ins are not traced again. */
const MAX_JUDGED = 1024;

export function isOvsTracer(x: object): x is OvsTracer {
  return (x as { name?: unknown }).name === 'ovs' && typeof (x as { traceflow?: unknown }).traceflow === 'function';
}

type Listener = (p: TraceflowPacketIn) => void;

class OvsTraceflowHub {
  readonly #packetIns = new PacketInRouter();

  constructor(private readonly ovs: OvsTracer, private readonly log: Logger) {}

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

  /**
   * Live traffic on Node `node` (see the module comment). Resolves once the sampling flow is in OVS; the returned
   * removal is idempotent and also runs by itself once a packet was captured.
   */
  async watch(node: string, filter: LiveTrafficFilter, tag: number, onCapture: (p: CapturedPacket) => Promise<void>): Promise<() => void> {
    const { sampleLive, traceSampled } = this.ovs;
    if (!sampleLive || !traceSampled) throw new AntreaError('ERR_TRACEFLOW_LIVE_UNSUPPORTED', 'this OVS executor cannot sample live traffic');
    if (filter.node !== undefined && filter.node !== node) throw new AntreaError('ERR_TRACEFLOW_LIVE_FILTER', `the live-traffic filter is for Node ${filter.node}, not ${node}`, { field: 'node' });
    const droppedOnly = filter.droppedOnly === true;
    const sender = filter.fromPod !== undefined;
    let done = false;
    let removal: (() => Promise<void>) | undefined;
    const remove = () => {
      done = true;
      const r = removal;
      removal = undefined;
      return r ? r().catch((err: unknown) => this.log.warn('could not remove a live-traffic sampling flow', { node, tag, error: describeError(err) })) : Promise.resolve();
    };
    const judged = new Set<string>();
    // One trace at a time, in arrival order: the first packet that qualifies is the one captured.
    let queue: Promise<void> = Promise.resolve();
    const onPacket = (s: SampledPacket) => {
      if (done) return;
      if (droppedOnly) {
        const key = connectionKey(s.headers);
        if (judged.has(key)) return;
        if (judged.size >= MAX_JUDGED) judged.clear();
        judged.add(key);
      }
      queue = queue.then(async () => {
        if (done) return;
        let results = await traceSampled.call(this.ovs, node, s, sender);
        if (droppedOnly) {
          // Only the Node that dropped it reports, as Antrea's droppedOnly sampling sends only drops up; a delivered
          // connection is not the one wanted, and the flow stays for the next.
          results = results.filter((r) => r.observations.some((o) => o.action === 'Dropped' || o.action === 'Rejected'));
          if (results.length === 0) return;
        }
        // Stopped (the Traceflow ended) while the packet was being traced.
        if (done) return;
        await remove();
        // The capture is written before the packet-ins, whose results can end the Traceflow.
        await onCapture(capturedFromHeaders(s.headers)).catch(() => undefined);
        this.#packetIns.emit(results.map((r) => ({ tag, node: r.node, observations: r.observations })));
      }).catch((err: unknown) => this.log.warn('a sampled live-traffic packet could not be traced', { node, tag, error: describeError(err) }));
    };
    const { node: _node, fromPod, droppedOnly: _d, timeoutSeconds, ...tuple } = filter;
    const opts: SampleOptions = { once: !droppedOnly, ...(timeoutSeconds !== undefined ? { hardTimeout: Math.min(65535, timeoutSeconds + HARD_TIMEOUT_MARGIN_S) } : {}) };
    removal = await sampleLive.call(this.ovs, node, { ...tuple, ...(fromPod !== undefined ? { fromPod } : {}) }, tag, opts, onPacket);
    if (done) await remove();
    return () => void remove();
  }
}

const hubs = new WeakMap<OvsTracer, OvsTraceflowHub>();

/** The Traceflow side of one OVS Node's datapath; Nodes of one OvsCluster share packet-in delivery. */
export function ovsTraceflowDatapath(ovs: OvsTracer, nodeName: string, logger: Logger = silentLogger): TraceflowDatapath {
  let hub = hubs.get(ovs);
  if (!hub) hubs.set(ovs, (hub = new OvsTraceflowHub(ovs, logger)));
  const h = hub;
  return {
    inject: (req, tag) => h.inject(nodeName, req, tag),
    onPacketIn: (listener) => h.subscribe(nodeName, listener),
    ...(ovs.sampleLive && ovs.traceSampled ? { watch: (filter: LiveTrafficFilter, tag: number, onCapture: (p: CapturedPacket) => Promise<void>) => h.watch(nodeName, filter, tag, onCapture) } : {}),
  };
}

/** Traceflow's `capturedPacket` for a sampled frame (the fields the simulator's capturedPacket() fills). */
export function capturedFromHeaders(h: SampledHeaders): CapturedPacket {
  const out: CapturedPacket = { srcIP: h.srcIP, dstIP: h.dstIP, length: h.length, ipHeader: { protocol: h.protocol, ttl: h.ttl } };
  if (h.protocol === PROTOCOL_TCP && h.srcPort !== undefined && h.dstPort !== undefined) {
    out.transportHeader = { tcp: { srcPort: h.srcPort, dstPort: h.dstPort, ...(h.tcpFlags !== undefined ? { flags: h.tcpFlags } : {}) } };
  } else if (h.protocol === PROTOCOL_UDP && h.srcPort !== undefined && h.dstPort !== undefined) {
    out.transportHeader = { udp: { srcPort: h.srcPort, dstPort: h.dstPort } };
  } else if (h.protocol === PROTOCOL_ICMP && h.icmp) {
    out.transportHeader = { icmp: { id: h.icmp.id, sequence: h.icmp.seq } };
  }
  return out;
}

/** The connection a sampled packet belongs to (droppedOnly judges each connection once). */
function connectionKey(h: SampledHeaders): string {
  return `${h.protocol}/${h.srcIP}:${h.srcPort ?? h.icmp?.id ?? 0}>${h.dstIP}:${h.dstPort ?? 0}`;
}
