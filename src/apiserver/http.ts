/**
 * The Kubernetes REST and watch protocol over node:http, in front of a Store. kubectl and
 * @kubernetes/client-node work against it (see ../../shared/reference/kube-api.md for what that takes).
 *
 * Every failure is a `Status` with the right code and reason; an unexpected exception is logged and answered
 * 500 InternalError without a stack trace; bad input never crashes the process.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import type { GroupVersionResource, KubeObject, Status, WatchEvent } from '../apis/meta.js';
import { createLogger, type Logger } from '../util/log.js';
import { describeError } from '../util/errors.js';
import { boundPort, listen } from '../util/listen.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  negotiateDiscovery,
  openApiV2ContentType,
  openApiV2Protobuf,
  openApiV3Document,
  openApiV3Index,
} from './discovery.js';
import { type ResourceDef, Registry, apiVersionOf } from './registry.js';
import type { Store } from './store.js';
import { columnDefinitions, type IncludeObject, tableRow, toTable } from './table.js';
import { ApiError, type DeleteOptions, type ListOptions, type PatchType, type WatchOptions } from './types.js';

export interface ApiServerOptions {
  backend: Store;
  /** Only loopback is supported; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Types served; default the backend's registry. */
  resources?: Registry | readonly ResourceDef[];
  logger?: Logger;
  /** What `/version` reports; default 1.32 (kubectl's dispatcher runs the matching kubectl). */
  version?: { major: string; minor: string };
  /** Largest request body accepted (default 3 MiB, as kube-apiserver). */
  maxBodyBytes?: number;
}

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const jsonType = 'application/json';

interface Route {
  gvr: GroupVersionResource;
  def: ResourceDef;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

class HttpError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function status(reason: Status['reason'], code: number, message: string, details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const notFoundPath = () => new HttpError(status('NotFound', 404, 'the server could not find the requested resource', {}));
const methodNotAllowed = () => new HttpError(status('MethodNotAllowed', 405, 'the server does not allow this method on the requested resource'));

/** Starts the API server; resolves once it listens. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') throw new Error(`the local API server only listens on loopback, not ${host}`);
  const store = opts.backend;
  const reg = opts.resources instanceof Registry ? opts.resources : opts.resources ? new Registry(opts.resources) : store.registry;
  const log = opts.logger ?? createLogger({ level: 'warn' });
  const version = opts.version ?? { major: '1', minor: '32' };
  const maxBody = opts.maxBodyBytes ?? 3 * 1024 * 1024;
  const sockets = new Set<Socket>();
  const watches = new Set<() => void>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // handle() answers every error itself; this is the last line of defence.
      log.error('unhandled API server error', { error: describeError(err) });
      if (!res.headersSent) send(res, 500, status('InternalError', 500, 'an error on the server has prevented the request from succeeding'));
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    // Malformed HTTP (not just a bad body): answer with a Status and close the connection.
    if (!socket.writable) return void socket.destroy();
    const body = JSON.stringify(status('BadRequest', 400, 'the request could not be parsed as HTTP/1.1'));
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  function send(res: ServerResponse, code: number, body: unknown, contentType = jsonType): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    res.end(text);
  }

  function sendError(res: ServerResponse, err: unknown, req: IncomingMessage): void {
    let st: Status;
    if (err instanceof ApiError) st = err.status;
    else if (err instanceof HttpError) st = err.status;
    else {
      log.error('request failed', { method: req.method, url: req.url, error: describeError(err) });
      st = status('InternalError', 500, `an error on the server ("${describeError(err).slice(0, 200)}") has prevented the request from succeeding`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, st.code, st);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = Date.now();
    try {
      await dispatch(req, res);
    } catch (err) {
      sendError(res, err, req);
    }
    log.debug('request', { method: req.method, url: req.url, code: res.statusCode, ms: Date.now() - start });
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const url = new URL(raw.startsWith('/') ? `http://localhost${raw}` : raw, 'http://localhost');
    let parts: string[];
    try {
      parts = url.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
    } catch {
      throw ApiError.of('BadRequest', 'the request path is not valid percent-encoded UTF-8');
    }
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const accept = req.headers.accept;
    const p0 = parts[0];

    // ---- non-resource paths
    if (parts.length === 1 && (p0 === 'healthz' || p0 === 'readyz' || p0 === 'livez')) return send(res, 200, 'ok', 'text/plain; charset=utf-8');
    if (parts.length === 2 && (p0 === 'healthz' || p0 === 'readyz' || p0 === 'livez')) return send(res, 200, 'ok', 'text/plain; charset=utf-8');
    if (p0 === 'version' && parts.length === 1) {
      return send(res, 200, {
        major: version.major,
        minor: version.minor,
        gitVersion: `v${version.major}.${version.minor}.0`,
        gitCommit: 'antrea-ts',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.23',
        compiler: 'gc',
        platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      });
    }
    if (p0 === 'openapi') {
      if (parts[1] === 'v2' && parts.length === 2) return send(res, 200, openApiV2Protobuf.toString('latin1'), openApiV2ContentType);
      if (parts[1] === 'v3' && parts.length === 2) return send(res, 200, openApiV3Index(reg));
      if (parts[1] === 'v3') {
        const doc = openApiV3Document(reg, parts.slice(2).join('/'));
        if (doc) return send(res, 200, doc);
      }
      throw notFoundPath();
    }
    if (p0 !== 'api' && p0 !== 'apis') throw notFoundPath();

    // ---- discovery
    if (method === 'GET') {
      if (parts.length === 1) {
        const flavour = negotiateDiscovery(accept);
        if (flavour) return send(res, 200, aggregatedDiscovery(reg, p0 === 'api', flavour), aggregatedContentType(flavour));
        const host = req.headers.host ?? `${opts.host ?? '127.0.0.1'}`;
        return send(res, 200, p0 === 'api' ? apiVersions(host) : apiGroupList(reg));
      }
      if (p0 === 'api' && parts.length === 2) {
        const doc = apiResourceList(reg, '', parts[1]!);
        if (doc) return send(res, 200, doc);
        throw notFoundPath();
      }
      if (p0 === 'apis' && parts.length === 2) {
        const doc = apiGroup(reg, parts[1]!);
        if (doc) return send(res, 200, doc);
        throw notFoundPath();
      }
      if (p0 === 'apis' && parts.length === 3) {
        const doc = apiResourceList(reg, parts[1]!, parts[2]!);
        if (doc) return send(res, 200, doc);
        throw notFoundPath();
      }
    }

    // ---- resources
    const route = parseRoute(parts);
    if (!route) throw notFoundPath();
    if (route.subresource !== undefined && (route.subresource !== 'status' || !route.def.statusSubresource)) throw notFoundPath();
    const dryRun = q.getAll('dryRun').includes('All');
    const writeOpts = { ...(route.subresource === 'status' ? { subresource: 'status' as const } : {}), ...(dryRun ? { dryRun: true } : {}) };
    const table = wantsTable(accept);

    if (route.name === undefined) {
      // collection
      switch (method) {
        case 'GET': {
          const watch = q.get('watch');
          if (watch === 'true' || watch === '1') return serveWatch(req, res, route, q, table);
          return serveList(res, route, q, table);
        }
        case 'POST': {
          const body = await readObject(req, route);
          const created = await store.create(route.gvr, route.namespace, body, writeOpts);
          return send(res, 201, created);
        }
        case 'DELETE': {
          const del = await readDeleteOptions(req);
          const out = await store.deleteCollection(route.gvr, { ...listOptions(route, q), ...del, ...(dryRun ? { dryRun: true } : {}) });
          return send(res, 200, out);
        }
        default:
          throw methodNotAllowed();
      }
    }

    const name = route.name;
    switch (method) {
      case 'GET': {
        const w = q.get('watch');
        if ((w === 'true' || w === '1') && !route.subresource) {
          // The old single-object watch: the same as a collection watch on metadata.name.
          const fs = q.get('fieldSelector');
          q.set('fieldSelector', fs ? `${fs},metadata.name=${name}` : `metadata.name=${name}`);
          return serveWatch(req, res, { ...route, name: undefined }, q, table);
        }
        const obj = await store.get(route.gvr, route.namespace, name);
        if (table) return send(res, 200, toTable(route.def, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '' }, { include: includeObject(q), apiVersion: `meta.k8s.io/${table}` }));
        return send(res, 200, obj);
      }
      case 'PUT': {
        const body = await readObject(req, route);
        if (body.metadata.name && body.metadata.name !== name) {
          throw ApiError.of('BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
        }
        body.metadata.name = name;
        return send(res, 200, await store.update(route.gvr, route.namespace, body, writeOpts));
      }
      case 'PATCH': {
        const type = patchType(req.headers['content-type']);
        const raw = await readBody(req);
        const patch = type === 'apply' ? decodeYamlOrJson(raw) : decodeJson(raw);
        if (type === 'apply' && (typeof patch !== 'object' || patch === null || Array.isArray(patch))) throw ApiError.of('BadRequest', 'the body of an apply patch must be an object');
        if (type === 'apply') checkApplyBody(patch as KubeObject, route);
        return send(res, 200, await store.patch(route.gvr, route.namespace, name, type, patch, writeOpts));
      }
      case 'DELETE': {
        if (route.subresource) throw methodNotAllowed();
        const del = await readDeleteOptions(req);
        return send(res, 200, await store.delete(route.gvr, route.namespace, name, { ...del, ...(dryRun ? { dryRun: true } : {}) }));
      }
      default:
        throw methodNotAllowed();
    }
  }

  /** `/api/v1/...` or `/apis/G/V/...` after discovery: which resource, namespace, name, subresource. */
  function parseRoute(parts: string[]): Route | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api') {
      group = '';
      version = parts[1]!;
      rest = parts.slice(2);
    } else {
      group = parts[1]!;
      version = parts[2]!;
      rest = parts.slice(3);
    }
    if (!version || rest.length === 0) return undefined;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const inner = reg.lookup({ group, version, resource: rest[2]! });
      if (inner?.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      }
    }
    if (rest.length > 3) return undefined;
    const gvr = { group, version, resource: rest[0]! };
    const def = reg.lookup(gvr);
    if (!def) return undefined;
    if (!def.namespaced && namespace !== undefined) return undefined;
    // A namespaced object needs a namespace in the URL; the all-namespaces form is only for collections.
    if (def.namespaced && namespace === undefined && rest.length > 1) return undefined;
    return { gvr, def, namespace, name: rest[1], subresource: rest[2] };
  }

  function listOptions(route: Route, q: URLSearchParams): ListOptions {
    const o: ListOptions = {};
    if (route.namespace !== undefined) o.namespace = route.namespace;
    const ls = q.get('labelSelector');
    if (ls) o.labelSelector = ls;
    const fs = q.get('fieldSelector');
    if (fs) o.fieldSelector = fs;
    const rv = q.get('resourceVersion');
    if (rv) o.resourceVersion = rv;
    const rvm = q.get('resourceVersionMatch');
    if (rvm) {
      if (rvm !== 'Exact' && rvm !== 'NotOlderThan') throw ApiError.of('Invalid', `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "${rvm}"`, { kind: 'ListOptions' });
      o.resourceVersionMatch = rvm;
    }
    const limit = q.get('limit');
    if (limit) {
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 0) throw ApiError.of('BadRequest', `invalid limit: "${limit}"`);
      o.limit = n;
    }
    const cont = q.get('continue');
    if (cont) o.continue = cont;
    return o;
  }

  function serveList(res: ServerResponse, route: Route, q: URLSearchParams, table: TableVersion | undefined): void {
    const o = listOptions(route, q);
    // kubectl --sort-by and RV=0 lists are served whole, as the watch cache does.
    if (o.resourceVersion === '0' && !o.continue) delete o.limit;
    const { def, items, rv, cont, remaining } = store.listRaw(route.gvr, o);
    const meta = { resourceVersion: rv, ...(cont ? { continue: cont } : {}), ...(remaining !== undefined ? { remainingItemCount: remaining } : {}) };
    const apiVersion = apiVersionOf(def.group, route.gvr.version);
    const view = (x: KubeObject) => (x.apiVersion === apiVersion ? x : { ...x, apiVersion });
    if (table) return send(res, 200, toTable(def, items.map(view), meta, { include: includeObject(q), apiVersion: `meta.k8s.io/${table}` }));
    const head = JSON.stringify({ kind: `${def.kind}List`, apiVersion, metadata: meta });
    const body = `${head.slice(0, -1)},"items":[${items.map((x) => JSON.stringify(view(x))).join(',')}]}`;
    send(res, 200, body);
  }

  function serveWatch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, table: TableVersion | undefined): void {
    const lo = listOptions(route, q);
    const wo: WatchOptions = {
      ...(lo.namespace !== undefined ? { namespace: lo.namespace } : {}),
      ...(lo.labelSelector ? { labelSelector: lo.labelSelector } : {}),
      ...(lo.fieldSelector ? { fieldSelector: lo.fieldSelector } : {}),
      ...(lo.resourceVersion ? { resourceVersion: lo.resourceVersion } : {}),
    };
    if (q.get('allowWatchBookmarks') === 'true') wo.allowWatchBookmarks = true;
    const sie = q.get('sendInitialEvents');
    if (sie === 'true') wo.sendInitialEvents = true;
    if (lo.resourceVersionMatch && !wo.sendInitialEvents) {
      throw ApiError.of('Invalid', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided', { kind: 'ListOptions' });
    }
    const ts = q.get('timeoutSeconds');
    const timeout = ts !== null && ts !== '' ? Number(ts) : 1800 + Math.floor(Math.random() * 1800);
    if (!Number.isFinite(timeout) || timeout < 0) throw ApiError.of('BadRequest', `invalid timeoutSeconds: "${ts}"`);
    if (timeout > 0) wo.timeoutSeconds = timeout;
    const def = route.def;
    const include = includeObject(q);
    let first = true;
    const lineFor = (e: WatchEvent): string => {
      if (table && (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED')) {
        const t = {
          kind: 'Table',
          apiVersion: `meta.k8s.io/${table}`,
          metadata: { resourceVersion: e.object.metadata.resourceVersion ?? '' },
          columnDefinitions: first ? columnDefinitions(def) : [],
          rows: [tableRow(def, e.object as KubeObject, include, Date.now())],
        };
        first = false;
        return `{"type":"${e.type}","object":${JSON.stringify(t)}}\n`;
      }
      return `{"type":"${e.type}","object":${serialized(e.object)}}\n`;
    };
    const handleW = store.watch(route.gvr, wo, (e) => {
      if (res.destroyed) return handleW.stop();
      res.write(lineFor(e));
      // A client that stops reading is dropped, as a real server drops a watcher that cannot keep up.
      if (res.writableLength > 64 * 1024 * 1024) {
        log.warn('dropping a watch whose client does not keep up', { resource: route.gvr.resource });
        handleW.stop();
      }
    });
    res.writeHead(200, { 'Content-Type': jsonType, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const stop = () => handleW.stop();
    watches.add(stop);
    req.on('close', stop);
    res.on('close', stop);
    void handleW.done.then(() => {
      watches.delete(stop);
      if (!res.destroyed && !res.writableEnded) res.end();
    });
  }

  await listen(server, { port: opts.port ?? 0, host });
  const port = boundPort(server);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log.info('API server listening', { url: `http://${urlHost}:${port}` });
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stop of [...watches]) stop();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };

  // ---- body decoding

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      const b = c as Buffer;
      size += b.length;
      if (size > maxBody) throw new HttpError(status(undefined, 413, `the request body is larger than ${maxBody} bytes`));
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function readObject(req: IncomingMessage, route: Route): Promise<KubeObject> {
    const ct = (req.headers['content-type'] ?? jsonType).split(';')[0]!.trim();
    const raw = await readBody(req);
    const body = ct === 'application/yaml' ? decodeYamlOrJson(raw) : decodeJson(raw);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw ApiError.of('BadRequest', `the body of the request must be a ${route.def.kind} object`);
    }
    const o = body as KubeObject;
    if (typeof o.metadata !== 'object' || o.metadata === null) o.metadata = {};
    return o;
  }

  async function readDeleteOptions(req: IncomingMessage): Promise<DeleteOptions> {
    const raw = await readBody(req);
    if (raw.trim() === '') return {};
    const body = decodeJson(raw);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ApiError.of('BadRequest', 'the body of a delete must be a DeleteOptions object');
    const pre = (body as { preconditions?: unknown }).preconditions;
    if (pre && typeof pre === 'object') {
      const p = pre as { uid?: unknown; resourceVersion?: unknown };
      return { preconditions: { ...(typeof p.uid === 'string' ? { uid: p.uid } : {}), ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}) } };
    }
    return {};
  }

  function checkApplyBody(body: KubeObject, route: Route): void {
    if (typeof body.metadata !== 'object' || body.metadata === null) throw ApiError.of('BadRequest', 'an apply patch must have metadata');
    if (body.kind !== undefined && body.kind !== route.def.kind) throw ApiError.of('BadRequest', `the kind of the object (${String(body.kind)}) does not match the resource (${route.def.kind})`);
  }
}

// ---------------------------------------------------------------- helpers

/** JSON text of a watch event object, computed once per object for all the watchers it goes to. */
const jsonCache = new WeakMap<object, string>();
function serialized(o: object): string {
  let s = jsonCache.get(o);
  if (s === undefined) {
    s = JSON.stringify(o);
    if (Object.isFrozen(o)) jsonCache.set(o, s);
  }
  return s;
}

function decodeJson(raw: string): unknown {
  if (raw.trim() === '') throw ApiError.of('BadRequest', 'the request body is empty');
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw ApiError.of('BadRequest', `the body of the request could not be decoded: json parse error: ${describeError(err)}`);
  }
}

function decodeYamlOrJson(raw: string): unknown {
  if (raw.trim() === '') throw ApiError.of('BadRequest', 'the request body is empty');
  try {
    return parseYaml(raw) as unknown;
  } catch (err) {
    throw ApiError.of('BadRequest', `the body of the request could not be decoded: yaml parse error: ${describeError(err)}`);
  }
}

function patchType(contentType: string | undefined): PatchType {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  switch (ct) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply';
    default:
      throw ApiError.of(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}

type TableVersion = 'v1' | 'v1beta1';

/** Which Table version an Accept header asks for, if any (kubectl lists `application/json` last as a fallback). */
function wantsTable(accept: string | undefined): TableVersion | undefined {
  if (!accept) return undefined;
  for (const entry of accept.split(',')) {
    const [mime, ...params] = entry.split(';').map((s) => s.trim());
    if (mime !== 'application/json') continue;
    const m = new Map(params.map((p) => p.split('=').map((s) => s.trim()) as [string, string]));
    if (m.get('as') === 'Table' && m.get('g') === 'meta.k8s.io') {
      const v = m.get('v');
      if (v === 'v1' || v === 'v1beta1') return v;
    }
  }
  return undefined;
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}
