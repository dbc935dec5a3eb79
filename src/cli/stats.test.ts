import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../apiserver/store.js';
import { allResources } from '../apiserver/resources/index.js';
import { InProcessClient } from '../client/inprocess.js';
import { statsGvr, type NetworkPolicyStats } from '../apis/stats.js';
import { capture } from './testing.js';
import { gvr } from '../apiserver/registry.js';
import { getStats } from './stats.js';
import { runCommand } from './io.js';

async function setup() {
  const store = createStore({ resources: allResources() });
  const client = new InProcessClient(store);
  const np = (ns: string, name: string, sessions: number): NetworkPolicyStats => ({
    apiVersion: 'stats.antrea.io/v1alpha1',
    kind: 'NetworkPolicyStats',
    metadata: { name, namespace: ns },
    trafficStats: { sessions, packets: sessions * 5, bytes: sessions * 400 },
  });
  for (const ns of ['a', 'b', 'zzz']) await client.resource(gvr.namespaces).create({ metadata: { name: ns } });
  for (const [ns, n, s] of [['a', 'allow', 3], ['b', 'deny', 0]] as const) await client.resource<NetworkPolicyStats>(statsGvr.networkpolicystats).inNamespace(ns).create(np(ns, n, s));
  return { client, close: () => store.close() };
}

test('antctl get networkpolicystats: Antrea’s columns, -n, -A and -o json', async (t) => {
  const { client, close } = await setup();
  t.after(close);
  const run = (argv: string[]) => capture((a, io) => runCommand(io, () => getStats(io, 'networkpolicystats', a, client)), argv);
  const one = await run(['-n', 'a']);
  assert.equal(one.code, 0);
  assert.match(one.stdout, /^NAME\s+SESSIONS\s+PACKETS\s+BYTES\s+CREATED AT\nallow\s+3\s+15\s+1200\s+\S+\n$/);
  const all = await run(['-A']);
  assert.match(all.stdout, /^NAMESPACE\s+NAME\s+SESSIONS/);
  assert.equal(all.stdout.trim().split('\n').length, 3);
  const json = JSON.parse((await run(['-A', '-o', 'json'])).stdout) as { kind: string; items: NetworkPolicyStats[] };
  assert.equal(json.kind, 'NetworkPolicyStatsList');
  assert.deepEqual(json.items.map((i) => i.trafficStats.sessions), [3, 0]);
  assert.equal((await run(['-n', 'zzz'])).stderr, 'No resources found in zzz namespace.\n');
  assert.equal((await run(['-n', 'a', '-A'])).code, 2);
  assert.equal((await run(['nope', '-n', 'a'])).code, 1, 'a missing object is an error');
});
