import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultNetworkPolicy, validateNetworkPolicy, type NetworkPolicy } from './networking.js';

const np = (spec: Record<string, unknown>): NetworkPolicy => ({ metadata: { name: 'np', namespace: 'ns' }, spec }) as unknown as NetworkPolicy;

test('defaults: policyTypes from the rules, TCP ports', () => {
  const p = np({ podSelector: {}, egress: [{ ports: [{ port: 53 }] }] });
  defaultNetworkPolicy(p);
  assert.deepEqual(p.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(p.spec.egress?.[0]?.ports?.[0]?.protocol, 'TCP');
});

test('validation: podSelector required, ipBlock except inside cidr, endPort >= port, one peer type with ipBlock', () => {
  assert.equal(validateNetworkPolicy(np({}))[0]?.field, 'spec.podSelector');
  const errs = validateNetworkPolicy(
    np({
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24', '10.0.1.0/24'] } }, { ipBlock: { cidr: '1.2.3.0/24' }, podSelector: {} }], ports: [{ port: 90, endPort: 80 }] }],
    }),
  );
  assert.deepEqual(errs.map((e) => e.field), ['spec.ingress[0].ports[0].endPort', 'spec.ingress[0].from[0].ipBlock.except[0]', 'spec.ingress[0].from[1]']);
});
