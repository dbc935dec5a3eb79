/**
 * One ServicePort compiled at Endpoint granularity. The compiler keeps a `ServiceParts` per ServicePort between
 * changes and asks it for a plan against the next frontend: which Endpoints (each with its EndpointDNAT flow and its
 * bucket) and which hairpinned local IPs (each with its HairpinSNAT flow) came and went. A one-Endpoint change in a
 * 10,000-Endpoint Service then builds, renders and diffs one flow and one bucket; what stays proportional to the
 * Service is comparing the list with the previous one in place (`window`) and copying the group's bucket array.
 *
 * Planning does not change the state: the compiler validates the plan's flows first and commits only if they are
 * accepted, so a refused upsert leaves the ServicePort as it was.
 */
import type { Bucket, Flow, Group } from './flow.js';
import { flowIdentity } from './render.js';
import type { ServiceEndpoint, ServiceFrontend } from '../types.js';
import { endpointBucket, endpointBucketId, endpointDnatFlow, endpointKey, hairpinFlow, uniqueEndpoints } from './stages/service.js';

/** Flows that one part of a ServicePort owns (the compiler reference-counts them by owner). */
export interface FlowPart {
  /** Owner key in the compiler: `service/KEY|ep/ip:port` or `service/KEY|hairpin/ip`. */
  readonly owner: string;
  readonly flow: Flow;
  /** flowIdentity(flow). */
  readonly id: string;
}

export interface EndpointPart extends FlowPart {
  readonly key: string;
  readonly ep: ServiceEndpoint;
  readonly bucket: Bucket;
}

export interface ServicePlan {
  readonly group: Group;
  /** Parts whose flows are new (added Endpoints, newly hairpinned IPs). */
  readonly addedFlows: FlowPart[];
  /** Parts whose flows go (removed Endpoints, IPs no longer hairpinned). */
  readonly removedFlows: FlowPart[];
  /** Bucket changes against the group as it was (a changed bucket is removed and inserted with its id). */
  readonly removedBuckets: Bucket[];
  readonly insertedBuckets: Bucket[];
  /** Makes the plan the state. */
  commit(): void;
}

interface HairpinPart extends FlowPart {
  /** How many of the ServicePort's Endpoints are local with this IP. */
  count: number;
}

export class ServiceParts {
  private readonly endpoints = new Map<string, EndpointPart>();
  /** Bucket id → Endpoint key. */
  private readonly bucketIds = new Map<number, string>();
  private readonly hairpins = new Map<string, HairpinPart>();
  private affinity = false;
  /** The previous frontend's Endpoints and their buckets, index for index; absent when it had duplicates. */
  private list?: { eps: readonly ServiceEndpoint[]; buckets: readonly Bucket[] };

  constructor(
    /** `service/KEY`: prefix of the parts' owner keys. */
    private readonly owner: string,
    private readonly cookie: bigint,
  ) {}

  /** Every flow the parts own (for flowsOf). */
  flows(): Flow[] {
    return [...[...this.endpoints.values()].map((p) => p.flow), ...[...this.hairpins.values()].map((p) => p.flow)];
  }

  /** Every part with flows, for removing the ServicePort. */
  flowParts(): FlowPart[] {
    return [...this.endpoints.values(), ...this.hairpins.values()];
  }

  /**
   * The plan that takes this ServicePort to `svc`. `check` validates each Endpoint the plan has to look at: those of
   * the changed window, or all of them when there is no window.
   */
  plan(svc: ServiceFrontend, groupId: number, check: (ep: ServiceEndpoint) => void = () => undefined): ServicePlan {
    const affinity = svc.sessionAffinityTimeout !== undefined;
    const rebucket = affinity !== this.affinity;
    const eps = svc.endpoints;
    const win = rebucket ? undefined : this.window(eps);
    /** The Endpoints that may have come or changed, and the previous ones that may have gone. */
    const next = win?.next ?? uniqueEndpoints(eps);
    for (const ep of next.values()) check(ep);
    const removed: EndpointPart[] = [];
    if (win) {
      for (const p of win.old) if (!next.has(p.key)) removed.push(p);
    } else {
      for (const [key, part] of this.endpoints) if (!next.has(key)) removed.push(part);
    }
    const freed = new Set(removed.map((p) => p.bucket.id));
    const claimed = new Set<number>();
    const taken = (id: number) => claimed.has(id) || (this.bucketIds.has(id) && !freed.has(id));

    const affinityGroup = affinity ? groupId : undefined;
    /** Endpoints that stay but whose EndpointDNAT flow changes (affinity turned on or off). */
    const reflowedOld: EndpointPart[] = [];
    const reflowedNew: EndpointPart[] = [];
    const upserted: EndpointPart[] = [];
    const added: EndpointPart[] = [];
    const removedBuckets: Bucket[] = removed.map((p) => p.bucket);
    const insertedBuckets: Bucket[] = [];
    /** Change of each IP's count of local Endpoints. */
    const localDelta = new Map<string, number>();
    const bump = (ip: string, by: number) => localDelta.set(ip, (localDelta.get(ip) ?? 0) + by);
    for (const p of removed) if (p.ep.isLocal) bump(p.ep.ip, -1);
    const middle: Bucket[] = [];
    for (const [key, ep] of next) {
      const had = this.endpoints.get(key);
      let part = had;
      if (!had) {
        const id = endpointBucketId(key, taken);
        claimed.add(id);
        const flow = endpointDnatFlow(svc.protocol, ep, this.cookie, affinityGroup);
        part = { owner: `${this.owner}|ep/${key}`, key, ep, bucket: endpointBucket(ep, affinity, id), flow, id: flowIdentity(flow) };
        added.push(part);
        upserted.push(part);
        insertedBuckets.push(part.bucket);
        if (ep.isLocal) bump(ep.ip, 1);
      } else if (rebucket || had.ep.isLocal !== ep.isLocal) {
        part = { ...had, ep, bucket: rebucket ? endpointBucket(ep, affinity, had.bucket.id) : had.bucket };
        upserted.push(part);
        if (rebucket) {
          removedBuckets.push(had.bucket);
          insertedBuckets.push(part.bucket);
          // Affinity on or off also swaps the Endpoint's shared EndpointDNAT flow for this Service's own, or back.
          const flow = endpointDnatFlow(svc.protocol, ep, this.cookie, affinityGroup);
          part = { ...part, flow, id: flowIdentity(flow) };
          upserted[upserted.length - 1] = part;
          reflowedOld.push(had);
          reflowedNew.push(part);
        }
        if (had.ep.isLocal !== ep.isLocal) bump(ep.ip, ep.isLocal ? 1 : -1);
      }
      middle.push((part as EndpointPart).bucket);
    }
    const buckets = win ? win.head.concat(middle, win.tail) : middle;

    const addedHairpins: HairpinPart[] = [];
    const removedHairpins: HairpinPart[] = [];
    const recounted: Array<[HairpinPart, number]> = [];
    for (const [ip, delta] of localDelta) {
      if (delta === 0) continue;
      const had = this.hairpins.get(ip);
      const count = (had?.count ?? 0) + delta;
      if (!had) {
        const flow = hairpinFlow(ip, this.cookie);
        addedHairpins.push({ owner: `${this.owner}|hairpin/${ip}`, flow, id: flowIdentity(flow), count });
      } else if (count === 0) removedHairpins.push(had);
      else recounted.push([had, count]);
    }

    return {
      group: { id: groupId, type: 'select', buckets },
      addedFlows: [...added, ...reflowedNew, ...addedHairpins],
      removedFlows: [...removed, ...reflowedOld, ...removedHairpins],
      removedBuckets,
      insertedBuckets,
      commit: () => {
        for (const p of removed) {
          this.endpoints.delete(p.key);
          this.bucketIds.delete(p.bucket.id);
        }
        for (const p of upserted) {
          this.endpoints.set(p.key, p);
          this.bucketIds.set(p.bucket.id, p.key);
        }
        for (const h of removedHairpins) this.hairpins.delete(hairpinIP(h));
        for (const h of addedHairpins) this.hairpins.set(hairpinIP(h), h);
        for (const [h, count] of recounted) h.count = count;
        this.affinity = affinity;
        // Without duplicates, bucket i is Endpoint i's: the next plan can look for its window. The list is kept, not
        // copied: desired state handed to the compiler is not changed afterwards (it keeps the frontend too).
        this.list = next.size === eps.length || win ? { eps, buckets } : undefined;
      },
    };
  }

  /**
   * Where `eps` differs from the previous list: the longest common head and tail (same IP, port and locality, in
   * place) leave a window, usually one Endpoint wide, and only the window is diffed by key. Comparing the unchanged
   * head and tail costs a few nanoseconds per Endpoint; keying every Endpoint cost a string and a hash each.
   * Undefined (diff everything) when there is no previous list or the window holds a duplicate.
   */
  private window(eps: readonly ServiceEndpoint[]): { old: EndpointPart[]; next: Map<string, ServiceEndpoint>; head: Bucket[]; tail: Bucket[] } | undefined {
    const prev = this.list;
    if (!prev) return undefined;
    const a = prev.eps;
    const max = Math.min(a.length, eps.length);
    let head = 0;
    while (head < max && sameEndpoint(a[head] as ServiceEndpoint, eps[head] as ServiceEndpoint)) head++;
    let tail = 0;
    while (tail < max - head && sameEndpoint(a[a.length - 1 - tail] as ServiceEndpoint, eps[eps.length - 1 - tail] as ServiceEndpoint)) tail++;
    const fresh = eps.slice(head, eps.length - tail);
    const next = uniqueEndpoints(fresh);
    if (next.size !== fresh.length) return undefined;
    const old: EndpointPart[] = [];
    for (let i = head; i < a.length - tail; i++) old.push(this.endpoints.get(endpointKey(a[i] as ServiceEndpoint)) as EndpointPart);
    const oldKeys = new Set(old.map((p) => p.key));
    // An Endpoint of the head or tail again in the window is a duplicate: diff everything.
    for (const k of next.keys()) if (this.endpoints.has(k) && !oldKeys.has(k)) return undefined;
    return { old, next, head: prev.buckets.slice(0, head), tail: prev.buckets.slice(prev.buckets.length - tail) };
  }
}

function sameEndpoint(x: ServiceEndpoint, y: ServiceEndpoint): boolean {
  return x === y || (x.ip === y.ip && x.port === y.port && x.isLocal === y.isLocal);
}

function hairpinIP(h: FlowPart): string {
  return h.owner.slice(h.owner.lastIndexOf('/') + 1);
}
