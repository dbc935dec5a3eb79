/**
 * IPv4 and MAC address helpers. Addresses are plain numbers inside the datapath: an IPv4 address is an unsigned
 * 32-bit integer, a MAC is a 48-bit integer (exact in a double). Strings only at the edges (desired state, rendering).
 */
import { AntreaError } from '../../util/errors.js';

export type Ipv4 = number;
export type Mac = number;

export interface Cidr {
  /** Network address (host bits zeroed). */
  readonly ip: Ipv4;
  readonly prefix: number;
  readonly mask: number;
}

const ipv4Re = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): Ipv4 {
  const m = ipv4Re.exec(text);
  if (!m) throw new AntreaError('ERR_DATAPATH_BAD_IP', `"${text}" is not an IPv4 address`, { field: 'ip' });
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) throw new AntreaError('ERR_DATAPATH_BAD_IP', `"${text}" is not an IPv4 address`, { field: 'ip' });
    v = v * 256 + o;
  }
  return v >>> 0;
}

export function isIpv4(text: string): boolean {
  const m = ipv4Re.exec(text);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

export function formatIpv4(ip: Ipv4): string {
  return `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The prefix length of a contiguous mask, or -1 when the mask is not contiguous. */
export function maskPrefix(mask: number): number {
  const m = mask >>> 0;
  for (let p = 0; p <= 32; p++) if (prefixMask(p) === m) return p;
  return -1;
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const ipText = slash < 0 ? text : text.slice(0, slash);
  const prefix = slash < 0 ? 32 : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new AntreaError('ERR_DATAPATH_BAD_CIDR', `"${text}" is not an IPv4 CIDR`, { field: 'cidr' });
  }
  const mask = prefixMask(prefix);
  return { ip: (parseIpv4(ipText) & mask) >>> 0, prefix, mask };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.ip)}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: Ipv4): boolean {
  return ((ip & c.mask) >>> 0) === c.ip;
}

/** The n-th address of a CIDR (n=1 is Antrea's gateway address). */
export function cidrHost(c: Cidr, n: number): Ipv4 {
  return (c.ip + n) >>> 0;
}

const macRe = /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})$/;

export function parseMac(text: string): Mac {
  const m = macRe.exec(text);
  if (!m) throw new AntreaError('ERR_DATAPATH_BAD_MAC', `"${text}" is not a MAC address`, { field: 'mac' });
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + parseInt(m[i] as string, 16);
  return v;
}

export function formatMac(mac: Mac): string {
  const parts: string[] = [];
  let v = mac;
  for (let i = 0; i < 6; i++) {
    parts.unshift((v % 256).toString(16).padStart(2, '0'));
    v = Math.floor(v / 256);
  }
  return parts.join(':');
}

/** High 16 bits of a MAC. */
export function macHi(mac: Mac): number {
  return Math.floor(mac / 0x100000000) & 0xffff;
}

/** Low 32 bits of a MAC. */
export function macLo(mac: Mac): number {
  return mac % 0x100000000 >>> 0;
}

export function macFrom(hi: number, lo: number): Mac {
  return (hi & 0xffff) * 0x100000000 + (lo >>> 0);
}

export const BROADCAST_MAC: Mac = 0xffffffffffff;

/** A locally administered MAC derived from an IPv4 address: 02:00:a.b.c.d (for simulated Pods without a MAC). */
export function macForIp(ip: Ipv4): Mac {
  return macFrom(0x0200, ip >>> 0);
}
