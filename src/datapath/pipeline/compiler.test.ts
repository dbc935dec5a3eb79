import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineCompiler, diffSize } from './compiler.js';
import { nodeConfig, peerOf, podOn } from './testing.js';
import { renderFlow, renderGroup } from './render.js';
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

test('a Service compiles to worked example (b): ServiceLB flow, select group, EndpointDNAT and HairpinSNAT flows', () => {
  const c = new PipelineCompiler();
  c.setNodeConfig(nodeConfig(1));
  const svc = {
    namespace: 'default', name: 'web', portName: 'http', protocol: 'TCP' as const, clusterIP: '10.96.0.10', port: 80,
    endpoints: [{ ip: '10.10.1.5', port: 8080, isLocal: false }, { ip: '10.10.0.7', port: 8080, isLocal: true }],
  };
  const d = c.apply([{ kind: 'service', op: 'upsert', service: svc }]);
  const strip = (s: string) => s.replace(/cookie=0x[0-9a-f]+,/, '');
  assert.deepEqual(d.added.map(renderFlow).map(strip).sort(), [
    'table=108,priority=200,ip,nw_src=10.10.0.7,nw_dst=10.10.0.7 actions=set_field:169.254.169.252->ip_src,set_field:0x40000/0x40000->reg0,goto_table:110',
    'table=41,priority=200,tcp,reg4=0x10000/0x70000,nw_dst=10.96.0.10,tp_dst=80 actions=set_field:0x20000/0x70000->reg4,set_field:0x80000/0x80000->reg0,set_field:0x1->reg7,group:1',
    'table=42,priority=200,tcp,reg3=0xa0a0007,reg4=0x21f90/0x7ffff actions=ct(commit,table=45,zone=65520,nat(dst=10.10.0.7:8080),exec(set_field:0x4/0x4->ct_mark))',
    'table=42,priority=200,tcp,reg3=0xa0a0105,reg4=0x21f90/0x7ffff actions=ct(commit,table=45,zone=65520,nat(dst=10.10.1.5:8080),exec(set_field:0x4/0x4->ct_mark))',
  ]);
  assert.equal(d.addedGroups.length, 1);
  assert.equal(renderGroup(d.addedGroups[0]!),
    // Bucket ids hash the Endpoint (`ip:port`), so they survive other Endpoints coming and going, and restarts.
    'group_id=1,type=select,bucket=bucket_id:126182335,weight:100,actions=set_field:0xa0a0105->reg3,set_field:0x1f90/0xffff->reg4,resubmit(,42),bucket=bucket_id:4018693084,weight:100,actions=set_field:0xa0a0007->reg3,set_field:0x1f90/0xffff->reg4,resubmit(,42)');
  assert.ok(d.added.every((f) => cookieCategory(f.cookie) === CookieCategory.Service));
  // A second Service with a shared Endpoint shares the EndpointDNAT flow; removing the first keeps it.
  const other = { ...svc, name: 'web2', clusterIP: '10.96.0.11', endpoints: [svc.endpoints[0]!] };
  const d2 = c.apply([{ kind: 'service', op: 'upsert', service: other }]);
  assert.equal(d2.added.filter((f) => f.table === 42).length, 0);
  assert.equal(d2.addedGroups[0]!.id, 2);
  const d3 = c.apply([{ kind: 'service', op: 'remove', key: 'default/web:http/TCP' }]);
  assert.deepEqual(d3.removed.map((f) => f.table).sort((a, b) => a - b), [41, 42, 108]);
  assert.equal(d3.removedGroups[0]!.id, 1);
  // The freed group id is reused.
  const d4 = c.apply([{ kind: 'service', op: 'upsert', service: { ...svc, name: 'web3', clusterIP: '10.96.0.12' } }]);
  assert.equal(d4.addedGroups[0]!.id, 1);
  assert.throws(() => c.apply([{ kind: 'service', op: 'upsert', service: { ...svc, nodePort: 30080 } }]), (e: unknown) => isAntreaError(e, 'ERR_DATAPATH_UNSUPPORTED'));
});

test('a K8s NetworkPolicy ingress rule compiles to worked example (a): clauses, conj_id action, metrics, default drop', () => {
  const c = new PipelineCompiler();
  c.setNodeConfig(nodeConfig(2));
  const rule = {
    ruleID: 'np-allow-a', conjID: 5, direction: 'In' as const, action: 'Allow' as const, kind: 'K8sNetworkPolicy' as const,
    from: { ipBlocks: ['10.10.0.2'] }, to: { ofPorts: [3] }, services: [{ protocol: 'TCP' as const, port: 80 }], policyRef: 'K8sNetworkPolicy:default/allow-a',
  };
  const d = c.apply([{ kind: 'policyRule', op: 'upsert', rule }]);
  const strip = (s: string) => s.replace(/cookie=0x[0-9a-f]+,/, '');
  assert.deepEqual(d.added.map(renderFlow).map(strip).sort(), [
    'table=100,priority=200,ip,reg1=0x3 actions=drop',
    'table=101,priority=200,ct_state=+new,ct_label=0x5/0xffffffff,ip actions=goto_table:105',
    'table=101,priority=200,ct_state=-new,ct_label=0x5/0xffffffff,ip actions=goto_table:105',
    'table=90,priority=190,conj_id=5,ip actions=set_field:0x5->reg6,ct(commit,table=101,zone=65520,exec(set_field:0x5/0xffffffff->ct_label))',
    'table=90,priority=200,ip,nw_src=10.10.0.2 actions=conjunction(5,1/3)',
    'table=90,priority=200,ip,reg1=0x3 actions=conjunction(5,2/3)',
    'table=90,priority=200,tcp,tp_dst=80 actions=conjunction(5,3/3)',
  ]);
  assert.ok(d.added.every((f) => cookieCategory(f.cookie) === CookieCategory.Policy));
  // A second rule with the same peer shares the clause flow: one flow, two conjunction actions.
  const d2 = c.apply([{ kind: 'policyRule', op: 'upsert', rule: { ...rule, ruleID: 'np-allow-a-53', conjID: 6, services: [{ protocol: 'UDP' as const, port: 53 }] } }]);
  const shared = d2.modified.find((f) => f.table === 90 && f.priority === 200 && renderFlow(f).includes('nw_src=10.10.0.2'));
  assert.ok(shared);
  assert.match(renderFlow(shared), /actions=conjunction\(5,1\/3\),conjunction\(6,1\/3\)$/);
  assert.ok(!d2.added.some((f) => f.table === 100), 'the default drop is shared, not added twice');
  const d3 = c.apply([{ kind: 'policyRule', op: 'remove', key: 'np-allow-a' }]);
  assert.match(renderFlow(d3.modified.find((f) => f.table === 90)!), /actions=conjunction\(6,1\/3\)$/);
  assert.ok(!d3.removed.some((f) => f.table === 100), 'the default drop stays while rule 6 uses it');
});

test('port ranges become value/mask pairs', async () => {
  const { portRangeMasks } = await import('./stages/policy.js');
  assert.deepEqual(portRangeMasks(8080, 8080), [{ value: 8080, mask: 0xffff }]);
  assert.deepEqual(portRangeMasks(1000, 1999).reduce((n, r) => n + (0x10000 - r.mask), 0), 1000);
  assert.deepEqual(portRangeMasks(0, 65535), [{ value: 0, mask: 0 }]);
});

test('ClientIP affinity: the ServiceLB flow marks select+learn, buckets resubmit to ServiceLB, a p190 flow learns into SessionAffinity', () => {
  const c = new PipelineCompiler();
  c.setNodeConfig(nodeConfig(1));
  const svc = { namespace: 'default', name: 'sticky', portName: 'http', protocol: 'TCP' as const, clusterIP: '10.96.0.10', port: 80, sessionAffinityTimeout: 300,
    endpoints: [{ ip: '10.10.1.5', port: 8080, isLocal: false }] };
  const d = c.apply([{ kind: 'service', op: 'upsert', service: svc }]);
  const strip = (s: string) => s.replace(/cookie=0x[0-9a-f]+,/, '');
  const lb = d.added.filter((f) => f.table === 41).map(renderFlow).map(strip).sort();
  assert.equal(lb[0], 'table=41,priority=190,tcp,reg4=0x30000/0x70000,nw_dst=10.96.0.10,tp_dst=80 actions=learn(table=40,hard_timeout=300,priority=200,delete_learned,cookie=' + '0x' + c.cookieOf('service/default/sticky:http/TCP')!.toString(16) + ',eth_type=0x800,nw_proto=6,NXM_OF_TCP_DST[],NXM_OF_IP_DST[],NXM_OF_IP_SRC[],load:NXM_NX_REG7[]->NXM_NX_REG7[],load:NXM_NX_REG3[]->NXM_NX_REG3[],load:NXM_NX_REG4[0..15]->NXM_NX_REG4[0..15],load:0x2->NXM_NX_REG4[16..18],load:0x1->NXM_NX_REG0[19]),set_field:0x20000/0x70000->reg4,goto_table:42');
  assert.equal(lb[1], 'table=41,priority=200,tcp,reg4=0x10000/0x70000,nw_dst=10.96.0.10,tp_dst=80 actions=set_field:0x30000/0x70000->reg4,set_field:0x80000/0x80000->reg0,set_field:0x1->reg7,group:1');
  assert.match(renderGroup(d.addedGroups[0]!), /resubmit\(,41\)$/);
  // EndpointDNAT: the Service's own Endpoint flow (reg7 = its group) above its re-selection flow, above shared p200 flows.
  const dnat = d.added.filter((f) => f.table === 42).map(renderFlow).map(strip).sort();
  assert.deepEqual(dnat, [
    'table=42,priority=205,reg4=0x20000/0x70000,reg7=0x1 actions=set_field:0x10000/0x70000->reg4,resubmit(,41)',
    'table=42,priority=210,tcp,reg3=0xa0a0105,reg4=0x21f90/0x7ffff,reg7=0x1 actions=ct(commit,table=45,zone=65520,nat(dst=10.10.1.5:8080),exec(set_field:0x4/0x4->ct_mark))',
  ]);
});
