import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KubeObject } from '../apis/meta.js';
import { createStore, unexpectedShape } from './store.js';
import { defaultResources } from './registry.js';
import { isApiError } from './types.js';
import { silentLogger } from '../util/log.js';

// Keys the validators look at, so random documents reach deep into them.
const keys = [
  'spec', 'status', 'metadata', 'name', 'namespace', 'labels', 'annotations', 'finalizers', 'generateName', 'containers', 'initContainers',
  'ports', 'port', 'containerPort', 'targetPort', 'nodePort', 'protocol', 'nodeName', 'podIP', 'podIPs', 'ip', 'phase', 'conditions',
  'type', 'clusterIP', 'clusterIPs', 'selector', 'sessionAffinity', 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds', 'podCIDR',
  'podCIDRs', 'addresses', 'address', 'subsets', 'notReadyAddresses', 'addressType', 'endpoints', 'ready', 'serving', 'terminating',
  'hostname', 'targetRef', 'data', 'binaryData', 'immutable', 'externalIPs', 'externalName', 'hostNetwork', 'restartPolicy', 'image',
  'unschedulable', 'externalTrafficPolicy', 'matchLabels',
];
const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 70000 }), fc.constantFrom('', 'a', 'TCP', 'None', 'ClientIP', '10.0.0.1', '10.0.0.0/24', 'IPv4', 'x y', 'NodePort'));
const { doc } = fc.letrec((tie) => ({
  doc: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('arr'), tie('obj')),
  arr: fc.array(tie('doc'), { maxLength: 3 }),
  obj: fc.dictionary(fc.constantFrom(...keys), tie('doc'), { maxKeys: 5 }),
}));

test('validators never throw on any document shape: every bad write is an ApiError and changes nothing', async () => {
  const store = createStore({ logger: silentLogger });
  const defs = defaultResources();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...defs.map((_, i) => i)), fc.dictionary(fc.constantFrom(...keys), doc, { maxKeys: 6 }), doc, async (di, body, patch) => {
      const def = defs[di]!;
      const g = { group: def.group, version: def.versions[0]!, resource: def.plural };
      const ns = def.namespaced ? 'default' : undefined;
      // The name is pinned after the random metadata so the cleanup below deletes what was created.
      const randomMeta = typeof body.metadata === 'object' && body.metadata !== null && !Array.isArray(body.metadata) ? body.metadata : {};
      const obj = { ...body, metadata: { ...randomMeta, name: 'fuzz' } } as unknown as KubeObject;
      const before = store.resourceVersion();
      let created = false;
      try {
        await store.create(g, ns, obj);
        created = true;
      } catch (err) {
        assert.ok(isApiError(err) && !err.message.startsWith(unexpectedShape), `create ${def.kind} threw ${String(err)} for ${JSON.stringify(obj)}`);
        assert.equal(store.resourceVersion(), before);
      }
      if (created) {
        for (const type of ['merge', 'strategic', 'json'] as const) {
          const mid = store.resourceVersion();
          try {
            await store.patch(g, ns, 'fuzz', type, patch);
          } catch (err) {
            assert.ok(isApiError(err) && !err.message.startsWith(unexpectedShape), `${type} patch of ${def.kind} threw ${String(err)} for ${JSON.stringify(patch)}`);
            assert.equal(store.resourceVersion(), mid);
          }
        }
        await store.delete(g, ns, 'fuzz');
      }
    }),
    { numRuns: 1500 },
  );
  await store.close();
});
