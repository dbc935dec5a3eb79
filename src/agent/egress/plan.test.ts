import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace, Pod } from '../../apis/core.js';
import type { Egress } from '../../apis/crd/egress.js';
import { planEgress } from './plan.js';

const pod = (ns: string, name: string, labels: Record<string, string>): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { containers: [] } });
const ns = (name: string, labels: Record<string, string>): [string, Namespace] => [name, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }];
const egress = (name: string, ip: string, node: string, appliedTo: Egress['spec']['appliedTo']): Egress => ({
  apiVersion: 'crd.antrea.io/v1alpha2', kind: 'Egress', metadata: { name }, spec: { appliedTo, egressIP: ip }, status: { egressNode: node },
});

test('Pods are matched by Namespace and Pod selectors; the first Egress by name wins; unplaced Egresses are skipped', () => {
  const pods = [pod('prod', 'web', { app: 'web' }), pod('prod', 'db', { app: 'db' }), pod('dev', 'web', { app: 'web' })];
  const namespaces = new Map([ns('prod', { env: 'prod' }), ns('dev', { env: 'dev' })]);
  const plan = planEgress('n1', [
    egress('b-web', '1.1.1.2', 'n2', { podSelector: { matchLabels: { app: 'web' } } }),
    egress('a-prod', '1.1.1.1', 'n1', { namespaceSelector: { matchLabels: { env: 'prod' } } }),
    egress('c-unplaced', '1.1.1.3', '', { podSelector: {} }),
    egress('d-remote-unused', '1.1.1.4', 'n3', { podSelector: { matchLabels: { app: 'none' } } }),
  ], pods, namespaces);
  assert.deepEqual(Object.fromEntries(plan), {
    '1.1.1.1': { egressIP: '1.1.1.1', local: true, pods: ['prod/web', 'prod/db'] },
    '1.1.1.2': { egressIP: '1.1.1.2', local: false, pods: ['dev/web'] },
  });
});
