import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupVersionResource } from '../apis/meta.js';
import { FakeBackend } from './fake-backend.js';
import { SharedInformerFactory } from './factory.js';
import { InProcessClient } from './inprocess.js';
import { waitFor } from './testing.js';

const pods: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };
const nodes: GroupVersionResource = { group: '', version: 'v1', resource: 'nodes' };

test('one informer per (resource, namespace, selectors), one watch each, started and stopped together', async (t) => {
  const backend = new FakeBackend();
  const client = new InProcessClient(backend);
  const factory = new SharedInformerFactory(client);
  t.after(() => factory.stop());
  const a = factory.informerFor(pods);
  const b = factory.informerFor(pods);
  const c = factory.informerFor(pods, { namespace: 'ns1' });
  const d = factory.informerFor(pods, { fieldSelector: 'spec.nodeName=n1' });
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.notEqual(a, d);
  factory.start();
  await factory.waitForCacheSync(2000);
  assert.equal(backend.listCalls, 3);

  // Made after start: it starts at once.
  const n = factory.informerFor(nodes);
  await n.waitForSync(2000);
  await waitFor(() => backend.openWatches === 4, 'four watches');
  await client.create(pods, 'ns1', { metadata: { name: 'p', namespace: 'ns1' } });
  await waitFor(() => a.list().length === 1 && c.list().length === 1, 'the shared caches');

  await factory.stop();
  assert.equal(backend.openWatches, 0);
  await assert.rejects(factory.informerFor(pods, { namespace: 'late' }).waitForSync(), /stopped|did not sync/);
});
