/**
 * EndpointSlices merged per Service (kube-proxy's `EndpointSliceCache`). Each Service has the slices the proxier
 * has applied and the slice changes not yet applied; `checkout()` turns the pending ones into one
 * `{previous, current}` endpoints change per Service, computed over all the Service's slices, so an endpoint moving
 * from one slice to another is no change at all.
 *
 * Differences from Antrea 1.5 (which only kept `ready` endpoints of v1beta1 slices): the `ready`, `serving` and
 * `terminating` conditions are kept, so the proxier can fall back to serving-terminating endpoints as kube-proxy
 * does. Slices of another address family than IPv4 are skipped (the datapath is IPv4-only) with one debug line per
 * slice.
 */
import type { EndpointSlice } from '../../apis/discovery.js';
import { serviceNameLabel } from '../../apis/discovery.js';
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
import type { Change } from './changetracker.js';
import { isIPv4, sameEndpointsByPort } from './endpoints.js';
import { MergedSlices, type SliceInfo } from './slicemerge.js';
import type { EndpointsByPort, ServiceName } from './types.js';

interface ServiceSlices {
  applied: Map<string, SliceInfo>;
  /** null: the slice was deleted. */
  pending: Map<string, SliceInfo | null>;
  /** `applied` merged, updated slice by slice (a one-endpoint change does not re-merge 100 slices). */
  merge: MergedSlices;
  /** The merge as of the last checkout: it is the next checkout's `previous`. */
  merged: EndpointsByPort;
}

const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';

/** The Service a slice belongs to, from its `kubernetes.io/service-name` label. */
export function sliceService(slice: EndpointSlice): ServiceName | undefined {
  const name = slice.metadata.labels?.[serviceNameLabel];
  return name ? `${slice.metadata.namespace ?? ''}/${name}` : undefined;
}

/** Reduces a slice to what the proxy uses. Unset conditions: ready when unknown, serving as ready, not terminating. */
export function sliceInfo(slice: EndpointSlice): SliceInfo {
  const ports = (slice.ports ?? [])
    // A port without a number cannot be programmed (kube-proxy skips it too).
    .filter((p) => typeof p.port === 'number' && p.port > 0)
    .map((p) => ({ name: p.name ?? '', port: p.port as number, protocol: p.protocol ?? 'TCP' }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.port - b.port));
  const endpoints: SliceInfo['endpoints'] = [];
  for (const e of slice.endpoints ?? []) {
    const ip = e.addresses?.[0];
    if (!ip || !isIPv4(ip)) continue;
    const ready = e.conditions?.ready ?? true;
    const serving = e.conditions?.serving ?? ready;
    const terminating = e.conditions?.terminating ?? false;
    const nodeName = e.nodeName ?? e.topology?.[HOSTNAME_TOPOLOGY_KEY];
    endpoints.push({ ip, ...(nodeName ? { nodeName } : {}), ready, serving, terminating });
  }
  return { ports, endpoints };
}

const sameInfo = (a: SliceInfo | null | undefined, b: SliceInfo | null | undefined): boolean =>
  a === b || (a != null && b != null && JSON.stringify(a) === JSON.stringify(b));

export class EndpointSliceCache {
  private readonly services = new Map<ServiceName, ServiceSlices>();
  /** Services with pending slice changes, so a checkout never walks every Service. */
  private readonly dirty = new Set<ServiceName>();
  private readonly log: Logger;

  constructor(logger: Logger = silentLogger) {
    this.log = logger;
  }

  /**
   * Records a slice's new state (`removed`: it was deleted). Returns true when the Service now has a pending change;
   * an update that changes nothing the proxy uses is dropped here.
   */
  update(slice: EndpointSlice, removed: boolean): boolean {
    const service = sliceService(slice);
    if (!service) return false;
    const name = slice.metadata.name ?? '';
    if (slice.addressType !== 'IPv4') {
      if (!removed) this.log.debug('EndpointSlice skipped: the datapath is IPv4-only', { slice: `${slice.metadata.namespace ?? ''}/${name}`, addressType: slice.addressType });
      return false;
    }
    let s = this.services.get(service);
    if (!s) this.services.set(service, (s = { applied: new Map(), pending: new Map(), merge: new MergedSlices(service), merged: new Map() }));
    const info = removed ? null : sliceInfo(slice);
    const applied = s.applied.get(name) ?? null;
    if (sameInfo(info, applied)) {
      // Back to what is applied: nothing to do for this slice any more.
      s.pending.delete(name);
    } else if (!(s.pending.has(name) && sameInfo(info, s.pending.get(name)))) {
      s.pending.set(name, info);
    }
    const hasPending = s.pending.size > 0;
    if (hasPending) this.dirty.add(service);
    else {
      this.dirty.delete(service);
      if (s.applied.size === 0) this.services.delete(service);
    }
    return hasPending;
  }

  /** Applies every pending slice change and returns, per Service, its endpoints before and after. */
  checkout(): Change<EndpointsByPort>[] {
    const out: Change<EndpointsByPort>[] = [];
    for (const service of this.dirty) {
      const s = this.services.get(service);
      if (!s || s.pending.size === 0) continue;
      const previous = s.merged;
      for (const [name, info] of s.pending) {
        s.merge.update(name, s.applied.get(name), info ?? undefined);
        if (info === null) s.applied.delete(name);
        else s.applied.set(name, info);
      }
      s.pending.clear();
      const current = s.merge.snapshot();
      s.merged = current;
      if (s.applied.size === 0) this.services.delete(service);
      if (!sameEndpointsByPort(previous, current)) out.push({ key: service, previous, current });
    }
    this.dirty.clear();
    return out;
  }

  /** The merged endpoints of a Service as applied (for tests and the `/proxy` view). */
  endpoints(service: ServiceName): EndpointsByPort {
    const s = this.services.get(service);
    return s ? s.merged : new Map();
  }
}
