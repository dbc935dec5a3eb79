import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PipelineCompiler, diffSize } from './compiler.js';
import { renderActions, renderFlow, renderGroup } from './render.js';
import { nodeConfig } from './testing.js';
import type { Bucket } from './flow.js';
import type { FlowDiff, ServiceEndpoint, ServiceFrontend } from '../types.js';

/** An Endpoint as the proxier sees it (agent/proxy/types.ts's EndpointInfo; the datapath does not import the agent). */
interface EndpointInfo { ip: string; port: number; nodeName: string; ready: boolean; serving: boolean; terminating: boolean }

/** The proxier's choice (agent/proxy/select.ts): ready Endpoints, else the serving terminating ones. */
function usableEndpoints(eps: readonly EndpointInfo[], node: string): ServiceEndpoint[] {
  let chosen = eps.filter((e) => e.ready);
  if (chosen.length === 0) chosen = eps.filter((e) => e.serving && e.terminating);
  return chosen.map((e) => ({ ip: e.ip, port: e.port, isLocal: e.nodeName === node }));
}

const ipNumber = (ip: string) => ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
const compareEndpoints = (a: EndpointInfo, b: EndpointInfo) => ipNumber(a.ip) - ipNumber(b.ip) || a.port - b.port;
const renderBucket = (b: Bucket) => `bucket_id:${b.id},weight:${b.weight},actions=${renderActions(b.actions)}`;

const cfg = nodeConfig(1);
/** 12 Endpoints, some sharing an IP (two ports of one Pod), some on this Node. */
const POOL: EndpointInfo[] = Array.from({ length: 12 }, (_, i) => ({
  ip: `10.10.${i % 3 === 0 ? 0 : 1}.${10 + Math.floor(i / 2)}`,
  port: 8080 + (i % 2),
  nodeName: i % 3 === 0 ? 'node1' : 'node2',
  ready: true,
  serving: true,
  terminating: false,
}));

type Op =
  | { op: 'add' | 'remove' | 'flipReady' | 'flipTerminating' | 'flipNode' | 'dup'; i: number }
  | { op: 'reverse' }
  | { op: 'affinity'; seconds?: number }
  | { op: 'vip'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('add' as const, 'remove' as const, 'flipReady' as const, 'flipTerminating' as const, 'flipNode' as const), i: fc.nat(POOL.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('affinity' as const), seconds: fc.option(fc.constantFrom(60, 300), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('vip' as const), n: fc.nat(1) }) },
  // Lists the proxier would not send: a duplicate Endpoint (another copy, local), the list in another order.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup' as const), i: fc.nat(POOL.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reverse' as const) }) },
);

/** A Service's endpoints as the proxier keeps them (by `ip:port`), and the frontend it would publish. */
class ServiceModel {
  readonly endpoints = new Map<number, EndpointInfo>();
  affinity?: number;
  vip = 0;
  readonly dups = new Set<number>();
  reversed = false;

  constructor(readonly name: string, readonly base: number) {}

  apply(o: Op): void {
    if (o.op === 'affinity') this.affinity = o.seconds;
    else if (o.op === 'vip') this.vip = o.n;
    else if (o.op === 'reverse') this.reversed = !this.reversed;
    else if (o.op === 'dup') {
      if (!this.dups.delete(o.i)) this.dups.add(o.i);
    }
    else if (o.op === 'add') this.endpoints.set(o.i, POOL[o.i] as EndpointInfo);
    else if (o.op === 'remove') this.endpoints.delete(o.i);
    else {
      const ep = this.endpoints.get(o.i);
      if (!ep) return;
      // Ready flips alone; terminating endpoints that are not ready still serve (the fallback set); a slice that
      // learns (or changes) the Node name makes the Endpoint local or not.
      if (o.op === 'flipReady') this.endpoints.set(o.i, { ...ep, ready: !ep.ready });
      else if (o.op === 'flipTerminating') this.endpoints.set(o.i, { ...ep, terminating: !ep.terminating });
      else this.endpoints.set(o.i, { ...ep, nodeName: ep.nodeName === 'node1' ? 'node2' : 'node1' });
    }
  }

  frontend(): ServiceFrontend {
    const sorted = [...this.endpoints.values()].sort(compareEndpoints);
    if (this.reversed) sorted.reverse();
    const endpoints = usableEndpoints(sorted, 'node1');
    for (const i of this.dups) {
      const ep = this.endpoints.get(i);
      if (ep) endpoints.push({ ip: ep.ip, port: ep.port, isLocal: true });
    }
    return {
      namespace: 'd', name: this.name, portName: 'http', protocol: 'TCP', clusterIP: `10.96.${this.vip}.${this.base}`, port: 80,
      ...(this.affinity !== undefined ? { sessionAffinityTimeout: this.affinity } : {}),
      endpoints,
    };
  }
}

/** What OVS holds after the diffs: flows by identity, and each group's buckets by id, patched when the diff says how. */
class Replay {
  readonly flows = new Map<string, string>();
  readonly groups = new Map<number, Map<number, string>>();

  apply(d: FlowDiff): void {
    const id = (s: string) => s.replace(/cookie=0x[0-9a-f]+,/, '').replace(/ actions=.*$/, '');
    for (const f of d.removed) assert.ok(this.flows.delete(id(renderFlow(f))), `removed a flow that was not installed: ${renderFlow(f)}`);
    for (const f of d.modified) {
      assert.ok(this.flows.has(id(renderFlow(f))), `modified a flow that was not installed: ${renderFlow(f)}`);
      this.flows.set(id(renderFlow(f)), renderFlow(f));
    }
    for (const f of d.added) {
      assert.ok(!this.flows.has(id(renderFlow(f))), `added a flow twice: ${renderFlow(f)}`);
      this.flows.set(id(renderFlow(f)), renderFlow(f));
    }
    const patches = new Map((d.groupBuckets ?? []).map((c) => [c.groupId, c]));
    for (const g of d.removedGroups) assert.ok(this.groups.delete(g.id));
    for (const g of d.addedGroups) {
      assert.ok(!this.groups.has(g.id), `group ${g.id} added twice`);
      this.groups.set(g.id, new Map(g.buckets.map((b) => [b.id, renderBucket(b)])));
    }
    for (const g of d.modifiedGroups) {
      const held = this.groups.get(g.id);
      assert.ok(held, `modified group ${g.id} that is not installed`);
      const patch = patches.get(g.id);
      if (!patch) {
        this.groups.set(g.id, new Map(g.buckets.map((b) => [b.id, renderBucket(b)])));
        continue;
      }
      // As OVS would: remove_bucket of a missing id, or insert_bucket of a held one, fails.
      for (const bid of patch.removed) assert.ok(held.delete(bid), `remove_bucket ${bid}: no such bucket in group ${g.id}`);
      for (const b of patch.inserted) {
        assert.ok(!held.has(b.id), `insert_bucket ${b.id}: group ${g.id} has it already`);
        held.set(b.id, renderBucket(b));
      }
    }
  }
}

const sortedBuckets = (m: Map<number, string>) => [...m.entries()].sort(([a], [b]) => a - b).map(([, t]) => t);

test('property: Endpoint adds, removals and ready flips, applied one by one, leave what a fresh compile builds (flows and buckets)', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ svc: fc.nat(1), o: opArb }), { minLength: 1, maxLength: 40 }), (steps) => {
      const models = [new ServiceModel('a', 10), new ServiceModel('b', 11)];
      const c = new PipelineCompiler();
      const replay = new Replay();
      replay.apply(c.setNodeConfig(cfg));
      const programmed = new Set<number>();
      for (const { svc, o } of steps) {
        const m = models[svc] as ServiceModel;
        m.apply(o);
        replay.apply(c.apply([{ kind: 'service', op: 'upsert', service: m.frontend() }]));
        programmed.add(svc);
      }
      // The diffs left exactly what the compiler says it holds.
      assert.deepEqual([...replay.flows.values()].sort(), c.flows().map(renderFlow).sort());
      assert.deepEqual([...replay.groups.keys()].sort(), c.groupList().map((g) => g.id));
      for (const g of c.groupList()) assert.deepEqual(sortedBuckets(replay.groups.get(g.id) as Map<number, string>), sortedBuckets(new Map(g.buckets.map((b) => [b.id, renderBucket(b)]))));
      // A fresh compiler fed the final frontends, in the same order, builds the same flows and groups.
      const fresh = new PipelineCompiler();
      fresh.setNodeConfig(cfg);
      const order = [...programmed];
      fresh.apply(order.map((i) => ({ kind: 'service', op: 'upsert', service: (models[i] as ServiceModel).frontend() })));
      // Flows shared by both Services keep the cookie of whichever installed them first.
      const strip = (s: string) => s.replace(/cookie=0x[0-9a-f]+,/, '');
      assert.deepEqual(c.flows().map(renderFlow).map(strip), fresh.flows().map(renderFlow).map(strip));
      if (programmed.size === 1) assert.deepEqual(c.flows().map(renderFlow), fresh.flows().map(renderFlow));
      for (const [k, i] of order.entries()) {
        const key = `d/${(models[i] as ServiceModel).name}:http/TCP`;
        const mine = c.groupList().find((g) => g.id === c.serviceGroupId(key));
        const theirs = fresh.groupList().find((g) => g.id === fresh.serviceGroupId(key));
        assert.ok(mine && theirs, `group of ${key} (${k})`);
        assert.equal(renderGroup(mine).replace(/^group_id=\d+/, ''), renderGroup(theirs).replace(/^group_id=\d+/, ''));
      }
    }),
    { numRuns: 500 },
  );
});

function bigService(n: number, extra?: { ip: string; port: number }): ServiceFrontend {
  const endpoints = Array.from({ length: n }, (_, i) => ({ ip: `10.${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 8080, isLocal: false }));
  if (extra) endpoints.splice(n >> 1, 0, { ...extra, isLocal: false });
  return { namespace: 'd', name: 'big', portName: 'http', protocol: 'TCP', clusterIP: '10.96.0.10', port: 80, endpoints };
}

test('one Endpoint added to or removed from a 5,000-Endpoint Service is one flow and one bucket', () => {
  const c = new PipelineCompiler();
  c.setNodeConfig(cfg);
  const before = bigService(5000);
  const first = c.apply([{ kind: 'service', op: 'upsert', service: before }]);
  assert.equal(first.addedGroups[0]?.buckets.length, 5000);
  const ids = new Set(first.addedGroups[0]?.buckets.map((b) => b.id));
  assert.equal(ids.size, 5000, 'bucket ids are unique');

  const grown = c.apply([{ kind: 'service', op: 'upsert', service: bigService(5000, { ip: '10.250.0.1', port: 8080 }) }]);
  assert.equal(grown.added.length, 1);
  assert.match(renderFlow(grown.added[0]!), /nat\(dst=10\.250\.0\.1:8080\)/);
  assert.equal(diffSize(grown), 2, 'one flow, one modified group');
  const patch = grown.groupBuckets?.[0];
  assert.deepEqual(patch?.removed, []);
  assert.equal(patch?.inserted.length, 1);
  assert.ok(!ids.has(patch!.inserted[0]!.id), 'the new bucket takes a free id');

  const shrunk = c.apply([{ kind: 'service', op: 'upsert', service: before }]);
  assert.equal(shrunk.removed.length, 1);
  assert.deepEqual(shrunk.groupBuckets?.[0]?.removed, [patch!.inserted[0]!.id]);
  assert.deepEqual(shrunk.groupBuckets?.[0]?.inserted, []);
  assert.equal(diffSize(c.apply([{ kind: 'service', op: 'upsert', service: before }])), 0, 'the same frontend again changes nothing');
});

test('a bucket-level change nets out within one batch; removing and re-adding a Service in one batch rewrites its group', () => {
  const c = new PipelineCompiler();
  c.setNodeConfig(cfg);
  const svc = bigService(10);
  c.apply([{ kind: 'service', op: 'upsert', service: svc }]);
  const there = bigService(10, { ip: '10.250.0.1', port: 8080 });
  assert.equal(diffSize(c.apply([{ kind: 'service', op: 'upsert', service: there }, { kind: 'service', op: 'upsert', service: svc }])), 0);
  const d = c.apply([{ kind: 'service', op: 'remove', key: 'd/big:http/TCP' }, { kind: 'service', op: 'upsert', service: there }]);
  assert.equal(d.modifiedGroups.length, 1);
  assert.equal(d.groupBuckets, undefined, 'no bucket detail for a group rewritten as a whole');
});

test('turning session affinity on changes every bucket in place (same ids), the ServiceLB flows, and swaps the shared EndpointDNAT flows for the Service\'s own', () => {
  const c = new PipelineCompiler();
  c.setNodeConfig(cfg);
  const svc = bigService(20);
  const ids = c.apply([{ kind: 'service', op: 'upsert', service: svc }]).addedGroups[0]!.buckets.map((b) => b.id).sort();
  const d = c.apply([{ kind: 'service', op: 'upsert', service: { ...svc, sessionAffinityTimeout: 60 } }]);
  assert.ok([...d.added, ...d.modified, ...d.removed].every((f) => f.table === 41 || f.table === 42), 'only ServiceLB and EndpointDNAT flows change');
  assert.equal(d.removed.filter((f) => f.table === 42 && f.priority === 200).length, 20, 'the shared Endpoint flows go');
  assert.equal(d.added.filter((f) => f.table === 42 && f.priority === 210).length, 20, 'the Service gets its own, qualified by reg7');
  assert.equal(d.added.filter((f) => f.table === 42 && f.priority === 205).length, 1, 'and one re-selection flow');
  assert.deepEqual([...d.groupBuckets![0]!.removed].sort(), ids);
  assert.deepEqual(d.groupBuckets![0]!.inserted.map((b) => b.id).sort(), ids);
  assert.ok(d.groupBuckets![0]!.inserted.every((b) => b.actions.some((a) => a.type === 'resubmit' && a.table === 41)));
});
