/**
 * Connection tracking as OVS's `ct()` action sees it: zones, the original and reply tuples, NEW / ESTABLISHED /
 * RELATED / INVALID and reply direction, commit with ct_mark and ct_label, DNAT and SNAT with reverse translation of
 * replies, per-direction packet and byte counters, TCP state for SYN/FIN/RST, ICMP echo, and timeouts from an
 * injectable clock (Linux defaults). `list()` and `dump()` read like `conntrack -L`.
 */
import { StableMap } from '../stable-map.js';
import { formatIpv4, type Ipv4 } from '../net/addr.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../pipeline/flow.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './packet.js';
import type { Clock } from './clock.js';

export interface Tuple {
  src: Ipv4;
  dst: Ipv4;
  proto: number;
  /** TCP/UDP ports; for ICMP echo the id is the source "port" of requests and the destination "port" of replies. */
  sport: number;
  dport: number;
}

export type TcpState = 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSE';

export interface Counter {
  packets: number;
  bytes: number;
}

export interface Connection {
  readonly id: number;
  readonly zone: number;
  readonly orig: Tuple;
  reply: Tuple;
  nat?: { kind: 'src' | 'dst'; ip: Ipv4; port?: number };
  mark: number;
  /** ct_label as four 32-bit words, word 0 = bits 0..31. */
  label: [number, number, number, number];
  tcpState?: TcpState;
  finSeen: [boolean, boolean];
  seenReply: boolean;
  assured: boolean;
  readonly counters: [Counter, Counter];
  readonly start: number;
  lastSeen: number;
  expiresAt: number;
}

/** One row of `conntrack -L` (and what the flow exporter polls). */
export interface ConntrackEntry {
  id: number;
  zone: number;
  protocol: 'tcp' | 'udp' | 'icmp' | string;
  state?: TcpState;
  orig: { src: string; dst: string; sport: number; dport: number; packets: number; bytes: number };
  reply: { src: string; dst: string; sport: number; dport: number; packets: number; bytes: number };
  mark: number;
  labels: string;
  assured: boolean;
  startTime: number;
  lastSeen: number;
  timeoutSeconds: number;
}

/** Linux nf_conntrack defaults, seconds. */
export const TIMEOUTS = {
  tcp: { SYN_SENT: 120, SYN_RECV: 60, ESTABLISHED: 432000, FIN_WAIT: 120, CLOSE_WAIT: 60, LAST_ACK: 30, TIME_WAIT: 120, CLOSE: 10 } as Record<TcpState, number>,
  udpUnreplied: 30,
  udpReplied: 120,
  icmp: 30,
  other: 600,
};

/** Result of a lookup, for the packet being processed. */
export interface CtLookup {
  conn?: Connection;
  /** 0 original, 1 reply. */
  dir: 0 | 1;
  state: number;
  /** The tuple before any NAT (of this lookup). */
  tuple: Tuple;
}

/** A 32-bit hash of (zone, tuple): the index key; entries under one hash are compared field by field. */
export function tupleHash(zone: number, t: Tuple): number {
  let h = Math.imul(zone ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ t.src, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h ^ t.dst, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ ((t.sport << 16) | t.dport), 0xc2b2ae35);
  h = Math.imul(h ^ t.proto, 0x85ebca6b);
  h ^= h >>> 16;
  return h >>> 0;
}

function sameTuple(a: Tuple, b: Tuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.sport === b.sport && a.dport === b.dport && a.proto === b.proto;
}

interface Slot {
  conn: Connection;
  dir: 0 | 1;
}

function reverse(t: Tuple): Tuple {
  return { src: t.dst, dst: t.src, proto: t.proto, sport: t.dport, dport: t.sport };
}

export class Conntrack {
  private readonly byTuple = new StableMap<number, Slot[]>();
  private count = 0;
  private nextId = 1;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.count;
  }

  private get(zone: number, t: Tuple): Slot | undefined {
    const list = this.byTuple.get(tupleHash(zone, t));
    if (!list) return undefined;
    for (const s of list) if (s.conn.zone === zone && sameTuple(s.dir === 0 ? s.conn.orig : s.conn.reply, t)) return s;
    return undefined;
  }

  private put(zone: number, t: Tuple, slot: Slot): void {
    const h = tupleHash(zone, t);
    const list = this.byTuple.get(h);
    if (list) list.push(slot);
    else this.byTuple.set(h, [slot]);
  }

  private drop(zone: number, t: Tuple, conn: Connection): void {
    const h = tupleHash(zone, t);
    const list = this.byTuple.get(h);
    if (!list) return;
    const i = list.findIndex((s) => s.conn === conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byTuple.delete(h);
  }

  /** Finds the connection a tuple belongs to, dropping it first if it has timed out. */
  find(zone: number, t: Tuple): { conn: Connection; dir: 0 | 1 } | undefined {
    const hit = this.get(zone, t);
    if (!hit) return undefined;
    if (hit.conn.expiresAt <= this.clock.now()) {
      this.delete(hit.conn);
      return undefined;
    }
    return hit;
  }

  delete(conn: Connection): void {
    if (this.get(conn.zone, conn.orig)?.conn !== conn) return;
    this.drop(conn.zone, conn.orig, conn);
    this.drop(conn.zone, conn.reply, conn);
    this.count--;
  }

  /**
   * Creates a committed connection from an uncommitted NEW packet. `nat` rewrites the reply tuple so replies
   * match (DNAT: replies come from the Endpoint; SNAT: replies go to the translated source).
   */
  commit(zone: number, tuple: Tuple, nat: Connection['nat'], tcpFlags: number, bytes: number): Connection {
    const now = this.clock.now();
    let reply = reverse(tuple);
    if (nat?.kind === 'dst') reply = { ...reply, src: nat.ip, sport: nat.port ?? reply.sport };
    if (nat?.kind === 'src') reply = { ...reply, dst: nat.ip, dport: nat.port ?? reply.dport };
    const conn: Connection = {
      id: this.nextId++,
      zone,
      orig: tuple,
      reply,
      ...(nat ? { nat } : {}),
      mark: 0,
      label: [0, 0, 0, 0],
      finSeen: [false, false],
      seenReply: false,
      assured: false,
      counters: [{ packets: 1, bytes }, { packets: 0, bytes: 0 }],
      start: now,
      lastSeen: now,
      expiresAt: now,
    };
    if (tuple.proto === IPPROTO_TCP) conn.tcpState = tcpFlags & TCP_SYN ? 'SYN_SENT' : 'ESTABLISHED';
    this.refreshTimeout(conn);
    this.put(zone, conn.orig, { conn, dir: 0 });
    this.put(zone, conn.reply, { conn, dir: 1 });
    this.count++;
    return conn;
  }

  /** Accounts one packet on an existing connection and advances its TCP state. Returns false if the packet is invalid. */
  update(conn: Connection, dir: 0 | 1, tcpFlags: number, bytes: number): boolean {
    const c = conn.counters[dir];
    c.packets++;
    c.bytes += bytes;
    conn.lastSeen = this.clock.now();
    if (dir === 1 && !conn.seenReply) conn.seenReply = true;
    let valid = true;
    if (conn.orig.proto === IPPROTO_TCP) valid = this.tcpTransition(conn, dir, tcpFlags);
    else if (conn.seenReply && conn.counters[0].packets > 1) conn.assured = true;
    this.refreshTimeout(conn);
    return valid;
  }

  private tcpTransition(conn: Connection, dir: 0 | 1, f: number): boolean {
    const s = conn.tcpState ?? 'ESTABLISHED';
    if (f & TCP_RST) {
      conn.tcpState = 'CLOSE';
      return true;
    }
    if (f & TCP_SYN) {
      if (dir === 1 && f & TCP_ACK && (s === 'SYN_SENT' || s === 'SYN_RECV')) {
        conn.tcpState = 'SYN_RECV';
        return true;
      }
      if (dir === 0 && (s === 'SYN_SENT' || s === 'SYN_RECV')) return true; // retransmitted SYN
      return false; // SYN on an established connection
    }
    if (f & TCP_FIN) {
      conn.finSeen[dir] = true;
      if (conn.finSeen[0] && conn.finSeen[1]) conn.tcpState = 'LAST_ACK';
      else conn.tcpState = dir === 0 ? 'FIN_WAIT' : 'CLOSE_WAIT';
      return true;
    }
    if (f & TCP_ACK) {
      if (s === 'SYN_RECV' && dir === 0) {
        conn.tcpState = 'ESTABLISHED';
        conn.assured = true;
      } else if (s === 'LAST_ACK') conn.tcpState = 'TIME_WAIT';
      else if (s === 'SYN_SENT') return false; // ACK before SYN-ACK
      return true;
    }
    return true;
  }

  private refreshTimeout(conn: Connection): void {
    let secs: number;
    if (conn.orig.proto === IPPROTO_TCP) secs = TIMEOUTS.tcp[conn.tcpState ?? 'ESTABLISHED'];
    else if (conn.orig.proto === IPPROTO_UDP) secs = conn.seenReply ? TIMEOUTS.udpReplied : TIMEOUTS.udpUnreplied;
    else if (conn.orig.proto === IPPROTO_ICMP) secs = TIMEOUTS.icmp;
    else secs = TIMEOUTS.other;
    conn.expiresAt = this.clock.now() + secs * 1000;
  }

  /** Drops every expired connection; returns how many. */
  gc(): number {
    const now = this.clock.now();
    let n = 0;
    for (const { conn, dir } of [...this.byTuple.values()].flat()) {
      if (dir === 0 && conn.expiresAt <= now) {
        this.delete(conn);
        n++;
      }
    }
    return n;
  }

  connections(): Connection[] {
    this.gc();
    const out: Connection[] = [];
    for (const list of this.byTuple.values()) for (const { conn, dir } of list) if (dir === 0) out.push(conn);
    return out.sort((a, b) => a.id - b.id);
  }

  list(filter: { zone?: number } = {}): ConntrackEntry[] {
    const now = this.clock.now();
    return this.connections()
      .filter((c) => filter.zone === undefined || c.zone === filter.zone)
      .map((c) => ({
        id: c.id,
        zone: c.zone,
        protocol: protoName(c.orig.proto),
        ...(c.tcpState ? { state: c.tcpState } : {}),
        orig: { src: formatIpv4(c.orig.src), dst: formatIpv4(c.orig.dst), sport: c.orig.sport, dport: c.orig.dport, ...c.counters[0] },
        reply: { src: formatIpv4(c.reply.src), dst: formatIpv4(c.reply.dst), sport: c.reply.sport, dport: c.reply.dport, ...c.counters[1] },
        mark: c.mark,
        labels: labelHex(c.label),
        assured: c.assured,
        startTime: c.start,
        lastSeen: c.lastSeen,
        timeoutSeconds: Math.max(0, Math.round((c.expiresAt - now) / 1000)),
      }));
  }

  /** `conntrack -L -o extended` style text, one line per connection. */
  dump(): string {
    return this.list()
      .map((e) => {
        const proto = e.protocol === 'tcp' ? 6 : e.protocol === 'udp' ? 17 : e.protocol === 'icmp' ? 1 : 0;
        const ports = (t: ConntrackEntry['orig']) =>
          e.protocol === 'icmp' ? `type=8 code=0 id=${t.sport || t.dport}` : `sport=${t.sport} dport=${t.dport}`;
        return [
          `ipv4 2 ${e.protocol} ${proto} ${e.timeoutSeconds}`,
          ...(e.state ? [e.state] : []),
          `src=${e.orig.src} dst=${e.orig.dst} ${ports(e.orig)} packets=${e.orig.packets} bytes=${e.orig.bytes}`,
          `src=${e.reply.src} dst=${e.reply.dst} ${ports(e.reply)} packets=${e.reply.packets} bytes=${e.reply.bytes}`,
          ...(e.assured ? ['[ASSURED]'] : []),
          `mark=${e.mark} zone=${e.zone} labels=${e.labels} use=1`,
        ].join(' ');
      })
      .join('\n');
  }
}

function protoName(p: number): string {
  return p === IPPROTO_TCP ? 'tcp' : p === IPPROTO_UDP ? 'udp' : p === IPPROTO_ICMP ? 'icmp' : String(p);
}

function labelHex(l: readonly number[]): string {
  const big = (BigInt(l[3] ?? 0) << 96n) | (BigInt(l[2] ?? 0) << 64n) | (BigInt(l[1] ?? 0) << 32n) | BigInt(l[0] ?? 0);
  return `0x${big.toString(16)}`;
}
