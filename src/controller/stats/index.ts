/**
 * NetworkPolicyStats on the controller: keeps one stats object per policy (`stats.antrea.io/v1alpha1`
 * NetworkPolicyStats for K8s policies, AntreaClusterNetworkPolicyStats and AntreaNetworkPolicyStats for Antrea's,
 * the latter two only with AntreaPolicy), named like the policy, created with zero counts when the controller first
 * sees the policy (its `creationTimestamp` is "CREATED AT": when collection started), updated from the agents'
 * NodeStatsSummaries, deleted with the policy.
 *
 * The local API server registers the stats types statically, so with the gate off they are served but empty (a real
 * aggregated API server would not serve them: 404).
 */
import { controlplaneGvr, type NodeStatsSummary, type NetworkPolicyReference } from '../../apis/controlplane.js';
import { policyGvr } from '../../apis/crd/policy.js';
import type { KubeObject } from '../../apis/meta.js';
import { statsGvr, type AntreaClusterNetworkPolicyStats } from '../../apis/stats.js';
import { defineModule } from '../../features/modules.js';
import type { ControllerContext } from '../context.js';
import { Publisher } from '../networkpolicy/publish.js';
import { StatsAggregator } from './aggregate.js';

type Kind = 'K8sNetworkPolicy' | 'AntreaClusterNetworkPolicy' | 'AntreaNetworkPolicy';

const statsKind: Record<Kind, { gvr: (typeof statsGvr)[keyof typeof statsGvr]; kind: string }> = {
  K8sNetworkPolicy: { gvr: statsGvr.networkpolicystats, kind: 'NetworkPolicyStats' },
  AntreaClusterNetworkPolicy: { gvr: statsGvr.antreaclusternetworkpolicystats, kind: 'AntreaClusterNetworkPolicyStats' },
  AntreaNetworkPolicy: { gvr: statsGvr.antreanetworkpolicystats, kind: 'AntreaNetworkPolicyStats' },
};

export const networkPolicyStatsController = defineModule<ControllerContext>({
  name: 'networkpolicystats',
  gate: 'NetworkPolicyStats',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'networkpolicystats' });
    const antreaPolicy = ctx.gateEnabled('AntreaPolicy');
    const agg = new StatsAggregator();
    const publisher = new Publisher(ctx.client, log);
    /** Known policies by UID, with when collection started. */
    const known = new Map<string, { ref: NetworkPolicyReference; since: string }>();

    const objectFor = (uid: string): KubeObject | undefined => {
      const k = known.get(uid);
      if (!k) return undefined;
      const s = agg.stats(uid);
      const c = s?.counters ?? { sessions: 0, packets: 0, bytes: 0 };
      const t = statsKind[k.ref.type];
      const obj: AntreaClusterNetworkPolicyStats = {
        apiVersion: 'stats.antrea.io/v1alpha1',
        kind: t.kind,
        metadata: { name: k.ref.name, ...(k.ref.namespace ? { namespace: k.ref.namespace } : {}), creationTimestamp: k.since },
        trafficStats: { sessions: c.sessions, packets: c.packets, bytes: c.bytes },
      };
      if (k.ref.type !== 'K8sNetworkPolicy') obj.ruleTrafficStats = [...(s?.rules ?? new Map())].map(([name, r]) => ({ name, trafficStats: { ...r } }));
      return obj;
    };
    const publish = (uid: string, ref?: NetworkPolicyReference) => {
      const k = known.get(uid)?.ref ?? ref;
      if (!k) return;
      publisher.set(statsKind[k.type].gvr, k.name, () => objectFor(uid), k.namespace);
    };
    const track = (type: Kind) => ({
      onAdd: (o: KubeObject) => {
        const uid = o.metadata.uid ?? '';
        const ref: NetworkPolicyReference = { type, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name ?? '', uid };
        if (!known.has(uid)) known.set(uid, { ref, since: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
        publish(uid);
      },
      onDelete: (o: KubeObject) => {
        const uid = o.metadata.uid ?? '';
        const k = known.get(uid);
        known.delete(uid);
        if (k) publish(uid, k.ref);
      },
    });
    ctx.informers.informerFor(policyGvr.k8snetworkpolicies).addEventHandler(track('K8sNetworkPolicy'));
    if (antreaPolicy) {
      ctx.informers.informerFor(policyGvr.clusternetworkpolicies).addEventHandler(track('AntreaClusterNetworkPolicy'));
      ctx.informers.informerFor(policyGvr.antreanetworkpolicies).addEventHandler(track('AntreaNetworkPolicy'));
    }
    const summaries = ctx.informers.informerFor<NodeStatsSummary>(controlplaneGvr.nodestatssummaries);
    const onSummary = (node: string, s: NodeStatsSummary | undefined) => {
      for (const uid of agg.setNode(node, s)) if (known.has(uid)) publish(uid);
    };
    summaries.addEventHandler({
      onAdd: (s) => onSummary(s.metadata.name ?? '', s),
      onUpdate: (_o, s) => onSummary(s.metadata.name ?? '', s),
      onDelete: (s) => onSummary(s.metadata.name ?? '', undefined),
    });
    ctx.informers.start();
    await ctx.informers.waitForCacheSync();
    // Stats objects of policies deleted while the controller was down.
    for (const t of Object.values(statsKind)) {
      if (!antreaPolicy && t.kind !== 'NetworkPolicyStats') continue;
      await publisher.prune(t.gvr, (name, ns) => [...known.values()].some((k) => statsKind[k.ref.type].gvr === t.gvr && k.ref.name === name && (k.ref.namespace ?? undefined) === ns));
    }
    return { stop: () => publisher.stop() };
  },
});
