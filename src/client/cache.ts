/**
 * The local cache behind an informer: objects keyed by `namespace/name` (or `name` when cluster-scoped), with
 * pluggable secondary indexes. Objects in the cache are shared by every reader and frozen (unless turned off):
 * copy one (`structuredClone`) before changing it.
 */
import type { KubeObject } from '../apis/meta.js';
import { AntreaError } from '../util/errors.js';

/** Returns the index values an object is filed under (none: not in this index). */
export type IndexFunc<T extends KubeObject = KubeObject> = (obj: T) => readonly string[];

export const NAMESPACE_INDEX = 'namespace';
export const NODE_NAME_INDEX = 'nodeName';

/** Files an object under its namespace. */
export const namespaceIndexFunc: IndexFunc = (obj) => (obj.metadata.namespace ? [obj.metadata.namespace] : []);

/** Files an object under `spec.nodeName` (Pods), if it has one. */
export const nodeNameIndexFunc: IndexFunc = (obj) => {
  const spec = (obj as { spec?: unknown }).spec;
  if (typeof spec !== 'object' || spec === null) return [];
  const nodeName = (spec as { nodeName?: unknown }).nodeName;
  return typeof nodeName === 'string' && nodeName !== '' ? [nodeName] : [];
};

export function objectKey(obj: KubeObject): string {
  return cacheKey(obj.metadata.namespace, obj.metadata.name ?? '');
}

export function cacheKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a key made by `cacheKey` back into namespace and name. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i === -1 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface CacheOptions {
  /** Freeze objects on the way in, so a reader that mutates a shared object fails loudly. Default true. */
  freeze?: boolean;
}

export class ObjectCache<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name -> index value -> keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly freeze: boolean;

  constructor(opts: CacheOptions = {}) {
    this.freeze = opts.freeze ?? true;
    this.addIndexer(NAMESPACE_INDEX, namespaceIndexFunc as IndexFunc<T>);
  }

  /** Adds a named index; objects already cached are filed at once. Names are unique. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) {
      throw new AntreaError('ERR_INDEXER_EXISTS', `an indexer named "${name}" already exists`, { field: name });
    }
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) fileUnder(index, fn(obj), key);
  }

  hasIndexer(name: string): boolean {
    return this.indexers.has(name);
  }

  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const keys = this.indexOf(name).get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.items.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Keys filed under `value` in index `name`. */
  indexKeys(name: string, value: string): string[] {
    return [...(this.indexOf(name).get(value) ?? [])];
  }

  /** The values index `name` currently holds. */
  indexValues(name: string): string[] {
    return [...this.indexOf(name).keys()];
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(cacheKey(namespace, name));
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.items.values()] : this.byIndex(NAMESPACE_INDEX, namespace);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Stores `obj`; returns what it replaced. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    const stored = this.freeze ? deepFreeze(obj) : obj;
    this.items.set(key, stored);
    for (const [name, fn] of this.indexers) fileUnder(this.indexOf(name), fn(stored), key);
    return old;
  }

  /** Removes the object at `key`; returns it. */
  remove(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexOf(name);
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }

  private indexOf(name: string): Map<string, Set<string>> {
    const index = this.indices.get(name);
    if (!index) throw new AntreaError('ERR_UNKNOWN_INDEXER', `no indexer named "${name}"`, { field: name });
    return index;
  }
}

function fileUnder(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (!keys) index.set(value, (keys = new Set()));
    keys.add(key);
  }
}
