/**
 * The controller side of Egress. For an Egress naming an ExternalIPPool and no IP, an IP of the pool is allocated
 * and written to `spec.egressIP`. Then the Node that holds the IP is chosen and written to `status.egressNode`:
 * - pool-backed: the owner on the consistent-hash ring of the Ready Nodes matching the pool's nodeSelector (what
 *   every Antrea 1.5 agent computes alike through memberlist; here the controller computes it once for all);
 * - static (egressIP without pool): Antrea expects an admin to have configured the IP on a Node, so the Node is the
 *   one that lists the IP among its addresses; none does: no egressNode, the Egress has no effect.
 * Pool usage is kept in the pool's `status.usage`. IPs held by Egresses are re-read before any allocation after a
 * restart.
 */
import type { Node } from '../../apis/core.js';
import { egressGvr, externalIPPoolGvr, type Egress, type ExternalIPPool } from '../../apis/crd/egress.js';
import { matchesLabelSelector } from '../../apis/labels.js';
import { gvr } from '../../apiserver/registry.js';
import type { SharedInformerFactory } from '../../client/factory.js';
import type { Informer } from '../../client/informer.js';
import { isApiError, type ApiClient } from '../../client/types.js';
import { runWorkers } from '../../client/workers.js';
import { WorkQueue } from '../../client/workqueue.js';
import { describeError, isAntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { PoolAllocator } from './pool.js';
import { HashRing } from './ring.js';

export interface EgressControllerDeps {
  client: ApiClient;
  informers: SharedInformerFactory;
  logger: Logger;
}

class Skip extends Error {}

const POOL_KEY = 'pool:';

export function nodeIsReady(n: Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') && !n.metadata.deletionTimestamp;
}

export class EgressController {
  readonly pools = new PoolAllocator();
  readonly #queue = new WorkQueue<string>({ name: 'egress' });
  readonly #egresses: Informer<Egress>;
  readonly #poolInformer: Informer<ExternalIPPool>;
  readonly #nodes: Informer<Node>;
  readonly #log: Logger;
  #synced = false;
  #stopped = false;
  #workers: Promise<void> | undefined;

  constructor(private readonly deps: EgressControllerDeps) {
    this.#log = deps.logger.child({ module: 'egress' });
    this.#egresses = deps.informers.informerFor<Egress>(egressGvr);
    this.#poolInformer = deps.informers.informerFor<ExternalIPPool>(externalIPPoolGvr);
    this.#nodes = deps.informers.informerFor<Node>(gvr.nodes);
  }

  get synced(): boolean {
    return this.#synced;
  }

  state(): { egresses: Record<string, { egressIP: string; egressNode: string }> } {
    const egresses: Record<string, { egressIP: string; egressNode: string }> = {};
    for (const e of this.#egresses.list()) egresses[e.metadata.name ?? ''] = { egressIP: e.spec?.egressIP ?? '', egressNode: e.status?.egressNode ?? '' };
    return { egresses };
  }

  start(): void {
    const enqueue = (e: Egress) => this.#queue.add(e.metadata.name ?? '');
    this.#egresses.addEventHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
    const poolChanged = (p: ExternalIPPool) => this.#enqueueAll(p.metadata.name);
    this.#poolInformer.addEventHandler({ onAdd: poolChanged, onUpdate: (_o, n) => poolChanged(n), onDelete: poolChanged });
    // Node labels and readiness move Egress IPs: every Egress is looked at again.
    this.#nodes.addEventHandler({
      onAdd: () => this.#enqueueAll(),
      onUpdate: (o, n) => {
        if (nodeIsReady(o) !== nodeIsReady(n) || JSON.stringify(o.metadata.labels ?? {}) !== JSON.stringify(n.metadata.labels ?? {}) || JSON.stringify(o.status?.addresses) !== JSON.stringify(n.status?.addresses)) this.#enqueueAll();
      },
      onDelete: () => this.#enqueueAll(),
    });
    this.deps.informers.start();
    void Promise.all([this.#egresses.waitForSync(), this.#poolInformer.waitForSync(), this.#nodes.waitForSync()])
      .then(() => {
        if (this.#stopped) return;
        this.#restore();
        this.#synced = true;
        this.#workers = runWorkers(this.#queue, 1, (key) => (key.startsWith(POOL_KEY) ? this.#syncPoolUsage(key.slice(POOL_KEY.length)) : this.#sync(key)), { logger: this.#log });
      })
      .catch((err: unknown) => this.#log.error('Egress controller did not start', { error: describeError(err) }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.shutDown();
    await this.#workers?.catch((err: unknown) => this.#log.error('workers ended with an error', { error: describeError(err) }));
  }

  #enqueueAll(pool?: string): void {
    for (const e of this.#egresses.list()) if (pool === undefined || e.spec?.externalIPPool === pool) this.#queue.add(e.metadata.name ?? '');
    if (pool !== undefined) this.#queue.add(POOL_KEY + pool);
  }

  /** Before any allocation: the IPs Egresses already hold are taken. */
  #restore(): void {
    for (const e of this.#egresses.list()) {
      const pool = e.spec?.externalIPPool;
      const ip = e.spec?.egressIP;
      if (pool && ip && !this.pools.occupy(pool, ip, e.metadata.name ?? '')) {
        this.#log.warn('two Egresses have the same IP from one pool', { egress: e.metadata.name, egressIP: ip, pool });
      }
    }
  }

  async #sync(name: string): Promise<void> {
    const eg = this.#egresses.getByName(undefined, name);
    if (!eg) {
      this.pools.release(name);
      for (const p of this.#poolInformer.list()) this.#queue.add(POOL_KEY + (p.metadata.name ?? ''));
      return;
    }
    const poolName = eg.spec?.externalIPPool;
    let ip = eg.spec?.egressIP ?? '';
    let node = '';
    if (poolName) {
      const pool = this.#poolInformer.getByName(undefined, poolName);
      if (!pool) {
        this.#log.warnOnce(`no-pool:${name}:${poolName}`, 'Egress names an ExternalIPPool that does not exist', { egress: name, pool: poolName });
        await this.#writeNode(eg, '');
        return;
      }
      if (!ip) {
        await this.#allocate(eg, pool);
        return;
      }
      if (!PoolAllocator.contains(pool, ip)) {
        this.#log.warnOnce(`outside:${name}:${ip}`, 'Egress IP is outside its ExternalIPPool: not placed', { egress: name, egressIP: ip, pool: poolName });
        ip = '';
      } else if (!this.pools.occupy(poolName, ip, name)) {
        this.#log.warnOnce(`dup:${name}:${ip}`, 'Egress IP is held by another Egress of the pool', { egress: name, egressIP: ip, pool: poolName });
      }
      this.#queue.add(POOL_KEY + poolName);
      if (ip) {
        const ring = new HashRing(this.#nodes.list().filter((n) => nodeIsReady(n) && matchesLabelSelector(pool.spec?.nodeSelector ?? {}, n.metadata.labels ?? {})).map((n) => n.metadata.name ?? ''));
        node = ring.get(ip) ?? '';
        if (!node) this.#log.warnOnce(`no-node:${name}`, 'no Ready Node matches the ExternalIPPool nodeSelector: the Egress IP has no Node', { egress: name, pool: poolName });
      }
    } else if (ip) {
      node = this.#nodes.list().find((n) => (n.status?.addresses ?? []).some((a) => a.address === ip))?.metadata.name ?? '';
      if (!node) this.#log.warnOnce(`static:${name}:${ip}`, 'no Node has the Egress IP configured: the Egress has no effect until one does', { egress: name, egressIP: ip });
    }
    await this.#writeNode(eg, node);
  }

  async #allocate(eg: Egress, pool: ExternalIPPool): Promise<void> {
    const name = eg.metadata.name ?? '';
    let ip: string;
    try {
      ip = this.pools.allocate(pool, name);
    } catch (err) {
      if (!isAntreaError(err, 'ERR_EGRESS_POOL_EXHAUSTED')) throw err;
      this.#log.error('cannot allocate an Egress IP: the pool is exhausted', { egress: name, pool: pool.metadata.name });
      return;
    }
    try {
      await this.deps.client.resource<Egress>(egressGvr).retryUpdate(name, (cur) => {
        if (cur.metadata.uid !== eg.metadata.uid || cur.spec.egressIP) throw new Skip();
        cur.spec.egressIP = ip;
      });
      this.#log.info('Egress IP allocated', { egress: name, egressIP: ip, pool: pool.metadata.name });
    } catch (err) {
      this.pools.release(name);
      if (err instanceof Skip || isApiError(err, 'NotFound')) return;
      throw err;
    }
  }

  async #writeNode(eg: Egress, node: string): Promise<void> {
    if ((eg.status?.egressNode ?? '') === node) return;
    const name = eg.metadata.name ?? '';
    try {
      await this.deps.client.resource<Egress>(egressGvr).retryUpdate(
        name,
        (cur) => {
          if (cur.metadata.uid !== eg.metadata.uid) throw new Skip();
          cur.status = { ...(cur.status ?? {}), egressNode: node };
        },
        { subresource: 'status' },
      );
      this.#log.info('Egress IP placed', { egress: name, egressIP: eg.spec?.egressIP, egressNode: node || '(none)' });
    } catch (err) {
      if (err instanceof Skip || isApiError(err, 'NotFound')) return;
      throw err;
    }
  }

  async #syncPoolUsage(poolName: string): Promise<void> {
    const pool = this.#poolInformer.getByName(undefined, poolName);
    if (!pool) return;
    const usage = { total: PoolAllocator.total(pool), used: this.pools.used(poolName) };
    if (pool.status?.usage?.total === usage.total && pool.status.usage.used === usage.used) return;
    try {
      await this.deps.client.resource<ExternalIPPool>(externalIPPoolGvr).retryUpdate(poolName, (cur) => void (cur.status = { ...(cur.status ?? {}), usage }), { subresource: 'status' });
    } catch (err) {
      if (!isApiError(err, 'NotFound')) throw err;
    }
  }
}
