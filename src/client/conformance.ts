/**
 * One informer suite for every client: run it over `InProcessClient` on the real store and over `HttpClient`
 * (client-node) against the real HTTP server. Each harness gives a client the informer uses (whose watches can be
 * broken and whose requests can be refused) and a writer that is never disturbed.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupVersionResource, KubeObject } from '../apis/meta.js';
import { Informer } from './informer.js';
import type { InformerOptions } from './informer.js';
import { recordEvents, waitFor } from './testing.js';
import type { ApiClient } from './types.js';

export interface InformerHarness {
  /** What the informer talks through. */
  client: ApiClient;
  /** For writes; never blocked or broken. */
  writer: ApiClient;
  /** Ends every open watch abruptly (a reset connection). */
  breakWatches(): void;
  /** While true, new requests of `client` fail at once (server unreachable). */
  setBlocked(blocked: boolean): void;
  /** Requests (or connections) `client` has attempted so far, refused ones included. */
  attempts(): number;
}

export interface HarnessOptions {
  /** Events the store keeps for watches from an older resourceVersion. */
  historySize: number;
  /** 0: no bookmarks. */
  bookmarkIntervalMs: number;
}

export type MakeHarness = (t: TestContext, opts: HarnessOptions) => Promise<InformerHarness>;

const configmaps: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };
const pods: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };

type ConfigMap = KubeObject & { data?: Record<string, string> };
type Pod = KubeObject & { spec: { nodeName?: string; containers: { name: string; image: string }[] } };

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
  data,
});

const pod = (name: string, nodeName: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName, containers: [{ name: 'c', image: 'nginx' }] },
});

const defaults: HarnessOptions = { historySize: 1000, bookmarkIntervalMs: 0 };

export function informerConformance(name: string, make: MakeHarness): void {
  function informer<T extends KubeObject>(t: TestContext, h: InformerHarness, opts: Omit<InformerOptions<T>, 'backoff'> & Partial<Pick<InformerOptions<T>, 'backoff'>>) {
    const i = new Informer<T>(h.client, { backoff: { initialMs: 20, maxMs: 160 }, ...opts });
    t.after(() => i.stop());
    return i;
  }

  test(`${name}: list then watch; objects written elsewhere reach the informer`, async (t) => {
    const h = await make(t, defaults);
    const w = h.writer.resource<ConfigMap>(configmaps).inNamespace('default');
    await w.create(cm('a', { v: '1' }));
    await w.create(cm('b'));
    const inf = informer<ConfigMap>(t, h, { gvr: configmaps, namespace: 'default' });
    const events = recordEvents(inf);
    inf.start();
    await inf.waitForSync(5000);
    assert.deepEqual(events.sort(), ['add default/a', 'add default/b']);
    await w.create(cm('c'));
    await w.mergePatch('a', { data: { v: '2' } });
    await w.delete('b');
    await waitFor(() => events.length === 5, 'three events');
    assert.deepEqual(events.slice(2), ['add default/c', 'update default/a', 'delete default/b']);
    assert.equal(inf.getByName('default', 'a')?.data?.v, '2');
    assert.equal(inf.getByName('default', 'a')?.kind, 'ConfigMap');
  });

  test(`${name}: label selectors are applied by the server; Pods are indexed by node`, async (t) => {
    const h = await make(t, defaults);
    const w = h.writer.resource<ConfigMap>(configmaps).inNamespace('default');
    await w.create(cm('web', {}, { app: 'web' }));
    await w.create(cm('db', {}, { app: 'db' }));
    const p = h.writer.resource<Pod>(pods).inNamespace('default');
    await p.create(pod('p1', 'n1'));
    await p.create(pod('p2', 'n2'));
    const sel = informer<ConfigMap>(t, h, { gvr: configmaps, labelSelector: 'app=web' }).start();
    const byNode = informer<Pod>(t, h, { gvr: pods }).start();
    await Promise.all([sel.waitForSync(5000), byNode.waitForSync(5000)]);
    assert.deepEqual(sel.keys(), ['default/web']);
    await w.create(cm('web2', {}, { app: 'web' }));
    await w.create(cm('db2', {}, { app: 'db' }));
    await p.create(pod('p3', 'n1'));
    await waitFor(() => sel.list().length === 2 && byNode.byIndex('nodeName', 'n1').length === 2, 'the new objects');
    assert.deepEqual(sel.keys().sort(), ['default/web', 'default/web2']);
    assert.deepEqual(byNode.byIndex('nodeName', 'n1').map((o) => o.metadata.name).sort(), ['p1', 'p3']);
  });

  test(`${name}: a field selector on spec.nodeName (what an agent watches) and paged lists`, async (t) => {
    const h = await make(t, defaults);
    const p = h.writer.resource<Pod>(pods).inNamespace('default');
    for (let i = 0; i < 5; i++) await p.create(pod(`p${i}`, i % 2 === 0 ? 'n1' : 'n2'));
    const mine = informer<Pod>(t, h, { gvr: pods, fieldSelector: 'spec.nodeName=n1', listPageSize: 2 }).start();
    const all = informer<Pod>(t, h, { gvr: pods, listPageSize: 2 }).start();
    await Promise.all([mine.waitForSync(5000), all.waitForSync(5000)]);
    assert.deepEqual(mine.keys().sort(), ['default/p0', 'default/p2', 'default/p4']);
    assert.equal(all.list().length, 5);
    await p.create(pod('p5', 'n1'));
    await p.create(pod('p6', 'n2'));
    await waitFor(() => mine.list().length === 4 && all.list().length === 7, 'the new Pods');
    assert.ok(mine.getByName('default', 'p5'));
  });

  test(`${name}: after a 410 the informer re-lists and delivers the difference, deletes included`, async (t) => {
    const h = await make(t, { ...defaults, historySize: 5 });
    const w = h.writer.resource<ConfigMap>(configmaps).inNamespace('default');
    for (const n of ['keep', 'change', 'vanish', 'filler']) await w.create(cm(n));
    const inf = informer<ConfigMap>(t, h, { gvr: configmaps, namespace: 'default' });
    const events = recordEvents(inf);
    inf.start();
    await inf.waitForSync(5000);
    events.length = 0;

    // The informer is cut off while more changes happen than the store's history keeps.
    h.setBlocked(true);
    h.breakWatches();
    await w.mergePatch('change', { data: { v: '2' } });
    await w.delete('vanish');
    await w.create(cm('new'));
    for (let i = 0; i < 10; i++) await w.mergePatch('filler', { data: { i: String(i) } });
    h.setBlocked(false);

    await waitFor(() => events.includes('add default/new') && events.includes('delete default/vanish'), 'the re-list difference', 5000);
    assert.ok(inf.stats.relists >= 1, 'a 410 was seen');
    assert.ok(events.includes('update default/change'));
    assert.ok(!events.includes('update default/keep'), 'an unchanged object is not reported');
    assert.deepEqual(inf.keys().sort(), ['default/change', 'default/filler', 'default/keep', 'default/new']);
    assert.equal(inf.getByName('default', 'filler')?.data?.i, '9');
    await w.create(cm('after'));
    await waitFor(() => events.includes('add default/after'), 'events after the re-list');
  });

  test(`${name}: a watch killed mid-stream resumes from the last resourceVersion, without a re-list`, async (t) => {
    const h = await make(t, defaults);
    const w = h.writer.resource<ConfigMap>(configmaps).inNamespace('default');
    const inf = informer<ConfigMap>(t, h, { gvr: configmaps });
    const events = recordEvents(inf);
    inf.start();
    await inf.waitForSync(5000);
    await w.create(cm('one'));
    await waitFor(() => events.includes('add default/one'), 'the first event');
    for (let i = 0; i < 3; i++) {
      h.breakWatches();
      await w.create(cm(`after-kill-${i}`));
      await waitFor(() => events.includes(`add default/after-kill-${i}`), `the event after kill ${i}`, 5000);
    }
    assert.equal(inf.stats.lists, 1);
    assert.equal(inf.stats.relists, 0);
    assert.equal(events.length, 4, events.join(', '));
  });

  test(`${name}: a broken watch recovers with backoff, without a tight loop`, async (t) => {
    const h = await make(t, defaults);
    const w = h.writer.resource<ConfigMap>(configmaps).inNamespace('default');
    const inf = informer<ConfigMap>(t, h, { gvr: configmaps, backoff: { initialMs: 20, maxMs: 160, jitter: 0 } });
    const events = recordEvents(inf);
    inf.start();
    await inf.waitForSync(5000);
    await waitFor(() => h.attempts() >= 2, 'the watch request');

    h.setBlocked(true);
    const before = h.attempts();
    h.breakWatches();
    await new Promise((r) => setTimeout(r, 700));
    const attempts = h.attempts() - before;
    // 20+40+80+160+160+160 ms: about 6 attempts in 700 ms.
    assert.ok(attempts >= 3 && attempts <= 9, `expected 3..9 attempts in 700 ms while refused, got ${attempts}`);

    await w.create(cm('while-down'));
    h.setBlocked(false);
    await waitFor(() => events.includes('add default/while-down'), 'recovery', 5000);
  });

  test(`${name}: bookmarks from the server keep the watchdog quiet; silence restarts the watch`, async (t) => {
    const quiet = await make(t, { ...defaults, bookmarkIntervalMs: 0 });
    const chatty = await make(t, { ...defaults, bookmarkIntervalMs: 50 });
    const a = informer<ConfigMap>(t, quiet, { gvr: configmaps, watchdogMs: 250 }).start();
    const b = informer<ConfigMap>(t, chatty, { gvr: configmaps, watchdogMs: 250 }).start();
    await Promise.all([a.waitForSync(5000), b.waitForSync(5000)]);
    await new Promise((r) => setTimeout(r, 900));
    assert.ok(a.stats.stalls >= 2, `silent watch restarted (${a.stats.stalls})`);
    assert.equal(b.stats.stalls, 0);
    assert.equal(a.stats.lists, 1, 'a watchdog restart resumes from the last RV, no re-list');
    await quiet.writer.resource<ConfigMap>(configmaps).inNamespace('default').create(cm('x'));
    await waitFor(() => a.list().some((o) => o.metadata.name === 'x'), 'events after restarts');
  });
}
