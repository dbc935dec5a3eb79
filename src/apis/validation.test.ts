import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from './meta.js';
import { validateConfigMap, validateEndpoints, validateNamespace, validateNode, validatePod, validateService, defaultService } from './core.js';
import { validateEndpointSlice } from './discovery.js';
import { invalidStatus, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isLabelValue, isValidCIDR, type FieldError } from './validation.js';

const fields = (errs: FieldError[]) => errs.map((e) => `${e.type} ${e.field}`);

test('name and label syntax', () => {
  assert.deepEqual(isDNS1123Label('web-1'), []);
  assert.equal(isDNS1123Label('Web').length, 1);
  assert.equal(isDNS1123Label('a'.repeat(64)).length, 1);
  assert.deepEqual(isDNS1123Subdomain('a.b-c.d'), []);
  assert.equal(isDNS1123Subdomain('a..b').length, 1);
  assert.deepEqual(isQualifiedName('example.com/App_1'), []);
  assert.ok(isQualifiedName('/x').length > 0);
  assert.ok(isQualifiedName('a/b/c').length > 0);
  assert.deepEqual(isLabelValue(''), []);
  assert.ok(isLabelValue('-x').length > 0);
  assert.ok(isValidCIDR('10.0.0.0/24'));
  assert.ok(isValidCIDR('fd00::/64'));
  assert.ok(!isValidCIDR('10.0.0.0/33'));
  assert.ok(!isValidCIDR('10.0.0.0'));
});

test('invalidStatus: a 422 Status naming each field, with the Kubernetes message shape', () => {
  const st = invalidStatus('Pod', 'p1', [
    { type: 'FieldValueRequired', field: 'spec.containers' },
    { type: 'FieldValueInvalid', field: 'metadata.name', value: 'A', detail: 'bad' },
  ]);
  assert.equal(st.code, 422);
  assert.equal(st.reason, 'Invalid');
  assert.equal(st.message, 'Pod "p1" is invalid: [spec.containers: Required value, metadata.name: Invalid value: "A": bad]');
  assert.deepEqual(st.details?.causes, [
    { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' },
    { reason: 'FieldValueInvalid', message: 'Invalid value: "A": bad', field: 'metadata.name' },
  ]);
  assert.equal(invalidStatus('Pod', 'p', [{ type: 'FieldValueRequired', field: 'x' }]).message, 'Pod "p" is invalid: x: Required value');
});

test('Namespace and Node', () => {
  assert.deepEqual(validateNamespace({ metadata: { name: 'team-a' } }), []);
  assert.deepEqual(fields(validateNamespace({ metadata: { name: 'team.a' } })), ['FieldValueInvalid metadata.name']);
  const node = (spec: unknown, status?: unknown) => ({ metadata: { name: 'node-1.example', labels: { 'kubernetes.io/hostname': 'node-1' } }, spec, status }) as KubeObject;
  assert.deepEqual(validateNode(node({ podCIDR: '10.10.1.0/24', podCIDRs: ['10.10.1.0/24', 'fd00:10:1::/64'] }, { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] })), []);
  assert.deepEqual(
    fields(validateNode(node({ podCIDR: '10.10.1.0/33', podCIDRs: ['10.0.0.0/24', '10.1.0.0/24'] }, { addresses: [{ type: 'Internal', address: '' }] }))),
    ['FieldValueInvalid spec.podCIDR', 'FieldValueInvalid spec.podCIDRs', 'FieldValueInvalid spec.podCIDRs', 'FieldValueNotSupported status.addresses[0].type', 'FieldValueRequired status.addresses[0].address'],
  );
});

test('Pod: containers, ports, protocol, status IPs and conditions', () => {
  const pod = (spec: unknown, status?: unknown) => ({ metadata: { name: 'p', namespace: 'default' }, spec, status }) as KubeObject;
  assert.deepEqual(validatePod(pod({ containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }] }], nodeName: 'n1' }, { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] })), []);
  assert.deepEqual(fields(validatePod(pod(undefined))), ['FieldValueRequired spec.containers']);
  assert.deepEqual(
    fields(
      validatePod(
        pod(
          { containers: [{ name: 'c', ports: [{ containerPort: 0, protocol: 'ICMP' }, { name: 'too-long-port-name', containerPort: 80 }] }, { name: 'c' }] },
          { podIP: '10.0.0.300', phase: 'Sleeping', conditions: [{ type: 'Ready', status: 'Yes' }] },
        ),
      ),
    ),
    [
      'FieldValueInvalid spec.containers[0].ports[0].containerPort',
      'FieldValueNotSupported spec.containers[0].ports[0].protocol',
      'FieldValueInvalid spec.containers[0].ports[1].name',
      'FieldValueDuplicate spec.containers[1].name',
      'FieldValueNotSupported status.phase',
      'FieldValueInvalid status.podIP',
      'FieldValueNotSupported status.conditions[0].status',
    ],
  );
  const noNs = validatePod({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } } as KubeObject);
  assert.deepEqual(fields(noNs), ['FieldValueRequired metadata.namespace']);
});

test('Service: ports, targetPort int-or-string, protocol, session affinity, type', () => {
  const svc = (spec: Record<string, unknown>) => ({ metadata: { name: 'web', namespace: 'default' }, spec }) as KubeObject;
  const good = svc({
    selector: { app: 'web' },
    clusterIP: '10.96.0.10',
    ports: [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
    ],
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } },
  });
  assert.deepEqual(validateService(good), []);
  assert.deepEqual(fields(validateService(svc({ ports: [] }))), ['FieldValueRequired spec.ports']);
  assert.deepEqual(validateService(svc({ clusterIP: 'None' })), [], 'headless services need no ports');
  assert.deepEqual(
    fields(
      validateService(
        svc({
          type: 'Magic',
          ports: [
            { port: 70000, targetPort: 'Not_A_Name', protocol: 'ICMP' },
            { name: 'b', port: 80, targetPort: 0 },
          ],
          sessionAffinity: 'None',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 1 } },
        }),
      ),
    ),
    [
      'FieldValueNotSupported spec.type',
      'FieldValueRequired spec.ports[0].name',
      'FieldValueInvalid spec.ports[0].port',
      'FieldValueNotSupported spec.ports[0].protocol',
      'FieldValueInvalid spec.ports[0].targetPort',
      'FieldValueInvalid spec.ports[1].targetPort',
      'FieldValueForbidden spec.sessionAffinityConfig',
    ],
  );
  assert.deepEqual(fields(validateService(svc({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }))), [
    'FieldValueInvalid spec.sessionAffinityConfig.clientIP.timeoutSeconds',
  ]);
  assert.deepEqual(fields(validateService({ metadata: { name: '1web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as KubeObject)), ['FieldValueInvalid metadata.name']);
  const d = svc({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }) as KubeObject & { spec: Record<string, unknown> };
  defaultService(d as never);
  assert.deepEqual(d.spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
  assert.deepEqual(d.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  assert.equal(d.spec.type, 'ClusterIP');
});

test('Endpoints, EndpointSlice and ConfigMap', () => {
  assert.deepEqual(validateEndpoints({ metadata: { name: 'web', namespace: 'd' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] } as KubeObject), []);
  assert.deepEqual(fields(validateEndpoints({ metadata: { name: 'web', namespace: 'd' }, subsets: [{ addresses: [{ ip: 'x' }], ports: [{ port: 80, protocol: 'X' }, { port: 81 }] }] } as KubeObject)), [
    'FieldValueInvalid subsets[0].addresses[0].ip',
    'FieldValueRequired subsets[0].ports[0].name',
    'FieldValueNotSupported subsets[0].ports[0].protocol',
    'FieldValueRequired subsets[0].ports[1].name',
  ]);
  const slice = (o: Record<string, unknown>) => ({ metadata: { name: 's', namespace: 'd' }, ...o }) as KubeObject;
  assert.deepEqual(
    validateEndpointSlice(slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p' } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] })),
    [],
  );
  assert.deepEqual(fields(validateEndpointSlice(slice({ addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1'], conditions: { ready: 'yes' } }], ports: [{ port: 0 }] }))), [
    'FieldValueInvalid endpoints[0].addresses[0]',
    'FieldValueTypeInvalid endpoints[0].conditions.ready',
    'FieldValueInvalid ports[0].port',
  ]);
  assert.deepEqual(fields(validateEndpointSlice(slice({ endpoints: [] }))), ['FieldValueRequired addressType']);
  assert.deepEqual(validateConfigMap({ metadata: { name: 'c', namespace: 'd' }, data: { 'a.conf': 'x' } } as KubeObject), []);
  assert.deepEqual(fields(validateConfigMap({ metadata: { name: 'c', namespace: 'd' }, data: { 'a b': 'x', n: 1 } } as unknown as KubeObject)), ['FieldValueInvalid data[a b]', 'FieldValueTypeInvalid data[n]']);
});
