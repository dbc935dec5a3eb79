/**
 * Which policy rule a conjunction id stands for. Conntrack only carries the conjunction ids of the Allow rules that
 * committed a connection (ct_label, see datapath/pipeline/stages/policy.ts); the names come from whoever installs the
 * rules. Antrea asks its NetworkPolicy controller (`GetNetworkPolicyByRuleFlowID`); here the agent's policy module
 * records each rule it hands to a Node's datapath in that datapath's registry:
 *
 *   policyRuleRegistry(ctx.datapath).set(rule)      // next to ctx.datapath.upsertPolicyRule(rule)
 *   policyRuleRegistry(ctx.datapath).delete(ruleID) // next to ctx.datapath.removePolicyRule(ruleID)
 *
 * Keyed by the Datapath object, so each agent of a local cluster has its own, and no module holds another's state.
 */
import type { Datapath, PolicyRule, RuleDirection } from '../../datapath/types.js';
import { PolicyTypeCode, RuleActionCode, type PolicyRef } from './types.js';

/** A rule as the registry needs it; `ruleName` is the Antrea-native rule's name when it has one. */
export type RegisteredRule = Pick<PolicyRule, 'ruleID' | 'conjID' | 'direction' | 'action' | 'kind' | 'policyRef'> & { ruleName?: string };

const TYPE_BY_KIND: Readonly<Record<string, number>> = {
  K8sNetworkPolicy: PolicyTypeCode.K8sNetworkPolicy,
  NetworkPolicy: PolicyTypeCode.K8sNetworkPolicy,
  AntreaNetworkPolicy: PolicyTypeCode.AntreaNetworkPolicy,
  AntreaClusterNetworkPolicy: PolicyTypeCode.AntreaClusterNetworkPolicy,
  ClusterNetworkPolicy: PolicyTypeCode.AntreaClusterNetworkPolicy,
};

/** `K8sNetworkPolicy:ns/name`, `AntreaClusterNetworkPolicy:name` (or a bare name) as Antrea's policy IEs. */
export function policyRefOf(rule: RegisteredRule): PolicyRef {
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

export class PolicyRuleRegistry {
  private readonly byConj = new Map<string, PolicyRef>();
  private readonly byRule = new Map<string, string>();

  set(rule: RegisteredRule): void {
    this.delete(rule.ruleID);
    const k = conjKey(rule.conjID, rule.direction);
    this.byConj.set(k, policyRefOf(rule));
    this.byRule.set(rule.ruleID, k);
  }

  delete(ruleID: string): void {
    const k = this.byRule.get(ruleID);
    if (k === undefined) return;
    this.byRule.delete(ruleID);
    this.byConj.delete(k);
  }

  lookup(conjID: number, direction: RuleDirection): PolicyRef | undefined {
    return this.byConj.get(conjKey(conjID, direction));
  }

  get size(): number {
    return this.byRule.size;
  }
}

function conjKey(conjID: number, direction: RuleDirection): string {
  return `${direction}|${conjID}`;
}

const registries = new WeakMap<Datapath, PolicyRuleRegistry>();

export function policyRuleRegistry(datapath: Datapath): PolicyRuleRegistry {
  let r = registries.get(datapath);
  if (!r) {
    r = new PolicyRuleRegistry();
    registries.set(datapath, r);
  }
  return r;
}
