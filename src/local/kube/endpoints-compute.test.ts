import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../apis/core.js';
import { desiredEndpoints, desiredEndpointSlices, resolveTargetPort, selectedPods } from './endpoints-compute.js';

const pod = (name: string, ip: string, opts: { ready?: boolean; labels?: Record<string, string>; node?: string; deleting?: boolean; phase?: string; webPort?: number; ip6?: string } = {}): Pod => ({
  metadata: {
    name,
    namespace: 'ns',
    uid: `uid-${name}`,
    labels: opts.labels ?? { app: 'web' },
    ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: { nodeName: opts.node ?? 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: opts.webPort ?? 8080 }] }] },
  status: {
    phase: (opts.phase ?? 'Running') as 'Running',
    podIP: ip,
    podIPs: [{ ip }, ...(opts.ip6 ? [{ ip: opts.ip6 }] : [])],
    conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
  },
});

const service = (spec: Partial<Service['spec']> = {}): Service => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid' },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
});

test('the selector picks scheduled, addressed, live Pods of the namespace', () => {
  const pods = [
    pod('a', '10.10.1.2'),
    pod('b', '10.10.1.3', { labels: { app: 'db' } }),
    pod('c', '10.10.1.4', { phase: 'Succeeded' }),
    { ...pod('d', ''), status: { phase: 'Pending' as const } },
    { ...pod('e', '10.10.1.6'), metadata: { name: 'e', namespace: 'other', labels: { app: 'web' } } },
  ];
  assert.deepEqual(selectedPods(service(), pods).map((p) => p.metadata.name), ['a']);
  assert.deepEqual(selectedPods(service({ selector: {} }), pods), [], 'an empty selector selects nothing');
});

test('named target ports resolve per Pod', () => {
  const sp = { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' as const };
  assert.equal(resolveTargetPort(sp, pod('a', '1.1.1.1', { webPort: 9090 })), 9090);
  assert.equal(resolveTargetPort({ ...sp, targetPort: 'nope' }, pod('a', '1.1.1.1')), undefined);
  assert.equal(resolveTargetPort({ ...sp, targetPort: 7000 }, pod('a', '1.1.1.1')), 7000);
  assert.equal(resolveTargetPort({ port: 53, protocol: 'UDP' }, pod('a', '1.1.1.1')), 53);
});

test('Endpoints: ready and not-ready addresses, grouped by resolved ports, terminating Pods left out', () => {
  const eps = desiredEndpoints(service(), [
    pod('a', '10.10.1.2'),
    pod('b', '10.10.1.3', { ready: false }),
    pod('c', '10.10.2.2', { webPort: 9090, node: 'n2' }),
    pod('d', '10.10.2.3', { deleting: true }),
  ]);
  assert.equal(eps.subsets?.length, 2);
  const s8080 = eps.subsets?.find((s) => s.ports?.[0]?.port === 8080);
  assert.deepEqual(s8080?.addresses?.map((a) => a.ip), ['10.10.1.2']);
  assert.deepEqual(s8080?.notReadyAddresses?.map((a) => a.ip), ['10.10.1.3']);
  assert.deepEqual(eps.subsets?.find((s) => s.ports?.[0]?.port === 9090)?.addresses?.map((a) => [a.ip, a.nodeName]), [['10.10.2.2', 'n2']]);
});

test('EndpointSlices: conditions, chunking, stable names, one empty slice when nothing is selected', () => {
  const pods = Array.from({ length: 250 }, (_, i) => pod(`p${String(i).padStart(3, '0')}`, `10.10.${Math.floor(i / 200)}.${(i % 200) + 2}`));
  pods.push(pod('term', '10.10.9.9', { deleting: true }));
  const slices = desiredEndpointSlices(service(), pods);
  assert.deepEqual(slices.map((s) => s.endpoints.length), [100, 100, 51]);
  assert.equal(new Set(slices.map((s) => s.metadata.name)).size, 3);
  assert.deepEqual(desiredEndpointSlices(service(), pods).map((s) => s.metadata.name), slices.map((s) => s.metadata.name));
  const term = slices.flatMap((s) => s.endpoints).find((e) => e.targetRef?.name === 'term');
  assert.deepEqual(term?.conditions, { ready: false, serving: true, terminating: true });
  assert.deepEqual(slices[0]?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(slices[0]?.metadata.labels?.['kubernetes.io/service-name'], 'web');
  const empty = desiredEndpointSlices(service(), []);
  assert.equal(empty.length, 1);
  assert.deepEqual(empty[0]?.endpoints, []);
});

test('dual-stack Services get one slice set per family', () => {
  const slices = desiredEndpointSlices(service({ ipFamilies: ['IPv4', 'IPv6'] }), [pod('a', '10.10.1.2', { ip6: 'fd00::2' })]);
  assert.deepEqual(slices.map((s) => [s.addressType, s.endpoints[0]?.addresses[0]]), [['IPv4', '10.10.1.2'], ['IPv6', 'fd00::2']]);
});
