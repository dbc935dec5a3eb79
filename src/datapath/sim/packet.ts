/**
 * The simulated packet: Ethernet, then ARP or IPv4, then TCP, UDP or ICMP, and a payload length (payload bytes are
 * not carried). IPv6 would add an `ip6` header here and slots in the key; nothing else assumes IPv4 only.
 */
import { S } from './key.js';
import { macHi, macLo, macFrom, type Ipv4, type Mac } from '../net/addr.js';
import { ETH_TYPE_ARP, ETH_TYPE_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../pipeline/flow.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface ArpHeader { op: number; sha: Mac; spa: Ipv4; tha: Mac; tpa: Ipv4 }
export interface IpHeader { src: Ipv4; dst: Ipv4; proto: number; ttl: number; dscp: number }
export type L4Header =
  | { kind: 'tcp'; srcPort: number; dstPort: number; flags: number }
  | { kind: 'udp'; srcPort: number; dstPort: number }
  | { kind: 'icmp'; type: number; code: number; id: number; seq: number };

export interface Packet {
  ethSrc: Mac;
  ethDst: Mac;
  ethType: number;
  arp?: ArpHeader;
  ip?: IpHeader;
  l4?: L4Header;
  payloadLength: number;
  /** Set when a packet arrives from a tunnel. */
  tunnel?: { src: Ipv4; dst: Ipv4; vni: number };
  pktMark?: number;
}

export function l4HeaderLength(l4: L4Header | undefined): number {
  if (!l4) return 0;
  return l4.kind === 'tcp' ? 20 : 8;
}

/** IPv4 total length (what conntrack counts as bytes). */
export function ipLength(p: Packet): number {
  return p.ip ? 20 + l4HeaderLength(p.l4) + p.payloadLength : 0;
}

/** Ethernet frame length without FCS (what OVS counts in n_bytes). */
export function frameLength(p: Packet): number {
  return 14 + (p.arp ? 28 : ipLength(p));
}

/** Loads a packet into a (zeroed) key. */
export function loadKey(key: Uint32Array, p: Packet, inPort: number): void {
  key.fill(0);
  key[S.IN_PORT] = inPort;
  key[S.ETH_SRC_HI] = macHi(p.ethSrc);
  key[S.ETH_SRC_LO] = macLo(p.ethSrc);
  key[S.ETH_DST_HI] = macHi(p.ethDst);
  key[S.ETH_DST_LO] = macLo(p.ethDst);
  key[S.ETH_TYPE] = p.ethType;
  if (p.pktMark !== undefined) key[S.PKT_MARK] = p.pktMark;
  if (p.tunnel) {
    key[S.TUN_SRC] = p.tunnel.src;
    key[S.TUN_DST] = p.tunnel.dst;
    key[S.TUN_ID_LO] = p.tunnel.vni;
  }
  if (p.arp) {
    key[S.ARP_OP] = p.arp.op;
    key[S.ARP_SPA] = p.arp.spa;
    key[S.ARP_TPA] = p.arp.tpa;
    key[S.ARP_SHA_HI] = macHi(p.arp.sha);
    key[S.ARP_SHA_LO] = macLo(p.arp.sha);
    key[S.ARP_THA_HI] = macHi(p.arp.tha);
    key[S.ARP_THA_LO] = macLo(p.arp.tha);
  }
  if (p.ip) {
    key[S.NW_SRC] = p.ip.src;
    key[S.NW_DST] = p.ip.dst;
    key[S.NW_PROTO] = p.ip.proto;
    key[S.NW_TTL] = p.ip.ttl;
    key[S.IP_DSCP] = p.ip.dscp;
  }
  const l4 = p.l4;
  if (l4) {
    if (l4.kind === 'icmp') {
      key[S.ICMP_TYPE] = l4.type;
      key[S.ICMP_CODE] = l4.code;
      key[S.ICMP_ID] = l4.id;
    } else {
      key[S.TP_SRC] = l4.srcPort;
      key[S.TP_DST] = l4.dstPort;
      if (l4.kind === 'tcp') key[S.TCP_FLAGS] = l4.flags;
    }
  }
}

/** Builds the packet a key describes now (after the pipeline rewrote it); payload and ICMP seq come from the original. */
export function storeKey(key: Uint32Array, orig: Packet): Packet {
  const p: Packet = {
    ethSrc: macFrom(key[S.ETH_SRC_HI] as number, key[S.ETH_SRC_LO] as number),
    ethDst: macFrom(key[S.ETH_DST_HI] as number, key[S.ETH_DST_LO] as number),
    ethType: key[S.ETH_TYPE] as number,
    payloadLength: orig.payloadLength,
  };
  if (p.ethType === ETH_TYPE_ARP) {
    p.arp = {
      op: key[S.ARP_OP] as number,
      spa: key[S.ARP_SPA] as number,
      tpa: key[S.ARP_TPA] as number,
      sha: macFrom(key[S.ARP_SHA_HI] as number, key[S.ARP_SHA_LO] as number),
      tha: macFrom(key[S.ARP_THA_HI] as number, key[S.ARP_THA_LO] as number),
    };
  }
  if (p.ethType === ETH_TYPE_IP) {
    p.ip = { src: key[S.NW_SRC] as number, dst: key[S.NW_DST] as number, proto: key[S.NW_PROTO] as number, ttl: key[S.NW_TTL] as number, dscp: key[S.IP_DSCP] as number };
    const proto = p.ip.proto;
    if (proto === IPPROTO_TCP) p.l4 = { kind: 'tcp', srcPort: key[S.TP_SRC] as number, dstPort: key[S.TP_DST] as number, flags: key[S.TCP_FLAGS] as number };
    else if (proto === IPPROTO_UDP) p.l4 = { kind: 'udp', srcPort: key[S.TP_SRC] as number, dstPort: key[S.TP_DST] as number };
    else if (proto === IPPROTO_ICMP) {
      const seq = orig.l4?.kind === 'icmp' ? orig.l4.seq : 0;
      p.l4 = { kind: 'icmp', type: key[S.ICMP_TYPE] as number, code: key[S.ICMP_CODE] as number, id: key[S.ICMP_ID] as number, seq };
    }
  }
  if (key[S.PKT_MARK]) p.pktMark = key[S.PKT_MARK] as number;
  return p;
}

export function describePacket(p: Packet): string {
  const ip = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  if (p.arp) return `arp ${p.arp.op === 1 ? 'who-has' : 'reply'} ${ip(p.arp.tpa)} tell ${ip(p.arp.spa)}`;
  if (!p.ip) return `eth type 0x${p.ethType.toString(16)}`;
  const l4 = p.l4;
  if (l4?.kind === 'tcp' || l4?.kind === 'udp') return `${l4.kind} ${ip(p.ip.src)}:${l4.srcPort} > ${ip(p.ip.dst)}:${l4.dstPort}`;
  if (l4?.kind === 'icmp') return `icmp ${ip(p.ip.src)} > ${ip(p.ip.dst)} type ${l4.type} id ${l4.id}`;
  return `ip ${ip(p.ip.src)} > ${ip(p.ip.dst)} proto ${p.ip.proto}`;
}

export { ETH_TYPE_ARP, ETH_TYPE_IP };
