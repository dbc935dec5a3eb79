/**
 * The API calls every `ApiClient` must get right against the real API machinery: the same results, the same
 * `ApiError`s with the server's `Status` (reason, code, details, causes), whichever client is used.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupVersionResource, KubeObject } from '../apis/meta.js';
import { isApiError } from '../apiserver/types.js';
import type { ApiClient } from './types.js';

const configmaps: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };
const pods: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };
type ConfigMap = KubeObject & { data?: Record<string, string> };
type Pod = KubeObject & { spec: { containers: { name: string; image: string }[] }; status?: { phase?: string } };

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return assert.fail('expected the call to fail');
}

export function apiClientConformance(name: string, make: (t: TestContext) => Promise<ApiClient>): void {
  test(`${name}: create, get, list with selectors and pages, update, patch, status, delete`, async (t) => {
    const client = await make(t);
    const cms = client.resource<ConfigMap>(configmaps).inNamespace('default');
    const a = await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { app: 'web' } }, data: { k: 'v' } });
    assert.equal(a.metadata.namespace, 'default');
    assert.equal(typeof a.metadata.uid, 'string');
    assert.equal(typeof a.metadata.resourceVersion, 'string');
    for (const n of ['b', 'c', 'd']) await cms.create({ metadata: { name: n, labels: { app: 'db' } } });
    assert.deepEqual((await cms.list({ labelSelector: 'app=web' })).items.map((o) => o.metadata.name), ['a']);
    assert.deepEqual((await cms.list({ fieldSelector: 'metadata.name=c' })).items.map((o) => o.metadata.name), ['c']);
    const page = await cms.list({ limit: 2 });
    assert.equal(page.items.length, 2);
    assert.ok(page.metadata.continue);
    assert.deepEqual((await cms.listAll({ limit: 3 })).map((o) => o.metadata.name).sort(), ['a', 'b', 'c', 'd']);

    const got = await cms.get('a');
    assert.equal(got.data?.k, 'v');
    const updated = await cms.update({ ...got, data: { k: 'v2' } });
    assert.notEqual(updated.metadata.resourceVersion, got.metadata.resourceVersion);
    const merged = await cms.mergePatch('a', { data: { extra: 'x', k: null } });
    assert.deepEqual(merged.data, { extra: 'x' });
    const jsonPatched = await cms.patch('a', 'json', [{ op: 'add', path: '/data/j', value: '1' }]);
    assert.equal(jsonPatched.data?.j, '1');
    const retried = await cms.retryUpdate('a', (o) => {
      o.data = { ...o.data, r: 'yes' };
    });
    assert.equal(retried.data?.r, 'yes');

    const p = client.resource<Pod>(pods).inNamespace('default');
    await p.create({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    const withStatus = await p.retryUpdate('p', (o) => ({ ...o, status: { phase: 'Running' } }), { subresource: 'status' });
    assert.equal(withStatus.status?.phase, 'Running');
    assert.equal(withStatus.metadata.generation, 1, 'a status write does not bump generation');

    const deleted = await cms.delete('b');
    assert.equal(deleted.metadata.name, 'b');
    assert.equal(await cms.tryGet('b'), undefined);
    const gone = await client.deleteCollection?.(configmaps, { namespace: 'default', labelSelector: 'app=db' });
    assert.deepEqual(gone?.items.map((o) => o.metadata.name).sort(), ['c', 'd']);
    assert.deepEqual((await cms.list()).items.map((o) => o.metadata.name), ['a']);
  });

  test(`${name}: failures are ApiErrors with the server's Status`, async (t) => {
    const client = await make(t);
    const cms = client.resource<ConfigMap>(configmaps).inNamespace('default');
    await cms.create({ metadata: { name: 'a' } });

    const notFound = await failure(cms.get('missing'));
    assert.ok(isApiError(notFound, 'NotFound'), String(notFound));
    assert.equal(notFound.statusCode, 404);
    assert.equal(notFound.status.details?.name, 'missing');
    assert.equal(notFound.status.details?.kind, 'configmaps');
    assert.match(notFound.message, /configmaps "missing" not found/);

    const exists = await failure(cms.create({ metadata: { name: 'a' } }));
    assert.ok(isApiError(exists, 'AlreadyExists'));
    assert.equal(exists.statusCode, 409);

    const stale = await failure(cms.update({ metadata: { name: 'a', namespace: 'default', resourceVersion: '1' } }));
    assert.ok(isApiError(stale, 'Conflict'));

    const invalid = await failure(client.resource<Pod>(pods).inNamespace('default').create({ metadata: { name: 'bad' }, spec: { containers: [] } }));
    assert.ok(isApiError(invalid, 'Invalid'), String(invalid));
    assert.equal(invalid.statusCode, 422);
    assert.ok((invalid.status.details?.causes ?? []).some((c) => c.field?.startsWith('spec.containers')), JSON.stringify(invalid.status.details));

    const badSelector = await failure(cms.list({ labelSelector: '!!' }));
    assert.ok(isApiError(badSelector, 'BadRequest'), String(badSelector));

    const unknown = await failure(client.list({ group: 'nope.io', version: 'v1', resource: 'things' }));
    assert.ok(isApiError(unknown, 'NotFound'));
  });
}
