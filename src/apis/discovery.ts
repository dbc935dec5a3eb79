/**
 * `discovery.k8s.io` EndpointSlices, v1 and v1beta1. Both versions share one stored shape (v1); v1beta1 differs only
 * in `topology` (a map that v1 replaced by `nodeName`/`zone`), which is kept as it comes.
 */
import type { KubeObject } from './meta.js';
import type { ObjectReference } from './core.js';
import {
  type FieldError,
  check,
  eachOf,
  invalid,
  isDNS1123Label,
  isDNS1123Subdomain,
  isObject,
  isValidIP,
  ipFamily,
  notSupported,
  required,
  typeInvalid,
  validateBoolean,
  validateObjectMeta,
  validatePortNumber,
  validateProtocol,
  type Protocol,
} from './validation.js';

export type AddressType = 'IPv4' | 'IPv6' | 'FQDN';
export const addressTypes: readonly AddressType[] = ['IPv4', 'IPv6', 'FQDN'];

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: ObjectReference;
  /** v1beta1 only. */
  topology?: Record<string, string>;
}

export interface EndpointSlicePort {
  name?: string;
  protocol?: Protocol;
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  addressType: AddressType;
  endpoints: Endpoint[];
  ports?: EndpointSlicePort[];
}

/** The label that ties a slice to its Service. */
export const serviceNameLabel = 'kubernetes.io/service-name';

export function validateEndpointSlice(obj: KubeObject): FieldError[] {
  const o = obj as EndpointSlice;
  const errs = validateObjectMeta(o.metadata, { namespaced: true, nameValidator: isDNS1123Subdomain });
  const at: unknown = o.addressType;
  if (at === undefined || at === '') errs.push(required('addressType'));
  else if (!addressTypes.includes(at as AddressType)) errs.push(notSupported('addressType', at, addressTypes));
  eachOf(errs, 'endpoints', o.endpoints, (e, p) => {
    if (!isObject(e)) return void errs.push(typeInvalid(p, e, 'must be an object'));
    const addrs = e.addresses;
    if (!Array.isArray(addrs) || addrs.length === 0) errs.push(required(`${p}.addresses`, 'must contain at least 1 address'));
    else {
      if (addrs.length > 100) errs.push(invalid(`${p}.addresses`, addrs.length, 'must have at most 100 items'));
      addrs.forEach((a: unknown, i) => {
        const ap = `${p}.addresses[${i}]`;
        if (typeof a !== 'string') return void errs.push(typeInvalid(ap, a, 'must be a string'));
        if (at === 'IPv4' && !(isValidIP(a) && ipFamily(a) === 4)) errs.push(invalid(ap, a, 'must be a valid IPv4 address'));
        else if (at === 'IPv6' && !(isValidIP(a) && ipFamily(a) === 6)) errs.push(invalid(ap, a, 'must be a valid IPv6 address'));
        else if (at === 'FQDN') check(errs, ap, a, isDNS1123Subdomain);
      });
    }
    const c = e.conditions;
    if (c !== undefined && c !== null) {
      if (!isObject(c)) errs.push(typeInvalid(`${p}.conditions`, c, 'must be an object'));
      else for (const k of ['ready', 'serving', 'terminating']) validateBoolean(errs, `${p}.conditions.${k}`, c[k]);
    }
    if (e.nodeName !== undefined && e.nodeName !== '') {
      if (typeof e.nodeName !== 'string') errs.push(typeInvalid(`${p}.nodeName`, e.nodeName, 'must be a string'));
      else check(errs, `${p}.nodeName`, e.nodeName, isDNS1123Subdomain);
    }
    if (e.hostname !== undefined && e.hostname !== null) {
      if (typeof e.hostname !== 'string') errs.push(typeInvalid(`${p}.hostname`, e.hostname, 'must be a string'));
      else check(errs, `${p}.hostname`, e.hostname, isDNS1123Label);
    }
    if (e.targetRef !== undefined && e.targetRef !== null && !isObject(e.targetRef)) errs.push(typeInvalid(`${p}.targetRef`, e.targetRef, 'must be an object'));
  });
  if (Array.isArray(o.ports) && o.ports.length > 20000) errs.push(invalid('ports', o.ports.length, 'must have at most 20000 items'));
  const names = new Set<string>();
  eachOf(errs, 'ports', o.ports, (port, p) => {
    if (!isObject(port)) return void errs.push(typeInvalid(p, port, 'must be an object'));
    const name = port.name ?? '';
    if (typeof name !== 'string') errs.push(typeInvalid(`${p}.name`, name, 'must be a string'));
    else {
      if (name !== '') check(errs, `${p}.name`, name, isDNS1123Label);
      if (names.has(name)) errs.push({ type: 'FieldValueDuplicate', field: `${p}.name`, value: name });
      names.add(name);
    }
    validatePortNumber(errs, `${p}.port`, port.port);
    validateProtocol(errs, `${p}.protocol`, port.protocol);
  });
  return errs;
}

/** Defaults are applied before validation, so they touch only what has the right shape. */
export function defaultEndpointSlice(obj: EndpointSlice): void {
  if (obj.endpoints === undefined || obj.endpoints === null) obj.endpoints = [];
  if (Array.isArray(obj.ports)) for (const p of obj.ports) if (isObject(p)) p.protocol ??= 'TCP';
  if (Array.isArray(obj.endpoints)) for (const e of obj.endpoints) if (isObject(e) && e.conditions === undefined) e.conditions = {};
}
