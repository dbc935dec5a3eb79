import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConf } from './index.js';
import { ANTREA_TS_AGENT_KEYS } from './schema.js';

test('networkPolicyStatsCollectInterval: an antrea-ts agent key, 60s by default, flagged as not portable to Antrea', () => {
  assert.equal(ANTREA_TS_AGENT_KEYS.networkPolicyStatsCollectInterval?.origin, 'antrea-ts');
  const dflt = loadConf('featureGates: {}\n', 'agent');
  assert.equal((dflt.resolved?.config as unknown as Record<string, unknown>).networkPolicyStatsCollectInterval, '60s');
  const set = loadConf('networkPolicyStatsCollectInterval: 2s\n', 'agent');
  assert.equal((set.resolved?.config as unknown as Record<string, unknown>).networkPolicyStatsCollectInterval, '2s');
  assert.ok(set.problems.some((p) => p.code === 'WARN_ANTREA_TS_KEY'), 'check says the key is antrea-ts only');
});
