/**
 * The flow model: exactly what OVS runs. A flow is (table, priority, cookie, match, actions); a match is a set of
 * field (value, mask) pairs; the actions are a subset of OpenFlow 1.5 plus Nicira extensions that Antrea uses.
 * Values are bigints so that 48-bit MACs, 64-bit tun_id and 128-bit ct_label fit; the simulator converts them once
 * when a flow is installed.
 */
import type { FieldName, RegField, RegMark } from './fields.js';
import { FIELD_ORDER, fieldDef, fullMask, regMarkBits, CtState, type CtFlag } from './fields.js';
import { parseIpv4, parseMac, type Cidr } from '../net/addr.js';

export interface FieldMatch {
  readonly field: FieldName;
  readonly value: bigint;
  /** Omitted for an exact match on the whole field. */
  readonly mask?: bigint;
}

export type Match = readonly FieldMatch[];

export type NatSpec =
  /** `nat`: apply (or reverse) whatever NAT the connection already has. */
  | { readonly kind: 'reapply' }
  | { readonly kind: 'src' | 'dst'; readonly ip: number; readonly port?: number };

export interface SetFieldAction {
  readonly type: 'set_field';
  readonly field: FieldName;
  readonly value: bigint;
  readonly mask?: bigint;
}

export interface CtAction {
  readonly type: 'ct';
  readonly commit: boolean;
  readonly zone: number;
  /** Recirculate to this table after conntrack; the packet then sees the refreshed ct_state. */
  readonly table?: number;
  readonly nat?: NatSpec;
  /** Loads into ct_mark / ct_label, run on commit. */
  readonly exec: readonly SetFieldAction[];
}

/**
 * `learn(...)`: installs a flow into `table` built from the current packet (AntreaProxy session affinity).
 * The learned flow matches the constants plus the copied fields' current values, and loads registers.
 */
export interface LearnAction {
  readonly type: 'learn';
  readonly table: number;
  readonly priority: number;
  readonly hardTimeout: number;
  readonly cookie: bigint;
  readonly deleteLearned: boolean;
  readonly matchConst: readonly { readonly field: FieldName; readonly value: number }[];
  /** Fields whose current value the learned flow matches; `nxm` is the name learn() uses (NXM_OF_TCP_DST, ...). */
  readonly matchCopy: readonly { readonly field: FieldName; readonly nxm: string }[];
  /** Loads in the learned flow, from a register range of the packet or a constant. */
  readonly loads: readonly { readonly dst: RegField; readonly src?: RegField; readonly value?: number }[];
}

export type Action =
  | { readonly type: 'goto_table'; readonly table: number }
  | { readonly type: 'resubmit'; readonly table: number }
  | SetFieldAction
  | { readonly type: 'move'; readonly src: FieldName; readonly dst: FieldName }
  | CtAction
  | { readonly type: 'group'; readonly id: number }
  | { readonly type: 'output'; readonly port: number }
  | { readonly type: 'output_reg'; readonly field: RegField }
  | { readonly type: 'in_port' }
  | { readonly type: 'normal' }
  | { readonly type: 'conjunction'; readonly id: number; readonly clause: number; readonly nClauses: number }
  | { readonly type: 'controller'; readonly reason: number }
  | { readonly type: 'dec_ttl' }
  | LearnAction;

export interface Flow {
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly match: Match;
  /** Empty means drop. */
  readonly actions: readonly Action[];
  readonly hardTimeout?: number;
  readonly idleTimeout?: number;
}

export interface Bucket {
  readonly id: number;
  readonly weight: number;
  readonly actions: readonly Action[];
}

export interface Group {
  readonly id: number;
  readonly type: 'select' | 'all';
  readonly buckets: readonly Bucket[];
}

// ---------------------------------------------------------------------------------------------------------------
// Match builder

export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

export type Proto = 'ip' | 'arp' | 'tcp' | 'udp' | 'icmp' | 'sctp';

/** Builds a canonical match (fields in ovs-ofctl order, one entry per field). */
export class MatchBuilder {
  private readonly fields = new Map<FieldName, FieldMatch>();

  field(field: FieldName, value: bigint | number, mask?: bigint | number): this {
    const full = fullMask(fieldDef(field).width);
    let v = BigInt(value);
    let m = mask === undefined ? full : BigInt(mask);
    const prev = this.fields.get(field);
    if (prev) {
      // Merge with an earlier match on another part of the same field (e.g. two marks in reg0).
      const pm = prev.mask ?? full;
      if (((prev.value ^ v) & pm & m) !== 0n) throw new Error(`conflicting matches on ${field}`);
      v = (prev.value & pm) | (v & m);
      m = pm | m;
    }
    v &= m;
    this.fields.set(field, m === full ? { field, value: v } : { field, value: v, mask: m });
    return this;
  }

  proto(p: Proto): this {
    if (p === 'arp') return this.field('eth_type', ETH_TYPE_ARP);
    this.field('eth_type', ETH_TYPE_IP);
    if (p === 'tcp') this.field('nw_proto', IPPROTO_TCP);
    if (p === 'udp') this.field('nw_proto', IPPROTO_UDP);
    if (p === 'icmp') this.field('nw_proto', IPPROTO_ICMP);
    if (p === 'sctp') this.field('nw_proto', IPPROTO_SCTP);
    return this;
  }

  ip(): this {
    return this.proto('ip');
  }

  arp(): this {
    return this.proto('arp');
  }

  inPort(port: number): this {
    return this.field('in_port', port);
  }

  reg(mark: RegMark): this {
    const { value, mask } = regMarkBits(mark);
    return this.field(mark.field.reg, value, mask);
  }

  regValue(field: RegField, value: number): this {
    return this.reg({ field, value });
  }

  dlSrc(mac: string): this {
    return this.field('dl_src', parseMac(mac));
  }

  dlDst(mac: string): this {
    return this.field('dl_dst', parseMac(mac));
  }

  nwSrc(ip: string | Cidr): this {
    return typeof ip === 'string' ? this.field('nw_src', parseIpv4(ip)) : this.field('nw_src', ip.ip, ip.mask);
  }

  nwDst(ip: string | Cidr): this {
    return typeof ip === 'string' ? this.field('nw_dst', parseIpv4(ip)) : this.field('nw_dst', ip.ip, ip.mask);
  }

  arpOp(op: number): this {
    return this.field('arp_op', op);
  }

  arpSpa(ip: string): this {
    return this.field('arp_spa', parseIpv4(ip));
  }

  arpTpa(ip: string): this {
    return this.field('arp_tpa', parseIpv4(ip));
  }

  arpSha(mac: string): this {
    return this.field('arp_sha', parseMac(mac));
  }

  tpDst(port: number, mask?: number): this {
    return this.field('tp_dst', port, mask);
  }

  tpSrc(port: number, mask?: number): this {
    return this.field('tp_src', port, mask);
  }

  /** ct_state as OVS writes it: `+new+trk`, `-new+trk`, `+inv+trk`, ... */
  ctState(spec: string): this {
    let value = 0;
    let mask = 0;
    for (const m of spec.matchAll(/([+-])([a-z]+)/g)) {
      const bit = CtState[m[2] as CtFlag];
      if (bit === undefined) throw new Error(`unknown ct_state flag ${m[2]}`);
      mask |= bit;
      if (m[1] === '+') value |= bit;
    }
    return this.field('ct_state', value, mask);
  }

  ctMark(mark: { value: number; mask: number }): this {
    return this.field('ct_mark', mark.value, mark.mask);
  }

  conjId(id: number): this {
    return this.field('conj_id', id);
  }

  build(): Match {
    return [...this.fields.values()].sort(
      (a, b) => (FIELD_ORDER.get(a.field) ?? 0) - (FIELD_ORDER.get(b.field) ?? 0),
    );
  }
}

export function match(): MatchBuilder {
  return new MatchBuilder();
}

// ---------------------------------------------------------------------------------------------------------------
// Action helpers

export const act = {
  goto: (table: number): Action => ({ type: 'goto_table', table }),
  resubmit: (table: number): Action => ({ type: 'resubmit', table }),
  set: (field: FieldName, value: bigint | number, mask?: bigint | number): SetFieldAction => {
    const full = fullMask(fieldDef(field).width);
    const m = mask === undefined ? undefined : BigInt(mask);
    return m === undefined || m === full
      ? { type: 'set_field', field, value: BigInt(value) }
      : { type: 'set_field', field, value: BigInt(value) & m, mask: m };
  },
  loadReg: (mark: RegMark): SetFieldAction => {
    const { value, mask } = regMarkBits(mark);
    return act.set(mark.field.reg, value, mask);
  },
  loadRegField: (field: RegField, value: number): SetFieldAction => act.loadReg({ field, value }),
  setMac: (field: 'dl_src' | 'dl_dst' | 'arp_sha' | 'arp_tha', mac: string): SetFieldAction => act.set(field, parseMac(mac)),
  setIp: (field: 'nw_src' | 'nw_dst' | 'arp_spa' | 'arp_tpa' | 'tun_dst', ip: string): SetFieldAction =>
    act.set(field, parseIpv4(ip)),
  move: (src: FieldName, dst: FieldName): Action => ({ type: 'move', src, dst }),
  ct: (opts: { commit?: boolean; zone: number; table?: number; nat?: NatSpec; exec?: SetFieldAction[] }): CtAction => ({
    type: 'ct',
    commit: opts.commit ?? false,
    zone: opts.zone,
    ...(opts.table === undefined ? {} : { table: opts.table }),
    ...(opts.nat === undefined ? {} : { nat: opts.nat }),
    exec: opts.exec ?? [],
  }),
  group: (id: number): Action => ({ type: 'group', id }),
  output: (port: number): Action => ({ type: 'output', port }),
  outputReg: (field: RegField): Action => ({ type: 'output_reg', field }),
  inPort: (): Action => ({ type: 'in_port' }),
  normal: (): Action => ({ type: 'normal' }),
  conjunction: (id: number, clause: number, nClauses: number): Action => ({ type: 'conjunction', id, clause, nClauses }),
  controller: (reason: number): Action => ({ type: 'controller', reason }),
  decTtl: (): Action => ({ type: 'dec_ttl' }),
  learn: (spec: Omit<LearnAction, 'type'>): LearnAction => ({ type: 'learn', ...spec }),
};

export function flow(
  table: number,
  priority: number,
  cookie: bigint,
  m: Match | MatchBuilder,
  actions: readonly Action[],
): Flow {
  return { table, priority, cookie, match: m instanceof MatchBuilder ? m.build() : m, actions };
}
