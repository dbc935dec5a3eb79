import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupVersionResource, KubeObject } from '../apis/meta.js';
import { ApiError } from '../apiserver/types.js';
import { FakeBackend } from './fake-backend.js';
import { InProcessClient } from './inprocess.js';
import { Informer } from './informer.js';
import type { InformerOptions } from './informer.js';
import { recordEvents, waitFor } from './testing.js';

const pods: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}

function pod(ns: string, name: string, nodeName?: string, labels?: Record<string, string>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, ...(labels ? { labels } : {}) }, spec: nodeName ? { nodeName } : {} };
}

function setup(t: { after: (fn: () => Promise<void>) => void }, opts: Partial<InformerOptions<Pod>> = {}) {
  const backend = new FakeBackend();
  const client = new InProcessClient(backend);
  const make = (extra: Partial<InformerOptions<Pod>> = {}) => {
    const informer = new Informer<Pod>(client, { gvr: pods, backoff: { initialMs: 10, maxMs: 200 }, ...opts, ...extra });
    t.after(() => informer.stop());
    return informer;
  };
  t.after(() => client.close());
  return { backend, client, make };
}

test('lists, then watches from the list resourceVersion, and keeps the cache current', async (t) => {
  const { backend, client, make } = setup(t);
  const api = client.resource<Pod>(pods);
  await api.create(pod('a', 'p1', 'n1'));
  await api.create(pod('b', 'p2', 'n2'));
  const listRV = backend.currentRevision;
  const informer = make();
  const events = recordEvents(informer);
  informer.start();
  await informer.waitForSync(2000);
  await waitFor(() => backend.openWatches === 1, 'the watch');
  assert.deepEqual(events.sort(), ['add a/p1', 'add b/p2']);
  assert.equal(backend.watchOptions[0]?.resourceVersion, listRV);
  assert.equal(backend.watchOptions[0]?.allowWatchBookmarks, true);

  await api.create(pod('a', 'p3', 'n1'));
  await api.inNamespace('a').mergePatch('p1', { metadata: { labels: { x: 'y' } } });
  await api.inNamespace('b').delete('p2');
  await waitFor(() => events.length === 5, 'three watch events');
  assert.deepEqual(events.slice(2), ['add a/p3', 'update a/p1', 'delete b/p2']);
  assert.equal(informer.getByName('a', 'p1')?.metadata.labels?.x, 'y');
  assert.equal(informer.get('b/p2'), undefined);
  assert.equal(informer.list().length, 2);
  assert.equal(backend.listCalls, 1);
  assert.equal(informer.lastResourceVersion(), backend.currentRevision);
});

test('indexes by namespace and by node, and takes pluggable indexers', async (t) => {
  const { client, make } = setup(t);
  const api = client.resource<Pod>(pods);
  await api.create(pod('a', 'p1', 'n1', { app: 'web' }));
  await api.create(pod('a', 'p2', 'n2', { app: 'db' }));
  await api.create(pod('b', 'p3', 'n1', { app: 'web' }));
  const informer = make();
  informer.addIndexer('app', (o) => (o.metadata.labels?.app ? [o.metadata.labels.app] : []));
  informer.start();
  await informer.waitForSync(2000);
  const names = (xs: Pod[]) => xs.map((o) => o.metadata.name).sort();
  assert.deepEqual(names(informer.list('a')), ['p1', 'p2']);
  assert.deepEqual(names(informer.byIndex('nodeName', 'n1')), ['p1', 'p3']);
  assert.deepEqual(names(informer.byIndex('app', 'web')), ['p1', 'p3']);

  // An index added after sync is filled from the cache; moving a Pod moves it in every index.
  informer.addIndexer('ns-app', (o) => [`${o.metadata.namespace}:${o.metadata.labels?.app ?? ''}`]);
  assert.deepEqual(names(informer.byIndex('ns-app', 'a:db')), ['p2']);
  await api.inNamespace('a').mergePatch('p2', { spec: { nodeName: 'n1' }, metadata: { labels: { app: 'web' } } });
  await waitFor(() => informer.byIndex('nodeName', 'n1').length === 3, 'p2 to move to n1');
  assert.deepEqual(names(informer.byIndex('nodeName', 'n2')), []);
  assert.deepEqual(names(informer.byIndex('ns-app', 'a:web')), ['p1', 'p2']);
  await api.inNamespace('b').delete('p3');
  await waitFor(() => informer.byIndex('nodeName', 'n1').length === 2, 'p3 to leave the index');
  assert.deepEqual(names(informer.list('b')), []);
  assert.throws(() => informer.byIndex('nope', 'x'), /no indexer named "nope"/);
});

test('cached objects are frozen and separate from the store', async (t) => {
  const { backend, client, make } = setup(t);
  await client.resource<Pod>(pods).create(pod('a', 'p1'));
  const informer = make().start();
  await informer.waitForSync(2000);
  const cached = informer.getByName('a', 'p1') as Pod;
  assert.throws(() => {
    (cached.metadata as { name?: string }).name = 'changed';
  }, TypeError);
  assert.equal((await backend.get<Pod>(pods, 'a', 'p1')).metadata.name, 'p1');
});

test('a 410 re-lists and delivers the difference, with deletes for vanished objects', async (t) => {
  const { backend, client, make } = setup(t);
  const api = client.resource<Pod>(pods);
  await api.create(pod('a', 'keep'));
  await api.create(pod('a', 'change'));
  await api.create(pod('a', 'vanish'));
  const informer = make();
  const events = recordEvents(informer);
  informer.start();
  await informer.waitForSync(2000);
  events.length = 0;

  // Changes the informer never sees as events (as if lost across a compaction), then the watch expires.
  const changed = await backend.get<Pod>(pods, 'a', 'change');
  backend.writeSilently(pods, { ...changed, metadata: { ...changed.metadata, labels: { v: '2' } } });
  backend.deleteSilently(pods, 'a', 'vanish');
  backend.writeSilently(pods, pod('a', 'new'));
  backend.compact();
  backend.errorWatches(ApiError.of('Expired', 'too old resource version: 1 (9)').status);

  await waitFor(() => events.length === 3, 'the re-list difference');
  assert.deepEqual(events.sort(), ['add a/new', 'delete a/vanish', 'update a/change']);
  assert.equal(informer.stats.relists, 1);
  assert.equal(backend.listCalls, 2);
  assert.deepEqual(informer.keys().sort(), ['a/change', 'a/keep', 'a/new']);
  assert.equal(informer.getByName('a', 'change')?.metadata.labels?.v, '2');
  // Watching resumes from the new list's RV, and events flow again.
  await api.create(pod('a', 'after'));
  await waitFor(() => events.includes('add a/after'), 'an event after the re-list');
});

test('an object re-created under the same name while unwatched is a delete and an add, not an update', async (t) => {
  const { backend, client, make } = setup(t);
  await client.resource<Pod>(pods).create(pod('a', 'p', 'n1'));
  const informer = make();
  const events = recordEvents(informer);
  informer.start();
  await informer.waitForSync(2000);
  await waitFor(() => backend.openWatches === 1, 'the watch');
  backend.deleteSilently(pods, 'a', 'p');
  backend.writeSilently(pods, pod('a', 'p', 'n2'));
  backend.compact();
  backend.errorWatches(ApiError.of('Expired', 'too old').status);
  await waitFor(() => events.length === 3, 'delete and add');
  assert.deepEqual(events, ['add a/p', 'delete a/p', 'add a/p']);
  assert.deepEqual(informer.byIndex('nodeName', 'n2').map((o) => o.metadata.name), ['p']);
});

test('an HTTP-level 410 on the watch request also re-lists', async (t) => {
  const { backend, client, make } = setup(t);
  await client.resource<Pod>(pods).create(pod('a', 'p1'));
  const informer = make();
  const events = recordEvents(informer);
  backend.failWatches(1, ApiError.of('Gone', 'gone'));
  informer.start();
  await waitFor(() => backend.listCalls === 2 && backend.openWatches === 1, 'a re-list and a new watch');
  assert.deepEqual(events, ['add a/p1']);
  assert.equal(informer.stats.relists, 1);
});

test('a watch that fails at once backs off instead of spinning, then recovers', async (t) => {
  const { backend, client, make } = setup(t, { backoff: { initialMs: 20, maxMs: 160, jitter: 0 } });
  const informer = make();
  const events = recordEvents(informer);
  backend.failWatches(1000);
  informer.start();
  await informer.waitForSync(2000);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 700));
  const attempts = backend.watchCalls;
  // 20+40+80+160+160+160 = 620 ms: about 6 attempts in 700 ms; a fixed 20 ms retry would make 35 and a tight loop
  // thousands. The lower bound is loose because a loaded machine fires timers late.
  assert.ok(attempts >= 2 && attempts <= 10, `expected 2..10 watch attempts in ${Date.now() - t0} ms, got ${attempts}`);
  assert.equal(backend.listCalls, 1, 'a failed watch re-watches, it does not re-list');

  // The server recovers: the next attempt connects and events flow.
  const before = backend.watchCalls;
  backend.clearFailures();
  await client.resource<Pod>(pods).create(pod('a', 'late'));
  await waitFor(() => events.includes('add a/late'), 'recovery', 2000);
  assert.ok(backend.watchCalls - before <= 2);
});

test('a list that fails is retried with backoff until it succeeds', async (t) => {
  const { backend, make } = setup(t, { backoff: { initialMs: 10, maxMs: 40, jitter: 0 } });
  backend.failLists(3);
  const informer = make().start();
  await informer.waitForSync(2000);
  assert.equal(backend.listCalls, 4);
  assert.equal(informer.stats.listErrors, 3);
});

test('a stream that keeps closing at once backs off; a healthy one re-watches at once from the last RV', async (t) => {
  const { backend, client, make } = setup(t, { backoff: { initialMs: 30, maxMs: 240, jitter: 0 }, healthyWatchMs: 10_000 });
  const informer = make().start();
  await informer.waitForSync(2000);
  // Closing a watch that delivered nothing, again and again: attempts are spaced by the backoff.
  const start = backend.watchCalls;
  const closer = setInterval(() => backend.closeWatches(), 2);
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(closer);
  const attempts = backend.watchCalls - start;
  assert.ok(attempts >= 3 && attempts <= 7, `expected 3..7 watch attempts in 500 ms, got ${attempts}`);

  // A healthy watch (one that delivered events) that closes is resumed at once, from the last RV, without a list.
  await waitFor(() => backend.openWatches === 1, 'a watch to be open');
  await client.resource<Pod>(pods).create(pod('a', 'p1'));
  await waitFor(() => informer.list().length === 1, 'the event');
  const rv = informer.lastResourceVersion();
  const calls = backend.watchCalls;
  backend.closeWatches();
  await waitFor(() => backend.watchCalls === calls + 1, 'an immediate re-watch', 25);
  assert.equal(backend.watchOptions.at(-1)?.resourceVersion, rv);
  assert.equal(backend.listCalls, 1);
});

test('the watchdog restarts a silent watch; bookmarks count as activity', async (t) => {
  const { backend, client, make } = setup(t, { watchdogMs: 150 });
  const informer = make();
  const events = recordEvents(informer);
  informer.start();
  await informer.waitForSync(2000);

  // Bookmarks every 50 ms keep a quiet watch alive.
  const bookmarks = setInterval(() => backend.bookmark(), 50);
  await new Promise((r) => setTimeout(r, 400));
  clearInterval(bookmarks);
  assert.equal(informer.stats.stalls, 0);
  assert.equal(backend.watchCalls, 1);

  // The stream stalls: writes are not delivered. The watchdog restarts the watch from the last RV and the
  // missed event arrives through the new watch.
  backend.silent = true;
  await client.resource<Pod>(pods).create(pod('a', 'missed'));
  backend.silent = false;
  await waitFor(() => events.includes('add a/missed'), 'the missed event after a watchdog restart', 2000);
  assert.equal(informer.stats.stalls, 1);
  assert.equal(backend.listCalls, 1);
});

test('selectors and namespace are sent on list and watch', async (t) => {
  const { backend, client, make } = setup(t);
  const api = client.resource<Pod>(pods);
  await api.create(pod('a', 'web', undefined, { app: 'web' }));
  await api.create(pod('a', 'db', undefined, { app: 'db' }));
  await api.create(pod('b', 'web2', undefined, { app: 'web' }));
  const informer = make({ namespace: 'a', labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1' });
  informer.start();
  await informer.waitForSync(2000);
  await waitFor(() => backend.openWatches === 1, 'the watch');
  assert.deepEqual(informer.keys(), ['a/web']);
  const w = backend.watchOptions[0];
  assert.equal(w?.namespace, 'a');
  assert.equal(w?.labelSelector, 'app=web');
  assert.equal(w?.fieldSelector, 'spec.nodeName=n1');
  assert.ok((w?.timeoutSeconds ?? 0) >= 300 && (w?.timeoutSeconds ?? 0) < 600);
});

test('periodic resync re-delivers every object as an update', async (t) => {
  const { client, make } = setup(t, { resyncPeriodMs: 60 });
  await client.resource<Pod>(pods).create(pod('a', 'p1'));
  const informer = make();
  const updates: string[] = [];
  informer.addEventHandler({ onUpdate: (o, n) => updates.push(`${o === n} ${n.metadata.name}`) });
  informer.start();
  await waitFor(() => updates.length >= 2, 'two resyncs', 2000);
  assert.deepEqual(updates.slice(0, 2), ['true p1', 'true p1']);
});

test('handlers added after sync get the cache as adds; a throwing handler does not stop the others', async (t) => {
  const { client, make } = setup(t);
  await client.resource<Pod>(pods).create(pod('a', 'p1'));
  const informer = make();
  informer.addEventHandler({
    onAdd: () => {
      throw new Error('boom');
    },
  });
  informer.start();
  await informer.waitForSync(2000);
  const late: string[] = [];
  informer.addEventHandler({ onAdd: (o, initial) => late.push(`${o.metadata.name} ${initial}`) });
  assert.deepEqual(late, ['p1 true']);
  await client.resource<Pod>(pods).create(pod('a', 'p2'));
  await waitFor(() => late.length === 2, 'the next add');
  assert.equal(late[1], 'p2 false');
  assert.ok(informer.stats.handlerErrors >= 2);
});

test('stop ends everything: no watch left, waitForSync rejects, and later events are not delivered', async (t) => {
  const { backend, client, make } = setup(t, { resyncPeriodMs: 20 });
  backend.failLists(1000);
  const informer = make().start();
  const sync = informer.waitForSync();
  await waitFor(() => backend.listCalls >= 2, 'a retried list');
  await informer.stop();
  await assert.rejects(sync, /stopped before it synced/);
  const calls = backend.listCalls;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(backend.listCalls, calls);
  assert.equal(backend.openWatches, 0);

  backend.clearFailures();
  const b2 = make().start();
  await b2.waitForSync(2000);
  await b2.stop();
  assert.equal(backend.openWatches, 0);
  await client.resource<Pod>(pods).create(pod('a', 'x'));
  assert.equal(b2.list().length, 0);
});

test('waitForSync times out with a clear error', async (t) => {
  const { backend, make } = setup(t);
  backend.failLists(1000);
  const informer = make().start();
  await assert.rejects(informer.waitForSync(50), /did not sync within 50 ms/);
});
