/**
 * The agent's view of its Node's datapath: the `Datapath` feature modules publish to, plus what the agent reads
 * back (the Pod interfaces already there after a restart, conntrack for the flow exporter). An executor (the
 * simulator in `antrea local`, Open vSwitch on Linux) provides one per Node.
 */
import { createHash } from 'node:crypto';
import type { Node } from '../apis/core.js';
import type { AgentDerived, AgentConfig } from '../config/types.js';
import type { Datapath, NodeConfig, PodInterface } from '../datapath/types.js';
import type { ConntrackEntry, LiveSampleFilter, PacketResult, SendRequest } from '../datapath/traffic.js';
import type { Observation, TraceflowPacket } from '../apis/crd/traceflow.js';
import { DEFAULT_SERVICE_CIDR } from '../config/index.js';
import { AntreaError } from '../util/errors.js';
import { cidrAddress, formatIp, parseCidr } from '../util/ip.js';

export interface NodeDatapath {
  datapath: Datapath;
  /** The Pod interfaces the datapath holds (after an agent restart: those the previous run created). */
  pods(): Promise<PodInterface[]>;
  /** The Service frontends the datapath holds, by ServicePort key (after a restart: those the previous run installed). */
  serviceKeys(): Promise<string[]>;
  /** The IDs of the policy rules the datapath holds (after a restart: those the previous run installed). */
  policyRuleIDs(): Promise<string[]>;
  conntrack(): Promise<ConntrackEntry[]>;
  /**
   * NetworkPolicyStats: the counters of the policy rules the datapath holds, by rule ID, read from their metric flows
   * (sessions, packets, bytes since the rule was installed). Rules without counters yet may be absent.
   */
  policyRuleStats(): Promise<Map<string, RuleCounters>>;
  /** Traceflow's packet-out and packet-ins; absent when the executor cannot trace. */
  traceflow?: TraceflowDatapath;
}

/** One policy rule's traffic counters, as the datapath's metric flows count them. */
export interface RuleCounters {
  sessions: number;
  packets: number;
  bytes: number;
}

/** What one Node's pipeline did with a Traceflow-tagged packet: Antrea's agent builds this from its packet-ins. */
export interface TraceflowPacketIn {
  /** The dataplane tag the packet carried (its DSCP). */
  tag: number;
  node: string;
  observations: Observation[];
}

export interface TraceflowDatapath {
  /**
   * Antrea's packet-out: the packet enters this Node's pipeline from `req.from` (a Pod of this Node) tagged with
   * `tag`. Every Node it crosses, this one included, reports what it did through `onPacketIn`.
   */
  inject(req: SendRequest, tag: number): Promise<PacketResult>;
  /** Subscribes to this Node's Traceflow packet-ins; returns the unsubscribe. */
  onPacketIn(listener: (p: TraceflowPacketIn) => void): () => void;
  /**
   * Live traffic: samples the first packet sent from now on that matches `filter` (with `droppedOnly`, the first
   * that is dropped), as Antrea's live-traffic flows tag it with `tag`. `onCapture` gets the packet first; once its
   * promise settles, every Node the packet crossed reports through `onPacketIn` with `tag` (so the captured packet is
   * in the status before the results that can end the Traceflow). Returns the removal, or a promise of it that
   * settles once the datapath samples (Open vSwitch installs a flow first) and rejects when it cannot; the watch also
   * ends by itself after the first packet. Absent when the executor cannot sample traffic.
   */
  watch?(filter: LiveTrafficFilter, tag: number, onCapture: (p: CapturedPacket) => Promise<void>): (() => void) | Promise<() => void>;
}

/** A live-traffic Traceflow's sample, with where it enters and what it waits for. */
export interface LiveTrafficFilter extends LiveSampleFilter {
  /** The Node the packet enters first: the source Pod's, when there is one. */
  node?: string;
  droppedOnly?: boolean;
  /** The Traceflow's timeout: a datapath may expire what it installed for the watch by itself after it. */
  timeoutSeconds?: number;
}

/** The sampled packet, as Traceflow's `status.capturedPacket` reports it. */
export type CapturedPacket = TraceflowPacket;

/** Gives the agent of a Node its datapath, creating it on first use and handing back the same one on a restart. */
export type DatapathProvider = (cfg: NodeConfig) => Promise<NodeDatapath>;

/** A stable locally administered MAC derived from a name (the gateway's, per Node). */
export function stableMac(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  const bytes = [0x02 | ((h[0] as number) & 0xfc), h[1], h[2], h[3], h[4], h[5]] as number[];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The datapath's node config from the Node object and the agent's conf; problems are errors naming the setting. */
export function nodeConfigFor(node: Node, config: AgentConfig, derived: AgentDerived): NodeConfig {
  const name = node.metadata.name ?? '';
  const podCIDR = node.spec?.podCIDRs?.find((c) => !c.includes(':')) ?? node.spec?.podCIDR;
  if (!podCIDR) throw new AntreaError('ERR_NO_POD_CIDR', `Node ${name} has no IPv4 Pod CIDR`, { field: 'spec.podCIDR' });
  const nodeIP = node.status?.addresses?.find((a) => a.type === 'InternalIP' && !a.address.includes(':'))?.address;
  if (!nodeIP) throw new AntreaError('ERR_NO_NODE_IP', `Node ${name} has no IPv4 InternalIP address`, { field: 'status.addresses' });
  const mode = derived.trafficMode;
  if (mode !== 'encap' && mode !== 'noEncap') {
    throw new AntreaError('ERR_UNSUPPORTED_TRAFFIC_MODE', `trafficEncapMode ${config.trafficEncapMode} is not supported by the antrea-ts datapath (encap or noEncap)`, {
      field: 'trafficEncapMode',
    });
  }
  const tunnelType = config.tunnelType.toLowerCase();
  if (tunnelType !== 'geneve' && tunnelType !== 'vxlan') {
    throw new AntreaError('ERR_UNSUPPORTED_TUNNEL', `tunnelType ${config.tunnelType} is not supported by the antrea-ts datapath (geneve or vxlan)`, { field: 'tunnelType' });
  }
  return {
    nodeName: name,
    nodeIP,
    podCIDR,
    gatewayIP: formatIp(cidrAddress(parseCidr(podCIDR), 1n)),
    gatewayMAC: stableMac(`${name}/${config.hostGateway}`),
    trafficEncapMode: mode,
    tunnelType,
    // The conf fills serviceCIDR only with AntreaProxy off (kube-proxy's range); the datapath needs it either way.
    serviceCIDR: config.serviceCIDR || DEFAULT_SERVICE_CIDR,
  };
}
