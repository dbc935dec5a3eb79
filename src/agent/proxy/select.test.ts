import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UsableEndpoints, usableEndpoints } from './select.js';
import type { EndpointInfo } from './types.js';

const infoArb: fc.Arbitrary<EndpointInfo> = fc.record({
  ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3'),
  port: fc.constantFrom(80, 81),
  nodeName: fc.constantFrom('n1', 'n2'),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
});

test('property: the per-ServicePort cache answers as usableEndpoints, whatever changed between two lists', () => {
  fc.assert(
    fc.property(fc.array(infoArb, { minLength: 1, maxLength: 12 }), fc.array(fc.array(fc.nat(40), { maxLength: 12 }), { minLength: 1, maxLength: 12 }), fc.array(infoArb, { maxLength: 30 }), (pool, lists, fresh) => {
      // Lists pick objects from a pool (shared references, as the slice cache keeps them) or brand-new copies.
      const cache = new UsableEndpoints('n1');
      let k = 0;
      for (const picks of lists) {
        const list = picks.map((i) => (i < pool.length * 3 ? (pool[i % pool.length] as EndpointInfo) : { ...(fresh[k++ % Math.max(1, fresh.length)] ?? (pool[0] as EndpointInfo)) }));
        assert.deepEqual(cache.get('svc', list), usableEndpoints(list, 'n1'));
      }
    }),
    { numRuns: 400 },
  );
});
