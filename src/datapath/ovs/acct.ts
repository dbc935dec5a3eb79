/**
 * Per-Pod packet accounting with nftables inside the Pod's network namespace: dynamic sets keyed by the 4-tuple
 * (ICMP: addresses and echo id) plus the IP TTL, each element with a counter. It tells the traffic layer, for real
 * packets sent by real sockets, how many packets and IP bytes left and reached each Pod per connection and with what
 * TTL they arrived, without capturing anything. (nft 1.0.6 misprints 8-bit fields inside concatenations, so the TTL is
 * first mapped into the packet mark, a 32-bit field, and keyed from there.)
 *
 * Answers to rejected packets are counted apart, so they never pass for a peer's reply: TCP resets (both
 * directions, keyed like other TCP packets, and kept out of the TCP sets) and received ICMP destination-unreachable
 * errors of code 3 (port) and 10 (administratively prohibited), one set per code, keyed by source, destination and
 * the quoted packet's first 32 bits after its 20-byte IP header (TCP/UDP: source and destination port; ICMP echo: id
 * and sequence), moved into the mark (raw payload inside a concatenation confuses nft 1.0.6's typing). The mark
 * holds those four bytes as a host-order (little-endian) integer.
 */
import { run } from './exec.js';

const TTL_MAP = `meta mark set ip ttl map { 1-59 : 1, ${Array.from({ length: 6 }, (_, i) => `${59 + i + 1} : ${59 + i + 1}`).join(', ')}, 66-255 : 255 }`;

/** Source, destination, and the quoted packet's first L4 bytes in the mark (see above). */
const QUOTED = 'ip saddr . ip daddr . meta mark';

function ruleset(): string {
  const set = (name: string, key: string) => `  set ${name} { typeof ${key} . meta mark; flags dynamic; counter; size 65535; }`;
  const errSet = (code: number) => `  set rxe${code} { typeof ${QUOTED}; flags dynamic; counter; size 65535; }`;
  const l4 = (p: 'tcp' | 'udp') => `ip saddr . ip daddr . ${p} sport . ${p} dport`;
  const icmp = 'ip saddr . ip daddr . icmp id';
  const chain = (name: string, hook: string, dir: string) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority -300; policy accept;`,
    `    ${TTL_MAP}`,
    `    tcp flags & rst == rst update @${dir}r { ${l4('tcp')} . meta mark } return`,
    ...(dir === 'rx' ? [3, 10].flatMap((code) => [
      // @th,136,8 is the quoted packet's protocol; 224 bits in, its L4 header (ports), 256 bits in, an echo's id.
      `    icmp type destination-unreachable icmp code ${code} @th,136,8 != 1 meta mark set @th,224,32 update @rxe${code} { ${QUOTED} }`,
      `    icmp type destination-unreachable icmp code ${code} @th,136,8 1 meta mark set @th,256,32 update @rxe${code} { ${QUOTED} }`,
    ]) : []),
    `    tcp sport 0-65535 update @${dir}t { ${l4('tcp')} . meta mark }`,
    `    udp sport 0-65535 update @${dir}u { ${l4('udp')} . meta mark }`,
    `    icmp type { echo-request, echo-reply } update @${dir}i { ${icmp} . meta mark }`,
    '  }',
  ];
  return [
    'table ip ats_acct {',
    set('rxt', l4('tcp')), set('rxu', l4('udp')), set('rxi', icmp),
    set('txt', l4('tcp')), set('txu', l4('udp')), set('txi', icmp),
    set('rxr', l4('tcp')), set('txr', l4('tcp')), errSet(3), errSet(10),
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

const ANSWER_SETS = new Set(['rxr', 'txr', 'rxe3', 'rxe10']);

interface NftSetJson { set?: { name: string; elem?: Array<{ elem?: { val?: { concat?: Array<string | number> }; counter?: { packets: number; bytes: number } } }> } }

export async function readAccounting(netns: string): Promise<AcctEntry[]> {
  const { stdout } = await run('nft', ['-j', 'list', 'table', 'ip', 'ats_acct'], { netns });
  const doc = JSON.parse(stdout) as { nftables: NftSetJson[] };
  const out: AcctEntry[] = [];
  for (const item of doc.nftables) {
    const s = item.set;
    if (!s || ANSWER_SETS.has(s.name)) continue;
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

/** An answer to a rejected packet that reached this namespace. */
export interface AnswerEntry {
  reply: 'tcp-rst' | 'icmp-unreachable';
  /** The answer's source and destination. */
  src: string;
  dst: string;
  /** The rejected packet's source port (TCP/UDP) or echo id (ICMP), and destination port (0 for ICMP). */
  sport: number;
  dport: number;
  /** ICMP code (3 port unreachable, 10 administratively prohibited). */
  code?: number;
  packets: number;
}

/**
 * Resets and ICMP destination-unreachable errors received here, as answers to packets this namespace sent.
 * `quotedProto` says how to read the quote of an ICMP error (its ports or its echo id).
 */
export async function readAnswers(netns: string, quotedProto: 'TCP' | 'UDP' | 'ICMP'): Promise<AnswerEntry[]> {
  const { stdout } = await run('nft', ['-j', 'list', 'table', 'ip', 'ats_acct'], { netns });
  const doc = JSON.parse(stdout) as { nftables: NftSetJson[] };
  const out: AnswerEntry[] = [];
  for (const item of doc.nftables) {
    const s = item.set;
    if (!s || (s.name !== 'rxr' && !s.name.startsWith('rxe'))) continue;
    for (const e of s.elem ?? []) {
      const v = e.elem?.val?.concat;
      const c = e.elem?.counter;
      if (!v || !c) continue;
      if (s.name === 'rxr') {
        // The reset goes from the rejected packet's destination port to its source port.
        out.push({ reply: 'tcp-rst', src: String(v[0]), dst: String(v[1]), sport: Number(v[3]), dport: Number(v[2]), packets: c.packets });
      } else {
        const quoted = Buffer.alloc(4);
        quoted.writeUInt32LE(Number(v[2]) >>> 0, 0);
        const icmp = quotedProto === 'ICMP';
        out.push({
          reply: 'icmp-unreachable', src: String(v[0]), dst: String(v[1]), sport: quoted.readUInt16BE(0), dport: icmp ? 0 : quoted.readUInt16BE(2),
          code: Number(s.name.slice(3)), packets: c.packets,
        });
      }
    }
  }
  return out;
}
