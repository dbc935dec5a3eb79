/**
 * What a real API server allocates on Service create: a ClusterIP from the service CIDR (unless the Service is
 * headless or ExternalName, or asks for a specific one) and node ports for NodePort and LoadBalancer Services.
 * Allocation scans the existing Services (few compared to Pods) and takes the lowest free value, so it is
 * deterministic and survives restarts without extra state.
 */
import type { KubeObject } from '../apis/meta.js';
import type { Service } from '../apis/core.js';
import type { FieldError } from '../apis/validation.js';

export interface ServiceAllocatorOptions {
  /** IPv4 CIDR for ClusterIPs; default 10.96.0.0/12 (kubeadm's default). */
  serviceCIDR?: string;
  /** Inclusive node port range; default 30000-32767. */
  nodePortRange?: [number, number];
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function serviceAllocator(opts: ServiceAllocatorOptions = {}) {
  const [net, bitsText] = (opts.serviceCIDR ?? '10.96.0.0/12').split('/');
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  const base = ipv4ToInt(net!) - (ipv4ToInt(net!) % size);
  const [portLo, portHi] = opts.nodePortRange ?? [30000, 32767];

  function prepareForCreate(obj: KubeObject, others: () => Iterable<KubeObject>): FieldError[] {
    const svc = obj as Service;
    const spec = svc.spec;
    if (typeof spec !== 'object' || spec === null) return [];
    const errs: FieldError[] = [];
    const wantsIP = spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
    const wantsPorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    if (!wantsIP && !wantsPorts) return errs;
    const usedIPs = new Set<string>();
    const usedPorts = new Set<number>();
    for (const o of others()) {
      const s = (o as Service).spec;
      if (s?.clusterIP) usedIPs.add(s.clusterIP);
      for (const p of s?.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
    }
    if (wantsIP && !spec.clusterIP) {
      // .0 is the network, .1 is kept for the `kubernetes` Service, the last is broadcast.
      let ip: string | undefined;
      for (let i = 2; i < size - 1; i++) {
        const candidate = intToIpv4(base + i);
        if (!usedIPs.has(candidate)) {
          ip = candidate;
          break;
        }
      }
      if (!ip) errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: '', detail: 'failed to allocate IP: range is full' });
      else {
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
        spec.ipFamilies ??= ['IPv4'];
      }
    } else if (wantsIP && spec.clusterIP && usedIPs.has(spec.clusterIP)) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [spec.clusterIP], detail: `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` });
    }
    if (wantsPorts) {
      (spec.ports ?? []).forEach((p, i) => {
        if (typeof p !== 'object' || p === null) return;
        if (p.nodePort) {
          if (usedPorts.has(p.nodePort)) errs.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: p.nodePort, detail: 'provided port is already allocated' });
          usedPorts.add(p.nodePort);
          return;
        }
        for (let port = portLo; port <= portHi; port++) {
          if (!usedPorts.has(port)) {
            p.nodePort = port;
            usedPorts.add(port);
            return;
          }
        }
        errs.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: 0, detail: 'range is full' });
      });
    }
    return errs;
  }

  /** A replace that omits allocated values keeps them, as the real Service strategy does. */
  function prepareForUpdate(obj: KubeObject, old: KubeObject): void {
    const spec = (obj as Service).spec;
    const prev = (old as Service).spec;
    if (typeof spec !== 'object' || spec === null || !prev) return;
    if (!spec.clusterIP && prev.clusterIP && spec.type !== 'ExternalName') {
      spec.clusterIP = prev.clusterIP;
      spec.clusterIPs ??= prev.clusterIPs;
    }
    if (!spec.ipFamilies && prev.ipFamilies) spec.ipFamilies = prev.ipFamilies;
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const p of spec.ports ?? []) {
        if (typeof p !== 'object' || p === null || p.nodePort) continue;
        const match = (prev.ports ?? []).find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (match?.nodePort) p.nodePort = match.nodePort;
      }
    }
  }

  return { prepareForCreate, prepareForUpdate };
}
