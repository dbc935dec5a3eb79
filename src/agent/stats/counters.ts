/**
 * Per-rule traffic counters from the datapath's metric tables (EgressMetric 61, IngressMetric 101), the way Antrea's
 * collector reads OVS flow stats: an Allow rule has a `ct_state=+new` flow (its packets are the sessions) and a
 * `-new` flow; a Drop/Reject rule has one flow, whose packets are both packets and sessions.
 *
 * Each executor reads its counters its own way (`NodeDatapath.policyRuleStats`); these helpers turn what it read into
 * counters by rule ID, so the stats module never looks inside an executor.
 */
import type { Flow } from '../../datapath/pipeline/flow.js';
import { flowIdentity } from '../../datapath/pipeline/render.js';
import type { RuleCounters } from '../nodedatapath.js';

export type Counters = RuleCounters;

/** Counters by rule ID from counters by conjunction ID (the simulator's `ruleMetrics()`). */
export function ruleStatsFromConjMetrics(metrics: ReadonlyMap<number, Counters>, ruleIDOf: (conjID: number) => string | undefined): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const [conjID, c] of metrics) {
    const id = ruleIDOf(conjID);
    // A conjunction no rule holds any more: its flows are on their way out, nothing to report.
    if (id !== undefined) out.set(id, { ...c });
  }
  return out;
}

const METRIC_TABLES = new Set([61, 101]);
const CT_NEW = 0x01n;

function isNewFlow(f: Flow): boolean | undefined {
  const m = f.match.find((x) => x.field === 'ct_state');
  if (!m || m.mask === undefined || (m.mask & CT_NEW) === 0n) return undefined;
  return (m.value & CT_NEW) !== 0n;
}

/**
 * Counters by rule ID from per-flow counters keyed by flow identity (`table|priority|match`, as OVS dumps them): the
 * rule's own metric flows (as its compiler built them) say which dumped flows are its and which count sessions.
 */
export function ruleStatsFromFlowCounters(
  ruleIDs: Iterable<string>,
  flowsOf: (ruleID: string) => readonly Flow[],
  byIdentity: ReadonlyMap<string, { packets: number; bytes: number }>,
): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const id of ruleIDs) {
    let c: Counters | undefined;
    for (const f of flowsOf(id)) {
      if (!METRIC_TABLES.has(f.table)) continue;
      const s = byIdentity.get(flowIdentity(f));
      if (!s) continue;
      c ??= { sessions: 0, packets: 0, bytes: 0 };
      c.packets += s.packets;
      c.bytes += s.bytes;
      // Allow: sessions from the +new flow; deny (no ct_state match): every packet is a session attempt.
      if (isNewFlow(f) !== false) c.sessions += s.packets;
    }
    if (c) out.set(id, c);
  }
  return out;
}
