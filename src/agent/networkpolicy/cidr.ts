/**
 * IPv4 CIDR subtraction for `ipBlock.except`: the datapath matches positive prefixes only, so a block minus its
 * excepts becomes the list of prefixes that cover exactly the remainder (at most 32 per except).
 */

const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

interface Prefix {
  base: number;
  len: number;
}

const parse = (c: string): Prefix => {
  const [ip, len] = c.includes('/') ? (c.split('/') as [string, string]) : [c, '32'];
  const l = Number(len);
  const size = 2 ** (32 - l);
  return { base: Math.floor(toInt(ip) / size) * size, len: l };
};
const contains = (a: Prefix, b: Prefix) => a.len <= b.len && Math.floor(b.base / 2 ** (32 - a.len)) === a.base / 2 ** (32 - a.len);

/** `cidr` minus every except, as prefixes; IPv6 passes through untouched (not modelled by the datapath). */
export function cidrMinus(cidr: string, excepts: readonly string[]): string[] {
  if (cidr.includes(':')) return [cidr];
  let parts: Prefix[] = [parse(cidr)];
  for (const e of excepts) {
    if (e.includes(':')) continue;
    const x = parse(e);
    const next: Prefix[] = [];
    for (const p of parts) {
      if (contains(x, p)) continue; // removed whole
      if (!contains(p, x)) {
        next.push(p);
        continue;
      }
      // Split p down to x: at each level keep the half that does not hold x.
      let cur = p;
      while (cur.len < x.len) {
        const half = 2 ** (32 - cur.len - 1);
        const low = { base: cur.base, len: cur.len + 1 };
        const high = { base: cur.base + half, len: cur.len + 1 };
        if (contains(low, x)) {
          next.push(high);
          cur = low;
        } else {
          next.push(low);
          cur = high;
        }
      }
    }
    parts = next;
  }
  return parts.sort((a, b) => a.base - b.base).map((p) => (p.len === 32 ? toIp(p.base) : `${toIp(p.base)}/${p.len}`));
}
