/**
 * Endpoints (core/v1) as AntreaProxy reads them when the EndpointSlice gate is off: every ready address of a subset
 * is an endpoint of each of the subset's ports; `notReadyAddresses` are not endpoints (kube-proxy's
 * `endpointsToEndpointsMap`). A named target port has already been resolved per Pod by the endpoints controller,
 * which puts Pods resolving it differently in different subsets; the proxy matches Service and endpoint ports by
 * name and protocol, and takes the number from the subset.
 */
import type { Endpoints } from '../../apis/core.js';
import type { L4Protocol } from '../../datapath/types.js';
import { endpointId, servicePortKey, type EndpointInfo, type EndpointsByPort } from './types.js';

const PROTOCOLS: ReadonlySet<string> = new Set(['TCP', 'UDP', 'SCTP']);

/**
 * Collects endpoints per ServicePort, dropping duplicates by `ip:port`: of two entries for one address (the same Pod
 * in two slices, mid-update), the one that can take traffic wins, then the one with a Node name.
 */
export class EndpointsBuilder {
  private readonly byPort = new Map<string, Map<string, EndpointInfo>>();

  add(service: string, portName: string, protocol: string | undefined, ep: EndpointInfo): void {
    const proto = protocol ?? 'TCP';
    if (!PROTOCOLS.has(proto)) return;
    const key = servicePortKey(service, portName, proto as L4Protocol);
    let set = this.byPort.get(key);
    if (!set) this.byPort.set(key, (set = new Map()));
    const id = endpointId(ep);
    const had = set.get(id);
    if (!had || endpointRank(ep) > endpointRank(had)) set.set(id, ep);
  }

  /** The endpoints per ServicePort, each list sorted (see compareEndpoints). */
  build(): Map<string, EndpointInfo[]> {
    const out = new Map<string, EndpointInfo[]>();
    for (const [key, set] of this.byPort) {
      // Decorate once: parsing each IP inside the comparator would parse it log(n) times.
      const decorated = [...set.values()].map((e) => ({ n: endpointOrder(e), e }));
      decorated.sort((a, b) => a.n - b.n);
      out.set(key, decorated.map((d) => d.e));
    }
    return out;
  }
}

/** Which copy of an endpoint listed twice wins: ready, then serving, then one that names its Node. */
export const endpointRank = (e: EndpointInfo) => (e.ready ? 4 : 0) + (e.serving ? 2 : 0) + (e.nodeName ? 1 : 0);

/** The bucket order as one number: IP (numerically for IPv4), then port. */
export const endpointOrder = (e: EndpointInfo) => ipv4Number(e.ip) * 65536 + e.port;

/** Orders by IP (numerically for IPv4), then port: a stable bucket order whatever order the objects came in. */
export function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  const x = ipv4Number(a.ip);
  const y = ipv4Number(b.ip);
  if (x !== y) return x - y;
  return a.port - b.port;
}

export function ipv4Number(ip: string): number {
  let n = 0;
  for (const part of ip.split('.')) n = n * 256 + Number(part);
  return n;
}

export const isIPv4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/** The endpoints of one Endpoints object, per ServicePort. IPv6 addresses are skipped (IPv4-only datapath). */
export function endpointsFromEndpoints(ep: Endpoints | undefined): EndpointsByPort {
  const out = new EndpointsBuilder();
  if (!ep) return out.build();
  const service = `${ep.metadata.namespace ?? ''}/${ep.metadata.name ?? ''}`;
  for (const subset of ep.subsets ?? []) {
    for (const port of subset.ports ?? []) {
      for (const addr of subset.addresses ?? []) {
        if (!isIPv4(addr.ip)) continue;
        out.add(service, port.name ?? '', port.protocol, {
          ip: addr.ip,
          port: port.port,
          ...(addr.nodeName ? { nodeName: addr.nodeName } : {}),
          ready: true,
          serving: true,
          terminating: false,
        });
      }
    }
  }
  return out.build();
}

/** Equality of two sorted endpoint lists, field by field (no serialising: lists can hold 10,000 endpoints). */
export function sameEndpoints(a: readonly EndpointInfo[] | undefined, b: readonly EndpointInfo[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as EndpointInfo;
    const y = b[i] as EndpointInfo;
    if (x.ip !== y.ip || x.port !== y.port || x.nodeName !== y.nodeName || x.ready !== y.ready || x.serving !== y.serving || x.terminating !== y.terminating) return false;
  }
  return true;
}

export function sameEndpointsByPort(a: EndpointsByPort, b: EndpointsByPort): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!sameEndpoints(v, b.get(k))) return false;
  return true;
}
