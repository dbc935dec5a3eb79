/**
 * The controller's NetworkPolicy module: watches Namespaces, Pods and NetworkPolicies (and, with AntreaPolicy, Tiers,
 * ClusterNetworkPolicies and Antrea NetworkPolicies), feeds them to the computation (compute.ts), and publishes the
 * internal objects as `controlplane.antrea.io/v1beta2` AddressGroups, AppliedToGroups and NetworkPolicies, each with
 * its span; agents take the ones spanning their Node.
 *
 * K8s NetworkPolicies are always handled (core); the Antrea-native kinds only with the AntreaPolicy gate, asked once.
 */
import type { Namespace, Pod } from '../../apis/core.js';
import { controlplaneGvr } from '../../apis/controlplane.js';
import {
  type AntreaNetworkPolicy,
  type ClusterNetworkPolicy,
  type Tier,
  policyGvr,
} from '../../apis/crd/policy.js';
import type { KubeObject } from '../../apis/meta.js';
import type { NetworkPolicy } from '../../apis/networking.js';
import { gvr } from '../../apiserver/registry.js';
import type { EventHandlers } from '../../client/informer.js';
import { defineModule } from '../../features/modules.js';
import type { ControllerContext } from '../context.js';
import { PolicyComputer, type PolicyProblem } from './compute.js';
import { Publisher } from './publish.js';
import { ensureSystemTiers } from './tiers.js';
import { PolicyStatusWriter } from './status.js';

const uidOf = (o: KubeObject, fallback: string) => o.metadata.uid ?? fallback;

function handlers<T extends KubeObject>(upsert: (o: T) => void, remove: (o: T) => void, after: () => void): EventHandlers<T> {
  return {
    onAdd: (o) => (upsert(o), after()),
    onUpdate: (oldObj, o) => {
      if (oldObj === o) return; // periodic resync: nothing changed
      upsert(o);
      after();
    },
    onDelete: (o) => (remove(o), after()),
  };
}

export const networkPolicyController = defineModule<ControllerContext>({
  name: 'networkpolicy',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'networkpolicy' });
    const antreaPolicy = ctx.gateEnabled('AntreaPolicy');
    const computer = new PolicyComputer();
    const publisher = new Publisher(ctx.client, log);
    const status = new PolicyStatusWriter(ctx.client, log);
    let synced = false;
    let scheduled = false;

    const flush = () => {
      scheduled = false;
      const changes = computer.flush();
      for (const g of changes.groups) {
        const r = g.kind === 'AddressGroup' ? controlplaneGvr.addressgroups : controlplaneGvr.appliedtogroups;
        publisher.set(r, g.name, g.op === 'delete' ? null : g.kind === 'AddressGroup' ? () => computer.addressGroup(g.name) : () => computer.appliedToGroup(g.name));
      }
      for (const p of changes.policies) {
        publisher.set(controlplaneGvr.networkpolicies, p.name, p.op === 'delete' ? null : () => computer.policy(p.name));
        if (p.policy && p.policy.sourceRef.type !== 'K8sNetworkPolicy') status.realized(p.policy.sourceRef, p.policy.span.length);
      }
    };
    // Events arrive one by one; computing is synchronous and cheap, publishing is batched per turn of the loop.
    const after = () => {
      if (!synced || scheduled) return;
      scheduled = true;
      setImmediate(flush);
    };
    const pending = (p: PolicyProblem | undefined) => {
      if (p) status.pending(p.ref, p.message);
    };

    const namespaces = ctx.informers.informerFor<Namespace>(gvr.namespaces);
    const pods = ctx.informers.informerFor<Pod>(gvr.pods);
    const k8s = ctx.informers.informerFor<NetworkPolicy>(policyGvr.k8snetworkpolicies);
    namespaces.addEventHandler(handlers((n) => computer.upsertNamespace(n), (n) => computer.deleteNamespace(n.metadata.name ?? ''), after));
    pods.addEventHandler(handlers((p) => computer.upsertPod(p), (p) => computer.deletePod(`${p.metadata.namespace}/${p.metadata.name}`), after));
    k8s.addEventHandler(
      handlers(
        (p) => computer.upsertK8sPolicy(p),
        (p) => computer.deleteK8sPolicy(uidOf(p, `${p.metadata.namespace}/${p.metadata.name}`)),
        after,
      ),
    );
    const mine: { waitForSync(): Promise<void> }[] = [namespaces, pods, k8s];
    if (antreaPolicy) {
      const tiers = ctx.informers.informerFor<Tier>(policyGvr.tiers);
      const acnps = ctx.informers.informerFor<ClusterNetworkPolicy>(policyGvr.clusternetworkpolicies);
      const anps = ctx.informers.informerFor<AntreaNetworkPolicy>(policyGvr.antreanetworkpolicies);
      mine.push(tiers, acnps, anps);
      tiers.addEventHandler(handlers((t) => computer.upsertTier(t), (t) => computer.deleteTier(t.metadata.name ?? ''), after));
      acnps.addEventHandler(
        handlers(
          (p) => pending(computer.upsertAntreaPolicy('acnp', p)),
          (p) => computer.deleteAntreaPolicy(uidOf(p, `AntreaClusterNetworkPolicy//${p.metadata.name}`)),
          after,
        ),
      );
      anps.addEventHandler(
        handlers(
          (p) => pending(computer.upsertAntreaPolicy('anp', p)),
          (p) => computer.deleteAntreaPolicy(uidOf(p, `AntreaNetworkPolicy/${p.metadata.namespace}/${p.metadata.name}`)),
          after,
        ),
      );
    }
    ctx.informers.start();
    if (antreaPolicy) await ensureSystemTiers(ctx.client, log);
    await Promise.all(mine.map((i) => i.waitForSync()));
    synced = true;
    flush();
    // Objects left by a previous run that the computation no longer produces.
    await publisher.prune(controlplaneGvr.networkpolicies, (n) => computer.policy(n) !== undefined);
    await publisher.prune(controlplaneGvr.addressgroups, (n) => computer.addressGroup(n) !== undefined);
    await publisher.prune(controlplaneGvr.appliedtogroups, (n) => computer.appliedToGroup(n) !== undefined);
    ctx.addReadinessCheck('networkpolicy', () => synced);
    ctx.expose('/networkpolicy', () => ({ ...computer.stats() }));
    log.info('NetworkPolicy computation running', { antreaPolicy, ...computer.stats() });
    return {
      async stop() {
        synced = false;
        publisher.stop();
        status.stop();
      },
    };
  },
});
