import { test } from 'node:test';
import assert from 'node:assert/strict';
import { antctl } from './antctl.js';
import { capture } from './testing.js';
import { parseFlow, parseTimeout, traceflowName, traceflowResponse } from './traceflow.js';

test('FLOW in Antrea’s form becomes the packet headers', () => {
  assert.deepEqual(parseFlow(''), {});
  assert.deepEqual(parseFlow('icmp'), { ipHeader: { protocol: 1 } });
  assert.deepEqual(parseFlow('tcp,tcp_dst=80'), { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } });
  assert.deepEqual(parseFlow('udp, udp_src=1234, udp_dst=53'), { ipHeader: { protocol: 17 }, transportHeader: { udp: { srcPort: 1234, dstPort: 53 } } });
  assert.deepEqual(parseFlow('tcp,tcp_src=1000,tcp_dst=443,tcp_flags=18'), {
    ipHeader: { protocol: 6 },
    transportHeader: { tcp: { srcPort: 1000, dstPort: 443, flags: 18 } },
  });
  assert.deepEqual(parseFlow('tcp_dst=80'), { ipHeader: { protocol: 6 }, transportHeader: { tcp: { dstPort: 80 } } }, 'a port field implies its protocol');
});

test('FLOW mistakes are usage errors that say what is wrong', () => {
  const bad: [string, RegExp][] = [
    ['sctp', /unknown field "sctp"/],
    ['tcp,tcp_dst=http', /tcp_dst must be a number/],
    ['tcp,tcp_dst=70000', /out of range/],
    ['udp,tcp_dst=80', /do not go with udp/],
    ['tcp,udp', /one protocol/],
    ['tcp_dst', /needs a value/],
    ['tcp=6', /takes no value/],
    ['tcp,tcp_dst=1=2', /not a field or field=value/],
  ];
  for (const [flow, re] of bad) assert.throws(() => parseFlow(flow), (err: Error) => re.test(err.message), flow);
});

test('timeouts read as durations, from 1 s to 12 h', () => {
  assert.equal(parseTimeout('20'), 20);
  assert.equal(parseTimeout('20s'), 20);
  assert.equal(parseTimeout('1m30s'), 90);
  assert.equal(parseTimeout('12h'), 43200);
  assert.throws(() => parseTimeout('13h'), /12 hours/);
  assert.throws(() => parseTimeout('0s'), /at least 1s/);
  assert.throws(() => parseTimeout('soon'), /not a duration/);
});

test('names are DNS subdomains made from the ends', () => {
  assert.equal(traceflowName('default-client', '10.0.0.5', 'abcd1234'), 'default-client-to-10.0.0.5-abcd1234');
  assert.equal(traceflowName('NS-Pod_x', 'any', 'ff'), 'ns-pod-x-to-any-ff');
});

test('the response is antctl’s: name, phase, source, destination, results (and the reason of a failure)', () => {
  const r = traceflowResponse({
    metadata: { name: 'tf' },
    spec: { source: { namespace: 'a', pod: 'p' }, destination: { namespace: 'b', service: 's' } },
    status: { phase: 'Failed', reason: 'Traceflow timeout', results: [] },
  });
  assert.deepEqual(r, { name: 'tf', phase: 'Failed', reason: 'Traceflow timeout', source: 'a/p', destination: 'b/s' });
});

test('usage errors exit 2 before any cluster is asked', async () => {
  const noSource = await capture(antctl, ['traceflow', '-D', 'default/p']);
  assert.equal(noSource.code, 2);
  assert.match(noSource.stderr, /provide a source/);
  const droppedOnly = await capture(antctl, ['traceflow', '-S', 'p', '-D', 'q', '--dropped-only']);
  assert.equal(droppedOnly.code, 2);
  assert.match(droppedOnly.stderr, /only with live-traffic/);
  const badFlow = await capture(antctl, ['traceflow', '-S', 'p', '-D', 'q', '-f', 'tcp,tcp_dst=x']);
  assert.equal(badFlow.code, 2);
  const ipSource = await capture(antctl, ['traceflow', '-S', '10.0.0.1', '-D', 'q']);
  assert.match(ipSource.stderr, /source must be a Pod/);
  const noCluster = await capture(antctl, ['traceflow', '-S', 'p', '-D', 'q'], { env: { HOME: '/nonexistent' } });
  assert.equal(noCluster.code, 2);
  assert.match(noCluster.stderr, /no cluster to ask/);
});

test('--help prints the usage and exits 0', async () => {
  const out = await capture(antctl, ['traceflow', '--help']);
  assert.equal(out.code, 0);
  assert.match(out.stdout, /usage: antctl traceflow -S NS\/POD/);
});
