/**
 * NetworkPolicyStats on the agent: every `networkPolicyStatsCollectInterval` (60 s by default, as Antrea) it reads
 * the counters of the policy rules installed on this Node, adds what grew since the last read to per-policy totals,
 * and writes them as this Node's NodeStatsSummary (controlplane.antrea.io). A failed write is retried at the next
 * interval with the totals grown in between. On start it resumes from its own last summary, so an agent restart
 * neither loses nor double counts.
 */
import { controlplaneGvr, type ControlplaneNetworkPolicy, type NodeStatsSummary, type PolicyStatsTotal, type TrafficCounters } from '../../apis/controlplane.js';
import { isApiError } from '../../apiserver/types.js';
import { parseDuration } from '../../config/duration.js';
import { defineModule } from '../../features/modules.js';
import { describeError } from '../../util/errors.js';
import type { AgentContext } from '../context.js';
import { installedRules } from '../networkpolicy/index.js';
import { StatsAccumulator } from './accumulate.js';

const DEFAULT_INTERVAL_MS = 60_000;

function intervalMs(ctx: AgentContext): number {
  const text = (ctx.config as unknown as Record<string, unknown>).networkPolicyStatsCollectInterval;
  if (typeof text !== 'string') return DEFAULT_INTERVAL_MS;
  const d = parseDuration(text);
  if ('error' in d) return DEFAULT_INTERVAL_MS;
  return Math.max(100, d.ns / 1e6);
}

export const networkPolicyStatsAgent = defineModule<AgentContext>({
  name: 'networkpolicystats',
  gate: 'NetworkPolicyStats',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'networkpolicystats' });
    const node = ctx.nodeName;
    let readFailed = false;
    const summaries = ctx.client.resource<NodeStatsSummary>(controlplaneGvr.nodestatssummaries);
    const policies = ctx.informers.informerFor<ControlplaneNetworkPolicy>(controlplaneGvr.networkpolicies);
    ctx.informers.start();
    const previous = await summaries.tryGet(node);
    const acc = new StatsAccumulator(previous);
    let resourceVersion = previous?.metadata.resourceVersion;
    let dirty = false;

    const collect = async () => {
      const rules = installedRules.get(node);
      if (rules) {
        try {
          dirty = acc.add(await ctx.node.policyRuleStats(), rules) || dirty;
          readFailed = false;
        } catch (err) {
          // Once per outage, not per interval: the next read that works counts everything that grew meanwhile.
          if (!readFailed) log.warn('reading the policy rule counters failed; NetworkPolicyStats retries at the next interval', { error: describeError(err) });
          readFailed = true;
        }
      }
      // Policies deleted cluster-wide take their totals with them (the controller deletes their stats too).
      if (policies.hasSynced()) dirty = acc.retain(new Set(policies.list().map((p) => p.metadata.name ?? ''))) || dirty;
      if (!dirty) return;
      const obj: NodeStatsSummary = { apiVersion: 'controlplane.antrea.io/v1beta2', kind: 'NodeStatsSummary', metadata: { name: node }, ...acc.summary() };
      try {
        if (resourceVersion) {
          try {
            resourceVersion = (await summaries.update({ ...obj, metadata: { ...obj.metadata, resourceVersion } })).metadata.resourceVersion;
          } catch (err) {
            if (!isApiError(err, 'Conflict') && !isApiError(err, 'NotFound')) throw err;
            resourceVersion = undefined;
          }
        }
        if (!resourceVersion) {
          const out = await summaries.create(obj).catch(async (err: unknown) => {
            if (!isApiError(err, 'AlreadyExists')) throw err;
            return summaries.retryUpdate(node, (cur) => ({ ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata.resourceVersion } }));
          });
          resourceVersion = out.metadata.resourceVersion;
        }
        dirty = false;
      } catch (err) {
        log.warn('reporting NetworkPolicyStats failed; the totals keep growing and go with the next report', { error: describeError(err) });
      }
    };
    let running: Promise<void> | undefined;
    const timer = setInterval(() => {
      running ??= collect().finally(() => (running = undefined));
    }, intervalMs(ctx));
    ctx.expose('/networkpolicystats', () => acc.summary());
    return {
      async stop() {
        clearInterval(timer);
        await running;
      },
    };
  },
});

export type { PolicyStatsTotal, TrafficCounters };
