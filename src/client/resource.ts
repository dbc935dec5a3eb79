/** `ResourceClient`: the per-resource handle every `ApiClient` hands out, written once over the generic calls. */
import type { GroupVersionResource, KubeList, KubeObject, WatchEvent } from '../apis/meta.js';
import { isApiError } from '../apiserver/types.js';
import type { ApiBackend, DeleteOptions, ListOptions, PatchType, WatchHandle, WatchOptions, WriteOptions } from '../apiserver/types.js';
import type { ResourceClient } from './types.js';

export class ResourceHandle<T extends KubeObject = KubeObject> implements ResourceClient<T> {
  constructor(
    private readonly api: ApiBackend,
    readonly gvr: GroupVersionResource,
    readonly namespace: string | undefined = undefined,
  ) {}

  inNamespace(namespace: string): ResourceClient<T> {
    return new ResourceHandle<T>(this.api, this.gvr, namespace);
  }

  list(opts: Omit<ListOptions, 'namespace'> = {}): Promise<KubeList<T>> {
    return this.api.list<T>(this.gvr, this.withNamespace(opts));
  }

  async listAll(opts: Omit<ListOptions, 'namespace' | 'continue'> = {}): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const page = await this.api.list<T>(this.gvr, this.withNamespace({ ...opts, ...(token ? { continue: token } : {}) }));
      items.push(...page.items);
      token = opts.limit ? page.metadata.continue || undefined : undefined;
    } while (token);
    return items;
  }

  get(name: string): Promise<T> {
    return this.api.get<T>(this.gvr, this.namespace, name);
  }

  async tryGet(name: string): Promise<T | undefined> {
    try {
      return await this.get(name);
    } catch (err) {
      if (isApiError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  create(obj: T, opts?: WriteOptions): Promise<T> {
    return this.api.create<T>(this.gvr, this.namespaceOf(obj), obj, opts);
  }

  update(obj: T, opts?: WriteOptions): Promise<T> {
    return this.api.update<T>(this.gvr, this.namespaceOf(obj), obj, opts);
  }

  updateStatus(obj: T): Promise<T> {
    return this.update(obj, { subresource: 'status' });
  }

  patch(name: string, type: PatchType, patch: unknown, opts?: WriteOptions): Promise<T> {
    return this.api.patch<T>(this.gvr, this.namespace, name, type, patch, opts);
  }

  mergePatch(name: string, patch: unknown, opts?: WriteOptions): Promise<T> {
    return this.patch(name, 'merge', patch, opts);
  }

  delete(name: string, opts?: DeleteOptions): Promise<T> {
    return this.api.delete<T>(this.gvr, this.namespace, name, opts);
  }

  async tryDelete(name: string, opts?: DeleteOptions): Promise<T | undefined> {
    try {
      return await this.delete(name, opts);
    } catch (err) {
      if (isApiError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  async retryUpdate(name: string, mutate: (obj: T) => T | void, opts: WriteOptions & { attempts?: number } = {}): Promise<T> {
    const { attempts = 5, ...writeOpts } = opts;
    for (let i = 1; ; i++) {
      const current = structuredClone(await this.get(name));
      const next = mutate(current) ?? current;
      try {
        return await this.update(next, writeOpts);
      } catch (err) {
        if (!isApiError(err, 'Conflict') || i >= attempts) throw err;
      }
    }
  }

  watch(opts: Omit<WatchOptions, 'namespace'>, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    return this.api.watch<T>(this.gvr, this.withNamespace(opts), onEvent);
  }

  private withNamespace<O extends object>(opts: O): O & { namespace?: string } {
    return this.namespace === undefined ? opts : { ...opts, namespace: this.namespace };
  }

  private namespaceOf(obj: T): string | undefined {
    return this.namespace ?? obj.metadata.namespace;
  }
}
