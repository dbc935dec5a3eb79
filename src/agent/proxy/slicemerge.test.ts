import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MergedSlices, type SliceInfo } from './slicemerge.js';
import { EndpointsBuilder } from './endpoints.js';
import type { EndpointsByPort } from './types.js';

/** The merge from scratch, in applied order (what EndpointSliceCache did before merging incrementally). */
function mergeAll(service: string, slices: ReadonlyMap<string, SliceInfo>): EndpointsByPort {
  const b = new EndpointsBuilder();
  for (const info of slices.values()) {
    for (const port of info.ports) for (const e of info.endpoints) b.add(service, port.name, port.protocol, { ...e, port: port.port });
  }
  return b.build();
}

// Few IPs, so copies of one endpoint in several slices (and twice in one) are common; node names make ties differ.
const endpointArb = fc.record({
  ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.1.3', '10.1.0.4', '9.255.255.255'),
  nodeName: fc.option(fc.constantFrom('n1', 'n2'), { nil: undefined }),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
}).map(({ nodeName, ...e }) => ({ ...e, ...(nodeName ? { nodeName } : {}) }));
type Ports = SliceInfo['ports'];
const portsArb = fc.constantFrom<Ports>(
  [{ name: 'http', port: 8080, protocol: 'TCP' }],
  [{ name: 'http', port: 9090, protocol: 'TCP' }],
  [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'http', port: 8080, protocol: 'TCP' }],
  [{ name: 'x', port: 1, protocol: 'ICMP' }],
);
const sliceArb: fc.Arbitrary<SliceInfo> = fc.record({ ports: portsArb, endpoints: fc.array(endpointArb, { maxLength: 5 }) });

test('property: slice updates merged one by one equal a merge of all slices from scratch', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd'), info: fc.option(sliceArb, { nil: undefined }) }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 4 }), (steps, batch) => {
      const m = new MergedSlices('ns/svc');
      const applied = new Map<string, SliceInfo>();
      for (let i = 0; i < steps.length; i++) {
        const { name, info } = steps[i]!;
        m.update(name, applied.get(name), info);
        if (info) applied.set(name, info);
        else applied.delete(name);
        // Snapshots after some steps only: several slice changes may land between two checkouts.
        if (i % batch === 0 || i === steps.length - 1) assert.deepEqual(m.snapshot(), mergeAll('ns/svc', applied));
      }
    }),
    { numRuns: 400 },
  );
});

test('one endpoint added to a 100-slice Service reuses the other ports and copies, not re-sorts, the list', () => {
  const m = new MergedSlices('ns/big');
  const ports = [{ name: 'http', port: 8080, protocol: 'TCP' }];
  const sliceOf = (s: number, extra = false): SliceInfo => ({
    ports,
    endpoints: [...Array.from({ length: 100 }, (_, i) => ({ ip: `10.${s}.0.${i + 1}`, ready: true, serving: true, terminating: false })),
      ...(extra ? [{ ip: '10.200.0.9', ready: true, serving: true, terminating: false }] : [])],
  });
  for (let s = 0; s < 100; s++) m.update(`s${s}`, undefined, sliceOf(s));
  const first = m.snapshot().get('ns/big:http/TCP')!;
  assert.equal(first.length, 10_000);
  m.update('s0', sliceOf(0), sliceOf(0, true));
  const next = m.snapshot().get('ns/big:http/TCP')!;
  assert.equal(next.length, 10_001);
  assert.equal(first.length, 10_000, 'the previous snapshot is not changed');
  assert.equal(next.filter((e, i) => e !== first[i - (i > next.findIndex((x) => x.ip === '10.200.0.9') ? 1 : 0)]).length, 1, 'the other 10,000 are the same objects');
});
