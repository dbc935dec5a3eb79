import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimBridge } from './bridge.js';
import { ManualClock } from './clock.js';
import { act, flow, match, type Flow, type Group } from '../pipeline/flow.js';
import { ETH_TYPE_IP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP } from '../pipeline/flow.js';
import { emptyDiff } from '../pipeline/compiler.js';
import { TCP_ACK, TCP_SYN, type Packet } from './packet.js';
import { parseIpv4, formatIpv4 } from '../net/addr.js';
import { CtState } from '../pipeline/fields.js';
import type { TraceStep } from './trace.js';

const C = 1n;
const VIP = parseIpv4('10.96.0.10');
const EPS = ['10.10.0.5', '10.10.0.6', '10.10.0.7'].map(parseIpv4);
const CLIENT = parseIpv4('10.10.0.2');

function lbBridge(clock = new ManualClock()): SimBridge {
  const b = new SimBridge('n1', clock);
  const flows: Flow[] = [
    flow(0, 200, C, match().ip(), [act.ct({ zone: 65520, table: 1, nat: { kind: 'reapply' } })]),
    flow(1, 200, C, match().proto('tcp').ctState('+new+trk').nwDst('10.96.0.10').tpDst(80), [act.group(1)]),
    flow(1, 190, C, match().ip().ctState('+inv+trk'), []),
    flow(1, 100, C, match().ip().ctState('+trk'), [act.goto(3)]),
    ...EPS.map((ep) => flow(2, 200, C, match().proto('tcp').field('reg3', ep), [
      act.ct({ commit: true, zone: 65520, table: 3, nat: { kind: 'dst', ip: ep, port: 8080 }, exec: [act.set('ct_mark', 4, 4)] }),
    ])),
    flow(3, 200, C, match().ip().nwDst('10.10.0.2'), [act.output(6)]),
    flow(3, 100, C, match().ip(), [act.output(5)]),
  ];
  const group: Group = { id: 1, type: 'select', buckets: EPS.map((ep, i) => ({ id: i, weight: 100, actions: [act.set('reg3', ep), act.resubmit(2)] })) };
  b.applyDiff({ ...emptyDiff(), added: flows, addedGroups: [group] });
  b.attachPort(5, { name: 'ep', kind: 'pod' });
  b.attachPort(6, { name: 'client', kind: 'pod' });
  return b;
}

function tcp(src: number, dst: number, sport: number, dport: number, flags: number, payloadLength = 0): Packet {
  return { ethSrc: 1, ethDst: 2, ethType: ETH_TYPE_IP, payloadLength, ip: { src, dst, proto: IPPROTO_TCP, ttl: 64, dscp: 0 }, l4: { kind: 'tcp', srcPort: sport, dstPort: dport, flags } };
}

test('select group: the same 5-tuple always picks the same bucket; 3000 connections spread evenly', () => {
  const b = lbBridge();
  const seen = new Map<number, number>();
  for (let sport = 20000; sport < 23000; sport++) {
    const r = b.process(tcp(CLIENT, VIP, sport, 80, TCP_SYN), 7);
    assert.equal(r.outputs.length, 1);
    const dst = r.outputs[0]!.packet.ip!.dst;
    seen.set(dst, (seen.get(dst) ?? 0) + 1);
  }
  assert.equal(seen.size, 3);
  for (const n of seen.values()) assert.ok(n > 850 && n < 1150, `bucket got ${n} of 3000`);
  const stats = b.groupStats()[0]!;
  assert.equal(stats.packets, 3000);
  assert.deepEqual(stats.buckets.map((x) => x.packets).sort(), [...seen.values()].sort());
  // Determinism: a second bridge picks the same Endpoint for the same tuple.
  const again = lbBridge().process(tcp(CLIENT, VIP, 20001, 80, TCP_SYN), 7);
  const first = lbBridge().process(tcp(CLIENT, VIP, 20001, 80, TCP_SYN), 7);
  assert.equal(again.outputs[0]!.packet.ip!.dst, first.outputs[0]!.packet.ip!.dst);
});

test('DNAT on commit, re-applied to later requests, reversed on replies; ct_mark visible after recirculation', () => {
  const b = lbBridge();
  const trace: TraceStep[] = [];
  const syn = b.process(tcp(CLIENT, VIP, 40000, 80, TCP_SYN), 7, trace);
  const out = syn.outputs[0]!.packet;
  assert.equal(out.l4?.kind === 'tcp' && out.l4.dstPort, 8080);
  const ep = out.ip!.dst;
  assert.ok(EPS.includes(ep));
  assert.ok(trace.some((s) => s.kind === 'group' && s.groupId === 1));
  // Reply from the Endpoint: un-DNAT puts the VIP back as source.
  const synack = b.process(tcp(ep, CLIENT, 8080, 40000, TCP_SYN | TCP_ACK), 5);
  const back = synack.outputs[0]!.packet;
  assert.equal(formatIpv4(back.ip!.src), '10.96.0.10');
  assert.equal(back.l4?.kind === 'tcp' && back.l4.srcPort, 80);
  assert.equal(synack.ct[0]!.state & (CtState.rpl | CtState.est), CtState.rpl | CtState.est);
  assert.equal(synack.ct[0]!.conn?.mark, 4);
  // Later request: DNATed by the lookup's nat, without the group.
  const ack = b.process(tcp(CLIENT, VIP, 40000, 80, TCP_ACK, 10), 7);
  assert.equal(ack.outputs[0]!.packet.ip!.dst, ep);
  assert.equal(b.groupStats()[0]!.packets, 1);
  const [e] = b.conntrack.list();
  assert.equal(e!.state, 'ESTABLISHED');
  assert.deepEqual([e!.orig.packets, e!.reply.packets, e!.orig.bytes, e!.reply.bytes], [2, 1, 40 + 50, 40]);
  assert.equal(e!.reply.src, formatIpv4(ep));
  assert.equal(e!.reply.sport, 8080);
});

test('a TCP packet without SYN and without a connection is +inv and dropped', () => {
  const b = lbBridge();
  const r = b.process(tcp(CLIENT, VIP, 40001, 80, TCP_ACK), 7);
  assert.equal(r.outputs.length, 0);
  assert.equal(r.ct[0]!.state, CtState.trk | CtState.inv);
  assert.equal(r.drop?.table, 1);
  assert.match(r.drop?.reason ?? '', /dropped by flow/);
});

test('flow counters count packets and frame bytes', () => {
  const b = lbBridge();
  b.process(tcp(CLIENT, VIP, 40000, 80, TCP_SYN, 100), 7);
  const st = b.flowStats().find((s) => s.flow.table === 0)!;
  assert.equal(st.packets, 1);
  assert.equal(st.bytes, 14 + 20 + 20 + 100);
  assert.match(b.dumpFlows()[0]!, /^table=0,n_packets=1,n_bytes=154,priority=200/);
});

test('dec_ttl drops a packet whose TTL would expire; output to in_port needs IN_PORT; missing groups and ports drop', () => {
  const b = new SimBridge('n1', new ManualClock());
  b.applyDiff({ ...emptyDiff(), added: [
    flow(0, 200, C, match().ip().field('reg0', 0), [act.decTtl(), act.output(5)]),
    flow(0, 100, C, match().arp(), [act.output(7)]),
    flow(0, 50, C, match(), [act.inPort()]),
  ] });
  b.attachPort(5, { name: 'p5', kind: 'pod' });
  b.attachPort(7, { name: 'p7', kind: 'pod' });
  const p = (ttl: number): Packet => ({ ethSrc: 1, ethDst: 2, ethType: ETH_TYPE_IP, payloadLength: 0, ip: { src: 1, dst: 2, proto: IPPROTO_UDP, ttl, dscp: 0 }, l4: { kind: 'udp', srcPort: 1, dstPort: 2 } });
  assert.equal(b.process(p(2), 7).outputs[0]!.packet.ip!.ttl, 1);
  const r = b.process(p(1), 7);
  assert.equal(r.outputs.length, 0);
  assert.match(r.drop!.reason, /TTL 1 expired/);
  const arp: Packet = { ethSrc: 1, ethDst: 0xffffffffffff, ethType: 0x806, payloadLength: 0, arp: { op: 1, sha: 1, spa: 1, tha: 0, tpa: 2 } };
  const r2 = b.process(arp, 7);
  assert.equal(r2.outputs.length, 0);
  assert.match(r2.drop!.reason, /input port/);
  const other: Packet = { ethSrc: 1, ethDst: 2, ethType: 0x88cc, payloadLength: 0 };
  assert.equal(b.process(other, 7).outputs[0]!.port, 7, 'IN_PORT may send back');
});

test('conntrack timeouts follow the injected clock; ICMP echo replies are ESTABLISHED', () => {
  const clock = new ManualClock();
  const b = new SimBridge('n1', clock);
  b.applyDiff({ ...emptyDiff(), added: [
    flow(0, 200, C, match().ip(), [act.ct({ zone: 65520, table: 1 })]),
    flow(1, 200, C, match().ip().ctState('+new+trk'), [act.ct({ commit: true, zone: 65520, table: 2 })]),
    flow(1, 100, C, match().ip(), [act.goto(2)]),
    flow(2, 0, C, match(), [act.output(5)]),
  ] });
  b.attachPort(5, { name: 'p5', kind: 'pod' });
  const udp = (src: number, dst: number, sp: number, dp: number): Packet => ({ ethSrc: 1, ethDst: 2, ethType: ETH_TYPE_IP, payloadLength: 8, ip: { src, dst, proto: IPPROTO_UDP, ttl: 64, dscp: 0 }, l4: { kind: 'udp', srcPort: sp, dstPort: dp } });
  b.process(udp(1, 2, 1000, 53), 9);
  assert.equal(b.conntrack.list()[0]!.timeoutSeconds, 30);
  clock.advance(29_000);
  assert.equal(b.conntrack.list().length, 1);
  clock.advance(2_000);
  assert.equal(b.conntrack.list().length, 0, 'unreplied UDP expires after 30 s');
  b.process(udp(1, 2, 1001, 53), 9);
  const rep = b.process(udp(2, 1, 53, 1001), 9);
  assert.equal(rep.ct[0]!.state, CtState.trk | CtState.est | CtState.rpl);
  assert.equal(b.conntrack.list()[0]!.timeoutSeconds, 120, 'replied UDP gets the stream timeout');
  const icmp = (src: number, dst: number, type: number): Packet => ({ ethSrc: 1, ethDst: 2, ethType: ETH_TYPE_IP, payloadLength: 56, ip: { src, dst, proto: IPPROTO_ICMP, ttl: 64, dscp: 0 }, l4: { kind: 'icmp', type, code: 0, id: 77, seq: 1 } });
  assert.equal(b.process(icmp(1, 3, 8), 9).ct[0]!.state, CtState.trk | CtState.new);
  assert.equal(b.process(icmp(3, 1, 0), 9).ct[0]!.state, CtState.trk | CtState.est | CtState.rpl);
  assert.match(b.conntrack.dump(), /icmp 1 30 src=0\.0\.0\.1 dst=0\.0\.0\.3 type=8 code=0 id=77 packets=1 bytes=84/);
});

test('TCP state: SYN, SYN-ACK, ACK, FIN both ways, last ACK ends in TIME_WAIT; RST closes; a new SYN reopens', () => {
  const clock = new ManualClock();
  const b = new SimBridge('n1', clock);
  b.applyDiff({ ...emptyDiff(), added: [
    flow(0, 200, C, match().ip(), [act.ct({ zone: 65520, table: 1 })]),
    flow(1, 200, C, match().ip().ctState('+new+trk'), [act.ct({ commit: true, zone: 65520, table: 2 })]),
    flow(1, 100, C, match().ip(), [act.goto(2)]),
    flow(2, 0, C, match(), [act.output(5)]),
  ] });
  b.attachPort(5, { name: 'p5', kind: 'pod' });
  const seq: [number, 0 | 1, string][] = [
    [TCP_SYN, 0, 'SYN_SENT'], [TCP_SYN | TCP_ACK, 1, 'SYN_RECV'], [TCP_ACK, 0, 'ESTABLISHED'],
    [0x01 | TCP_ACK, 0, 'FIN_WAIT'], [0x01 | TCP_ACK, 1, 'LAST_ACK'], [TCP_ACK, 0, 'TIME_WAIT'],
  ];
  for (const [flags, dir, state] of seq) {
    b.process(dir === 0 ? tcp(1, 2, 5555, 80, flags) : tcp(2, 1, 80, 5555, flags), 9);
    assert.equal(b.conntrack.list()[0]!.state, state);
  }
  b.process(tcp(1, 2, 5555, 80, TCP_SYN), 9);
  assert.equal(b.conntrack.list()[0]!.state, 'SYN_SENT', 'a SYN on a TIME_WAIT tuple opens a new connection');
  b.process(tcp(2, 1, 80, 5555, 0x04), 9);
  assert.equal(b.conntrack.list()[0]!.state, 'CLOSE');
  clock.advance(11_000);
  assert.equal(b.conntrack.list().length, 0);
});

test('select group: inserting and removing buckets by id moves only the connections it must (rendezvous hashing)', () => {
  const b = new SimBridge('n1', new ManualClock());
  const bucket = (id: number) => ({ id, weight: 100, actions: [act.set('reg3', id), act.resubmit(2)] });
  const ids = Array.from({ length: 50 }, (_, i) => 1000 + i * 7919);
  b.applyDiff({
    ...emptyDiff(),
    added: [flow(0, 200, C, match().proto('tcp'), [act.group(1)]), flow(2, 200, C, match().ip(), [act.output(5)])],
    addedGroups: [{ id: 1, type: 'select', buckets: ids.map(bucket) }],
  });
  b.attachPort(5, { name: 'ep', kind: 'pod' });
  const pick = (sport: number): number => {
    const trace: TraceStep[] = [];
    b.process(tcp(CLIENT, VIP, sport, 80, TCP_SYN), 7, trace);
    const step = trace.find((s) => s.kind === 'group');
    assert.ok(step && step.kind === 'group');
    return step.bucketId;
  };
  const before = new Map<number, number>();
  for (let sport = 20000; sport < 25000; sport++) before.set(sport, pick(sport));
  const gone = ids[17] as number;
  const added = 4242;
  const next: Group = { id: 1, type: 'select', buckets: [...ids.filter((id) => id !== gone), added].map(bucket) };
  b.applyDiff({ ...emptyDiff(), modifiedGroups: [next], groupBuckets: [{ groupId: 1, removed: [gone], inserted: [bucket(added)] }] });
  assert.deepEqual(b.groupStats()[0]!.buckets.map((x) => x.id).sort(), next.buckets.map((x) => x.id).sort());
  let moved = 0;
  for (const [sport, was] of before) {
    const now = pick(sport);
    if (was === gone) assert.notEqual(now, gone);
    else if (now !== was) {
      assert.equal(now, added, 'a connection moves only to the new bucket');
      moved++;
    }
  }
  // The new bucket takes about 1/50 of the connections.
  assert.ok(moved > 50 && moved < 150, `moved ${moved} of 5000`);
});
