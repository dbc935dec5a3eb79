/**
 * Host rules in nftables, inside the Node's namespace: NodePortLocal DNAT, Egress SNAT and masquerade, as Antrea
 * keeps them outside OVS. One table `ip antrea_ts`:
 *   - map `npl`        (l4proto . Node port → Pod IP . Pod port): NodePortLocal, one element per mapping;
 *   - map `snat_src`   (source CIDR → SNAT IP): Egress by source, one element per rule (interval map);
 *   - map `snat_mark`  (packet mark → SNAT IP): Egress by mark;
 *   - map `mark_by_mac` (source MAC → packet mark), fixed, and chain `egress_mark`: on the userspace datapath OVS's
 *     pkt_mark does not reach the host (the frame is written to the gateway's tap), so the Egress flows also put the
 *     mark in the source MAC (snatMarkMac, pipeline/stages/egress.ts) and this chain, before NAT, turns the MAC of a
 *     frame from the gateway back into the mark; `snat_mark` then works as on the kernel datapath. The map holds all
 *     255 marks once, so an Egress change still touches only `snat_mark`;
 *   - chain `custom_pre` / `custom_post`: rules that fit no map (DNAT, masquerade, SNAT with several matches),
 *     rewritten as a whole when one of them changes (they are few).
 * Every change is one `nft -f -` transaction, so it lands atomically, and a map change costs the same in a small or
 * large ruleset. Restart: `reconcile()` reads the maps and chains back (`nft -j list`) and writes only the
 * difference. Every value is validated before it is written (validate.ts); comments carry only a validated id.
 */
import type { HostNatRule, NodePortLocalMapping } from '../types.js';
import { AntreaError } from '../../util/errors.js';
import { run } from './exec.js';
import { cidr4, ipv4, port } from './validate.js';
import { SNAT_MARK_MASK, snatMarkMac } from '../pipeline/stages/egress.js';
import { GATEWAY_IF } from './hostnet.js';

export const NFT_TABLE = 'antrea_ts';

const proto = (p: string): string => {
  if (p === 'TCP' || p === 'UDP' || p === 'SCTP') return p.toLowerCase();
  throw new AntreaError('ERR_OVS_INVALID_VALUE', `protocol ${JSON.stringify(p)} is not TCP, UDP or SCTP`, { field: 'protocol' });
};

function ruleId(id: string): string {
  if (!/^[A-Za-z0-9_.:/-]{1,100}$/.test(id)) throw new AntreaError('ERR_OVS_INVALID_VALUE', `host rule id ${JSON.stringify(id)} has characters outside [A-Za-z0-9_.:/-]`, { field: 'id' });
  return id;
}

/** Maps the skeleton fills once and that no change touches (left out of restart snapshots). */
const FIXED_MAPS = new Set(['mark_by_mac']);

/** `mark_by_mac`'s elements: every SNAT mark's source MAC → the mark. */
export function markByMacElements(): string {
  const elems: string[] = [];
  for (let m = 1; m <= SNAT_MARK_MASK; m++) elems.push(`${snatMarkMac(m)} : ${m}`);
  return elems.join(', ');
}

export const skeleton = (): string => `add table ip ${NFT_TABLE}
add map ip ${NFT_TABLE} npl { type inet_proto . inet_service : ipv4_addr . inet_service; }
add map ip ${NFT_TABLE} snat_src { type ipv4_addr : ipv4_addr; flags interval; }
add map ip ${NFT_TABLE} snat_mark { type mark : ipv4_addr; }
add map ip ${NFT_TABLE} mark_by_mac { type ether_addr : mark; }
add element ip ${NFT_TABLE} mark_by_mac { ${markByMacElements()} }
add chain ip ${NFT_TABLE} egress_mark { type filter hook prerouting priority mangle; policy accept; }
flush chain ip ${NFT_TABLE} egress_mark
add rule ip ${NFT_TABLE} egress_mark iifname "${GATEWAY_IF}" meta mark set ether saddr map @mark_by_mac
add chain ip ${NFT_TABLE} custom_pre
add chain ip ${NFT_TABLE} custom_post
add chain ip ${NFT_TABLE} prerouting { type nat hook prerouting priority dstnat; policy accept; }
add chain ip ${NFT_TABLE} output { type nat hook output priority -100; policy accept; }
add chain ip ${NFT_TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }
flush chain ip ${NFT_TABLE} prerouting
flush chain ip ${NFT_TABLE} output
flush chain ip ${NFT_TABLE} postrouting
add rule ip ${NFT_TABLE} prerouting fib daddr type local dnat ip to meta l4proto . th dport map @npl
add rule ip ${NFT_TABLE} prerouting jump custom_pre
add rule ip ${NFT_TABLE} output fib daddr type local dnat ip to meta l4proto . th dport map @npl
add rule ip ${NFT_TABLE} output jump custom_pre
add rule ip ${NFT_TABLE} postrouting snat ip to meta mark map @snat_mark
add rule ip ${NFT_TABLE} postrouting snat ip to ip saddr map @snat_src
add rule ip ${NFT_TABLE} postrouting jump custom_post
`;

/** A rule that fits a map, as its map element; undefined for a custom rule. Exported for the rendering tests. */
export function mapElement(r: HostNatRule): { map: 'snat_src' | 'snat_mark'; key: string; value: string } | undefined {
  if (r.kind !== 'SNAT' || r.to.port !== undefined) return undefined;
  const m = r.match;
  const others = [m.dstCIDR, m.protocol, m.dstPort].some((v) => v !== undefined);
  if (others) return undefined;
  // Keys are written as `nft -j list` prints them back (a /32 as a plain address, marks in decimal), so a restart
  // compares like with like.
  if (m.srcCIDR !== undefined && m.pktMark === undefined) return { map: 'snat_src', key: cidr4(normCidr(m.srcCIDR), 'match.srcCIDR').replace(/\/32$/, ''), value: ipv4(r.to.ip, 'to.ip') };
  if (m.pktMark !== undefined && m.srcCIDR === undefined) {
    if (!Number.isInteger(m.pktMark) || m.pktMark < 0 || m.pktMark > 0xffffffff) throw new AntreaError('ERR_OVS_INVALID_VALUE', 'match.pktMark is not a 32-bit mark', { field: 'match.pktMark' });
    return { map: 'snat_mark', key: String(m.pktMark), value: ipv4(r.to.ip, 'to.ip') };
  }
  return undefined;
}

function normCidr(c: string): string {
  return c.includes('/') ? c : `${c}/32`;
}

/** One custom rule as nft text (validated pieces only). Exported for the rendering tests. */
export function customRule(r: HostNatRule): { chain: 'custom_pre' | 'custom_post'; text: string } {
  const m = r.match;
  const parts: string[] = [];
  if (m.srcCIDR !== undefined) parts.push(`ip saddr ${cidr4(normCidr(m.srcCIDR), 'match.srcCIDR')}`);
  if (m.dstCIDR !== undefined) parts.push(`ip daddr ${cidr4(normCidr(m.dstCIDR), 'match.dstCIDR')}`);
  if (m.pktMark !== undefined) parts.push(`meta mark 0x${(m.pktMark >>> 0).toString(16)}`);
  if (m.protocol !== undefined) parts.push(`meta l4proto ${proto(m.protocol)}`);
  if (m.dstPort !== undefined) {
    if (m.protocol === undefined) throw new AntreaError('ERR_OVS_INVALID_VALUE', 'match.dstPort needs match.protocol', { field: 'match.dstPort' });
    parts.push(`th dport ${port(m.dstPort, 'match.dstPort')}`);
  }
  const to = `${ipv4(r.to.ip, 'to.ip')}${r.to.port !== undefined ? `:${port(r.to.port, 'to.port')}` : ''}`;
  if (r.to.port !== undefined && m.protocol === undefined) throw new AntreaError('ERR_OVS_INVALID_VALUE', 'to.port needs match.protocol', { field: 'to.port' });
  const verdict = r.kind === 'DNAT' ? `dnat ip to ${to}` : r.kind === 'SNAT' ? `snat ip to ${to}` : 'masquerade';
  return { chain: r.kind === 'DNAT' ? 'custom_pre' : 'custom_post', text: `${parts.join(' ')} ${verdict} comment "${ruleId(r.id)}"`.trim() };
}

function nplKey(m: NodePortLocalMapping): string {
  return `${proto(m.protocol)} . ${port(m.nodePort, 'nodePort')}`;
}

function nplValue(m: NodePortLocalMapping): string {
  return `${ipv4(m.podIP, 'podIP')} . ${port(m.podPort, 'podPort')}`;
}

export type NatChange =
  | { op: 'upsert'; rule?: HostNatRule; mapping?: NodePortLocalMapping }
  | { op: 'remove'; kind: 'hostNat' | 'nodePortLocal'; key: string };

export class HostNat {
  private readonly rules = new Map<string, HostNatRule>();
  private readonly npl = new Map<string, NodePortLocalMapping>();
  private ready = false;
  /** Restart: the map elements nftables held at open (`map|key` → value), until finishResync. */
  private snapshot?: Map<string, string>;

  constructor(private readonly netns: string) {}

  /** Reads the maps a previous run left, so re-published state re-adds nothing that is already there. */
  async takeSnapshot(): Promise<void> {
    const snap = new Map<string, string>();
    const { stdout, code } = await run('nft', ['-j', 'list', 'table', 'ip', NFT_TABLE], { netns: this.netns, okCodes: [0, 1] });
    if (code === 0) {
      const doc = JSON.parse(stdout) as { nftables: Array<{ map?: { name: string; elem?: Array<[unknown, unknown]> } }> };
      for (const item of doc.nftables) {
        if (!item.map || FIXED_MAPS.has(item.map.name)) continue;
        for (const [k, v] of item.map.elem ?? []) snap.set(`${item.map.name}|${elemText(k)}`, elemText(v));
      }
    }
    this.snapshot = snap;
  }

  /** Ends a restart: deletes the elements the previous run held that the desired state does not. */
  async finishResync(): Promise<number> {
    const snap = this.snapshot;
    this.snapshot = undefined;
    if (!snap || snap.size === 0) return 0;
    const want = new Set<string>();
    for (const m of this.npl.values()) want.add(`npl|${nplKey(m)}`);
    for (const r of this.rules.values()) {
      const e = mapElement(r);
      if (e) want.add(`${e.map}|${e.key}`);
    }
    const stale = [...snap.keys()].filter((k) => !want.has(k));
    if (stale.length) {
      await run('nft', ['-f', '-'], { netns: this.netns, input: `${stale.map((k) => { const [map, key] = k.split('|'); return `delete element ip ${NFT_TABLE} ${map} { ${key} }`; }).join('\n')}\n` });
    }
    return stale.length;
  }

  /** True when a restarted run finds this element already in place. */
  private held(map: string, key: string, value: string): boolean {
    return this.snapshot?.get(`${map}|${key}`) === value;
  }

  private async ensure(): Promise<void> {
    if (this.ready) return;
    await run('nft', ['-f', '-'], { netns: this.netns, input: skeleton() });
    this.ready = true;
  }

  /** Applies a batch of hostNat / nodePortLocal changes as one nft transaction. */
  async apply(changes: readonly NatChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.ensure();
    const lines: string[] = [];
    const customBefore = this.customText();
    const T = `ip ${NFT_TABLE}`;
    for (const ch of changes) {
      if (ch.op === 'upsert' && ch.mapping) {
        const k = `${ch.mapping.protocol}/${ch.mapping.nodePort}`;
        const old = this.npl.get(k);
        if (old) lines.push(`delete element ${T} npl { ${nplKey(old)} }`);
        if (old || !this.held('npl', nplKey(ch.mapping), nplValue(ch.mapping))) {
          if (!old && this.snapshot?.has(`npl|${nplKey(ch.mapping)}`)) lines.push(`delete element ${T} npl { ${nplKey(ch.mapping)} }`);
          lines.push(`add element ${T} npl { ${nplKey(ch.mapping)} : ${nplValue(ch.mapping)} }`);
        }
        this.npl.set(k, ch.mapping);
      } else if (ch.op === 'upsert' && ch.rule) {
        ruleId(ch.rule.id);
        const old = this.rules.get(ch.rule.id);
        const oe = old && mapElement(old);
        if (oe) lines.push(`delete element ${T} ${oe.map} { ${oe.key} }`);
        const ne = mapElement(ch.rule);
        if (!ne) customRule(ch.rule); // validate now, written below
        if (ne && (oe || !this.held(ne.map, ne.key, ne.value))) {
          if (!oe && this.snapshot?.has(`${ne.map}|${ne.key}`)) lines.push(`delete element ${T} ${ne.map} { ${ne.key} }`);
          lines.push(`add element ${T} ${ne.map} { ${ne.key} : ${ne.value} }`);
        }
        this.rules.set(ch.rule.id, ch.rule);
      } else if (ch.op === 'remove' && ch.kind === 'nodePortLocal') {
        const old = this.npl.get(ch.key);
        if (old) lines.push(`delete element ${T} npl { ${nplKey(old)} }`);
        this.npl.delete(ch.key);
      } else if (ch.op === 'remove' && ch.kind === 'hostNat') {
        const old = this.rules.get(ch.key);
        const oe = old && mapElement(old);
        if (oe) lines.push(`delete element ${T} ${oe.map} { ${oe.key} }`);
        this.rules.delete(ch.key);
      }
    }
    const customAfter = this.customText();
    // A custom chain is rewritten (flush + add, inside the same transaction) only when its rules changed.
    if (customAfter.pre.join('\n') !== customBefore.pre.join('\n') || (this.snapshot && customAfter.pre.length)) lines.push(`flush chain ${T} custom_pre`, ...customAfter.pre.map((r) => `add rule ${T} custom_pre ${r}`));
    if (customAfter.post.join('\n') !== customBefore.post.join('\n') || (this.snapshot && customAfter.post.length)) lines.push(`flush chain ${T} custom_post`, ...customAfter.post.map((r) => `add rule ${T} custom_post ${r}`));
    if (lines.length) await run('nft', ['-f', '-'], { netns: this.netns, input: `${lines.join('\n')}\n` });
  }

  private customText(): { pre: string[]; post: string[] } {
    const pre: string[] = [];
    const post: string[] = [];
    for (const r of [...this.rules.values()].sort((x, y) => (x.id < y.id ? -1 : 1))) {
      if (mapElement(r)) continue;
      const c = customRule(r);
      (c.chain === 'custom_pre' ? pre : post).push(c.text);
    }
    return { pre, post };
  }

  /** The NodePortLocal mappings and rules this Node holds (the traffic layer opens listeners behind them). */
  mappings(): NodePortLocalMapping[] {
    return [...this.npl.values()];
  }

  /** The ruleset as nftables holds it (for tests and restart checks). */
  async list(): Promise<string> {
    return (await run('nft', ['list', 'table', 'ip', NFT_TABLE], { netns: this.netns, okCodes: [0, 1] })).stdout;
  }
}

/** An element key or value from `nft -j` in the text syntax we write (`tcp . 61001`, `10.10.0.2 . 8080`, CIDRs). */
function elemText(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const o = v as { concat?: unknown[]; prefix?: { addr: string; len: number }; range?: [unknown, unknown] };
    if (o.concat) return o.concat.map(elemText).join(' . ');
    if (o.prefix) return `${o.prefix.addr}/${o.prefix.len}`;
  }
  return JSON.stringify(v);
}
