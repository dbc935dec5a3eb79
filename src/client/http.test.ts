/**
 * HttpClient through client-node against a small wire adapter over FakeBackend on 127.0.0.1 (the real API server
 * is tested in test/integration/client-http.test.ts). Checks URLs, bodies, error mapping, watches, and that the
 * informer recovers when the connection is killed mid-watch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { isStatus } from '../apis/meta.js';
import type { GroupVersionResource, KubeObject, WatchEvent } from '../apis/meta.js';
import { ApiError, isApiError } from '../apiserver/types.js';
import type { PatchType } from '../apiserver/types.js';
import { FakeBackend } from './fake-backend.js';
import { HttpClient } from './http.js';
import { toApiError } from './http-errors.js';
import { Informer } from './informer.js';
import { loadKubeConfig } from './kubeconfig.js';
import { recordEvents, waitFor } from './testing.js';

const pods: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };
const anps: GroupVersionResource = { group: 'crd.antrea.io', version: 'v1beta1', resource: 'antreanetworkpolicies' };

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** Serves FakeBackend on the Kubernetes wire protocol, just enough for these tests. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, backend: FakeBackend, override?: (req: IncomingMessage, res: ServerResponse) => boolean) {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      if (override?.(req, res)) return;
      handle(backend, req, res, body).catch((err: unknown) => {
        const status = toApiError(err, 'fake').status;
        res.writeHead(status.code, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${port}`, seen, killConnections: () => sockets.forEach((s) => s.destroy()) };
}

async function handle(backend: FakeBackend, req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const parts = url.pathname.split('/').filter(Boolean);
  const gvr: GroupVersionResource = parts[0] === 'api' ? { group: '', version: parts[1] ?? '', resource: '' } : { group: parts[1] ?? '', version: parts[2] ?? '', resource: '' };
  let rest = parts.slice(parts[0] === 'api' ? 2 : 3);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  gvr.resource = rest[0] ?? '';
  const name = rest[1];
  const q = url.searchParams;
  const json = (code: number, obj: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
  };
  const parsed: unknown = body ? JSON.parse(body) : undefined;
  if (req.method === 'GET' && q.get('watch') === 'true') {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const w = backend.watch(
      gvr,
      {
        ...(namespace ? { namespace } : {}),
        resourceVersion: q.get('resourceVersion') ?? '',
        ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector') as string } : {}),
      },
      (e: WatchEvent) => res.write(`${JSON.stringify(e)}\n`),
    );
    res.on('close', () => w.stop());
    w.done.then(
      () => res.end(),
      () => res.end(),
    );
    return;
  }
  if (req.method === 'GET' && name) return json(200, await backend.get(gvr, namespace, name));
  if (req.method === 'GET') return json(200, await backend.list(gvr, { ...(namespace ? { namespace } : {}) }));
  if (req.method === 'POST') return json(201, await backend.create(gvr, namespace, parsed as KubeObject));
  if (req.method === 'PUT') return json(200, await backend.update(gvr, namespace, parsed as KubeObject));
  if (req.method === 'PATCH') {
    const type: PatchType = req.headers['content-type'] === 'application/merge-patch+json' ? 'merge' : 'json';
    return json(200, await backend.patch(gvr, namespace, name ?? '', type, parsed));
  }
  if (req.method === 'DELETE') return json(200, await backend.delete(gvr, namespace, name ?? ''));
  json(405, ApiError.of('MethodNotAllowed', 'no').status);
}

function pod(ns: string, name: string): KubeObject & { spec: { weird: { kept: boolean } } } {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name }, spec: { weird: { kept: true } } };
}

test('CRUD over HTTP keeps the wire shape, sends the right URLs, content types and field manager', async (t) => {
  const backend = new FakeBackend();
  const { url, seen } = await serve(t, backend);
  const client = new HttpClient({ server: url });
  t.after(() => client.close());
  const api = client.resource(pods).inNamespace('ns1');
  const created = await api.create(pod('ns1', 'p1'));
  assert.equal(created.metadata.resourceVersion, '2');
  assert.deepEqual((created as ReturnType<typeof pod>).spec, { weird: { kept: true } }, 'unknown fields survive');
  const got = await api.get('p1');
  assert.equal(typeof got.metadata.uid, 'string');
  const patched = await api.mergePatch('p1', { metadata: { labels: { a: 'b' } } });
  assert.equal(patched.metadata.labels?.a, 'b');
  const updated = await api.update({ ...patched, metadata: { ...patched.metadata, annotations: { x: 'y' } } });
  assert.equal(updated.metadata.annotations?.x, 'y');
  const list = await client.list(pods, { namespace: 'ns1', labelSelector: 'a=b' });
  assert.deepEqual(list.items.map((o) => o.metadata.name), ['p1']);
  await api.delete('p1');
  assert.equal(await api.tryGet('p1'), undefined);
  await client.resource(anps).inNamespace('ns1').tryGet('x');

  const lines = seen.map((s) => `${s.method} ${s.url.split('?')[0]}`);
  assert.deepEqual(lines, [
    'POST /api/v1/namespaces/ns1/pods',
    'GET /api/v1/namespaces/ns1/pods/p1',
    'PATCH /api/v1/namespaces/ns1/pods/p1',
    'PUT /api/v1/namespaces/ns1/pods/p1',
    'GET /api/v1/namespaces/ns1/pods',
    'DELETE /api/v1/namespaces/ns1/pods/p1',
    'GET /api/v1/namespaces/ns1/pods/p1',
    'GET /apis/crd.antrea.io/v1beta1/namespaces/ns1/antreanetworkpolicies/x',
  ]);
  assert.equal(seen[2]?.contentType, 'application/merge-patch+json');
  assert.match(seen[0]?.url ?? '', /fieldManager=antrea-ts/);
  assert.match(seen[4]?.url ?? '', /labelSelector=a%3Db/);
});

test('failures become ApiErrors carrying the server Status, or one made from the code', async (t) => {
  const backend = new FakeBackend();
  const { url } = await serve(t, backend, (req, res) => {
    if (req.url?.includes('/plain')) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream down');
      return true;
    }
    if (req.url?.includes('/empty')) {
      res.writeHead(403).end();
      return true;
    }
    return false;
  });
  const client = new HttpClient({ server: url });
  t.after(() => client.close());
  const api = client.resource(pods).inNamespace('ns1');
  await api.create(pod('ns1', 'p1'));

  const notFound = await api.get('nope').catch((e: unknown) => e);
  assert.ok(isApiError(notFound, 'NotFound'));
  assert.equal(notFound.statusCode, 404);
  assert.equal(notFound.status.details?.name, 'nope');
  assert.match(notFound.message, /"nope" not found/);

  const exists = await api.create(pod('ns1', 'p1')).catch((e: unknown) => e);
  assert.ok(isApiError(exists, 'AlreadyExists'));
  const conflict = await api.update({ ...pod('ns1', 'p1'), metadata: { namespace: 'ns1', name: 'p1', resourceVersion: '1' } }).catch((e: unknown) => e);
  assert.ok(isApiError(conflict, 'Conflict'));

  const plain = await api.get('plain').catch((e: unknown) => e);
  assert.ok(isApiError(plain, 'ServiceUnavailable'));
  assert.match(plain.message, /HTTP 503: upstream down/);
  const empty = await api.get('empty').catch((e: unknown) => e);
  assert.ok(isApiError(empty, 'Forbidden'));

  const refused = await new HttpClient({ server: 'http://127.0.0.1:1' }).get(pods, 'x', 'y').catch((e: unknown) => e);
  assert.ok(isApiError(refused, 'ServiceUnavailable'));
  assert.match(refused.message, /cannot reach the API server/);
});

test('toApiError normalises the shapes client-node 1.x throws', () => {
  const status = ApiError.of('Invalid', 'Pod "p" is invalid', { causes: [{ field: 'spec.x' }] }).status;
  assert.equal(toApiError({ code: 422, body: JSON.stringify(status) }, 'x').status.details?.causes?.[0]?.field, 'spec.x');
  assert.equal(toApiError({ code: 422, body: Buffer.from(JSON.stringify(status)) }, 'x').reason, 'Invalid');
  assert.equal(toApiError({ code: 422, body: status }, 'x').reason, 'Invalid');
  assert.equal(toApiError({ code: 409, body: undefined }, 'x').reason, 'Conflict');
  assert.equal(toApiError(Object.assign(new Error('Gone'), { statusCode: 410 }), 'x').statusCode, 410);
  assert.equal(toApiError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'x').reason, 'ServiceUnavailable');
  assert.equal(toApiError(new Error('odd'), 'x').statusCode, 500);
});

test('kubeconfig: http on loopback is allowed (skipTLSVerify set for client-node), elsewhere refused', async () => {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ name: 'c', server: 'http://127.0.0.1:6443/', skipTLSVerify: false }, { name: 'u' });
  loadKubeConfig({ kubeconfig: kc });
  assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
  assert.equal(kc.getCurrentCluster()?.server, 'http://127.0.0.1:6443');
  const remote = new KubeConfig();
  remote.loadFromClusterAndUser({ name: 'c', server: 'http://10.0.0.1:6443', skipTLSVerify: false }, { name: 'u' });
  assert.throws(() => loadKubeConfig({ kubeconfig: remote }), /plain HTTP .* non-loopback/);
  assert.throws(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' }), (e: unknown) => (e as { code?: string }).code === 'ERR_KUBECONFIG');

  // From a file named by KUBECONFIG, with a context chosen by name.
  const dir = mkdtempSync(join(tmpdir(), 'antrea-kc-'));
  const file = join(dir, 'config');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: local, cluster: {server: "http://127.0.0.1:7443"}}, {name: other, cluster: {server: "https://10.1.1.1"}}]',
      'users: [{name: u, user: {}}]',
      'contexts: [{name: local, context: {cluster: local, user: u}}, {name: other, context: {cluster: other, user: u}}]',
      'current-context: other',
    ].join('\n'),
  );
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = file;
  try {
    const fromEnv = new HttpClient({ context: 'local' });
    assert.equal(fromEnv.server, 'http://127.0.0.1:7443');
    assert.equal(fromEnv.kubeConfig.getCurrentCluster()?.skipTLSVerify, true);
    assert.equal(new HttpClient({ kubeconfig: file }).server, 'https://10.1.1.1');
    assert.throws(() => new HttpClient({ context: 'nope' }), /no context "nope"/);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watch streams events through client-node and ends after an ERROR event', async (t) => {
  const backend = new FakeBackend();
  const { url } = await serve(t, backend);
  const client = new HttpClient({ server: url });
  t.after(() => client.close());
  await client.create(pods, 'ns1', pod('ns1', 'p1'));
  const events: string[] = [];
  const w = client.watch(pods, { namespace: 'ns1', resourceVersion: '1', allowWatchBookmarks: true }, (e) => {
    events.push(`${e.type} ${isStatus(e.object) ? e.object.code : e.object.metadata.name}`);
  });
  await waitFor(() => events.length === 1, 'the replayed ADDED');
  await client.create(pods, 'ns1', pod('ns1', 'p2'));
  await waitFor(() => events.length === 2, 'a live ADDED');
  backend.errorWatches(ApiError.of('Expired', 'too old').status);
  await w.done;
  assert.deepEqual(events, ['ADDED p1', 'ADDED p2', 'ERROR 410']);
});

test('a watch refused with HTTP 410 rejects done with an ApiError 410', async (t) => {
  const backend = new FakeBackend();
  const { url } = await serve(t, backend, (req, res) => {
    if (!req.url?.includes('watch=true')) return false;
    res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify(ApiError.of('Gone', 'gone').status));
    return true;
  });
  const client = new HttpClient({ server: url });
  const w = client.watch(pods, {}, () => undefined);
  await assert.rejects(w.done, (e: unknown) => isApiError(e) && e.statusCode === 410);
});

test('informer over HTTP: events arrive; killing the connection mid-watch recovers without a re-list', async (t) => {
  const backend = new FakeBackend();
  const { url, killConnections, seen } = await serve(t, backend);
  const client = new HttpClient({ server: url });
  t.after(() => client.close());
  await client.create(pods, 'ns1', pod('ns1', 'before'));
  const informer = new Informer(client, { gvr: pods, backoff: { initialMs: 20, maxMs: 200 } });
  t.after(() => informer.stop());
  const events = recordEvents(informer);
  informer.start();
  await informer.waitForSync(5000);
  await client.create(pods, 'ns1', pod('ns1', 'p1'));
  await waitFor(() => events.includes('add ns1/p1'), 'an event over HTTP');
  const watchUrl = seen.find((s) => s.url.includes('watch=true'))?.url ?? '';
  assert.match(watchUrl, /allowWatchBookmarks=true/);
  assert.match(watchUrl, /resourceVersion=2/);

  killConnections();
  await client.create(pods, 'ns1', pod('ns1', 'p2'));
  await waitFor(() => events.includes('add ns1/p2'), 'an event after the connection was killed', 5000);
  assert.equal(backend.listCalls, 1, 'resumed from the last RV, no re-list');
  assert.ok(informer.stats.watchErrors + informer.stats.watches >= 2);
  await informer.stop();
  await waitFor(() => backend.openWatches === 0, 'the server-side watch to end');
});
