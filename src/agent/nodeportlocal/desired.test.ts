import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../apis/core.js';
import { isNplService, podTargets } from './desired.js';

const pod = (labels: Record<string, string>, ports: Pod['spec']['containers'][number]['ports'] = []): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', labels },
  spec: { containers: [{ name: 'c', ports }] },
});

const svc = (name: string, spec: Partial<Service['spec']>, annotations: Record<string, string> = { 'nodeportlocal.antrea.io/enabled': 'true' }, namespace = 'ns'): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, annotations },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
});

test('a Service takes part only with the annotation "true", a non-empty selector, and a type other than NodePort', () => {
  assert.ok(isNplService(svc('a', {})));
  assert.ok(isNplService(svc('a', { type: 'LoadBalancer' })));
  assert.ok(!isNplService(svc('a', { type: 'NodePort' })));
  assert.ok(!isNplService(svc('a', { selector: {} })));
  assert.ok(!isNplService(svc('a', {}, { 'nodeportlocal.antrea.io/enabled': 'True' })));
  assert.ok(!isNplService(svc('a', {}, {})));
});

test('target ports of every NPL Service selecting the Pod, numeric or named with a matching protocol', () => {
  const p = pod({ app: 'web', tier: 'x' }, [
    { name: 'http', containerPort: 8080 },
    { name: 'dns', containerPort: 5353, protocol: 'UDP' },
  ]);
  const services = [
    svc('a', {}),
    svc('b', { ports: [{ port: 53, targetPort: 'dns', protocol: 'UDP' }, { port: 54, targetPort: 'dns', protocol: 'TCP' }] }),
    svc('c', { ports: [{ port: 9000 }] }),
    svc('other-ns', { ports: [{ port: 1, targetPort: 1 }] }, undefined, 'elsewhere'),
    svc('no-match', { selector: { app: 'db' }, ports: [{ port: 2, targetPort: 2 }] }),
    svc('not-npl', { ports: [{ port: 3, targetPort: 3 }] }, {}),
  ];
  const { targets, skipped } = podTargets(p, services);
  assert.deepEqual(targets, [
    { podPort: 5353, protocol: 'udp' },
    { podPort: 8080, protocol: 'tcp' },
    { podPort: 9000, protocol: 'tcp' },
  ]);
  assert.equal(skipped.length, 1);
  assert.match(skipped[0] ?? '', /ns\/b port 54: no TCP container port is named "dns"/);
});

test('SCTP is skipped with a reason; a hostPort is reused instead of a Node port', () => {
  const p = pod({ app: 'web' }, [{ containerPort: 8080, hostPort: 30080 }]);
  const { targets, skipped } = podTargets(p, [svc('a', { ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 81, protocol: 'SCTP' }] })]);
  assert.deepEqual(targets, [{ podPort: 8080, protocol: 'tcp', hostPort: 30080 }]);
  assert.match(skipped[0] ?? '', /SCTP is not supported/);
});

test('a Pod no NPL Service selects wants nothing', () => {
  assert.deepEqual(podTargets(pod({ app: 'db' }), [svc('a', {})]), { targets: [], skipped: [] });
});
