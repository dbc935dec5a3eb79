import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceflowProtocol, traceflowRequestProblems, traceflowTimeoutSeconds, validateTraceflow, type Traceflow, type TraceflowSpec } from './traceflow.js';

const tf = (spec: unknown, name = 'tf'): Traceflow => ({ apiVersion: 'crd.antrea.io/v1alpha1', kind: 'Traceflow', metadata: { name }, spec: spec as TraceflowSpec });
const fields = (spec: unknown) => validateTraceflow(tf(spec)).map((e) => e.field);

test('a well-formed request passes the schema', () => {
  assert.deepEqual(
    validateTraceflow(tf({ source: { namespace: 'a', pod: 'p' }, destination: { ip: '10.0.0.1' }, packet: { ipHeader: { protocol: 6, ttl: 5 }, transportHeader: { tcp: { dstPort: 80, flags: 2 } } }, timeout: 30 })),
    [],
  );
});

test('the schema rejects wrong types, ranges, protocols and addresses, naming each field', () => {
  assert.deepEqual(fields({ timeout: 70000 }), ['spec.timeout']);
  assert.deepEqual(fields({ timeout: -1 }), ['spec.timeout']);
  assert.deepEqual(fields({ liveTraffic: 'yes' }), ['spec.liveTraffic']);
  assert.deepEqual(fields({ destination: { ip: '10.0.0.300' } }), ['spec.destination.ip']);
  assert.deepEqual(fields({ packet: { ipHeader: { protocol: 132 } } }), ['spec.packet.ipHeader.protocol']);
  assert.deepEqual(fields({ packet: { transportHeader: { tcp: { dstPort: 65536 } } } }), ['spec.packet.transportHeader.tcp.dstPort']);
  assert.deepEqual(fields({ packet: { transportHeader: { tcp: {}, udp: {} } } }), ['spec.packet.transportHeader']);
  assert.deepEqual(fields({ packet: { ipHeader: { protocol: 17 }, transportHeader: { tcp: { dstPort: 1 } } } }), ['spec.packet.transportHeader.tcp']);
  assert.deepEqual(validateTraceflow({ ...tf({}), metadata: { name: 'Bad_Name' } }).map((e) => e.field), ['metadata.name']);
});

test('the request’s meaning is checked as Antrea’s controller does', () => {
  const p = (spec: TraceflowSpec) => traceflowRequestProblems('tf', spec);
  const src = { namespace: 'a', pod: 'p' };
  assert.deepEqual(p({ source: src, destination: { namespace: 'b', pod: 'q' } }), []);
  assert.deepEqual(p({ destination: { namespace: 'b', pod: 'q' } }), ['source Pod must be specified in non-live-traffic Traceflow']);
  assert.ok(p({ liveTraffic: true }).includes('Traceflow tf has neither source nor destination Pod specified'));
  assert.deepEqual(p({ liveTraffic: true, destination: { namespace: 'b', pod: 'q' } }), []);
  assert.match(p({ source: src, destination: { namespace: 'b', pod: 'q', ip: '10.0.0.1' } }).join(), /mutually exclusive/);
  assert.match(p({ source: src }).join(), /destination must be specified/);
  assert.match(p({ source: src, destination: { ip: '10.0.0.1' }, droppedOnly: true }).join(), /droppedOnly works only with live-traffic/);
  assert.match(p({ source: { ip: '10.0.0.2' }, destination: { namespace: 'b', pod: 'q' } }).join(), /source IP is only allowed in live-traffic/);
  assert.match(p({ source: src, destination: { service: 's' } }).join(), /destination Namespace must be specified/);
});

test('defaults: 20 s timeout, ICMP unless a header says otherwise', () => {
  assert.equal(traceflowTimeoutSeconds({}), 20);
  assert.equal(traceflowTimeoutSeconds({ timeout: 0 }), 20);
  assert.equal(traceflowTimeoutSeconds({ timeout: 3 }), 3);
  assert.equal(traceflowProtocol({}), 1);
  assert.equal(traceflowProtocol({ packet: { transportHeader: { udp: { dstPort: 53 } } } }), 17);
  assert.equal(traceflowProtocol({ packet: { ipHeader: { protocol: 6 } } }), 6);
});
