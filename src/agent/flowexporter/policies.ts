/**
 * Which policy rule a conjunction id stands for. Conntrack only carries the conjunction ids of the Allow rules that
 * committed a connection (ct_label, see datapath/pipeline/stages/policy.ts); the names come from the agent's
 * NetworkPolicy module, which publishes the rules it installed on each Node in `installedRules` (shared with the stats
 * module; Antrea's flow exporter asks its NetworkPolicy controller the same question, `GetNetworkPolicyByRuleFlowID`).
 */
import type { PolicyRule, RuleDirection } from '../../datapath/types.js';
import { installedRules, type InstalledRule } from '../networkpolicy/index.js';
import { PolicyTypeCode, RuleActionCode, type PolicyRef } from './types.js';

export interface PolicyLookup {
  lookup(conjID: number, direction: RuleDirection): PolicyRef | undefined;
}

/** A rule as the lookup needs it; `ruleName` is the Antrea-native rule's name when it has one. */
export type RuleInfo = Pick<PolicyRule, 'conjID' | 'direction' | 'action' | 'kind' | 'policyRef'> & { ruleName?: string };

const TYPE_BY_KIND: Readonly<Record<string, number>> = {
  K8sNetworkPolicy: PolicyTypeCode.K8sNetworkPolicy,
  AntreaNetworkPolicy: PolicyTypeCode.AntreaNetworkPolicy,
  AntreaClusterNetworkPolicy: PolicyTypeCode.AntreaClusterNetworkPolicy,
};

/** `K8sNetworkPolicy:ns/name`, `AntreaClusterNetworkPolicy:name` (or a bare name) as Antrea's policy IEs. */
export function policyRefOf(rule: RuleInfo): PolicyRef {
  const ref = rule.policyRef;
  const colon = ref.indexOf(':');
  const kind = colon >= 0 ? ref.slice(0, colon) : '';
  const path = colon >= 0 ? ref.slice(colon + 1) : ref;
  const slash = path.indexOf('/');
  const namespace = slash >= 0 ? path.slice(0, slash) : '';
  const name = slash >= 0 ? path.slice(slash + 1) : path;
  const type =
    TYPE_BY_KIND[kind] ??
    (rule.kind === 'K8sNetworkPolicy' ? PolicyTypeCode.K8sNetworkPolicy : namespace ? PolicyTypeCode.AntreaNetworkPolicy : PolicyTypeCode.AntreaClusterNetworkPolicy);
  const action = rule.action === 'Allow' ? RuleActionCode.Allow : rule.action === 'Drop' ? RuleActionCode.Drop : rule.action === 'Reject' ? RuleActionCode.Reject : RuleActionCode.None;
  return { name, namespace, type, ruleName: rule.ruleName ?? '', action };
}

function conjKey(conjID: number, direction: RuleDirection): string {
  return `${direction}|${conjID}`;
}

/** A slower rebuild on misses at most this often: a label whose rule is gone must not rescan on every connection. */
const MISS_REBUILD_MS = 200;

/**
 * Looks rules up in what the NetworkPolicy module installed on one Node. The module replaces its entries on every
 * sync, so a cached entry is trusted only while it is still the installed one; the index is rebuilt (one pass over
 * the Node's rules) when it is not.
 */
export class InstalledRuleLookup implements PolicyLookup {
  private index = new Map<string, { entry: InstalledRule; ref: PolicyRef }>();
  private builtAt = -Infinity;

  constructor(
    private readonly nodeName: string,
    private readonly rules: ReadonlyMap<string, ReadonlyMap<string, InstalledRule>> = installedRules,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(conjID: number, direction: RuleDirection): PolicyRef | undefined {
    const installed = this.rules.get(this.nodeName);
    if (!installed) return undefined;
    const k = conjKey(conjID, direction);
    const hit = this.index.get(k);
    if (hit && installed.get(hit.entry.rule.ruleID) === hit.entry) return hit.ref;
    if (!hit && this.now() - this.builtAt < MISS_REBUILD_MS) return undefined;
    this.rebuild(installed);
    return this.index.get(k)?.ref;
  }

  private rebuild(installed: ReadonlyMap<string, InstalledRule>): void {
    const index = new Map<string, { entry: InstalledRule; ref: PolicyRef }>();
    for (const entry of installed.values()) {
      const r = entry.rule;
      index.set(conjKey(r.conjID, r.direction), { entry, ref: policyRefOf({ ...r, ...(entry.ruleName ? { ruleName: entry.ruleName } : {}) }) });
    }
    this.index = index;
    this.builtAt = this.now();
  }
}
