import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { act, flow, match } from './flow.js';
import { renderBundle, renderFlow, renderGroup, renderMatch } from './render.js';
import { CT_ZONE, EpSelectedRegMark, RewriteMACRegMark, ServiceCTMark, makeCookie, regField } from './fields.js';
import { PipelineCompiler } from './compiler.js';
import { nodeConfig, peerOf, podOn } from './testing.js';

const C = makeCookie(1, 3, 0x10);

test('renders the worked example (a) tunnel flow of table 70', () => {
  const f = flow(70, 200, C, match().ip().nwDst({ ip: 0x0a0a0100, prefix: 24, mask: 0xffffff00 }), [
    act.setMac('dl_src', '0a:00:00:00:01:01'),
    act.setMac('dl_dst', 'aa:bb:cc:dd:ee:ff'),
    act.setIp('tun_dst', '192.168.77.12'),
    act.goto(72),
  ]);
  assert.equal(
    renderFlow(f),
    'table=70,priority=200,cookie=0x1030000000010,ip,nw_dst=10.10.1.0/24 actions=set_field:0a:00:00:00:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->eth_dst,set_field:192.168.77.12->tun_dst,goto_table:72',
  );
});

test('renders the worked example (b) EndpointDNAT flow: reg3=EP IP, reg4[0..18]=0x21f90', () => {
  const f = flow(42, 200, C, match().proto('tcp').field('reg3', 0x0a0a0105).reg({ field: regField('reg4', 0, 18), value: 0x21f90 }), [
    act.ct({ commit: true, zone: CT_ZONE, table: 45, nat: { kind: 'dst', ip: 0x0a0a0105, port: 8080 }, exec: [act.set('ct_mark', ServiceCTMark.value, ServiceCTMark.mask)] }),
  ]);
  assert.equal(
    renderFlow(f),
    'table=42,priority=200,cookie=0x1030000000010,tcp,reg3=0xa0a0105,reg4=0x21f90/0x7ffff actions=ct(commit,table=45,zone=65520,nat(dst=10.10.1.5:8080),exec(set_field:0x4/0x4->ct_mark))',
  );
});

test('renders ct_state, marks and conjunction flows in ovs-ofctl order', () => {
  assert.equal(renderMatch(match().ip().ctState('-new+trk').ctMark(ServiceCTMark).build()), 'ct_state=-new+trk,ct_mark=0x4/0x4,ip');
  assert.equal(renderMatch(match().ip().reg(RewriteMACRegMark).nwDst('10.10.1.3').build()), 'ip,reg0=0x80000/0x80000,nw_dst=10.10.1.3');
  const conj = flow(90, 190, C, match().ip().conjId(5), [act.loadRegField(regField('reg6', 0, 31), 5), act.ct({ commit: true, zone: CT_ZONE, table: 101, exec: [act.set('ct_label', 5n, 0xffffffffn)] })]);
  assert.equal(renderFlow(conj), 'table=90,priority=190,cookie=0x1030000000010,conj_id=5,ip actions=set_field:0x5->reg6,ct(commit,table=101,zone=65520,exec(set_field:0x5/0xffffffff->ct_label))');
  const clause = flow(90, 200, C, match().ip().nwSrc('10.10.0.2'), [act.conjunction(5, 1, 3), act.conjunction(6, 1, 2)]);
  assert.equal(renderFlow(clause), 'table=90,priority=200,cookie=0x1030000000010,ip,nw_src=10.10.0.2 actions=conjunction(5,1/3),conjunction(6,1/2)');
  assert.equal(renderFlow(flow(31, 0, C, match(), [act.resubmit(40), act.resubmit(41)])), 'table=31,priority=0,cookie=0x1030000000010 actions=resubmit(,40),resubmit(,41)');
  assert.equal(renderFlow(flow(0, 0, C, match(), [])), 'table=0,priority=0,cookie=0x1030000000010 actions=drop');
  assert.equal(renderMatch(match().reg(EpSelectedRegMark).build()), 'reg4=0x20000/0x70000');
});

test('renders a select group with weighted buckets', () => {
  const g = { id: 1, type: 'select' as const, buckets: [
    { id: 0, weight: 100, actions: [act.set('reg3', 0x0a0a0105), act.set('reg4', 0x1f90, 0xffff), act.resubmit(42)] },
  ] };
  assert.equal(renderGroup(g), 'group_id=1,type=select,bucket=bucket_id:0,weight:100,actions=set_field:0xa0a0105->reg3,set_field:0x1f90/0xffff->reg4,resubmit(,42)');
});

test('every compiled flow parses with ovs-ofctl and normalises to our own rendering', (t) => {
  const probe = spawnSync('ovs-ofctl', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('ovs-ofctl is not installed (apt-get install openvswitch-switch); rendering checked against strings only');
    return;
  }
  for (const mode of ['encap', 'noEncap'] as const) {
    const c = new PipelineCompiler();
    const n1 = nodeConfig(1, mode);
    c.setNodeConfig(n1);
    c.apply([
      { kind: 'pod', op: 'upsert', pod: podOn(n1, 0) },
      { kind: 'peerNode', op: 'upsert', peer: peerOf(nodeConfig(2, mode)) },
      { kind: 'service', op: 'upsert', service: { namespace: 'd', name: 's', portName: 'p', protocol: 'UDP', clusterIP: '10.96.0.10', port: 53, endpoints: [{ ip: '10.10.0.2', port: 5353, isLocal: true }] } },
      { kind: 'service', op: 'upsert', service: { namespace: 'd', name: 'sticky', portName: 'p', protocol: 'UDP', clusterIP: '10.96.0.11', port: 53, sessionAffinityTimeout: 60, endpoints: [{ ip: '10.10.0.2', port: 5353, isLocal: true }] } },
      { kind: 'policyRule', op: 'upsert', rule: { ruleID: 'r1', conjID: 5, direction: 'In', action: 'Allow', kind: 'K8sNetworkPolicy', from: { ipBlocks: ['10.10.1.0/24'] }, to: { ofPorts: [3] }, services: [{ protocol: 'TCP', port: 8000, endPort: 8100 }], policyRef: 'p' } },
      { kind: 'policyRule', op: 'upsert', rule: { ruleID: 'r2', conjID: 6, direction: 'Out', action: 'Reject', kind: 'AntreaNative', priority: 14000, from: { ipBlocks: ['10.10.0.2'] }, to: { ipBlocks: ['8.8.0.0/16'], serviceGroupIDs: [1] }, policyRef: 'p' } },
    ]);
    const flows = c.flows();
    const dir = mkdtempSync(join(tmpdir(), 'antrea-render-'));
    try {
      const file = join(dir, 'flows.txt');
      writeFileSync(file, flows.map(renderFlow).join('\n') + '\n');
      const out = spawnSync('ovs-ofctl', ['-O', 'OpenFlow15', 'parse-flows', file], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const parsed = out.stdout.split('\n').filter((l) => l.includes('OFPT_FLOW_MOD')).map((l) => l.replace(/^.*: ADD /, ''));
      assert.equal(parsed.length, flows.length);
      const ours = flows.map((f) => {
        const r = renderFlow(f);
        const m = /^table=(\d+),priority=(\d+),cookie=(0x[0-9a-f]+),?(.*) actions=(.*)$/.exec(r);
        assert.ok(m, r);
        const [, table, prio, cookie, mt, acts] = m;
        return `${table === '0' ? '' : `table:${table} `}priority=${prio}${mt ? `,${mt}` : ''} cookie:${cookie} actions=${acts}`;
      });
      assert.deepEqual(parsed, ours);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('a diff renders as an ovs-ofctl bundle: groups first, deletes before adds, group deletes last', () => {
  const c = new PipelineCompiler();
  const n1 = nodeConfig(1);
  c.setNodeConfig(n1);
  const svc = { namespace: 'd', name: 's', portName: 'p', protocol: 'TCP' as const, clusterIP: '10.96.0.10', port: 80, endpoints: [{ ip: '10.10.0.2', port: 8080, isLocal: true }] };
  const add = renderBundle(c.apply([{ kind: 'service', op: 'upsert', service: svc }]));
  assert.match(add[0]!, /^group add group_id=1,type=select,bucket=bucket_id:\d+,weight:100,actions=/);
  assert.ok(add.slice(1).every((l) => l.startsWith('flow add table=')));
  const del = renderBundle(c.apply([{ kind: 'service', op: 'remove', key: 'd/s:p/TCP' }]));
  assert.equal(del.at(-1), 'group delete group_id=1');
  assert.ok(del.slice(0, -1).every((l) => /^flow delete_strict table=\d+,priority=\d+,[^ ]+$/.test(l)), del.join('\n'));
  assert.ok(del.includes('flow delete_strict table=41,priority=200,tcp,reg4=0x10000/0x70000,nw_dst=10.96.0.10,tp_dst=80'));
});
