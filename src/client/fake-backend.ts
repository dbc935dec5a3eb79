/**
 * A small in-memory `ApiBackend` for unit tests of the client side, with fault injection: compaction (watches from
 * an older resourceVersion get an ERROR 410 event), failing watches and lists, streams that close or go silent.
 * Not a second API server: no validation, label selectors only as `k=v` conjunctions, merge patch only.
 */
import { gvrString } from '../apis/meta.js';
import type { GroupVersionResource, KubeList, KubeObject, Status, WatchEvent } from '../apis/meta.js';
import { ApiError } from '../apiserver/types.js';
import type { ApiBackend, DeleteOptions, ListOptions, PatchType, WatchHandle, WatchOptions } from '../apiserver/types.js';
import { cacheKey } from './cache.js';

interface Watcher {
  gvr: string;
  opts: WatchOptions;
  onEvent: (event: WatchEvent) => void;
  end: (err?: unknown) => void;
}

interface Recorded {
  gvr: string;
  rv: number;
  event: WatchEvent;
}

export class FakeBackend implements ApiBackend {
  private revision = 1;
  private compactedAt = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: Recorded[] = [];
  private readonly watchers = new Set<Watcher>();
  private watchFailures: ApiError[] = [];
  private listFailures: ApiError[] = [];
  /** While true, events are recorded but not sent to open watches (a stalled stream). */
  silent = false;
  listCalls = 0;
  watchCalls = 0;
  readonly watchOptions: WatchOptions[] = [];

  get openWatches(): number {
    return this.watchers.size;
  }

  get currentRevision(): string {
    return String(this.revision);
  }

  /** Forgets history: watches from an older resourceVersion are answered with ERROR 410 Expired. */
  compact(): void {
    this.compactedAt = this.revision;
  }

  /** The next `n` watch requests fail at once with `err` (default 500 InternalError). */
  failWatches(n: number, err: ApiError = ApiError.of('InternalError', 'injected watch failure')): void {
    for (let i = 0; i < n; i++) this.watchFailures.push(err);
  }

  failLists(n: number, err: ApiError = ApiError.of('ServiceUnavailable', 'injected list failure')): void {
    for (let i = 0; i < n; i++) this.listFailures.push(err);
  }

  /** Drops the injected failures not yet used. */
  clearFailures(): void {
    this.watchFailures = [];
    this.listFailures = [];
  }

  /** Ends every open watch: cleanly, or with `err`. */
  closeWatches(err?: unknown): void {
    for (const w of [...this.watchers]) w.end(err);
  }

  /** Sends an ERROR event with `status` to every open watch, then ends it (what a real server does). */
  errorWatches(status: Status): void {
    for (const w of [...this.watchers]) {
      w.onEvent({ type: 'ERROR', object: status });
      w.end();
    }
  }

  bookmark(): void {
    for (const w of this.watchers) {
      w.onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.revision) } } });
    }
  }

  /** Writes without a watch event ever being sent (as if the event was lost before compaction). */
  writeSilently(gvr: GroupVersionResource, obj: KubeObject): void {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.revision);
    stored.metadata.uid ??= `uid-${this.revision}`;
    this.collection(gvr).set(cacheKey(stored.metadata.namespace, stored.metadata.name ?? ''), stored);
  }

  deleteSilently(gvr: GroupVersionResource, namespace: string | undefined, name: string): void {
    ++this.revision;
    this.collection(gvr).delete(cacheKey(namespace, name));
  }

  async list<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: ListOptions = {}): Promise<KubeList<T>> {
    this.listCalls++;
    const failure = this.listFailures.shift();
    if (failure) throw failure;
    const items = [...this.collection(gvr).values()].filter((o) => matches(o, opts)).map((o) => structuredClone(o) as T);
    return { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.revision) }, items };
  }

  async get<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<T> {
    const obj = this.collection(gvr).get(cacheKey(namespace, name));
    if (!obj) throw ApiError.of('NotFound', `${gvr.resource} "${name}" not found`, { name, kind: gvr.resource });
    return structuredClone(obj) as T;
  }

  async create<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T): Promise<T> {
    const key = cacheKey(namespace, obj.metadata.name ?? '');
    if (this.collection(gvr).has(key)) {
      throw ApiError.of('AlreadyExists', `${gvr.resource} "${obj.metadata.name}" already exists`, { name: obj.metadata.name, kind: gvr.resource });
    }
    const stored = structuredClone(obj);
    stored.metadata = { ...stored.metadata, ...(namespace ? { namespace } : {}), uid: `uid-${this.revision + 1}` };
    return this.write(gvr, 'ADDED', stored) as T;
  }

  async update<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T): Promise<T> {
    const current = await this.get(gvr, namespace, obj.metadata.name ?? '');
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw ApiError.of('Conflict', `Operation cannot be fulfilled on ${gvr.resource} "${obj.metadata.name}": the object has been modified`);
    }
    const stored = structuredClone(obj);
    stored.metadata = { ...stored.metadata, ...(namespace ? { namespace } : {}), uid: current.metadata.uid };
    return this.write(gvr, 'MODIFIED', stored) as T;
  }

  async patch<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
  ): Promise<T> {
    if (type !== 'merge') throw ApiError.of('UnsupportedMediaType', `the fake backend only does merge patches, not ${type}`);
    const current = await this.get(gvr, namespace, name);
    const merged = mergePatch(current, patch) as T;
    merged.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.update(gvr, namespace, merged);
  }

  async delete<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string, _opts?: DeleteOptions): Promise<T> {
    const current = await this.get(gvr, namespace, name);
    this.collection(gvr).delete(cacheKey(namespace, name));
    current.metadata.resourceVersion = String(++this.revision);
    this.record(gvr, 'DELETED', current);
    return current as T;
  }

  watch<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    this.watchCalls++;
    this.watchOptions.push({ ...opts });
    let finish!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      finish = (err?: unknown) => (err === undefined ? resolve() : reject(err));
    });
    const failure = this.watchFailures.shift();
    if (failure) {
      finish(failure);
      return { stop: () => undefined, done };
    }
    const watcher: Watcher = {
      gvr: gvrString(gvr),
      opts,
      onEvent: onEvent as (event: WatchEvent) => void,
      end: (err?: unknown) => {
        if (!this.watchers.delete(watcher)) return;
        finish(err);
      },
    };
    this.watchers.add(watcher);
    const from = opts.resourceVersion ? Number(opts.resourceVersion) : undefined;
    if (from !== undefined && from < this.compactedAt) {
      onEvent({ type: 'ERROR', object: ApiError.of('Expired', `too old resource version: ${from} (${this.compactedAt})`).status });
      watcher.end();
    } else if (from === undefined) {
      for (const o of this.collection(gvr).values()) if (matches(o, opts)) onEvent({ type: 'ADDED', object: structuredClone(o) as T });
    } else {
      for (const r of this.history) {
        if (r.gvr === watcher.gvr && r.rv > from && eventMatches(r.event, opts)) onEvent(structuredClone(r.event) as WatchEvent<T>);
      }
    }
    return { stop: () => watcher.end(), done };
  }

  private write(gvr: GroupVersionResource, type: 'ADDED' | 'MODIFIED', obj: KubeObject): KubeObject {
    obj.metadata.resourceVersion = String(++this.revision);
    this.collection(gvr).set(cacheKey(obj.metadata.namespace, obj.metadata.name ?? ''), obj);
    this.record(gvr, type, obj);
    return structuredClone(obj);
  }

  private record(gvr: GroupVersionResource, type: WatchEvent['type'], obj: KubeObject): void {
    const event: WatchEvent = { type, object: structuredClone(obj) };
    const key = gvrString(gvr);
    this.history.push({ gvr: key, rv: this.revision, event });
    if (this.silent) return;
    for (const w of this.watchers) if (w.gvr === key && eventMatches(event, w.opts)) w.onEvent(structuredClone(event));
  }

  private collection(gvr: GroupVersionResource): Map<string, KubeObject> {
    const key = gvrString(gvr);
    let c = this.objects.get(key);
    if (!c) this.objects.set(key, (c = new Map()));
    return c;
  }
}

function eventMatches(event: WatchEvent, opts: ListOptions): boolean {
  return event.object.kind === 'Status' || matches(event.object as KubeObject, opts);
}

function matches(obj: KubeObject, opts: ListOptions): boolean {
  if (opts.namespace && obj.metadata.namespace !== opts.namespace) return false;
  for (const term of (opts.labelSelector ?? '').split(',').filter(Boolean)) {
    const [k, v] = term.split('=');
    if ((obj.metadata.labels ?? {})[k ?? ''] !== v) return false;
  }
  return true;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
