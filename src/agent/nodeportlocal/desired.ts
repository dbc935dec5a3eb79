/**
 * What NodePortLocal wants for one Pod, from the Services of its namespace (Antrea 1.5's npl_controller.go):
 * a Service takes part when it has `nodeportlocal.antrea.io/enabled: "true"`, is not of type NodePort and has a
 * non-empty selector; each Pod it selects gets its target ports. A numeric targetPort is used as is; a named one
 * is resolved against the Pod's container ports of the same protocol. A port whose container declares a hostPort
 * for it reuses the hostPort instead of a Node port from the range. SCTP is not supported (Antrea's NPL rules are
 * TCP and UDP only).
 */
import type { Pod, Service, ServicePort } from '../../apis/core.js';
import { selectorFromSet } from '../../apis/labels.js';
import { NPL_ENABLED_ANNOTATION_KEY, type NplProtocol } from './annotation.js';

export interface NplTarget {
  podPort: number;
  protocol: NplProtocol;
  /** Set when a container publishes this port on the Node itself: no NPL port is allocated. */
  hostPort?: number;
}

export interface PodTargets {
  /** Keyed `port:proto` (Antrea's key), sorted by key. */
  targets: NplTarget[];
  /** Service ports that cannot be served, and why (SCTP, a name no container port has). */
  skipped: string[];
}

export const targetKey = (t: Pick<NplTarget, 'podPort' | 'protocol'>): string => `${t.podPort}:${t.protocol}`;

/** Whether a Service asks for NodePortLocal on its backend Pods. */
export function isNplService(svc: Service): boolean {
  if (svc.metadata.annotations?.[NPL_ENABLED_ANNOTATION_KEY] !== 'true') return false;
  if (svc.spec?.type === 'NodePort') return false;
  return Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** Whether an NPL Service selects the Pod (same namespace, selector a subset of the Pod's labels). */
export function nplServiceSelects(svc: Service, pod: Pod): boolean {
  if (!isNplService(svc) || svc.metadata.namespace !== pod.metadata.namespace) return false;
  return selectorFromSet(svc.spec.selector).matches(pod.metadata.labels);
}

const protocolOf = (p: string | undefined): string => (p ?? 'TCP').toLowerCase();

function containerPorts(pod: Pod) {
  return (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
}

function resolve(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const proto = protocolOf(port.protocol);
  return containerPorts(pod).find((cp) => cp.name === target && protocolOf(cp.protocol) === proto)?.containerPort;
}

/** The ports NodePortLocal must map for `pod`, given the Services of its namespace. */
export function podTargets(pod: Pod, services: readonly Service[]): PodTargets {
  const targets = new Map<string, NplTarget>();
  const skipped: string[] = [];
  for (const svc of services) {
    if (!nplServiceSelects(svc, pod)) continue;
    const svcName = `${svc.metadata.namespace}/${svc.metadata.name}`;
    for (const port of svc.spec.ports ?? []) {
      const proto = protocolOf(port.protocol);
      if (proto !== 'tcp' && proto !== 'udp') {
        skipped.push(`${svcName} port ${port.name ?? port.port}: ${proto.toUpperCase()} is not supported by NodePortLocal (TCP and UDP only)`);
        continue;
      }
      const podPort = resolve(pod, port);
      if (podPort === undefined) {
        skipped.push(`${svcName} port ${port.name ?? port.port}: no ${proto.toUpperCase()} container port is named "${String(port.targetPort)}"`);
        continue;
      }
      const t: NplTarget = { podPort, protocol: proto };
      targets.set(targetKey(t), t);
    }
  }
  for (const cp of containerPorts(pod)) {
    const t = targets.get(`${cp.containerPort}:${protocolOf(cp.protocol)}`);
    if (t && cp.hostPort !== undefined && cp.hostPort > 0) t.hostPort = cp.hostPort;
  }
  return { targets: [...targets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t), skipped };
}
