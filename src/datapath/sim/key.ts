/**
 * The flow key: every matchable field of a packet plus its metadata (registers, conntrack, tunnel), as 32-bit slots
 * of one Uint32Array. Matching is `(key[slot] & mask) === value` per slot; wide fields span several slots.
 */
import type { FieldName } from '../pipeline/fields.js';

export const S = {
  IN_PORT: 0,
  ETH_SRC_HI: 1, ETH_SRC_LO: 2, ETH_DST_HI: 3, ETH_DST_LO: 4,
  ETH_TYPE: 5, NW_PROTO: 6,
  ARP_OP: 7, ARP_SPA: 8, ARP_TPA: 9, ARP_SHA_HI: 10, ARP_SHA_LO: 11, ARP_THA_HI: 12, ARP_THA_LO: 13,
  NW_SRC: 14, NW_DST: 15, IP_DSCP: 16, NW_TTL: 17,
  TP_SRC: 18, TP_DST: 19, ICMP_TYPE: 20, ICMP_CODE: 21, TCP_FLAGS: 22,
  CT_STATE: 23, CT_ZONE: 24, CT_MARK: 25, CT_LABEL0: 26, CT_LABEL1: 27, CT_LABEL2: 28, CT_LABEL3: 29,
  TUN_ID_LO: 30, TUN_ID_HI: 31, TUN_SRC: 32, TUN_DST: 33, PKT_MARK: 34, CONJ_ID: 35,
  REG0: 36,
  /** Not matchable: the ICMP echo id, kept for conntrack. */
  ICMP_ID: 52,
} as const;
export const KEY_SLOTS = 53;

/** One slot a field spans: bits [shift, shift+32) of the field's value live in `slot`. */
export interface SlotPart {
  slot: number;
  shift: number;
}

const parts = new Map<FieldName, SlotPart[]>();
const one = (f: FieldName, slot: number) => parts.set(f, [{ slot, shift: 0 }]);
one('in_port', S.IN_PORT);
parts.set('dl_src', [{ slot: S.ETH_SRC_LO, shift: 0 }, { slot: S.ETH_SRC_HI, shift: 32 }]);
parts.set('dl_dst', [{ slot: S.ETH_DST_LO, shift: 0 }, { slot: S.ETH_DST_HI, shift: 32 }]);
one('eth_type', S.ETH_TYPE);
one('nw_proto', S.NW_PROTO);
one('arp_op', S.ARP_OP);
one('arp_spa', S.ARP_SPA);
one('arp_tpa', S.ARP_TPA);
parts.set('arp_sha', [{ slot: S.ARP_SHA_LO, shift: 0 }, { slot: S.ARP_SHA_HI, shift: 32 }]);
parts.set('arp_tha', [{ slot: S.ARP_THA_LO, shift: 0 }, { slot: S.ARP_THA_HI, shift: 32 }]);
one('nw_src', S.NW_SRC);
one('nw_dst', S.NW_DST);
one('ip_dscp', S.IP_DSCP);
one('nw_ttl', S.NW_TTL);
one('tp_src', S.TP_SRC);
one('tp_dst', S.TP_DST);
one('icmp_type', S.ICMP_TYPE);
one('icmp_code', S.ICMP_CODE);
one('tcp_flags', S.TCP_FLAGS);
one('ct_state', S.CT_STATE);
one('ct_zone', S.CT_ZONE);
one('ct_mark', S.CT_MARK);
parts.set('ct_label', [
  { slot: S.CT_LABEL0, shift: 0 }, { slot: S.CT_LABEL1, shift: 32 }, { slot: S.CT_LABEL2, shift: 64 }, { slot: S.CT_LABEL3, shift: 96 },
]);
parts.set('tun_id', [{ slot: S.TUN_ID_LO, shift: 0 }, { slot: S.TUN_ID_HI, shift: 32 }]);
one('tun_src', S.TUN_SRC);
one('tun_dst', S.TUN_DST);
one('pkt_mark', S.PKT_MARK);
one('conj_id', S.CONJ_ID);
for (let i = 0; i < 16; i++) one(`reg${i}` as FieldName, S.REG0 + i);

export function slotParts(field: FieldName): SlotPart[] {
  const p = parts.get(field);
  if (!p) throw new Error(`field ${field} has no key slot`);
  return p;
}

/** Splits a (value, mask) over a field into per-slot 32-bit (slot, value, mask) triples, skipping all-zero masks. */
export function toSlots(field: FieldName, value: bigint, mask: bigint): { slot: number; value: number; mask: number }[] {
  const out: { slot: number; value: number; mask: number }[] = [];
  for (const p of slotParts(field)) {
    const m = Number((mask >> BigInt(p.shift)) & 0xffffffffn) >>> 0;
    if (m === 0) continue;
    out.push({ slot: p.slot, value: (Number((value >> BigInt(p.shift)) & 0xffffffffn) & m) >>> 0, mask: m });
  }
  return out;
}
