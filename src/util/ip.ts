/**
 * IP addresses and CIDRs of both families, as bigints, for control-plane work (IPAM, validation, selectors over IP
 * blocks). The datapath keeps its own packed IPv4 form for its hot path.
 */
import { isIP } from 'node:net';
import { AntreaError } from './errors.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export interface IpCidr {
  family: IpFamily;
  /** The network address (host bits zero). */
  base: bigint;
  prefix: number;
}

const bits = (f: IpFamily) => (f === 4 ? 32 : 128);

export function parseIp(text: string, field = 'address'): IpAddress {
  const family = isIP(text);
  if (family === 4) {
    const value = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  if (family === 6) return { family: 6, value: parseIpv6(text) };
  throw new AntreaError('ERR_INVALID_IP', `${field}: ${JSON.stringify(text)} is not a valid IP address`, { field });
}

function parseIpv6(text: string): bigint {
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tailV4 = parseIp(text.slice(lastColon + 1)).value;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const leftParts = left ? left.split(':') : [];
  const rightParts = right ? right.split(':') : [];
  const missing = 8 - leftParts.length - rightParts.length;
  const parts = [...leftParts, ...Array<string>(right === undefined ? 0 : missing).fill('0'), ...rightParts];
  let value = parts.reduce((acc, p) => (acc << 16n) | BigInt(parseInt(p || '0', 16)), 0n);
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (of two or more) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function parseCidr(text: string, field = 'cidr'): IpCidr {
  const slash = text.indexOf('/');
  if (slash === -1) throw new AntreaError('ERR_INVALID_CIDR', `${field}: ${JSON.stringify(text)} is not a CIDR (missing /prefix)`, { field });
  const ip = parseIp(text.slice(0, slash), field);
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits(ip.family)) {
    throw new AntreaError('ERR_INVALID_CIDR', `${field}: ${JSON.stringify(text)} has an invalid prefix length`, { field });
  }
  return { family: ip.family, base: ip.value & networkMask(ip.family, prefix), prefix };
}

function networkMask(family: IpFamily, prefix: number): bigint {
  const total = BigInt(bits(family));
  const all = (1n << total) - 1n;
  return (all << (total - BigInt(prefix))) & all;
}

export function formatCidr(c: IpCidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

export function cidrSize(c: IpCidr): bigint {
  return 1n << BigInt(bits(c.family) - c.prefix);
}

export function cidrContains(c: IpCidr, ip: IpAddress): boolean {
  return ip.family === c.family && (ip.value & networkMask(c.family, c.prefix)) === c.base;
}

/** The address at `offset` inside the CIDR (0 = the network address). */
export function cidrAddress(c: IpCidr, offset: bigint): IpAddress {
  if (offset < 0n || offset >= cidrSize(c)) {
    throw new AntreaError('ERR_INVALID_CIDR', `offset ${offset} is outside ${formatCidr(c)}`);
  }
  return { family: c.family, value: c.base + offset };
}

export function cidrsOverlap(a: IpCidr, b: IpCidr): boolean {
  if (a.family !== b.family) return false;
  const prefix = Math.min(a.prefix, b.prefix);
  const mask = networkMask(a.family, prefix);
  return (a.base & mask) === (b.base & mask);
}

export function isValidIp(text: string): boolean {
  return isIP(text) !== 0;
}
