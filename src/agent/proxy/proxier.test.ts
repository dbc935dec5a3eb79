import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Service } from '../../apis/core.js';
import type { EndpointSlice } from '../../apis/discovery.js';
import type { DesiredStateChange, ServiceFrontend } from '../../datapath/types.js';
import { Proxier, type ProxierOptions } from './proxier.js';

function fakeDatapath() {
  const batches: DesiredStateChange[][] = [];
  const state = new Map<string, ServiceFrontend>();
  let failKey: string | undefined;
  return {
    batches,
    state,
    failOn(key: string | undefined) {
      failKey = key;
    },
    async apply(changes: readonly DesiredStateChange[]) {
      for (const ch of changes) {
        if (ch.kind === 'service' && ch.op === 'upsert' && failKey && `${ch.service.namespace}/${ch.service.name}` === failKey) throw new Error('refused');
      }
      batches.push([...changes]);
      for (const ch of changes) {
        if (ch.kind !== 'service') continue;
        if (ch.op === 'upsert') state.set(`${ch.service.namespace}/${ch.service.name}:${ch.service.portName}/${ch.service.protocol}`, ch.service);
        else state.delete(ch.key);
      }
      return { added: [], modified: [], removed: [], addedGroups: [], modifiedGroups: [], removedGroups: [] };
    },
  };
}

const svc = (name: string, spec: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' },
  spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }], sessionAffinity: 'None', ...spec },
});
const endpoints = (name: string, ips: string[], port = 8080): Endpoints => ({
  apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'ns' },
  subsets: [{ addresses: ips.map((ip) => ({ ip, nodeName: ip.endsWith('.2') ? 'node-1' : 'node-2' })), ports: [{ name: 'http', port, protocol: 'TCP' }] }],
});

function setup(opts: Partial<ProxierOptions> = {}) {
  const dp = fakeDatapath();
  const p = new Proxier({ nodeName: 'node-1', datapath: dp, useEndpointSlices: false, ...opts });
  return { dp, p };
}

test('nothing is programmed until Services and endpoints have both synced', async () => {
  const { dp, p } = setup();
  p.onServiceAdd(svc('web'));
  p.onEndpointsAdd(endpoints('web', ['10.10.0.2']));
  p.onServicesSynced();
  await p.sync();
  assert.equal(dp.batches.length, 0);
  p.onEndpointsSynced();
  await p.sync();
  assert.deepEqual(dp.state.get('ns/web:http/TCP')?.endpoints, [{ ip: '10.10.0.2', port: 8080, isLocal: true }]);
  assert.ok(p.synced);
});

test('only the ServicePorts that changed reach the datapath; no change, no apply', async () => {
  const { dp, p } = setup();
  for (let i = 0; i < 50; i++) {
    p.onServiceAdd(svc(`s${i}`, { clusterIP: `10.96.1.${i}` }));
    p.onEndpointsAdd(endpoints(`s${i}`, ['10.10.0.2', '10.10.1.3']));
  }
  p.onServicesSynced();
  p.onEndpointsSynced();
  await p.sync();
  assert.equal(dp.batches.at(-1)?.length, 50);
  p.onEndpointsUpdate(endpoints('s7', ['10.10.0.2', '10.10.1.3']), endpoints('s7', ['10.10.0.2', '10.10.1.3', '10.10.1.4']));
  await p.sync();
  assert.deepEqual(dp.batches.at(-1)?.map((c) => (c.kind === 'service' && c.op === 'upsert' ? c.service.name : '?')), ['s7']);
  const n = dp.batches.length;
  p.onServiceUpdate(svc('s8', { clusterIP: '10.96.1.8' }), svc('s8', { clusterIP: '10.96.1.8' }));
  await p.sync();
  await p.sync({ full: true });
  assert.equal(dp.batches.length, n, 'a resync or a full re-check with nothing changed applies nothing');
});

test('deleting a Service removes its ports; a port removed from a Service is removed alone', async () => {
  const { dp, p } = setup();
  const two = svc('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] });
  p.onServiceAdd(two);
  p.onServicesSynced();
  p.onEndpointsSynced();
  await p.sync();
  assert.deepEqual([...dp.state.keys()].sort(), ['ns/web:dns/UDP', 'ns/web:http/TCP']);
  p.onServiceUpdate(two, svc('web'));
  await p.sync();
  assert.deepEqual(dp.batches.at(-1), [{ kind: 'service', op: 'remove', key: 'ns/web:dns/UDP' }]);
  p.onServiceDelete(svc('web'));
  await p.sync();
  assert.equal(dp.state.size, 0);
});

test('a Service without endpoints is programmed with none (the datapath drops its new connections)', async () => {
  const { dp, p } = setup();
  p.onServiceAdd(svc('web'));
  p.onServicesSynced();
  p.onEndpointsSynced();
  await p.sync();
  assert.deepEqual(dp.state.get('ns/web:http/TCP')?.endpoints, []);
});

test('ClientIP affinity carries its timeout (default 10800 s); TCP, UDP and SCTP; skipped Services', async () => {
  const { dp, p } = setup({ skipServices: ['ns/skipped', '10.96.0.99'] });
  p.onServiceAdd(svc('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } }));
  p.onServiceAdd(svc('sticky-default', { clusterIP: '10.96.0.11', sessionAffinity: 'ClientIP' }));
  p.onServiceAdd(svc('protos', { clusterIP: '10.96.0.12', ports: [{ name: 'a', port: 1, protocol: 'TCP' }, { name: 'b', port: 1, protocol: 'UDP' }, { name: 'c', port: 1, protocol: 'SCTP' }] }));
  p.onServiceAdd(svc('skipped', { clusterIP: '10.96.0.13' }));
  p.onServiceAdd(svc('skipped-by-ip', { clusterIP: '10.96.0.99' }));
  p.onServiceAdd(svc('headless', { clusterIP: 'None' }));
  p.onServiceAdd(svc('ext', { type: 'ExternalName', externalName: 'example.com', clusterIP: '' }));
  p.onServiceAdd(svc('v6', { clusterIP: 'fd00::10' }));
  p.onServicesSynced();
  p.onEndpointsSynced();
  await p.sync();
  assert.equal(dp.state.get('ns/sticky:http/TCP')?.sessionAffinityTimeout, 5);
  assert.equal(dp.state.get('ns/sticky-default:http/TCP')?.sessionAffinityTimeout, 10800);
  assert.deepEqual([...dp.state.keys()].sort(), ['ns/protos:a/TCP', 'ns/protos:b/UDP', 'ns/protos:c/SCTP', 'ns/sticky-default:http/TCP', 'ns/sticky:http/TCP']);
});

test('with EndpointSlices: Endpoints are ignored, slices of a Service merged, terminating fallback applied', async () => {
  const { dp, p } = setup({ useEndpointSlices: true });
  const slice = (name: string, eps: EndpointSlice['endpoints']): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4', endpoints: eps, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  p.onServiceAdd(svc('web'));
  p.onEndpointsAdd(endpoints('web', ['10.10.9.9']));
  const a = slice('a', [{ addresses: ['10.10.0.2'], conditions: { ready: true } }]);
  const b = slice('b', [{ addresses: ['10.10.1.3'], conditions: { ready: false, serving: true, terminating: true } }]);
  p.onEndpointSliceAdd(a);
  p.onEndpointSliceAdd(b);
  p.onServicesSynced();
  p.onEndpointsSynced();
  await p.sync();
  assert.deepEqual(dp.state.get('ns/web:http/TCP')?.endpoints.map((e) => e.ip), ['10.10.0.2']);
  p.onEndpointSliceDelete(a);
  await p.sync();
  assert.deepEqual(dp.state.get('ns/web:http/TCP')?.endpoints.map((e) => e.ip), ['10.10.1.3'], 'falls back to serving-terminating');
});

test('a frontend the datapath refuses does not hold back the others and is retried', async () => {
  const retries: number[] = [];
  const { dp, p } = setup({ onRetry: (ms) => retries.push(ms) });
  p.onServiceAdd(svc('bad'));
  p.onServiceAdd(svc('good', { clusterIP: '10.96.0.11' }));
  p.onServicesSynced();
  p.onEndpointsSynced();
  dp.failOn('ns/bad');
  await p.sync();
  assert.deepEqual([...dp.state.keys()], ['ns/good:http/TCP']);
  assert.equal(retries.length, 1);
  dp.failOn(undefined);
  await p.sync();
  assert.deepEqual([...dp.state.keys()].sort(), ['ns/bad:http/TCP', 'ns/good:http/TCP']);
});

test('after an agent restart, ServicePorts the datapath still holds but no Service wants are removed', async () => {
  const { dp, p } = setup({ restore: async () => ['ns/gone:http/TCP', 'ns/web:http/TCP'] });
  p.onServiceAdd(svc('web'));
  p.onServicesSynced();
  p.onEndpointsSynced();
  await p.sync();
  const [batch] = dp.batches;
  assert.deepEqual(batch?.map((c) => (c.kind === 'service' ? (c.op === 'remove' ? `-${c.key}` : `+${c.service.name}`) : '?')).sort(), ['+web', '-ns/gone:http/TCP']);
  assert.equal(p.stats.installed, 1);
});
