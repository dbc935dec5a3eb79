/**
 * Internal policies → the datapath's PolicyRules for one Node (pkg/agent/controller/networkpolicy/reconciler.go).
 * One internal rule becomes one conjunction: M peer addresses and N applied-to Pods cost M+N match flows, never
 * M*N. Ingress rules match the applied-to Pods by OF port (a Pod cannot dodge its rule with a spoofed source IP),
 * egress rules by their IPs. A named port splits a rule into one conjunction per resolved port. A K8s policy isolates
 * its Pods in the directions of its policyTypes even when no rule survives (an "isolation" rule per direction).
 *
 * Pure: the agent module and the benchmark both call `buildNodeRules`; `assignPriorities` then places Antrea rules in
 * the total order (tier, policy priority, rule index) as OpenFlow priorities.
 */
import type { AddressGroup, AppliedToGroup, ControlplaneNetworkPolicy, GroupMember, NetworkPolicyReference, NetworkPolicyRule } from '../../apis/controlplane.js';
import { BASELINE_TIER_PRIORITY } from '../../apis/crd/policy.js';
import type { PolicyRule, PolicyService } from '../../datapath/types.js';
import { cidrMinus } from './cidr.js';

/** A rule before the agent gives it a conjunction ID and an OpenFlow priority. */
export interface RuleDraft extends Omit<PolicyRule, 'conjID' | 'priority'> {
  /** Position in the total order (Antrea-native and Baseline only). */
  rank?: { tier: number; policy: number; rule: number };
  /** For stats: the source policy and the rule's name. */
  policyUID: string;
  source: NetworkPolicyReference;
  ruleName?: string;
}

export interface NodeObjects {
  policies: readonly ControlplaneNetworkPolicy[];
  addressGroups: readonly AddressGroup[];
  appliedToGroups: readonly AppliedToGroup[];
}

/**
 * An address no packet comes from: the peer side of an isolation-only rule, so the rule installs only its
 * applied-to side (the K8s default drops). The datapath has no isolation-only rule shape yet.
 */
export const NO_PEER = '0.0.0.0/32';

export function policyRefOf(p: ControlplaneNetworkPolicy): string {
  const r = p.sourceRef;
  return `${r.type}:${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export function buildNodeRules(node: string, objs: NodeObjects, ofPorts: ReadonlyMap<string, number>): RuleDraft[] {
  const ag = new Map(objs.addressGroups.map((g) => [g.metadata.name ?? '', g]));
  const atg = new Map(objs.appliedToGroups.map((g) => [g.metadata.name ?? '', g]));
  const out: RuleDraft[] = [];
  for (const p of objs.policies) out.push(...policyRules(node, p, ag, atg, ofPorts));
  return out;
}

export function policyRules(
  node: string,
  p: ControlplaneNetworkPolicy,
  ag: ReadonlyMap<string, AddressGroup>,
  atg: ReadonlyMap<string, AppliedToGroup>,
  ofPorts: ReadonlyMap<string, number>,
): RuleDraft[] {
  const out: RuleDraft[] = [];
  const k8s = p.sourceRef.type === 'K8sNetworkPolicy';
  const kind: PolicyRule['kind'] = k8s ? 'K8sNetworkPolicy' : p.tierPriority === BASELINE_TIER_PRIORITY ? 'Baseline' : 'AntreaNative';
  const policyRef = policyRefOf(p);
  const uid = p.metadata.name ?? p.sourceRef.uid;
  const localMembers = (groups: readonly string[]) => {
    const seen = new Map<string, GroupMember>();
    for (const name of groups) for (const m of atg.get(name)?.members ?? []) if (m.node === node) seen.set(`${m.pod.namespace}/${m.pod.name}`, m);
    return [...seen.values()];
  };
  const policyTargets = localMembers(p.appliedToGroups);
  p.rules.forEach((r, idx) => {
    const targets = r.appliedToGroups ? localMembers(r.appliedToGroups) : policyTargets;
    if (targets.length === 0) return;
    const peer = r.direction === 'In' ? r.from : r.to;
    const any = (peer.ipBlocks ?? []).some((b) => b.cidr === '0.0.0.0/0' && !b.except?.length);
    const peerMembers: GroupMember[] = [];
    for (const name of peer.addressGroups ?? []) peerMembers.push(...(ag.get(name)?.members ?? []));
    const blocks = any ? [] : (peer.ipBlocks ?? []).flatMap((b) => cidrMinus(b.cidr, b.except ?? []));
    const base = {
      direction: r.direction,
      action: r.action ?? 'Allow',
      kind,
      policyRef,
      policyUID: uid,
      source: p.sourceRef,
      ...(r.name ? { ruleName: r.name } : {}),
      ...(r.enableLogging ? { enableLogging: true } : {}),
      ...(k8s ? {} : { rank: { tier: p.tierPriority ?? 0, policy: p.priority ?? 0, rule: idx } }),
    } as const;
    const id = `${uid}/${r.direction}/${idx}`;
    for (const split of splitByNamedPorts(r, targets, peerMembers)) {
      const peerAddrs = any ? [] : [...new Set([...split.peers.flatMap((m) => m.ips), ...blocks])];
      if (!any && peerAddrs.length === 0) continue; // peers that select nothing: the rule matches nothing
      const targetSide =
        r.direction === 'In'
          ? { ofPorts: split.targets.flatMap((m) => ofPorts.get(`${m.pod.namespace}/${m.pod.name}`) ?? []) }
          : { ipBlocks: split.targets.flatMap((m) => m.ips) };
      if ((targetSide.ofPorts ?? targetSide.ipBlocks ?? []).length === 0) continue;
      const peerSide = any ? {} : { ipBlocks: peerAddrs.sort() };
      out.push({
        ...base,
        ruleID: split.suffix ? `${id}/${split.suffix}` : id,
        from: r.direction === 'In' ? peerSide : targetSide,
        to: r.direction === 'In' ? targetSide : peerSide,
        ...(split.services ? { services: split.services } : {}),
      });
    }
  });
  if (k8s) {
    // Default isolation: the Pods a K8s policy selects drop, in its directions, whatever no rule allows.
    for (const t of p.policyTypes ?? ['Ingress']) {
      if (policyTargets.length === 0) continue;
      const dir = t === 'Ingress' ? 'In' : 'Out';
      const targetSide = dir === 'In' ? { ofPorts: policyTargets.flatMap((m) => ofPorts.get(`${m.pod.namespace}/${m.pod.name}`) ?? []) } : { ipBlocks: policyTargets.flatMap((m) => m.ips) };
      if ((targetSide.ofPorts ?? targetSide.ipBlocks ?? []).length === 0) continue;
      out.push({
        ruleID: `${uid}/isolate-${dir}`,
        direction: dir,
        action: 'Allow',
        kind,
        policyRef,
        policyUID: uid,
        source: p.sourceRef,
        from: dir === 'In' ? { ipBlocks: [NO_PEER] } : targetSide,
        to: dir === 'In' ? targetSide : { ipBlocks: [NO_PEER] },
      });
    }
  }
  return out;
}

interface Split {
  suffix?: string;
  targets: GroupMember[];
  peers: GroupMember[];
  services?: PolicyService[];
}

/**
 * Numeric services pass through; a named port resolves per Pod (the applied-to Pods for ingress, the peers for
 * egress), so the rule splits into one conjunction per distinct resolution.
 */
function splitByNamedPorts(r: NetworkPolicyRule, targets: GroupMember[], peers: GroupMember[]): Split[] {
  const svcs = r.services;
  if (!svcs || svcs.length === 0) return [{ targets, peers }];
  const numeric: PolicyService[] = [];
  const named = svcs.filter((s) => typeof s.port === 'string');
  for (const s of svcs) if (typeof s.port !== 'string') numeric.push({ protocol: s.protocol, ...(s.port !== undefined ? { port: s.port } : {}), ...(s.endPort !== undefined ? { endPort: s.endPort } : {}) });
  const out: Split[] = [];
  if (numeric.length > 0) out.push({ targets, peers, services: numeric });
  if (named.length === 0) return out;
  const resolveSide = r.direction === 'In' ? targets : peers;
  const byPort = new Map<string, { members: GroupMember[]; services: PolicyService[] }>();
  for (const m of resolveSide) {
    const services: PolicyService[] = [];
    for (const s of named) {
      const p = m.ports?.find((np) => np.name === s.port && np.protocol === s.protocol);
      if (p) services.push({ protocol: s.protocol, port: p.port });
    }
    if (services.length === 0) continue;
    const k = services.map((s) => `${s.protocol}:${s.port}`).join(',');
    const e = byPort.get(k) ?? { members: [], services };
    e.members.push(m);
    byPort.set(k, e);
  }
  for (const [k, e] of byPort) {
    out.push(r.direction === 'In' ? { suffix: k, targets: e.members, peers, services: e.services } : { suffix: k, targets, peers: e.members, services: e.services });
  }
  return out;
}

/** OpenFlow priority ranges (reference/ovs-pipeline.md 5): Antrea tiers 65000 down to 100, Baseline 180 down to 10. */
const ANTREA_TOP = 65000;
const ANTREA_BOTTOM = 100;
const BASELINE_TOP = 180;
const BASELINE_BOTTOM = 10;

/**
 * OpenFlow priorities in the total order: each distinct (tier, policy priority, rule index) gets one priority, higher
 * first; equal tuples share one (their order is undefined, as in Antrea). Dense ranks keep the ranges far from full.
 */
export function assignPriorities(drafts: readonly RuleDraft[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [kind, top, bottom] of [
    ['AntreaNative', ANTREA_TOP, ANTREA_BOTTOM],
    ['Baseline', BASELINE_TOP, BASELINE_BOTTOM],
  ] as const) {
    const ranked = drafts.filter((d) => d.kind === kind && d.rank);
    const keys = [...new Set(ranked.map((d) => rankKey(d)))].sort(compareRankKeys);
    const prio = new Map(keys.map((k, i) => [k, Math.max(bottom, top - i)]));
    for (const d of ranked) out.set(d.ruleID, prio.get(rankKey(d)) as number);
  }
  return out;
}

const rankKey = (d: RuleDraft) => `${d.rank?.tier}|${d.rank?.policy}|${d.rank?.rule}`;
function compareRankKeys(a: string, b: string): number {
  const x = a.split('|').map(Number);
  const y = b.split('|').map(Number);
  return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
}
