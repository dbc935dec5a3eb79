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
    if (!had || rank(ep) > rank(had)) set.set(id, ep);
  }

  /** The endpoints per ServicePort, each list sorted (see compareEndpoints). */
  build(): Map<string, EndpointInfo[]> {
    const out = new Map<string, EndpointInfo[]>();
    for (const [key, set] of this.byPort) {
      out.set(key, [...set.values()].sort(compareEndpoints));
    }
    return out;
  }
}

const rank = (e: EndpointInfo) => (e.ready ? 4 : 0) + (e.serving ? 2 : 0) + (e.nodeName ? 1 : 0);

/** Orders by IP (numerically for IPv4), then port: a stable bucket order whatever order the objects came in. */
export function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  const x = ipv4Number(a.ip);
  const y = ipv4Number(b.ip);
  if (x !== y) return x - y;
  return a.port - b.port;
}

function ipv4Number(ip: string): number {
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
