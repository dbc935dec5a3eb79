import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpfixExporter, defineTemplate, antreaTemplateFields } from '../ipfix/index.js';
import { antctl } from './antctl.js';
import { flowsCommand, parseListen, pointManifestAtCollector } from './flows.js';
import type { CliIO } from './io.js';
import { capture } from './testing.js';

/** Runs `antctl flows collect ...` in the background with live streams; resolves the port once it listens. */
function startCollect(args: string[], signal?: AbortSignal) {
  let stdout = '';
  let stderr = '';
  let onListen: (port: number) => void = () => undefined;
  const listening = new Promise<number>((r) => (onListen = r));
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => {
      stderr += t;
      const m = /listening for IPFIX on (?:tcp|udp) [^ ]+:(\d+)/.exec(stderr);
      if (m) onListen(Number(m[1]));
    },
    env: {},
    cwd: process.cwd(),
    isTTY: false,
    ...(signal ? { stopSignal: signal } : {}),
  };
  const done = antctl(['flows', 'collect', ...args], io);
  return { listening, done, out: () => stdout, err: () => stderr };
}

const template = defineTemplate(256, antreaTemplateFields(4));

function record(i: number) {
  return {
    flowStartSeconds: 1700000000, flowEndSeconds: 1700000005, flowEndReason: 3, sourceTransportPort: 40000 + i,
    destinationTransportPort: 80, protocolIdentifier: 6, packetTotalCount: 7, octetTotalCount: 700, packetDeltaCount: 7,
    octetDeltaCount: 700, sourceIPv4Address: '10.10.0.2', destinationIPv4Address: '10.10.1.2', reversePacketTotalCount: 5,
    reverseOctetTotalCount: 500, reversePacketDeltaCount: 5, reverseOctetDeltaCount: 500, sourcePodName: 'client',
    sourcePodNamespace: 'default', sourceNodeName: 'node-1', destinationPodName: 'server', destinationPodNamespace: 'default',
    destinationNodeName: 'node-2', destinationServicePort: 0, destinationServicePortName: '', ingressNetworkPolicyName: '',
    ingressNetworkPolicyNamespace: '', ingressNetworkPolicyType: 0, ingressNetworkPolicyRuleName: '', ingressNetworkPolicyRuleAction: 0,
    egressNetworkPolicyName: '', egressNetworkPolicyNamespace: '', egressNetworkPolicyType: 0, egressNetworkPolicyRuleName: '',
    egressNetworkPolicyRuleAction: 0, tcpState: 'TIME_WAIT', flowType: 2, destinationClusterIPv4: '0.0.0.0',
  };
}

for (const proto of ['tcp', 'udp'] as const) {
  test(`flows collect over ${proto} prints one JSON object per record, keyed by IE name, and stops after --count`, async () => {
    const run = startCollect(['--listen', `127.0.0.1:0:${proto}`, '--count', '2']);
    const port = await run.listening;
    const exp = new IpfixExporter({ port, protocol: proto }).start();
    exp.addTemplate(template);
    exp.export(template, record(1));
    exp.export(template, record(2));
    exp.flush();
    assert.equal(await run.done, 0, run.err());
    await exp.close();
    const lines = run.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.sourcePodName, 'client');
    assert.equal(lines[0]!.octetDeltaCount, 700);
    assert.equal(lines[0]!.flowEndReason, 3);
    assert.equal(lines[1]!.sourceTransportPort, 40002);
    assert.equal(lines[0]!.flowStartSeconds, '2023-11-14T22:13:20Z');
    assert.deepEqual(Object.keys(lines[0]!), antreaTemplateFields(4));
  });
}

test('flows collect stops cleanly on the stop signal (Ctrl-C) with exit 0', async () => {
  const ac = new AbortController();
  const run = startCollect(['--listen', '127.0.0.1:0'], ac.signal);
  await run.listening;
  assert.match(run.err(), /tcp 127\.0\.0\.1:\d+, udp 127\.0\.0\.1:\d+/);
  ac.abort();
  assert.equal(await run.done, 0);
  assert.equal(run.out(), '');
});

test('flows usage errors exit 2 with one line on stderr', async () => {
  for (const argv of [
    ['flows'],
    ['flows', 'collect'],
    ['flows', 'collect', '--listen', 'nohost'],
    ['flows', 'collect', '--listen', '127.0.0.1:4739:tls'],
    ['flows', 'collect', '--listen', '127.0.0.1:4739', '--count', '0'],
    ['flows', 'collect', '--listen', '127.0.0.1:99999'],
  ]) {
    const r = await capture(antctl, argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /);
  }
});

test('a port already in use fails with exit 1', async () => {
  const first = startCollect(['--listen', '127.0.0.1:0:tcp', '--count', '1']);
  const port = await first.listening;
  const r = await capture(antctl, ['flows', 'collect', '--listen', `127.0.0.1:${port}:tcp`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /EADDRINUSE/);
  const exp = new IpfixExporter({ port, protocol: 'tcp' }).start();
  exp.addTemplate(template);
  exp.export(template, record(1));
  assert.equal(await first.done, 0);
  await exp.close();
});

test('parseListen reads HOST:PORT[:proto] with bracketed IPv6', () => {
  assert.deepEqual(parseListen('127.0.0.1:4739'), { host: '127.0.0.1', port: 4739, proto: undefined });
  assert.deepEqual(parseListen('[::1]:4739:udp'), { host: '::1', port: 4739, proto: 'udp' });
  assert.deepEqual(parseListen('localhost:0:tcp'), { host: 'localhost', port: 0, proto: 'tcp' });
  assert.throws(() => parseListen('::1:4739'), /not HOST:PORT/);
  assert.throws(() => parseListen('[nope]:1'), /not an IPv6 address/);
});

test('flows --help prints the usage', async () => {
  const io = { stdout: (t: string) => void (out += t), stderr: () => undefined, env: {}, cwd: '.', isTTY: false };
  let out = '';
  assert.equal(await flowsCommand(io, ['--help']), 0);
  assert.match(out, /antctl flows collect --listen/);
});

test('pointManifestAtCollector sets the agent conf line, commented out or set, and refuses a manifest without one', () => {
  const conf = (line: string) => `data:\n  antrea-agent.conf: |\n    featureGates:\n    ${line}\n    #flowPollInterval: "5s"\n`;
  assert.equal(pointManifestAtCollector(conf('#flowCollectorAddr: "flow-aggregator.flow-aggregator.svc:4739:tls"'), '127.0.0.1:1234:tcp'), conf('flowCollectorAddr: "127.0.0.1:1234:tcp"'));
  assert.equal(pointManifestAtCollector(conf('flowCollectorAddr: "x:1:udp"'), '127.0.0.1:1234:tcp'), conf('flowCollectorAddr: "127.0.0.1:1234:tcp"'));
  assert.throws(() => pointManifestAtCollector('data: {}\n', '127.0.0.1:1:tcp'), /no flowCollectorAddr line/);
});
