/**
 * The controller's NetworkPolicyStats aggregation: a policy's stats are the sum over Nodes of the totals each agent
 * reports for it (NodeStatsSummary). Summing totals instead of accumulating deltas makes the result a function of the
 * latest summaries only: a report seen twice, a missed watch event or a controller restart gives the same numbers.
 */
import type { NodeStatsSummary, NetworkPolicyReference, TrafficCounters } from '../../apis/controlplane.js';

export interface PolicyStats {
  ref: NetworkPolicyReference;
  counters: TrafficCounters;
  rules: Map<string, TrafficCounters>;
}

export class StatsAggregator {
  private readonly byNode = new Map<string, NodeStatsSummary>();

  /** Sets a Node's latest summary (undefined: the Node's summary is gone); returns the policy UIDs it touched. */
  setNode(node: string, summary: NodeStatsSummary | undefined): Set<string> {
    const touched = new Set<string>();
    for (const p of this.byNode.get(node)?.policies ?? []) touched.add(p.ref.uid);
    if (summary) this.byNode.set(node, summary);
    else this.byNode.delete(node);
    for (const p of summary?.policies ?? []) touched.add(p.ref.uid);
    return touched;
  }

  stats(uid: string): PolicyStats | undefined {
    let out: PolicyStats | undefined;
    for (const s of this.byNode.values()) {
      for (const p of s.policies) {
        if (p.ref.uid !== uid) continue;
        out ??= { ref: p.ref, counters: { sessions: 0, packets: 0, bytes: 0 }, rules: new Map() };
        add(out.counters, p.counters);
        for (const [name, c] of Object.entries(p.rules ?? {})) {
          const r = out.rules.get(name) ?? { sessions: 0, packets: 0, bytes: 0 };
          add(r, c);
          out.rules.set(name, r);
        }
      }
    }
    return out;
  }
}

function add(t: TrafficCounters, d: TrafficCounters): void {
  t.sessions += d.sessions;
  t.packets += d.packets;
  t.bytes += d.bytes;
}
