/**
 * `crd.antrea.io/v1alpha1` Traceflow (cluster-scoped, status subresource): Antrea's spec and status fields
 * (reference/antrea.md 4.4), the dataplane tag range, and the two levels of validation Antrea has:
 * - `validateTraceflow`: the shape, as the CRD's OpenAPI schema rejects it at admission (422);
 * - `traceflowRequestProblems`: the request's meaning (source Pod for non-live traffic, one destination kind,
 *   droppedOnly only with liveTraffic, ...), which Antrea's controller reports as phase Failed with
 *   `Invalid Traceflow request, err: ...`, so a user sees the reason on the object.
 */
import type { GroupVersionResource, KubeObject } from '../meta.js';
import {
  eachOf,
  invalid,
  isObject,
  notSupported,
  typeInvalid,
  validateBoolean,
  validateIP,
  validateObjectMeta,
  validateOptionalString,
  isDNS1123Subdomain,
  type FieldError,
} from '../validation.js';

export interface TraceflowSource {
  namespace?: string;
  pod?: string;
  /** Live traffic only. */
  ip?: string;
}

export interface TraceflowDestination {
  namespace?: string;
  pod?: string;
  service?: string;
  ip?: string;
}

export interface IPHeader {
  srcIP?: string;
  /** 1 ICMP, 6 TCP, 17 UDP (0 or absent: ICMP). */
  protocol?: number;
  ttl?: number;
  flags?: number;
}

export interface IPv6Header {
  srcIP?: string;
  nextHeader?: number;
  hopLimit?: number;
}

export interface ICMPEchoRequestHeader {
  id?: number;
  sequence?: number;
}

export interface UDPHeader {
  srcPort?: number;
  dstPort?: number;
}

export interface TCPHeader {
  srcPort?: number;
  dstPort?: number;
  /** FIN 1, SYN 2, RST 4, PSH 8, ACK 16 (absent: SYN). */
  flags?: number;
}

export interface TransportHeader {
  icmp?: ICMPEchoRequestHeader;
  udp?: UDPHeader;
  tcp?: TCPHeader;
}

export interface TraceflowPacket {
  srcIP?: string;
  dstIP?: string;
  length?: number;
  ipHeader?: IPHeader;
  ipv6Header?: IPv6Header;
  transportHeader?: TransportHeader;
}

export interface TraceflowSpec {
  source?: TraceflowSource;
  destination?: TraceflowDestination;
  packet?: TraceflowPacket;
  liveTraffic?: boolean;
  droppedOnly?: boolean;
  /** Seconds; 0 or absent: DEFAULT_TRACEFLOW_TIMEOUT_SECONDS. */
  timeout?: number;
}

export type TraceflowPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export type TraceflowComponent = 'Classification' | 'SpoofGuard' | 'LB' | 'Routing' | 'NetworkPolicy' | 'Forwarding';
export type TraceflowAction = 'Received' | 'Forwarded' | 'Dropped' | 'Rejected' | 'Delivered' | 'ForwardedOutOfOverlay';

export interface Observation {
  component: TraceflowComponent;
  /** The OVS table name, as Antrea's packet-in handler reports it (e.g. `IngressMetric`, `L2ForwardingOut`). */
  componentInfo?: string;
  action: TraceflowAction;
  /** `namespace/name` of the Pod that received the packet (or that a Service DNAT chose). */
  pod?: string;
  dstMAC?: string;
  /** A policy reference, e.g. `K8sNetworkPolicy:ns/name`. */
  networkPolicy?: string;
  ttl?: number;
  translatedSrcIP?: string;
  translatedDstIP?: string;
  tunnelDstIP?: string;
}

export interface NodeResult {
  node: string;
  /** `Sender` or `Receiver` (Antrea 1.5 defines the field but leaves it empty). */
  role?: string;
  /** Unix seconds. */
  timestamp?: number;
  observations: Observation[];
}

export interface TraceflowStatus {
  phase?: TraceflowPhase;
  reason?: string;
  startTime?: string;
  dataplaneTag?: number;
  results?: NodeResult[];
  capturedPacket?: TraceflowPacket;
}

export interface Traceflow extends KubeObject {
  spec: TraceflowSpec;
  status?: TraceflowStatus;
}

export const traceflowGvr = { group: 'crd.antrea.io', version: 'v1alpha1', resource: 'traceflows' } as const satisfies GroupVersionResource;

export const DEFAULT_TRACEFLOW_TIMEOUT_SECONDS = 20;
export const MAX_TRACEFLOW_TIMEOUT_SECONDS = 65535;

/**
 * Dataplane tags are DSCP values from RFC 2474's "Experimental or Local Use" pool xxxx11: 7, 11, ..., 59 (Antrea
 * starts at 7 so that 3, whose upper bits are all zero, is never used). That is 14 concurrent Traceflows.
 */
export const MIN_DATAPLANE_TAG = 7;
export const MAX_DATAPLANE_TAG = 59;
export const DATAPLANE_TAG_STEP = 4;
export const DATAPLANE_TAGS: readonly number[] = Array.from(
  { length: (MAX_DATAPLANE_TAG - MIN_DATAPLANE_TAG) / DATAPLANE_TAG_STEP + 1 },
  (_, i) => MIN_DATAPLANE_TAG + i * DATAPLANE_TAG_STEP,
);

export const PROTOCOL_ICMP = 1;
export const PROTOCOL_TCP = 6;
export const PROTOCOL_UDP = 17;
export const supportedProtocols: Readonly<Record<number, 'ICMP' | 'TCP' | 'UDP'>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };

export const TCP_FIN = 1;
export const TCP_SYN = 2;
export const TCP_RST = 4;
export const TCP_PSH = 8;
export const TCP_ACK = 16;

export function traceflowTimeoutSeconds(spec: TraceflowSpec): number {
  return spec.timeout && spec.timeout > 0 ? spec.timeout : DEFAULT_TRACEFLOW_TIMEOUT_SECONDS;
}

/** The protocol number of the traced packet: the IP header's, else the one its transport header implies, else ICMP. */
export function traceflowProtocol(spec: TraceflowSpec): number {
  const p = spec.packet?.ipHeader?.protocol;
  if (p) return p;
  const th = spec.packet?.transportHeader;
  if (th?.tcp) return PROTOCOL_TCP;
  if (th?.udp) return PROTOCOL_UDP;
  return PROTOCOL_ICMP;
}

export const isTerminalPhase = (phase: TraceflowPhase | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';

// ---------------------------------------------------------------------------------------------------- shape

function intIn(errs: FieldError[], field: string, v: unknown, min: number, max: number): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) errs.push(typeInvalid(field, v, 'must be an integer'));
  else if (v < min || v > max) errs.push(invalid(field, v, `must be between ${min} and ${max}, inclusive`));
}

function obj(errs: FieldError[], field: string, v: unknown): v is Record<string, unknown> {
  if (v === undefined || v === null) return false;
  if (!isObject(v)) {
    errs.push(typeInvalid(field, v, 'must be an object'));
    return false;
  }
  return true;
}

function validatePacket(errs: FieldError[], field: string, p: Record<string, unknown>): void {
  validateIP(errs, `${field}.srcIP`, p.srcIP);
  validateIP(errs, `${field}.dstIP`, p.dstIP);
  intIn(errs, `${field}.length`, p.length, 0, 65535);
  const ip = p.ipHeader;
  if (obj(errs, `${field}.ipHeader`, ip)) {
    validateIP(errs, `${field}.ipHeader.srcIP`, ip.srcIP);
    intIn(errs, `${field}.ipHeader.protocol`, ip.protocol, 0, 255);
    if (typeof ip.protocol === 'number' && ip.protocol !== 0 && !(ip.protocol in supportedProtocols)) {
      errs.push(notSupported(`${field}.ipHeader.protocol`, ip.protocol, ['1 (ICMP)', '6 (TCP)', '17 (UDP)']));
    }
    intIn(errs, `${field}.ipHeader.ttl`, ip.ttl, 0, 255);
    intIn(errs, `${field}.ipHeader.flags`, ip.flags, 0, 7);
  }
  const ip6 = p.ipv6Header;
  if (obj(errs, `${field}.ipv6Header`, ip6)) {
    validateIP(errs, `${field}.ipv6Header.srcIP`, ip6.srcIP);
    intIn(errs, `${field}.ipv6Header.nextHeader`, ip6.nextHeader, 0, 255);
    intIn(errs, `${field}.ipv6Header.hopLimit`, ip6.hopLimit, 0, 255);
  }
  const th = p.transportHeader;
  if (obj(errs, `${field}.transportHeader`, th)) {
    const f = `${field}.transportHeader`;
    const kinds = (['icmp', 'udp', 'tcp'] as const).filter((k) => th[k] !== undefined && th[k] !== null);
    if (kinds.length > 1) errs.push(invalid(f, kinds.join(','), 'may hold only one of icmp, udp and tcp'));
    if (obj(errs, `${f}.icmp`, th.icmp)) {
      intIn(errs, `${f}.icmp.id`, th.icmp.id, 0, 65535);
      intIn(errs, `${f}.icmp.sequence`, th.icmp.sequence, 0, 65535);
    }
    for (const k of ['udp', 'tcp'] as const) {
      const h = th[k];
      if (!obj(errs, `${f}.${k}`, h)) continue;
      intIn(errs, `${f}.${k}.srcPort`, h.srcPort, 0, 65535);
      intIn(errs, `${f}.${k}.dstPort`, h.dstPort, 0, 65535);
      if (k === 'tcp') intIn(errs, `${f}.tcp.flags`, h.flags, 0, 255);
    }
    const proto = isObject(ip) && typeof ip.protocol === 'number' ? ip.protocol : 0;
    const implied = kinds.length === 1 ? ({ icmp: PROTOCOL_ICMP, udp: PROTOCOL_UDP, tcp: PROTOCOL_TCP } as const)[kinds[0] as 'icmp' | 'udp' | 'tcp'] : 0;
    if (proto !== 0 && implied !== 0 && proto !== implied) {
      errs.push(invalid(`${f}.${kinds[0]}`, kinds[0], `does not match ipHeader.protocol ${proto} (${supportedProtocols[proto] ?? 'unknown'})`));
    }
  }
}

/** The Traceflow's shape, as the CRD schema checks it: types, ranges, supported protocols. */
export function validateTraceflow(o: KubeObject): FieldError[] {
  const errs = validateObjectMeta(o.metadata, { namespaced: false, nameValidator: isDNS1123Subdomain });
  const spec = (o as { spec?: unknown }).spec;
  if (spec === undefined || spec === null) return errs;
  if (!obj(errs, 'spec', spec)) return errs;
  if (obj(errs, 'spec.source', spec.source)) {
    validateOptionalString(errs, 'spec.source.namespace', spec.source.namespace);
    validateOptionalString(errs, 'spec.source.pod', spec.source.pod);
    validateIP(errs, 'spec.source.ip', spec.source.ip);
  }
  if (obj(errs, 'spec.destination', spec.destination)) {
    for (const k of ['namespace', 'pod', 'service'] as const) validateOptionalString(errs, `spec.destination.${k}`, spec.destination[k]);
    validateIP(errs, 'spec.destination.ip', spec.destination.ip);
  }
  if (obj(errs, 'spec.packet', spec.packet)) validatePacket(errs, 'spec.packet', spec.packet);
  validateBoolean(errs, 'spec.liveTraffic', spec.liveTraffic);
  validateBoolean(errs, 'spec.droppedOnly', spec.droppedOnly);
  intIn(errs, 'spec.timeout', spec.timeout, 0, MAX_TRACEFLOW_TIMEOUT_SECONDS);
  const status = (o as { status?: unknown }).status;
  if (obj(errs, 'status', status)) {
    eachOf(errs, 'status.results', status.results, (r, path) => {
      if (!isObject(r)) errs.push(typeInvalid(path, r, 'must be an object'));
      else if (typeof r.node !== 'string') errs.push(typeInvalid(`${path}.node`, r.node, 'must be a string'));
    });
    if (status.dataplaneTag !== undefined) intIn(errs, 'status.dataplaneTag', status.dataplaneTag, 0, 63);
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------------- meaning

/**
 * What makes a well-formed request meaningless, in Antrea's words where Antrea has them. Existence checks (the
 * source Pod is there, not on the host network) need the cluster and are the controller's.
 */
export function traceflowRequestProblems(name: string, spec: TraceflowSpec): string[] {
  const out: string[] = [];
  const src = spec.source ?? {};
  const dst = spec.destination ?? {};
  const live = spec.liveTraffic === true;
  if (!live) {
    if (!src.namespace || !src.pod) out.push('source Pod must be specified in non-live-traffic Traceflow');
    if (src.ip) out.push('source IP is only allowed in live-traffic Traceflow');
  }
  if (src.pod && src.ip) out.push('source Pod and source IP are mutually exclusive');
  if (src.pod && !src.namespace) out.push('source Namespace must be specified with the source Pod');
  if (!src.pod && !dst.pod) out.push(`Traceflow ${name} has neither source nor destination Pod specified`);
  const kinds = (['pod', 'service', 'ip'] as const).filter((k) => Boolean(dst[k]));
  if (kinds.length > 1) out.push(`destination ${kinds.join(', ')} are mutually exclusive: give exactly one`);
  if (kinds.length === 0 && !live) out.push('destination must be specified (a Pod, a Service or an IP) in non-live-traffic Traceflow');
  if ((dst.pod || dst.service) && !dst.namespace) out.push(`destination Namespace must be specified with the destination ${dst.pod ? 'Pod' : 'Service'}`);
  if (spec.droppedOnly && !live) out.push('droppedOnly works only with live-traffic Traceflow');
  if (spec.packet?.ipv6Header) out.push('IPv6 Traceflow is not supported by antrea-ts (IPv4 only)');
  return out;
}
