/**
 * `networking.k8s.io/v1` NetworkPolicy: types, API defaults and the field validation the Kubernetes API server does
 * (`pkg/apis/networking/validation`). The peer and port checks are shared with Antrea's policies (crd/policy.ts).
 */
import type { IntOrString } from './core.js';
import { type LabelSelector, validateLabelSelector } from './labels.js';
import type { KubeObject } from './meta.js';
import {
  type FieldError,
  type Protocol,
  eachOf,
  forbidden,
  invalid,
  isDNS1123Subdomain,
  isIanaSvcName,
  isObject,
  isPort,
  isValidCIDR,
  notSupported,
  required,
  typeInvalid,
  validateObjectMeta,
  validateProtocol,
} from './validation.js';

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface NetworkPolicyPort {
  protocol?: Protocol;
  port?: IntOrString;
  endPort?: number;
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export type PolicyType = 'Ingress' | 'Egress';

export interface NetworkPolicy extends KubeObject {
  spec: {
    podSelector: LabelSelector;
    ingress?: NetworkPolicyIngressRule[];
    egress?: NetworkPolicyEgressRule[];
    policyTypes?: PolicyType[];
  };
}

/** Kubernetes defaults: `policyTypes` is Ingress, plus Egress when egress rules exist; a port's protocol is TCP. */
export function defaultNetworkPolicy(obj: NetworkPolicy): void {
  const spec = obj.spec;
  if (!isObject(spec)) return;
  if (!spec.policyTypes || spec.policyTypes.length === 0) {
    spec.policyTypes = ['Ingress', ...(Array.isArray(spec.egress) && spec.egress.length > 0 ? (['Egress'] as const) : [])];
  }
  const fill = (ports: unknown) => {
    if (Array.isArray(ports)) for (const p of ports) if (isObject(p) && p.protocol === undefined) p.protocol = 'TCP';
  };
  for (const r of Array.isArray(spec.ingress) ? spec.ingress : []) if (isObject(r)) fill(r.ports);
  for (const r of Array.isArray(spec.egress) ? spec.egress : []) if (isObject(r)) fill(r.ports);
}

/** One `NetworkPolicyPort` (K8s or Antrea): protocol, numeric or named port, and `endPort` with Antrea's wording. */
export function validatePolicyPort(errs: FieldError[], p: string, port: unknown): void {
  if (!isObject(port)) return void errs.push(typeInvalid(p, port, 'must be an object'));
  validateProtocol(errs, `${p}.protocol`, port.protocol);
  const v = port.port;
  if (v !== undefined && v !== null) {
    if (typeof v === 'number') {
      if (!isPort(v)) errs.push(invalid(`${p}.port`, v, 'must be between 1 and 65535, inclusive'));
    } else if (typeof v === 'string') {
      for (const m of isIanaSvcName(v)) errs.push(invalid(`${p}.port`, v, m));
    } else errs.push(typeInvalid(`${p}.port`, v, 'must be an integer or a string'));
  }
  const end = port.endPort;
  if (end === undefined || end === null) return;
  if (!isPort(end)) return void errs.push(invalid(`${p}.endPort`, end, 'must be between 1 and 65535, inclusive'));
  if (v === undefined || v === null) errs.push(required(`${p}.port`, 'if `endPort` is specified `port` must be specified'));
  else if (typeof v === 'string') errs.push(forbidden(`${p}.endPort`, 'if `port` is a string `endPort` cannot be specified'));
  else if (typeof v === 'number' && end < v) errs.push(invalid(`${p}.endPort`, end, '`endPort` should be greater than or equal to `port`'));
}

/** An `ipBlock`: a CIDR and excepts, each inside the CIDR (and strictly smaller). */
export function validateIPBlock(errs: FieldError[], p: string, block: unknown): void {
  if (!isObject(block)) return void errs.push(typeInvalid(p, block, 'must be an object'));
  if (typeof block.cidr !== 'string' || block.cidr === '') return void errs.push(required(`${p}.cidr`));
  if (!isValidCIDR(block.cidr)) return void errs.push(invalid(`${p}.cidr`, block.cidr, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  const [base, lenText] = block.cidr.split('/') as [string, string];
  eachOf(errs, `${p}.except`, block.except, (e, ep) => {
    if (typeof e !== 'string' || !isValidCIDR(e)) return void errs.push(invalid(ep, e, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
    if (!cidrStrictlyInside(e, base, Number(lenText))) errs.push(invalid(ep, e, `must be a strict subset of ${block.cidr}`));
  });
}

function cidrStrictlyInside(inner: string, outerBase: string, outerLen: number): boolean {
  const [ib, il] = inner.split('/') as [string, string];
  if (ib.includes(':') !== outerBase.includes(':')) return false;
  // IPv6 excepts are only checked for length: the datapath models IPv4 only.
  if (ib.includes(':')) return Number(il) > outerLen;
  const toInt = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const len = Number(il);
  if (len <= outerLen) return false;
  const mask = outerLen === 0 ? 0 : (0xffffffff << (32 - outerLen)) >>> 0;
  return ((toInt(ib) & mask) >>> 0) === ((toInt(outerBase) & mask) >>> 0);
}

function validateK8sPeer(errs: FieldError[], p: string, peer: unknown): void {
  if (!isObject(peer)) return void errs.push(typeInvalid(p, peer, 'must be an object'));
  const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => peer[k] !== undefined && peer[k] !== null);
  if (set.length === 0) errs.push(required(p, 'must specify a peer'));
  if (peer.ipBlock !== undefined && set.length > 1) errs.push(forbidden(p, 'may not specify more than 1 peer type when ipBlock is specified'));
  errs.push(...validateLabelSelector(peer.podSelector, `${p}.podSelector`), ...validateLabelSelector(peer.namespaceSelector, `${p}.namespaceSelector`));
  if (peer.ipBlock !== undefined) validateIPBlock(errs, `${p}.ipBlock`, peer.ipBlock);
}

const policyTypes: readonly PolicyType[] = ['Ingress', 'Egress'];

export function validateNetworkPolicy(obj: KubeObject): FieldError[] {
  const o = obj as NetworkPolicy;
  const errs = validateObjectMeta(o.metadata, { namespaced: true, nameValidator: isDNS1123Subdomain });
  const spec: unknown = o.spec;
  if (!isObject(spec)) return [...errs, spec === undefined ? required('spec') : typeInvalid('spec', spec, 'must be an object')];
  if (spec.podSelector === undefined || spec.podSelector === null) errs.push(required('spec.podSelector'));
  else errs.push(...validateLabelSelector(spec.podSelector, 'spec.podSelector'));
  const rules = (field: 'ingress' | 'egress', peers: 'from' | 'to') =>
    eachOf(errs, `spec.${field}`, spec[field], (r, p) => {
      if (!isObject(r)) return void errs.push(typeInvalid(p, r, 'must be an object'));
      eachOf(errs, `${p}.ports`, r.ports, (port, pp) => validatePolicyPort(errs, pp, port));
      eachOf(errs, `${p}.${peers}`, r[peers], (peer, pp) => validateK8sPeer(errs, pp, peer));
    });
  rules('ingress', 'from');
  rules('egress', 'to');
  eachOf(errs, 'spec.policyTypes', spec.policyTypes, (t, p) => {
    if (!policyTypes.includes(t as PolicyType)) errs.push(notSupported(p, t, policyTypes));
  });
  if (Array.isArray(spec.policyTypes) && spec.policyTypes.length > 2) errs.push(invalid('spec.policyTypes', spec.policyTypes, 'may not have more than 2 elements'));
  return errs;
}
