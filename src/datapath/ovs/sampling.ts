/**
 * Live-traffic sampling on Open vSwitch: the flows that copy the first matching packet to the Node's OpenFlow
 * controller, and the parsing of the copy. Antrea samples in ConntrackState (table 31) with `+new+trk` (its
 * live-traffic sender flow, reference/ovs-pipeline.md section 8): the first packet of a connection, after SpoofGuard,
 * with conntrack's verdict known and before any header rewrite, so the copy is the packet as the Pod sent it. The
 * flow here sits at the same place.
 *
 * The flow is not the compiler's: it carries a cookie in a category the compiler never uses (SAMPLING_COOKIE_*), so
 * the reconciler's pushes (by identity, in tables/priorities of their own) never touch it and it is removed by its
 * cookie alone. Its actions copy the packet to the controller and then resubmit it to the same table with
 * SampledRegMark set, which the sampling flow's match requires clear: the packet then takes the flow it would have
 * taken without sampling, and the bit (reg15, outside the pipeline) changes no later decision.
 *
 * Every value that reaches the flow text is a checked number or a checked dotted IPv4 address, so nothing from a
 * Traceflow spec can add a match field or an action.
 */
import { PROTOCOL_ICMP, PROTOCOL_TCP, PROTOCOL_UDP } from '../../apis/crd/traceflow.js';
import { AntreaError } from '../../util/errors.js';
import { formatIpv4 } from '../net/addr.js';
import { SampledRegMark, regMarkBits } from '../pipeline/fields.js';
import { Table } from '../pipeline/tables.js';
import { flowLine, ipv4, ofPort } from './validate.js';

export const SAMPLING_TABLE = Table.ConntrackState;
/** Above every compiled flow of table 31 (at most 210), so a matching new connection is sampled whatever it is. */
export const SAMPLING_PRIORITY = 65000;
/** Cookie category 0xfe (bits 47..40): the compiler's categories are 0..6. The tag is the low byte. */
export const SAMPLING_COOKIE_BASE = 0xfen << 40n;
export const SAMPLING_COOKIE_MASK = 0xffn << 40n;

/** What to sample; an absent field matches anything. */
export interface SamplingSpec {
  /** OF port of the sending Pod. */
  inPort?: number;
  srcIP?: string;
  dstIP?: string;
  /** IP protocol number. */
  proto?: number;
  srcPort?: number;
  dstPort?: number;
}

function invalid(field: string, value: unknown, why: string): never {
  throw new AntreaError('ERR_TRACEFLOW_LIVE_FILTER', `live-traffic filter ${field}: ${JSON.stringify(value)} ${why}`, { field });
}

/** The cookie of the sampling flows of a Traceflow tag (1..63: a DSCP value). */
export function samplingCookie(tag: number): bigint {
  if (!Number.isInteger(tag) || tag < 1 || tag > 63) invalid('tag', tag, 'is not a Traceflow dataplane tag (1-63)');
  return SAMPLING_COOKIE_BASE | BigInt(tag);
}

/** The tag a packet-in's cookie names, when it came from a sampling flow. */
export function samplingTagOf(cookie: bigint): number | undefined {
  return (cookie & SAMPLING_COOKIE_MASK) === SAMPLING_COOKIE_BASE && cookie >> 48n === 0n ? Number(cookie & 0xffn) : undefined;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

function l4Port(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 1 || v > 65535) invalid(field, v, 'is not a port number (1-65535)');
  return v;
}

/**
 * The `ovs-ofctl add-flows` lines sampling `spec` for `tag`. A port without a protocol samples TCP and UDP (one flow
 * each: OVS needs the protocol to match a port). `hardTimeout` (seconds) makes OVS remove the flows by itself, should
 * nobody be left to do it.
 */
export function renderSamplingFlows(spec: SamplingSpec, tag: number, hardTimeout?: number): string[] {
  const cookie = samplingCookie(tag);
  const m: string[] = ['ct_state=+new+trk'];
  const bit = regMarkBits(SampledRegMark);
  m.push(`${SampledRegMark.field.reg}=0/${hex(bit.mask)}`);
  if (spec.inPort !== undefined) m.push(`in_port=${ofPort(spec.inPort, 'inPort')}`);
  const ports = spec.srcPort !== undefined || spec.dstPort !== undefined;
  let protos: string[];
  if (spec.proto === undefined) protos = ports ? ['tcp', 'udp'] : ['ip'];
  else if (!Number.isInteger(spec.proto) || spec.proto < 0 || spec.proto > 255) invalid('proto', spec.proto, 'is not an IP protocol number (0-255)');
  else if (spec.proto === PROTOCOL_TCP) protos = ['tcp'];
  else if (spec.proto === PROTOCOL_UDP) protos = ['udp'];
  else if (ports) invalid('proto', spec.proto, 'has no ports: only TCP (6) and UDP (17) match a source or destination port');
  else protos = [spec.proto === PROTOCOL_ICMP ? 'icmp' : `ip,nw_proto=${spec.proto}`];
  const l3: string[] = [];
  if (spec.srcIP !== undefined) l3.push(`nw_src=${ipv4(spec.srcIP, 'srcIP')}`);
  if (spec.dstIP !== undefined) l3.push(`nw_dst=${ipv4(spec.dstIP, 'dstIP')}`);
  if (spec.srcPort !== undefined) l3.push(`tp_src=${l4Port('srcPort', spec.srcPort)}`);
  if (spec.dstPort !== undefined) l3.push(`tp_dst=${l4Port('dstPort', spec.dstPort)}`);
  let timeout = '';
  if (hardTimeout !== undefined) {
    if (!Number.isInteger(hardTimeout) || hardTimeout < 1 || hardTimeout > 65535) invalid('hardTimeout', hardTimeout, 'is not a flow timeout (1-65535 s)');
    timeout = `,hard_timeout=${hardTimeout}`;
  }
  const actions = `controller(max_len=65535),load:0x1->NXM_NX_${SampledRegMark.field.reg.toUpperCase()}[${SampledRegMark.field.lo}],resubmit(,${SAMPLING_TABLE})`;
  return protos.map((p) => flowLine(`table=${SAMPLING_TABLE},priority=${SAMPLING_PRIORITY},cookie=${hex(cookie)}${timeout},${[...m, p, ...l3].join(',')} actions=${actions}`));
}

/** The headers of a sampled frame: what Traceflow's capturedPacket reports and what a trace of the frame needs. */
export interface SampledHeaders {
  dlSrc: string;
  dlDst: string;
  srcIP: string;
  dstIP: string;
  /** IP total length. */
  length: number;
  ttl: number;
  /** The IP header's DSCP. */
  dscp: number;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  /** TCP flags (the low 8 bits, as Traceflow's `tcp.flags`). */
  tcpFlags?: number;
  icmp?: { type: number; code: number; id: number; seq: number };
}

const macOf = (b: Buffer, at: number): string => [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

/**
 * Parses an Ethernet/IPv4 frame as a packet-in carries it; undefined for anything else (not IPv4, truncated, or a
 * later fragment, whose transport header is elsewhere).
 */
export function parseSampledFrame(frame: Buffer): SampledHeaders | undefined {
  if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) return undefined;
  const ip = 14;
  const vihl = frame.readUInt8(ip);
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20 || frame.length < ip + ihl) return undefined;
  const h: SampledHeaders = {
    dlDst: macOf(frame, 0),
    dlSrc: macOf(frame, 6),
    dscp: frame.readUInt8(ip + 1) >> 2,
    length: frame.readUInt16BE(ip + 2),
    ttl: frame.readUInt8(ip + 8),
    protocol: frame.readUInt8(ip + 9),
    srcIP: formatIpv4(frame.readUInt32BE(ip + 12)),
    dstIP: formatIpv4(frame.readUInt32BE(ip + 16)),
  };
  if ((frame.readUInt16BE(ip + 6) & 0x1fff) !== 0) return h;
  const l4 = ip + ihl;
  if ((h.protocol === PROTOCOL_TCP && frame.length >= l4 + 14) || (h.protocol === PROTOCOL_UDP && frame.length >= l4 + 4)) {
    h.srcPort = frame.readUInt16BE(l4);
    h.dstPort = frame.readUInt16BE(l4 + 2);
    if (h.protocol === PROTOCOL_TCP) h.tcpFlags = frame.readUInt8(l4 + 13);
  } else if (h.protocol === PROTOCOL_ICMP && frame.length >= l4 + 8) {
    h.icmp = { type: frame.readUInt8(l4), code: frame.readUInt8(l4 + 1), id: frame.readUInt16BE(l4 + 4), seq: frame.readUInt16BE(l4 + 6) };
  }
  return h;
}
