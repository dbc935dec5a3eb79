import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupVersionResource, KubeObject, WatchEvent } from '../apis/meta.js';
import { isApiError } from '../apiserver/types.js';
import { FakeBackend } from './fake-backend.js';
import { InProcessClient } from './inprocess.js';
import { waitFor } from './testing.js';

const cms: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };
type ConfigMap = KubeObject & { data?: Record<string, string> };

test('objects are deep-copied both ways: callers cannot reach into the store', async () => {
  const backend = new FakeBackend();
  const client = new InProcessClient(backend);
  const api = client.resource<ConfigMap>(cms).inNamespace('ns');
  const mine: ConfigMap = { metadata: { name: 'c' }, data: { k: 'v' } };
  const created = await api.create(mine);
  (mine.data as Record<string, string>).k = 'changed by caller after create';
  (created.data as Record<string, string>).k = 'changed in the result';
  const got = await api.get('c');
  assert.equal(got.data?.k, 'v');
  assert.equal(got.metadata.namespace, 'ns');
  (got.data as Record<string, string>).k = 'x';
  assert.equal((await api.get('c')).data?.k, 'v');
});

test('watch events arrive asynchronously, in order, as copies; a handler may write back without re-entering', async () => {
  const backend = new FakeBackend();
  const client = new InProcessClient(backend);
  const api = client.resource<ConfigMap>(cms).inNamespace('ns');
  const seen: string[] = [];
  let writing = false;
  const w = client.watch<ConfigMap>(cms, { namespace: 'ns' }, (e: WatchEvent<ConfigMap>) => {
    if (writing) seen.push('delivered while the store write was still running');
    const o = e.object as ConfigMap;
    seen.push(`${e.type} ${o.metadata.name}`);
    if (o.metadata.name === 'a' && e.type === 'ADDED') void api.create({ metadata: { name: 'from-handler' } });
  });
  writing = true;
  const first = api.create({ metadata: { name: 'a' } }); // the store records the event synchronously in here
  writing = false;
  await first;
  await api.create({ metadata: { name: 'b' } });
  await waitFor(() => seen.length === 3, 'three events');
  assert.equal(seen[0], 'ADDED a');
  assert.deepEqual([...seen].sort(), ['ADDED a', 'ADDED b', 'ADDED from-handler']);
  await client.close();
  await w.done;
  assert.equal(backend.openWatches, 0);
});

test('tryGet, tryDelete and retryUpdate', async () => {
  const backend = new FakeBackend();
  const client = new InProcessClient(backend);
  const api = client.resource<ConfigMap>(cms).inNamespace('ns');
  assert.equal(await api.tryGet('none'), undefined);
  assert.equal(await api.tryDelete('none'), undefined);
  await api.create({ metadata: { name: 'c' }, data: { n: '0' } });

  // Another writer wins the race on the first attempt: retryUpdate reads again and succeeds.
  let raced = false;
  const updated = await api.retryUpdate('c', (cm) => {
    if (!raced) {
      raced = true;
      backend.writeSilently(cms, { metadata: { name: 'c', namespace: 'ns' }, data: { n: 'other' } } as ConfigMap);
    }
    cm.data = { ...cm.data, mine: 'yes' };
  });
  assert.equal(updated.data?.mine, 'yes');
  assert.equal(updated.data?.n, 'other');

  const failing = await api
    .retryUpdate('c', (cm) => ({ ...cm, metadata: { ...cm.metadata, resourceVersion: '1' } }), { attempts: 2 })
    .catch((e: unknown) => e);
  assert.ok(isApiError(failing, 'Conflict'));
});
