import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../apis/core.js';
import { injectionRequest, resolveDestination, tcpFlagLetters, type Lookups } from './request.js';

const lookups = (over: Partial<Lookups> = {}): Lookups => ({
  pod: (ns, n) => (ns === 'b' && n === 'q' ? ({ metadata: { name: 'q', namespace: 'b' }, spec: { containers: [] }, status: { podIP: '10.10.1.5' } } as Pod) : undefined),
  service: (ns, n) => (ns === 'b' && n === 'web' ? ({ metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 8080, protocol: 'TCP' }] } } as Service) : undefined),
  proxyEnabled: true,
  ...over,
});

test('destinations: a Pod’s address, a Service’s ClusterIP and port, an IP', () => {
  assert.deepEqual(resolveDestination({ destination: { namespace: 'b', pod: 'q' } }, lookups()), { ip: '10.10.1.5' });
  assert.deepEqual(resolveDestination({ destination: { namespace: 'b', service: 'web' }, packet: { ipHeader: { protocol: 6 } } }, lookups()), { ip: '10.96.0.10', port: 8080 });
  assert.deepEqual(resolveDestination({ destination: { ip: '1.2.3.4' }, packet: { transportHeader: { udp: { dstPort: 53 } } } }, lookups()), { ip: '1.2.3.4', port: 53 });
});

test('a missing destination or a Service without AntreaProxy is an error with the reason', () => {
  assert.throws(() => resolveDestination({ destination: { namespace: 'b', pod: 'gone' } }, lookups()), /destination Pod b\/gone not found/);
  assert.throws(() => resolveDestination({ destination: { namespace: 'b', service: 'web' } }, lookups({ proxyEnabled: false })), /requires AntreaProxy feature enabled/);
});

test('the injected packet: ICMP by default, TTL 64, TCP SYN unless flags are given', () => {
  assert.deepEqual(injectionRequest({}, 'a/p', { ip: '10.0.0.1' }), { from: { pod: 'a/p' }, to: { ip: '10.0.0.1' }, protocol: 'ICMP', ttl: 64, trace: true });
  const tcp = injectionRequest({ packet: { ipHeader: { protocol: 6, ttl: 9 }, transportHeader: { tcp: { srcPort: 999 } } } }, 'a/p', { ip: '10.0.0.1', port: 80 });
  assert.deepEqual(tcp, { from: { pod: 'a/p' }, to: { ip: '10.0.0.1', port: 80 }, protocol: 'TCP', ttl: 9, trace: true, tcpFlags: 'S', srcPort: 999 });
  assert.equal(tcpFlagLetters(18), 'SA');
  assert.equal(tcpFlagLetters(1 | 4 | 8), 'FRP');
});
