/**
 * `SharedInformerFactory`: one informer per (resource, namespace, selectors) for a whole process, so the modules of
 * the controller or of an agent that watch the same thing share one watch and one cache.
 */
import { gvrString } from '../apis/meta.js';
import type { GroupVersionResource, KubeObject } from '../apis/meta.js';
import type { ApiBackend } from '../apiserver/types.js';
import type { Logger } from '../util/log.js';
import { Informer } from './informer.js';
import type { InformerOptions } from './informer.js';

export interface InformerScope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Options every informer of the factory gets (per-informer scope aside). */
export type SharedInformerDefaults = Omit<InformerOptions, 'gvr' | 'namespace' | 'labelSelector' | 'fieldSelector' | 'indexers' | 'name'>;

export class SharedInformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;
  private stopped = false;

  constructor(
    private readonly client: ApiBackend,
    private readonly defaults: SharedInformerDefaults & { logger?: Logger } = {},
  ) {}

  /**
   * The shared informer for `gvr` in `scope`, created on first use. Created after `start()`, it starts at once.
   * Indexers are per informer: add them with `informer.addIndexer` (names must not clash between modules).
   */
  informerFor<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, scope: InformerScope = {}): Informer<T> {
    const key = informerKey(gvr, scope);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>(this.client, { ...this.defaults, ...scope, gvr });
      this.informers.set(key, informer);
      if (this.stopped) void informer.stop();
      else if (this.started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** Starts every informer made so far, and every one made later. */
  start(): void {
    if (this.stopped) return;
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  /** Resolves once every informer made so far has synced; rejects after `timeoutMs` or if one stops first. */
  async waitForCacheSync(timeoutMs?: number): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(timeoutMs)));
  }

  list(): Informer<KubeObject>[] {
    return [...this.informers.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

function informerKey(gvr: GroupVersionResource, scope: InformerScope): string {
  return JSON.stringify([gvrString(gvr), scope.namespace ?? '', scope.labelSelector ?? '', scope.fieldSelector ?? '']);
}
