/**
 * Kubernetes context for flow records: Pods by IP (any Node: the records name the remote side too) and Service
 * ports by frontend (ClusterIP, port, protocol). Kept up to date from informer events so a lookup on the poll path is
 * one Map.get.
 */
import { podIPsOf, type Pod, type Service } from '../../apis/core.js';
import type { Informer } from '../../client/informer.js';
import type { PolicyLookup } from './policies.js';
import type { Enricher, PodRef, PolicyRef, ServiceRef } from './types.js';

const PROTO_BY_NAME: Readonly<Record<string, number>> = { TCP: 6, UDP: 17, SCTP: 132 };


/** `namespace/name`: what the indexes below are keyed by, and the prefix of a ServiceRef's portName. */
function nameOf(o: Pod | Service): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

function frontendKey(ip: string, port: number, proto: number): string {
  return `${ip}|${port}|${proto}`;
}

export class ClusterIndex implements Enricher {
  private readonly pods = new Map<string, PodRef>();
  /** Which IPs each Pod holds, to forget them on update or delete. */
  private readonly podIPsByKey = new Map<string, string[]>();
  private readonly frontends = new Map<string, ServiceRef>();
  private readonly frontendsByKey = new Map<string, string[]>();

  constructor(private readonly policies?: PolicyLookup) {}

  upsertPod(pod: Pod): void {
    const key = nameOf(pod);
    this.removePodKey(key);
    // Host-network Pods share their Node's IP: a Node IP names no Pod.
    if (pod.spec?.hostNetwork) return;
    const ips = podIPsOf(pod);
    if (ips.length === 0) return;
    const ref: PodRef = { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', node: pod.spec?.nodeName ?? '' };
    for (const ip of ips) this.pods.set(ip, ref);
    this.podIPsByKey.set(key, ips);
  }

  removePod(pod: Pod): void {
    this.removePodKey(nameOf(pod));
  }

  upsertService(svc: Service): void {
    const key = nameOf(svc);
    this.removeServiceKey(key);
    const ips = (svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec.clusterIP ? [svc.spec.clusterIP] : []).filter((ip) => ip !== 'None' && ip !== '');
    if (ips.length === 0) return;
    const keys: string[] = [];
    for (const p of svc.spec.ports ?? []) {
      const portName = p.name ? `${key}:${p.name}` : key;
      const proto = PROTO_BY_NAME[p.protocol ?? 'TCP'] ?? 6;
      for (const ip of ips) {
        const k = frontendKey(ip, p.port, proto);
        this.frontends.set(k, { portName, port: p.port, clusterIP: ip });
        keys.push(k);
      }
    }
    this.frontendsByKey.set(key, keys);
  }

  removeService(svc: Service): void {
    this.removeServiceKey(nameOf(svc));
  }

  podByIP(ip: string): PodRef | undefined {
    return this.pods.get(ip);
  }

  serviceByFrontend(ip: string, port: number, proto: number): ServiceRef | undefined {
    return this.frontends.get(frontendKey(ip, port, proto));
  }

  policyByConjID(conjID: number, direction: 'In' | 'Out'): PolicyRef | undefined {
    return this.policies?.lookup(conjID, direction);
  }

  /** Follows Pod and Service informers; returns a function that stops following. */
  follow(pods: Informer<Pod>, services: Informer<Service>): () => void {
    const offPods = pods.addEventHandler({
      onAdd: (p) => this.upsertPod(p),
      onUpdate: (_o, p) => this.upsertPod(p),
      onDelete: (p) => this.removePod(p),
    });
    const offServices = services.addEventHandler({
      onAdd: (s) => this.upsertService(s),
      onUpdate: (_o, s) => this.upsertService(s),
      onDelete: (s) => this.removeService(s),
    });
    return () => {
      offPods();
      offServices();
    };
  }

  private removePodKey(key: string): void {
    const ips = this.podIPsByKey.get(key);
    if (!ips) return;
    this.podIPsByKey.delete(key);
    // Only forget an IP that still points at this Pod: a new Pod may already hold it.
    for (const ip of ips) {
      const cur = this.pods.get(ip);
      if (cur && `${cur.namespace}/${cur.name}` === key) this.pods.delete(ip);
    }
  }

  private removeServiceKey(key: string): void {
    const keys = this.frontendsByKey.get(key);
    if (!keys) return;
    this.frontendsByKey.delete(key);
    for (const k of keys) {
      const cur = this.frontends.get(k);
      if (cur && (cur.portName === key || cur.portName.startsWith(`${key}:`))) this.frontends.delete(k);
    }
  }
}
