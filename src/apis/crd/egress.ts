/**
 * `crd.antrea.io/v1alpha2` Egress and ExternalIPPool (cluster-scoped; reference/antrea.md 4.8). An Egress selects
 * Pods (appliedTo) whose traffic to the outside leaves the cluster with `spec.egressIP` as its source; the IP is
 * given directly, or allocated by the controller from `spec.externalIPPool`. `status.egressNode` names the Node
 * that holds the IP and does the SNAT.
 */
import type { GroupVersionResource, KubeObject } from '../meta.js';
import { validateLabelSelector, type LabelSelector } from '../labels.js';
import { invalid, isObject, isValidIP, ipFamily, isValidCIDR, typeInvalid, validateObjectMeta, isDNS1123Subdomain, type FieldError } from '../validation.js';
import { parseCidr, parseIp } from '../../util/ip.js';

export interface AppliedTo {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}

export interface Egress extends KubeObject {
  spec: { appliedTo: AppliedTo; egressIP?: string; externalIPPool?: string };
  status?: { egressNode?: string };
}

export interface IPRange {
  cidr?: string;
  start?: string;
  end?: string;
}

export interface ExternalIPPool extends KubeObject {
  spec: { ipRanges: IPRange[]; nodeSelector?: LabelSelector };
  status?: { usage?: { total: number; used: number } };
}

export const egressGvr = { group: 'crd.antrea.io', version: 'v1alpha2', resource: 'egresses' } as const satisfies GroupVersionResource;
export const externalIPPoolGvr = { group: 'crd.antrea.io', version: 'v1alpha2', resource: 'externalippools' } as const satisfies GroupVersionResource;

/** Shape checks, as Antrea's CRD schema and Egress webhook reject them. */
export function validateEgress(obj: KubeObject): FieldError[] {
  const o = obj as Egress;
  const errs = validateObjectMeta(o.metadata, { namespaced: false, nameValidator: isDNS1123Subdomain });
  const spec: unknown = o.spec;
  if (!isObject(spec)) return [...errs, typeInvalid('spec', spec, 'must be an object')];
  const appliedTo = spec.appliedTo;
  if (!isObject(appliedTo)) errs.push(typeInvalid('spec.appliedTo', appliedTo, 'must be an object'));
  else {
    if (appliedTo.podSelector === undefined && appliedTo.namespaceSelector === undefined) {
      errs.push(invalid('spec.appliedTo', appliedTo, 'at least one of podSelector and namespaceSelector must be set'));
    }
    if (appliedTo.podSelector !== undefined) errs.push(...validateLabelSelector(appliedTo.podSelector, 'spec.appliedTo.podSelector'));
    if (appliedTo.namespaceSelector !== undefined) errs.push(...validateLabelSelector(appliedTo.namespaceSelector, 'spec.appliedTo.namespaceSelector'));
  }
  const ip = spec.egressIP;
  const pool = spec.externalIPPool;
  if (ip !== undefined && ip !== '' && (typeof ip !== 'string' || !isValidIP(ip))) errs.push(invalid('spec.egressIP', ip, 'must be a valid IP address'));
  if (pool !== undefined && typeof pool !== 'string') errs.push(typeInvalid('spec.externalIPPool', pool, 'must be a string'));
  if ((ip === undefined || ip === '') && (pool === undefined || pool === '')) {
    errs.push(invalid('spec', spec, 'either egressIP or externalIPPool must be set'));
  }
  return errs;
}

export function validateExternalIPPool(obj: KubeObject): FieldError[] {
  const o = obj as ExternalIPPool;
  const errs = validateObjectMeta(o.metadata, { namespaced: false, nameValidator: isDNS1123Subdomain });
  const spec: unknown = o.spec;
  if (!isObject(spec)) return [...errs, typeInvalid('spec', spec, 'must be an object')];
  const ranges = spec.ipRanges;
  if (!Array.isArray(ranges)) errs.push(typeInvalid('spec.ipRanges', ranges, 'must be a list'));
  else {
    ranges.forEach((r: unknown, i) => {
      const f = `spec.ipRanges[${i}]`;
      if (!isObject(r)) return void errs.push(typeInvalid(f, r, 'must be an object'));
      const { cidr, start, end } = r;
      if (cidr !== undefined) {
        if (start !== undefined || end !== undefined) errs.push(invalid(f, r, 'cidr and start/end are mutually exclusive'));
        if (typeof cidr !== 'string' || !isValidCIDR(cidr)) errs.push(invalid(`${f}.cidr`, cidr, 'must be a valid CIDR'));
        return;
      }
      if (typeof start !== 'string' || !isValidIP(start)) return void errs.push(invalid(`${f}.start`, start, 'must be a valid IP address'));
      if (typeof end !== 'string' || !isValidIP(end)) return void errs.push(invalid(`${f}.end`, end, 'must be a valid IP address'));
      if (ipFamily(start) !== ipFamily(end)) errs.push(invalid(f, r, 'start and end must be of the same IP family'));
      else if (parseIp(start).value > parseIp(end).value) errs.push(invalid(f, r, 'start must not be greater than end'));
    });
  }
  if (spec.nodeSelector !== undefined) errs.push(...validateLabelSelector(spec.nodeSelector, 'spec.nodeSelector'));
  return errs;
}

/** The addresses of a pool's ranges, as [first, last] bigints per range (a CIDR's network and broadcast left out for IPv4). */
export function poolRanges(pool: ExternalIPPool): Array<{ family: 4 | 6; first: bigint; last: bigint }> {
  return (pool.spec?.ipRanges ?? []).flatMap((r) => {
    if (r.cidr) {
      const c = parseCidr(r.cidr);
      const size = 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix);
      // Antrea skips the subnet's first address (and, for IPv4 prefixes up to /30, the broadcast one).
      const first = size > 2n ? c.base + 1n : c.base;
      const last = size > 2n && c.family === 4 ? c.base + size - 2n : c.base + size - 1n;
      return [{ family: c.family, first, last }];
    }
    if (!r.start || !r.end) return [];
    const s = parseIp(r.start);
    return [{ family: s.family, first: s.value, last: parseIp(r.end).value }];
  });
}
