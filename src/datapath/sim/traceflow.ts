/**
 * Turns a packet's trace into Traceflow observations per Node, as Antrea's agent does from its packet-ins
 * (reference/antrea.md 4.4; ovs-pipeline.md section 8): sender → SpoofGuard/Forwarded, other Nodes →
 * Forwarding/Received, a DNAT → LB/Forwarded with translatedDstIP, policy drops → NetworkPolicy/Dropped, and the
 * Output result → Forwarded (tunnel, with tunnelDstIP) / Delivered / ForwardedOutOfOverlay / Dropped.
 */
import type { Observation, TraceflowAction, TraceflowComponent } from '../../apis/crd/traceflow.js';
import type { TraceStep } from './trace.js';

// The observations are Traceflow's wire format (crd.antrea.io), so the simulator reports in the API's own types.
export type { Observation, TraceflowAction, TraceflowComponent } from '../../apis/crd/traceflow.js';

/** One Node's observations (the API's NodeResult without the fields the controller fills in). */
export interface NodeResult {
  node: string;
  observations: Observation[];
}

export interface TraceflowNodeInfo {
  encap: boolean;
  gatewayIP: string;
}

/** EgressDefaultRule and IngressDefaultRule: where K8s NetworkPolicy isolation drops. */
const ISOLATION_TABLES = [60, 100] as const;

export function componentOfTable(table: number): TraceflowComponent {
  if (table === 0) return 'Classification';
  if (table === 10 || table === 20) return 'SpoofGuard';
  if (table >= 40 && table <= 42) return 'LB';
  if ((table >= 45 && table <= 61) || (table >= 85 && table <= 101)) return 'NetworkPolicy';
  if (table === 70 || table === 72) return 'Routing';
  return 'Forwarding';
}

/** One observation list per visit of a Node's bridge, in the order the packet went. */
export function traceflowObservations(
  trace: readonly TraceStep[],
  info: (node: string) => TraceflowNodeInfo,
  /** The policy reference of a rule's conjunction id on a Node (for NetworkPolicy observations). */
  policyRef: (node: string, conjID: number) => string | undefined = () => undefined,
  /** The policy references behind an installed flow (`table|priority|match`): names the policy of an isolation drop. */
  flowPolicyRefs: (node: string, identity: string) => readonly string[] = () => [],
): NodeResult[] {
  const results: NodeResult[] = [];
  let current: NodeResult | undefined;
  let first = true;
  let lastTunDst: string | undefined;
  let dstIP: string | undefined;
  let deniedAt: number | undefined;
  let rejecting = false;
  /** The policy of the last isolation drop flow (Ingress/EgressDefaultRule), for the Dropped observation after it. */
  let isolatedBy: { node: string; table: number; ref: string } | undefined;
  for (const s of trace) {
    if (s.kind === 'endpoint' && s.action === 'sent') {
      const m = /> ([\d.]+)/.exec(s.detail);
      dstIP = m?.[1];
      continue;
    }
    if (s.kind === 'flow' || s.kind === 'miss') {
      if (!current || current.node !== s.node) {
        current = { node: s.node, observations: [] };
        results.push(current);
        current.observations.push(first ? { component: 'SpoofGuard', action: 'Forwarded' } : { component: 'Forwarding', action: 'Received' });
        first = false;
      }
      if (s.kind === 'flow') {
        const m = /set_field:([\d.]+)->tun_dst/.exec(s.actions);
        if (m) lastTunDst = m[1];
        if (s.table === 10 && s.actions === 'drop') current.observations[0] = { component: 'SpoofGuard', componentInfo: 'SpoofGuard', action: 'Dropped' };
        const conj = /(?:^|,)conj_id=(\d+)/.exec(s.match);
        if (conj && s.actions.includes('0x100000/0x100000->reg0')) rejecting = s.actions.includes('controller');
        if (conj && !s.actions.includes('0x100000/0x100000->reg0')) {
          const ref = policyRef(s.node, Number(conj[1]));
          current.observations.push({ component: 'NetworkPolicy', componentInfo: s.tableName, action: 'Forwarded', ...(ref ? { networkPolicy: ref } : {}) });
        }
        if ((s.table === ISOLATION_TABLES[0] || s.table === ISOLATION_TABLES[1]) && s.actions === 'drop') {
          // A K8s NetworkPolicy's isolation: several policies may isolate one Pod; the first (sorted) is named.
          const ref = flowPolicyRefs(s.node, `${s.table}|${s.priority}|${s.match}`)[0];
          isolatedBy = ref ? { node: s.node, table: s.table, ref } : undefined;
        }
        const deny = /reg0=0x100000\/0x100000,reg3=(0x[0-9a-f]+)/.exec(s.match);
        if (deny && s.actions === 'drop') {
          const ref = policyRef(s.node, Number(deny[1]));
          current.observations.push({ component: 'NetworkPolicy', componentInfo: s.tableName, action: rejecting ? 'Rejected' : 'Dropped', ...(ref ? { networkPolicy: ref } : {}) });
          deniedAt = s.table;
        }
      }
      continue;
    }
    if (!current) continue;
    if (s.kind === 'ct' && s.nat?.startsWith('dst=') && s.node === current.node && !current.observations.some((o) => o.component === 'LB')) {
      const ip = (s.nat.slice(4).split(':')[0] ?? '') as string;
      if (ip !== dstIP) current.observations.push({ component: 'LB', action: 'Forwarded', translatedDstIP: ip });
    } else if (s.kind === 'drop' && s.node === current.node && s.table !== undefined) {
      if (s.table === 10 || s.table === deniedAt) continue;
      const ref = isolatedBy?.node === s.node && isolatedBy.table === s.table ? isolatedBy.ref : undefined;
      current.observations.push({ component: componentOfTable(s.table), componentInfo: s.tableName ?? '', action: 'Dropped', ...(ref ? { networkPolicy: ref } : {}) });
    } else if (s.kind === 'output' && s.node === current.node) {
      const node = info(s.node);
      if (s.portName === 'antrea-tun0') {
        current.observations.push({ component: 'Forwarding', componentInfo: 'Output', action: 'Forwarded', ...(lastTunDst ? { tunnelDstIP: lastTunDst } : {}) });
      } else if (s.portName === 'antrea-gw0') {
        const action: TraceflowAction = dstIP === node.gatewayIP ? 'Delivered' : node.encap ? 'ForwardedOutOfOverlay' : 'Forwarded';
        current.observations.push({ component: 'Forwarding', componentInfo: 'Output', action });
      } else {
        current.observations.push({ component: 'Forwarding', componentInfo: 'Output', action: 'Delivered' });
      }
    } else if (s.kind === 'endpoint' && s.action === 'received' && s.node === current.node) {
      const last = current.observations[current.observations.length - 1];
      if (last && last.action === 'Delivered') last.pod = s.endpoint;
    }
  }
  return results;
}
