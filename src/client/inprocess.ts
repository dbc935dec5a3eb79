/**
 * `InProcessClient`: the `ApiClient` of `antrea local` and of tests, straight over an `ApiBackend` (the store), no
 * HTTP. Objects are deep-copied both ways, so callers can never mutate what the store holds, and watch events are
 * delivered asynchronously and in order, so a handler that writes to the store never re-enters it mid-notification.
 */
import type { GroupVersionResource, KubeList, KubeObject, WatchEvent } from '../apis/meta.js';
import { ApiError } from '../apiserver/types.js';
import type { ApiBackend, DeleteOptions, ListOptions, PatchType, WatchHandle, WatchOptions, WriteOptions } from '../apiserver/types.js';
import { ResourceHandle } from './resource.js';
import type { ApiClient, ResourceClient } from './types.js';

export class InProcessClient implements ApiClient {
  private readonly watches = new Set<WatchHandle>();

  constructor(private readonly backend: ApiBackend) {}

  resource<T extends KubeObject = KubeObject>(gvr: GroupVersionResource): ResourceClient<T> {
    return new ResourceHandle<T>(this, gvr);
  }

  async list<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts?: ListOptions): Promise<KubeList<T>> {
    return structuredClone(await this.backend.list<T>(gvr, opts));
  }

  async get<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<T> {
    return structuredClone(await this.backend.get<T>(gvr, namespace, name));
  }

  async create<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts?: WriteOptions): Promise<T> {
    return structuredClone(await this.backend.create<T>(gvr, namespace, structuredClone(obj), opts));
  }

  async update<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts?: WriteOptions): Promise<T> {
    return structuredClone(await this.backend.update<T>(gvr, namespace, structuredClone(obj), opts));
  }

  async patch<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: WriteOptions,
  ): Promise<T> {
    return structuredClone(await this.backend.patch<T>(gvr, namespace, name, type, structuredClone(patch), opts));
  }

  async delete<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T> {
    return structuredClone(await this.backend.delete<T>(gvr, namespace, name, opts));
  }

  async deleteCollection<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts?: ListOptions & DeleteOptions): Promise<KubeList<T>> {
    if (!this.backend.deleteCollection) {
      throw ApiError.of('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    return structuredClone(await this.backend.deleteCollection<T>(gvr, opts));
  }

  watch<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    const pending: WatchEvent<T>[] = [];
    let stopped = false;
    let scheduled: Promise<void> | undefined;
    const flush = (): void => {
      scheduled = undefined;
      while (pending.length > 0 && !stopped) {
        const event = pending.shift() as WatchEvent<T>;
        try {
          onEvent(event);
        } catch {
          // A throwing handler must not stall the stream; like client-node's Watch, the error goes no further.
        }
      }
    };
    const inner = this.backend.watch<T>(gvr, { ...opts }, (event) => {
      if (stopped) return;
      pending.push(structuredClone(event));
      scheduled ??= Promise.resolve().then(flush);
    });
    // `done` settles after every event the store produced has been handed over.
    const done = inner.done.then(
      async () => {
        await scheduled;
      },
      async (err: unknown) => {
        await scheduled;
        throw err;
      },
    );
    const handle: WatchHandle = {
      stop: () => {
        stopped = true;
        pending.length = 0;
        inner.stop();
      },
      done,
    };
    this.watches.add(handle);
    done.then(
      () => this.watches.delete(handle),
      () => this.watches.delete(handle),
    );
    return handle;
  }

  async close(): Promise<void> {
    const all = [...this.watches];
    for (const w of all) w.stop();
    await Promise.allSettled(all.map((w) => w.done));
  }
}
