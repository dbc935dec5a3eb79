/**
 * Egress in the agent (Antrea 1.5's `pkg/agent/controller/egress`): from the Egresses (IP and Node chosen by the
 * controller), this Node's Pods and the Namespaces, the datapath gets one EgressSnat per Egress IP: on the Node
 * that holds the IP, a SNAT mark (1..255) and the host rule SNATing that mark to the IP; elsewhere, a tunnel to the
 * IP for the selected local Pods. Unselected Pods leave with the Node IP through the Pod CIDR's masquerade,
 * which every agent installs (src/agent/noderoute). Any change reconciles the whole (small) plan
 * and applies only the Egress IPs whose state changed.
 */
import type { Namespace, Pod } from '../../apis/core.js';
import { egressGvr, type Egress } from '../../apis/crd/egress.js';
import { gvr } from '../../apiserver/registry.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import type { DesiredStateChange, EgressSnat } from '../../datapath/types.js';
import { podKey } from '../../datapath/types.js';
import { defineModule } from '../../features/modules.js';
import { AntreaError, describeError } from '../../util/errors.js';
import type { AgentContext } from '../context.js';
import { planEgress } from './plan.js';

const snatRuleId = (ip: string) => `egress-snat/${ip}`;

/** Marks 1..255 for the Egress IPs this Node holds (Antrea's ID allocator; at most 255 local Egress IPs). */
class MarkAllocator {
  readonly #byIp = new Map<string, number>();

  get(ip: string): number {
    const have = this.#byIp.get(ip);
    if (have !== undefined) return have;
    const used = new Set(this.#byIp.values());
    for (let m = 1; m <= 255; m++) {
      if (used.has(m)) continue;
      this.#byIp.set(ip, m);
      return m;
    }
    throw new AntreaError('ERR_EGRESS_MARKS_EXHAUSTED', `this Node already holds 255 Egress IPs: no SNAT mark left for ${ip}`);
  }

  release(ip: string): void {
    this.#byIp.delete(ip);
  }

  all(): Record<string, number> {
    return Object.fromEntries(this.#byIp);
  }
}

export const egressAgent = defineModule<AgentContext>({
  name: 'egress',
  gate: 'Egress',
  async start(ctx) {
    const log = ctx.logger.child({ module: 'egress' });
    const egresses = ctx.informers.informerFor<Egress>(egressGvr);
    const pods = ctx.informers.informerFor<Pod>(gvr.pods, { fieldSelector: `spec.nodeName=${ctx.nodeName}` });
    const namespaces = ctx.informers.informerFor<Namespace>(gvr.namespaces);
    const marks = new MarkAllocator();
    const applied = new Map<string, string>();
    const queue = new WorkQueue<string>({ name: 'egress' });
    // Destinations that keep the default path (egress.exceptCIDRs); the datapath is IPv4 only for now.
    const exceptCIDRs = ctx.config.egress.exceptCIDRs.filter((c) => !c.includes(':'));

    const sync = async () => {
      const ofPorts = new Map((await ctx.node.pods()).map((p) => [podKey(p), p.ofPort]));
      const nsMap = new Map(namespaces.list().map((n) => [n.metadata.name ?? '', n]));
      const plan = planEgress(ctx.nodeName, egresses.list(), pods.list(), nsMap);
      const changes: DesiredStateChange[] = [];
      for (const [ip, e] of plan) {
        const podOfPorts = e.pods.map((k) => ofPorts.get(k)).filter((p): p is number => p !== undefined);
        const snat: EgressSnat = { egressIP: ip, podOfPorts, ...(e.local ? { mark: marks.get(ip) } : {}), ...(exceptCIDRs.length > 0 ? { exceptCIDRs } : {}) };
        const fingerprint = JSON.stringify(snat);
        if (applied.get(ip) === fingerprint) continue;
        if (snat.mark !== undefined) changes.push({ kind: 'hostNat', op: 'upsert', rule: { id: snatRuleId(ip), kind: 'SNAT', match: { pktMark: snat.mark }, to: { ip } } });
        else if (applied.has(ip)) changes.push({ kind: 'hostNat', op: 'remove', key: snatRuleId(ip) });
        changes.push({ kind: 'egress', op: 'upsert', egress: snat });
        if (snat.mark === undefined) marks.release(ip);
        applied.set(ip, fingerprint);
      }
      for (const ip of [...applied.keys()]) {
        if (plan.has(ip)) continue;
        changes.push({ kind: 'egress', op: 'remove', key: ip }, { kind: 'hostNat', op: 'remove', key: snatRuleId(ip) });
        marks.release(ip);
        applied.delete(ip);
      }
      if (changes.length === 0) return;
      await ctx.datapath.apply(changes);
      log.debug('Egress datapath updated', { egressIPs: [...plan.keys()], changes: changes.length });
    };

    const kick = () => queue.add('sync');
    egresses.addEventHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
    pods.addEventHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
    namespaces.addEventHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
    ctx.informers.start();
    ctx.addReadinessCheck('egress', () => egresses.hasSynced() && pods.hasSynced() && namespaces.hasSynced());
    ctx.expose('/egress', () => ({ applied: Object.fromEntries([...applied].map(([ip, f]) => [ip, JSON.parse(f) as EgressSnat])), marks: marks.all() }));
    const workers = runWorkers(queue, 1, sync, { logger: log });
    return {
      async stop() {
        queue.shutDown();
        await workers.catch((err: unknown) => log.error('workers ended with an error', { error: describeError(err) }));
      },
    };
  },
});
