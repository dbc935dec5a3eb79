/**
 * The answer Antrea's agent sends for a rejected packet, as an Ethernet frame: TCP gets RST+ACK (RFC 793's reset
 * generation: seq from the segment's ACK, ack = its seq plus its length), anything else an ICMP destination
 * unreachable (RFC 792: type 3, code 10 "administratively prohibited" for a policy Reject, code 3 "port unreachable"
 * for a Service without Endpoints, quoting the original IP header and its first 8 data bytes). The answer comes from
 * the original destination to the sender, with the MACs swapped, IP and TCP checksums filled in.
 *
 * When the packet was DNATed before it was rejected (a Service's Endpoint rejects it), the sender knows only the
 * address it connected to: `origDst` (conntrack's original tuple from the packet-in) puts that address back as the
 * answer's source and in the quoted header. Nothing is built for packets one must not answer (RFC 1122 3.2.2 and
 * RFC 793): ICMP errors, TCP resets, non-first fragments, non-IPv4 frames.
 */
import { formatIpv4 } from '../net/addr.js';

export type RejectKind = 'policy' | 'no-endpoints';
export type RejectReply = 'tcp-rst' | 'icmp-unreachable';

export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_CODE_PORT_UNREACHABLE = 3;
export const ICMP_CODE_ADMIN_PROHIBITED = 10;
const ETH_TYPE_IPV4 = 0x0800;
const ETH_HDR = 14;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;
const ANSWER_TTL = 64;
/** ICMP types that are errors: never answered with another error (RFC 1122 3.2.2). */
const ICMP_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);

/** The parts of an Ethernet/IPv4 frame a reject needs. */
export interface ParsedFrame {
  srcMac: Buffer;
  dstMac: Buffer;
  /** The IPv4 header, options included. */
  ipHeader: Buffer;
  /** Everything after the IP header, up to the IP total length. */
  ipPayload: Buffer;
  protocol: number;
  src: number;
  dst: number;
  /** TCP/UDP ports; ICMP: id as srcPort, 0 as dstPort. */
  srcPort: number;
  dstPort: number;
  tcp?: { seq: number; ack: number; flags: number };
  icmpType?: number;
}

/** Parses an untagged Ethernet frame carrying IPv4; undefined for anything else or anything truncated. */
export function parseFrame(frame: Buffer): ParsedFrame | undefined {
  if (frame.length < ETH_HDR + 20 || frame.readUInt16BE(12) !== ETH_TYPE_IPV4) return undefined;
  const ip = frame.subarray(ETH_HDR);
  const vihl = ip.readUInt8(0);
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20 || ip.length < ihl) return undefined;
  const total = ip.readUInt16BE(2);
  if (total < ihl || total > ip.length) return undefined;
  const fragOffset = ip.readUInt16BE(6) & 0x1fff;
  const protocol = ip.readUInt8(9);
  const payload = ip.subarray(ihl, total);
  const p: ParsedFrame = {
    dstMac: frame.subarray(0, 6), srcMac: frame.subarray(6, 12), ipHeader: ip.subarray(0, ihl), ipPayload: payload, protocol,
    src: ip.readUInt32BE(12), dst: ip.readUInt32BE(16), srcPort: 0, dstPort: 0,
  };
  if (fragOffset !== 0) return p;
  if ((protocol === 6 && payload.length >= 20) || (protocol === 17 && payload.length >= 8)) {
    p.srcPort = payload.readUInt16BE(0);
    p.dstPort = payload.readUInt16BE(2);
    if (protocol === 6) p.tcp = { seq: payload.readUInt32BE(4), ack: payload.readUInt32BE(8), flags: payload.readUInt8(13) };
  } else if (protocol === 1 && payload.length >= 8) {
    p.icmpType = payload.readUInt8(0);
    p.srcPort = payload.readUInt16BE(4);
  }
  return p;
}

/** The Internet checksum (RFC 1071) of `buf`, continuing from a partial sum. */
export function internetChecksum(buf: Buffer, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) s += buf.readUInt16BE(i);
  if (buf.length % 2) s += (buf[buf.length - 1] as number) << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ipv4Header(src: number, dst: number, protocol: number, payloadLength: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt8(0x45, 0);
  h.writeUInt16BE(20 + payloadLength, 2);
  h.writeUInt16BE(0x4000, 6); // DF, as Linux sends its own resets and ICMP errors
  h.writeUInt8(ANSWER_TTL, 8);
  h.writeUInt8(protocol, 9);
  h.writeUInt32BE(src >>> 0, 12);
  h.writeUInt32BE(dst >>> 0, 16);
  h.writeUInt16BE(internetChecksum(h), 10);
  return h;
}

function tcpChecksum(src: number, dst: number, segment: Buffer): number {
  const pseudo = Buffer.alloc(12);
  pseudo.writeUInt32BE(src >>> 0, 0);
  pseudo.writeUInt32BE(dst >>> 0, 4);
  pseudo.writeUInt8(6, 9);
  pseudo.writeUInt16BE(segment.length, 10);
  return internetChecksum(Buffer.concat([pseudo, segment]));
}

export interface RejectOptions {
  kind: RejectKind;
  /** The destination the sender addressed, when the packet was DNATed before the reject (conntrack's original tuple). */
  origDst?: { ip: number; port?: number };
}

export interface RejectAnswer {
  frame: Buffer;
  reply: RejectReply;
  /** The rejected packet, as the sender addressed it. */
  request: { protocol: number; src: string; dst: string; srcPort: number; dstPort: number };
}

/** Builds the answer to a rejected frame, or undefined when the frame must not be answered. */
export function buildRejectAnswer(frame: Buffer, opts: RejectOptions): RejectAnswer | undefined {
  const p = parseFrame(frame);
  if (!p) return undefined;
  if ((p.ipHeader.readUInt16BE(6) & 0x1fff) !== 0) return undefined;
  if (p.protocol === 1 && (p.icmpType === undefined || ICMP_ERROR_TYPES.has(p.icmpType))) return undefined;
  const dst = opts.origDst?.ip ?? p.dst;
  const dstPort = opts.origDst?.port ?? p.dstPort;
  const eth = Buffer.concat([p.srcMac, p.dstMac, Buffer.from([0x08, 0x00])]);
  const request = { protocol: p.protocol, src: formatIpv4(p.src), dst: formatIpv4(dst), srcPort: p.srcPort, dstPort };
  if (p.protocol === 6) {
    const t = p.tcp;
    if (!t || (t.flags & TCP_RST) !== 0) return undefined;
    const dataOffset = (p.ipPayload.readUInt8(12) >> 4) * 4;
    const segLen = Math.max(0, p.ipPayload.length - dataOffset) + ((t.flags & TCP_SYN) ? 1 : 0) + ((t.flags & TCP_FIN) ? 1 : 0);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(dstPort, 0);
    tcp.writeUInt16BE(p.srcPort, 2);
    tcp.writeUInt32BE((t.flags & TCP_ACK) ? t.ack : 0, 4);
    tcp.writeUInt32BE((t.seq + segLen) >>> 0, 8);
    tcp.writeUInt8(5 << 4, 12);
    tcp.writeUInt8(TCP_RST | TCP_ACK, 13);
    tcp.writeUInt16BE(tcpChecksum(dst, p.src, tcp), 16);
    return { frame: Buffer.concat([eth, ipv4Header(dst, p.src, 6, tcp.length), tcp]), reply: 'tcp-rst', request };
  }
  // The quote is the packet as the sender sent it: the original destination back in place (and its checksum fixed).
  const quotedHeader = Buffer.from(p.ipHeader);
  const quotedData = Buffer.from(p.ipPayload.subarray(0, 8));
  if (dst !== p.dst) {
    quotedHeader.writeUInt32BE(dst >>> 0, 16);
    quotedHeader.writeUInt16BE(0, 10);
    quotedHeader.writeUInt16BE(internetChecksum(quotedHeader), 10);
    if ((p.protocol === 17 || p.protocol === 6) && quotedData.length >= 4) quotedData.writeUInt16BE(dstPort, 2);
  }
  const icmp = Buffer.concat([Buffer.alloc(8), quotedHeader, quotedData]);
  icmp.writeUInt8(ICMP_DEST_UNREACHABLE, 0);
  icmp.writeUInt8(opts.kind === 'no-endpoints' ? ICMP_CODE_PORT_UNREACHABLE : ICMP_CODE_ADMIN_PROHIBITED, 1);
  icmp.writeUInt16BE(internetChecksum(icmp), 2);
  return { frame: Buffer.concat([eth, ipv4Header(dst, p.src, 1, icmp.length), icmp]), reply: 'icmp-unreachable', request };
}
