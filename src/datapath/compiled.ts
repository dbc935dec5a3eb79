/**
 * What every executor's Node has in common: the pipeline compiler holds the desired flows, and the per-object
 * calls of `Datapath` are one-change batches of `apply`, which each executor implements for its own bridge.
 */
import type { Flow, Group } from './pipeline/flow.js';
import type { PipelineCompiler } from './pipeline/compiler.js';
import type { Datapath, DesiredStateChange, FlowDiff, NodeConfig, PeerNode, PodInterface, PolicyRule, ServiceFrontend } from './types.js';

export abstract class CompiledDatapath implements Datapath {
  abstract readonly nodeName: string;
  abstract readonly compiler: PipelineCompiler;
  abstract setNodeConfig(cfg: NodeConfig): Promise<FlowDiff>;
  abstract apply(changes: readonly DesiredStateChange[]): Promise<FlowDiff>;

  upsertPod(pod: PodInterface): Promise<FlowDiff> {
    return this.apply([{ kind: 'pod', op: 'upsert', pod }]);
  }

  removePod(namespace: string, name: string): Promise<FlowDiff> {
    return this.apply([{ kind: 'pod', op: 'remove', key: `${namespace}/${name}` }]);
  }

  upsertPeerNode(peer: PeerNode): Promise<FlowDiff> {
    return this.apply([{ kind: 'peerNode', op: 'upsert', peer }]);
  }

  removePeerNode(nodeName: string): Promise<FlowDiff> {
    return this.apply([{ kind: 'peerNode', op: 'remove', key: nodeName }]);
  }

  upsertService(svc: ServiceFrontend): Promise<FlowDiff> {
    return this.apply([{ kind: 'service', op: 'upsert', service: svc }]);
  }

  removeService(key: string): Promise<FlowDiff> {
    return this.apply([{ kind: 'service', op: 'remove', key }]);
  }

  upsertPolicyRule(rule: PolicyRule): Promise<FlowDiff> {
    return this.apply([{ kind: 'policyRule', op: 'upsert', rule }]);
  }

  removePolicyRule(ruleID: string): Promise<FlowDiff> {
    return this.apply([{ kind: 'policyRule', op: 'remove', key: ruleID }]);
  }

  /** The desired flows, as the compiler holds them. */
  async dumpFlows(): Promise<Flow[]> {
    return this.compiler.flows();
  }

  async dumpGroups(): Promise<Group[]> {
    return this.compiler.groupList();
  }
}
