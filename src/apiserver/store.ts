/**
 * The object store behind the local API server: the `ApiBackend` with Kubernetes semantics.
 *
 * - Objects are kept per type (`group/plural`), per namespace, per name, frozen; callers get copies from
 *   get/list/create/update/patch/delete, and watchers get the shared frozen object.
 * - One resourceVersion counter for the whole store, incremented on every write, sent as a string.
 * - Every check runs before anything changes: a rejected request leaves the store (and the disk) untouched. That
 *   includes a type's admission hook (`ResourceDef.admit`), which reads other objects through an `AdmissionView`.
 * - Watchers are indexed by type, then by the value of an indexed field they pin (`spec.nodeName=n1`,
 *   `metadata.name=x`), else by namespace, else in a catch-all set. A write visits only the buckets its old and new
 *   object fall in, so its cost follows the watchers that could care, not the number of watchers or objects.
 * - A bounded history of events per type serves watches from a resourceVersion; older is 410 Expired. Per type,
 *   so heavy Pod churn does not expire the resourceVersion of a Node watcher, as with kube-apiserver's watch cache.
 * - With `dataDir`, writes are logged durably before they are applied (see persist.ts).
 */
import { randomUUID } from 'node:crypto';
import type { GroupVersionResource, KubeList, KubeObject, Status, WatchEvent } from '../apis/meta.js';
import { type Selector, everything, parseSelector, SelectorParseError } from '../apis/labels.js';
import { fieldErrorMessage, invalidStatus, type FieldError } from '../apis/validation.js';
import { createLogger, type Logger } from '../util/log.js';
import { describeError } from '../util/errors.js';
import { type FieldSelector, parseFieldSelector } from './fields.js';
import { clone, jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { copyJson, deepEqual, deepFreeze, nowTimestamp, randomSuffix } from './objects.js';
import { Persistence, type StoredEntry } from './persist.js';
import { type AdmissionOperation, type AdmissionView, type ResourceDef, Registry, apiVersionOf, defaultResources, grKey, type Verb } from './registry.js';
import {
  ApiError,
  type ApiBackend,
  type DeleteOptions,
  type ListOptions,
  type PatchType,
  type WatchHandle,
  type WatchOptions,
  type WriteOptions,
} from './types.js';

export interface StoreOptions {
  /** Types served; default `defaultResources()`. */
  resources?: Iterable<ResourceDef> | Registry;
  /** Persist to this directory (created if missing); state survives restarts. */
  dataDir?: string;
  /** Events kept per type for watches from a resourceVersion (default 10 000). */
  historySize?: number;
  logger?: Logger;
  /** fdatasync every write before acknowledging it (default true; only with dataDir). */
  fsync?: boolean;
  /** Log records between snapshots (default 5000; only with dataDir). */
  compactEvery?: number;
  /** Interval of BOOKMARK events for watches that allow them (default 60 s). */
  bookmarkIntervalMs?: number;
  /** Namespaces created in an empty store (default default, kube-system, kube-public, kube-node-lease). */
  bootstrapNamespaces?: readonly string[];
  /** How long a `continue` token stays valid (default 5 min). */
  continueTtlMs?: number;
}

export interface StoreStats {
  objects: number;
  watchers: number;
  history: number;
  resourceVersion: string;
}

export interface Store extends ApiBackend {
  readonly registry: Registry;
  /** The current store revision. */
  resourceVersion(): string;
  deleteCollection<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts?: ListOptions & DeleteOptions): Promise<KubeList<T>>;
  stats(): StoreStats;
  /** For the HTTP layer: a list's frozen objects (no copies, stored apiVersion) plus list metadata. */
  listRaw(gvr: GroupVersionResource, opts?: ListOptions): { def: ResourceDef; items: KubeObject[]; rv: string; cont?: string; remaining?: number };
  /** Stops every watch and, with a dataDir, writes a final snapshot and closes the files. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------- internal shapes

interface TypeTable {
  def: ResourceDef;
  /** namespace ('' for cluster-scoped) -> name -> frozen object */
  byNs: Map<string, Map<string, KubeObject>>;
  /** indexed field -> value -> `ns/name` -> object */
  index: Map<string, Map<string, Map<string, KubeObject>>>;
  size: number;
}

interface HistoryEvent {
  rv: number;
  gr: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  old: KubeObject | undefined;
  obj: KubeObject;
}

interface Watcher {
  gr: string;
  def: ResourceDef;
  apiVersion: string;
  namespace: string | undefined;
  labels: Selector;
  fields: FieldSelector;
  onEvent: (e: WatchEvent) => void;
  queue: WatchEvent[] | null;
  stopped: boolean;
  bucket: Set<Watcher> | undefined;
  /** Events at or below this revision reached the watcher through its initial state or replay. */
  sinceRv: number;
  finish: () => void;
}

interface WatchIndex {
  all: Set<Watcher>;
  byNs: Map<string, Set<Watcher>>;
  byField: Map<string, Map<string, Set<Watcher>>>;
}

interface ListSnapshot {
  items: KubeObject[];
  rv: string;
  expires: number;
}

/** A ring buffer of events with strictly increasing resourceVersions. */
class History {
  private readonly buf: (HistoryEvent | undefined)[];
  private start = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.buf = new Array<HistoryEvent | undefined>(Math.max(1, capacity));
  }
  /** Adds an event; returns the one that fell out, if any. */
  push(e: HistoryEvent): HistoryEvent | undefined {
    if (this.capacity <= 0) return e;
    if (this.size < this.capacity) {
      this.buf[(this.start + this.size) % this.capacity] = e;
      this.size++;
      return undefined;
    }
    const out = this.buf[this.start];
    this.buf[this.start] = e;
    this.start = (this.start + 1) % this.capacity;
    return out;
  }
  at(i: number): HistoryEvent {
    return this.buf[(this.start + i) % this.capacity]!;
  }
  /** Events with rv > after, oldest first. */
  *after(after: number): Generator<HistoryEvent> {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).rv <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.size; i++) yield this.at(i);
  }
}

const objKey = (ns: string, name: string) => `${ns}/${name}`;

function statusOf(reason: Status['reason'], code: number, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** `pods` or `traceflows.crd.antrea.io`, as Kubernetes names a resource in messages. */
export function qualifiedResource(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

export function notFound(def: ResourceDef, name: string): ApiError {
  return ApiError.of('NotFound', `${qualifiedResource(def)} "${name}" not found`, { name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
}

function conflict(def: ResourceDef, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return ApiError.of('Conflict', `Operation cannot be fulfilled on ${qualifiedResource(def)} "${name}": ${why}`, {
    name,
    ...(def.group ? { group: def.group } : {}),
    kind: def.plural,
  });
}

function invalidError(def: ResourceDef, name: string, errs: readonly FieldError[]): ApiError {
  return new ApiError(invalidStatus(def.kind, name, errs, def.group));
}

/** A delete refused by admission: `tiers.crd.antrea.io "t" is forbidden: <the hook's reasons>`. */
function forbiddenError(def: ResourceDef, name: string, errs: readonly FieldError[]): ApiError {
  const why = errs.map((e) => e.detail ?? fieldErrorMessage(e)).join('; ');
  return ApiError.of('Forbidden', `${qualifiedResource(def)} "${name}" is forbidden: ${why}`, { name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
}

/** The message prefix of a request refused because a type hook threw (a bug the fuzz tests look for). */
export const unexpectedShape = 'the object has a shape the server cannot process for';

const unknownResource = () => ApiError.of('NotFound', 'the server could not find the requested resource');

// ---------------------------------------------------------------- the store

class MemoryStore implements Store {
  readonly registry: Registry;
  private readonly tables = new Map<string, TypeTable>();
  /** Objects of types no longer registered, loaded from disk: kept so they are not lost on compaction. */
  private readonly orphans = new Map<string, StoredEntry>();
  private readonly watchIdx = new Map<string, WatchIndex>();
  private readonly watchers = new Set<Watcher>();
  /** Per type: its recent events, and the newest resourceVersion no longer among them (older watches: 410). */
  private readonly histories = new Map<string, { events: History; compactedRv: number }>();
  private readonly historySize: number;
  private readonly snapshots = new Map<string, ListSnapshot>();
  private readonly log: Logger;
  private readonly persistence: Persistence | undefined;
  private readonly bookmarkIntervalMs: number;
  private readonly continueTtlMs: number;
  private rv = 0;
  private dispatching = false;
  /** What admission hooks read: the stored objects, before the write being admitted. */
  private readonly admissionView: AdmissionView;
  private readonly pendingDispatch: [TypeTable, HistoryEvent][] = [];
  /** The revision the store started from: nothing before it can be replayed (after a restart, the loaded RV). */
  private baseRv = 0;
  private closed = false;

  constructor(opts: StoreOptions) {
    this.registry = opts.resources instanceof Registry ? opts.resources : new Registry(opts.resources ?? defaultResources());
    this.log = opts.logger ?? createLogger({ level: 'warn' });
    this.historySize = opts.historySize ?? 10_000;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 60_000;
    this.continueTtlMs = opts.continueTtlMs ?? 5 * 60_000;
    this.admissionView = {
      get: (group, resource, name, namespace) => {
        const t = this.tables.get(grKey(group, resource));
        return t ? this.getObj(t, t.def.namespaced ? (namespace ?? '') : '', name) : undefined;
      },
      list: (group, resource, namespace) => {
        const t = this.tables.get(grKey(group, resource));
        if (!t) return [];
        if (namespace !== undefined && t.def.namespaced) return t.byNs.get(namespace)?.values() ?? [];
        return this.allOf(t);
      },
    };
    for (const def of this.registry.all()) this.tableFor(def);
    let fresh = true;
    if (opts.dataDir) {
      this.persistence = new Persistence({ dataDir: opts.dataDir, logger: this.log, fsync: opts.fsync, compactEvery: opts.compactEvery });
      const state = this.persistence.load();
      this.rv = state.resourceVersion;
      this.baseRv = this.rv;
      for (const [key, e] of state.objects) {
        const table = this.tables.get(e.gr);
        if (!table) {
          this.orphans.set(key, e);
          continue;
        }
        this.put(table, deepFreeze(e.obj));
      }
      if (this.orphans.size > 0) this.log.warn('store holds objects of types that are not registered; keeping them untouched', { count: this.orphans.size });
      fresh = state.resourceVersion === 0;
      this.log.info('store loaded', { dataDir: opts.dataDir, objects: state.objects.size, resourceVersion: this.rv });
    }
    if (fresh && this.tables.has(grKey('', 'namespaces'))) {
      const nsGvr = { group: '', version: 'v1', resource: 'namespaces' };
      for (const name of opts.bootstrapNamespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
        this.createSync(nsGvr, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, {});
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private tableFor(def: ResourceDef): TypeTable {
    const key = grKey(def.group, def.plural);
    let t = this.tables.get(key);
    if (!t) {
      t = { def, byNs: new Map(), index: new Map(def.indexedFields.map((f) => [f, new Map()])), size: 0 };
      this.tables.set(key, t);
    }
    return t;
  }

  private resolve(gvr: GroupVersionResource, verb: Verb): { def: ResourceDef; table: TypeTable; apiVersion: string } {
    if (this.closed) throw ApiError.of('ServiceUnavailable', 'the store is closed');
    const def = this.registry.lookup(gvr);
    if (!def) throw unknownResource();
    if (!def.verbs.includes(verb)) throw ApiError.of('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    return { def, table: this.tableFor(def), apiVersion: apiVersionOf(def.group, gvr.version) };
  }

  private nsOf(def: ResourceDef, namespace: string | undefined): string {
    return def.namespaced ? (namespace ?? '') : '';
  }

  private getObj(table: TypeTable, ns: string, name: string): KubeObject | undefined {
    return table.byNs.get(ns)?.get(name);
  }

  private fieldValue(def: ResourceDef, field: string, obj: KubeObject): string {
    return def.fields[field]?.(obj) ?? '';
  }

  private put(table: TypeTable, obj: KubeObject): KubeObject | undefined {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name!;
    let m = table.byNs.get(ns);
    if (!m) table.byNs.set(ns, (m = new Map()));
    const old = m.get(name);
    m.set(name, obj);
    if (!old) table.size++;
    for (const [field, idx] of table.index) {
      const k = objKey(ns, name);
      if (old) {
        const ov = this.fieldValue(table.def, field, old);
        const ob = idx.get(ov);
        ob?.delete(k);
        if (ob?.size === 0) idx.delete(ov);
      }
      const v = this.fieldValue(table.def, field, obj);
      let b = idx.get(v);
      if (!b) idx.set(v, (b = new Map()));
      b.set(k, obj);
    }
    return old;
  }

  private remove(table: TypeTable, obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name!;
    const m = table.byNs.get(ns);
    // Index entries are keyed by the stored object's field values, which the final state may not share.
    const stored = m?.get(name);
    if (!m || !stored) return;
    m.delete(name);
    obj = stored;
    table.size--;
    if (m.size === 0) table.byNs.delete(ns);
    for (const [field, idx] of table.index) {
      const v = this.fieldValue(table.def, field, obj);
      const b = idx.get(v);
      b?.delete(objKey(ns, name));
      if (b?.size === 0) idx.delete(v);
    }
  }

  /** A copy of a stored object, in the requested version. */
  private out<T extends KubeObject>(obj: KubeObject, apiVersion: string): T {
    const c = copyJson(obj) as T;
    c.apiVersion = apiVersion;
    return c;
  }

  /** The shared frozen object in the requested version (for watchers). */
  private view(obj: KubeObject, apiVersion: string): KubeObject {
    return obj.apiVersion === apiVersion ? obj : Object.freeze({ ...obj, apiVersion });
  }

  private checkBody(def: ResourceDef, obj: unknown): asserts obj is KubeObject {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw ApiError.of('BadRequest', 'the body of the request must be a JSON object');
    const o = obj as Record<string, unknown>;
    if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)) {
      throw new ApiError(invalidStatus(def.kind, '', [{ type: 'FieldValueRequired', field: 'metadata' }], def.group));
    }
    if (o.kind !== undefined && o.kind !== def.kind) {
      throw ApiError.of('BadRequest', `the kind of the object (${String(o.kind)}) does not match the resource (${def.kind})`);
    }
    if (o.apiVersion !== undefined && !def.versions.some((v) => apiVersionOf(def.group, v) === o.apiVersion)) {
      throw ApiError.of('BadRequest', `the apiVersion of the object (${String(o.apiVersion)}) is not served for ${def.kind}`);
    }
  }

  private checkNamespace(def: ResourceDef, namespace: string | undefined, obj: KubeObject): string {
    if (!def.namespaced) return '';
    const bodyNs = obj.metadata.namespace;
    if (namespace !== undefined && namespace !== '' && bodyNs !== undefined && bodyNs !== '' && bodyNs !== namespace) {
      throw ApiError.of('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const ns = namespace || bodyNs;
    if (!ns) throw ApiError.of('BadRequest', `a namespace is required for ${def.plural}`);
    return ns;
  }

  /** Fields compared for `generation`: everything but metadata (and status when it is a subresource). */
  private specChanged(def: ResourceDef, a: KubeObject, b: KubeObject): boolean {
    const ra = a as unknown as Record<string, unknown>;
    const rb = b as unknown as Record<string, unknown>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const k of keys) {
      if (k === 'metadata' || k === 'apiVersion' || k === 'kind' || (k === 'status' && def.statusSubresource)) continue;
      if (!deepEqual(ra[k], rb[k])) return true;
    }
    return false;
  }

  /**
   * Runs a type's defaulting, validation and allocation hooks. A hook that throws anything but an ApiError met a
   * shape it did not expect: that is a bug in the hook, but the request is still refused as a 400, not a crash.
   */
  private guard(def: ResourceDef, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      this.log.warn('a resource hook threw on unexpected input; refusing the request', { kind: def.kind, error: describeError(err) });
      throw ApiError.of('BadRequest', `${unexpectedShape} ${def.kind}: ${describeError(err)}`);
    }
  }

  /**
   * Runs a type's admission hook (after validation, before any change); a denial throws 422 Invalid on create and
   * update, 403 Forbidden on delete, with the hook's reasons in the message.
   */
  private admit(def: ResourceDef, op: AdmissionOperation, obj: KubeObject, old: KubeObject | undefined): void {
    const hook = def.admit;
    if (!hook) return;
    let errs: FieldError[] = [];
    this.guard(def, () => {
      errs = hook(op, obj, old, this.admissionView);
    });
    if (errs.length === 0) return;
    const name = obj.metadata.name ?? '';
    throw op === 'delete' ? forbiddenError(def, name, errs) : invalidError(def, name, errs);
  }

  private historyOf(gr: string): { events: History; compactedRv: number } {
    let h = this.histories.get(gr);
    if (!h) this.histories.set(gr, (h = { events: new History(this.historySize), compactedRv: this.baseRv }));
    return h;
  }

  private *allOf(table: TypeTable): Generator<KubeObject> {
    for (const m of table.byNs.values()) yield* m.values();
  }

  private nsExists(ns: string): boolean {
    const t = this.tables.get(grKey('', 'namespaces'));
    return !t || t.byNs.get('')?.has(ns) === true;
  }

  // ---------------------------------------------------------------- commit and notify

  /** Makes a write durable, applies it, records it and tells the watchers. Nothing before this changed state. */
  private commit(table: TypeTable, type: HistoryEvent['type'], old: KubeObject | undefined, obj: KubeObject, rv: number): void {
    const def = table.def;
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name!;
    const gr = grKey(def.group, def.plural);
    if (this.persistence) {
      try {
        this.persistence.append(type === 'DELETED' ? { rv, op: 'del', gr, ns, name } : { rv, op: 'put', gr, ns, name, obj });
      } catch (err) {
        this.log.error('store write failed; the request is refused and nothing changed', { error: describeError(err) });
        throw ApiError.of('InternalError', `failed to persist the write: ${describeError(err)}`);
      }
    }
    this.rv = rv;
    if (type === 'DELETED') this.remove(table, obj);
    else this.put(table, obj);
    const ev: HistoryEvent = { rv, gr, type, old, obj };
    const h = this.historyOf(gr);
    const dropped = h.events.push(ev);
    if (dropped) h.compactedRv = dropped.rv;
    this.dispatch(table, ev);
    if (this.persistence?.needsCompaction()) this.compactNow();
  }

  private compactNow(): void {
    if (!this.persistence) return;
    try {
      this.persistence.compact(this.rv, this.allEntries());
    } catch (err) {
      // The log still holds every write; compaction is retried at the next write.
      this.log.warn('store compaction failed; the log keeps growing until it succeeds', { error: describeError(err) });
    }
  }

  private *allEntries(): Generator<StoredEntry> {
    for (const [gr, t] of this.tables) for (const m of t.byNs.values()) for (const obj of m.values()) yield { gr, obj };
    yield* this.orphans.values();
  }

  /**
   * Delivers events one at a time: a handler that writes to the store synchronously queues its event behind the
   * one being delivered, so every watcher still sees events in resourceVersion order.
   */
  private dispatch(table: TypeTable, ev: HistoryEvent): void {
    if (this.dispatching) {
      this.pendingDispatch.push([table, ev]);
      return;
    }
    this.dispatching = true;
    try {
      this.dispatchOne(table, ev);
      for (let next = this.pendingDispatch.shift(); next; next = this.pendingDispatch.shift()) this.dispatchOne(next[0], next[1]);
    } finally {
      this.dispatching = false;
      this.pendingDispatch.length = 0;
    }
  }

  /** Visits the watcher buckets an event can concern: never all watchers, never all objects. */
  private dispatchOne(table: TypeTable, ev: HistoryEvent): void {
    const idx = this.watchIdx.get(ev.gr);
    if (!idx) return;
    const views = new Map<string, KubeObject>();
    const visit = (set: Set<Watcher> | undefined) => {
      if (!set) return;
      for (const w of set) this.decide(w, ev, views);
    };
    visit(idx.all);
    visit(idx.byNs.get(ev.obj.metadata.namespace ?? ''));
    for (const [field, byValue] of idx.byField) {
      const get = field === 'metadata.name' ? (o: KubeObject) => o.metadata.name ?? '' : (o: KubeObject) => this.fieldValue(table.def, field, o);
      const nv = get(ev.obj);
      visit(byValue.get(nv));
      if (ev.old) {
        const ov = get(ev.old);
        if (ov !== nv) visit(byValue.get(ov));
      }
    }
  }

  private matches(w: Watcher, o: KubeObject | undefined): boolean {
    if (!o) return false;
    if (w.namespace !== undefined && o.metadata.namespace !== w.namespace) return false;
    return w.labels.matches(o.metadata.labels) && w.fields.matches(o);
  }

  private decide(w: Watcher, ev: HistoryEvent, views: Map<string, KubeObject>): void {
    if (ev.rv <= w.sinceRv) return;
    let type: WatchEvent['type'] | undefined;
    if (ev.type === 'MODIFIED') {
      const om = this.matches(w, ev.old);
      const nm = this.matches(w, ev.obj);
      type = om && nm ? 'MODIFIED' : nm ? 'ADDED' : om ? 'DELETED' : undefined;
    } else if (this.matches(w, ev.obj)) type = ev.type;
    if (!type) return;
    let object = views.get(w.apiVersion);
    if (!object) views.set(w.apiVersion, (object = this.view(ev.obj, w.apiVersion)));
    this.emit(w, { type, object });
  }

  private emit(w: Watcher, e: WatchEvent): void {
    if (w.stopped) return;
    if (w.queue) w.queue.push(e);
    else this.deliver(w, e);
  }

  private deliver(w: Watcher, e: WatchEvent): void {
    try {
      w.onEvent(e);
    } catch (err) {
      this.log.warn('a watch handler threw; stopping that watch', { error: describeError(err), resource: w.gr });
      w.finish();
      return;
    }
    if (e.type === 'ERROR') w.finish();
  }

  // ---------------------------------------------------------------- reads

  async get<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<T> {
    const { def, table, apiVersion } = this.resolve(gvr, 'get');
    const obj = this.getObj(table, this.nsOf(def, namespace), name);
    if (!obj) throw notFound(def, name);
    return this.out<T>(obj, apiVersion);
  }

  async list<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: ListOptions = {}): Promise<KubeList<T>> {
    const { def, table, apiVersion } = this.resolve(gvr, 'list');
    const { items, rv, cont, remaining } = this.listSync(def, table, opts);
    const meta: KubeList['metadata'] = { resourceVersion: rv };
    if (cont) meta.continue = cont;
    if (remaining !== undefined) meta.remainingItemCount = remaining;
    return { apiVersion, kind: `${def.kind}List`, metadata: meta, items: items.map((o) => this.out<T>(o, apiVersion)) };
  }

  /** The frozen objects a list selects, with pagination. Exposed to the HTTP layer through `listRaw`. */
  private listSync(def: ResourceDef, table: TypeTable, opts: ListOptions): { items: KubeObject[]; rv: string; cont?: string; remaining?: number } {
    const labels = parseLabelSelectorOrThrow(opts.labelSelector);
    const fields = parseFieldSelector(def, opts.fieldSelector);
    this.checkListRv(opts);
    const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    let all: KubeObject[];
    let rv: string;
    let offset = 0;
    if (opts.continue) {
      const tok = decodeContinue(opts.continue);
      const snap = tok ? this.snapshots.get(tok.id) : undefined;
      if (!tok || !snap || snap.expires < Date.now()) {
        throw ApiError.of('Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      all = snap.items;
      rv = snap.rv;
      offset = tok.offset;
    } else {
      const ns = def.namespaced && opts.namespace ? opts.namespace : undefined;
      all = this.select(def, table, ns, labels, fields);
      all.sort(compareObjects);
      rv = String(this.rv);
    }
    if (!limit || offset + limit >= all.length) return { items: all.slice(offset), rv };
    const page = all.slice(offset, offset + limit);
    let id = opts.continue ? decodeContinue(opts.continue)!.id : '';
    if (!id) {
      id = randomUUID();
      this.snapshots.set(id, { items: all, rv, expires: Date.now() + this.continueTtlMs });
      this.pruneSnapshots();
    }
    const remaining = all.length - offset - limit;
    const hasSelectors = Boolean(opts.labelSelector || opts.fieldSelector);
    return { items: page, rv, cont: encodeContinue({ id, offset: offset + limit }), ...(hasSelectors ? {} : { remaining }) };
  }

  private pruneSnapshots(): void {
    const now = Date.now();
    for (const [id, s] of this.snapshots) if (s.expires < now) this.snapshots.delete(id);
    while (this.snapshots.size > 32) this.snapshots.delete(this.snapshots.keys().next().value!);
  }

  private checkListRv(opts: ListOptions): void {
    const rvs = opts.resourceVersion;
    if (opts.resourceVersionMatch && !rvs) {
      throw ApiError.of('Invalid', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', { kind: 'ListOptions' });
    }
    if (!rvs || rvs === '0') return;
    const n = parseRv(rvs);
    if (n > this.rv) throw tooLargeRv(n, this.rv);
    if (opts.resourceVersionMatch === 'Exact' && n !== this.rv) throw ApiError.of('Expired', `too old resource version: ${n} (${this.rv})`);
  }

  /** Candidate objects: by an indexed field when the selector pins one, else by namespace, else all; then filtered. */
  private select(def: ResourceDef, table: TypeTable, ns: string | undefined, labels: Selector, fields: FieldSelector): KubeObject[] {
    const out: KubeObject[] = [];
    const test = (o: KubeObject) => (ns === undefined || o.metadata.namespace === ns) && labels.matches(o.metadata.labels) && fields.matches(o);
    for (const field of def.indexedFields) {
      const v = fields.pinned(field);
      if (v === undefined) continue;
      for (const o of table.index.get(field)?.get(v)?.values() ?? []) if (test(o)) out.push(o);
      return out;
    }
    const name = fields.pinned('metadata.name');
    if (name !== undefined) {
      const spaces = ns !== undefined ? [table.byNs.get(def.namespaced ? ns : '')] : [...table.byNs.values()];
      for (const m of spaces) {
        const o = m?.get(name);
        if (o && test(o)) out.push(o);
      }
      return out;
    }
    const spaces = ns !== undefined ? [table.byNs.get(ns)] : [...table.byNs.values()];
    for (const m of spaces) if (m) for (const o of m.values()) if (test(o)) out.push(o);
    return out;
  }

  /** For the HTTP layer: the frozen objects of a list (no copies), in the stored version. */
  listRaw(gvr: GroupVersionResource, opts: ListOptions = {}): { def: ResourceDef; items: KubeObject[]; rv: string; cont?: string; remaining?: number } {
    const { def, table } = this.resolve(gvr, 'list');
    return { def, ...this.listSync(def, table, opts) };
  }

  resourceVersion(): string {
    return String(this.rv);
  }

  stats(): StoreStats {
    let objects = 0;
    for (const t of this.tables.values()) objects += t.size;
    let history = 0;
    for (const h of this.histories.values()) history += h.events.size;
    return { objects, watchers: this.watchers.size, history, resourceVersion: String(this.rv) };
  }

  // ---------------------------------------------------------------- writes

  async create<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.createSync(gvr, namespace, obj, opts) as T;
  }

  private createSync(gvr: GroupVersionResource, namespace: string | undefined, obj: KubeObject, opts: WriteOptions): KubeObject {
    const { def, table, apiVersion } = this.resolve(gvr, 'create');
    if (opts.subresource) throw ApiError.of('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    this.checkBody(def, obj);
    const ns = this.checkNamespace(def, namespace, obj);
    if (obj.metadata.resourceVersion) throw ApiError.of('BadRequest', 'resourceVersion should not be set on objects to be created');
    const o = clone(obj);
    const meta = o.metadata;
    if (!meta.name && meta.generateName) {
      for (let i = 0; i < 10; i++) {
        const candidate = `${meta.generateName}${randomSuffix()}`;
        if (!this.getObj(table, ns, candidate)) {
          meta.name = candidate;
          break;
        }
      }
    }
    if (def.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    o.apiVersion = apiVersionOf(def.group, def.versions[0]!);
    o.kind = def.kind;
    this.guard(def, () => {
      def.applyDefaults(o);
      const errs = def.validate(o);
      if (errs.length > 0) throw invalidError(def, meta.name ?? meta.generateName ?? '', errs);
      if (def.prepareForCreate) {
        // Allocation runs on a valid object and produces valid values.
        const allocErrs = def.prepareForCreate(o, () => this.allOf(table));
        if (allocErrs.length > 0) throw invalidError(def, meta.name ?? '', allocErrs);
      }
    });
    const name = meta.name!;
    if (def.namespaced && !this.nsExists(ns)) {
      throw ApiError.of('NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    }
    this.admit(def, 'create', o, undefined);
    if (this.getObj(table, ns, name)) {
      throw ApiError.of('AlreadyExists', `${qualifiedResource(def)} "${name}" already exists`, { name, ...(def.group ? { group: def.group } : {}), kind: def.plural });
    }
    const rv = this.rv + 1;
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    meta.generation = 1;
    meta.resourceVersion = String(rv);
    delete meta.deletionTimestamp;
    delete (meta as Record<string, unknown>).deletionGracePeriodSeconds;
    if (opts.dryRun) return this.out(o, apiVersion);
    deepFreeze(o);
    this.commit(table, 'ADDED', undefined, o, rv);
    return this.out(o, apiVersion);
  }

  async update<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    const { def, table, apiVersion } = this.resolve(gvr, 'update');
    this.checkBody(def, obj);
    const ns = def.namespaced ? this.checkNamespace(def, namespace, obj) : '';
    const name = obj.metadata.name;
    if (!name) throw new ApiError(invalidStatus(def.kind, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name is required' }], def.group));
    const existing = this.getObj(table, ns, name);
    if (!existing) throw notFound(def, name);
    if (!obj.metadata.resourceVersion && !def.allowUnconditionalUpdate) {
      throw invalidError(def, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', value: 0, detail: 'must be specified for an update' }]);
    }
    return this.updateFrom(def, table, existing, clone(obj), obj.metadata.resourceVersion, opts, apiVersion) as T;
  }

  /**
   * The shared tail of update and patch: `candidate` is the desired object (a private copy); `precondition` the
   * resourceVersion the caller based it on, if any.
   */
  private updateFrom(
    def: ResourceDef,
    table: TypeTable,
    existing: KubeObject,
    candidate: KubeObject,
    precondition: string | undefined,
    opts: WriteOptions,
    apiVersion: string,
  ): KubeObject {
    const name = existing.metadata.name!;
    if (opts.subresource === 'status' && !def.statusSubresource) throw unknownResource();
    if (precondition && precondition !== existing.metadata.resourceVersion) throw conflict(def, name);
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) throw ApiError.of('BadRequest', 'the object must be a JSON object');
    let next: KubeObject;
    const ex = existing as unknown as Record<string, unknown>;
    if (opts.subresource === 'status') {
      // A status write changes only .status.
      next = copyJson(existing);
      const st = (candidate as unknown as Record<string, unknown>).status;
      if (st === undefined) delete (next as unknown as Record<string, unknown>).status;
      else (next as unknown as Record<string, unknown>).status = clone(st);
    } else {
      if (typeof candidate.metadata !== 'object' || candidate.metadata === null) {
        throw invalidError(def, name, [{ type: 'FieldValueRequired', field: 'metadata' }]);
      }
      next = candidate;
      if (def.statusSubresource) {
        // Writes to the main resource keep the stored status.
        const c = next as unknown as Record<string, unknown>;
        if (ex.status === undefined) delete c.status;
        else c.status = copyJson(ex.status);
      }
    }
    const meta = next.metadata;
    const em = existing.metadata;
    const immutable: FieldError[] = [];
    if (meta.name !== undefined && meta.name !== name) immutable.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: meta.name, detail: 'field is immutable' });
    if (meta.uid && meta.uid !== em.uid) immutable.push({ type: 'FieldValueInvalid', field: 'metadata.uid', value: meta.uid, detail: 'field is immutable' });
    if (def.namespaced && meta.namespace && meta.namespace !== em.namespace) {
      throw ApiError.of('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (immutable.length > 0) throw invalidError(def, name, immutable);
    meta.name = name;
    if (def.namespaced) meta.namespace = em.namespace;
    else delete meta.namespace;
    meta.uid = em.uid;
    meta.creationTimestamp = em.creationTimestamp;
    meta.generation = em.generation;
    if (em.deletionTimestamp) meta.deletionTimestamp = em.deletionTimestamp;
    else delete meta.deletionTimestamp;
    const dgp = (em as Record<string, unknown>).deletionGracePeriodSeconds;
    if (dgp !== undefined) (meta as Record<string, unknown>).deletionGracePeriodSeconds = dgp;
    meta.resourceVersion = em.resourceVersion;
    next.apiVersion = existing.apiVersion;
    next.kind = def.kind;
    this.guard(def, () => {
      def.applyDefaults(next);
      def.prepareForUpdate?.(next, existing);
      const errs = [...def.validate(next), ...def.validateUpdate(next, existing)];
      if (errs.length > 0) throw invalidError(def, name, errs);
    });
    // Antrea's webhooks (like most) are registered for the main resource only, not for status writes.
    if (opts.subresource !== 'status') this.admit(def, 'update', next, existing);
    if (deepEqual(next, existing)) return this.out(existing, apiVersion); // no-op: same RV, no event
    if (this.specChanged(def, existing, next)) meta.generation = (em.generation ?? 1) + 1;
    const rv = this.rv + 1;
    meta.resourceVersion = String(rv);
    if (opts.dryRun) return this.out(next, apiVersion);
    deepFreeze(next);
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0) {
      // The last finalizer is gone: the pending deletion completes.
      this.commit(table, 'DELETED', existing, next, rv);
      return this.out(next, apiVersion);
    }
    this.commit(table, 'MODIFIED', existing, next, rv);
    return this.out(next, apiVersion);
  }

  async patch<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions = {},
  ): Promise<T> {
    const { def, table, apiVersion } = this.resolve(gvr, 'patch');
    const ns = this.nsOf(def, namespace);
    if (def.namespaced && !ns) throw ApiError.of('BadRequest', `a namespace is required for ${def.plural}`);
    if (type === 'strategic' && !def.strategicMerge) {
      throw ApiError.of(
        'UnsupportedMediaType',
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      );
    }
    const existing = this.getObj(table, ns, name);
    if (type !== 'json' && (typeof patch !== 'object' || patch === null || Array.isArray(patch))) {
      throw ApiError.of('BadRequest', `the body of a ${type} patch must be a JSON object`);
    }
    if (!existing) {
      if (type !== 'apply' || opts.subresource) throw notFound(def, name);
      const body = clone(patch) as KubeObject;
      this.checkBody(def, body);
      if (body.metadata.name && body.metadata.name !== name) throw ApiError.of('BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
      body.metadata.name = name;
      return this.createSync(gvr, ns || undefined, body, {}) as T;
    }
    const base = this.out<KubeObject>(existing, apiVersion);
    let patched: unknown;
    if (type === 'json') patched = jsonPatch(base, patch);
    else if (type === 'strategic') patched = strategicMergePatch(base, patch);
    else patched = mergePatch(base, patch);
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) throw invalidError(def, name, [{ type: 'FieldValueTypeInvalid', field: '', value: patched, detail: 'the patched object must be a JSON object' }]);
    const candidate = patched as KubeObject;
    if (typeof candidate.metadata !== 'object' || candidate.metadata === null) throw invalidError(def, name, [{ type: 'FieldValueRequired', field: 'metadata' }]);
    const precondition = candidate.metadata.resourceVersion;
    if (candidate.apiVersion !== undefined && candidate.apiVersion !== apiVersion) this.checkBody(def, candidate);
    candidate.apiVersion = existing.apiVersion;
    return this.updateFrom(def, table, existing, candidate, precondition, opts, apiVersion) as T;
  }

  async delete<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<T> {
    const { def, table, apiVersion } = this.resolve(gvr, 'delete');
    const ns = this.nsOf(def, namespace);
    const existing = this.getObj(table, ns, name);
    if (!existing) throw notFound(def, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== existing.metadata.uid) {
      throw conflict(def, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(def, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    }
    this.admit(def, 'delete', existing, undefined);
    if (opts.dryRun) return this.out<T>(existing, apiVersion);
    return this.out<T>(this.deleteObj(table, existing), apiVersion);
  }

  /** Deletes (or, with finalizers, marks for deletion) one stored object; returns its final state. */
  private deleteObj(table: TypeTable, existing: KubeObject): KubeObject {
    const def = table.def;
    if ((existing.metadata.finalizers ?? []).length > 0) {
      if (existing.metadata.deletionTimestamp) return existing;
      const next = copyJson(existing);
      const rv = this.rv + 1;
      next.metadata.deletionTimestamp = nowTimestamp();
      (next.metadata as Record<string, unknown>).deletionGracePeriodSeconds = 0;
      next.metadata.resourceVersion = String(rv);
      deepFreeze(next);
      this.commit(table, 'MODIFIED', existing, next, rv);
      return next;
    }
    if (def.group === '' && def.plural === 'namespaces') this.deleteNamespaceContents(existing.metadata.name!);
    const rv = this.rv + 1;
    const final = copyJson(existing);
    final.metadata.resourceVersion = String(rv);
    deepFreeze(final);
    this.commit(table, 'DELETED', existing, final, rv);
    return final;
  }

  /** A deleted Namespace takes its objects with it (the namespace controller's job on a real cluster). */
  private deleteNamespaceContents(ns: string): void {
    for (const table of this.tables.values()) {
      if (!table.def.namespaced) continue;
      const m = table.byNs.get(ns);
      if (!m) continue;
      for (const obj of [...m.values()]) {
        const rv = this.rv + 1;
        const final = copyJson(obj);
        final.metadata.resourceVersion = String(rv);
        deepFreeze(final);
        this.commit(table, 'DELETED', obj, final, rv);
      }
    }
  }

  async deleteCollection<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: ListOptions & DeleteOptions = {}): Promise<KubeList<T>> {
    const { def, table, apiVersion } = this.resolve(gvr, 'deletecollection');
    const labels = parseLabelSelectorOrThrow(opts.labelSelector);
    const fields = parseFieldSelector(def, opts.fieldSelector);
    const ns = def.namespaced && opts.namespace ? opts.namespace : undefined;
    const victims = this.select(def, table, ns, labels, fields).sort(compareObjects);
    // Every deletion is admitted before any happens: one refusal refuses the whole request and changes nothing.
    for (const o of victims) this.admit(def, 'delete', o, undefined);
    const items = opts.dryRun ? victims : victims.map((o) => this.deleteObj(table, o));
    return { apiVersion, kind: `${def.kind}List`, metadata: { resourceVersion: String(this.rv) }, items: items.map((o) => this.out<T>(o, apiVersion)) };
  }

  // ---------------------------------------------------------------- watch

  watch<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    const { def, table, apiVersion } = this.resolve(gvr, 'watch');
    const labels = parseLabelSelectorOrThrow(opts.labelSelector);
    const fields = parseFieldSelector(def, opts.fieldSelector);
    const gr = grKey(def.group, def.plural);
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const timers: NodeJS.Timeout[] = [];
    const w: Watcher = {
      gr,
      def,
      apiVersion,
      namespace: def.namespaced && opts.namespace ? opts.namespace : undefined,
      labels,
      fields,
      onEvent: onEvent as (e: WatchEvent) => void,
      queue: [],
      stopped: false,
      bucket: undefined,
      sinceRv: -1,
      finish: () => {
        if (w.stopped) return;
        w.stopped = true;
        w.queue = null;
        w.bucket?.delete(w);
        this.watchers.delete(w);
        for (const t of timers) clearTimeout(t);
        resolveDone();
      },
    };
    const handle: WatchHandle = { stop: () => w.finish(), done };
    const bookmark = (annotations?: Record<string, string>): WatchEvent => ({
      type: 'BOOKMARK',
      object: { kind: def.kind, apiVersion, metadata: { resourceVersion: String(this.rv), ...(annotations ? { annotations } : {}) } },
    });

    const rvs = opts.resourceVersion;
    const initial = opts.sendInitialEvents === true || !rvs || rvs === '0';
    let failed: Status | undefined;
    if (initial) {
      const ns = w.namespace;
      for (const o of this.select(def, table, ns, labels, fields).sort(compareObjects)) w.queue!.push({ type: 'ADDED', object: this.view(o, apiVersion) });
      if (opts.sendInitialEvents && opts.allowWatchBookmarks) w.queue!.push(bookmark({ 'k8s.io/initial-events-end': 'true' }));
    } else {
      const n = Number(rvs);
      if (!/^\d+$/.test(rvs) || !Number.isSafeInteger(n)) failed = statusOf('BadRequest', 400, `invalid resource version: "${rvs}"`);
      else if (n > this.rv) failed = tooLargeRv(n, this.rv).status;
      else if (n < this.historyOf(gr).compactedRv) failed = statusOf('Expired', 410, `too old resource version: ${n} (${this.historyOf(gr).compactedRv + 1})`);
      else {
        const views = new Map<string, KubeObject>();
        for (const ev of this.historyOf(gr).events.after(n)) {
          views.clear();
          this.decide(w, ev, views);
        }
      }
    }
    if (failed) {
      w.queue!.push({ type: 'ERROR', object: failed });
    } else {
      w.sinceRv = this.rv;
      this.watchers.add(w);
      w.bucket = this.bucketFor(w, def, fields);
      w.bucket.add(w);
      if (opts.allowWatchBookmarks && this.bookmarkIntervalMs > 0) {
        const t = setInterval(() => this.emit(w, bookmark()), this.bookmarkIntervalMs);
        t.unref();
        timers.push(t);
      }
      if (opts.timeoutSeconds && opts.timeoutSeconds > 0) {
        // Not unref'd: a caller awaiting `done` of a watch with a timeout must see it end.
        timers.push(setTimeout(() => w.finish(), opts.timeoutSeconds * 1000));
      }
    }
    // Deliver the initial events (and anything that happens meanwhile) after the caller has its handle.
    queueMicrotask(() => {
      const q = w.queue;
      if (!q || w.stopped) return;
      w.queue = null;
      for (const e of q) {
        if (w.stopped) break;
        this.deliver(w, e);
      }
    });
    return handle;
  }

  private bucketFor(w: Watcher, def: ResourceDef, fields: FieldSelector): Set<Watcher> {
    let idx = this.watchIdx.get(w.gr);
    if (!idx) this.watchIdx.set(w.gr, (idx = { all: new Set(), byNs: new Map(), byField: new Map() }));
    for (const field of [...def.indexedFields, 'metadata.name']) {
      const v = fields.pinned(field);
      if (v === undefined) continue;
      let byValue = idx.byField.get(field);
      if (!byValue) idx.byField.set(field, (byValue = new Map()));
      let set = byValue.get(v);
      if (!set) byValue.set(v, (set = new Set()));
      return set;
    }
    if (w.namespace !== undefined) {
      let set = idx.byNs.get(w.namespace);
      if (!set) idx.byNs.set(w.namespace, (set = new Set()));
      return set;
    }
    return idx.all;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const w of [...this.watchers]) w.finish();
    this.closed = true;
    if (this.persistence) {
      this.compactNow();
      this.persistence.close();
    }
  }
}

// ---------------------------------------------------------------- helpers

function compareObjects(a: KubeObject, b: KubeObject): number {
  const an = a.metadata.namespace ?? '';
  const bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const x = a.metadata.name ?? '';
  const y = b.metadata.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function parseRv(s: string): number {
  if (!/^\d+$/.test(s)) throw ApiError.of('BadRequest', `invalid resource version: "${s}"`);
  return Number(s);
}

function tooLargeRv(n: number, current: number): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Too large resource version: ${n}, current: ${current}`,
    reason: 'Timeout',
    details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
    code: 504,
  });
}

function parseLabelSelectorOrThrow(s: string | undefined): Selector {
  if (s === undefined || s.trim() === '') return everything;
  try {
    return parseSelector(s);
  } catch (err) {
    if (err instanceof SelectorParseError) throw ApiError.of('BadRequest', err.message);
    throw err;
  }
}

function encodeContinue(t: { id: string; offset: number }): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeContinue(s: string): { id: string; offset: number } | undefined {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { id?: unknown; offset?: unknown };
    if (typeof t.id === 'string' && typeof t.offset === 'number' && Number.isInteger(t.offset) && t.offset >= 0) return { id: t.id, offset: t.offset };
  } catch {
    // fall through
  }
  return undefined;
}

/**
 * Creates a store. With `dataDir` it loads the state there first (throwing `StoreCorruptError` if the files are
 * corrupt beyond a torn last write, which is recovered and logged).
 */
export function createStore(opts: StoreOptions = {}): Store {
  return new MemoryStore(opts);
}

