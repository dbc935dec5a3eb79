import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionStore } from './store.js';
import { ClusterIndex } from './enrich.js';
import { InstalledRuleLookup } from './policies.js';
import type { InstalledRule } from '../networkpolicy/index.js';
import type { PolicyRule } from '../../datapath/types.js';
import { FlowEndReason, FlowType, noEnrichment, type Connection, type Enricher } from './types.js';
import { buildRecord, flowTemplates } from './record.js';
import { IpfixDecoder, IpfixEncoder } from '../../ipfix/index.js';
import { ctEntry, manyEntries, type EntrySpec } from './testing.js';
import type { Pod, Service } from '../../apis/core.js';

const T0 = 1_700_000_000_000;
const ACTIVE = 30_000;
const IDLE = 15_000;

interface Emitted {
  key: string;
  reason: number;
  packets: number;
  delta: number;
  revDelta: number;
  bytesDelta: number;
}

function store(enricher: Enricher = noEnrichment) {
  return new ConnectionStore({ activeTimeoutMs: ACTIVE, idleTimeoutMs: IDLE, enricher });
}

function drain(s: ConnectionStore, now: number, max = 1e9): Emitted[] {
  const out: Emitted[] = [];
  s.exportExpired(now, max, (c: Connection, reason: number) => {
    out.push({ key: c.key, reason, packets: c.packets, delta: c.packets - c.prevPackets, revDelta: c.revPackets - c.prevRevPackets, bytesDelta: c.bytes - c.prevBytes });
  });
  return out;
}

const a: EntrySpec = { src: '10.10.0.2', dst: '10.10.1.2', sport: 40000, dport: 80, packets: 3, bytes: 180, revPackets: 2, revBytes: 120 };

test('a new connection is exported at its active expiry with deltas equal to its totals, then deltas since the last export', () => {
  const s = store();
  const r = s.poll([ctEntry(a)], T0);
  assert.deepEqual(r, { seen: 1, added: 1, updated: 0, ended: 0, deleted: 0 });
  // Traffic keeps the connection active: each poll refreshes the idle expiry, so the active timeout fires first.
  for (let t = 5_000, p = 4; t < ACTIVE; t += 5_000, p++) s.poll([ctEntry({ ...a, packets: p, bytes: p * 60 })], T0 + t);
  assert.deepEqual(drain(s, T0 + ACTIVE - 1), []);
  s.poll([ctEntry({ ...a, packets: 10, bytes: 600, revPackets: 8, revBytes: 480 })], T0 + ACTIVE);
  const first = drain(s, T0 + ACTIVE);
  assert.equal(first.length, 1);
  assert.equal(first[0]!.reason, FlowEndReason.Active);
  assert.equal(first[0]!.delta, 10);
  assert.equal(first[0]!.revDelta, 8);
  s.poll([ctEntry({ ...a, packets: 15, bytes: 900, revPackets: 12, revBytes: 720 })], T0 + ACTIVE + 5_000);
  s.poll([ctEntry({ ...a, packets: 16, bytes: 960, revPackets: 13, revBytes: 780 })], T0 + ACTIVE + 20_000);
  const second = drain(s, T0 + 2 * ACTIVE);
  assert.equal(second.length, 1);
  assert.equal(second[0]!.reason, FlowEndReason.Active);
  assert.equal(second[0]!.packets, 16);
  assert.equal(second[0]!.delta, 6);
  assert.equal(second[0]!.revDelta, 5);
  assert.equal(second[0]!.bytesDelta, 360);
});

test('a connection without traffic is exported as idle, leaves the queue, and comes back with new traffic', () => {
  const s = store();
  s.poll([ctEntry(a)], T0);
  s.poll([ctEntry(a)], T0 + 5_000);
  const idle = drain(s, T0 + IDLE);
  assert.deepEqual(idle.map((e) => e.reason), [FlowEndReason.Idle]);
  assert.equal(s.queue.size, 0);
  assert.equal(s.size, 1, 'still tracked: it is in conntrack');
  // No traffic: nothing more to say.
  s.poll([ctEntry(a)], T0 + 20_000);
  assert.deepEqual(drain(s, T0 + 100_000), []);
  // Traffic again: a fresh active period, deltas since the idle record.
  s.poll([ctEntry({ ...a, packets: 5, bytes: 300 })], T0 + 100_000);
  assert.equal(s.queue.size, 1);
  const back = drain(s, T0 + 100_000 + IDLE);
  assert.equal(back.length, 1);
  assert.equal(back[0]!.reason, FlowEndReason.Idle);
  assert.equal(back[0]!.delta, 2);
});

test('a TCP connection that closes is exported as end-of-flow on the next cycle and deleted once gone', () => {
  const s = store();
  s.poll([ctEntry(a)], T0);
  const r = s.poll([ctEntry({ ...a, state: 'TIME_WAIT', packets: 6, bytes: 360, lastSeen: T0 + 4_000 })], T0 + 5_000);
  assert.equal(r.ended, 1);
  const out = drain(s, T0 + 5_000);
  assert.deepEqual(out.map((e) => [e.reason, e.delta]), [[FlowEndReason.EndOfFlow, 6]]);
  const c = [...s.connections.values()][0]!;
  assert.equal(c.stopMs, T0 + 4_000, 'a closed connection ends at its last packet');
  // Still in TIME_WAIT: kept (so it is not new again) but not re-exported.
  s.poll([ctEntry({ ...a, state: 'TIME_WAIT', packets: 6, bytes: 360 })], T0 + 10_000);
  assert.deepEqual(drain(s, T0 + 60_000), []);
  const gone = s.poll([], T0 + 130_000);
  assert.equal(gone.deleted, 1);
  assert.equal(s.size, 0);
});

test('a connection that opened and closed between two polls gives one end-of-flow record with its totals', () => {
  const s = store();
  s.poll([ctEntry({ ...a, state: 'TIME_WAIT', packets: 5, bytes: 300, revPackets: 4, revBytes: 240 })], T0);
  const out = drain(s, T0);
  assert.deepEqual(out.map((e) => [e.reason, e.delta, e.revDelta]), [[FlowEndReason.EndOfFlow, 5, 4]]);
  assert.deepEqual(drain(s, T0 + 1e6), []);
});

test('a connection that vanishes from conntrack is exported as end-of-flow, then forgotten', () => {
  const s = store();
  const u: EntrySpec = { ...a, protocol: 'udp', dport: 53 };
  s.poll([ctEntry(u)], T0);
  s.poll([ctEntry({ ...u, packets: 4, bytes: 240 })], T0 + 5_000);
  const r = s.poll([], T0 + 10_000);
  assert.equal(r.ended, 1);
  const out = drain(s, T0 + 10_000);
  assert.deepEqual(out.map((e) => [e.reason, e.delta]), [[FlowEndReason.EndOfFlow, 4]]);
  assert.equal(s.size, 0, 'exported and gone: deleted at once');
});

test('a connection that vanishes while idle with nothing new is dropped without another record', () => {
  const s = store();
  s.poll([ctEntry(a)], T0);
  assert.equal(drain(s, T0 + IDLE).length, 1);
  const r = s.poll([], T0 + IDLE + 5_000);
  assert.equal(r.deleted, 1);
  assert.deepEqual(drain(s, T0 + 1e6), []);
});

test('only the Pod conntrack zones are tracked, and each (zone, tuple) is one connection', () => {
  const s = store();
  const v6 = ctEntry({ src: 'fd00:10:10::2', dst: 'fd00:10:10:1::2', sport: 1, dport: 80, zone: 65510 });
  const r = s.poll([ctEntry(a), ctEntry({ ...a, zone: 65521 }), ctEntry({ ...a, zone: 0 }), ctEntry({ ...a, sport: 40001 }), v6], T0);
  assert.equal(r.seen, 3);
  assert.equal(s.size, 3);
  const c6 = [...s.connections.values()].find((c) => c.zone === 65510)!;
  assert.equal(c6.ipv6, true);
  const rec = buildRecord(c6, FlowEndReason.Idle);
  assert.equal(rec[10], 'fd00:10:10::2');
  assert.equal(rec[36], '::');
  const enc = new IpfixEncoder();
  const { v6: t6 } = flowTemplates();
  enc.addTemplate(t6);
  enc.writeTemplates();
  enc.writeRecord(t6, rec);
  const decoded = new IpfixDecoder().decode(enc.flush()[0]!.bytes).records[0]!.fields;
  assert.equal(decoded.destinationIPv6Address, 'fd00:10:10:1::2');
  assert.equal(decoded.destinationClusterIPv6, '::');
  const only = new ConnectionStore({ activeTimeoutMs: ACTIVE, idleTimeoutMs: IDLE, enricher: noEnrichment, zones: [0, 65520, 65521] });
  assert.equal(only.poll([ctEntry(a), ctEntry({ ...a, zone: 65521 }), ctEntry({ ...a, zone: 0 }), v6], T0).seen, 3);
});

test('a poll over many connections adds, updates and ends them in one pass', () => {
  const s = store();
  s.poll(manyEntries(1000), T0);
  const next = [...manyEntries(900, 100, 11), ...manyEntries(100, 1000)];
  const r = s.poll(next, T0 + 5_000);
  assert.deepEqual(r, { seen: 1000, added: 100, updated: 900, ended: 100, deleted: 0 });
  assert.equal(s.size, 1100);
  const out = drain(s, T0 + 5_000);
  assert.equal(out.length, 100);
  assert.ok(out.every((e) => e.reason === FlowEndReason.EndOfFlow));
  assert.equal(s.size, 1000);
});

function pod(ns: string, name: string, node: string, ip: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name }, spec: { nodeName: node, containers: [] }, status: { podIP: ip, podIPs: [{ ip }] } } as unknown as Pod;
}

function service(ns: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' }[]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { clusterIP, clusterIPs: [clusterIP], ports } } as unknown as Service;
}

test('enrichment: Pods by IP on any Node, the Service behind a DNAT, the policies behind ct_label, and the flow type', () => {
  const rule = (r: Omit<PolicyRule, 'from' | 'to'>, ruleName?: string) => ({ rule: { ...r, from: {}, to: {} }, policyUID: r.ruleID, ...(ruleName ? { ruleName } : {}) }) as InstalledRule;
  const installed = new Map([
    ['r1', rule({ ruleID: 'r1', conjID: 7, direction: 'In', action: 'Allow', kind: 'K8sNetworkPolicy', policyRef: 'K8sNetworkPolicy:shop/allow-web' })],
    ['r2', rule({ ruleID: 'r2', conjID: 9, direction: 'Out', action: 'Allow', kind: 'AntreaNative', policyRef: 'AntreaClusterNetworkPolicy:egress-ok' }, 'rule-1')],
  ]);
  const idx = new ClusterIndex(new InstalledRuleLookup('node-1', new Map([['node-1', installed]])));
  idx.upsertPod(pod('shop', 'client', 'node-1', '10.10.0.2'));
  idx.upsertPod(pod('shop', 'web-1', 'node-2', '10.10.1.2'));
  idx.upsertPod(pod('shop', 'web-0', 'node-1', '10.10.0.3'));
  idx.upsertPod({ ...pod('kube-system', 'host', 'node-1', '192.168.0.1'), spec: { nodeName: 'node-1', hostNetwork: true, containers: [] } } as unknown as Pod);
  idx.upsertService(service('shop', 'web', '10.96.0.10', [{ name: 'http', port: 80 }]));
  const s = store(idx);
  const label = `0x${((9n << 32n) | 7n).toString(16)}`;
  s.poll(
    [
      ctEntry({ src: '10.10.0.2', dst: '10.96.0.10', sport: 1, dport: 80, dnat: { ip: '10.10.1.2', port: 8080 }, labels: label }),
      ctEntry({ src: '10.10.0.2', dst: '10.10.0.3', sport: 2, dport: 80 }),
      ctEntry({ src: '10.10.0.2', dst: '8.8.8.8', sport: 3, dport: 53, protocol: 'udp' }),
      ctEntry({ src: '192.168.0.1', dst: '10.10.0.3', sport: 4, dport: 80 }),
    ],
    T0,
  );
  const byPort = new Map([...s.connections.values()].map((c) => [c.srcPort, c]));
  const svc = byPort.get(1)!;
  assert.deepEqual(svc.srcPod, { name: 'client', namespace: 'shop', node: 'node-1' });
  assert.deepEqual(svc.dstPod, { name: 'web-1', namespace: 'shop', node: 'node-2' });
  assert.deepEqual(svc.service, { portName: 'shop/web:http', port: 80, clusterIP: '10.96.0.10' });
  assert.equal(svc.dstIP, '10.10.1.2');
  assert.equal(svc.dstPort, 8080);
  assert.deepEqual(svc.ingress, { name: 'allow-web', namespace: 'shop', type: 1, ruleName: '', action: 1 });
  assert.deepEqual(svc.egress, { name: 'egress-ok', namespace: '', type: 3, ruleName: 'rule-1', action: 1 });
  const rec = buildRecord(svc, FlowEndReason.Active);
  assert.equal(rec[22], 80);
  assert.equal(rec[23], 'shop/web:http');
  assert.equal(rec[24], 'allow-web');
  assert.equal(rec[35], FlowType.InterNode);
  assert.equal(rec[36], '10.96.0.10');
  assert.equal(buildRecord(byPort.get(2)!, 1)[35], FlowType.IntraNode);
  assert.equal(buildRecord(byPort.get(2)!, 1)[36], '0.0.0.0');
  assert.equal(buildRecord(byPort.get(2)!, 1)[23], '');
  assert.equal(buildRecord(byPort.get(3)!, 1)[35], FlowType.ToExternal);
  const fromHost = buildRecord(byPort.get(4)!, 1);
  assert.equal(fromHost[16], '', 'a host-network IP names no Pod');
  assert.equal(fromHost[18], '', 'no Node name without a Pod name');
  assert.equal(fromHost[35], FlowType.Unknown);
});

test('a Pod the informer learns after the connection was seen is named in the record', () => {
  const idx = new ClusterIndex();
  const s = store(idx);
  s.poll([ctEntry(a)], T0);
  idx.upsertPod(pod('default', 'late', 'node-1', a.src));
  const names: string[] = [];
  s.exportExpired(T0 + IDLE, 10, (c) => names.push(c.srcPod?.name ?? ''));
  assert.deepEqual(names, ['late']);
});

test('a Pod IP reused by a new Pod is not forgotten when the old Pod is deleted', () => {
  const idx = new ClusterIndex();
  const old = pod('default', 'old', 'node-1', '10.10.0.9');
  idx.upsertPod(old);
  idx.upsertPod(pod('default', 'new', 'node-1', '10.10.0.9'));
  idx.removePod(old);
  assert.equal(idx.podByIP('10.10.0.9')?.name, 'new');
  idx.upsertService(service('default', 'dns', '10.96.0.10', [{ port: 53, protocol: 'UDP' }]));
  assert.equal(idx.serviceByFrontend('10.96.0.10', 53, 17)?.portName, 'default/dns');
  assert.equal(idx.serviceByFrontend('10.96.0.10', 53, 6), undefined);
  idx.removeService(service('default', 'dns', '10.96.0.10', []));
  assert.equal(idx.serviceByFrontend('10.96.0.10', 53, 17), undefined);
});

test('records leave in expiry order and at most max per cycle', () => {
  const s = store();
  s.poll(manyEntries(10), T0);
  for (let i = 0; i < 10; i++) s.poll(manyEntries(10).map((e, k) => (k === i ? { ...e, orig: { ...e.orig, packets: 99 } } : e)), T0 + i * 10);
  assert.equal(drain(s, T0 + IDLE + 1000, 3).length, 3);
  assert.equal(drain(s, T0 + IDLE + 1000).length, 7);
});

test('a tuple reopened between polls is a new connection: its deltas start from zero', () => {
  const s = store();
  s.poll([ctEntry({ ...a, packets: 9, bytes: 900 })], T0);
  assert.equal(drain(s, T0 + IDLE).length, 1);
  // A new SYN replaced the old TIME_WAIT entry: smaller counters, a later start.
  s.poll([ctEntry({ ...a, packets: 2, bytes: 120, start: T0 + 20_000, state: 'SYN_SENT' })], T0 + 21_000);
  const out = drain(s, T0 + 21_000 + IDLE);
  assert.deepEqual(out.map((e) => [e.packets, e.delta, e.bytesDelta]), [[2, 2, 120]]);
  assert.equal(s.size, 1);
});

test('rule lookups follow the NetworkPolicy module as it replaces its installed rules, and do not rescan on every miss', () => {
  let now = 0;
  const installed = new Map<string, InstalledRule>();
  const rules = new Map([['node-1', installed]]);
  const lookup = new InstalledRuleLookup('node-1', rules, () => now);
  const entry = (conjID: number, ref: string) => ({ rule: { ruleID: `r${conjID}`, conjID, direction: 'In', action: 'Allow', kind: 'AntreaNative', policyRef: ref, from: {}, to: {} }, policyUID: 'u' }) as InstalledRule;
  installed.set('r3', entry(3, 'AntreaNetworkPolicy:ns/first'));
  assert.equal(lookup.lookup(3, 'In')?.name, 'first');
  assert.equal(lookup.lookup(3, 'Out'), undefined);
  assert.equal(lookup.lookup(3, 'In')?.type, 2, 'Antrea NetworkPolicy');
  // A sync replaces the entries: the cached one is stale and the index is rebuilt at once.
  installed.clear();
  installed.set('r3', entry(3, 'AntreaNetworkPolicy:ns/second'));
  assert.equal(lookup.lookup(3, 'In')?.name, 'second');
  // A rule added just after a rebuild is found once the miss back-off has passed.
  installed.set('r4', entry(4, 'AntreaClusterNetworkPolicy:third'));
  assert.equal(lookup.lookup(4, 'In'), undefined);
  now += 1000;
  assert.deepEqual(lookup.lookup(4, 'In'), { name: 'third', namespace: '', type: 3, ruleName: '', action: 1 });
  assert.equal(new InstalledRuleLookup('node-2', rules).lookup(3, 'In'), undefined, 'another Node has its own rules');
});
