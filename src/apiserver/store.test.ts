import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupVersionResource, KubeObject, WatchEvent } from '../apis/meta.js';
import type { Pod } from '../apis/core.js';
import { createStore, type Store } from './store.js';
import { defaultResources, defineResource, gvr } from './registry.js';
import { ApiError, isApiError } from './types.js';
import { silentLogger } from '../util/log.js';

const pod = (name: string, opts: { ns?: string; node?: string; labels?: Record<string, string>; ip?: string } = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: opts.ns ?? 'default', ...(opts.labels ? { labels: opts.labels } : {}) },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...(opts.node ? { nodeName: opts.node } : {}) },
  ...(opts.ip ? { status: { podIP: opts.ip } } : {}),
});

function newStore(t: { after(fn: () => unknown): void }, opts: Parameters<typeof createStore>[0] = {}): Store {
  const s = createStore({ logger: silentLogger, ...opts });
  t.after(() => s.close());
  return s;
}

/** Collects the events of a watch; `next(n)` waits for the n-th. */
function collect(store: Store, opts: Parameters<Store['watch']>[1], g: GroupVersionResource = gvr.pods) {
  const events: WatchEvent[] = [];
  const waiters: (() => void)[] = [];
  const handle = store.watch(g, opts, (e) => {
    events.push(e);
    for (const w of waiters.splice(0)) w();
  });
  const until = async (n: number) => {
    while (events.length < n) await new Promise<void>((r) => waiters.push(r));
    return events;
  };
  return { events, handle, until };
}

const tick = () => new Promise((r) => setImmediate(r));

async function rejects(p: Promise<unknown>, reason: string, code: number): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(isApiError(err), `expected ApiError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.equal(err.statusCode, code);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

test('create sets uid, creationTimestamp, generation and a string resourceVersion that increases', async (t) => {
  const s = newStore(t);
  const a = await s.create(gvr.pods, 'default', pod('a'));
  const b = await s.create(gvr.pods, 'default', pod('b'));
  assert.match(a.metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.match(a.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(a.metadata.generation, 1);
  assert.equal(typeof a.metadata.resourceVersion, 'string');
  assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  assert.equal(a.status?.phase, 'Pending', 'defaults applied');
  const got = await s.get<Pod>(gvr.pods, 'default', 'a');
  assert.deepEqual(got, a);
});

test('generateName appends five characters', async (t) => {
  const s = newStore(t);
  const p = pod('');
  p.metadata = { generateName: 'web-', namespace: 'default' };
  const c = await s.create(gvr.pods, 'default', p);
  assert.match(c.metadata.name!, /^web-[a-z0-9]{5}$/);
});

test('returned objects are copies: mutating them does not change the store', async (t) => {
  const s = newStore(t);
  const a = await s.create<Pod>(gvr.pods, 'default', pod('a'));
  a.spec.nodeName = 'x';
  const got = await s.get<Pod>(gvr.pods, 'default', 'a');
  assert.equal(got.spec.nodeName, undefined);
});

test('errors: not found, already exists, missing namespace, invalid with causes; the store is unchanged', async (t) => {
  const s = newStore(t);
  await s.create(gvr.pods, 'default', pod('a'));
  const before = s.resourceVersion();
  await rejects(s.get(gvr.pods, 'default', 'nope'), 'NotFound', 404);
  const ae = await rejects(s.create(gvr.pods, 'default', pod('a')), 'AlreadyExists', 409);
  assert.equal(ae.message, 'pods "a" already exists');
  const nf = await rejects(s.create(gvr.pods, 'missing', pod('x', { ns: 'missing' })), 'NotFound', 404);
  assert.equal(nf.message, 'namespaces "missing" not found');
  const inv = await rejects(s.create(gvr.pods, 'default', pod('Bad_Name')), 'Invalid', 422);
  assert.equal(inv.status.details?.kind, 'Pod');
  assert.equal(inv.status.details?.causes?.[0]?.field, 'metadata.name');
  const noContainers = pod('c');
  noContainers.spec.containers = [];
  const inv2 = await rejects(s.create(gvr.pods, 'default', noContainers), 'Invalid', 422);
  assert.deepEqual(inv2.status.details?.causes?.map((c) => c.field), ['spec.containers']);
  await rejects(s.create(gvr.pods, 'other', pod('a', { ns: 'default' })), 'BadRequest', 400);
  const withRv = pod('r');
  withRv.metadata.resourceVersion = '5';
  await rejects(s.create(gvr.pods, 'default', withRv), 'BadRequest', 400);
  await rejects(s.get({ group: '', version: 'v1', resource: 'widgets' }, 'default', 'a'), 'NotFound', 404);
  assert.equal(s.resourceVersion(), before);
  assert.equal((await s.list(gvr.pods)).items.length, 1);
});

test('update: optimistic concurrency, generation on spec change only, no-op keeps the resourceVersion', async (t) => {
  const s = newStore(t);
  const a = await s.create<Pod>(gvr.pods, 'default', pod('a'));
  const w = collect(s, { resourceVersion: a.metadata.resourceVersion! });
  // metadata-only change: new RV, same generation
  const labelled = await s.update<Pod>(gvr.pods, 'default', { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } });
  assert.notEqual(labelled.metadata.resourceVersion, a.metadata.resourceVersion);
  assert.equal(labelled.metadata.generation, 1);
  // spec change: generation + 1
  const changed = await s.update<Pod>(gvr.pods, 'default', { ...labelled, spec: { ...labelled.spec, nodeName: 'n1' } });
  assert.equal(changed.metadata.generation, 2);
  // stale RV: 409, nothing changes
  const rvBefore = s.resourceVersion();
  const c = await rejects(s.update(gvr.pods, 'default', { ...a, metadata: { ...a.metadata, labels: { z: 'z' } } }), 'Conflict', 409);
  assert.match(c.message, /Operation cannot be fulfilled on pods "a": the object has been modified/);
  assert.equal(s.resourceVersion(), rvBefore);
  // no-op: same RV, no event
  const same = await s.update<Pod>(gvr.pods, 'default', changed);
  assert.equal(same.metadata.resourceVersion, changed.metadata.resourceVersion);
  await w.until(2);
  await tick();
  assert.deepEqual(w.events.map((e) => e.type), ['MODIFIED', 'MODIFIED']);
  w.handle.stop();
  // status is ignored on the main resource, and a /status write changes only status without bumping generation
  const ignored = await s.update<Pod>(gvr.pods, 'default', { ...changed, status: { phase: 'Running' } });
  assert.equal(ignored.status?.phase, 'Pending');
  assert.equal(ignored.metadata.resourceVersion, changed.metadata.resourceVersion);
  const st = await s.update<Pod>(gvr.pods, 'default', { ...changed, spec: { ...changed.spec, hostNetwork: true }, status: { phase: 'Running', podIP: '10.0.0.5' } }, { subresource: 'status' });
  assert.equal(st.status?.phase, 'Running');
  assert.equal(st.spec.hostNetwork, undefined);
  assert.equal(st.metadata.generation, 2);
  // unconditional update without RV works for built-ins
  const { resourceVersion: _rv, ...metaNoRv } = st.metadata;
  const u = await s.update<Pod>(gvr.pods, 'default', { ...st, metadata: { ...metaNoRv, labels: { a: 'b' } } });
  assert.deepEqual(u.metadata.labels, { a: 'b' });
  await rejects(s.update(gvr.pods, 'default', pod('ghost')), 'NotFound', 404);
  await rejects(s.update(gvr.pods, 'default', { ...u, spec: { ...u.spec, nodeName: 'n2' } }), 'Invalid', 422);
});

test('patch: merge, json, strategic, apply (creates when absent); preconditions; bad patches change nothing', async (t) => {
  const s = newStore(t);
  await s.create(gvr.pods, 'default', pod('a', { labels: { app: 'web', tier: 'fe' } }));
  const m = await s.patch<Pod>(gvr.pods, 'default', 'a', 'merge', { metadata: { labels: { tier: null, env: 'prod' } } });
  assert.deepEqual(m.metadata.labels, { app: 'web', env: 'prod' });
  const j = await s.patch<Pod>(gvr.pods, 'default', 'a', 'json', [{ op: 'add', path: '/metadata/labels/x', value: '1' }]);
  assert.equal(j.metadata.labels?.x, '1');
  const sm = await s.patch<Pod>(gvr.pods, 'default', 'a', 'strategic', {
    spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], '$setElementOrder/containers': [{ name: 'c' }] },
  });
  assert.equal(sm.spec.containers[0]!.image, 'nginx', 'strategic merge keeps the other container fields');
  assert.equal(sm.spec.containers[0]!.ports![0]!.protocol, 'TCP');
  const created = await s.patch<Pod>(gvr.pods, 'default', 'b', 'apply', pod('b'));
  assert.equal(created.metadata.name, 'b');
  await rejects(s.patch(gvr.pods, 'default', 'zz', 'merge', { metadata: { labels: { a: 'b' } } }), 'NotFound', 404);
  const rv = s.resourceVersion();
  await rejects(s.patch(gvr.pods, 'default', 'a', 'merge', { metadata: { resourceVersion: '1', labels: { q: 'q' } } }), 'Conflict', 409);
  await rejects(s.patch(gvr.pods, 'default', 'a', 'json', [{ op: 'test', path: '/metadata/name', value: 'other' }]), 'Invalid', 422);
  await rejects(s.patch(gvr.pods, 'default', 'a', 'json', { not: 'an array' }), 'BadRequest', 400);
  await rejects(s.patch(gvr.pods, 'default', 'a', 'merge', { metadata: { labels: { 'bad key!': 'x' } } }), 'Invalid', 422);
  await rejects(s.patch(gvr.pods, 'default', 'a', 'merge', { spec: { containers: [{ name: 'c', ports: [{ containerPort: 70000 }] }] } }), 'Invalid', 422);
  assert.equal(s.resourceVersion(), rv);
  // status patch
  const st = await s.patch<Pod>(gvr.pods, 'default', 'a', 'merge', { status: { phase: 'Running' }, spec: { hostNetwork: true } }, { subresource: 'status' });
  assert.equal(st.status?.phase, 'Running');
  assert.equal(st.spec.hostNetwork, undefined);
});

test('delete: returns the final object with a new RV; preconditions; finalizers defer deletion', async (t) => {
  const s = newStore(t);
  const a = await s.create(gvr.pods, 'default', pod('a'));
  await rejects(s.delete(gvr.pods, 'default', 'a', { preconditions: { uid: 'nope' } }), 'Conflict', 409);
  await rejects(s.delete(gvr.pods, 'default', 'a', { preconditions: { resourceVersion: '1' } }), 'Conflict', 409);
  const d = await s.delete(gvr.pods, 'default', 'a');
  assert.equal(d.metadata.uid, a.metadata.uid);
  assert.ok(Number(d.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  await rejects(s.get(gvr.pods, 'default', 'a'), 'NotFound', 404);
  await rejects(s.delete(gvr.pods, 'default', 'a'), 'NotFound', 404);

  const f = pod('f');
  f.metadata.finalizers = ['example.com/hold'];
  await s.create(gvr.pods, 'default', f);
  const marked = await s.delete(gvr.pods, 'default', 'f');
  assert.ok(marked.metadata.deletionTimestamp);
  const still = await s.get(gvr.pods, 'default', 'f');
  assert.ok(still.metadata.deletionTimestamp);
  await s.patch(gvr.pods, 'default', 'f', 'merge', { metadata: { finalizers: null } });
  await rejects(s.get(gvr.pods, 'default', 'f'), 'NotFound', 404);
});

test('deleting a namespace deletes its objects', async (t) => {
  const s = newStore(t);
  await s.create(gvr.namespaces, undefined, { metadata: { name: 'team' } });
  await s.create(gvr.pods, 'team', pod('a', { ns: 'team' }));
  await s.create(gvr.pods, 'default', pod('b'));
  await s.delete(gvr.namespaces, undefined, 'team');
  assert.deepEqual((await s.list(gvr.pods)).items.map((p) => p.metadata.name), ['b']);
});

test('list: namespace, label and field selectors, pagination over one snapshot', async (t) => {
  const s = newStore(t);
  await s.create(gvr.namespaces, undefined, { metadata: { name: 'other' } });
  for (let i = 0; i < 7; i++) await s.create(gvr.pods, 'default', pod(`p${i}`, { node: `n${i % 2}`, labels: { app: i < 4 ? 'web' : 'db' } }));
  await s.create(gvr.pods, 'other', pod('o1', { ns: 'other', node: 'n0' }));
  assert.equal((await s.list(gvr.pods)).items.length, 8);
  assert.equal((await s.list(gvr.pods, { namespace: 'other' })).items.length, 1);
  assert.deepEqual((await s.list(gvr.pods, { labelSelector: 'app=web' })).items.map((p) => p.metadata.name), ['p0', 'p1', 'p2', 'p3']);
  assert.deepEqual((await s.list(gvr.pods, { labelSelector: 'app notin (web)' })).items.map((p) => p.metadata.name), ['p4', 'p5', 'p6', 'o1']);
  assert.deepEqual((await s.list(gvr.pods, { fieldSelector: 'spec.nodeName=n1' })).items.map((p) => p.metadata.name), ['p1', 'p3', 'p5']);
  assert.deepEqual((await s.list(gvr.pods, { fieldSelector: 'spec.nodeName=n0', namespace: 'other' })).items.map((p) => p.metadata.name), ['o1']);
  assert.deepEqual((await s.list(gvr.pods, { fieldSelector: 'metadata.name=p2' })).items.map((p) => p.metadata.name), ['p2']);
  assert.deepEqual((await s.list(gvr.pods, { fieldSelector: 'spec.nodeName!=n0,metadata.namespace=default' })).items.map((p) => p.metadata.name), ['p1', 'p3', 'p5']);
  await rejects(s.list(gvr.pods, { labelSelector: 'app in (web' }), 'BadRequest', 400);
  await rejects(s.list(gvr.pods, { fieldSelector: 'constructor=1' }), 'BadRequest', 400);
  const bad = await rejects(s.list(gvr.pods, { fieldSelector: 'spec.bogus=1' }), 'BadRequest', 400);
  assert.equal(bad.message, 'field label not supported: spec.bogus');

  const page1 = await s.list(gvr.pods, { namespace: 'default', limit: 3 });
  assert.equal(page1.items.length, 3);
  assert.equal(page1.metadata.remainingItemCount, 4);
  await s.create(gvr.pods, 'default', pod('p00')); // not in the snapshot
  const page2 = await s.list(gvr.pods, { namespace: 'default', limit: 3, continue: page1.metadata.continue! });
  const page3 = await s.list(gvr.pods, { namespace: 'default', limit: 3, continue: page2.metadata.continue! });
  assert.equal(page3.metadata.continue, undefined);
  assert.equal(page2.metadata.resourceVersion, page1.metadata.resourceVersion);
  assert.deepEqual([...page1.items, ...page2.items, ...page3.items].map((p) => p.metadata.name), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  await rejects(s.list(gvr.pods, { continue: 'garbage' }), 'Expired', 410);
});

test('watch: synthetic ADDED without RV, events in RV order, then MODIFIED and DELETED', async (t) => {
  const s = newStore(t);
  await s.create(gvr.pods, 'default', pod('a'));
  const w = collect(s, { namespace: 'default' });
  await s.create(gvr.pods, 'default', pod('b'));
  await s.patch(gvr.pods, 'default', 'a', 'merge', { metadata: { labels: { x: 'y' } } });
  await s.delete(gvr.pods, 'default', 'b');
  const ev = await w.until(4);
  assert.deepEqual(ev.map((e) => `${e.type} ${(e.object as KubeObject).metadata.name}`), ['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b']);
  const rvs = ev.map((e) => Number(e.object.metadata.resourceVersion));
  assert.deepEqual(rvs.slice(1), [...rvs.slice(1)].sort((x, y) => x - y));
  assert.ok(Object.isFrozen(ev[0]!.object));
  w.handle.stop();
  await w.handle.done;
});

test('watch from a resourceVersion replays what came after it', async (t) => {
  const s = newStore(t);
  const a = await s.create(gvr.pods, 'default', pod('a'));
  await s.create(gvr.pods, 'default', pod('b'));
  await s.create(gvr.configmaps, 'default', { metadata: { name: 'cm' }, data: { k: 'v' } } as KubeObject);
  const w = collect(s, { resourceVersion: a.metadata.resourceVersion! });
  const ev = await w.until(1);
  await tick();
  assert.deepEqual(ev.map((e) => `${e.type} ${(e.object as KubeObject).metadata.name}`), ['ADDED b']);
  w.handle.stop();
});

test('watch selectors: an object that starts matching is ADDED, one that stops is DELETED', async (t) => {
  const s = newStore(t);
  await s.create(gvr.pods, 'default', pod('a', { labels: { app: 'web' } }));
  const byLabel = collect(s, { labelSelector: 'app=web', resourceVersion: s.resourceVersion() });
  const byNode = collect(s, { fieldSelector: 'spec.nodeName=n1', resourceVersion: s.resourceVersion() });
  await s.patch(gvr.pods, 'default', 'a', 'merge', { metadata: { labels: { app: 'db' } } });
  await s.patch(gvr.pods, 'default', 'a', 'merge', { metadata: { labels: { app: 'web' } } });
  await s.patch(gvr.pods, 'default', 'a', 'merge', { spec: { nodeName: 'n1' } });
  await s.create(gvr.pods, 'default', pod('b', { node: 'n2' }));
  await s.delete(gvr.pods, 'default', 'a');
  assert.deepEqual((await byLabel.until(4)).map((e) => e.type), ['DELETED', 'ADDED', 'MODIFIED', 'DELETED']);
  assert.deepEqual((await byNode.until(2)).map((e) => e.type), ['ADDED', 'DELETED']);
  await tick();
  assert.equal(byNode.events.length, 2, 'the watcher of n1 never sees the Pod on n2');
  await assert.rejects(async () => s.watch(gvr.pods, { labelSelector: '!!' }, () => undefined), (e) => isApiError(e, 'BadRequest'));
  byLabel.handle.stop();
  byNode.handle.stop();
});

test('watch from a resourceVersion that fell out of the history: ERROR 410 Expired, then the watch ends', async (t) => {
  const s = newStore(t, { historySize: 3 });
  const first = await s.create(gvr.pods, 'default', pod('a'));
  for (let i = 0; i < 5; i++) await s.patch(gvr.pods, 'default', 'a', 'merge', { metadata: { labels: { i: String(i) } } });
  const w = collect(s, { resourceVersion: first.metadata.resourceVersion! });
  const [ev] = await w.until(1);
  assert.equal(ev!.type, 'ERROR');
  assert.equal((ev!.object as { code?: number }).code, 410);
  assert.equal((ev!.object as { reason?: string }).reason, 'Expired');
  await w.handle.done;
  // future RV: 504 Timeout
  const f = collect(s, { resourceVersion: '999999' });
  const [fe] = await f.until(1);
  assert.equal((fe!.object as { code?: number }).code, 504);
  await f.handle.done;
});

test('watch bookmarks, initial-events-end and timeoutSeconds', async (t) => {
  const s = newStore(t, { bookmarkIntervalMs: 20 });
  await s.create(gvr.pods, 'default', pod('a'));
  const w = collect(s, { sendInitialEvents: true, allowWatchBookmarks: true, timeoutSeconds: 0.2 });
  await w.handle.done;
  assert.equal(w.events[0]!.type, 'ADDED');
  assert.equal(w.events[1]!.type, 'BOOKMARK');
  assert.equal((w.events[1]!.object as KubeObject).metadata.annotations?.['k8s.io/initial-events-end'], 'true');
  assert.ok(w.events.filter((e) => e.type === 'BOOKMARK').length >= 3);
});

test('watch delivery is indexed: a Pod update visits only the watchers of its node', async (t) => {
  const s = newStore(t);
  let calls = 0;
  const handles = [];
  for (let i = 0; i < 50; i++) {
    handles.push(s.watch(gvr.pods, { fieldSelector: `spec.nodeName=n${i}`, resourceVersion: s.resourceVersion() }, () => calls++));
  }
  await s.create(gvr.pods, 'default', pod('a', { node: 'n7' }));
  await s.patch(gvr.pods, 'default', 'a', 'merge', { metadata: { labels: { x: 'y' } } });
  await tick();
  assert.equal(calls, 2);
  for (const h of handles) h.stop();
  assert.equal(s.stats().watchers, 0);
});

test('EndpointSlices are served as v1 and v1beta1 from one storage', async (t) => {
  const s = newStore(t);
  const slice = {
    apiVersion: 'discovery.k8s.io/v1beta1',
    kind: 'EndpointSlice',
    metadata: { name: 'svc-abc', labels: { 'kubernetes.io/service-name': 'svc' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' }],
    ports: [{ name: 'http', port: 80 }],
  };
  const created = await s.create({ group: 'discovery.k8s.io', version: 'v1beta1', resource: 'endpointslices' }, 'default', slice as KubeObject);
  assert.equal(created.apiVersion, 'discovery.k8s.io/v1beta1');
  const v1 = await s.get(gvr.endpointslices, 'default', 'svc-abc');
  assert.equal(v1.apiVersion, 'discovery.k8s.io/v1');
  const bad = { ...slice, metadata: { name: 'bad' }, addressType: 'IPv5', endpoints: [{ addresses: [] }] };
  const err = await rejects(s.create(gvr.endpointslices, 'default', bad as KubeObject), 'Invalid', 422);
  assert.deepEqual(err.status.details?.causes?.map((c) => c.field), ['addressType', 'endpoints[0].addresses']);
});

test('deleteCollection deletes what the selector matches', async (t) => {
  const s = newStore(t);
  await s.create(gvr.pods, 'default', pod('a', { labels: { app: 'web' } }));
  await s.create(gvr.pods, 'default', pod('b', { labels: { app: 'db' } }));
  const gone = await s.deleteCollection(gvr.pods, { namespace: 'default', labelSelector: 'app=web' });
  assert.deepEqual(gone.items.map((p) => p.metadata.name), ['a']);
  assert.deepEqual((await s.list(gvr.pods)).items.map((p) => p.metadata.name), ['b']);
});

test('Services get a ClusterIP (lowest free in 10.96.0.0/12) and node ports; a replace without them keeps them', async (t) => {
  const s = newStore(t);
  const svc = (name: string, spec: Record<string, unknown>) => ({ metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } }) as KubeObject;
  const a = (await s.create(gvr.services, 'default', svc('a', {}))) as KubeObject & { spec: { clusterIP: string; clusterIPs: string[] } };
  const b = (await s.create(gvr.services, 'default', svc('b', { type: 'NodePort' }))) as KubeObject & { spec: { clusterIP: string; ports: { nodePort: number }[] } };
  const h = (await s.create(gvr.services, 'default', svc('h', { clusterIP: 'None' }))) as KubeObject & { spec: { clusterIP: string } };
  assert.equal(a.spec.clusterIP, '10.96.0.2');
  assert.deepEqual(a.spec.clusterIPs, ['10.96.0.2']);
  assert.equal(b.spec.clusterIP, '10.96.0.3');
  assert.equal(b.spec.ports[0]!.nodePort, 30000);
  assert.equal(h.spec.clusterIP, 'None');
  const taken = await rejects(s.create(gvr.services, 'default', svc('c', { clusterIP: '10.96.0.2' })), 'Invalid', 422);
  assert.equal(taken.status.details?.causes?.[0]?.field, 'spec.clusterIPs');
  const replaced = (await s.update(gvr.services, 'default', svc('a', { selector: { app: 'other' } }))) as KubeObject & { spec: { clusterIP: string } };
  assert.equal(replaced.spec.clusterIP, '10.96.0.2');
  await rejects(s.update(gvr.services, 'default', svc('a', { clusterIP: '10.96.0.99' })), 'Invalid', 422);
});

test('a CRD-like type registered in a few lines: cluster-scoped, status subresource, 415 on strategic merge, 422 on PUT without RV', async (t) => {
  const traceflows = defineResource({
    group: 'crd.antrea.io',
    versions: ['v1beta1'],
    kind: 'Traceflow',
    plural: 'traceflows',
    shortNames: ['tf'],
    namespaced: false,
    statusSubresource: true,
    validate: (o) => (typeof (o as { spec?: { source?: unknown } }).spec?.source === 'object' ? [] : [{ type: 'FieldValueRequired', field: 'spec.source' }]),
  });
  const s = newStore(t, { resources: [...defaultResources(), traceflows] });
  const g = { group: 'crd.antrea.io', version: 'v1beta1', resource: 'traceflows' };
  const tf = await s.create(g, undefined, { metadata: { name: 'tf1' }, spec: { source: { pod: 'a' } } } as KubeObject);
  assert.equal(tf.apiVersion, 'crd.antrea.io/v1beta1');
  assert.equal(tf.kind, 'Traceflow');
  const inv = await rejects(s.create(g, undefined, { metadata: { name: 'tf2' }, spec: {} } as KubeObject), 'Invalid', 422);
  assert.equal(inv.message, 'Traceflow "tf2" is invalid: spec.source: Required value');
  assert.equal(inv.status.details?.group, 'crd.antrea.io');
  await rejects(s.patch(g, undefined, 'tf1', 'strategic', { spec: {} }), 'UnsupportedMediaType', 415);
  const { resourceVersion: _rv, ...noRv } = tf.metadata;
  await rejects(s.update(g, undefined, { ...tf, metadata: noRv }), 'Invalid', 422);
  const st = await s.patch(g, undefined, 'tf1', 'merge', { status: { phase: 'Running' } }, { subresource: 'status' });
  assert.equal(st.metadata.generation, 1);
  const nf = await rejects(s.get(g, undefined, 'nope'), 'NotFound', 404);
  assert.equal(nf.message, 'traceflows.crd.antrea.io "nope" not found');
});

test('the event history is per type: churn on one type does not expire watches of another', async (t) => {
  const s = newStore(t, { historySize: 3 });
  const p = await s.create(gvr.pods, 'default', pod('a'));
  for (let i = 0; i < 10; i++) await s.create(gvr.configmaps, 'default', { metadata: { name: `c${i}` } } as KubeObject);
  await s.create(gvr.pods, 'default', pod('b'));
  const w = collect(s, { resourceVersion: p.metadata.resourceVersion! });
  const [ev] = await w.until(1);
  assert.equal(ev!.type, 'ADDED');
  assert.equal((ev!.object as KubeObject).metadata.name, 'b');
  const old = collect(s, { resourceVersion: p.metadata.resourceVersion! }, gvr.configmaps);
  const [ce] = await old.until(1);
  assert.equal(ce!.type, 'ERROR', 'the configmap history did drop events after that RV');
  w.handle.stop();
});

test('a handler that writes synchronously does not reorder events for other watchers, and a watch started in a handler gets no duplicates', async (t) => {
  const s = newStore(t);
  const seen: string[] = [];
  let late: ReturnType<typeof collect> | undefined;
  // The first watcher reacts to pod a by creating pod b, from inside its handler.
  s.watch(gvr.pods, { namespace: 'default' }, (e) => {
    const name = (e.object as KubeObject).metadata.name;
    if (e.type === 'ADDED' && name === 'a') {
      void s.create(gvr.pods, 'default', pod('b'));
      late = collect(s, {});
    }
  });
  s.watch(gvr.pods, { namespace: 'default' }, (e) => seen.push(`${e.type} ${(e.object as KubeObject).metadata.name} ${(e.object as KubeObject).metadata.resourceVersion}`));
  await tick(); // both watches are live: events now go straight to the handlers
  await s.create(gvr.pods, 'default', pod('a'));
  await tick();
  await tick();
  assert.deepEqual(seen.map((x) => x.split(' ').slice(0, 2).join(' ')), ['ADDED a', 'ADDED b']);
  const rvs = seen.map((x) => Number(x.split(' ')[2]));
  assert.ok(rvs[0]! < rvs[1]!);
  assert.deepEqual(late!.events.map((e) => `${e.type} ${(e.object as KubeObject).metadata.name}`), ['ADDED a', 'ADDED b']);
});

test('admission hooks see other objects and refuse writes (422 on create/update/patch, 403 on delete) leaving the store unchanged', async (t) => {
  // Widgets name a Gadget (cluster-scoped) and must name one that exists; a Gadget a Widget names cannot be deleted.
  const seen: string[] = [];
  const gadgets = defineResource({
    group: 'example.io',
    versions: ['v1'],
    kind: 'Gadget',
    plural: 'gadgets',
    namespaced: false,
    admit: (op, obj, _old, view) => {
      if (op !== 'delete') return [];
      const users = [...view.list('example.io', 'widgets')].filter((w) => (w as KubeObject & { spec?: { gadget?: string } }).spec?.gadget === obj.metadata.name);
      return users.length > 0 ? [{ type: 'FieldValueForbidden', field: 'metadata.name', detail: `gadget ${obj.metadata.name} is used by ${users.length} Widgets` }] : [];
    },
  });
  const widgets = defineResource({
    group: 'example.io',
    versions: ['v1'],
    kind: 'Widget',
    plural: 'widgets',
    statusSubresource: true,
    admit: (op, obj, old, view) => {
      seen.push(`${op}:${obj.metadata.namespace}/${obj.metadata.name}:${old ? 'old' : 'no-old'}:${[...view.list('example.io', 'widgets', 'default')].length}`);
      if (op === 'delete') return [];
      const g = (obj as KubeObject & { spec?: { gadget?: string } }).spec?.gadget ?? '';
      return view.get('example.io', 'gadgets', g) ? [] : [{ type: 'FieldValueInvalid', field: 'spec.gadget', value: g, detail: `gadget ${g} does not exist` }];
    },
  });
  const s = newStore(t, { resources: [...defaultResources(), gadgets, widgets] });
  const G = { group: 'example.io', version: 'v1', resource: 'gadgets' };
  const W = { group: 'example.io', version: 'v1', resource: 'widgets' };
  const widget = (name: string, gadget: string) => ({ apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name, namespace: 'default' }, spec: { gadget } }) as KubeObject;
  await s.create(G, undefined, { metadata: { name: 'g1' } } as KubeObject);
  await s.create(G, undefined, { metadata: { name: 'g2' } } as KubeObject);
  await s.create(W, 'default', widget('w1', 'g1'));
  assert.deepEqual(seen, ['create:default/w1:no-old:0'], 'the hook sees the store before the write');

  const events = collect(s, {}, W);
  const gadgetEvents = collect(s, {}, G);
  await tick();
  const rv = s.resourceVersion();
  const inv = await rejects(s.create(W, 'default', widget('w2', 'nope')), 'Invalid', 422);
  assert.equal(inv.message, 'Widget "w2" is invalid: spec.gadget: Invalid value: "nope": gadget nope does not exist');
  assert.equal(inv.status.details?.causes?.[0]?.field, 'spec.gadget');
  await rejects(s.create(W, 'default', widget('w2', 'nope'), { dryRun: true }), 'Invalid', 422);
  const cur = await s.get(W, 'default', 'w1');
  await rejects(s.update(W, 'default', { ...cur, spec: { gadget: 'nope' } } as KubeObject), 'Invalid', 422);
  await rejects(s.patch(W, 'default', 'w1', 'merge', { spec: { gadget: 'nope' } }), 'Invalid', 422);
  await rejects(s.patch(W, 'default', 'w3', 'apply', widget('w3', 'nope')), 'Invalid', 422);
  const forb = await rejects(s.delete(G, undefined, 'g1'), 'Forbidden', 403);
  assert.equal(forb.message, 'gadgets.example.io "g1" is forbidden: gadget g1 is used by 1 Widgets');
  await rejects(s.delete(G, undefined, 'g1', { dryRun: true }), 'Forbidden', 403);
  // A collection delete is admitted object by object before any deletion: g2 may go, g1 may not, so neither goes.
  await rejects(s.deleteCollection(G), 'Forbidden', 403);
  await tick();
  assert.equal(s.resourceVersion(), rv, 'no write happened');
  assert.deepEqual((await s.list(G)).items.map((g) => g.metadata.name), ['g1', 'g2']);
  assert.deepEqual((await s.list(W)).items.map((w) => (w as KubeObject & { spec: { gadget: string } }).spec.gadget), ['g1']);
  assert.equal(events.events.length, 1, 'only the initial ADDED');
  assert.equal(gadgetEvents.events.length, 2, 'only the initial ADDEDs');

  // Status writes are not admitted; updates see the stored object; allowed writes go through.
  seen.length = 0;
  await s.patch(W, 'default', 'w1', 'merge', { status: { ok: true } }, { subresource: 'status' });
  assert.deepEqual(seen, []);
  await s.patch(W, 'default', 'w1', 'merge', { spec: { gadget: 'g2' } });
  assert.deepEqual(seen, ['update:default/w1:old:1']);
  await s.delete(G, undefined, 'g1');
  await rejects(s.delete(G, undefined, 'g2'), 'Forbidden', 403);
  await s.delete(W, 'default', 'w1');
  await s.delete(G, undefined, 'g2');
  assert.deepEqual((await s.list(G)).items, []);
  events.handle.stop();
  gadgetEvents.handle.stop();
});

test('a hook that throws refuses the request as 400 and changes nothing', async (t) => {
  const boom = defineResource({ group: 'example.io', versions: ['v1'], kind: 'Boom', plural: 'booms', namespaced: false, admit: () => { throw new TypeError('no'); } });
  const s = newStore(t, { resources: [...defaultResources(), boom] });
  const rv = s.resourceVersion();
  await rejects(s.create({ group: 'example.io', version: 'v1', resource: 'booms' }, undefined, { metadata: { name: 'b' } } as KubeObject), 'BadRequest', 400);
  assert.equal(s.resourceVersion(), rv);
});
