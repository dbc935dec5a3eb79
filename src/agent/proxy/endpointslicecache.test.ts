import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Endpoint } from '../../apis/discovery.js';
import { EndpointSliceCache } from './endpointslicecache.js';
import { usableEndpoints } from './select.js';
import { endpointsFromEndpoints } from './endpoints.js';
import type { EndpointsByPort } from './types.js';

const slice = (name: string, endpoints: Endpoint[], opts: { service?: string; ports?: EndpointSlice['ports']; addressType?: EndpointSlice['addressType'] } = {}): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': opts.service ?? 'web' } },
  addressType: opts.addressType ?? 'IPv4',
  endpoints,
  ports: opts.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
});
const ep = (ip: string, conditions: Endpoint['conditions'] = { ready: true }, nodeName = 'node-1'): Endpoint => ({ addresses: [ip], conditions, nodeName });
const ips = (m: EndpointsByPort, key = 'ns/web:http/TCP') => (m.get(key) ?? []).map((e) => e.ip);

test('all slices of a Service are merged; an endpoint moving between slices is no change', () => {
  const c = new EndpointSliceCache();
  c.update(slice('a', [ep('10.0.0.2'), ep('10.0.0.10')]), false);
  c.update(slice('b', [ep('10.0.0.3')]), false);
  const [ch] = c.checkout();
  assert.deepEqual(ips(ch!.current), ['10.0.0.2', '10.0.0.3', '10.0.0.10'], 'sorted numerically');
  c.update(slice('a', [ep('10.0.0.2')]), false);
  c.update(slice('b', [ep('10.0.0.3'), ep('10.0.0.10')]), false);
  assert.deepEqual(c.checkout(), []);
});

test('duplicates across slices count once, and the ready copy wins', () => {
  const c = new EndpointSliceCache();
  c.update(slice('a', [ep('10.0.0.2', { ready: false, serving: false })]), false);
  c.update(slice('b', [ep('10.0.0.2', { ready: true })]), false);
  const got = c.checkout()[0]!.current.get('ns/web:http/TCP') ?? [];
  assert.equal(got.length, 1);
  assert.equal(got[0]?.ready, true);
});

test('deleting the last slice is a change to no endpoints; an update the proxy does not use is none', () => {
  const c = new EndpointSliceCache();
  const s = slice('a', [ep('10.0.0.2')]);
  c.update(s, false);
  c.checkout();
  assert.equal(c.update({ ...s, metadata: { ...s.metadata, annotations: { x: 'y' } } }, false), false);
  c.update(s, true);
  const [ch] = c.checkout();
  assert.deepEqual([ips(ch!.previous), ch!.current.size], [['10.0.0.2'], 0]);
});

test('conditions: unset means ready; serving defaults to ready; terminating defaults to false', () => {
  const c = new EndpointSliceCache();
  c.update(slice('a', [{ addresses: ['10.0.0.2'] }, ep('10.0.0.3', { ready: false }), ep('10.0.0.4', { ready: false, serving: true, terminating: true })]), false);
  const got = c.checkout()[0]!.current.get('ns/web:http/TCP') ?? [];
  assert.deepEqual(got.map((e) => [e.ip, e.ready, e.serving, e.terminating]), [
    ['10.0.0.2', true, true, false],
    ['10.0.0.3', false, false, false],
    ['10.0.0.4', false, true, true],
  ]);
});

test('new connections go to ready endpoints; with none ready, to serving-terminating ones; never to the others', () => {
  const c = new EndpointSliceCache();
  c.update(slice('a', [ep('10.0.0.2'), ep('10.0.0.3', { ready: false, serving: true, terminating: true }), ep('10.0.0.4', { ready: false, serving: false, terminating: true }), ep('10.0.0.5', { ready: false })]), false);
  const eps = c.checkout()[0]!.current.get('ns/web:http/TCP') ?? [];
  assert.deepEqual(usableEndpoints(eps, 'node-1').map((e) => e.ip), ['10.0.0.2']);
  const noneReady = eps.filter((e) => e.ip !== '10.0.0.2');
  assert.deepEqual(usableEndpoints(noneReady, 'node-1').map((e) => e.ip), ['10.0.0.3']);
  assert.deepEqual(usableEndpoints(noneReady.filter((e) => e.ip !== '10.0.0.3'), 'node-1'), []);
});

test('isLocal compares the endpoint Node (v1 nodeName, v1beta1 topology) with the agent Node', () => {
  const c = new EndpointSliceCache();
  c.update(slice('a', [ep('10.0.0.2', { ready: true }, 'node-1'), ep('10.0.0.3', { ready: true }, 'node-2'), { addresses: ['10.0.0.4'], topology: { 'kubernetes.io/hostname': 'node-1' } }]), false);
  const eps = c.checkout()[0]!.current.get('ns/web:http/TCP') ?? [];
  assert.deepEqual(usableEndpoints(eps, 'node-1').map((e) => [e.ip, e.isLocal]), [['10.0.0.2', true], ['10.0.0.3', false], ['10.0.0.4', true]]);
});

test('slices with different resolved ports (a named target port) give each endpoint its own port', () => {
  const c = new EndpointSliceCache();
  c.update(slice('a', [ep('10.0.0.2')], { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }), false);
  c.update(slice('b', [ep('10.0.0.3')], { ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] }), false);
  const eps = c.checkout()[0]!.current.get('ns/web:http/TCP') ?? [];
  assert.deepEqual(eps.map((e) => `${e.ip}:${e.port}`), ['10.0.0.2:8080', '10.0.0.3:9090']);
});

test('IPv6 and FQDN slices are skipped (IPv4-only datapath); ports without a number are skipped; other protocols keyed apart', () => {
  const c = new EndpointSliceCache();
  assert.equal(c.update(slice('v6', [ep('fd00::2')], { addressType: 'IPv6' }), false), false);
  c.update(slice('a', [ep('10.0.0.2')], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'x' }] }), false);
  const cur = c.checkout()[0]!.current;
  assert.deepEqual([...cur.keys()].sort(), ['ns/web:dns-tcp/TCP', 'ns/web:dns/UDP']);
});

test('a slice without the service-name label belongs to no Service', () => {
  const c = new EndpointSliceCache();
  const s = slice('a', [ep('10.0.0.2')]);
  assert.equal(c.update({ ...s, metadata: { name: 'a', namespace: 'ns' } }, false), false);
});

test('core/v1 Endpoints: ready addresses only, per subset port, IPv6 skipped', () => {
  const m = endpointsFromEndpoints({
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'ns' },
    subsets: [
      { addresses: [{ ip: '10.0.0.2', nodeName: 'node-1' }, { ip: 'fd00::1' }], notReadyAddresses: [{ ip: '10.0.0.9' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.0.0.3' }], ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] },
    ],
  });
  assert.deepEqual((m.get('ns/web:http/TCP') ?? []).map((e) => `${e.ip}:${e.port}:${e.nodeName ?? ''}`), ['10.0.0.2:8080:node-1', '10.0.0.3:9090:']);
});
