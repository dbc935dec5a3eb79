import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, type Store } from './store.js';
import { startApiServer, type ApiServer } from './http.js';
import { silentLogger } from '../util/log.js';

interface Ctx {
  store: Store;
  server: ApiServer;
  url: string;
}

async function start(t: { after(fn: () => unknown): void }, opts: Parameters<typeof createStore>[0] = {}): Promise<Ctx> {
  const store = createStore({ logger: silentLogger, ...opts });
  const server = await startApiServer({ backend: store, logger: silentLogger });
  t.after(async () => {
    await server.close();
    await store.close();
  });
  return { store, server, url: server.url };
}

async function req(ctx: Ctx, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${ctx.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, json, text, headers: res.headers };
}

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] },
  ...extra,
});

function assertStatus(r: { status: number; json: Record<string, unknown> }, code: number, reason: string) {
  assert.equal(r.status, code, JSON.stringify(r.json));
  assert.equal(r.json.kind, 'Status');
  assert.equal(r.json.apiVersion, 'v1');
  assert.equal(r.json.status, 'Failure');
  assert.equal(r.json.reason, reason);
  assert.equal(r.json.code, code);
}

test('version, health, discovery (legacy and aggregated), OpenAPI stubs', async (t) => {
  const ctx = await start(t);
  const v = await req(ctx, 'GET', '/version');
  assert.equal(v.json.minor, '32');
  for (const p of ['/healthz', '/readyz', '/livez']) assert.equal((await req(ctx, 'GET', p)).text, 'ok');
  const api = await req(ctx, 'GET', '/api');
  assert.deepEqual(api.json.versions, ['v1']);
  const apis = await req(ctx, 'GET', '/apis');
  assert.equal(apis.json.kind, 'APIGroupList');
  assert.deepEqual((apis.json.groups as { name: string }[]).map((g) => g.name), ['discovery.k8s.io']);
  const v1 = await req(ctx, 'GET', '/api/v1');
  const resources = v1.json.resources as { name: string; namespaced: boolean; verbs: string[]; shortNames?: string[] }[];
  const pods = resources.find((r) => r.name === 'pods')!;
  assert.equal(pods.namespaced, true);
  assert.deepEqual(pods.shortNames, ['po']);
  assert.ok(pods.verbs.includes('watch'));
  assert.ok(resources.findIndex((r) => r.name === 'pods/status') > resources.findIndex((r) => r.name === 'pods'));
  assert.equal(resources.find((r) => r.name === 'nodes')!.namespaced, false);
  const agg = await req(ctx, 'GET', '/api', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
  assert.match(agg.headers.get('content-type')!, /g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList/);
  assert.equal(agg.json.kind, 'APIGroupDiscoveryList');
  const beta = await req(ctx, 'GET', '/apis', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json' });
  assert.equal(beta.json.apiVersion, 'apidiscovery.k8s.io/v2beta1');
  assertStatus(await req(ctx, 'GET', '/apis/nope.io/v1'), 404, 'NotFound');
  const v2 = await fetch(`${ctx.url}/openapi/v2`);
  assert.deepEqual([...new Uint8Array(await v2.arrayBuffer())], [0x0a, 0x03, 0x32, 0x2e, 0x30]);
  const v3 = await req(ctx, 'GET', '/openapi/v3');
  const url = (v3.json.paths as Record<string, { serverRelativeURL: string }>)['api/v1']!.serverRelativeURL;
  const doc = await req(ctx, 'GET', url);
  const op = (doc.json.paths as Record<string, { patch: { 'x-kubernetes-group-version-kind': unknown } }>)['/api/v1/namespaces/{namespace}/pods/{name}']!;
  assert.deepEqual(op.patch['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Pod' });
});

test('CRUD over HTTP: create 201, get, list, update, patch (merge/json/strategic/apply), status, delete', async (t) => {
  const ctx = await start(t);
  const c = await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('p1'));
  assert.equal(c.status, 201);
  assert.equal((c.json.metadata as { namespace: string }).namespace, 'default');
  assert.equal(typeof (c.json.metadata as { resourceVersion: unknown }).resourceVersion, 'string');
  const g = await req(ctx, 'GET', '/api/v1/namespaces/default/pods/p1');
  assert.deepEqual(g.json, c.json);
  const all = await req(ctx, 'GET', '/api/v1/pods');
  assert.equal(all.json.kind, 'PodList');
  assert.equal((all.json.items as unknown[]).length, 1);
  assert.equal(typeof (all.json.metadata as { resourceVersion: unknown }).resourceVersion, 'string');
  const u = await req(ctx, 'PUT', '/api/v1/namespaces/default/pods/p1', { ...g.json, metadata: { ...(g.json.metadata as object), labels: { app: 'db' } } });
  assert.equal(u.status, 200);
  assertStatus(await req(ctx, 'PUT', '/api/v1/namespaces/default/pods/p1', g.json), 409, 'Conflict');
  const m = await req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', { metadata: { annotations: { a: 'b' } } }, { 'Content-Type': 'application/merge-patch+json' });
  assert.deepEqual((m.json.metadata as { annotations: unknown }).annotations, { a: 'b' });
  const j = await req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', [{ op: 'replace', path: '/metadata/labels/app', value: 'x' }], { 'Content-Type': 'application/json-patch+json' });
  assert.deepEqual((j.json.metadata as { labels: unknown }).labels, { app: 'x' });
  const s = await req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
  assert.equal((s.json.spec as { containers: { ports: unknown[] }[] }).containers[0]!.ports.length, 1);
  const st = await req(ctx, 'PUT', '/api/v1/namespaces/default/pods/p1/status', { ...s.json, status: { phase: 'Running', podIP: '10.0.0.9' } });
  assert.equal((st.json.status as { podIP: string }).podIP, '10.0.0.9');
  const gs = await req(ctx, 'GET', '/api/v1/namespaces/default/pods/p1/status');
  assert.equal((gs.json.status as { phase: string }).phase, 'Running');
  const ap = await req(ctx, 'PATCH', '/api/v1/namespaces/default/configmaps/cfg?fieldManager=kubectl&force=false', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n', {
    'Content-Type': 'application/apply-patch+yaml',
  });
  assert.equal(ap.status, 200, ap.text);
  assert.deepEqual(ap.json.data, { a: '1' });
  const d = await req(ctx, 'DELETE', '/api/v1/namespaces/default/pods/p1', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
  assert.equal(d.status, 200);
  assert.equal((d.json.metadata as { uid: string }).uid, (c.json.metadata as { uid: string }).uid);
  assertStatus(await req(ctx, 'GET', '/api/v1/namespaces/default/pods/p1'), 404, 'NotFound');
  // cluster-scoped and named-group resources
  const n = await req(ctx, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.10.1.0/24' } });
  assert.equal(n.status, 201);
  assert.equal((await req(ctx, 'GET', '/api/v1/nodes/n1')).status, 200);
  assert.equal((await req(ctx, 'GET', '/api/v1/namespaces/default')).json.kind, 'Namespace');
  const es = await req(ctx, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'] }],
  });
  assert.equal(es.status, 201, es.text);
  const beta = await req(ctx, 'GET', '/apis/discovery.k8s.io/v1beta1/namespaces/default/endpointslices');
  assert.equal((beta.json.items as { apiVersion: string }[])[0]!.apiVersion, 'discovery.k8s.io/v1beta1');
});

test('every error is a Status with the right code and reason, and changes nothing', async (t) => {
  const ctx = await start(t);
  await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('p1'));
  const rv = ctx.store.resourceVersion();
  assertStatus(await req(ctx, 'POST', '/api/v1/namespaces/default/pods', '{"metadata": '), 400, 'BadRequest');
  assertStatus(await req(ctx, 'POST', '/api/v1/namespaces/default/pods', '[1,2]'), 400, 'BadRequest');
  assertStatus(await req(ctx, 'GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound');
  assertStatus(await req(ctx, 'GET', '/nothing/here'), 404, 'NotFound');
  const inv = await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('Bad_Name'));
  assertStatus(inv, 422, 'Invalid');
  assert.equal((inv.json.details as { kind: string }).kind, 'Pod');
  assert.deepEqual((inv.json.details as { causes: { field: string }[] }).causes.map((c) => c.field), ['metadata.name']);
  assertStatus(await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('p1')), 409, 'AlreadyExists');
  assertStatus(await req(ctx, 'POST', '/api/v1/namespaces/nope/pods', pod('p2')), 404, 'NotFound');
  assertStatus(await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('p3', { metadata: { name: 'p3', namespace: 'other' } })), 400, 'BadRequest');
  assertStatus(await req(ctx, 'PUT', '/api/v1/namespaces/default/pods/p1', { ...pod('other') }), 400, 'BadRequest');
  assertStatus(await req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', { metadata: { resourceVersion: '1' } }, { 'Content-Type': 'application/merge-patch+json' }), 409, 'Conflict');
  assertStatus(await req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', '{}', { 'Content-Type': 'text/plain' }), 415, 'UnsupportedMediaType');
  assertStatus(await req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', '{"a":', { 'Content-Type': 'application/merge-patch+json' }), 400, 'BadRequest');
  assertStatus(await req(ctx, 'GET', '/api/v1/pods?labelSelector=a%20in%20(b'), 400, 'BadRequest');
  const fs = await req(ctx, 'GET', '/api/v1/pods?fieldSelector=spec.bogus%3D1');
  assertStatus(fs, 400, 'BadRequest');
  assert.equal(fs.json.message, 'field label not supported: spec.bogus');
  assertStatus(await req(ctx, 'GET', '/api/v1/pods?limit=2&continue=bogus'), 410, 'Expired');
  assertStatus(await req(ctx, 'PUT', '/api/v1/namespaces/default/pods'), 405, 'MethodNotAllowed');
  assertStatus(await req(ctx, 'GET', '/api/v1/namespaces/default/configmaps/x/status'), 404, 'NotFound');
  assertStatus(await req(ctx, 'DELETE', '/api/v1/namespaces/default/pods/p1', { preconditions: { uid: 'x' } }), 409, 'Conflict');
  const big = await req(ctx, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'big' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } });
  assert.equal(big.status, 413);
  assert.equal(ctx.store.resourceVersion(), rv);
  assert.equal((await req(ctx, 'GET', '/healthz')).text, 'ok', 'the server is still up');
});

test('pagination with limit and continue: one snapshot, same list RV on every page', async (t) => {
  const ctx = await start(t);
  for (let i = 0; i < 5; i++) await req(ctx, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `c${i}` } });
  const p1 = await req(ctx, 'GET', '/api/v1/namespaces/default/configmaps?limit=2');
  const meta1 = p1.json.metadata as { continue: string; resourceVersion: string; remainingItemCount: number };
  assert.equal(meta1.remainingItemCount, 3);
  const p2 = await req(ctx, 'GET', `/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(meta1.continue)}`);
  const meta2 = p2.json.metadata as { continue: string; resourceVersion: string };
  const p3 = await req(ctx, 'GET', `/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(meta2.continue)}`);
  assert.equal(meta2.resourceVersion, meta1.resourceVersion);
  assert.equal((p3.json.metadata as { continue?: string }).continue, undefined);
  const names = [p1, p2, p3].flatMap((p) => (p.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name));
  assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4']);
});

test('Table output with server-rendered cells and PartialObjectMetadata rows', async (t) => {
  const ctx = await start(t);
  await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('p1'));
  const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  const tb = await req(ctx, 'GET', '/api/v1/namespaces/default/pods?limit=500', undefined, { Accept: accept });
  assert.equal(tb.json.kind, 'Table');
  const cols = tb.json.columnDefinitions as { name: string; format: string; priority: number }[];
  assert.deepEqual(cols.map((c) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node']);
  assert.equal(cols[0]!.format, 'name');
  const row = (tb.json.rows as { cells: unknown[]; object: { kind: string; metadata: { labels: unknown } } }[])[0]!;
  assert.deepEqual(row.cells.slice(0, 4), ['p1', '0/1', 'Pending', 0]);
  assert.match(String(row.cells[4]), /^\d+s$/);
  assert.equal(row.object.kind, 'PartialObjectMetadata');
  assert.deepEqual(row.object.metadata.labels, { app: 'web' });
  const one = await req(ctx, 'GET', '/api/v1/namespaces/default/pods/p1', undefined, { Accept: accept });
  assert.equal((one.json.rows as unknown[]).length, 1);
  const plain = await req(ctx, 'GET', '/api/v1/namespaces/default/pods', undefined, { Accept: 'application/json' });
  assert.equal(plain.json.kind, 'PodList');
});

/** Reads a watch stream line by line. */
async function openWatch(ctx: Ctx, path: string) {
  const ac = new AbortController();
  const res = await fetch(`${ctx.url}${path}`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let ended = false;
  const next = async (): Promise<{ type: string; object: Record<string, unknown> & { metadata: Record<string, unknown> } } | undefined> => {
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return JSON.parse(line) as never;
      }
      if (ended) return undefined;
      const { value, done } = await reader.read();
      if (done) ended = true;
      else buf += dec.decode(value, { stream: true });
    }
  };
  return { res, next, close: () => ac.abort() };
}

test('watch over HTTP: one JSON line per event, selectors, timeoutSeconds ends the stream', async (t) => {
  const ctx = await start(t);
  await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('p1'));
  const w = await openWatch(ctx, '/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1&timeoutSeconds=2');
  assert.equal(w.res.status, 200);
  assert.equal(w.res.headers.get('content-type'), 'application/json');
  const first = await w.next();
  assert.equal(first!.type, 'ADDED');
  await req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', { metadata: { labels: { v: '2' } } }, { 'Content-Type': 'application/merge-patch+json' });
  await req(ctx, 'POST', '/api/v1/namespaces/default/pods', { ...pod('p2'), spec: { nodeName: 'n2', containers: [{ name: 'c' }] } });
  await req(ctx, 'DELETE', '/api/v1/namespaces/default/pods/p1');
  assert.equal((await w.next())!.type, 'MODIFIED');
  const del = await w.next();
  assert.equal(del!.type, 'DELETED');
  assert.equal(del!.object.metadata.name, 'p1');
  assert.equal(await w.next(), undefined, 'the stream ends at timeoutSeconds');
});

test('watch from an expired resourceVersion: 200, one ERROR 410 event, then the server closes', async (t) => {
  const ctx = await start(t, { historySize: 2 });
  const c = await req(ctx, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'c' } });
  for (let i = 0; i < 4; i++) await req(ctx, 'PATCH', '/api/v1/namespaces/default/configmaps/c', { data: { i: String(i) } }, { 'Content-Type': 'application/merge-patch+json' });
  const rv = (c.json.metadata as { resourceVersion: string }).resourceVersion;
  const w = await openWatch(ctx, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`);
  assert.equal(w.res.status, 200);
  const ev = await w.next();
  assert.equal(ev!.type, 'ERROR');
  assert.equal(ev!.object.code, 410);
  assert.equal(ev!.object.reason, 'Expired');
  assert.equal(await w.next(), undefined);
  // bad selector on a watch: a plain 400 before any event
  assertStatus(await req(ctx, 'GET', '/api/v1/pods?watch=true&labelSelector=%3D%3D'), 400, 'BadRequest');
});

test('Table watch: columnDefinitions only in the first event; bookmarks when asked', async (t) => {
  const ctx = await start(t);
  await req(ctx, 'POST', '/api/v1/namespaces/default/pods', pod('p1'));
  const res = await fetch(`${ctx.url}/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1`, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  const text = await (async () => {
    setTimeout(() => void req(ctx, 'PATCH', '/api/v1/namespaces/default/pods/p1', { metadata: { labels: { x: 'y' } } }, { 'Content-Type': 'application/merge-patch+json' }), 100);
    return res.text();
  })();
  const events = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { kind: string; columnDefinitions: unknown[] } });
  assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED']);
  assert.equal(events[0]!.object.kind, 'Table');
  assert.ok(events[0]!.object.columnDefinitions.length > 0);
  assert.equal(events[1]!.object.columnDefinitions.length, 0);
});

test('closing the server ends open watches', async (t) => {
  const store = createStore({ logger: silentLogger });
  t.after(() => store.close());
  const server = await startApiServer({ backend: store, logger: silentLogger });
  const res = await fetch(`${server.url}/api/v1/pods?watch=true`);
  const reading = res.text().catch(() => 'aborted');
  await server.close();
  await reading;
  assert.equal(store.stats().watchers, 0);
});
