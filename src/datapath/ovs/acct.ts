/**
 * Per-Pod packet accounting with nftables inside the Pod's network namespace: dynamic sets keyed by the 4-tuple
 * (ICMP: addresses and echo id) plus the IP TTL, each element with a counter. It tells the traffic layer, for real
 * packets sent by real sockets, how many packets and IP bytes left and reached each Pod per connection and with what
 * TTL they arrived, without capturing anything. (nft 1.0.6 misprints 8-bit fields inside concatenations, so the TTL is
 * first mapped into the packet mark, a 32-bit field, and keyed from there.)
 */
import { run } from './exec.js';

const TTL_MAP = `meta mark set ip ttl map { 1-59 : 1, ${Array.from({ length: 6 }, (_, i) => `${59 + i + 1} : ${59 + i + 1}`).join(', ')}, 66-255 : 255 }`;

function ruleset(): string {
  const set = (name: string, key: string) => `  set ${name} { typeof ${key} . meta mark; flags dynamic; counter; size 65535; }`;
  const l4 = (p: 'tcp' | 'udp') => `ip saddr . ip daddr . ${p} sport . ${p} dport`;
  const icmp = 'ip saddr . ip daddr . icmp id';
  const chain = (name: string, hook: string, dir: string) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority -300; policy accept;`,
    `    ${TTL_MAP}`,
    `    tcp sport 0-65535 update @${dir}t { ${l4('tcp')} . meta mark }`,
    `    udp sport 0-65535 update @${dir}u { ${l4('udp')} . meta mark }`,
    `    icmp type { echo-request, echo-reply } update @${dir}i { ${icmp} . meta mark }`,
    '  }',
  ];
  return [
    'table ip ats_acct {',
    set('rxt', l4('tcp')), set('rxu', l4('udp')), set('rxi', icmp),
    set('txt', l4('tcp')), set('txu', l4('udp')), set('txi', icmp),
    ...chain('input', 'input', 'rx'),
    ...chain('output', 'output', 'tx'),
    '}',
    '',
  ].join('\n');
}

export async function installAccounting(netns: string): Promise<void> {
  await run('nft', ['-f', '-'], { netns, input: ruleset() });
}

export interface AcctEntry {
  dir: 'rx' | 'tx';
  proto: 'TCP' | 'UDP' | 'ICMP';
  src: string;
  dst: string;
  /** TCP/UDP source port; ICMP echo id. */
  sport: number;
  /** TCP/UDP destination port; 0 for ICMP. */
  dport: number;
  ttl: number;
  packets: number;
  bytes: number;
}

interface NftSetJson { set?: { name: string; elem?: Array<{ elem?: { val?: { concat?: Array<string | number> }; counter?: { packets: number; bytes: number } } }> } }

export async function readAccounting(netns: string): Promise<AcctEntry[]> {
  const { stdout } = await run('nft', ['-j', 'list', 'table', 'ip', 'ats_acct'], { netns });
  const doc = JSON.parse(stdout) as { nftables: NftSetJson[] };
  const out: AcctEntry[] = [];
  for (const item of doc.nftables) {
    const s = item.set;
    if (!s) continue;
    const dir = s.name.startsWith('rx') ? 'rx' : 'tx';
    const proto = s.name.endsWith('t') ? 'TCP' : s.name.endsWith('u') ? 'UDP' : 'ICMP';
    for (const e of s.elem ?? []) {
      const v = e.elem?.val?.concat;
      const c = e.elem?.counter;
      if (!v || !c) continue;
      if (proto === 'ICMP') out.push({ dir, proto, src: String(v[0]), dst: String(v[1]), sport: Number(v[2]), dport: 0, ttl: Number(v[3]), packets: c.packets, bytes: c.bytes });
      else out.push({ dir, proto, src: String(v[0]), dst: String(v[1]), sport: Number(v[2]), dport: Number(v[3]), ttl: Number(v[4]), packets: c.packets, bytes: c.bytes });
    }
  }
  return out;
}
