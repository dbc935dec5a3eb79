/**
 * Antrea policy status (phase, observedGeneration, desired/current Nodes). The controller does not yet hear back
 * from agents which Nodes realized a policy, so current = desired once computed: "Realized" here means "computed and
 * published", a documented simplification. A policy whose Tier the controller has not seen yet (an informer ordering at
 * start, or a policy created before the system Tiers: the API refuses unknown Tiers once any Tier exists) stays
 * Pending until the Tier appears.
 */
import type { AntreaPolicyStatus, ClusterNetworkPolicy } from '../../apis/crd/policy.js';
import { policyGvr } from '../../apis/crd/policy.js';
import type { NetworkPolicyReference } from '../../apis/controlplane.js';
import { isApiError } from '../../apiserver/types.js';
import type { ApiClient } from '../../client/types.js';
import { describeError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';

export class PolicyStatusWriter {
  private readonly pendingWrites = new Map<string, { ref: NetworkPolicyReference; status: AntreaPolicyStatus & { message?: string } }>();
  private running = false;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly log: Logger,
  ) {}

  realized(ref: NetworkPolicyReference, nodes: number): void {
    this.set(ref, { phase: 'Realized', desiredNodesRealized: nodes, currentNodesRealized: nodes });
  }

  pending(ref: NetworkPolicyReference, message: string): void {
    this.set(ref, { phase: 'Pending', desiredNodesRealized: 0, currentNodesRealized: 0, message });
  }

  stop(): void {
    this.stopped = true;
  }

  private set(ref: NetworkPolicyReference, status: AntreaPolicyStatus & { message?: string }): void {
    this.pendingWrites.set(`${ref.type}/${ref.namespace ?? ''}/${ref.name}`, { ref, status });
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pendingWrites.size > 0 && !this.stopped) {
        const [key, w] = this.pendingWrites.entries().next().value as [string, { ref: NetworkPolicyReference; status: AntreaPolicyStatus }];
        this.pendingWrites.delete(key);
        const r = w.ref.type === 'AntreaClusterNetworkPolicy'
          ? this.client.resource<ClusterNetworkPolicy>(policyGvr.clusternetworkpolicies)
          : this.client.resource<ClusterNetworkPolicy>(policyGvr.antreanetworkpolicies).inNamespace(w.ref.namespace ?? 'default');
        try {
          await r.retryUpdate(w.ref.name, (cur) => ({ ...cur, status: { ...w.status, observedGeneration: cur.metadata.generation ?? 1 } }), { subresource: 'status' });
        } catch (err) {
          if (!isApiError(err, 'NotFound')) this.log.warn('updating a policy status failed', { policy: key, error: describeError(err) });
        }
      }
    } finally {
      this.running = false;
    }
  }
}
