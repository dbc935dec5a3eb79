import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../apiserver/types.js';
import type { GroupVersionResource } from '../../apis/meta.js';
import { servedEndpointSliceVersion } from './sliceversion.js';

const notFound = () =>
  new ApiError({ apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' });

test('v1 when served; v1beta1 on a server without v1; v1 when the probe fails otherwise', async () => {
  assert.equal((await servedEndpointSliceVersion(async () => ({}))).version, 'v1');
  assert.equal((await servedEndpointSliceVersion(async (r: GroupVersionResource) => {
    if (r.version === 'v1') throw notFound();
    return {};
  })).version, 'v1beta1');
  assert.equal((await servedEndpointSliceVersion(async () => {
    throw new Error('connection refused');
  })).version, 'v1');
});
