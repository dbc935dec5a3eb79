/**
 * The connection store (Antrea's `ConntrackConnectionStore` and the export half of its exporter loop): each poll of
 * conntrack adds new connections, updates the counters of known ones and notices the ones that closed or vanished;
 * the expire queue says which connections are due for a record (active timeout, idle timeout, end of flow).
 *
 * Differences from Antrea 1.5, on purpose:
 * - A connection that closes (TCP TIME_WAIT/CLOSE) or vanishes is due at once, so its end-of-flow record does not
 *   wait for the next active/idle expiry.
 * - A connection that vanishes while idle (out of the queue, nothing new since its idle record) is dropped at once
 *   instead of after staleConnectionTimeout: the collector already has its last record, and keeping it only costs
 *   memory.
 */
import { CT_ZONE } from '../../datapath/pipeline/fields.js';
import type { ConntrackEntry } from '../../datapath/traffic.js';
import { ExpireQueue } from './queue.js';
import { FlowEndReason, type Connection, type Enricher } from './types.js';

/** Antrea's conntrack zone for IPv6 Pod traffic (CtZoneV6, 0xffe6); the datapath here is IPv4 only for now. */
export const CT_ZONE_V6 = 65510;

export interface StoreOptions {
  activeTimeoutMs: number;
  idleTimeoutMs: number;
  enricher: Enricher;
  /** Conntrack zones holding Pod traffic. Default: Antrea's CtZone 65520 (0xfff0) and CtZoneV6 65510 (0xffe6). */
  zones?: readonly number[];
}

export interface PollResult {
  /** Entries in the watched zones. */
  seen: number;
  added: number;
  updated: number;
  /** Connections that closed or vanished in this poll. */
  ended: number;
  /** Connections removed from the store. */
  deleted: number;
}

export type EmitRecord = (conn: Connection, reason: number) => void;

const PROTO_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, sctp: 132, icmpv6: 58 };

function protoNumber(p: string): number {
  return PROTO_NUMBERS[p] ?? (Number(p) || 0);
}

function isClosedTcp(proto: number, state: string | undefined): boolean {
  return proto === 6 && (state === 'TIME_WAIT' || state === 'CLOSE');
}

function connKey(e: ConntrackEntry): string {
  const o = e.orig;
  return `${e.zone}|${e.protocol}|${o.src}|${o.dst}|${o.sport}|${o.dport}`;
}

function hashString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * FNV-1a over (zone, original tuple) straight from the entry's fields: building a string key per entry and hashing
 * it again in a Map cost most of a poll. Masked to 30 bits so V8 keeps the Map keys small integers.
 */
function tupleHash(e: ConntrackEntry): number {
  const o = e.orig;
  let h = Math.imul(0x811c9dc5 ^ e.zone, 0x01000193);
  h = hashString(h, o.src);
  h = hashString(h, o.dst);
  h = Math.imul(h ^ ((o.sport << 16) | o.dport), 0x01000193);
  h = hashString(h, e.protocol);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

function sameTuple(c: Connection, e: ConntrackEntry): boolean {
  const o = e.orig;
  return c.srcPort === o.sport && c.origDstPort === o.dport && c.zone === e.zone && c.srcIP === o.src && c.origDstIP === o.dst && c.protocol === e.protocol;
}

/** Connections by tuple hash, chained on collision: one Map lookup and a few field compares per entry. */
class ConnTable {
  private readonly buckets = new Map<number, Connection>();
  size = 0;

  find(hash: number, e: ConntrackEntry): Connection | undefined {
    let c = this.buckets.get(hash);
    while (c !== undefined && !sameTuple(c, e)) c = c.bucketNext;
    return c;
  }

  add(c: Connection): void {
    c.bucketNext = this.buckets.get(c.hash);
    this.buckets.set(c.hash, c);
    this.size++;
  }

  delete(c: Connection): void {
    const head = this.buckets.get(c.hash);
    if (head === c) {
      if (c.bucketNext === undefined) this.buckets.delete(c.hash);
      else this.buckets.set(c.hash, c.bucketNext);
    } else {
      let p = head;
      while (p !== undefined && p.bucketNext !== c) p = p.bucketNext;
      if (p === undefined) return;
      p.bucketNext = c.bucketNext;
    }
    c.bucketNext = undefined;
    this.size--;
  }

  /** Calls `fn` for every connection; `fn` may delete the one it is given. */
  forEach(fn: (c: Connection) => void): void {
    for (const head of this.buckets.values()) {
      let c: Connection | undefined = head;
      while (c !== undefined) {
        const next: Connection | undefined = c.bucketNext;
        fn(c);
        c = next;
      }
    }
  }

  *values(): IterableIterator<Connection> {
    for (const head of this.buckets.values()) for (let c: Connection | undefined = head; c !== undefined; c = c.bucketNext) yield c;
  }
}

export class ConnectionStore {
  readonly connections = new ConnTable();
  readonly queue = new ExpireQueue<Connection>();
  private readonly activeMs: number;
  private readonly idleMs: number;
  private readonly enricher: Enricher;
  private readonly zoneA: number;
  private readonly zoneB: number;
  private readonly zones: ReadonlySet<number> | undefined;
  private gen = 0;

  constructor(opts: StoreOptions) {
    this.activeMs = opts.activeTimeoutMs;
    this.idleMs = opts.idleTimeoutMs;
    this.enricher = opts.enricher;
    const zones = opts.zones ?? [CT_ZONE, CT_ZONE_V6];
    // One or two zones (the usual case) are plain comparisons on the hot path.
    this.zoneA = zones[0] ?? -1;
    this.zoneB = zones[1] ?? this.zoneA;
    this.zones = zones.length > 2 ? new Set(zones) : undefined;
  }

  get size(): number {
    return this.connections.size;
  }

  /** Applies one conntrack dump taken at `now` (ms since the epoch). */
  poll(entries: readonly ConntrackEntry[], now: number): PollResult {
    const res = this.beginPoll();
    this.pollSlice(entries, 0, entries.length, now, res);
    return this.endPoll(now, res);
  }

  /**
   * A poll in slices (`beginPoll`, `pollSlice`..., `endPoll`), so a large dump can yield to the event loop between
   * slices. Nothing may be exported between `beginPoll` and `endPoll`: a connection not yet seen would look gone.
   */
  beginPoll(): PollResult {
    this.gen++;
    return { seen: 0, added: 0, updated: 0, ended: 0, deleted: 0 };
  }

  pollSlice(entries: readonly ConntrackEntry[], from: number, to: number, now: number, res: PollResult): void {
    const gen = this.gen;
    const conns = this.connections;
    const queue = this.queue;
    for (let i = from; i < to; i++) {
      const e = entries[i]!;
      const z = e.zone;
      if (this.zones ? !this.zones.has(z) : z !== this.zoneA && z !== this.zoneB) continue;
      res.seen++;
      const hash = tupleHash(e);
      const c = conns.find(hash, e);
      if (c === undefined) {
        const created = this.create(hash, e, now, gen);
        conns.add(created);
        queue.push(created);
        res.added++;
        continue;
      }
      const o = e.orig;
      const r = e.reply;
      if (o.packets < c.packets || r.packets < c.revPackets || e.startTime !== c.startMs) {
        // The tuple was closed and opened again between polls (a new SYN replaces a TIME_WAIT entry): a new
        // connection, whose deltas start from zero.
        this.replace(c, hash, e, now, gen);
        res.added++;
        continue;
      }
      c.seenGen = gen;
      const state = e.state ?? '';
      const closed = isClosedTcp(c.proto, state);
      if (o.packets === c.packets && o.bytes === c.bytes && r.packets === c.revPackets && r.bytes === c.revBytes && state === c.tcpState && closed === c.dying) {
        if (!closed) c.stopMs = now;
        continue;
      }
      res.updated++;
      c.packets = o.packets;
      c.bytes = o.bytes;
      c.revPackets = r.packets;
      c.revBytes = r.bytes;
      c.tcpState = state;
      c.stopMs = closed ? e.lastSeen : now;
      if (e.labels !== c.labels) {
        c.labels = e.labels;
        this.resolvePolicies(c);
      }
      c.active = true;
      c.idleExpireMs = now + this.idleMs;
      if (closed && !c.dying) res.ended++;
      c.dying = closed;
      if (closed) {
        // Due now: the end-of-flow record goes out on the next export cycle.
        c.readyToDelete = false;
        c.expireAt = now;
        queue.push(c);
      } else if (queue.has(c)) {
        c.expireAt = Math.min(c.activeExpireMs, c.idleExpireMs);
        queue.fix(c);
      } else {
        // Idle before, traffic again: a fresh active period.
        c.activeExpireMs = now + this.activeMs;
        c.expireAt = Math.min(c.activeExpireMs, c.idleExpireMs);
        queue.push(c);
      }
    }
  }

  /** Connections the dump did not show ended between polls. */
  endPoll(now: number, res: PollResult): PollResult {
    const gen = this.gen;
    const conns = this.connections;
    const queue = this.queue;
    if (res.seen < conns.size) {
      conns.forEach((c) => {
        if (c.seenGen === gen) return;
        const queued = queue.has(c);
        if (c.readyToDelete || (!queued && !this.hasUnexported(c))) {
          if (queued) queue.remove(c);
          conns.delete(c);
          res.deleted++;
          return;
        }
        if (!c.dying) {
          c.dying = true;
          res.ended++;
          c.expireAt = now;
          queue.push(c);
        }
      });
    }
    return res;
  }

  /** When the next connection is due, or undefined with an empty queue. */
  nextExpiry(): number | undefined {
    return this.queue.peek()?.expireAt;
  }

  /**
   * Emits a record for each connection due at `now`, at most `max`, and moves each on: an active one starts a new
   * active period, an idle one leaves the queue until it has traffic again, a dying one is deleted once gone.
   */
  exportExpired(now: number, max: number, emit: EmitRecord): number {
    const queue = this.queue;
    let n = 0;
    while (n < max) {
      const c = queue.popExpired(now);
      if (c === undefined) break;
      let reason: number;
      if (c.dying) reason = FlowEndReason.EndOfFlow;
      else if (c.idleExpireMs <= now) {
        reason = FlowEndReason.Idle;
        c.active = false;
      } else reason = FlowEndReason.Active;
      // Pods created after the connection was first seen (informer lag) are found now.
      if (c.srcPod === undefined) c.srcPod = this.enricher.podByIP(c.srcIP);
      if (c.dstPod === undefined) c.dstPod = this.enricher.podByIP(c.dstIP);
      emit(c, reason);
      n++;
      c.lastExportMs = now;
      c.prevPackets = c.packets;
      c.prevBytes = c.bytes;
      c.prevRevPackets = c.revPackets;
      c.prevRevBytes = c.revBytes;
      if (reason === FlowEndReason.EndOfFlow) {
        c.readyToDelete = true;
        if (c.seenGen !== this.gen) this.connections.delete(c);
      } else if (reason === FlowEndReason.Active) {
        c.activeExpireMs = now + this.activeMs;
        c.expireAt = Math.min(c.activeExpireMs, c.idleExpireMs);
        queue.push(c);
      }
    }
    return n;
  }

  private replace(old: Connection, hash: number, e: ConntrackEntry, now: number, gen: number): void {
    this.queue.remove(old);
    this.connections.delete(old);
    const c = this.create(hash, e, now, gen);
    this.connections.add(c);
    this.queue.push(c);
  }

  private hasUnexported(c: Connection): boolean {
    return c.packets !== c.prevPackets || c.revPackets !== c.prevRevPackets || c.bytes !== c.prevBytes || c.revBytes !== c.prevRevBytes;
  }

  private create(hash: number, e: ConntrackEntry, now: number, gen: number): Connection {
    const proto = protoNumber(e.protocol);
    const state = e.state ?? '';
    const closed = isClosedTcp(proto, state);
    const o = e.orig;
    const r = e.reply;
    const activeExpireMs = now + this.activeMs;
    const idleExpireMs = now + this.idleMs;
    const c: Connection = {
      key: connKey(e),
      hash,
      bucketNext: undefined,
      zone: e.zone,
      protocol: e.protocol,
      proto,
      ipv6: o.src.includes(':'),
      srcIP: o.src,
      srcPort: o.sport,
      dstIP: r.src,
      dstPort: r.sport,
      origDstIP: o.dst,
      origDstPort: o.dport,
      startMs: e.startTime,
      stopMs: closed ? e.lastSeen : now,
      packets: o.packets,
      bytes: o.bytes,
      revPackets: r.packets,
      revBytes: r.bytes,
      prevPackets: 0,
      prevBytes: 0,
      prevRevPackets: 0,
      prevRevBytes: 0,
      tcpState: state,
      mark: e.mark,
      labels: e.labels,
      seenGen: gen,
      dying: closed,
      active: true,
      readyToDelete: false,
      lastExportMs: 0,
      activeExpireMs,
      idleExpireMs,
      expireAt: closed ? now : Math.min(activeExpireMs, idleExpireMs),
      heapIndex: -1,
      srcPod: this.enricher.podByIP(o.src),
      dstPod: this.enricher.podByIP(r.src),
      // DNAT shows as a reply that does not come from where the client dialled.
      service: r.src !== o.dst || r.sport !== o.dport ? this.enricher.serviceByFrontend(o.dst, o.dport, proto) : undefined,
      ingress: undefined,
      egress: undefined,
    };
    this.resolvePolicies(c);
    return c;
  }

  /** ct_label holds the conjunction ids of the Allow rules that committed the connection. */
  private resolvePolicies(c: Connection): void {
    c.ingress = undefined;
    c.egress = undefined;
    if (c.labels === '' || c.labels === '0x0' || c.labels === '0') return;
    let label: bigint;
    try {
      label = BigInt(c.labels);
    } catch {
      return;
    }
    const ingressID = Number(label & 0xffffffffn);
    const egressID = Number((label >> 32n) & 0xffffffffn);
    if (ingressID !== 0) c.ingress = this.enricher.policyByConjID(ingressID, 'In');
    if (egressID !== 0) c.egress = this.enricher.policyByConjID(egressID, 'Out');
  }
}
