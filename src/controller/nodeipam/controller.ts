/**
 * The NodeIPAM controller (what Antrea runs from Kubernetes' `nodeipam` package with the RangeAllocator): every
 * Node without a Pod CIDR gets one per cluster CIDR, written to `spec.podCIDR` and `spec.podCIDRs`; Nodes that have
 * CIDRs keep them; a deleted Node's CIDRs are freed. After a restart the allocations are rebuilt from the Nodes
 * before anything is allocated, so no CIDR is handed out twice.
 */
import type { Node } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import type { SharedInformerFactory } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { isApiError, type ApiClient } from '../../client/types.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import { describeError, isAntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { RangeAllocator, type AllocatorUsage, type NodeIpamSettings } from './allocator.js';

/** When every CIDR is taken, a Node without one is looked at again this often (and at once when a Node is deleted). */
const EXHAUSTED_RETRY_MS = 30_000;

export interface NodeIpamControllerDeps {
  client: ApiClient;
  informers: SharedInformerFactory;
  logger: Logger;
  settings: NodeIpamSettings;
}

export interface NodeIpamState {
  synced: boolean;
  clusterCIDRs: AllocatorUsage[];
  /** Pod CIDRs per Node, as the allocator holds them. */
  nodes: Record<string, string[]>;
}

/** A Node's Pod CIDRs as the API holds them (`podCIDRs`, else the older single `podCIDR`). */
export function podCidrsOf(node: Node): string[] {
  if (node.spec?.podCIDRs?.length) return [...node.spec.podCIDRs];
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

class Skip extends Error {}

export class NodeIpamController {
  readonly allocator: RangeAllocator;
  readonly #queue = new WorkQueue<string>({ name: 'nodeipam' });
  readonly #nodes: Informer<Node>;
  readonly #log: Logger;
  /** Nodes that found every CIDR taken: looked at again as soon as a Node is deleted. */
  readonly #waiting = new Set<string>();
  #synced = false;
  #stopped = false;
  #workers: Promise<void> | undefined;

  constructor(private readonly deps: NodeIpamControllerDeps) {
    this.#log = deps.logger.child({ module: 'nodeipam' });
    this.allocator = new RangeAllocator(deps.settings);
    this.#nodes = deps.informers.informerFor<Node>(gvr.nodes);
  }

  get synced(): boolean {
    return this.#synced;
  }

  state(): NodeIpamState {
    return { synced: this.#synced, clusterCIDRs: this.allocator.usage(), nodes: Object.fromEntries(this.allocator.nodes()) };
  }

  start(): void {
    const enqueue = (n: Node) => this.#queue.add(n.metadata.name ?? '');
    this.#nodes.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    this.deps.informers.start();
    this.#log.info('NodeIPAM allocating Pod CIDRs', {
      clusterCIDRs: this.deps.settings.clusterCIDRs,
      ...(this.deps.settings.serviceCIDR ? { serviceCIDR: this.deps.settings.serviceCIDR } : {}),
      ...(this.deps.settings.serviceCIDRv6 ? { serviceCIDRv6: this.deps.settings.serviceCIDRv6 } : {}),
    });
    void this.#nodes
      .waitForSync()
      .then(() => {
        if (this.#stopped) return;
        this.#restore();
        this.#synced = true;
        this.#workers = runWorkers(this.#queue, 1, (name) => this.#sync(name), { logger: this.#log });
      })
      .catch((err: unknown) => this.#log.error('NodeIPAM controller did not start', { error: describeError(err) }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.shutDown();
    await this.#workers?.catch((err: unknown) => this.#log.error('workers ended with an error', { error: describeError(err) }));
  }

  /** Before any allocation: every CIDR the Nodes already hold is marked used. */
  #restore(): void {
    for (const node of this.#nodes.list()) {
      const cidrs = podCidrsOf(node);
      if (cidrs.length > 0) this.#occupy(node.metadata.name ?? '', cidrs);
    }
  }

  #occupy(name: string, cidrs: string[]): void {
    const before = this.allocator.cidrsOf(name);
    const outcome = this.allocator.occupy(name, cidrs);
    if (before === undefined) this.#log.debug('Node Pod CIDRs recorded', { node: name, podCIDRs: cidrs });
    for (const cidr of outcome.outside) {
      this.#log.warnOnce(`outside:${name}:${cidr}`, 'Node has a Pod CIDR outside the cluster CIDRs: left as it is', { node: name, podCIDR: cidr, clusterCIDRs: this.deps.settings.clusterCIDRs });
    }
    for (const cidr of outcome.conflicting) {
      this.#log.warnOnce(`conflict:${name}:${cidr}`, 'Node has a Pod CIDR that overlaps another Node\'s', { node: name, podCIDR: cidr });
    }
  }

  async #sync(name: string): Promise<void> {
    const node = this.#nodes.getByName(undefined, name);
    if (!node) {
      const freed = this.allocator.release(name);
      this.#waiting.delete(name);
      if (freed.length > 0) {
        this.#log.info('Node deleted, Pod CIDRs freed', { node: name, podCIDRs: freed });
        for (const w of this.#waiting) this.#queue.add(w);
      }
      return;
    }
    const existing = podCidrsOf(node);
    if (existing.length > 0) {
      this.#waiting.delete(name);
      this.#occupy(name, existing);
      return;
    }
    let cidrs: string[];
    try {
      cidrs = this.allocator.allocate(name);
    } catch (err) {
      if (!isAntreaError(err, 'ERR_NODEIPAM_EXHAUSTED')) throw err;
      this.#log.error('cannot allocate a Pod CIDR: the cluster CIDRs are exhausted', { node: name, error: err.message, usage: this.allocator.usage() });
      this.#waiting.add(name);
      this.#queue.addAfter(name, EXHAUSTED_RETRY_MS);
      return;
    }
    this.#waiting.delete(name);
    const written = await this.#write(node, cidrs);
    if (written) this.#log.info('Pod CIDRs allocated', { node: name, podCIDRs: cidrs });
    else {
      // Deleted, replaced, or given CIDRs by someone else meanwhile: the event that says so syncs it again.
      this.allocator.release(name);
    }
  }

  async #write(node: Node, cidrs: string[]): Promise<boolean> {
    const name = node.metadata.name ?? '';
    try {
      await this.deps.client.resource<Node>(gvr.nodes).retryUpdate(name, (cur) => {
        if (cur.metadata.uid !== node.metadata.uid || podCidrsOf(cur).length > 0) throw new Skip();
        cur.spec = { ...(cur.spec ?? {}), podCIDR: cidrs[0], podCIDRs: [...cidrs] };
      });
      return true;
    } catch (err) {
      if (err instanceof Skip || isApiError(err, 'NotFound')) return false;
      throw err;
    }
  }
}
