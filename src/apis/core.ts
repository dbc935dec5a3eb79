/**
 * Core `v1` resources that Antrea reads: Namespace, Node, Pod, Service, Endpoints, ConfigMap. Types carry the
 * fields antrea-ts uses (unknown fields are kept by the store as they come); each resource has a `validateX`
 * returning field errors the way the Kubernetes API server does, and a `defaultX` filling API defaults.
 *
 * Deliberate leniency: containers do not require `image` (the simulated datapath never runs images).
 */
import type { KubeObject } from './meta.js';
import {
  type FieldError,
  check,
  duplicate,
  eachOf,
  forbidden,
  invalid,
  ipFamily,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isIanaSvcName,
  isObject,
  notSupported,
  required,
  typeInvalid,
  validateBoolean,
  validateCIDR,
  validateIP,
  validateLabels,
  validateObjectMeta,
  validatePortNumber,
  validateProtocol,
  type Protocol,
} from './validation.js';

export type IntOrString = number | string;

// ---------------------------------------------------------------- Namespace

export interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating' };
}

export function validateNamespace(obj: KubeObject): FieldError[] {
  return validateObjectMeta(obj.metadata, { namespaced: false, nameValidator: isDNS1123Label });
}

// Defaults are applied before validation, so each defaulter touches only what has the right shape.

export function defaultNamespace(obj: Namespace): void {
  if (obj.status === undefined || isObject(obj.status)) obj.status = { phase: 'Active', ...obj.status };
  obj.metadata.labels ??= {};
  if (isObject(obj.metadata.labels) && typeof obj.metadata.name === 'string' && obj.metadata.name) {
    obj.metadata.labels['kubernetes.io/metadata.name'] = obj.metadata.name;
  }
}

// ---------------------------------------------------------------- Node

export type NodeAddressType = 'Hostname' | 'ExternalIP' | 'InternalIP' | 'ExternalDNS' | 'InternalDNS';
export const nodeAddressTypes: readonly NodeAddressType[] = ['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS'];

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface Node extends KubeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] };
  status?: {
    addresses?: { type: NodeAddressType; address: string }[];
    conditions?: NodeCondition[];
    nodeInfo?: { kubeletVersion?: string; osImage?: string; kernelVersion?: string; operatingSystem?: string; architecture?: string };
  };
}

export function validateNode(obj: KubeObject): FieldError[] {
  const o = obj as Node;
  const errs = validateObjectMeta(o.metadata, { namespaced: false, nameValidator: isDNS1123Subdomain });
  const spec: unknown = o.spec;
  if (spec !== undefined && !isObject(spec)) errs.push(typeInvalid('spec', spec, 'must be an object'));
  else if (spec) {
    if (spec.podCIDR !== undefined && spec.podCIDR !== '') validateCIDR(errs, 'spec.podCIDR', spec.podCIDR);
    const cidrs = spec.podCIDRs;
    eachOf(errs, 'spec.podCIDRs', cidrs, (c, p) => validateCIDR(errs, p, c));
    if (Array.isArray(cidrs)) {
      if (cidrs.length > 2) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
      else if (cidrs.length === 2 && typeof cidrs[0] === 'string' && typeof cidrs[1] === 'string') {
        if (ipFamily(cidrs[0].split('/')[0]!) === ipFamily(cidrs[1].split('/')[0]!)) {
          errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
        }
      }
      if (typeof spec.podCIDR === 'string' && spec.podCIDR !== '' && cidrs.length > 0 && cidrs[0] !== spec.podCIDR) {
        errs.push(invalid('spec.podCIDRs', cidrs, 'the first CIDR must match spec.podCIDR'));
      }
    }
    validateBoolean(errs, 'spec.unschedulable', spec.unschedulable);
  }
  const status: unknown = o.status;
  if (status !== undefined && !isObject(status)) errs.push(typeInvalid('status', status, 'must be an object'));
  else if (status) {
    eachOf(errs, 'status.addresses', status.addresses, (a, p) => {
      if (!isObject(a)) return void errs.push(typeInvalid(p, a, 'must be an object'));
      if (!nodeAddressTypes.includes(a.type as NodeAddressType)) errs.push(notSupported(`${p}.type`, a.type, nodeAddressTypes));
      if (typeof a.address !== 'string' || a.address === '') errs.push(required(`${p}.address`));
      else if (a.type === 'InternalIP' || a.type === 'ExternalIP') validateIP(errs, `${p}.address`, a.address);
    });
    validateConditions(errs, 'status.conditions', status.conditions);
  }
  return errs;
}

/** Node spec.podCIDRs defaults from spec.podCIDR and the other way round. */
export function defaultNode(obj: Node): void {
  const spec = obj.spec;
  if (!isObject(spec)) return;
  if (spec.podCIDRs !== undefined && !Array.isArray(spec.podCIDRs)) return;
  if (spec.podCIDR && (!spec.podCIDRs || spec.podCIDRs.length === 0)) spec.podCIDRs = [spec.podCIDR];
  else if (!spec.podCIDR && spec.podCIDRs && spec.podCIDRs.length > 0) spec.podCIDR = spec.podCIDRs[0];
}

function validateConditions(errs: FieldError[], field: string, conds: unknown): void {
  const seen = new Set<string>();
  eachOf(errs, field, conds, (c, p) => {
    if (!isObject(c)) return void errs.push(typeInvalid(p, c, 'must be an object'));
    if (typeof c.type !== 'string' || c.type === '') errs.push(required(`${p}.type`));
    else if (seen.has(c.type)) errs.push(duplicate(`${p}.type`, c.type));
    else seen.add(c.type);
    if (!['True', 'False', 'Unknown'].includes(c.status as string)) errs.push(notSupported(`${p}.status`, c.status, ['True', 'False', 'Unknown']));
  });
}

// ---------------------------------------------------------------- Pod

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
  hostPort?: number;
}

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  [key: string]: unknown;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
export const podPhases: readonly PodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

export interface PodCondition {
  type: 'Ready' | 'PodScheduled' | 'Initialized' | 'ContainersReady' | string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Pod extends KubeObject {
  spec: {
    nodeName?: string;
    containers: Container[];
    initContainers?: Container[];
    hostNetwork?: boolean;
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    schedulerName?: string;
    serviceAccountName?: string;
    [key: string]: unknown;
  };
  status?: {
    phase?: PodPhase;
    podIP?: string;
    podIPs?: { ip: string }[];
    hostIP?: string;
    conditions?: PodCondition[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; [key: string]: unknown }[];
    [key: string]: unknown;
  };
}

function validateContainers(errs: FieldError[], field: string, containers: unknown, names: Set<string>, requireOne: boolean): void {
  if (requireOne && (!Array.isArray(containers) || containers.length === 0)) {
    if (containers !== undefined && !Array.isArray(containers)) errs.push(typeInvalid(field, containers, 'must be a list'));
    else errs.push(required(field));
    return;
  }
  eachOf(errs, field, containers, (c, p) => {
    if (!isObject(c)) return void errs.push(typeInvalid(p, c, 'must be an object'));
    if (typeof c.name !== 'string' || c.name === '') errs.push(required(`${p}.name`));
    else {
      check(errs, `${p}.name`, c.name, isDNS1123Label);
      if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
      names.add(c.name);
    }
    if (c.image !== undefined && typeof c.image !== 'string') errs.push(typeInvalid(`${p}.image`, c.image, 'must be a string'));
    const portNames = new Set<string>();
    eachOf(errs, `${p}.ports`, c.ports, (port, pp) => {
      if (!isObject(port)) return void errs.push(typeInvalid(pp, port, 'must be an object'));
      if (port.name !== undefined && port.name !== '') {
        if (typeof port.name !== 'string') errs.push(typeInvalid(`${pp}.name`, port.name, 'must be a string'));
        else {
          check(errs, `${pp}.name`, port.name, isIanaSvcName);
          if (portNames.has(port.name)) errs.push(duplicate(`${pp}.name`, port.name));
          portNames.add(port.name);
        }
      }
      validatePortNumber(errs, `${pp}.containerPort`, port.containerPort, { required: true });
      validatePortNumber(errs, `${pp}.hostPort`, port.hostPort === 0 ? undefined : port.hostPort);
      validateProtocol(errs, `${pp}.protocol`, port.protocol);
    });
  });
}

export function validatePod(obj: KubeObject): FieldError[] {
  const o = obj as Pod;
  const errs = validateObjectMeta(o.metadata, { namespaced: true, nameValidator: isDNS1123Subdomain });
  const spec: unknown = o.spec;
  if (!isObject(spec)) errs.push(spec === undefined ? required('spec.containers') : typeInvalid('spec', spec, 'must be an object'));
  else {
    const names = new Set<string>();
    validateContainers(errs, 'spec.containers', spec.containers, names, true);
    validateContainers(errs, 'spec.initContainers', spec.initContainers, names, false);
    if (spec.nodeName !== undefined && spec.nodeName !== '') {
      if (typeof spec.nodeName !== 'string') errs.push(typeInvalid('spec.nodeName', spec.nodeName, 'must be a string'));
      else check(errs, 'spec.nodeName', spec.nodeName, isDNS1123Subdomain);
    }
    validateBoolean(errs, 'spec.hostNetwork', spec.hostNetwork);
    if (spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy as string)) {
      errs.push(notSupported('spec.restartPolicy', spec.restartPolicy, ['Always', 'OnFailure', 'Never']));
    }
  }
  const status: unknown = o.status;
  if (status !== undefined && !isObject(status)) errs.push(typeInvalid('status', status, 'must be an object'));
  else if (status) {
    if (status.phase !== undefined && !podPhases.includes(status.phase as PodPhase)) errs.push(notSupported('status.phase', status.phase, podPhases));
    validateIP(errs, 'status.podIP', status.podIP);
    validateIP(errs, 'status.hostIP', status.hostIP);
    const ips = status.podIPs;
    eachOf(errs, 'status.podIPs', ips, (x, p) => {
      if (!isObject(x)) return void errs.push(typeInvalid(p, x, 'must be an object'));
      validateIP(errs, `${p}.ip`, x.ip, { required: true });
    });
    if (Array.isArray(ips) && ips.length > 0) {
      if (ips.length > 2) errs.push(invalid('status.podIPs', ips, 'may specify no more than one IP for each IP family'));
      const first = (ips[0] as { ip?: unknown } | undefined)?.ip;
      if (typeof status.podIP === 'string' && status.podIP !== '' && first !== status.podIP) {
        errs.push(invalid('status.podIPs[0].ip', first, 'must match status.podIP'));
      }
    }
    validateConditions(errs, 'status.conditions', status.conditions);
  }
  return errs;
}

export function defaultPod(obj: Pod): void {
  const spec = obj.spec;
  if (!isObject(spec)) return;
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= 'default';
  for (const list of [spec.containers, spec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) if (isObject(c) && Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) p.protocol ??= 'TCP';
  }
  if (obj.status === undefined) obj.status = { phase: 'Pending' };
  else if (isObject(obj.status)) obj.status.phase ??= 'Pending';
  if (isObject(obj.status) && obj.status.podIP && !obj.status.podIPs) obj.status.podIPs = [{ ip: obj.status.podIP }];
}

/** True when the Pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A Pod that has run to completion (Succeeded or Failed): it holds no address and takes no traffic. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** A Pod's addresses: `status.podIPs`, or `status.podIP` alone from writers that set only that. */
export function podIPsOf(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => Boolean(ip));
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

// ---------------------------------------------------------------- Service

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export const serviceTypes: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

export interface ServicePort {
  name?: string;
  protocol?: Protocol;
  port: number;
  targetPort?: IntOrString;
  nodePort?: number;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec: {
    type?: ServiceType;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: ('IPv4' | 'IPv6')[];
    ports?: ServicePort[];
    selector?: Record<string, string>;
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalName?: string;
    externalIPs?: string[];
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
    loadBalancerIP?: string;
    [key: string]: unknown;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export function validateIntOrStringPort(errs: FieldError[], field: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v === 'number') validatePortNumber(errs, field, v);
  else if (typeof v === 'string') {
    if (v === '') errs.push(required(field));
    else check(errs, field, v, isIanaSvcName);
  } else errs.push(typeInvalid(field, v, 'must be an integer or a string'));
}

export function validateService(obj: KubeObject): FieldError[] {
  const o = obj as Service;
  const errs = validateObjectMeta(o.metadata, { namespaced: true, nameValidator: isDNS1035Label });
  const spec: unknown = o.spec;
  if (!isObject(spec)) {
    errs.push(spec === undefined ? required('spec') : typeInvalid('spec', spec, 'must be an object'));
    return errs;
  }
  const type = spec.type ?? 'ClusterIP';
  if (!serviceTypes.includes(type as ServiceType)) errs.push(notSupported('spec.type', type, serviceTypes));
  const clusterIP = spec.clusterIP;
  const headless = clusterIP === 'None';
  if (clusterIP !== undefined && clusterIP !== '' && !headless) validateIP(errs, 'spec.clusterIP', clusterIP);
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) errs.push(invalid('spec.clusterIP', clusterIP, `may not be set to 'None' for ${type} services`));
  eachOf(errs, 'spec.clusterIPs', spec.clusterIPs, (ip, p, i) => {
    if (ip === 'None' && i === 0) return;
    validateIP(errs, p, ip, { required: true });
  });
  if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0 && clusterIP !== undefined && clusterIP !== '' && spec.clusterIPs[0] !== clusterIP) {
    errs.push(invalid('spec.clusterIPs[0]', spec.clusterIPs[0], 'must be same as clusterIP'));
  }
  const ports = spec.ports;
  if (type === 'ExternalName') {
    if (typeof spec.externalName !== 'string' || spec.externalName === '') errs.push(required('spec.externalName'));
  } else if (!headless && (!Array.isArray(ports) || ports.length === 0)) {
    if (ports !== undefined && !Array.isArray(ports)) errs.push(typeInvalid('spec.ports', ports, 'must be a list'));
    else errs.push(required('spec.ports'));
  }
  const names = new Set<string>();
  const portProto = new Set<string>();
  const multi = Array.isArray(ports) && ports.length > 1;
  eachOf(errs, 'spec.ports', ports, (port, p) => {
    if (!isObject(port)) return void errs.push(typeInvalid(p, port, 'must be an object'));
    if (port.name === undefined || port.name === '') {
      if (multi) errs.push(required(`${p}.name`));
    } else if (typeof port.name !== 'string') errs.push(typeInvalid(`${p}.name`, port.name, 'must be a string'));
    else {
      check(errs, `${p}.name`, port.name, isDNS1123Label);
      if (names.has(port.name)) errs.push(duplicate(`${p}.name`, port.name));
      names.add(port.name);
    }
    validatePortNumber(errs, `${p}.port`, port.port, { required: true });
    validateProtocol(errs, `${p}.protocol`, port.protocol);
    validateIntOrStringPort(errs, `${p}.targetPort`, port.targetPort);
    if (port.nodePort !== undefined && port.nodePort !== 0) {
      if (type !== 'NodePort' && type !== 'LoadBalancer') errs.push(forbidden(`${p}.nodePort`, 'may not be used when `type` is \'ClusterIP\''));
      else validatePortNumber(errs, `${p}.nodePort`, port.nodePort);
    }
    const key = `${port.port}/${port.protocol ?? 'TCP'}`;
    if (portProto.has(key)) errs.push(duplicate(p, { port: port.port, protocol: port.protocol ?? 'TCP' }));
    portProto.add(key);
  });
  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinity = spec.sessionAffinity;
  if (affinity !== undefined && affinity !== 'None' && affinity !== 'ClientIP') errs.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  const cfg = spec.sessionAffinityConfig;
  if (cfg !== undefined && cfg !== null) {
    if (affinity !== 'ClientIP') {
      errs.push(forbidden('spec.sessionAffinityConfig', `must not be set when session affinity is ${affinity ?? 'None'}`));
    } else if (!isObject(cfg)) errs.push(typeInvalid('spec.sessionAffinityConfig', cfg, 'must be an object'));
    else if (isObject(cfg.clientIP) && cfg.clientIP.timeoutSeconds !== undefined) {
      const t = cfg.clientIP.timeoutSeconds;
      if (typeof t !== 'number' || !Number.isInteger(t) || t <= 0 || t > 86400) {
        errs.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, 'must be greater than 0 and less than 86400'));
      }
    }
  }
  eachOf(errs, 'spec.externalIPs', spec.externalIPs, (ip, p) => validateIP(errs, p, ip, { required: true }));
  for (const f of ['externalTrafficPolicy', 'internalTrafficPolicy'] as const) {
    const v = spec[f];
    if (v !== undefined && v !== 'Cluster' && v !== 'Local') errs.push(notSupported(`spec.${f}`, v, ['Cluster', 'Local']));
  }
  return errs;
}

export function defaultService(obj: Service): void {
  const spec = obj.spec;
  if (!isObject(spec)) return;
  spec.type ??= 'ClusterIP';
  if (spec.type !== 'ExternalName') spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP') {
    spec.sessionAffinityConfig ??= {};
    if (isObject(spec.sessionAffinityConfig)) {
      spec.sessionAffinityConfig.clientIP ??= {};
      if (isObject(spec.sessionAffinityConfig.clientIP)) spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
    }
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (!isObject(p)) continue;
      p.protocol ??= 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
  }
  if (typeof spec.clusterIP === 'string' && spec.clusterIP && !spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
  if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0 && !spec.clusterIP) spec.clusterIP = spec.clusterIPs[0];
}

// ---------------------------------------------------------------- Endpoints

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: Protocol;
  appProtocol?: string;
}

export interface Endpoints extends KubeObject {
  subsets?: { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: EndpointPort[] }[];
}

export function validateEndpoints(obj: KubeObject): FieldError[] {
  const o = obj as Endpoints;
  const errs = validateObjectMeta(o.metadata, { namespaced: true, nameValidator: isDNS1123Subdomain });
  eachOf(errs, 'subsets', o.subsets, (s, p) => {
    if (!isObject(s)) return void errs.push(typeInvalid(p, s, 'must be an object'));
    for (const f of ['addresses', 'notReadyAddresses'] as const) {
      eachOf(errs, `${p}.${f}`, s[f], (a, ap) => {
        if (!isObject(a)) return void errs.push(typeInvalid(ap, a, 'must be an object'));
        validateIP(errs, `${ap}.ip`, a.ip, { required: true });
        if (typeof a.nodeName === 'string' && a.nodeName !== '') check(errs, `${ap}.nodeName`, a.nodeName, isDNS1123Subdomain);
      });
    }
    const multi = Array.isArray(s.ports) && s.ports.length > 1;
    const names = new Set<string>();
    eachOf(errs, `${p}.ports`, s.ports, (port, pp) => {
      if (!isObject(port)) return void errs.push(typeInvalid(pp, port, 'must be an object'));
      if (port.name === undefined || port.name === '') {
        if (multi) errs.push(required(`${pp}.name`));
      } else if (typeof port.name === 'string') {
        check(errs, `${pp}.name`, port.name, isDNS1123Label);
        if (names.has(port.name)) errs.push(duplicate(`${pp}.name`, port.name));
        names.add(port.name);
      }
      validatePortNumber(errs, `${pp}.port`, port.port, { required: true });
      validateProtocol(errs, `${pp}.protocol`, port.protocol);
    });
  });
  return errs;
}

export function defaultEndpoints(obj: Endpoints): void {
  if (!Array.isArray(obj.subsets)) return;
  for (const s of obj.subsets) if (isObject(s) && Array.isArray(s.ports)) for (const p of s.ports) if (isObject(p)) p.protocol ??= 'TCP';
}

// ---------------------------------------------------------------- ConfigMap

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

const configMapKeyRe = /^[-._a-zA-Z0-9]+$/;

export function validateConfigMap(obj: KubeObject): FieldError[] {
  const o = obj as ConfigMap;
  const errs = validateObjectMeta(o.metadata, { namespaced: true, nameValidator: isDNS1123Subdomain });
  let size = 0;
  const keys = new Set<string>();
  for (const f of ['data', 'binaryData'] as const) {
    const d: unknown = o[f];
    if (d === undefined || d === null) continue;
    if (!isObject(d)) {
      errs.push(typeInvalid(f, d, 'must be an object of string values'));
      continue;
    }
    for (const [k, v] of Object.entries(d)) {
      if (k.length > 253 || !configMapKeyRe.test(k)) errs.push(invalid(`${f}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      if (keys.has(k)) errs.push(invalid(`${f}[${k}]`, k, 'duplicate of key present in data or binaryData'));
      keys.add(k);
      if (typeof v !== 'string') errs.push(typeInvalid(`${f}[${k}]`, v, 'must be a string'));
      else size += v.length;
    }
  }
  if (size > 1024 * 1024) errs.push({ type: 'FieldValueTooLong', field: '', value: '', detail: 'ConfigMap data may not be more than 1048576 bytes' });
  validateBoolean(errs, 'immutable', o.immutable);
  return errs;
}
