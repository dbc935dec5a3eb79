/**
 * The traffic API every executor offers (simulator now, OVS later): send one packet or run a connection between
 * endpoints, and get back where it ended and what it went through.
 */
import type { Datapath, NodeConfig } from './types.js';
import type { ConntrackEntry } from './sim/conntrack.js';
import type { DropInfo, TraceStep } from './sim/trace.js';

export type { ConntrackEntry, DropInfo, TraceStep };

export type Protocol = 'TCP' | 'UDP' | 'ICMP';

/** Who sends: a Pod (`namespace/name`), a Node's host network, or a host outside the cluster entering at a Node. */
export type Endpoint = { pod: string } | { node: string } | { external: string; via: string };

export interface SendRequest {
  from: Endpoint;
  to: { ip: string; port?: number };
  protocol: Protocol;
  /** TCP flags as letters: S, A, F, R, P (default S for a lone TCP packet). */
  tcpFlags?: string;
  /** Source port (TCP/UDP) or ICMP id; a fresh one per request when absent. */
  srcPort?: number;
  /** Spoof the source IP or MAC (SpoofGuard tests). */
  srcIP?: string;
  srcMAC?: string;
  payloadLength?: number;
  ttl?: number;
  /** Collect the per-step trace (default true). */
  trace?: boolean;
}

export interface Delivery {
  node: string;
  /** `namespace/name` when a Pod received it. */
  pod?: string;
  host?: boolean;
  external?: boolean;
}

export interface PacketResult {
  delivered: boolean;
  deliveredTo?: Delivery;
  dropped?: DropInfo;
  /** The packet as the receiver saw it (after NAT), or as it was when dropped. */
  received?: { srcIP: string; dstIP: string; srcPort: number; dstPort: number; ttl: number };
  srcPort: number;
  trace: TraceStep[];
  /** Set when a Reject rule answered for the destination (TCP RST+ACK, or ICMP type 3 code 10 otherwise). */
  rejected?: { node: string; reply: 'tcp-rst' | 'icmp-unreachable'; deliveredToSender: boolean };
}

export interface ConnectRequest {
  from: Endpoint;
  to: { ip: string; port?: number };
  protocol: Protocol;
  /** Request/response exchanges after the handshake (default 1). */
  exchanges?: number;
  payloadLength?: number;
  /** Close a TCP connection with FIN/ACK at the end (default false). */
  close?: boolean;
  srcPort?: number;
  trace?: boolean;
}

export interface ConnectionResult {
  /** Handshake done (TCP), or first request answered (UDP/ICMP). */
  established: boolean;
  srcPort: number;
  /** Packets that reached the other end, per direction. */
  delivered: { request: number; reply: number };
  sent: { request: number; reply: number };
  /** IP bytes sent per direction (what conntrack counts). */
  bytes: { request: number; reply: number };
  /** Every packet, in order. */
  packets: PacketResult[];
  /** The first packet that did not arrive, if any. */
  failure?: PacketResult;
}

/** A cluster of Nodes driven by one datapath implementation. */
export interface DatapathExecutor {
  readonly name: string;
  addNode(cfg: NodeConfig): Promise<Datapath>;
  send(req: SendRequest): Promise<PacketResult>;
  connect(req: ConnectRequest): Promise<ConnectionResult>;
  conntrack(nodeName: string): Promise<ConntrackEntry[]>;
  close(): Promise<void>;
}

/**
 * What a live-traffic Traceflow samples on a Node, as a 5-tuple with the sending Pod; an absent field matches
 * anything. `fromPod` is `namespace/name` of a Pod of that Node.
 */
export interface LiveSampleFilter {
  fromPod?: string;
  srcIP?: string;
  dstIP?: string;
  /** IP protocol number. */
  proto?: number;
  srcPort?: number;
  dstPort?: number;
}
