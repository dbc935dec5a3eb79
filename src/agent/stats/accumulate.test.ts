import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsAccumulator, type RuleSource } from './accumulate.js';

const ref = { type: 'AntreaClusterNetworkPolicy' as const, name: 'p', uid: 'u1' };
const rules = new Map<string, RuleSource>([
  ['u1/In/0', { policyUID: 'u1', source: ref, ruleName: 'a' }],
  ['u1/In/1', { policyUID: 'u1', source: ref, ruleName: 'b' }],
]);
const c = (sessions: number, packets: number, bytes: number) => ({ sessions, packets, bytes });

test('totals grow by what counters grew; a restart resumes from the last summary; a reset counts from zero', () => {
  const a = new StatsAccumulator();
  assert.equal(a.add(new Map([['u1/In/0', c(1, 5, 500)], ['u1/In/1', c(2, 2, 100)]]), rules), true);
  assert.equal(a.add(new Map([['u1/In/0', c(1, 5, 500)], ['u1/In/1', c(2, 2, 100)]]), rules), false, 'no growth, no change');
  assert.deepEqual(a.summary().policies[0]?.counters, c(3, 7, 600));
  // The agent restarts: a new accumulator from the last summary; the datapath counted on meanwhile.
  const b = new StatsAccumulator(a.summary());
  b.add(new Map([['u1/In/0', c(3, 9, 900)], ['u1/In/1', c(2, 2, 100)]]), rules);
  assert.deepEqual(b.summary().policies[0]?.counters, c(5, 11, 1000));
  assert.deepEqual(b.summary().policies[0]?.rules, { a: c(3, 9, 900), b: c(2, 2, 100) });
  // Rule b re-installed: its counter went down, so all it shows is new.
  b.add(new Map([['u1/In/0', c(3, 9, 900)], ['u1/In/1', c(1, 1, 50)]]), rules);
  assert.deepEqual(b.summary().policies[0]?.counters, c(6, 12, 1050));
  assert.equal(b.retain(new Set(['other'])), true);
  assert.deepEqual(b.summary().policies, []);
});
