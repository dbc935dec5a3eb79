/**
 * What a Service means to AntreaProxy: its ServicePorts (kube-proxy's `newBaseServiceInfo`), or nothing when the
 * proxy skips it (kube-proxy's `ShouldSkipService`: headless, ExternalName, no ClusterIP, listed in
 * `antreaProxy.skipServices` by `ns/name` or by ClusterIP). The datapath is IPv4-only for now, so a Service without
 * an IPv4 ClusterIP is skipped too.
 */
import type { Service } from '../../apis/core.js';
import type { L4Protocol } from '../../datapath/types.js';
import { servicePortKey, type ServicePortInfo } from './types.js';

export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

export interface ServiceOptions {
  /** `ns/name` or ClusterIP strings (`antreaProxy.skipServices`). */
  skipServices?: readonly string[];
  /** Program LoadBalancer ingress IPs too (`antreaProxy.proxyLoadBalancerIPs`). */
  proxyLoadBalancerIPs?: boolean;
  /** Carry node ports (`antreaProxy.proxyAll`); the datapath ignores them until it models NodePort. */
  proxyAll?: boolean;
}

const isV4 = (ip: string) => ip !== '' && !ip.includes(':');

/** Why a Service is not proxied, or undefined when it is. */
export function skipReason(svc: Service, skip: ReadonlySet<string>): string | undefined {
  const spec = svc.spec;
  const clusterIP = spec.clusterIP ?? '';
  if (spec.type === 'ExternalName') return 'ExternalName';
  if (clusterIP === 'None') return 'headless';
  if (clusterIP === '') return 'no ClusterIP';
  if (skip.has(`${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`) || skip.has(clusterIP)) return 'in antreaProxy.skipServices';
  if (!ipv4ClusterIP(svc)) return 'no IPv4 ClusterIP (the datapath is IPv4-only)';
  return undefined;
}

function ipv4ClusterIP(svc: Service): string | undefined {
  const ips = svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec.clusterIP ?? ''];
  return ips.find(isV4);
}

/** The Service's ports keyed by ServicePort name; empty when the Service is skipped. */
export function servicePorts(svc: Service | undefined, opts: ServiceOptions & { skip: ReadonlySet<string> }): Map<string, ServicePortInfo> {
  const out = new Map<string, ServicePortInfo>();
  if (!svc || skipReason(svc, opts.skip) !== undefined) return out;
  const namespace = svc.metadata.namespace ?? '';
  const name = svc.metadata.name ?? '';
  const clusterIP = ipv4ClusterIP(svc) as string;
  const affinity = svc.spec.sessionAffinity === 'ClientIP'
    ? (svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
    : undefined;
  const lbIPs = opts.proxyLoadBalancerIPs
    ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(isV4).sort()
    : [];
  for (const p of svc.spec.ports ?? []) {
    const protocol = (p.protocol ?? 'TCP') as L4Protocol;
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') continue;
    const portName = p.name ?? '';
    const info: ServicePortInfo = { namespace, name, portName, protocol, clusterIP, port: p.port };
    if (opts.proxyAll && p.nodePort) info.nodePort = p.nodePort;
    if (lbIPs.length > 0) info.loadBalancerIPs = lbIPs;
    if (affinity !== undefined) info.sessionAffinityTimeout = affinity;
    out.set(servicePortKey(`${namespace}/${name}`, portName, protocol), info);
  }
  return out;
}

export function skipSet(skipServices: readonly string[] | undefined): Set<string> {
  return new Set((skipServices ?? []).map((s) => s.trim()).filter(Boolean));
}
