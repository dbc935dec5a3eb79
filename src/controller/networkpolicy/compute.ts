/**
 * The controller's NetworkPolicy computation (Antrea's design, pkg/controller/networkpolicy): every K8s
 * NetworkPolicy, Antrea ClusterNetworkPolicy and Antrea NetworkPolicy becomes one internal NetworkPolicy whose rules
 * name AddressGroups (peers) and whose targets are AppliedToGroups, both shared between policies with equal
 * selectors. Each object carries its span: an AppliedToGroup the Nodes of its Pods, a policy the union of its
 * AppliedToGroups', an AddressGroup the union of the spans of the policies that use it.
 *
 * Everything is incremental: a Pod change rechecks only the candidate groups of its Namespace and labels
 * (grouping.ts), a group whose Nodes changed updates the span of only the policies applied to it, and `flush()`
 * hands out only what changed since the last flush (group member deltas, policies), de-duplicated like a work queue.
 * It is synchronous and does no I/O, so the benchmark drives it directly and the module feeds it from informers.
 */
import { isPodTerminal, podIPsOf, type Pod, type Namespace } from '../../apis/core.js';
import type { NetworkPolicy, NetworkPolicyPort, IPBlock } from '../../apis/networking.js';
import { compileLabelSelector, everything, type Labels, type LabelSelector } from '../../apis/labels.js';
import {
  type AntreaPeer,
  type AntreaNetworkPolicy,
  type ClusterNetworkPolicy,
  type Tier,
  BASELINE_TIER_PRIORITY,
  tierNameOf,
} from '../../apis/crd/policy.js';
import type {
  AddressGroup,
  AppliedToGroup,
  ControlplaneNetworkPolicy,
  GroupMember,
  NamedPort,
  NetworkPolicyReference,
  NetworkPolicyRule,
  Service,
  SourceType,
} from '../../apis/controlplane.js';
import { CONTROLPLANE_GROUP, CONTROLPLANE_VERSION } from '../../apis/controlplane.js';
import { Group, GroupIndex, groupKey, groupName, memberOf, podKeyOf, type GroupSelector, type PodInfo } from './grouping.js';

const API_VERSION = `${CONTROLPLANE_GROUP}/${CONTROLPLANE_VERSION}`;

/** A rule before its groups are resolved: peers as group selectors plus ipBlocks. */
interface RuleSpec {
  rule: Omit<NetworkPolicyRule, 'from' | 'to' | 'appliedToGroups'>;
  peers: GroupSelector[];
  ipBlocks: IPBlock[];
  /** Any peer at all (a K8s rule with no `from`, an Antrea rule without peers). */
  any: boolean;
  appliedTo: GroupSelector[] | undefined;
}

interface PolicyState {
  key: string;
  ref: NetworkPolicyReference;
  tierPriority?: number;
  priority?: number;
  policyTypes?: ('Ingress' | 'Egress')[];
  appliedTo: Group[];
  rules: { spec: RuleSpec; peerGroups: Group[]; appliedToGroups: Group[] | undefined }[];
  /** Every group the policy uses as applied-to (policy-level and per-rule). */
  allAppliedTo: Group[];
  addressGroups: Group[];
  /** Per Node, how many of the policy's applied-to groups have Pods there: the keys are the span. */
  span: Map<string, number>;
}

export type GroupKind = 'AddressGroup' | 'AppliedToGroup';

export interface GroupChange {
  kind: GroupKind;
  name: string;
  op: 'upsert' | 'delete';
  /** Members added or updated / removed (pod keys) since the last flush. */
  added: GroupMember[];
  removed: string[];
  span: string[];
}

export interface PolicyChange {
  name: string;
  op: 'upsert' | 'delete';
  policy?: ControlplaneNetworkPolicy;
}

export interface Changes {
  groups: GroupChange[];
  policies: PolicyChange[];
}

/** Why an Antrea policy could not be computed (its Tier does not exist), by policy key. */
export type PolicyProblem = { key: string; ref: NetworkPolicyReference; message: string };

export function podInfoOf(pod: Pod): PodInfo | undefined {
  const node = pod.spec?.nodeName;
  if (!node || pod.spec.hostNetwork) return undefined;
  if (isPodTerminal(pod)) return undefined;
  const ips = podIPsOf(pod);
  const ports: NamedPort[] = [];
  for (const c of pod.spec.containers ?? []) for (const p of c.ports ?? []) if (p.name) ports.push({ name: p.name, port: p.containerPort, protocol: p.protocol ?? 'TCP' });
  return { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', labels: pod.metadata.labels ?? {}, ips, node, ports };
}

function samePod(a: PodInfo, b: PodInfo): boolean {
  return a.node === b.node && a.ips.join() === b.ips.join() && JSON.stringify(a.ports) === JSON.stringify(b.ports);
}

function services(ports: NetworkPolicyPort[] | undefined): Service[] | undefined {
  if (!ports || ports.length === 0) return undefined;
  return ports.map((p) => ({ protocol: p.protocol ?? 'TCP', ...(p.port !== undefined ? { port: p.port } : {}), ...(p.endPort !== undefined ? { endPort: p.endPort } : {}) }));
}

const sel = (s: LabelSelector | undefined) => (s === undefined ? everything : compileLabelSelector(s));

export class PolicyComputer {
  private readonly pods = new Map<string, PodInfo>();
  private readonly podsByNs = new Map<string, Map<string, PodInfo>>();
  private readonly namespaces = new Map<string, Labels>();
  private readonly podGroups = new Map<string, Set<Group>>();
  private readonly groups = new Map<string, Group>();
  private readonly index = new GroupIndex();
  private readonly policies = new Map<string, PolicyState>();
  private readonly tiers = new Map<string, number>();
  /** Antrea policies waiting for their Tier, by key, with their source object. */
  private readonly pending = new Map<string, { kind: 'acnp' | 'anp'; obj: ClusterNetworkPolicy | AntreaNetworkPolicy }>();
  private readonly dirtyGroups = new Map<string, Group>();
  private readonly deletedGroups = new Map<string, Group>();
  private readonly dirtyPolicies = new Set<string>();
  private readonly deletedPolicies = new Set<string>();

  // ------------------------------------------------------------ inputs

  upsertNamespace(ns: Namespace): void {
    const name = ns.metadata.name ?? '';
    const labels = ns.metadata.labels ?? {};
    const old = this.namespaces.get(name);
    this.namespaces.set(name, labels);
    if (old && JSON.stringify(old) === JSON.stringify(labels)) return;
    const pods = this.podsByNs.get(name);
    if (!pods || pods.size === 0) return;
    for (const g of this.index.clusterGroups()) for (const [, p] of pods) this.recheck(g, p);
  }

  deleteNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  upsertPod(pod: Pod): void {
    const info = podInfoOf(pod);
    const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
    if (!info) return this.deletePod(key);
    const old = this.pods.get(key);
    if (old && samePod(old, info) && JSON.stringify(old.labels) === JSON.stringify(info.labels)) return;
    this.pods.set(key, info);
    let nsPods = this.podsByNs.get(info.namespace);
    if (!nsPods) this.podsByNs.set(info.namespace, (nsPods = new Map()));
    nsPods.set(info.name, info);
    const candidates = new Set<Group>(this.podGroups.get(key) ?? []);
    this.index.candidates(info.namespace, [old?.labels, info.labels], candidates);
    for (const g of candidates) this.recheck(g, info);
  }

  deletePod(key: string): void {
    const old = this.pods.get(key);
    if (!old) return;
    this.pods.delete(key);
    this.podsByNs.get(old.namespace)?.delete(old.name);
    for (const g of [...(this.podGroups.get(key) ?? [])]) this.leave(g, key);
    this.podGroups.delete(key);
  }

  upsertTier(tier: Tier): void {
    const name = tier.metadata.name ?? '';
    const priority = tier.spec?.priority;
    if (typeof priority !== 'number') return;
    const old = this.tiers.get(name);
    this.tiers.set(name, priority);
    if (old === priority) return;
    // Recompute the policies of this Tier (and those that were waiting for it).
    for (const p of [...this.pending.values()]) if (tierNameOf(p.obj.spec?.tier) === name) this.upsertAntreaPolicy(p.kind, p.obj);
    for (const st of this.policies.values()) {
      if (st.ref.type !== 'K8sNetworkPolicy' && st.tierPriority === old) {
        st.tierPriority = priority;
        this.dirtyPolicies.add(st.key);
      }
    }
  }

  deleteTier(name: string): void {
    this.tiers.delete(name);
  }

  tierNames(): ReadonlySet<string> {
    return new Set(this.tiers.keys());
  }

  upsertK8sPolicy(np: NetworkPolicy): void {
    const ns = np.metadata.namespace ?? 'default';
    const ref: NetworkPolicyReference = { type: 'K8sNetworkPolicy', namespace: ns, name: np.metadata.name ?? '', uid: np.metadata.uid ?? `${ns}/${np.metadata.name}` };
    const k8sPeer = (p: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }): GroupSelector =>
      p.namespaceSelector !== undefined
        ? { namespace: null, podSelector: sel(p.podSelector), namespaceSelector: compileLabelSelector(p.namespaceSelector) }
        : { namespace: ns, podSelector: sel(p.podSelector), namespaceSelector: null };
    const rules: RuleSpec[] = [];
    const add = (direction: 'In' | 'Out', list: { peers?: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: IPBlock }[]; ports?: NetworkPolicyPort[] }[]) =>
      list.forEach((r, i) => {
        const peers = r.peers ?? [];
        const svc = services(r.ports);
        rules.push({
          rule: { direction, priority: i, ...(svc ? { services: svc } : {}) },
          peers: peers.filter((p) => !p.ipBlock).map(k8sPeer),
          ipBlocks: peers.flatMap((p) => (p.ipBlock ? [p.ipBlock] : [])),
          any: peers.length === 0,
          appliedTo: undefined,
        });
      });
    add('In', (np.spec.ingress ?? []).map((r) => ({ ...(r.from ? { peers: r.from } : {}), ...(r.ports ? { ports: r.ports } : {}) })));
    add('Out', (np.spec.egress ?? []).map((r) => ({ ...(r.to ? { peers: r.to } : {}), ...(r.ports ? { ports: r.ports } : {}) })));
    const policyTypes = np.spec.policyTypes ?? ['Ingress', ...(np.spec.egress?.length ? (['Egress'] as const) : [])];
    this.setPolicy(ref, { policyTypes }, [{ namespace: ns, podSelector: sel(np.spec.podSelector), namespaceSelector: null }], rules);
  }

  deleteK8sPolicy(uid: string): void {
    this.removePolicy(uid);
  }

  /** Returns a problem when the policy's Tier does not exist yet (it is computed once the Tier appears). */
  upsertAntreaPolicy(kind: 'acnp' | 'anp', obj: ClusterNetworkPolicy | AntreaNetworkPolicy): PolicyProblem | undefined {
    const cluster = kind === 'acnp';
    const ns = cluster ? undefined : (obj.metadata.namespace ?? 'default');
    const type: SourceType = cluster ? 'AntreaClusterNetworkPolicy' : 'AntreaNetworkPolicy';
    const ref: NetworkPolicyReference = { type, ...(ns ? { namespace: ns } : {}), name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? `${type}/${ns ?? ''}/${obj.metadata.name}` };
    const tierName = tierNameOf(obj.spec.tier);
    const tierPriority = this.tiers.get(tierName);
    if (tierPriority === undefined) {
      this.removePolicy(ref.uid);
      this.pending.set(ref.uid, { kind, obj });
      return { key: ref.uid, ref, message: `tier ${obj.spec.tier ?? tierName} does not exist` };
    }
    this.pending.delete(ref.uid);
    const peer = (p: AntreaPeer): GroupSelector => {
      if (p.namespaceSelector !== undefined) return { namespace: null, podSelector: sel(p.podSelector), namespaceSelector: compileLabelSelector(p.namespaceSelector) };
      if (ns !== undefined) return { namespace: ns, podSelector: sel(p.podSelector), namespaceSelector: null };
      return { namespace: null, podSelector: sel(p.podSelector), namespaceSelector: everything };
    };
    const selectorPeers = (ps: AntreaPeer[] | undefined) => (ps ?? []).filter((p) => p.podSelector !== undefined || p.namespaceSelector !== undefined);
    const rules: RuleSpec[] = [];
    for (const [direction, list] of [['In', obj.spec.ingress ?? []], ['Out', obj.spec.egress ?? []]] as const) {
      list.forEach((r, i) => {
        const peers = direction === 'In' ? r.from : r.to;
        const svc = services(r.ports);
        rules.push({
          rule: {
            direction,
            priority: i,
            action: r.action,
            ...(r.name ? { name: r.name } : {}),
            ...(r.enableLogging ? { enableLogging: true } : {}),
            ...(svc ? { services: svc } : {}),
          },
          peers: selectorPeers(peers).map(peer),
          ipBlocks: (peers ?? []).flatMap((p) => (p.ipBlock ? [p.ipBlock] : [])),
          any: !peers || peers.length === 0,
          appliedTo: r.appliedTo && r.appliedTo.length > 0 ? selectorPeers(r.appliedTo).map(peer) : undefined,
        });
      });
    }
    this.setPolicy(ref, { tierPriority, priority: obj.spec.priority }, selectorPeers(obj.spec.appliedTo).map(peer), rules);
    return undefined;
  }

  deleteAntreaPolicy(uid: string): void {
    this.pending.delete(uid);
    this.removePolicy(uid);
  }

  // ------------------------------------------------------------ outputs

  /** What changed since the last flush. */
  flush(): Changes {
    const groups: GroupChange[] = [];
    const emit = (g: Group, kind: GroupKind, used: boolean, span: () => string[], added: GroupMember[], removed: string[]) => {
      if (used) groups.push({ kind, name: g.name, op: 'upsert', added, removed, span: span() });
      else if (g.published[kind]) groups.push({ kind, name: g.name, op: 'delete', added: [], removed: [], span: [] });
      g.published[kind] = used;
    };
    for (const g of this.deletedGroups.values()) {
      emit(g, 'AddressGroup', false, () => [], [], []);
      emit(g, 'AppliedToGroup', false, () => [], [], []);
    }
    for (const g of this.dirtyGroups.values()) {
      const added = [...g.added].flatMap((k) => {
        const p = g.members.get(k);
        return p ? [memberOf(p)] : [];
      });
      const removed = [...g.removed];
      // A group newly published as a kind goes out whole.
      const all = () => [...g.members.values()].map(memberOf);
      emit(g, 'AddressGroup', g.addressUsers.size > 0, () => [...g.addressSpan.keys()], g.published.AddressGroup ? added : all(), g.published.AddressGroup ? removed : []);
      emit(g, 'AppliedToGroup', g.appliedToUsers.size > 0, () => [...g.nodes.keys()], g.published.AppliedToGroup ? added : all(), g.published.AppliedToGroup ? removed : []);
      g.added.clear();
      g.removed.clear();
    }
    const policies: PolicyChange[] = [];
    for (const key of this.deletedPolicies) policies.push({ name: key, op: 'delete' });
    for (const key of this.dirtyPolicies) {
      const st = this.policies.get(key);
      if (st) policies.push({ name: key, op: 'upsert', policy: this.policyObject(st) });
    }
    this.dirtyGroups.clear();
    this.deletedGroups.clear();
    this.dirtyPolicies.clear();
    this.deletedPolicies.clear();
    return { groups, policies };
  }

  addressGroup(name: string): AddressGroup | undefined {
    const g = this.groupByName(name);
    if (!g || g.addressUsers.size === 0) return undefined;
    return { apiVersion: API_VERSION, kind: 'AddressGroup', metadata: { name }, members: [...g.members.values()].map(memberOf), span: [...g.addressSpan.keys()].sort() };
  }

  appliedToGroup(name: string): AppliedToGroup | undefined {
    const g = this.groupByName(name);
    if (!g || g.appliedToUsers.size === 0) return undefined;
    return { apiVersion: API_VERSION, kind: 'AppliedToGroup', metadata: { name }, members: [...g.members.values()].map(memberOf), span: [...g.nodes.keys()].sort() };
  }

  policy(key: string): ControlplaneNetworkPolicy | undefined {
    const st = this.policies.get(key);
    return st ? this.policyObject(st) : undefined;
  }

  /** Every policy, AddressGroup and AppliedToGroup whose span includes the Node. */
  objectsForNode(node: string): { policies: ControlplaneNetworkPolicy[]; addressGroups: AddressGroup[]; appliedToGroups: AppliedToGroup[] } {
    const policies: ControlplaneNetworkPolicy[] = [];
    const ag = new Set<Group>();
    const atg = new Set<Group>();
    for (const st of this.policies.values()) {
      if (!st.span.has(node)) continue;
      policies.push(this.policyObject(st));
      for (const g of st.addressGroups) ag.add(g);
      for (const g of st.allAppliedTo) if (g.nodes.has(node)) atg.add(g);
    }
    return {
      policies,
      addressGroups: [...ag].map((g) => this.addressGroup(g.name) as AddressGroup),
      appliedToGroups: [...atg].map((g) => this.appliedToGroup(g.name) as AppliedToGroup),
    };
  }

  stats(): { pods: number; groups: number; policies: number; pending: number } {
    return { pods: this.pods.size, groups: this.groups.size, policies: this.policies.size, pending: this.pending.size };
  }

  policyKeys(): IterableIterator<string> {
    return this.policies.keys();
  }

  // ------------------------------------------------------------ internals

  private readonly byName = new Map<string, Group>();

  private groupByName(name: string): Group | undefined {
    return this.byName.get(name);
  }

  private acquire(selector: GroupSelector): Group {
    const key = groupKey(selector);
    let g = this.groups.get(key);
    if (g) return g;
    let name = groupName(key);
    while (this.byName.has(name)) name += 'x'; // a hash collision between two keys: keep both groups apart
    g = new Group(key, selector, name);
    this.groups.set(key, g);
    this.byName.set(g.name, g);
    this.deletedGroups.delete(g.name);
    this.index.add(g);
    // Initial members: the Pods of its Namespace, or of every Namespace its namespaceSelector selects.
    const scan = (pods: Map<string, PodInfo> | undefined) => {
      if (pods) for (const p of pods.values()) if (g!.matches(p, this.namespaces.get(p.namespace))) this.join(g!, p);
    };
    if (selector.namespace !== null) scan(this.podsByNs.get(selector.namespace));
    else for (const [ns, pods] of this.podsByNs) if (selector.namespaceSelector?.matches(this.namespaces.get(ns) ?? {}) ?? true) scan(pods);
    return g;
  }

  private releaseIfUnused(g: Group): void {
    if (g.used) return;
    this.groups.delete(g.key);
    this.byName.delete(g.name);
    this.index.remove(g);
    for (const k of g.members.keys()) this.podGroups.get(k)?.delete(g);
    this.dirtyGroups.delete(g.name);
    this.deletedGroups.set(g.name, g);
  }

  private recheck(g: Group, p: PodInfo): void {
    const key = podKeyOf(p);
    if (g.matches(p, this.namespaces.get(p.namespace))) {
      const old = g.members.get(key);
      if (old === p || (old && samePod(old, p) && old.labels === p.labels)) return;
      if (old && samePod(old, p)) {
        g.members.set(key, p);
        return;
      }
      this.join(g, p);
    } else if (g.members.has(key)) this.leave(g, key);
  }

  private join(g: Group, p: PodInfo): void {
    const key = podKeyOf(p);
    let set = this.podGroups.get(key);
    if (!set) this.podGroups.set(key, (set = new Set()));
    set.add(g);
    g.addMember(key, p, this.onGroupNode(g));
    this.dirtyGroups.set(g.name, g);
  }

  private leave(g: Group, key: string): void {
    this.podGroups.get(key)?.delete(g);
    g.removeMember(key, this.onGroupNode(g));
    this.dirtyGroups.set(g.name, g);
  }

  /**
   * An applied-to group gained or lost a Node: so may the spans of the policies applied to it, and with them the
   * spans of their address groups. O(policies using the group), never a rescan of the policy's groups.
   */
  private onGroupNode(g: Group): (node: string, added: boolean) => void {
    return (node, added) => {
      for (const [key, uses] of g.appliedToUsers) {
        const st = this.policies.get(key);
        if (st) this.spanDelta(st, node, added ? uses : -uses);
      }
    };
  }

  private spanDelta(st: PolicyState, node: string, delta: number): void {
    const before = st.span.get(node) ?? 0;
    const after = before + delta;
    if (after <= 0) st.span.delete(node);
    else st.span.set(node, after);
    if (before === 0 && after > 0) for (const ag of st.addressGroups) this.incAddressSpan(ag, node);
    else if (before > 0 && after <= 0) for (const ag of st.addressGroups) this.decAddressSpan(ag, node);
    else return;
    this.dirtyPolicies.add(st.key);
  }

  private incAddressSpan(g: Group, node: string): void {
    const n = g.addressSpan.get(node) ?? 0;
    g.addressSpan.set(node, n + 1);
    if (n === 0) this.dirtyGroups.set(g.name, g);
  }

  private decAddressSpan(g: Group, node: string): void {
    const n = g.addressSpan.get(node) ?? 0;
    if (n <= 1) {
      g.addressSpan.delete(node);
      if (n === 1) this.dirtyGroups.set(g.name, g);
    } else g.addressSpan.set(node, n - 1);
  }

  private setPolicy(ref: NetworkPolicyReference, extra: Pick<PolicyState, 'tierPriority' | 'priority' | 'policyTypes'>, appliedTo: GroupSelector[], rules: RuleSpec[]): void {
    const key = ref.uid;
    const old = this.policies.get(key);
    // Acquire the new groups before releasing the old ones, so a group both use is never dropped and rebuilt.
    const appliedGroups = appliedTo.map((s) => this.acquire(s));
    const ruleStates = rules.map((spec) => ({ spec, peerGroups: spec.peers.map((s) => this.acquire(s)), appliedToGroups: spec.appliedTo?.map((s) => this.acquire(s)) }));
    const allAppliedTo = uniq(appliedGroups, ruleStates.map((r) => r.appliedToGroups));
    const addressGroups = uniq([], ruleStates.map((r) => r.peerGroups));
    const st: PolicyState = { key, ref, ...extra, appliedTo: appliedGroups, rules: ruleStates, allAppliedTo, addressGroups, span: new Map() };
    for (const g of allAppliedTo) g.appliedToUsers.set(key, (g.appliedToUsers.get(key) ?? 0) + 1);
    for (const g of addressGroups) g.addressUsers.set(key, (g.addressUsers.get(key) ?? 0) + 1);
    for (const g of allAppliedTo) this.dirtyGroups.set(g.name, g);
    for (const g of addressGroups) this.dirtyGroups.set(g.name, g);
    this.policies.set(key, st);
    this.deletedPolicies.delete(key);
    this.dirtyPolicies.add(key);
    if (old) this.releasePolicyGroups(old);
    for (const g of allAppliedTo) for (const n of g.nodes.keys()) this.spanDelta(st, n, 1);
  }

  private releasePolicyGroups(st: PolicyState): void {
    for (const ag of st.addressGroups) for (const n of st.span.keys()) this.decAddressSpan(ag, n);
    for (const g of st.allAppliedTo) dec(g.appliedToUsers, st.key);
    for (const g of st.addressGroups) dec(g.addressUsers, st.key);
    for (const g of [...st.allAppliedTo, ...st.addressGroups]) {
      this.dirtyGroups.set(g.name, g);
      this.releaseIfUnused(g);
    }
  }

  private removePolicy(key: string): void {
    const st = this.policies.get(key);
    if (!st) return;
    this.policies.delete(key);
    this.dirtyPolicies.delete(key);
    this.deletedPolicies.add(key);
    // The old span is gone with the policy: release the address-group span counts it held.
    this.releasePolicyGroups(st);
  }

  private policyObject(st: PolicyState): ControlplaneNetworkPolicy {
    return {
      apiVersion: API_VERSION,
      kind: 'NetworkPolicy',
      metadata: { name: st.key },
      sourceRef: st.ref,
      appliedToGroups: st.appliedTo.map((g) => g.name),
      rules: st.rules.map(({ spec, peerGroups, appliedToGroups }) => {
        const peer = {
          ...(peerGroups.length > 0 ? { addressGroups: peerGroups.map((g) => g.name) } : {}),
          ...(spec.any ? { ipBlocks: [{ cidr: '0.0.0.0/0' }] } : spec.ipBlocks.length > 0 ? { ipBlocks: spec.ipBlocks } : {}),
        };
        return {
          ...spec.rule,
          from: spec.rule.direction === 'In' ? peer : {},
          to: spec.rule.direction === 'Out' ? peer : {},
          ...(appliedToGroups ? { appliedToGroups: appliedToGroups.map((g) => g.name) } : {}),
        };
      }),
      ...(st.tierPriority !== undefined ? { tierPriority: st.tierPriority } : {}),
      ...(st.priority !== undefined ? { priority: st.priority } : {}),
      ...(st.policyTypes ? { policyTypes: st.policyTypes } : {}),
      span: [...st.span.keys()].sort(),
    };
  }
}

/** The distinct groups of `first` and the lists, in order (a policy has few: a linear scan beats a Set). */
function uniq(first: readonly Group[], lists: readonly (readonly Group[] | undefined)[]): Group[] {
  const out: Group[] = [];
  for (const g of first) if (!out.includes(g)) out.push(g);
  for (const l of lists) if (l) for (const g of l) if (!out.includes(g)) out.push(g);
  return out;
}

function dec(m: Map<string, number>, key: string): void {
  const n = m.get(key) ?? 0;
  if (n <= 1) m.delete(key);
  else m.set(key, n - 1);
}

/**
 * The total order of policy rules: Antrea tiers up to Application, then K8s NetworkPolicies, then Baseline; inside
 * a Tier the policy priority (lower first), then the rule's index. Returns <0 when `a` is evaluated first. Equal
 * tuples (equal policy priorities) are in an undefined order, as in Antrea.
 */
export function compareRulePriority(a: RuleRank, b: RuleRank): number {
  return a.tier - b.tier || a.policy - b.policy || a.rule - b.rule;
}

export interface RuleRank {
  tier: number;
  policy: number;
  rule: number;
}

export { BASELINE_TIER_PRIORITY };
