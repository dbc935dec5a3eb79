/**
 * What kube-controller-manager's endpoints and endpointslice controllers compute for a Service with a selector:
 * the Endpoints object and the EndpointSlices, from the Pods the selector picks. Pure, so it is tested on its own.
 */
import { createHash } from 'node:crypto';
import type { EndpointAddress, EndpointPort, Endpoints, Pod, Service, ServicePort } from '../../apis/core.js';
import { isPodReady, isPodTerminal } from '../../apis/core.js';
import type { AddressType, Endpoint, EndpointSlice, EndpointSlicePort } from '../../apis/discovery.js';
import { serviceNameLabel } from '../../apis/discovery.js';
import { selectorFromSet } from '../../apis/labels.js';
import { isIP } from 'node:net';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;


/** The Pods a Service selects: same namespace, matching labels, scheduled, with an address, not terminated. */
export function selectedPods(service: Service, pods: readonly Pod[]): Pod[] {
  const selector = service.spec.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const match = selectorFromSet(selector);
  return pods
    .filter(
      (p) =>
        p.metadata.namespace === service.metadata.namespace &&
        match.matches(p.metadata.labels ?? {}) &&
        Boolean(p.spec.nodeName) &&
        Boolean(p.status?.podIP) &&
        !isPodTerminal(p),
    )
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** The target port of a Service port for one Pod: a number, or a named container port looked up in the Pod. */
export function resolveTargetPort(port: ServicePort, pod: Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec.containers ?? []) {
    for (const cp of c.ports ?? []) if (cp.name === target && (cp.protocol ?? 'TCP') === protocol) return cp.containerPort;
  }
  return undefined;
}

function resolvedPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of service.spec.ports ?? []) {
    const port = resolveTargetPort(sp, pod);
    if (port === undefined) continue;
    out.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

const portsKey = (ports: readonly EndpointPort[]) => JSON.stringify(ports.map((p) => [p.name ?? '', p.port, p.protocol]));

function targetRef(pod: Pod) {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) };
}

/** The core/v1 Endpoints: ready Pods in `addresses`, unready ones in `notReadyAddresses`, terminating ones left out. */
export function desiredEndpoints(service: Service, pods: readonly Pod[]): Endpoints {
  const groups = new Map<string, { ports: EndpointPort[]; addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[] }>();
  for (const pod of selectedPods(service, pods)) {
    if (pod.metadata.deletionTimestamp) continue;
    const ports = resolvedPorts(service, pod);
    if (ports.length === 0 && (service.spec.ports?.length ?? 0) > 0) continue;
    const key = portsKey(ports);
    const group = groups.get(key) ?? { ports, addresses: [], notReadyAddresses: [] };
    groups.set(key, group);
    const address: EndpointAddress = { ip: pod.status?.podIP as string, nodeName: pod.spec.nodeName as string, targetRef: targetRef(pod) };
    (isPodReady(pod) ? group.addresses : group.notReadyAddresses).push(address);
  }
  const subsets = [...groups.values()].map((g) => ({
    ...(g.addresses.length ? { addresses: g.addresses } : {}),
    ...(g.notReadyAddresses.length ? { notReadyAddresses: g.notReadyAddresses } : {}),
    ports: g.ports,
  }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: service.metadata.name, namespace: service.metadata.namespace, labels: { ...(service.metadata.labels ?? {}) } },
    ...(subsets.length ? { subsets } : {}),
  };
}

function serviceFamilies(service: Service): AddressType[] {
  if (service.spec.ipFamilies?.length) return [...service.spec.ipFamilies];
  const ip = service.spec.clusterIP;
  if (ip && ip !== 'None' && isIP(ip) === 6) return ['IPv6'];
  return ['IPv4'];
}

function podAddress(pod: Pod, family: AddressType): string | undefined {
  const want = family === 'IPv6' ? 6 : 4;
  const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  return ips.find((ip) => isIP(ip) === want);
}

function sliceName(service: Service, family: AddressType, key: string, index: number): string {
  const hash = createHash('sha256').update(`${family}|${key}|${index}`).digest('hex').slice(0, 5);
  const base = (service.metadata.name ?? 'svc').slice(0, 240);
  return `${base}-${hash}`;
}

/**
 * The EndpointSlices (discovery.k8s.io/v1): one set per address family, endpoints grouped by their resolved ports,
 * at most `maxPerSlice` endpoints each. Names are derived from the Service, family, ports and index, so a resync
 * produces the same names and only changed slices are written.
 */
export function desiredEndpointSlices(service: Service, pods: readonly Pod[], maxPerSlice = DEFAULT_MAX_ENDPOINTS_PER_SLICE): EndpointSlice[] {
  const slices: EndpointSlice[] = [];
  for (const family of serviceFamilies(service)) {
    const groups = new Map<string, { ports: EndpointSlicePort[]; endpoints: Endpoint[] }>();
    for (const pod of selectedPods(service, pods)) {
      const address = podAddress(pod, family);
      if (!address) continue;
      const ports = resolvedPorts(service, pod);
      if (ports.length === 0 && (service.spec.ports?.length ?? 0) > 0) continue;
      const key = portsKey(ports);
      const group = groups.get(key) ?? { ports, endpoints: [] };
      groups.set(key, group);
      const ready = isPodReady(pod);
      const terminating = Boolean(pod.metadata.deletionTimestamp);
      group.endpoints.push({
        addresses: [address],
        conditions: { ready: ready && !terminating, serving: ready, terminating },
        nodeName: pod.spec.nodeName as string,
        targetRef: targetRef(pod),
      });
    }
    for (const [key, group] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      for (let i = 0, index = 0; i < group.endpoints.length; i += maxPerSlice, index++) {
        slices.push(makeSlice(service, family, sliceName(service, family, key, index), group.ports, group.endpoints.slice(i, i + maxPerSlice)));
      }
    }
    if (groups.size === 0) {
      // Like kube, keep one empty slice per family, so consumers can tell "no endpoints" from "not processed yet".
      const ports = (service.spec.ports ?? []).map((sp) => ({ ...(sp.name ? { name: sp.name } : {}), protocol: sp.protocol ?? 'TCP' }));
      slices.push(makeSlice(service, family, sliceName(service, family, 'empty', 0), ports, []));
    }
  }
  return slices;
}

function makeSlice(service: Service, family: AddressType, name: string, ports: EndpointSlicePort[], endpoints: Endpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: service.metadata.namespace,
      labels: { [serviceNameLabel]: service.metadata.name as string, [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Service', name: service.metadata.name as string, uid: service.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    addressType: family,
    endpoints,
    ports,
  };
}
