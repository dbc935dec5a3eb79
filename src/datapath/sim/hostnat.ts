/**
 * The host-side NAT Antrea keeps outside OVS, as the simulated Node's netfilter: NodePortLocal DNAT
 * (nodeIP:nodePort → podIP:podPort, PREROUTING and OUTPUT), DNAT rules, and SNAT / Masquerade for traffic leaving
 * the Node to outside the cluster (POSTROUTING), with the host's own conntrack (zone 0) reversing them on replies.
 */
import type { HostNatRule, NodePortLocalMapping, L4Protocol } from '../types.js';
import { StableMap } from '../stable-map.js';
import { Conntrack, type Tuple } from './conntrack.js';
import type { Clock } from './clock.js';
import type { Packet } from './packet.js';
import { IPPROTO_ICMP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../pipeline/flow.js';
import { cidrContains, isIpv4, parseCidr, parseIpv4, type Cidr, type Ipv4 } from '../net/addr.js';
import { AntreaError } from '../../util/errors.js';

const protoNum: Record<L4Protocol, number> = { TCP: IPPROTO_TCP, UDP: IPPROTO_UDP, SCTP: IPPROTO_SCTP };

interface ParsedRule {
  rule: HostNatRule;
  src?: Cidr;
  dst?: Cidr;
  proto?: number;
  to: Ipv4;
}

export function nplKey(m: Pick<NodePortLocalMapping, 'protocol' | 'nodePort'>): string {
  return `${m.protocol}/${m.nodePort}`;
}

function tupleOf(p: Packet): Tuple | undefined {
  if (!p.ip) return undefined;
  const l4 = p.l4;
  let sport = 0;
  let dport = 0;
  if (l4?.kind === 'tcp' || l4?.kind === 'udp') {
    sport = l4.srcPort;
    dport = l4.dstPort;
  } else if (l4?.kind === 'icmp') {
    if (l4.type === 8) sport = l4.id;
    else if (l4.type === 0) dport = l4.id;
  }
  return { src: p.ip.src, dst: p.ip.dst, proto: p.ip.proto, sport, dport };
}

function rewrite(p: Packet, side: 'src' | 'dst', ip: Ipv4, port: number | undefined): Packet {
  const ipH = { ...(p.ip as NonNullable<Packet['ip']>), [side]: ip };
  let l4 = p.l4;
  if (port !== undefined && (l4?.kind === 'tcp' || l4?.kind === 'udp')) l4 = { ...l4, [side === 'src' ? 'srcPort' : 'dstPort']: port };
  return { ...p, ip: ipH, ...(l4 ? { l4 } : {}) };
}

export class HostNat {
  readonly conntrack: Conntrack;
  private readonly rules = new StableMap<string, ParsedRule>();
  private readonly npl = new StableMap<string, NodePortLocalMapping>();

  constructor(clock: Clock) {
    this.conntrack = new Conntrack(clock);
  }

  get empty(): boolean {
    return this.rules.size === 0 && this.npl.size === 0;
  }

  upsertRule(rule: HostNatRule): void {
    const bad = (field: string, msg: string) => new AntreaError('ERR_DATAPATH_INVALID', `host NAT rule ${rule.id}: ${msg}`, { field, object: rule.id });
    if (!rule.id) throw bad('id', 'id is required');
    if (!isIpv4(rule.to.ip)) throw bad('to.ip', `"${rule.to.ip}" is not an IPv4 address`);
    this.rules.set(rule.id, {
      rule,
      ...(rule.match.srcCIDR ? { src: parseCidr(rule.match.srcCIDR) } : {}),
      ...(rule.match.dstCIDR ? { dst: parseCidr(rule.match.dstCIDR) } : {}),
      ...(rule.match.protocol ? { proto: protoNum[rule.match.protocol] } : {}),
      to: parseIpv4(rule.to.ip),
    });
  }

  removeRule(id: string): void {
    this.rules.delete(id);
  }

  upsertNodePortLocal(m: NodePortLocalMapping): void {
    if (!isIpv4(m.podIP)) throw new AntreaError('ERR_DATAPATH_INVALID', `NodePortLocal ${nplKey(m)}: "${m.podIP}" is not an IPv4 address`, { field: 'podIP' });
    this.npl.set(nplKey(m), m);
  }

  removeNodePortLocal(key: string): void {
    this.npl.delete(key);
  }

  /**
   * PREROUTING / OUTPUT: existing connections get their NAT (reversed for replies); new ones to a local address
   * are matched against NodePortLocal and DNAT rules. Returns the (maybe rewritten) packet and what happened.
   */
  prerouting(p: Packet, nodeIP: Ipv4): { packet: Packet; nat?: string } {
    const t = tupleOf(p);
    if (!t || this.empty) return { packet: p };
    const existing = this.applyExisting(p, t);
    if (existing) return existing;
    const l4 = p.l4;
    const dport = l4?.kind === 'tcp' || l4?.kind === 'udp' ? l4.dstPort : undefined;
    if (t.dst === nodeIP && dport !== undefined) {
      for (const m of this.npl.values()) {
        if (protoNum[m.protocol] !== t.proto || m.nodePort !== dport) continue;
        const ip = parseIpv4(m.podIP);
        this.conntrack.commit(0, t, { kind: 'dst', ip, port: m.podPort }, l4?.kind === 'tcp' ? l4.flags : 0, 0);
        return { packet: rewrite(p, 'dst', ip, m.podPort), nat: `NodePortLocal DNAT to ${m.podIP}:${m.podPort}` };
      }
    }
    for (const r of this.rules.values()) {
      if (r.rule.kind !== 'DNAT' || !this.matches(r, p, t)) continue;
      this.conntrack.commit(0, t, { kind: 'dst', ip: r.to, ...(r.rule.to.port === undefined ? {} : { port: r.rule.to.port }) }, l4?.kind === 'tcp' ? l4.flags : 0, 0);
      return { packet: rewrite(p, 'dst', r.to, r.rule.to.port), nat: `DNAT ${r.rule.id}` };
    }
    return { packet: p };
  }

  /** POSTROUTING for packets leaving the Node to outside the cluster: SNAT and Masquerade. */
  postrouting(p: Packet, nodeIP: Ipv4): { packet: Packet; nat?: string } {
    const t = tupleOf(p);
    if (!t || this.empty) return { packet: p };
    if (this.conntrack.find(0, t)) return { packet: p };
    const l4 = p.l4;
    // Mark-matching SNAT (Egress) comes before the rest, as in the nftables rendering (snat_mark before snat_src).
    const ordered = [...this.rules.values()].sort((a, b) => Number(b.rule.match.pktMark !== undefined) - Number(a.rule.match.pktMark !== undefined));
    for (const r of ordered) {
      if ((r.rule.kind !== 'SNAT' && r.rule.kind !== 'Masquerade') || !this.matches(r, p, t)) continue;
      const ip = r.rule.kind === 'Masquerade' ? nodeIP : r.to;
      this.conntrack.commit(0, t, { kind: 'src', ip }, l4?.kind === 'tcp' ? l4.flags : 0, 0);
      return { packet: rewrite(p, 'src', ip, undefined), nat: `${r.rule.kind} ${r.rule.id}` };
    }
    return { packet: p };
  }

  private applyExisting(p: Packet, t: Tuple): { packet: Packet; nat?: string } | undefined {
    const hit = this.conntrack.find(0, t);
    if (!hit) return undefined;
    const ipLen = 0;
    this.conntrack.update(hit.conn, hit.dir, p.l4?.kind === 'tcp' ? p.l4.flags : 0, ipLen);
    const n = hit.conn.nat;
    if (!n) return { packet: p };
    if (hit.dir === 0) return { packet: rewrite(p, n.kind, n.ip, n.port), nat: `${n.kind === 'dst' ? 'DNAT' : 'SNAT'} (established)` };
    return n.kind === 'dst'
      ? { packet: rewrite(p, 'src', hit.conn.orig.dst, hit.conn.orig.dport || undefined), nat: 'un-DNAT reply' }
      : { packet: rewrite(p, 'dst', hit.conn.orig.src, hit.conn.orig.sport || undefined), nat: 'un-SNAT reply' };
  }

  private matches(r: ParsedRule, p: Packet, t: Tuple): boolean {
    if (r.src && !cidrContains(r.src, t.src)) return false;
    if (r.dst && !cidrContains(r.dst, t.dst)) return false;
    if (r.proto !== undefined && r.proto !== t.proto) return false;
    if (r.rule.match.dstPort !== undefined && r.rule.match.dstPort !== t.dport) return false;
    if (r.rule.match.pktMark !== undefined && ((p.pktMark ?? 0) & 0xff) !== r.rule.match.pktMark) return false;
    return t.proto !== IPPROTO_ICMP || r.rule.match.dstPort === undefined;
  }
}
