import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsAggregator } from './aggregate.js';
import type { NodeStatsSummary } from '../../apis/controlplane.js';

const ref = { type: 'K8sNetworkPolicy' as const, namespace: 'ns', name: 'p', uid: 'u1' };
const summary = (node: string, sessions: number): NodeStatsSummary => ({
  metadata: { name: node },
  policies: [{ ref, counters: { sessions, packets: sessions * 5, bytes: sessions * 500 } }],
  lastRead: {},
});

test('stats are the sum of the latest totals per Node: a repeated report does not double count', () => {
  const g = new StatsAggregator();
  assert.deepEqual([...g.setNode('n1', summary('n1', 2))], ['u1']);
  g.setNode('n2', summary('n2', 3));
  g.setNode('n2', summary('n2', 3));
  assert.deepEqual(g.stats('u1')?.counters, { sessions: 5, packets: 25, bytes: 2500 });
  g.setNode('n1', summary('n1', 4));
  assert.equal(g.stats('u1')?.counters.sessions, 7);
  g.setNode('n1', undefined);
  assert.equal(g.stats('u1')?.counters.sessions, 3);
});
