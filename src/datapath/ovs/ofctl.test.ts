import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowBundle, groupBundle, GROUP_CHUNK_CHARS, parseDumpFlows, parseGroupStats } from './ofctl.js';
import { parseConntrack } from './conntrack.js';
import { parseTrace } from './trace.js';
import { buildFrame } from './frame.js';
import { act, flow, match, type Group } from '../pipeline/flow.js';
import { parseCidr } from '../net/addr.js';

test('a flow diff becomes one bundle: delete_strict, add, modify_strict (same cookie) or add (new cookie)', () => {
  const f1 = flow(70, 200, 0x5n, match().ip().nwDst(parseCidr('10.10.1.0/24')), [act.goto(80)]);
  const f2 = flow(70, 200, 0x5n, f1.match, [act.goto(72)]);
  const f3 = flow(70, 200, 0x6n, f1.match, [act.goto(72)]);
  const text = flowBundle({ add: [f1], modify: [[f1, f2], [f1, f3]], remove: [f1] });
  const lines = text.trim().split('\n');
  assert.equal(lines[0]!.split(' ')[0], 'delete_strict');
  assert.equal(lines[1]!.split(' ')[0], 'add');
  assert.match(lines[2]!, /^modify_strict table=70,priority=200,.*cookie=0x5 actions=goto_table:72$/);
  assert.match(lines[3]!, /^add table=70,priority=200,cookie=0x6,/);
});

test('a 10,000-bucket group is added with a first chunk and insert_bucket chunks, each below the message budget', () => {
  const g: Group = { id: 7, type: 'select', buckets: Array.from({ length: 10_000 }, (_, i) => ({ id: i, weight: 100, actions: [act.set('reg3', i), act.resubmit(42)] })) };
  const lines = groupBundle({ add: [g], modify: [] }).trim().split('\n');
  assert.match(lines[0]!, /^add group_id=7,type=select,selection_method=hash/);
  assert.ok(lines.slice(1).every((l) => l.startsWith('insert_bucket group_id=7,command_bucket_id=last,')));
  assert.ok(lines.every((l) => l.length < GROUP_CHUNK_CHARS + 500));
  assert.equal(lines.join('\n').match(/bucket=bucket_id:/g)?.length, 10_000);
  // One changed bucket: a remove_bucket and an insert_bucket, not a rewrite.
  const changed: Group = { ...g, buckets: g.buckets.map((b) => (b.id === 17 ? { ...b, actions: [act.resubmit(43)] } : b)) };
  const patch = groupBundle({ add: [], modify: [[g, changed]] }).trim().split('\n');
  assert.deepEqual(patch.map((l) => l.split(' ')[0]), ['remove_bucket', 'insert_bucket']);
  assert.match(patch[1]!, /bucket=bucket_id:17,weight:100,actions=resubmit\(,43\)$/);
});

test('parses dump-flows, dump-group-stats, dpctl/dump-conntrack and ofproto/trace output', () => {
  const flows = parseDumpFlows(`OFPST_FLOW reply (OF1.5) (xid=0x2):
 cookie=0x5, duration=0.017s, table=70, n_packets=3, n_bytes=198, idle_age=0, priority=200,ip,nw_dst=10.10.1.0/24 actions=goto_table:72
 cookie=0x1, duration=1s, n_packets=0, n_bytes=0, priority=0 actions=drop`);
  assert.deepEqual(flows.map((f) => [f.identity, f.cookie, f.packets, f.actions]), [
    ['70|200|ip,nw_dst=10.10.1.0/24', 5n, 3, 'goto_table:72'],
    ['0|0|', 1n, 0, 'drop'],
  ]);
  const gs = parseGroupStats(' group_id=1,duration=1.5s,ref_count=1,packet_count=4,byte_count=280,bucket0:packet_count=3,byte_count=210,bucket1:packet_count=1,byte_count=70');
  assert.deepEqual(gs[0], { id: 1, packets: 4, bytes: 280, buckets: [{ packets: 3, bytes: 210 }, { packets: 1, bytes: 70 }] });
  const ct = parseConntrack('tcp,orig=(src=10.10.0.2,dst=10.10.1.3,sport=33001,dport=5432),reply=(src=10.10.1.3,dst=10.10.0.2,sport=5432,dport=33001),zone=65520,timeout=86398,mark=2,protoinfo=(state=ESTABLISHED)');
  assert.equal(ct[0]!.state, 'ESTABLISHED');
  assert.equal(ct[0]!.zone, 65520);
  assert.equal(ct[0]!.mark, 2);
  assert.deepEqual([ct[0]!.orig.src, ct[0]!.orig.sport, ct[0]!.reply.sport], ['10.10.0.2', 33001, 5432]);
  const t = parseTrace(` 0. in_port=3, priority 190, cookie 0x10300dbb56e31
    set_field:0x2/0xf->reg0
    goto_table:10
10. priority 0, cookie 0x10000933b5bde
    drop

Final flow: unchanged
Datapath actions: drop`);
  assert.deepEqual(t.hops.map((h) => [h.table, h.priority, h.cookie]), [[0, 190, 0x10300dbb56e31n], [10, 0, 0x10000933b5bden]]);
  assert.equal(t.dropped, true);
  assert.equal(t.lastTable, 10);
});

test('crafted frames carry valid IPv4 and L4 checksums', () => {
  const hex = buildFrame({ srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '10.0.0.1', dstIp: '10.0.0.2', protocol: 'UDP', srcPort: 1000, dstPort: 53, ttl: 64, tcpFlags: '', payloadLength: 3 });
  const b = Buffer.from(hex, 'hex');
  const sum = (buf: Buffer) => {
    let s = 0;
    for (let i = 0; i + 1 < buf.length; i += 2) s += buf.readUInt16BE(i);
    if (buf.length % 2) s += buf[buf.length - 1]! << 8;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s;
  };
  assert.equal(sum(b.subarray(14, 34)), 0xffff, 'IPv4 header checksum');
  const l4 = b.subarray(34);
  const pseudo = Buffer.concat([b.subarray(26, 34), Buffer.from([0, 17, 0, l4.length])]);
  assert.equal(sum(Buffer.concat([pseudo, l4])), 0xffff, 'UDP checksum');
});
