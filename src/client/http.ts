/**
 * `HttpClient`: the `ApiClient` for real clusters (and for our own API server over HTTP), on
 * `@kubernetes/client-node` 1.4.
 *
 * - Kubeconfig, credentials and TLS come from client-node's `KubeConfig` (see `kubeconfig.ts`).
 * - list/get/create/update/patch/delete use client-node's request machinery (`createConfiguration`,
 *   `RequestContext`, its fetch-based `httpApi`), authenticated by the `KubeConfig`. We do not use
 *   `KubernetesObjectApi`: it addresses objects by kind through discovery, while our contract is by resource
 *   (GroupVersionResource), it has no subresources (`/status`), and its `ObjectSerializer` turns built-in types
 *   into model instances that drop unknown fields and turn timestamps into `Date`s. We parse the JSON ourselves,
 *   so objects keep the exact wire shape that watch events have.
 * - Watches use client-node's `Watch` (one JSON event per line).
 * Every failure becomes an `ApiError` with the server's `Status` (`http-errors.ts`).
 */
import { HttpMethod, ServerConfiguration, Watch, createConfiguration } from '@kubernetes/client-node';
import type { Configuration, KubeConfig } from '@kubernetes/client-node';
import { isStatus } from '../apis/meta.js';
import type { GroupVersionResource, KubeList, KubeObject, WatchEvent, WatchEventType } from '../apis/meta.js';
import { ApiError } from '../apiserver/types.js';
import type { DeleteOptions, ListOptions, PatchType, WatchHandle, WatchOptions, WriteOptions } from '../apiserver/types.js';
import { silentLogger } from '../util/log.js';
import type { Logger } from '../util/log.js';
import { statusForCode, toApiError } from './http-errors.js';
import { loadKubeConfig, serverUrl } from './kubeconfig.js';
import type { KubeConfigSource } from './kubeconfig.js';
import { ResourceHandle } from './resource.js';
import type { ApiClient, ResourceClient } from './types.js';

export interface HttpClientOptions extends KubeConfigSource {
  logger?: Logger;
  /** Sent as `fieldManager` on writes (required by server-side apply). Default `antrea-ts`. */
  fieldManager?: string;
  /** Per-request timeout for everything but watches. Default 30 s. */
  requestTimeoutMs?: number;
}

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

const eventTypes = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

type Query = Record<string, string | number | boolean | undefined>;

/** The DELETE request body: a v1 DeleteOptions carrying the preconditions, or none. */
function deleteOptionsBody(preconditions: DeleteOptions['preconditions']): object | undefined {
  return preconditions ? { kind: 'DeleteOptions', apiVersion: 'v1', preconditions } : undefined;
}

export class HttpClient implements ApiClient {
  readonly kubeConfig: KubeConfig;
  readonly server: string;
  private readonly config: Configuration;
  private readonly log: Logger;
  private readonly fieldManager: string;
  private readonly requestTimeoutMs: number;
  private readonly watches = new Set<WatchHandle>();

  constructor(opts: HttpClientOptions = {}) {
    this.kubeConfig = loadKubeConfig(opts);
    this.server = serverUrl(this.kubeConfig);
    this.config = createConfiguration({
      baseServer: new ServerConfiguration(this.server, {}),
      authMethods: { default: this.kubeConfig },
    });
    this.log = (opts.logger ?? silentLogger).child({ server: this.server });
    this.fieldManager = opts.fieldManager ?? 'antrea-ts';
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  resource<T extends KubeObject = KubeObject>(gvr: GroupVersionResource): ResourceClient<T> {
    return new ResourceHandle<T>(this, gvr);
  }

  list<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: ListOptions = {}): Promise<KubeList<T>> {
    const { namespace, ...query } = opts;
    return this.request<KubeList<T>>(HttpMethod.GET, collectionPath(gvr, namespace), query);
  }

  get<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>(HttpMethod.GET, objectPath(gvr, namespace, name));
  }

  create<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>(HttpMethod.POST, collectionPath(gvr, namespace), this.writeQuery(opts), obj);
  }

  update<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts: WriteOptions = {}): Promise<T> {
    const path = objectPath(gvr, namespace, obj.metadata.name ?? '', opts.subresource);
    return this.request<T>(HttpMethod.PUT, path, this.writeQuery(opts), obj);
  }

  patch<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions = {},
  ): Promise<T> {
    const path = objectPath(gvr, namespace, name, opts.subresource);
    return this.request<T>(HttpMethod.PATCH, path, this.writeQuery(opts), patch, patchContentTypes[type]);
  }

  async delete<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<T> {
    const body = deleteOptionsBody(opts.preconditions);
    const query: Query = opts.dryRun ? { dryRun: 'All' } : {};
    const result = await this.request<T>(HttpMethod.DELETE, objectPath(gvr, namespace, name), query, body);
    if (isStatus(result)) {
      // A server may answer a delete with a `Status` of Success instead of the object: give back what it names.
      const details = result.details ?? {};
      const gone: KubeObject = { metadata: { name: details.name ?? name, ...(namespace ? { namespace } : {}), ...(details.uid ? { uid: details.uid } : {}) } };
      return gone as T;
    }
    return result;
  }

  /** DELETE on the collection: every object matching the selectors; answers the deleted objects. */
  deleteCollection<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    opts: ListOptions & DeleteOptions = {},
  ): Promise<KubeList<T>> {
    const { namespace, preconditions, dryRun, ...query } = opts;
    const body = deleteOptionsBody(preconditions);
    return this.request<KubeList<T>>(HttpMethod.DELETE, collectionPath(gvr, namespace), { ...query, ...(dryRun ? { dryRun: 'All' } : {}) }, body);
  }

  watch<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    const { namespace, ...rest } = opts;
    const path = collectionPath(gvr, namespace);
    const query: Query = { ...rest };
    const what = `watch ${path}`;
    let controller: AbortController | undefined;
    let stopped = false;
    let settle!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      let settled = false;
      settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (err === undefined || stopped) resolve();
        else reject(toApiError(err, what));
      };
    });
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      controller?.abort();
      settle();
    };
    const handle: WatchHandle = { stop, done };
    this.watches.add(handle);
    const forget = () => this.watches.delete(handle);
    done.then(forget, forget);

    new Watch(this.kubeConfig)
      .watch(
        path,
        query,
        (phase: string, apiObj: unknown) => {
          if (stopped) return;
          if (!eventTypes.has(phase as WatchEventType) || typeof apiObj !== 'object' || apiObj === null) {
            this.log.warnOnce(`bad-watch-event-${phase}`, 'ignoring a malformed watch event', { path, type: phase });
            return;
          }
          const event = { type: phase as WatchEventType, object: apiObj as T };
          onEvent(event);
          // The server closes the stream after an ERROR event; end our side at once either way.
          if (phase === 'ERROR') stop();
        },
        (err: unknown) => settle(err ?? undefined),
      )
      .then(
        (c) => {
          controller = c;
          if (stopped) c.abort();
        },
        (err: unknown) => settle(err),
      );
    return handle;
  }

  async close(): Promise<void> {
    const all = [...this.watches];
    for (const w of all) w.stop();
    await Promise.allSettled(all.map((w) => w.done));
  }

  private writeQuery(opts: WriteOptions): Query {
    return { fieldManager: this.fieldManager, ...(opts.dryRun ? { dryRun: 'All' } : {}) };
  }

  private async request<R>(method: HttpMethod, path: string, query: Query = {}, body?: unknown, contentType = 'application/json'): Promise<R> {
    const what = `${method} ${path}`;
    const ctx = this.config.baseServer.makeRequestContext(path, method);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') ctx.setQueryParam(k, String(v));
    ctx.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType);
      ctx.setBody(JSON.stringify(body));
    }
    ctx.setSignal(AbortSignal.timeout(this.requestTimeoutMs));
    let code: number;
    let text: string;
    try {
      await this.kubeConfig.applySecurityAuthentication(ctx);
      const response = await this.config.httpApi.send(ctx).toPromise();
      code = response.httpStatusCode;
      text = await response.body.text();
    } catch (err) {
      throw toApiError(err, what);
    }
    if (code < 200 || code > 299) throw toApiError({ code, body: text }, what);
    try {
      return JSON.parse(text) as R;
    } catch {
      throw new ApiError(statusForCode(500, `${what}: undecodable response body: ${text.slice(0, 200)}`));
    }
  }
}

function groupPrefix(gvr: GroupVersionResource): string {
  return gvr.group ? `/apis/${gvr.group}/${gvr.version}` : `/api/${gvr.version}`;
}

export function collectionPath(gvr: GroupVersionResource, namespace: string | undefined): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupPrefix(gvr)}${ns}/${gvr.resource}`;
}

export function objectPath(gvr: GroupVersionResource, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(gvr, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
