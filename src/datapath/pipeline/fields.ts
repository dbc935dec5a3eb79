/**
 * OpenFlow fields the model knows, and Antrea's registers, marks and constants (reference/ovs-pipeline.md sections
 * 1 and 2). Every field has the name `ovs-ofctl` matches on, the name `set_field` loads into, its NXM name for
 * `move`, a width, and a kind that decides how its values print.
 */
export type FieldKind = 'int' | 'hex' | 'ipv4' | 'mac' | 'ctstate';

export interface FieldDef {
  /** Name in a match (`nw_dst`), also the key of the catalog. */
  name: FieldName;
  /** Name in `set_field:V->NAME`. */
  setName: string;
  /** NXM/OXM name for `move:NAME[]` (empty when not movable in the model). */
  nxm: string;
  width: number;
  kind: FieldKind;
}

export const REG_COUNT = 16;
export type RegName =
  | 'reg0' | 'reg1' | 'reg2' | 'reg3' | 'reg4' | 'reg5' | 'reg6' | 'reg7'
  | 'reg8' | 'reg9' | 'reg10' | 'reg11' | 'reg12' | 'reg13' | 'reg14' | 'reg15';

export type FieldName =
  | 'pkt_mark' | 'conj_id' | 'ct_state' | 'ct_zone' | 'ct_mark' | 'ct_label'
  | 'eth_type' | 'nw_proto'
  | RegName
  | 'tun_id' | 'tun_src' | 'tun_dst' | 'in_port'
  | 'dl_src' | 'dl_dst'
  | 'arp_spa' | 'arp_tpa' | 'arp_op' | 'arp_sha' | 'arp_tha'
  | 'nw_src' | 'nw_dst' | 'ip_dscp' | 'nw_ttl'
  | 'tp_src' | 'tp_dst' | 'icmp_type' | 'icmp_code' | 'tcp_flags';

const regDefs: FieldDef[] = Array.from({ length: REG_COUNT }, (_, i) => ({
  name: `reg${i}` as RegName,
  setName: `reg${i}`,
  nxm: `NXM_NX_REG${i}`,
  width: 32,
  kind: 'hex' as const,
}));

/** The catalog, in the order `ovs-ofctl` prints a match (so our rendering equals its normalised form). */
export const FIELDS: readonly FieldDef[] = [
  { name: 'pkt_mark', setName: 'pkt_mark', nxm: 'NXM_NX_PKT_MARK', width: 32, kind: 'hex' },
  { name: 'conj_id', setName: 'conj_id', nxm: '', width: 32, kind: 'int' },
  { name: 'ct_state', setName: 'ct_state', nxm: '', width: 8, kind: 'ctstate' },
  { name: 'ct_zone', setName: 'ct_zone', nxm: 'NXM_NX_CT_ZONE', width: 16, kind: 'int' },
  { name: 'ct_mark', setName: 'ct_mark', nxm: 'NXM_NX_CT_MARK', width: 32, kind: 'hex' },
  { name: 'ct_label', setName: 'ct_label', nxm: 'NXM_NX_CT_LABEL', width: 128, kind: 'hex' },
  // eth_type and nw_proto print as a protocol keyword (ip, arp, tcp, ...) at this position.
  { name: 'eth_type', setName: 'eth_type', nxm: 'NXM_OF_ETH_TYPE', width: 16, kind: 'hex' },
  { name: 'nw_proto', setName: 'nw_proto', nxm: 'NXM_OF_IP_PROTO', width: 8, kind: 'int' },
  ...regDefs,
  { name: 'tun_id', setName: 'tun_id', nxm: 'NXM_NX_TUN_ID', width: 64, kind: 'hex' },
  { name: 'tun_src', setName: 'tun_src', nxm: 'NXM_NX_TUN_IPV4_SRC', width: 32, kind: 'ipv4' },
  { name: 'tun_dst', setName: 'tun_dst', nxm: 'NXM_NX_TUN_IPV4_DST', width: 32, kind: 'ipv4' },
  { name: 'in_port', setName: 'in_port', nxm: 'NXM_OF_IN_PORT', width: 32, kind: 'int' },
  { name: 'dl_src', setName: 'eth_src', nxm: 'NXM_OF_ETH_SRC', width: 48, kind: 'mac' },
  { name: 'dl_dst', setName: 'eth_dst', nxm: 'NXM_OF_ETH_DST', width: 48, kind: 'mac' },
  { name: 'arp_spa', setName: 'arp_spa', nxm: 'NXM_OF_ARP_SPA', width: 32, kind: 'ipv4' },
  { name: 'arp_tpa', setName: 'arp_tpa', nxm: 'NXM_OF_ARP_TPA', width: 32, kind: 'ipv4' },
  { name: 'arp_op', setName: 'arp_op', nxm: 'NXM_OF_ARP_OP', width: 16, kind: 'int' },
  { name: 'arp_sha', setName: 'arp_sha', nxm: 'NXM_NX_ARP_SHA', width: 48, kind: 'mac' },
  { name: 'arp_tha', setName: 'arp_tha', nxm: 'NXM_NX_ARP_THA', width: 48, kind: 'mac' },
  { name: 'nw_src', setName: 'ip_src', nxm: 'NXM_OF_IP_SRC', width: 32, kind: 'ipv4' },
  { name: 'nw_dst', setName: 'ip_dst', nxm: 'NXM_OF_IP_DST', width: 32, kind: 'ipv4' },
  { name: 'ip_dscp', setName: 'ip_dscp', nxm: 'NXM_OF_IP_TOS', width: 6, kind: 'int' },
  { name: 'nw_ttl', setName: 'nw_ttl', nxm: 'NXM_NX_IP_TTL', width: 8, kind: 'int' },
  { name: 'tp_src', setName: 'tp_src', nxm: 'NXM_OF_TCP_SRC', width: 16, kind: 'int' },
  { name: 'tp_dst', setName: 'tp_dst', nxm: 'NXM_OF_TCP_DST', width: 16, kind: 'int' },
  { name: 'icmp_type', setName: 'icmp_type', nxm: 'NXM_OF_ICMP_TYPE', width: 8, kind: 'int' },
  { name: 'icmp_code', setName: 'icmp_code', nxm: 'NXM_OF_ICMP_CODE', width: 8, kind: 'int' },
  { name: 'tcp_flags', setName: 'tcp_flags', nxm: 'NXM_NX_TCP_FLAGS', width: 12, kind: 'hex' },
];

const byName = new Map<FieldName, FieldDef>(FIELDS.map((f) => [f.name, f]));
export const FIELD_ORDER = new Map<FieldName, number>(FIELDS.map((f, i) => [f.name, i]));

export function fieldDef(name: FieldName): FieldDef {
  return byName.get(name) as FieldDef;
}

export function fullMask(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

// ---- ct_state bits (OVS order: new, est, rel, rpl, inv, trk, snat, dnat) ----
export const CtState = {
  new: 0x01,
  est: 0x02,
  rel: 0x04,
  rpl: 0x08,
  inv: 0x10,
  trk: 0x20,
  snat: 0x40,
  dnat: 0x80,
} as const;
export type CtFlag = keyof typeof CtState;
export const CT_FLAG_ORDER: readonly CtFlag[] = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];

// ---- Antrea constants (section 1) ----
export const TUNNEL_OFPORT = 1;
export const GATEWAY_OFPORT = 2;
export const BRIDGE_LOCAL_OFPORT = 0xfffffffe;
/** OpenFlow's "IN_PORT" pseudo-port number; outputs to it are written as the IN_PORT action. */
export const OFPP_IN_PORT = 0xfffffff8;
export const GLOBAL_VIRTUAL_MAC = 'aa:bb:cc:dd:ee:ff';
export const HAIRPIN_VIRTUAL_IP = '169.254.169.252';
export const CT_ZONE = 65520;
export const SNAT_CT_ZONE = 65521;

export const Priority = {
  high: 210,
  normal: 200,
  low: 190,
  miss: 0,
  top: 64990,
} as const;

/** A bit range of a register: reg0[19], reg4[16..18]. */
export interface RegField {
  reg: RegName;
  /** Lowest bit. */
  lo: number;
  /** Highest bit (inclusive). */
  hi: number;
}

export function regField(reg: RegName, lo: number, hi = lo): RegField {
  return { reg, lo, hi };
}

/** A value for a register field, as the (value, mask) pair over the whole 32-bit register. */
export interface RegMark {
  field: RegField;
  value: number;
}

export function regMark(field: RegField, value: number): RegMark {
  return { field, value };
}

export function regMarkBits(m: RegMark): { value: number; mask: number } {
  const width = m.field.hi - m.field.lo + 1;
  const ones = width >= 32 ? 0xffffffff : (1 << width) - 1;
  const mask = (ones * 2 ** m.field.lo) >>> 0;
  return { value: ((m.value * 2 ** m.field.lo) >>> 0) & mask, mask };
}

// ---- Registers (section 2) ----
export const PktSourceField = regField('reg0', 0, 3);
export const FromTunnelRegMark = regMark(PktSourceField, 0);
export const FromGatewayRegMark = regMark(PktSourceField, 1);
export const FromLocalRegMark = regMark(PktSourceField, 2);
export const FromUplinkRegMark = regMark(PktSourceField, 4);
export const FromBridgeRegMark = regMark(PktSourceField, 5);
export const OFPortFoundRegMark = regMark(regField('reg0', 16), 1);
export const HairpinRegMark = regMark(regField('reg0', 18), 1);
export const RewriteMACRegMark = regMark(regField('reg0', 19), 1);
export const NotRewriteMACRegMark = regMark(regField('reg0', 19), 0);
export const CnpDenyRegMark = regMark(regField('reg0', 20), 1);
export const APDispositionField = regField('reg0', 21, 22);
export const CustomReasonField = regField('reg0', 24, 28);
/** CustomReasonField bit for reject (reference/ovs-pipeline.md, reg0[24..28]): a Reject rule or a Service without Endpoints. */
export const CustomReasonReject = 2;
export const TargetOFPortField = regField('reg1', 0, 31);
export const EndpointIPField = regField('reg3', 0, 31);
export const CNPDenyConjIDField = regField('reg3', 0, 31);
export const EndpointPortField = regField('reg4', 0, 15);
export const ServiceEPStateField = regField('reg4', 16, 18);
export const EpToSelectRegMark = regMark(ServiceEPStateField, 0b001);
export const EpSelectedRegMark = regMark(ServiceEPStateField, 0b010);
export const EpToLearnRegMark = regMark(ServiceEPStateField, 0b011);
export const EpUnionField = regField('reg4', 0, 18);
export const ServiceNeedSNATRegMark = regMark(regField('reg4', 20), 1);
export const AntreaFlexibleIPAMRegMark = regMark(regField('reg4', 21), 1);
export const NotAntreaFlexibleIPAMRegMark = regMark(regField('reg4', 21), 0);
export const TFEgressConjIDField = regField('reg5', 0, 31);
export const TFIngressConjIDField = regField('reg6', 0, 31);
export const ServiceGroupIDField = regField('reg7', 0, 31);
/**
 * Not a pipeline register: the OVS executor's live-traffic sampling flow (ovs/sampling.ts) sets it before it resubmits
 * the sampled packet to its own table, so the sampling flow, which matches it clear, does not take the packet twice.
 * No compiled flow reads or writes reg8..reg15; keep reg15 out of the pipeline so the bit cannot change a decision.
 */
export const SampledRegMark = regMark(regField('reg15', 0), 1);

export const HostLocalSourceMark = { value: 0x1, mask: 0x1 };

// ---- ct_mark / ct_label (single bits) ----
export const FromGatewayCTMark = { value: 0x2, mask: 0x2 };
export const ServiceCTMark = { value: 0x4, mask: 0x4 };
export const FromBridgeCTMark = { value: 0x8, mask: 0x8 };
/** ct_label[0..31] */
export const IngressRuleCTLabel = { lo: 0, width: 32 };
/** ct_label[32..63] */
export const EgressRuleCTLabel = { lo: 32, width: 32 };

// ---- Cookies (section 1): bits 63..48 round, 47..40 category, 31..0 object id ----
export const CookieCategory = {
  Default: 0,
  Gateway: 1,
  Node: 2,
  Pod: 3,
  Service: 4,
  Policy: 5,
  SNAT: 6,
} as const;
export type CookieCategoryName = keyof typeof CookieCategory;

export function makeCookie(round: number, category: number, objectId: number): bigint {
  return (BigInt(round & 0xffff) << 48n) | (BigInt(category & 0xff) << 40n) | BigInt(objectId >>> 0);
}

export function cookieCategory(cookie: bigint): number {
  return Number((cookie >> 40n) & 0xffn);
}
