/**
 * The contract between the API machinery and everything that talks to it. The store (and the HTTP handlers in front
 * of it) implement `ApiBackend`; the in-process client passes calls straight through to it, the HTTP client speaks
 * the same calls over the Kubernetes wire protocol. Every failure is an `ApiError` carrying a Kubernetes `Status`.
 */
import { AntreaError } from '../util/errors.js';
import type { GroupVersionResource, KubeList, KubeObject, Status, StatusReason, WatchEvent } from '../apis/meta.js';

export interface ListOptions {
  /** Omitted: all namespaces (namespaced resources) or the cluster scope. */
  namespace?: string;
  /** Kubernetes label selector syntax: `app=web,tier!=db,env in (a,b),!legacy`. */
  labelSelector?: string;
  /** `metadata.name=x`, `metadata.namespace=y`, and the resource's own supported fields (`spec.nodeName` on Pods). */
  fieldSelector?: string;
  resourceVersion?: string;
  /** With `resourceVersion`: `Exact` serves exactly that revision (only the current one here, else 410). */
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  limit?: number;
  continue?: string;
}

export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  allowWatchBookmarks?: boolean;
  /** Ends the watch cleanly after this many seconds. */
  timeoutSeconds?: number;
  /**
   * Streaming list: ADDED for every current object (whatever `resourceVersion` says), then, with
   * `allowWatchBookmarks`, a BOOKMARK annotated `k8s.io/initial-events-end: "true"`.
   */
  sendInitialEvents?: boolean;
}

export interface WriteOptions {
  subresource?: 'status';
  dryRun?: boolean;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** A running watch. `done` settles when the watch ends for any reason (stopped, timed out, server closed, error). */
export interface WatchHandle {
  stop(): void;
  readonly done: Promise<void>;
}

export interface ApiBackend {
  list<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts?: ListOptions): Promise<KubeList<T>>;
  get<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<T>;
  create<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts?: WriteOptions): Promise<T>;
  update<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: WriteOptions,
  ): Promise<T>;
  delete<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T>;
  /**
   * Events are delivered in resourceVersion order; an ERROR event (a Status) ends the watch. Bad arguments (unknown
   * resource, unparsable selector) throw an ApiError synchronously; a too-old resourceVersion is an ERROR event
   * (410 Expired). The store delivers each event object frozen and shared between watchers: copy before mutating.
   */
  watch<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle;
  /** Deletes every object matching the list options; returns the deleted objects. Optional for implementations. */
  deleteCollection?<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts?: ListOptions & DeleteOptions): Promise<KubeList<T>>;
}

const reasonCodes: Record<StatusReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
  BadRequest: 400,
  Gone: 410,
  Expired: 410,
  MethodNotAllowed: 405,
  UnsupportedMediaType: 415,
  NotAcceptable: 406,
  Forbidden: 403,
  Unauthorized: 401,
  TooManyRequests: 429,
  Timeout: 504,
  InternalError: 500,
  ServiceUnavailable: 503,
};

/** An API failure: the Kubernetes `Status` that the server sends, or that the client received. */
export class ApiError extends AntreaError {
  constructor(readonly status: Status) {
    super(`ERR_API_${(status.reason ?? 'Unknown').toUpperCase()}`, status.message ?? `request failed with ${status.code}`);
    this.name = 'ApiError';
  }

  get reason(): StatusReason | undefined {
    return this.status.reason;
  }

  get statusCode(): number {
    return this.status.code;
  }

  static of(reason: StatusReason, message: string, details?: Status['details']): ApiError {
    return new ApiError({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code: reasonCodes[reason],
    });
  }
}

export function isApiError(err: unknown, reason?: StatusReason): err is ApiError {
  return err instanceof ApiError && (reason === undefined || err.reason === reason);
}
