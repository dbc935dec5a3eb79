/**
 * Validation of every value that ends up in a command line, a flow or a ruleset. Values come from Kubernetes
 * objects (Pod names, IPs, MACs, ports): each one is checked against a strict pattern before use, so no object can
 * smuggle a second flow (`,actions=`), a second nft statement (`;`) or a shell word into what we run. We never use a
 * shell, but ovs-ofctl and nft parse their own languages, so a strict allow-list is the only safe choice.
 */
import { AntreaError } from '../../util/errors.js';
import { isIpv4 } from '../net/addr.js';

function bad(field: string, value: unknown, why: string): never {
  throw new AntreaError('ERR_OVS_INVALID_VALUE', `${field}: ${JSON.stringify(value)} ${why}`, { field });
}

/** Linux interface names: 1..15 characters of [A-Za-z0-9_.-], not starting with '-' (IFNAMSIZ is 16 with NUL). */
export function ifName(value: string, field = 'interfaceName'): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$/.test(value) || value === '.' || value === '..') {
    bad(field, value, 'is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -, not starting with -)');
  }
  return value;
}

/** Network namespace names we create: our prefix plus [a-z0-9-], short enough for a file name. */
export function netnsName(value: string, field = 'netns'): string {
  if (typeof value !== 'string' || !/^ats-[a-z0-9][a-z0-9-]{0,60}$/.test(value)) bad(field, value, 'is not an ats- network namespace name');
  return value;
}

export function ipv4(value: string, field = 'ip'): string {
  if (typeof value !== 'string' || !isIpv4(value)) bad(field, value, 'is not an IPv4 address');
  return value;
}

export function cidr4(value: string, field = 'cidr'): string {
  const m = typeof value === 'string' ? /^([0-9.]+)\/(\d{1,2})$/.exec(value) : null;
  if (!m || !isIpv4(m[1] as string) || Number(m[2]) > 32) bad(field, value, 'is not an IPv4 CIDR');
  return value;
}

export function mac(value: string, field = 'mac'): string {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value)) bad(field, value, 'is not a colon-separated MAC');
  return value.toLowerCase();
}

export function port(value: number, field = 'port', min = 1): number {
  if (!Number.isInteger(value) || value < min || value > 65535) bad(field, value, `is not a port number (${min}-65535)`);
  return value;
}

/** OpenFlow port numbers we request for Pods: 1..0xfeff (above that are reserved ports). */
export function ofPort(value: number, field = 'ofPort'): number {
  if (!Number.isInteger(value) || value < 1 || value > 0xfeff) bad(field, value, 'is not an OpenFlow port number (1-65279)');
  return value;
}

/**
 * A flow or group line as rendered by pipeline/render.ts. The renderer builds it from typed numbers only, but this is
 * the last gate before ovs-ofctl parses it: one line, printable ASCII, no comment or second-line tricks.
 */
export function flowLine(value: string, field = 'flow'): string {
  if (!/^[\x20-\x7e]+$/.test(value) || value.includes('#')) bad(field, value, 'is not a single printable flow line');
  return value;
}
