/**
 * One Service's EndpointSlices merged incrementally: a slice change updates the endpoints it contributed, so a
 * one-endpoint change in a Service of 100 slices and 10,000 endpoints costs one slice's worth of work plus copying
 * the sorted list (references), not re-merging and re-sorting every slice.
 *
 * Same result as merging from scratch (`EndpointsBuilder` over the slices in the order they were applied): each
 * endpoint under each port of its slice, one per `ip:port`; of several copies the one that can take traffic wins
 * (ready, then serving, then with a Node name), on a tie the copy from the slice applied first (then the first in
 * that slice); lists sorted by IP, then port.
 */
import type { L4Protocol } from '../../datapath/types.js';
import { endpointOrder as order, endpointRank as rank } from './endpoints.js';
import { endpointId, servicePortKey, type EndpointInfo, type EndpointsByPort, type ServiceName, type ServicePortKey } from './types.js';

/** The part of a slice the proxy uses; two slices with the same info are the same to it. */
export interface SliceInfo {
  ports: { name: string; port: number; protocol: string }[];
  endpoints: { ip: string; nodeName?: string; ready: boolean; serving: boolean; terminating: boolean }[];
}

const PROTOCOLS: ReadonlySet<string> = new Set(['TCP', 'UDP', 'SCTP']);

function sameInfo(a: EndpointInfo | undefined, b: EndpointInfo | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.ip === b.ip && a.port === b.port && a.nodeName === b.nodeName &&
    a.ready === b.ready && a.serving === b.serving && a.terminating === b.terminating);
}

/** One slice's copy of an endpoint (a slice's best copy when it lists the endpoint twice). */
interface Copy {
  readonly slice: string;
  readonly ep: EndpointInfo;
}

interface Port {
  /** Endpoint id → its copies: one (the usual case, held without an array) or several slices'. */
  copies: Map<string, Copy | Copy[]>;
  /** The winners, sorted; replaced (never mutated) when they change, since a snapshot hands it out. */
  sorted: readonly EndpointInfo[];
  /** Ids whose winner may have changed since the last snapshot, with their sort key. */
  touched: Map<string, number>;
}

const copiesOf = (v: Copy | Copy[] | undefined): readonly Copy[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export class MergedSlices {
  private readonly ports = new Map<ServicePortKey, Port>();
  /** Slice name → when it was first applied: ties go to the earlier slice, as in a merge in applied order. */
  private readonly ordinal = new Map<string, number>();
  private nextOrdinal = 0;

  constructor(private readonly service: ServiceName) {}

  /** A slice went from `before` to `after` (undefined: absent). */
  update(slice: string, before: SliceInfo | undefined, after: SliceInfo | undefined): void {
    if (before) {
      this.each(before, (p, id, ep) => {
        const rest = copiesOf(p.copies.get(id)).filter((c) => c.slice !== slice);
        if (rest.length === 0) p.copies.delete(id);
        else p.copies.set(id, rest.length === 1 ? (rest[0] as Copy) : rest);
        p.touched.set(id, order(ep));
      });
    }
    if (!after) {
      this.ordinal.delete(slice);
      return;
    }
    if (!this.ordinal.has(slice)) this.ordinal.set(slice, this.nextOrdinal++);
    this.each(after, (p, id, ep) => {
      const v = p.copies.get(id);
      const list = copiesOf(v);
      const at = list.findIndex((c) => c.slice === slice);
      if (v === undefined) p.copies.set(id, { slice, ep });
      else if (at < 0) p.copies.set(id, [...list, { slice, ep }]);
      else if (rank(ep) > rank((list[at] as Copy).ep)) {
        const next = [...list];
        next[at] = { slice, ep };
        p.copies.set(id, next.length === 1 ? (next[0] as Copy) : next);
      }
      p.touched.set(id, order(ep));
    });
  }

  /** The merged endpoints: ports whose winners did not change keep the same list. */
  snapshot(): EndpointsByPort {
    const out = new Map<ServicePortKey, readonly EndpointInfo[]>();
    for (const [key, p] of this.ports) {
      if (p.touched.size > 0) this.settle(p);
      if (p.sorted.length > 0) out.set(key, p.sorted);
      else if (p.copies.size === 0) this.ports.delete(key);
    }
    return out;
  }

  private each(info: SliceInfo, fn: (p: Port, id: string, ep: EndpointInfo) => void): void {
    for (const port of info.ports) {
      if (!PROTOCOLS.has(port.protocol)) continue;
      const p = this.port(servicePortKey(this.service, port.name, port.protocol as L4Protocol));
      for (const e of info.endpoints) {
        const ep: EndpointInfo = { ...e, port: port.port };
        fn(p, endpointId(ep), ep);
      }
    }
  }

  private port(key: ServicePortKey): Port {
    let p = this.ports.get(key);
    if (!p) this.ports.set(key, (p = { copies: new Map(), sorted: [], touched: new Map() }));
    return p;
  }

  /** The copy that wins: the best rank, then the earliest slice. */
  private winner(copies: readonly Copy[]): EndpointInfo | undefined {
    let win: Copy | undefined;
    let winOrd = Infinity;
    for (const c of copies) {
      const ord = this.ordinal.get(c.slice) ?? Infinity;
      if (!win || rank(c.ep) > rank(win.ep) || (rank(c.ep) === rank(win.ep) && ord < winOrd)) {
        win = c;
        winOrd = ord;
      }
    }
    return win?.ep;
  }

  /** Re-decides the touched ids' winners and patches the sorted list (a copy) where they changed. */
  private settle(p: Port): void {
    const removed: EndpointInfo[] = [];
    const upserted: EndpointInfo[] = [];
    for (const [id, n] of p.touched) {
      const win = this.winner(copiesOf(p.copies.get(id)));
      // The current winner, found by its sort key (unique per IPv4 ip:port).
      const at = lowerBound(p.sorted, n);
      const cur = p.sorted[at];
      const had = cur !== undefined && order(cur) === n ? cur : undefined;
      if (sameInfo(had, win)) continue;
      if (had) removed.push(had);
      if (win) upserted.push(win);
    }
    p.touched.clear();
    if (removed.length === 0 && upserted.length === 0) return;
    // Few changes: binary-search each into a copy. Many (a first merge, a big slice replaced): rebuild and sort.
    if (upserted.length + removed.length > 64) {
      const all: { n: number; e: EndpointInfo }[] = [];
      for (const v of p.copies.values()) {
        const e = this.winner(copiesOf(v));
        if (e) all.push({ n: order(e), e });
      }
      all.sort((a, b) => a.n - b.n);
      p.sorted = all.map((x) => x.e);
      return;
    }
    const next = p.sorted.slice();
    for (const e of removed) {
      const at = lowerBound(next, order(e));
      if (at < next.length && (next[at] as EndpointInfo).ip === e.ip && (next[at] as EndpointInfo).port === e.port) next.splice(at, 1);
    }
    for (const e of upserted) next.splice(lowerBound(next, order(e)), 0, e);
    p.sorted = next;
  }
}

/** The first index whose endpoint sorts at or after `n`. */
function lowerBound(list: readonly EndpointInfo[], n: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order(list[mid] as EndpointInfo) < n) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
