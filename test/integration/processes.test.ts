import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { antreaController } from '../../src/cli/antrea-controller.js';
import { antreaAgent } from '../../src/cli/antrea-agent.js';
import type { Pod } from '../../src/apis/core.js';
import { gvr } from '../../src/apiserver/registry.js';
import { antctl } from '../../src/cli/antctl.js';
import { capture } from '../../src/cli/testing.js';
import { freePort, startLocalCluster, tempDir, waitFor } from '../helpers/cluster.js';

test('antrea-controller runs against an API server through a kubeconfig, and antctl finds it', async (t) => {
  const stateDir = tempDir(t);
  // The local cluster runs no controller modules of its own here: the one under test publishes the controller info.
  await startLocalCluster(t, { nodes: 1, stateDir, http: { port: 0 }, controllerModules: [], gates: { AntreaPolicy: false } });
  const conf = join(stateDir, 'antrea-controller.conf');
  writeFileSync(conf, `featureGates:\n  AntreaPolicy: false\n  Traceflow: false\napiPort: ${await freePort()}\n`);
  const kubeconfig = join(stateDir, 'kubeconfig');
  const stop = new AbortController();
  const running = capture(antreaController, ['--config', conf, '--kubeconfig', kubeconfig, '--log-level', 'error'], { stopSignal: stop.signal });
  const gates = await waitFor('antctl to reach the new controller', async () => {
    const r = await capture(antctl, ['get', 'featuregates', '-o', 'json'], { env: { KUBECONFIG: kubeconfig } });
    if (r.code !== 0) return undefined;
    const rows = JSON.parse(r.stdout) as Array<{ component: string; name: string; status: string }>;
    return rows.some((g) => g.component === 'controller' && g.name === 'Traceflow' && g.status === 'Disabled') ? rows : undefined;
  });
  assert.deepEqual(gates.filter((g) => g.name === 'AntreaPolicy').map((g) => [g.component, g.status]), [['agent', 'Disabled'], ['controller', 'Disabled']]);
  stop.abort();
  assert.equal((await running).code, 0);
});

test('antrea-controller refuses a bad conf with every problem on one line each', async (t) => {
  const dir = tempDir(t);
  const conf = join(dir, 'antrea-controller.conf');
  writeFileSync(conf, 'featureGates:\n  Bogus: true\n  Egress: "yes"\nnodeIPAM:\n  enableNodeIPAM: true\n  clusterCIDRs: [not-a-cidr]\n');
  const r = await capture(antreaController, ['--config', conf]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.length >= 3, r.stderr);
  assert.ok(lines.every((l) => /^(error|warning): /.test(l)), r.stderr);
  assert.match(r.stderr, /featureGates\.Bogus/);
  assert.match(r.stderr, /featureGates\.Egress/);
  assert.match(r.stderr, /clusterCIDRs/);
  const missing = await capture(antreaController, ['--config', join(dir, 'nope.conf')]);
  assert.equal(missing.code, 2, 'a conf that cannot be read is unreadable input (exit 2), as for antctl featuregates check');
  assert.match(missing.stderr, /cannot read .*nope\.conf/);
});

test('antrea-agent --datapath sim joins a running cluster as one more Node and wires its Pods', async (t) => {
  const stateDir = tempDir(t);
  const cluster = await startLocalCluster(t, { nodes: 1, stateDir, http: { port: 0 } });
  const client = cluster.client();
  await client.resource(gvr.nodes).create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'extra' },
    spec: { podCIDR: '10.10.200.0/24', podCIDRs: ['10.10.200.0/24'] },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.77.250' }] },
  } as never);
  const conf = join(stateDir, 'antrea-agent.conf');
  const apiPort = await freePort();
  writeFileSync(conf, `apiPort: ${apiPort}\n`);
  const stop = new AbortController();
  const running = capture(antreaAgent, ['--datapath', 'sim', '--config', conf, '--kubeconfig', join(stateDir, 'kubeconfig'), '--node-name', 'extra', '--log-level', 'error'], { stopSignal: stop.signal });
  await client.resource<Pod>(gvr.pods).inNamespace('default').create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'on-extra', namespace: 'default' },
    spec: { nodeName: 'extra', containers: [{ name: 'c', image: 'busybox' }] },
  });
  const pod = await waitFor('the Pod on the extra Node to run with an address from its CIDR', async () => {
    const p = await client.resource<Pod>(gvr.pods).inNamespace('default').get('on-extra');
    return p.status?.phase === 'Running' ? p : undefined;
  });
  assert.match(pod.status?.podIP ?? '', /^10\.10\.200\.\d+$/);
  // The Traceflow gate is on by default: its module must have a datapath to inject and sample with.
  // The module's route appears once the agent has started all its modules, which may trail the Pod's wiring.
  const traceflow = await waitFor('the agent to serve its Traceflow state', async () => {
    const res = await fetch(`http://127.0.0.1:${apiPort}/traceflow`).catch(() => undefined);
    return res?.ok ? ((await res.json()) as { liveTraffic?: boolean }) : undefined;
  });
  assert.equal(traceflow.liveTraffic, true, 'the standalone agent wires Traceflow into its simulated datapath');
  stop.abort();
  assert.equal((await running).code, 0);
});

test('antrea-agent says plainly that driving the host OVS is not available yet', async () => {
  const r = await capture(antreaAgent, ['--config', '/nonexistent']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: driving this host's Open vSwitch is not available in antrea-ts yet/);
});
