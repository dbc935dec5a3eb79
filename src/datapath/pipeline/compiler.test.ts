import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineCompiler, diffSize } from './compiler.js';
import { nodeConfig, peerOf, podOn } from './testing.js';
import { renderFlow } from './render.js';
import { cookieCategory, CookieCategory } from './fields.js';
import { isAntreaError } from '../../util/errors.js';

function compilerWithPods(n: number): PipelineCompiler {
  const c = new PipelineCompiler();
  const cfg = nodeConfig(1);
  c.setNodeConfig(cfg);
  c.apply(Array.from({ length: n }, (_, i) => ({ kind: 'pod' as const, op: 'upsert' as const, pod: podOn(cfg, i) })));
  return c;
}

test('adding a Pod adds exactly its own flows, all with its cookie', () => {
  const c = compilerWithPods(10);
  const cfg = nodeConfig(1);
  const pod = podOn(cfg, 10);
  const d = c.apply([{ kind: 'pod', op: 'upsert', pod }]);
  assert.equal(d.removed.length + d.modified.length, 0);
  assert.equal(d.added.length, 5, d.added.map(renderFlow).join('\n'));
  const cookie = c.cookieOf('pod/default/pod-node1-10');
  assert.ok(d.added.every((f) => f.cookie === cookie));
  assert.equal(cookieCategory(cookie as bigint), CookieCategory.Pod);
  assert.deepEqual(new Set(d.added.map((f) => f.table)), new Set([0, 10, 70, 80]));
});

test('changing one Pod touches only that Pod; re-applying the same Pod is a no-op', () => {
  const c = compilerWithPods(50);
  const cfg = nodeConfig(1);
  const pod = podOn(cfg, 7);
  assert.equal(diffSize(c.apply([{ kind: 'pod', op: 'upsert', pod }])), 0);
  const moved = { ...pod, mac: '02:00:00:00:00:77' };
  const d = c.apply([{ kind: 'pod', op: 'upsert', pod: moved }]);
  const cookie = c.cookieOf('pod/default/pod-node1-7');
  for (const f of [...d.added, ...d.modified, ...d.removed]) assert.equal(f.cookie, cookie, renderFlow(f));
  // The MAC is part of SpoofGuard and L2Forwarding matches (remove+add) and of an L3Forwarding action (modify).
  assert.equal(d.modified.length, 1);
  assert.equal(d.added.length, 3);
  assert.equal(d.removed.length, 3);
});

test('removing a Pod removes exactly its flows; remove and re-add in one batch nets to nothing', () => {
  const c = compilerWithPods(5);
  const before = c.flows().length;
  const d = c.apply([{ kind: 'pod', op: 'remove', key: 'default/pod-node1-2' }]);
  assert.equal(d.removed.length, 5);
  assert.equal(c.flows().length, before - 5);
  const pod = podOn(nodeConfig(1), 3);
  const d2 = c.apply([{ kind: 'pod', op: 'remove', key: 'default/pod-node1-3' }, { kind: 'pod', op: 'upsert', pod }]);
  assert.equal(diffSize(d2), 0);
});

test('cookies are deterministic across compilers (restart reproduces them)', () => {
  const a = compilerWithPods(3).flows().map(renderFlow);
  const b = compilerWithPods(3).flows().map(renderFlow);
  assert.deepEqual(a, b);
});

test('peer Nodes: encap adds a tunnel flow and an ARP responder entry, noEncap a route via gw0', () => {
  const c = new PipelineCompiler();
  c.setNodeConfig(nodeConfig(1));
  const d = c.apply([{ kind: 'peerNode', op: 'upsert', peer: peerOf(nodeConfig(2)) }]);
  assert.deepEqual(d.added.map((f) => f.table).sort((x, y) => x - y), [20, 70]);
  assert.match(renderFlow(d.added.find((f) => f.table === 70)!), /ip,nw_dst=10\.10\.1\.0\/24 actions=set_field:0a:00:00:00:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->eth_dst,set_field:192\.168\.77\.12->tun_dst,goto_table:72$/);
  const n = new PipelineCompiler();
  n.setNodeConfig(nodeConfig(1, 'noEncap'));
  const dn = n.apply([{ kind: 'peerNode', op: 'upsert', peer: peerOf(nodeConfig(2, 'noEncap')) }]);
  assert.equal(dn.added.length, 1);
  assert.match(renderFlow(dn.added[0]!), /ip,nw_dst=10\.10\.1\.0\/24 actions=set_field:0a:00:00:00:01:01->eth_dst,goto_table:80$/);
  assert.ok(!n.flows().some((f) => renderFlow(f).includes('in_port=1 ')), 'no tunnel classifier flow in noEncap');
});

test('two Pods claiming the same OF port conflict; the error names both', () => {
  const c = compilerWithPods(2);
  const clash = { ...podOn(nodeConfig(1), 5), ofPort: 3 };
  assert.throws(() => c.apply([{ kind: 'pod', op: 'upsert', pod: clash }]), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_FLOW_CONFLICT') && /pod-node1-0/.test(e.message));
});

test('invalid objects and changes before the node config are refused with stable codes', () => {
  const c = new PipelineCompiler();
  assert.throws(() => c.apply([{ kind: 'pod', op: 'upsert', pod: podOn(nodeConfig(1), 0) }]), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_NO_NODE_CONFIG'));
  c.setNodeConfig(nodeConfig(1));
  assert.throws(() => c.apply([{ kind: 'pod', op: 'upsert', pod: { ...podOn(nodeConfig(1), 0), ips: ['fd00::1'] } }]), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_INVALID'));
  assert.throws(() => c.setNodeConfig({ ...nodeConfig(1), gatewayIP: '10.99.0.1' }), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_INVALID'));
  assert.throws(() => c.apply([{ kind: 'multicastGroup', op: 'remove', key: '239.1.1.1' }]), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_UNSUPPORTED'));
});
