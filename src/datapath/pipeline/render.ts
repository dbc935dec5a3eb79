/**
 * Renders flows and groups in `ovs-ofctl -O OpenFlow15` syntax. The match is printed in the order and notation
 * `ovs-ofctl parse-flow` normalises to, so a rendered flow reads like `ovs-ofctl dump-flows` output and parses back
 * to itself.
 */
import { CT_FLAG_ORDER, CtState, fieldDef, fullMask, type FieldName, type RegField } from './fields.js';
import type { Action, FieldMatch, Flow, Group, Match, NatSpec, SetFieldAction } from './flow.js';
import { ETH_TYPE_ARP, ETH_TYPE_IP, IPPROTO_ICMP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './flow.js';
import { formatIpv4, formatMac, maskPrefix } from '../net/addr.js';
import type { FlowDiff } from '../types.js';

const hex = (v: bigint): string => (v === 0n ? '0' : `0x${v.toString(16)}`);

function renderValue(field: FieldName, value: bigint): string {
  const def = fieldDef(field);
  switch (def.kind) {
    case 'ipv4':
      return formatIpv4(Number(value));
    case 'mac':
      return formatMac(Number(value));
    case 'int':
      return value.toString(10);
    default:
      return hex(value);
  }
}

function renderFieldMatch(m: FieldMatch): string {
  const def = fieldDef(m.field);
  if (m.field === 'ct_state') return `ct_state=${renderCtState(Number(m.value), Number(m.mask ?? 0xffn))}`;
  if (m.field === 'ip_dscp') return `nw_tos=${Number(m.value) << 2}`;
  if (m.mask === undefined || m.mask === fullMask(def.width)) return `${m.field}=${renderValue(m.field, m.value)}`;
  if (def.kind === 'ipv4') {
    const p = maskPrefix(Number(m.mask));
    return p >= 0
      ? `${m.field}=${formatIpv4(Number(m.value))}/${p}`
      : `${m.field}=${formatIpv4(Number(m.value))}/${formatIpv4(Number(m.mask))}`;
  }
  if (def.kind === 'mac') return `${m.field}=${formatMac(Number(m.value))}/${formatMac(Number(m.mask))}`;
  return `${m.field}=${hex(m.value)}/${hex(m.mask)}`;
}

export function renderCtState(value: number, mask: number): string {
  let s = '';
  for (const flag of CT_FLAG_ORDER) {
    const bit = CtState[flag];
    if (mask & bit) s += `${value & bit ? '+' : '-'}${flag}`;
  }
  return s;
}

function protoKeyword(m: Match): { keyword?: string; consumed: Set<FieldName> } {
  const eth = m.find((f) => f.field === 'eth_type');
  const proto = m.find((f) => f.field === 'nw_proto');
  const consumed = new Set<FieldName>();
  if (!eth || eth.mask !== undefined) return { consumed };
  if (Number(eth.value) === ETH_TYPE_ARP) {
    consumed.add('eth_type');
    return { keyword: 'arp', consumed };
  }
  if (Number(eth.value) !== ETH_TYPE_IP) return { consumed };
  consumed.add('eth_type');
  if (proto && proto.mask === undefined) {
    const names: Record<number, string> = { [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_ICMP]: 'icmp', [IPPROTO_SCTP]: 'sctp' };
    const name = names[Number(proto.value)];
    if (name) {
      consumed.add('nw_proto');
      return { keyword: name, consumed };
    }
  }
  return { keyword: 'ip', consumed };
}

const matchText = new WeakMap<Match, string>();

/** The match part, e.g. `ip,reg0=0x80000/0x80000,nw_dst=10.10.1.3` (empty string for a match-all). Memoised. */
export function renderMatch(m: Match): string {
  let s = matchText.get(m);
  if (s === undefined) {
    s = renderMatchUncached(m);
    matchText.set(m, s);
  }
  return s;
}

function renderMatchUncached(m: Match): string {
  const { keyword, consumed } = protoKeyword(m);
  const parts: string[] = [];
  let keywordDone = keyword === undefined;
  for (const f of m) {
    if (!keywordDone && !['pkt_mark', 'conj_id', 'ct_state', 'ct_zone', 'ct_mark', 'ct_label'].includes(f.field)) {
      parts.push(keyword as string);
      keywordDone = true;
    }
    if (consumed.has(f.field)) continue;
    parts.push(renderFieldMatch(f));
  }
  if (!keywordDone) parts.push(keyword as string);
  return parts.join(',');
}

function renderSetField(a: SetFieldAction): string {
  const def = fieldDef(a.field);
  if (a.mask !== undefined && a.mask !== fullMask(def.width)) return `set_field:${hex(a.value)}/${hex(a.mask)}->${def.setName}`;
  return `set_field:${renderValue(a.field, a.value)}->${def.setName}`;
}

function renderNat(n: NatSpec): string {
  if (n.kind === 'reapply') return 'nat';
  return `nat(${n.kind}=${formatIpv4(n.ip)}${n.port === undefined ? '' : `:${n.port}`})`;
}

export function renderAction(a: Action): string {
  switch (a.type) {
    case 'goto_table':
      return `goto_table:${a.table}`;
    case 'resubmit':
      return `resubmit(,${a.table})`;
    case 'set_field':
      return renderSetField(a);
    case 'move':
      return `move:${fieldDef(a.src).nxm}[]->${fieldDef(a.dst).nxm}[]`;
    case 'ct': {
      const parts: string[] = [];
      if (a.commit) parts.push('commit');
      if (a.table !== undefined) parts.push(`table=${a.table}`);
      parts.push(`zone=${a.zone}`);
      if (a.nat) parts.push(renderNat(a.nat));
      if (a.exec.length > 0) parts.push(`exec(${a.exec.map(renderSetField).join(',')})`);
      return `ct(${parts.join(',')})`;
    }
    case 'group':
      return `group:${a.id}`;
    case 'output':
      return `output:${a.port}`;
    case 'output_reg': {
      const def = fieldDef(a.field.reg);
      return a.field.lo === 0 && a.field.hi === 31
        ? `output:${def.nxm}[]`
        : `output:${def.nxm}[${a.field.lo}..${a.field.hi}]`;
    }
    case 'in_port':
      return 'IN_PORT';
    case 'normal':
      return 'NORMAL';
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
    case 'controller':
      return a.reason === 0 ? 'controller(reason=no_match)' : 'CONTROLLER:65535';
    case 'dec_ttl':
      return 'dec_ttl';
    case 'learn': {
      const reg = (r: RegField) => {
        const nxm = fieldDef(r.reg).nxm;
        return r.lo === 0 && r.hi === 31 ? `${nxm}[]` : r.lo === r.hi ? `${nxm}[${r.lo}]` : `${nxm}[${r.lo}..${r.hi}]`;
      };
      const parts = [
        `table=${a.table}`,
        `hard_timeout=${a.hardTimeout}`,
        `priority=${a.priority}`,
        ...(a.deleteLearned ? ['delete_learned'] : []),
        `cookie=${hex(a.cookie)}`,
        ...a.matchConst.map((m) => `${m.field}=${m.field === 'eth_type' ? hex(BigInt(m.value)) : m.value}`),
        ...a.matchCopy.map((m) => `${m.nxm}[]`),
        ...a.loads.map((l) => `load:${l.src ? reg(l.src) : hex(BigInt(l.value ?? 0))}->${reg(l.dst)}`),
      ];
      return `learn(${parts.join(',')})`;
    }
  }
}

const actionsText = new WeakMap<readonly Action[], string>();

/** The actions part (`drop` when empty). Memoised per actions array: flows are immutable. */
export function renderActions(actions: readonly Action[]): string {
  let s = actionsText.get(actions);
  if (s === undefined) {
    s = actions.length === 0 ? 'drop' : actions.map(renderAction).join(',');
    actionsText.set(actions, s);
  }
  return s;
}

/** `table=70,priority=200,cookie=0x...,ip,... actions=...`, as `ovs-ofctl -O OpenFlow15 add-flow` takes it. */
export function renderFlow(f: Flow): string {
  const m = renderMatch(f.match);
  const head = [`table=${f.table}`, `priority=${f.priority}`, `cookie=${hex(f.cookie)}`];
  if (f.idleTimeout) head.push(`idle_timeout=${f.idleTimeout}`);
  if (f.hardTimeout) head.push(`hard_timeout=${f.hardTimeout}`);
  if (m) head.push(m);
  return `${head.join(',')} actions=${renderActions(f.actions)}`;
}

/** `group_id=1,type=select,bucket=bucket_id:0,weight:100,actions=...`, as `ovs-ofctl -O OpenFlow15 add-group` takes it. */
export function renderGroup(g: Group): string {
  const buckets = g.buckets.map((b) => {
    const weight = g.type === 'select' ? `,weight:${b.weight}` : '';
    return `bucket=bucket_id:${b.id}${weight},actions=${renderActions(b.actions)}`;
  });
  return [`group_id=${g.id}`, `type=${g.type}`, ...buckets].join(',');
}

/** The identity OVS gives a flow: table, priority and match. Two flows with the same identity are one flow. */
export function flowIdentity(f: Pick<Flow, 'table' | 'priority' | 'match'>): string {
  return `${f.table}|${f.priority}|${renderMatch(f.match)}`;
}

/** A flow's strict identity for `delete_strict` (table, priority, match; no cookie, no actions). */
export function renderFlowStrict(f: Pick<Flow, 'table' | 'priority' | 'match'>): string {
  const m = renderMatch(f.match);
  return `table=${f.table},priority=${f.priority}${m ? `,${m}` : ''}`;
}

/**
 * A diff as the lines of an `ovs-ofctl -O OpenFlow15 bundle BRIDGE FILE` transaction, in an order that never
 * leaves a flow pointing at a missing group: groups added and modified first, then flows deleted, modified and
 * added, then groups deleted.
 */
export function renderBundle(d: FlowDiff): string[] {
  return [
    ...d.addedGroups.map((g) => `group add ${renderGroup(g)}`),
    ...d.modifiedGroups.map((g) => `group modify ${renderGroup(g)}`),
    ...d.removed.map((f) => `flow delete_strict ${renderFlowStrict(f)}`),
    ...d.modified.map((f) => `flow modify_strict ${renderFlow(f)}`),
    ...d.added.map((f) => `flow add ${renderFlow(f)}`),
    ...d.removedGroups.map((g) => `group delete group_id=${g.id}`),
  ];
}
