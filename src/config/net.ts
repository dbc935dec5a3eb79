/** IP addresses and CIDRs the way Go's `net.ParseIP` / `net.ParseCIDR` accept them (IPv4 dotted quads, IPv6). */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

export interface Cidr {
  ip: string;
  prefix: number;
  family: IpFamily;
}

export function ipFamily(text: string): IpFamily | undefined {
  if (isIPv4(text)) return 'ipv4';
  // Go rejects zones (`fe80::1%eth0`) in ParseIP; node accepts them.
  if (isIPv6(text) && !text.includes('%')) return 'ipv6';
  return undefined;
}

/** A CIDR such as `10.96.0.0/12` or `fd00::/64`; host bits may be set, as Go allows. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  const ip = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return undefined;
  const family = ipFamily(ip);
  if (!family) return undefined;
  const prefix = Number(bits);
  if (prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
  return { ip, prefix, family };
}
