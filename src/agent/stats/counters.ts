/**
 * Per-rule traffic counters read from the datapath's metric tables (EgressMetric 61, IngressMetric 101), the way
 * Antrea's collector reads OVS flow stats: an Allow rule has a `ct_state=+new` flow (its packets are the sessions)
 * and a `-new` flow; a Drop/Reject rule has one flow, whose packets are both packets and sessions. A rule's metric
 * flows carry the rule's cookie.
 *
 * The `Datapath` interface has no counter read-back yet, so this reads the simulator's bridge when the datapath is
 * one (`antrea local`); `readerFor` returns undefined otherwise and the collector reports nothing.
 */
import type { Flow } from '../../datapath/pipeline/flow.js';

export interface Counters {
  sessions: number;
  packets: number;
  bytes: number;
}

export type RuleCounterReader = (ruleIDs: Iterable<string>) => Map<string, Counters>;

interface SimLike {
  compiler: { cookieOf(objectKey: string): bigint | undefined };
  bridge: { flowStats(): { flow: Flow; packets: number; bytes: number }[] };
}

function isSimLike(d: unknown): d is SimLike {
  const o = d as Partial<SimLike> | null;
  return typeof o?.compiler?.cookieOf === 'function' && typeof o.bridge?.flowStats === 'function';
}

const METRIC_TABLES = new Set([61, 101]);
const CT_NEW = 0x01n;

function isNewFlow(f: Flow): boolean | undefined {
  const m = f.match.find((x) => x.field === 'ct_state');
  if (!m || m.mask === undefined || (m.mask & CT_NEW) === 0n) return undefined;
  return (m.value & CT_NEW) !== 0n;
}

export function readerFor(datapath: unknown): RuleCounterReader | undefined {
  if (!isSimLike(datapath)) return undefined;
  return (ruleIDs) => {
    const byCookie = new Map<bigint, string>();
    for (const id of ruleIDs) {
      const c = datapath.compiler.cookieOf(`policyRule/${id}`);
      if (c !== undefined) byCookie.set(c, id);
    }
    const out = new Map<string, Counters>();
    for (const s of datapath.bridge.flowStats()) {
      if (!METRIC_TABLES.has(s.flow.table)) continue;
      const id = byCookie.get(s.flow.cookie);
      if (id === undefined) continue;
      const c = out.get(id) ?? { sessions: 0, packets: 0, bytes: 0 };
      const isNew = isNewFlow(s.flow);
      c.packets += s.packets;
      c.bytes += s.bytes;
      // Allow: sessions from the +new flow; deny (no ct_state match): every packet is a session attempt.
      if (isNew === true || isNew === undefined) c.sessions += s.packets;
      out.set(id, c);
    }
    return out;
  };
}
