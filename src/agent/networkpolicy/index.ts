/**
 * The agent's NetworkPolicy module: takes the controlplane NetworkPolicies, AddressGroups and AppliedToGroups whose
 * span includes this Node, turns them into ordered datapath rules (rules.ts), and applies the difference to the
 * datapath in one batch per sync. Syncs are coalesced (a burst of events is one sync) and a periodic full sync
 * repairs drift. Conjunction IDs derive from the rule IDs, so a restarted agent reproduces them (and the stats
 * keyed by them).
 *
 * Server-side per-Node filtering (Antrea's `nodeName=` field selector on its aggregated API) is not in the local
 * API server: the agent watches every controlplane object and keeps those spanning its Node.
 */
import type { Pod } from '../../apis/core.js';
import { controlplaneGvr, type AddressGroup, type AppliedToGroup, type ControlplaneNetworkPolicy, type NetworkPolicyReference } from '../../apis/controlplane.js';
import type { KubeObject } from '../../apis/meta.js';
import { gvr } from '../../apiserver/registry.js';
import type { DesiredStateChange, PolicyRule } from '../../datapath/types.js';
import { defineModule } from '../../features/modules.js';
import { describeError } from '../../util/errors.js';
import type { AgentContext } from '../context.js';
import { assignPriorities, policyRules, type RuleDraft } from './rules.js';
import { ConjIdAllocator } from './conjid.js';

/** What the stats collector needs to know about an installed rule. */
export interface InstalledRule {
  rule: PolicyRule;
  /** The draft it was made from (identity tells a later sync the rule is unchanged). */
  draft?: RuleDraft;
  policyUID: string;
  source: NetworkPolicyReference;
  ruleName?: string;
}

/** Shared with the stats module of the same agent (same process): the rules installed now, by rule ID. */
export const installedRules = new Map<string, Map<string, InstalledRule>>();

const RESYNC_MS = 60_000;

export const networkPolicyAgent = defineModule<AgentContext>({
  name: 'networkpolicy',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'networkpolicy' });
    const node = ctx.nodeName;
    const policies = ctx.informers.informerFor<ControlplaneNetworkPolicy>(controlplaneGvr.networkpolicies);
    const addressGroups = ctx.informers.informerFor<AddressGroup>(controlplaneGvr.addressgroups);
    const appliedToGroups = ctx.informers.informerFor<AppliedToGroup>(controlplaneGvr.appliedtogroups);
    const pods = ctx.informers.informerFor<Pod>(gvr.pods, { fieldSelector: `spec.nodeName=${node}` });
    const conjIds = new ConjIdAllocator();
    const installed = new Map<string, InstalledRule>();
    installedRules.set(node, installed);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let syncing: Promise<void> | undefined;
    let again = false;
    let syncs = 0;

    const spans = (o: { span?: string[] }) => o.span?.includes(node) ?? false;

    // Per policy, the drafts of the last sync and what they were computed from: a sync recomputes only the policies
    // whose object, groups or local Pods changed, and compares only the rules it recomputed or re-prioritized.
    const memo = new Map<string, { sig: string; drafts: RuleDraft[] }>();

    const sync = async () => {
      const localPods = await ctx.node.pods();
      const ofPorts = new Map(localPods.map((p) => [`${p.namespace}/${p.name}`, p.ofPort]));
      const podsSig = localPods.map((p) => `${p.namespace}/${p.name}=${p.ofPort}`).sort().join(',');
      const ag = new Map(addressGroups.list().map((g) => [g.metadata.name ?? '', g]));
      const atg = new Map(appliedToGroups.list().map((g) => [g.metadata.name ?? '', g]));
      const rv = (o: { metadata: { resourceVersion?: string } } | undefined) => o?.metadata.resourceVersion ?? '-';
      const drafts: RuleDraft[] = [];
      const seen = new Set<string>();
      for (const p of policies.list()) {
        if (!spans(p)) continue;
        const uid = p.metadata.name ?? '';
        seen.add(uid);
        const groups = [...p.appliedToGroups, ...p.rules.flatMap((r) => r.appliedToGroups ?? [])].map((n) => rv(atg.get(n)));
        const peers = p.rules.flatMap((r) => [...(r.from.addressGroups ?? []), ...(r.to.addressGroups ?? [])]).map((n) => rv(ag.get(n)));
        const sig = `${rv(p)}|${groups.join(',')}|${peers.join(',')}|${podsSig}`;
        let m = memo.get(uid);
        if (!m || m.sig !== sig) memo.set(uid, (m = { sig, drafts: policyRules(node, p, ag, atg, ofPorts) }));
        drafts.push(...m.drafts);
      }
      for (const uid of [...memo.keys()]) if (!seen.has(uid)) memo.delete(uid);
      const prios = assignPriorities(drafts);
      const changes: DesiredStateChange[] = [];
      const next = new Map<string, InstalledRule>();
      for (const d of drafts) {
        const old = installed.get(d.ruleID);
        const priority = prios.get(d.ruleID);
        // The same draft object at the same priority: the rule is unchanged, nothing to compare.
        if (old && old.draft === d && old.rule.priority === priority) {
          next.set(d.ruleID, old);
          continue;
        }
        const rule = toRule(d, conjIds.idFor(d.ruleID), priority);
        next.set(d.ruleID, { rule, draft: d, policyUID: d.policyUID, source: d.source, ...(d.ruleName ? { ruleName: d.ruleName } : {}) });
        if (!old || JSON.stringify(old.rule) !== JSON.stringify(rule)) changes.push({ kind: 'policyRule', op: 'upsert', rule });
      }
      for (const id of installed.keys()) {
        if (!next.has(id)) {
          changes.push({ kind: 'policyRule', op: 'remove', key: id });
          conjIds.release(id);
        }
      }
      // First sync after a restart: the datapath still holds the previous run's rules; those of policies deleted
      // while the agent was down would otherwise stay enforced until the datapath is reset.
      if (syncs === 0) {
        for (const id of await ctx.node.policyRuleIDs()) {
          if (!next.has(id) && !installed.has(id)) changes.push({ kind: 'policyRule', op: 'remove', key: id });
        }
      }
      // Removals first: a rule replaced under a new ID must not share a priority with its old self for long.
      changes.sort((a, b) => (a.op === b.op ? 0 : a.op === 'remove' ? -1 : 1));
      if (changes.length > 0) await ctx.datapath.apply(changes);
      installed.clear();
      for (const [k, v] of next) installed.set(k, v);
      syncs++;
      if (changes.length > 0) log.debug('policy rules synced', { node, rules: installed.size, changes: changes.length });
    };

    const run = () => {
      timer = undefined;
      if (stopped) return;
      if (syncing) {
        again = true;
        return;
      }
      syncing = sync()
        .catch((err: unknown) => {
          log.error('policy sync failed; will retry', { error: describeError(err) });
          schedule(500);
        })
        .finally(() => {
          syncing = undefined;
          if (again) {
            again = false;
            schedule(0);
          }
        });
    };
    const schedule = (ms = 5) => {
      if (stopped || timer) return;
      timer = setTimeout(run, ms);
    };
    const onChange = { onAdd: () => schedule(), onUpdate: (a: KubeObject, b: KubeObject) => a !== b && schedule(), onDelete: () => schedule() };
    for (const inf of [policies, addressGroups, appliedToGroups, pods] as const) (inf as { addEventHandler(h: typeof onChange): unknown }).addEventHandler(onChange);
    ctx.informers.start();
    await Promise.all([policies, addressGroups, appliedToGroups, pods].map((i) => i.waitForSync()));
    await sync();
    const resync = setInterval(() => schedule(0), RESYNC_MS);
    resync.unref();
    ctx.addReadinessCheck('networkpolicy', () => syncs > 0);
    ctx.expose('/networkpolicy', () => ({
      rules: [...installed.values()].map((r) => ({ ruleID: r.rule.ruleID, policyRef: r.rule.policyRef, direction: r.rule.direction, action: r.rule.action, kind: r.rule.kind, priority: r.rule.priority, conjID: r.rule.conjID })),
    }));
    return {
      async stop() {
        stopped = true;
        clearInterval(resync);
        if (timer) clearTimeout(timer);
        await syncing;
        installedRules.delete(node);
      },
    };
  },
});

function toRule(d: RuleDraft, conjID: number, priority: number | undefined): PolicyRule {
  const { rank: _rank, policyUID: _uid, ruleName: _name, source: _source, ...rest } = d;
  return { ...rest, conjID, ...(priority !== undefined ? { priority } : {}) };
}
