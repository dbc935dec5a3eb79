/**
 * Our informer: list, then watch from the list's resourceVersion, keeping a local cache with indexes and telling
 * handlers what changed. Unlike client-node's, it never gives up:
 * - a 410 (Gone/Expired, as an ERROR event or as a failed request) re-lists and delivers the difference: adds,
 *   updates for objects whose resourceVersion changed, deletes for objects that vanished, and a delete then an add
 *   for an object re-created under the same name (new uid);
 * - any other failure, and a stream that closes before it was healthy, waits a jittered exponential backoff
 *   (100 ms doubling to 30 s by default, reset once a watch is healthy) and re-watches from the last seen RV;
 * - a watchdog restarts a watch that has been silent too long (bookmarks, which it asks for, count as activity);
 * - `stop()` ends the watch, the timers and the loop.
 */
import { gvrString, isStatus } from '../apis/meta.js';
import type { GroupVersionResource, KubeList, KubeObject, Status, WatchEvent } from '../apis/meta.js';
import type { ApiBackend, WatchHandle } from '../apiserver/types.js';
import { AntreaError, describeError } from '../util/errors.js';
import { silentLogger } from '../util/log.js';
import type { Logger } from '../util/log.js';
import { Backoff, Sleeper } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { NODE_NAME_INDEX, ObjectCache, deepFreeze, nodeNameIndexFunc, objectKey } from './cache.js';
import type { IndexFunc } from './cache.js';

export interface EventHandlers<T extends KubeObject = KubeObject> {
  /** `initialList` is true for objects of the first list (and for the replay to a handler added later). */
  onAdd?(obj: T, initialList: boolean): void;
  /** Also called on each periodic resync, with `oldObj === newObj`. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** The last state the informer knew. */
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends KubeObject = KubeObject> {
  gvr: GroupVersionResource;
  /** Omitted: all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** For logs. Default: the resource and namespace. */
  name?: string;
  logger?: Logger;
  /** Re-deliver every cached object as an update this often; 0 (default) turns it off. */
  resyncPeriodMs?: number;
  /** Delays between failed attempts. Default 100 ms doubling to 30 s, 20 % jitter. */
  backoff?: BackoffOptions;
  /** Restart a watch that delivered nothing (bookmarks included) for this long; 0 turns it off. Default 5 min. */
  watchdogMs?: number;
  /** Server-side watch lifetime asked for. Default: random in [300, 600) s, as client-go reflectors do; 0: none. */
  watchTimeoutSeconds?: number;
  /** A watch that lasted this long, or delivered anything, is healthy: the backoff resets. Default 1 s. */
  healthyWatchMs?: number;
  /** List in pages of this size (following `continue`); default: one request. */
  listPageSize?: number;
  /** Extra indexes, by name. `namespace` always exists; `nodeName` (spec.nodeName) is added by default. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Freeze cached objects (default true): handlers and readers share them and must copy before changing. */
  freeze?: boolean;
}

/** How one watch ended. */
type WatchOutcome =
  | { kind: 'closed'; healthy: boolean }
  | { kind: 'expired'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'stalled' }
  | { kind: 'stopped' };

export interface InformerStats {
  lists: number;
  watches: number;
  /** Re-lists after a 410. */
  relists: number;
  /** Watches ended by an error (not counting 410s). */
  watchErrors: number;
  listErrors: number;
  /** Watches restarted by the watchdog. */
  stalls: number;
  handlerErrors: number;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly gvr: GroupVersionResource;
  readonly name: string;
  readonly stats: InformerStats = { lists: 0, watches: 0, relists: 0, watchErrors: 0, listErrors: 0, stalls: 0, handlerErrors: 0 };
  private readonly cache: ObjectCache<T>;
  private readonly handlers = new Set<EventHandlers<T>>();
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly sleeper = new Sleeper();
  private resourceVersion = '';
  private needList = true;
  private synced = false;
  private started = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private abortWatch: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly syncWaiters = new Set<{ resolve: () => void; reject: (err: Error) => void }>();

  constructor(
    private readonly client: ApiBackend,
    private readonly opts: InformerOptions<T>,
  ) {
    this.gvr = opts.gvr;
    this.name = opts.name ?? `${gvrString(opts.gvr)}${opts.namespace ? ` in ${opts.namespace}` : ''}`;
    this.log = (opts.logger ?? silentLogger).child({ informer: this.name });
    this.backoff = new Backoff(opts.backoff);
    this.cache = new ObjectCache<T>({ freeze: opts.freeze ?? true });
    this.cache.addIndexer(NODE_NAME_INDEX, nodeNameIndexFunc as IndexFunc<T>);
    for (const [name, fn] of Object.entries(opts.indexers ?? {})) this.cache.addIndexer(name, fn);
  }

  /** Registers handlers; if the cache is already filled, `onAdd` is called at once for every cached object. */
  addEventHandler(handlers: EventHandlers<T>): () => void {
    this.handlers.add(handlers);
    if (this.synced && handlers.onAdd) {
      for (const obj of this.cache.list()) this.call(() => handlers.onAdd?.(obj, true));
    }
    return () => this.handlers.delete(handlers);
  }

  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.cache.addIndexer(name, fn);
  }

  byIndex(name: string, value: string): T[] {
    return this.cache.byIndex(name, value);
  }

  /** `namespace/name`, or `name` for cluster-scoped objects. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.cache.getByName(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.cache.list(namespace);
  }

  keys(): string[] {
    return this.cache.keys();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion of the last list or event seen. */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Resolves once the first list is in the cache; rejects if the informer stops first or `timeoutMs` passes. */
  waitForSync(timeoutMs?: number): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(stoppedError(this.name));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
        reject: (err: Error) => {
          if (timer) clearTimeout(timer);
          reject(err);
        },
      };
      this.syncWaiters.add(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.syncWaiters.delete(waiter);
          reject(new AntreaError('ERR_INFORMER_SYNC_TIMEOUT', `informer ${this.name} did not sync within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Starts listing and watching; returns at once. Calling it again does nothing. */
  start(): this {
    if (this.started || this.stopped) return this;
    this.started = true;
    this.loop = this.run().catch((err: unknown) => {
      this.log.error('informer loop failed', { error: describeError(err) });
    });
    const period = this.opts.resyncPeriodMs ?? 0;
    if (period > 0) this.resyncTimer = setInterval(() => this.resync(), period);
    return this;
  }

  /** Ends the watch, the timers and the loop. Resolves once nothing is left running. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loop;
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    this.abortWatch?.();
    this.sleeper.cancel();
    for (const w of this.syncWaiters) w.reject(stoppedError(this.name));
    this.syncWaiters.clear();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.needList) {
        if (!(await this.listAndReplace())) {
          await this.pause();
          continue;
        }
        if (this.stopped) break;
      }
      const outcome = await this.watchOnce();
      switch (outcome.kind) {
        case 'stopped':
          return;
        case 'closed':
          // A server-side timeout of a healthy watch: re-watch from the last RV at once. A stream that keeps
          // closing as soon as it opens backs off instead.
          if (!outcome.healthy) {
            this.log.debug('watch closed before it was healthy', { resourceVersion: this.resourceVersion });
            await this.pause();
          }
          break;
        case 'stalled':
          this.stats.stalls++;
          this.log.warn('watch silent too long, restarting it', { watchdogMs: this.opts.watchdogMs ?? 300_000 });
          break;
        case 'expired':
          this.stats.relists++;
          this.log.info('watch resourceVersion expired, re-listing', { message: outcome.message });
          this.needList = true;
          await this.pause();
          break;
        case 'error':
          this.stats.watchErrors++;
          this.log.warn('watch failed', { error: outcome.message, attempt: this.backoff.attempts + 1 });
          await this.pause();
          break;
      }
    }
  }

  /** Waits the next backoff delay (cut short by `stop()`). */
  private async pause(): Promise<void> {
    if (this.stopped) return;
    await this.sleeper.sleep(this.backoff.next());
  }

  private async listAndReplace(): Promise<boolean> {
    this.stats.lists++;
    let list: KubeList<T>;
    try {
      list = await this.listAll();
    } catch (err) {
      this.stats.listErrors++;
      this.log.warn('list failed', { error: describeError(err), attempt: this.backoff.attempts + 1 });
      return false;
    }
    if (this.stopped) return true;
    this.replace(list);
    return true;
  }

  private async listAll(): Promise<KubeList<T>> {
    const base = this.selectors();
    const limit = this.opts.listPageSize;
    const first = await this.client.list<T>(this.gvr, { ...base, ...(limit ? { limit } : {}) });
    let token = limit ? first.metadata.continue : undefined;
    while (token) {
      const page = await this.client.list<T>(this.gvr, { ...base, limit, continue: token });
      first.items.push(...page.items);
      token = page.metadata.continue;
    }
    return first;
  }

  /** Makes the cache equal to `list`, telling handlers the difference. */
  private replace(list: KubeList<T>): void {
    const initial = !this.synced;
    const seen = new Set<string>();
    for (const item of list.items) {
      const obj = withTypeMeta(item, list);
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (!old) {
        this.cache.upsert(obj);
        this.emitAdd(obj, initial);
      } else if (old.metadata.uid && obj.metadata.uid && old.metadata.uid !== obj.metadata.uid) {
        // Deleted and re-created under the same name while we were not watching: another object, not an update.
        this.cache.upsert(obj);
        this.emitDelete(old);
        this.emitAdd(obj, false);
      } else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
        this.cache.upsert(obj);
        this.emitUpdate(old, obj);
      }
    }
    for (const key of this.cache.keys()) {
      if (seen.has(key)) continue;
      const old = this.cache.remove(key);
      if (old) this.emitDelete(old);
    }
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    this.needList = false;
    if (!this.synced) {
      this.synced = true;
      this.log.debug('synced', { objects: this.cache.size, resourceVersion: this.resourceVersion });
      for (const w of this.syncWaiters) w.resolve();
      this.syncWaiters.clear();
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    this.stats.watches++;
    const watchdogMs = this.opts.watchdogMs ?? 300_000;
    const healthyMs = this.opts.healthyWatchMs ?? 1000;
    const startedAt = Date.now();
    let delivered = false;
    return new Promise<WatchOutcome>((resolve) => {
      let settled = false;
      let handle: WatchHandle | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      const finish = (outcome: WatchOutcome): void => {
        if (settled) return;
        settled = true;
        if (watchdog) clearTimeout(watchdog);
        this.abortWatch = undefined;
        handle?.stop();
        if (delivered || Date.now() - startedAt >= healthyMs) this.backoff.reset();
        resolve(outcome);
      };
      const arm = (): void => {
        if (watchdog) clearTimeout(watchdog);
        if (watchdogMs > 0) watchdog = setTimeout(() => finish({ kind: 'stalled' }), watchdogMs);
      };
      this.abortWatch = () => finish({ kind: 'stopped' });
      arm();
      try {
        handle = this.client.watch<T>(
          this.gvr,
          { ...this.selectors(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, ...this.timeout() },
          (event) => {
            if (settled) return;
            arm();
            let outcome: WatchOutcome | undefined;
            try {
              outcome = this.handleEvent(event);
            } catch (err) {
              // Not expected (handlers are isolated in `call`); never lose an event silently: restart from the last RV.
              outcome = { kind: 'error', message: `processing a watch event failed: ${describeError(err)}` };
            }
            if (outcome) finish(outcome);
            else delivered = true;
          },
        );
      } catch (err) {
        finish(failure(err));
        return;
      }
      if (settled) {
        handle.stop();
        return;
      }
      handle.done.then(
        () => finish({ kind: 'closed', healthy: delivered || Date.now() - startedAt >= healthyMs }),
        (err: unknown) => finish(failure(err)),
      );
    });
  }

  /** Applies one event to the cache; returns an outcome when the event ends the watch. */
  private handleEvent(event: WatchEvent<T>): WatchOutcome | undefined {
    const { object } = event;
    if (event.type === 'ERROR' || isStatus(object)) {
      const status = isStatus(object) ? object : undefined;
      return statusOutcome(status);
    }
    const rv = object.metadata?.resourceVersion;
    if (event.type !== 'BOOKMARK' && typeof object.metadata?.name !== 'string') {
      this.log.warnOnce('malformed-event', 'ignoring a watch event whose object has no metadata.name', { type: event.type });
      if (rv) this.resourceVersion = rv;
      return undefined;
    }
    switch (event.type) {
      case 'BOOKMARK':
        break;
      case 'ADDED':
      case 'MODIFIED': {
        const old = this.cache.upsert(object);
        if (old) this.emitUpdate(old, object);
        else this.emitAdd(object, false);
        break;
      }
      case 'DELETED': {
        this.cache.remove(objectKey(object));
        this.emitDelete(this.opts.freeze === false ? object : deepFreeze(object));
        break;
      }
      default:
        this.log.warnOnce(`event-type-${String(event.type)}`, 'ignoring watch event of unknown type', { type: event.type });
    }
    if (rv) this.resourceVersion = rv;
    return undefined;
  }

  private resync(): void {
    if (!this.synced || this.stopped) return;
    for (const obj of this.cache.list()) this.emitUpdate(obj, obj);
  }

  private emitAdd(obj: T, initial: boolean): void {
    for (const h of this.handlers) if (h.onAdd) this.call(() => h.onAdd?.(obj, initial));
  }

  private emitUpdate(oldObj: T, newObj: T): void {
    for (const h of this.handlers) if (h.onUpdate) this.call(() => h.onUpdate?.(oldObj, newObj));
  }

  private emitDelete(obj: T): void {
    for (const h of this.handlers) if (h.onDelete) this.call(() => h.onDelete?.(obj));
  }

  /** A failing handler is logged; it neither stops the informer nor the other handlers. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.stats.handlerErrors++;
      this.log.error('event handler failed', { error: describeError(err) });
    }
  }

  private selectors(): { namespace?: string; labelSelector?: string; fieldSelector?: string } {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    return {
      ...(namespace ? { namespace } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    };
  }

  private timeout(): { timeoutSeconds?: number } {
    const t = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    return t > 0 ? { timeoutSeconds: t } : {};
  }
}

function statusOutcome(status: Status | undefined): WatchOutcome {
  const message = status?.message ?? 'watch ERROR event without a Status';
  return status?.code === 410 ? { kind: 'expired', message } : { kind: 'error', message: `${status?.code ?? '?'} ${message}` };
}

function failure(err: unknown): WatchOutcome {
  const status = (err as { status?: unknown } | null)?.status;
  if (isStatus(status)) return statusOutcome(status);
  return { kind: 'error', message: describeError(err) };
}

/** Built-in lists omit kind/apiVersion on items; fill them in from the list so every cached object has them. */
function withTypeMeta<T extends KubeObject>(item: T, list: KubeList<T>): T {
  if (item.kind && item.apiVersion) return item;
  const kind = item.kind ?? (list.kind?.endsWith('List') && list.kind !== 'List' ? list.kind.slice(0, -4) : undefined);
  const apiVersion = item.apiVersion ?? list.apiVersion;
  return { ...item, ...(kind ? { kind } : {}), ...(apiVersion ? { apiVersion } : {}) };
}

function stoppedError(name: string): AntreaError {
  return new AntreaError('ERR_INFORMER_STOPPED', `informer ${name} stopped before it synced`);
}
