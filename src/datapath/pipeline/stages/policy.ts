/**
 * NetworkPolicy flows for one OpenFlow-level rule (reference/ovs-pipeline.md section 5): conjunctive match flows
 * (clause 1 = from, 2 = to, 3 = service; absent clauses are skipped), one `conj_id` action flow (Allow commits
 * with the rule id in ct_label and jumps to the metric table; Drop/Reject mark reg0[20] + reg3 = id for the metric
 * table to drop; Pass jumps to the K8s NetworkPolicy table), the metric flows (two per allow rule, one per deny
 * rule), and, for K8s NetworkPolicy, the isolation default-drop flows of the applied-to Pods (shared and
 * reference-counted by the compiler, as are clause flows that several rules share).
 *
 * Reject is compiled like Antrea (reason bit 2 and controller(reason=0) after the deny marks); the executor's agent
 * side answers the packet-in with TCP RST+ACK or ICMP unreachable: sim/cluster.ts `reject()` in the simulator, the
 * Node's OpenFlow controller (ovs/packetin.ts, ovs/rejecter.ts) with a real PACKET_OUT on Open vSwitch.
 */
import { Table } from '../tables.js';
import {
  CT_ZONE, Priority, CnpDenyRegMark, CNPDenyConjIDField, TFEgressConjIDField, TFIngressConjIDField, CustomReasonField, CustomReasonReject,
} from '../fields.js';
import { act, flow, match, type Action, type Flow, type MatchBuilder } from '../flow.js';
import type { PolicyRule, PolicyService } from '../../types.js';
import { isIpv4, parseCidr } from '../../net/addr.js';
import { protoOf } from './service.js';

interface Tables {
  rule: number;
  defaultDrop: number;
  metric: number;
  next: number;
  k8sRule: number;
  matchPriority: number;
  actionPriority: number;
}

function tablesOf(rule: PolicyRule): Tables {
  const out = rule.direction === 'Out';
  const metric = out ? Table.EgressMetric : Table.IngressMetric;
  const next = out ? Table.L3Forwarding : Table.ConntrackCommit;
  const k8sRule = out ? Table.EgressRule : Table.IngressRule;
  const defaultDrop = out ? Table.EgressDefaultRule : Table.IngressDefaultRule;
  if (rule.kind === 'K8sNetworkPolicy') return { rule: k8sRule, defaultDrop, metric, next, k8sRule, matchPriority: Priority.normal, actionPriority: Priority.low };
  const p = rule.priority ?? Priority.normal;
  const table = rule.kind === 'Baseline' ? defaultDrop : out ? Table.AntreaPolicyEgressRule : Table.AntreaPolicyIngressRule;
  return { rule: table, defaultDrop, metric, next, k8sRule, matchPriority: p, actionPriority: p };
}

/** Splits [lo, hi] into value/mask pairs (what Antrea does for port ranges). */
export function portRangeMasks(lo: number, hi: number): { value: number; mask: number }[] {
  const out: { value: number; mask: number }[] = [];
  let start = lo;
  while (start <= hi) {
    let size = 1;
    while (size <= 0x8000 && start % (size * 2) === 0 && start + size * 2 - 1 <= hi) size *= 2;
    out.push({ value: start, mask: (0xffff & ~(size - 1)) >>> 0 });
    start += size;
  }
  return out;
}

function addrMatches(addrs: readonly string[], field: 'nw_src' | 'nw_dst'): MatchBuilder[] {
  return addrs.map((a) => {
    const m = match().ip();
    if (a === '0.0.0.0/0') return m;
    return field === 'nw_src' ? m.nwSrc(isIpv4(a) ? a : parseCidr(a)) : m.nwDst(isIpv4(a) ? a : parseCidr(a));
  });
}

function serviceMatches(services: readonly PolicyService[]): MatchBuilder[] {
  const out: MatchBuilder[] = [];
  for (const s of services) {
    const proto = protoOf(s.protocol);
    if (s.port === undefined || s.port === 0) out.push(match().proto(proto));
    else if (s.endPort === undefined || s.endPort === s.port) out.push(match().proto(proto).tpDst(s.port));
    else for (const r of portRangeMasks(s.port, s.endPort)) out.push(match().proto(proto).tpDst(r.value, r.mask === 0xffff ? undefined : r.mask));
  }
  return out;
}

export function policyFlows(rule: PolicyRule, cookie: bigint): Flow[] {
  const t = tablesOf(rule);
  const out = rule.direction === 'Out';
  const id = rule.conjID;
  const clauses: MatchBuilder[][] = [];
  // from
  clauses.push(addrMatches(rule.from.ipBlocks?.length ? rule.from.ipBlocks : ['0.0.0.0/0'], 'nw_src'));
  // to
  const to: MatchBuilder[] = out
    ? [...addrMatches(rule.to.ipBlocks ?? [], 'nw_dst'), ...(rule.to.serviceGroupIDs ?? []).map((g) => match().ip().field('reg7', g))]
    : (rule.to.ofPorts ?? []).map((p) => match().ip().field('reg1', p));
  if (to.length > 0) clauses.push(to);
  if (rule.services?.length) clauses.push(serviceMatches(rule.services));
  const flows: Flow[] = [];
  const seen = new Set<string>();
  clauses.forEach((ms, i) => {
    for (const m of ms) {
      const built = m.build();
      const k = JSON.stringify(built, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      if (seen.has(k)) continue;
      seen.add(k);
      flows.push(flow(t.rule, t.matchPriority, cookie, built, [act.conjunction(id, i + 1, clauses.length)]));
    }
  });
  const regField = out ? TFEgressConjIDField : TFIngressConjIDField;
  let actions: Action[];
  if (rule.action === 'Allow') {
    actions = [
      act.loadRegField(regField, id),
      act.ct({ commit: true, zone: CT_ZONE, table: t.metric, exec: [act.set('ct_label', BigInt(id) << (out ? 32n : 0n), 0xffffffffn << (out ? 32n : 0n))] }),
    ];
  } else if (rule.action === 'Pass') {
    actions = [act.loadRegField(regField, id), act.goto(t.k8sRule)];
  } else {
    actions = [act.loadRegField(CNPDenyConjIDField, id), act.loadReg(CnpDenyRegMark)];
    if (rule.action === 'Reject') actions.push(act.loadRegField(CustomReasonField, CustomReasonReject), act.controller(0));
    actions.push(act.goto(t.metric));
  }
  flows.push(flow(t.rule, t.actionPriority, cookie, match().ip().conjId(id), actions));
  // Metrics
  if (rule.action === 'Allow') {
    const label = (m: MatchBuilder) => m.field('ct_label', BigInt(id) << (out ? 32n : 0n), 0xffffffffn << (out ? 32n : 0n));
    flows.push(
      flow(t.metric, Priority.normal, cookie, label(match().ip().ctState('+new')), [act.goto(t.next)]),
      flow(t.metric, Priority.normal, cookie, label(match().ip().ctState('-new')), [act.goto(t.next)]),
    );
  } else if (rule.action !== 'Pass') {
    flows.push(flow(t.metric, Priority.normal, cookie, match().reg(CnpDenyRegMark).regValue(CNPDenyConjIDField, id), []));
  }
  // K8s isolation: the applied-to side drops what no rule allows.
  if (rule.kind === 'K8sNetworkPolicy') {
    if (out) for (const m of addrMatches(rule.from.ipBlocks ?? [], 'nw_src')) flows.push(flow(t.defaultDrop, Priority.normal, cookie, m, []));
    else for (const p of rule.to.ofPorts ?? []) flows.push(flow(t.defaultDrop, Priority.normal, cookie, match().ip().field('reg1', p), []));
  }
  return flows;
}
