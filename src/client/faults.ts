/**
 * Fault injection around a real API for tests: `FaultyBackend` wraps an `ApiBackend` (in-process), `TcpProxy` sits
 * between an HTTP client and a server on 127.0.0.1. Both can break every open watch and refuse new requests.
 */
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { GroupVersionResource, KubeList, KubeObject, WatchEvent } from '../apis/meta.js';
import { ApiError } from '../apiserver/types.js';
import type { ApiBackend, DeleteOptions, ListOptions, PatchType, WatchHandle, WatchOptions, WriteOptions } from '../apiserver/types.js';

export class FaultyBackend implements ApiBackend {
  private blocked = false;
  private readonly open = new Set<(err: ApiError) => void>();
  /** list and watch requests made, refused ones included. */
  requests = 0;

  constructor(private readonly inner: ApiBackend) {}

  /** While blocked, list and watch fail at once with 503, as if the server could not be reached. */
  setBlocked(blocked: boolean): void {
    this.blocked = blocked;
  }

  /** Ends every open watch with an error, as a reset connection would. */
  breakWatches(): void {
    for (const breakIt of [...this.open]) breakIt(ApiError.of('ServiceUnavailable', 'connection reset (injected)'));
  }

  async list<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts?: ListOptions): Promise<KubeList<T>> {
    this.requests++;
    if (this.blocked) throw ApiError.of('ServiceUnavailable', 'connection refused (injected)');
    return this.inner.list<T>(gvr, opts);
  }

  watch<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, opts: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchHandle {
    this.requests++;
    if (this.blocked) {
      return { stop: () => undefined, done: Promise.reject(ApiError.of('ServiceUnavailable', 'connection refused (injected)')) };
    }
    let broken = false;
    const inner = this.inner.watch<T>(gvr, opts, (e) => {
      if (!broken) onEvent(e);
    });
    let breakIt!: (err: ApiError) => void;
    const done = new Promise<void>((resolve, reject) => {
      breakIt = (err) => {
        broken = true;
        inner.stop();
        reject(err);
      };
      inner.done.then(resolve, reject);
    });
    this.open.add(breakIt);
    const forget = () => this.open.delete(breakIt);
    done.then(forget, forget);
    return { stop: () => inner.stop(), done };
  }

  get<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<T> {
    return this.inner.get<T>(gvr, namespace, name);
  }

  create<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts?: WriteOptions): Promise<T> {
    return this.inner.create<T>(gvr, namespace, obj, opts);
  }

  update<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, obj: T, opts?: WriteOptions): Promise<T> {
    return this.inner.update<T>(gvr, namespace, obj, opts);
  }

  patch<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: WriteOptions,
  ): Promise<T> {
    return this.inner.patch<T>(gvr, namespace, name, type, patch, opts);
  }

  delete<T extends KubeObject = KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T> {
    return this.inner.delete<T>(gvr, namespace, name, opts);
  }
}

/** A TCP proxy on 127.0.0.1 in front of `target` (host:port). */
export class TcpProxy {
  private blocked = false;
  private readonly pairs = new Set<Socket>();
  /** Connections attempted, refused ones included. */
  connections = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      proxy.connections++;
      if (proxy.blocked) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: targetHost, port: targetPort });
      for (const s of [client, upstream]) {
        proxy.pairs.add(s);
        s.on('close', () => proxy.pairs.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** While blocked, new connections are closed at once. */
  setBlocked(blocked: boolean): void {
    this.blocked = blocked;
  }

  /** Destroys every open connection (both sides), as a network failure would. */
  killConnections(): void {
    for (const s of [...this.pairs]) s.destroy();
  }

  async close(): Promise<void> {
    this.killConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
