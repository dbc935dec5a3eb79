import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import { createStore } from '../../apiserver/store.js';
import { SharedInformerFactory } from '../../client/factory.js';
import { InProcessClient } from '../../client/inprocess.js';
import type { ApiClient } from '../../client/types.js';
import { memoryLogger, silentLogger, type Logger } from '../../util/log.js';
import type { NodeIpamSettings } from './allocator.js';
import { NodeIpamController } from './controller.js';

const settings: NodeIpamSettings = { clusterCIDRs: ['10.244.0.0/22'], serviceCIDR: '10.244.3.0/24', nodeCIDRMaskSizeIPv4: 24, nodeCIDRMaskSizeIPv6: 64 };

const node = (name: string, podCIDR?: string): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setup(t: TestContext) {
  const store = createStore({ logger: silentLogger });
  const client = new InProcessClient(store);
  const running: Array<{ c: NodeIpamController; f: SharedInformerFactory }> = [];
  const startController = (logger: Logger = silentLogger, s: NodeIpamSettings = settings) => {
    const f = new SharedInformerFactory(client, { logger });
    const c = new NodeIpamController({ client, informers: f, logger, settings: s });
    c.start();
    running.push({ c, f });
    return c;
  };
  const stopController = async (c: NodeIpamController) => {
    const i = running.findIndex((r) => r.c === c);
    const [r] = running.splice(i, 1);
    await r?.c.stop();
    await r?.f.stop();
  };
  t.after(async () => {
    for (const r of running.splice(0)) {
      await r.c.stop();
      await r.f.stop();
    }
    await client.close();
    await store.close();
  });
  return { client, startController, stopController };
}

const cidrsOf = async (client: ApiClient, name: string) => (await client.resource<Node>(gvr.nodes).tryGet(name))?.spec?.podCIDRs;
const allocated = (client: ApiClient, name: string) => waitFor(`${name}'s Pod CIDR`, () => cidrsOf(client, name));

test('Nodes without a Pod CIDR get distinct ones, skipping the Service range; existing ones are kept', async (t) => {
  const { client, startController } = setup(t);
  const nodes = client.resource<Node>(gvr.nodes);
  await nodes.create(node('kept', '10.244.1.0/24'));
  await nodes.create(node('a'));
  const c = startController();
  await nodes.create(node('b'));
  assert.deepEqual(await allocated(client, 'a'), ['10.244.0.0/24']);
  assert.deepEqual(await allocated(client, 'b'), ['10.244.2.0/24']);
  const b = await nodes.get('b');
  assert.equal(b.spec?.podCIDR, '10.244.2.0/24');
  assert.deepEqual(await cidrsOf(client, 'kept'), ['10.244.1.0/24']);
  assert.deepEqual(c.state().nodes, { kept: ['10.244.1.0/24'], a: ['10.244.0.0/24'], b: ['10.244.2.0/24'] });
});

test('exhaustion is logged, not a crash; a deleted Node frees its CIDR for the next one', async (t) => {
  const { client, startController } = setup(t);
  const nodes = client.resource<Node>(gvr.nodes);
  const log = memoryLogger('info');
  startController(log, { ...settings, clusterCIDRs: ['10.244.0.0/23'], serviceCIDR: '' });
  await nodes.create(node('a'));
  await nodes.create(node('b'));
  await allocated(client, 'a');
  await allocated(client, 'b');
  await nodes.create(node('c'));
  await waitFor('the exhaustion log', () => (log.lines.some((l) => /exhausted/.test(l) && /"node":"c"|node=c/.test(l)) ? true : undefined));
  assert.equal(await cidrsOf(client, 'c'), undefined);
  const freed = (await nodes.get('a')).spec?.podCIDRs;
  await nodes.delete('a');
  assert.deepEqual(await waitFor('c gets a CIDR', () => cidrsOf(client, 'c')), freed);
});

test('a restarted controller rebuilds its allocations from the Nodes before allocating', async (t) => {
  const { client, startController, stopController } = setup(t);
  const nodes = client.resource<Node>(gvr.nodes);
  const first = startController();
  await nodes.create(node('a'));
  await nodes.create(node('b'));
  const a = await allocated(client, 'a');
  const b = await allocated(client, 'b');
  await stopController(first);
  await nodes.create(node('c'));
  const second = startController();
  const c = await allocated(client, 'c');
  assert.equal(new Set([a[0], b[0], c[0]]).size, 3, `distinct: ${a} ${b} ${c}`);
  assert.equal(second.state().nodes.a?.[0], a[0]);
});

test('a Node whose CIDR is outside the cluster CIDRs is logged and left alone', async (t) => {
  const { client, startController } = setup(t);
  const log = memoryLogger('warn');
  await client.resource<Node>(gvr.nodes).create(node('foreign', '172.16.5.0/24'));
  const c = startController(log);
  await waitFor('synced', () => (c.synced ? true : undefined));
  await waitFor('the warning', () => (log.lines.some((l) => /outside the cluster CIDRs/.test(l)) ? true : undefined));
  assert.deepEqual(await cidrsOf(client, 'foreign'), ['172.16.5.0/24']);
});
