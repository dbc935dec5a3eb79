import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { antrea } from '../../src/cli/antrea.js';
import { antctl } from '../../src/cli/antctl.js';
import { capture } from '../../src/cli/testing.js';
import { startControlServer } from '../../src/local/control.js';
import { silentLogger } from '../../src/util/log.js';
import { startLocalCluster, tempDir, waitFor } from '../helpers/cluster.js';

const demo = `
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: demo, labels: {app: web}}
spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec: {containers: [{name: c, image: busybox}]}
`;

test('antrea local apply/get/delete/traffic and antctl get featuregates against a running cluster over HTTP', async (t) => {
  const stateDir = tempDir(t);
  const cluster = await startLocalCluster(t, { nodes: 2, stateDir, http: { port: 0 } });
  const control = await startControlServer(cluster, stateDir, silentLogger);
  t.after(() => control.close());
  const env = { KUBECONFIG: join(stateDir, 'kubeconfig') };
  const cwd = stateDir;
  writeFileSync(join(stateDir, 'demo.yaml'), demo);

  const applied = await capture(antrea, ['local', 'apply', '-f', 'demo.yaml'], { env, cwd });
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(applied.stdout.trim().split('\n'), ['namespaces/demo created', 'pods/web created', 'pods/client created']);
  const again = await capture(antrea, ['local', 'apply', '-f', 'demo.yaml'], { env, cwd });
  assert.match(again.stdout, /pods\/web configured/, again.stderr);

  await waitFor('both Pods running', async () => {
    const r = await capture(antrea, ['local', 'get', 'pods', '-n', 'demo'], { env, cwd });
    return (r.stdout.match(/Running/g) ?? []).length === 2 ? r : undefined;
  });
  const wide = await capture(antrea, ['local', 'get', 'po', '-A', '-o', 'wide'], { env, cwd });
  assert.match(wide.stdout, /^NAMESPACE\s+NAME\s+READY\s+STATUS/);
  assert.match(wide.stdout, /demo\s+web\s+1\/1\s+Running\s+0\s+\S+\s+10\.10\.\d+\.\d+\s+node-\d/);
  const json = await capture(antrea, ['local', 'get', 'pod', 'web', '-n', 'demo', '-o', 'json'], { env, cwd });
  assert.equal(JSON.parse(json.stdout).metadata.name, 'web');

  const tr = await capture(antrea, ['local', 'traffic', 'demo/client', 'demo/web', '--port', '8080', '--connections', '3', '-o', 'json'], { env, cwd });
  assert.equal(tr.code, 0, tr.stderr);
  const summary = JSON.parse(tr.stdout) as { delivered: number; dropped: number; connections: Array<{ pod: string; srcPort: number }> };
  assert.equal(summary.delivered, 3);
  assert.equal(summary.dropped, 0);
  assert.deepEqual(new Set(summary.connections.map((c) => c.pod)), new Set(['demo/web']));
  assert.equal(new Set(summary.connections.map((c) => c.srcPort)).size, 3, 'each connection has its own source port');

  const unknown = await capture(antrea, ['local', 'traffic', 'demo/nope', 'demo/web', '--port', '80'], { env, cwd });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error: Pod demo\/nope not found/);

  const gates = await capture(antctl, ['get', 'featuregates'], { env, cwd });
  assert.equal(gates.code, 0, gates.stderr);
  assert.match(gates.stdout, /^Antrea Agent Feature Gates\n/);
  assert.match(gates.stdout, /\nAntrea Controller Feature Gates\n/);

  const deleted = await capture(antrea, ['local', 'delete', 'pod', 'web', '-n', 'demo'], { env, cwd });
  assert.equal(deleted.stdout, 'pods "web" deleted\n');
  const missing = await capture(antrea, ['local', 'get', 'pod', 'web', '-n', 'demo'], { env, cwd });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found/);
  const badKind = await capture(antrea, ['local', 'get', 'widgets'], { env, cwd });
  assert.equal(badKind.code, 1);
  assert.match(badKind.stderr, /doesn't have a resource type "widgets"/);
});

test('a second antrea local on the same state directory is refused', async (t) => {
  const stateDir = tempDir(t);
  await startLocalCluster(t, { nodes: 1, stateDir });
  await assert.rejects(startLocalCluster(t, { nodes: 1, stateDir }), /in use by another antrea local/);
});
