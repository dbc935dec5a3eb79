/**
 * The one client interface of antrea-ts. The controller, the agents and the CLIs talk to an API server through
 * `ApiClient`, whether it is the in-process store of `antrea local` (`InProcessClient`) or a real kube-apiserver
 * through `@kubernetes/client-node` (`HttpClient`). Every failure is an `ApiError` carrying a Kubernetes `Status`.
 */
import type { GroupVersionResource, KubeList, KubeObject, WatchEvent } from '../apis/meta.js';
import type { ApiBackend, DeleteOptions, ListOptions, PatchType, WatchHandle, WatchOptions, WriteOptions } from '../apiserver/types.js';

export type { ApiBackend, DeleteOptions, ListOptions, PatchType, WatchHandle, WatchOptions, WriteOptions };
export { ApiError, isApiError } from '../apiserver/types.js';

/** The same operations as the API machinery itself, plus typed per-resource handles. */
export interface ApiClient extends ApiBackend {
  /** A handle for one resource type; cluster-wide (or cluster-scoped) until narrowed with `inNamespace`. */
  resource<T extends KubeObject = KubeObject>(gvr: GroupVersionResource): ResourceClient<T>;
  /** Ends every watch this client started. The client must not be used afterwards. */
  close(): Promise<void>;
}

/** Operations on one resource type, optionally bound to one namespace. */
export interface ResourceClient<T extends KubeObject = KubeObject> {
  readonly gvr: GroupVersionResource;
  /** The bound namespace; undefined: all namespaces (lists, watches) or a cluster-scoped resource. */
  readonly namespace: string | undefined;
  inNamespace(namespace: string): ResourceClient<T>;

  list(opts?: Omit<ListOptions, 'namespace'>): Promise<KubeList<T>>;
  /** Lists every item, following `continue` tokens when `limit` is set. */
  listAll(opts?: Omit<ListOptions, 'namespace' | 'continue'>): Promise<T[]>;
  get(name: string): Promise<T>;
  /** `get` that answers undefined instead of throwing NotFound. */
  tryGet(name: string): Promise<T | undefined>;
  /** Creates `obj` in the bound namespace, else in `obj.metadata.namespace`. */
  create(obj: T, opts?: WriteOptions): Promise<T>;
  update(obj: T, opts?: WriteOptions): Promise<T>;
  updateStatus(obj: T): Promise<T>;
  patch(name: string, type: PatchType, patch: unknown, opts?: WriteOptions): Promise<T>;
  /** RFC 7386 merge patch: `null` deletes a key, arrays are replaced. */
  mergePatch(name: string, patch: unknown, opts?: WriteOptions): Promise<T>;
  delete(name: string, opts?: DeleteOptions): Promise<T>;
  /** `delete` that answers undefined instead of throwing NotFound. */
  tryDelete(name: string, opts?: DeleteOptions): Promise<T | undefined>;
  /**
   * Read-modify-write with retries on Conflict: gets the object, hands a private copy to `mutate` (which changes it
   * in place or returns a replacement), and updates it (`subresource: 'status'` for status writes).
   */
  retryUpdate(name: string, mutate: (obj: T) => T | void, opts?: WriteOptions & { attempts?: number }): Promise<T>;
  watch(opts: Omit<WatchOptions, 'namespace'>, onEvent: (event: WatchEvent<T>) => void): WatchHandle;
}
