import { assumeAllImplementedForTests } from '../features/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration } from './duration.js';
import { parseFlowCollectorAddr, resolveFlowIntervals } from './flowexport.js';
import { parseCidr } from './net.js';
import { parsePortRange } from './portrange.js';

// These tests cover Antrea's rules for every feature, including those antrea-ts does not provide yet.
assumeAllImplementedForTests();

const ns = (text: string) => {
  const r = parseDuration(text);
  assert.ok('ns' in r, `${text}: ${'error' in r ? r.error : ''}`);
  return r.ns;
};

test('durations parse like Go time.ParseDuration', () => {
  assert.equal(ns('5s'), 5e9);
  assert.equal(ns('1m30s'), 90e9);
  assert.equal(ns('1.5h'), 5400e9);
  assert.equal(ns('300ms'), 3e8);
  assert.equal(ns('10us'), 1e4);
  assert.equal(ns('10µs'), 1e4);
  assert.equal(ns('2h45m'), (2 * 60 + 45) * 60e9);
  assert.equal(ns('.5s'), 5e8);
  assert.equal(ns('0'), 0);
  assert.equal(ns('-1s'), -1e9);
  assert.match((parseDuration('5') as { error: string }).error, /missing unit/);
  assert.match((parseDuration('5d') as { error: string }).error, /unknown unit "d"/);
  assert.match((parseDuration('') as { error: string }).error, /invalid duration/);
  assert.match((parseDuration('s') as { error: string }).error, /invalid duration/);
  assert.match((parseDuration('1s ') as { error: string }).error, /invalid duration/);
});

test('formatDuration output parses back to the same duration', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 * 24 * 3600 * 1000 }), (ms) => {
      const r = parseDuration(formatDuration(ms * 1e6));
      return 'ns' in r && Math.abs(r.ns - ms * 1e6) < 1;
    }),
  );
});

test('flow collector addresses: <HOST>:[<PORT>][:<PROTO>], bracketed IPv6', () => {
  assert.deepEqual(parseFlowCollectorAddr('flow-aggregator.flow-aggregator.svc:4739:tls'), {
    host: 'flow-aggregator.flow-aggregator.svc',
    port: 4739,
    proto: 'tls',
    address: 'flow-aggregator.flow-aggregator.svc:4739',
  });
  assert.deepEqual(parseFlowCollectorAddr('10.0.0.1'), { host: '10.0.0.1', port: 4739, proto: 'tls', address: '10.0.0.1:4739' });
  assert.deepEqual(parseFlowCollectorAddr('10.0.0.1:2055'), { host: '10.0.0.1', port: 2055, proto: 'tls', address: '10.0.0.1:2055' });
  assert.deepEqual(parseFlowCollectorAddr('10.0.0.1::udp'), { host: '10.0.0.1', port: 4739, proto: 'udp', address: '10.0.0.1:4739' });
  assert.deepEqual(parseFlowCollectorAddr('[fd00::1]:4739:tcp'), { host: 'fd00::1', port: 4739, proto: 'tcp', address: '[fd00::1]:4739' });
  assert.match((parseFlowCollectorAddr('[fd00::1]:') as { error: string }).error, /port ""/);
  assert.deepEqual(parseFlowCollectorAddr('a:1:sctp'), { error: 'connection over sctp transport proto is not supported' });
  assert.match((parseFlowCollectorAddr('fd00::1') as { error: string }).error, /invalid format \(an IPv6 host must be in brackets/);
  assert.match((parseFlowCollectorAddr('fd00:1::1:4739') as { error: string }).error, /invalid format/);
  assert.match((parseFlowCollectorAddr('host:http') as { error: string }).error, /port "http"/);
  assert.match((parseFlowCollectorAddr(':4739') as { error: string }).error, /empty host/);
});

test('flow intervals: poll >= 1s, timeouts raised to the poll interval, stale timeout', () => {
  const ok = resolveFlowIntervals('5s', '30s', '15s');
  assert.deepEqual(ok.issues, []);
  assert.equal(ok.intervals?.staleConnectionTimeoutNs, 300e9);
  const raised = resolveFlowIntervals('10s', '2s', '15s');
  assert.equal(raised.intervals?.activeFlowTimeoutNs, 10e9);
  assert.equal(raised.issues[0]?.severity, 'warning');
  assert.equal(raised.issues[0]?.key, 'activeFlowExportTimeout');
  const long = resolveFlowIntervals('5s', '10m', '15s');
  assert.equal(long.intervals?.staleConnectionTimeoutNs, 1200e9);
  const bad = resolveFlowIntervals('500ms', 'soon', '15s');
  assert.deepEqual(
    bad.issues.map((i) => [i.key, i.severity]),
    [
      ['flowPollInterval', 'error'],
      ['activeFlowExportTimeout', 'error'],
    ],
  );
  assert.equal(bad.intervals, undefined);
});

test('port ranges: <start>-<end>, start below end', () => {
  assert.deepEqual(parsePortRange('61000-62000'), { start: 61000, end: 62000 });
  assert.deepEqual(parsePortRange('61000'), { error: 'wrong port range format: 61000' });
  assert.deepEqual(parsePortRange('62000-61000'), { error: 'start port must be smaller than end port: 62000-61000' });
  assert.deepEqual(parsePortRange('5-5'), { error: 'start port must be smaller than end port: 5-5' });
  assert.match((parsePortRange('a-10') as { error: string }).error, /invalid syntax/);
  assert.match((parsePortRange('1-70000') as { error: string }).error, /between 1 and 65535/);
});

test('CIDRs of both families, host bits allowed, zones and bad prefixes refused', () => {
  assert.deepEqual(parseCidr('10.96.0.0/12'), { ip: '10.96.0.0', prefix: 12, family: 'ipv4' });
  assert.deepEqual(parseCidr('10.96.0.1/12')?.family, 'ipv4');
  assert.deepEqual(parseCidr('fd00::/64'), { ip: 'fd00::', prefix: 64, family: 'ipv6' });
  for (const bad of ['10.96.0.0', '10.96.0.0/33', 'fd00::/129', 'x/8', '10.0.0.0/', 'fe80::1%eth0/64', '10.0.0.0/-1']) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
});
