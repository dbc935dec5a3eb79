/**
 * Per-policy totals from successive reads of per-rule datapath counters. A counter that went down was reset (its
 * rule re-installed, or a new datapath): what it shows now is all new. Pure, so the restart and reset cases are
 * unit-tested without a cluster.
 */
import type { NetworkPolicyReference, NodeStatsSummary, PolicyStatsTotal, TrafficCounters } from '../../apis/controlplane.js';
import type { Counters } from './counters.js';

export interface RuleSource {
  policyUID: string;
  source: NetworkPolicyReference;
  ruleName?: string;
}

const zero = (): TrafficCounters => ({ sessions: 0, packets: 0, bytes: 0 });

export class StatsAccumulator {
  private readonly totals = new Map<string, PolicyStatsTotal>();
  private readonly lastRead = new Map<string, TrafficCounters>();

  constructor(previous?: Pick<NodeStatsSummary, 'policies' | 'lastRead'>) {
    for (const p of previous?.policies ?? []) this.totals.set(p.ref.uid, structuredClone(p));
    for (const [k, v] of Object.entries(previous?.lastRead ?? {})) this.lastRead.set(k, { ...v });
  }

  /** Adds what each rule's counters grew by; returns true when any total changed. */
  add(read: ReadonlyMap<string, Counters>, rules: ReadonlyMap<string, RuleSource>): boolean {
    let changed = false;
    for (const [ruleID, cur] of read) {
      const rule = rules.get(ruleID);
      if (!rule) continue;
      const last = this.lastRead.get(ruleID) ?? zero();
      const reset = cur.packets < last.packets || cur.bytes < last.bytes || cur.sessions < last.sessions;
      const d = reset ? cur : { sessions: cur.sessions - last.sessions, packets: cur.packets - last.packets, bytes: cur.bytes - last.bytes };
      this.lastRead.set(ruleID, { ...cur });
      if (d.packets === 0 && d.sessions === 0 && d.bytes === 0) continue;
      changed = true;
      const t = this.totals.get(rule.policyUID) ?? { ref: rule.source, counters: zero() };
      addTo(t.counters, d);
      if (rule.ruleName) addTo(((t.rules ??= {})[rule.ruleName] ??= zero()), d);
      this.totals.set(rule.policyUID, t);
    }
    // Rules gone from the datapath: forget their last read (a rule re-created under the ID starts from zero).
    for (const id of [...this.lastRead.keys()]) if (!rules.has(id)) this.lastRead.delete(id);
    return changed;
  }

  /** Drops the totals of policies that no longer exist; returns true when any was dropped. */
  retain(policyUIDs: ReadonlySet<string>): boolean {
    let changed = false;
    for (const uid of [...this.totals.keys()]) {
      if (!policyUIDs.has(uid)) {
        this.totals.delete(uid);
        changed = true;
      }
    }
    return changed;
  }

  summary(): Pick<NodeStatsSummary, 'policies' | 'lastRead'> {
    return { policies: [...this.totals.values()].map((p) => structuredClone(p)), lastRead: Object.fromEntries(this.lastRead) };
  }
}

function addTo(t: TrafficCounters, d: TrafficCounters): void {
  t.sessions += d.sessions;
  t.packets += d.packets;
  t.bytes += d.bytes;
}
