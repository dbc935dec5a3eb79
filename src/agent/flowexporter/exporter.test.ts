import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { IpfixCollector, antreaTemplateFields, type DataRecord } from '../../ipfix/index.js';
import { silentLogger } from '../../util/log.js';
import { isAntreaError } from '../../util/errors.js';
import type { ConntrackEntry } from '../../datapath/traffic.js';
import type { AgentContext } from '../context.js';
import { FlowExporter, observationDomainId } from './exporter.js';
import { flowExporter } from './index.js';
import { FlowEndReason, noEnrichment } from './types.js';
import { ctEntry, manyEntries } from './testing.js';

const T0 = 1_700_000_000_000;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  return typeof addr === 'object' && addr ? addr.port : 0;
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const proto of ['tcp', 'udp'] as const) {
  test(`records reach a collector over ${proto} in Antrea's template with the conntrack counters`, async (t) => {
    const collector = new IpfixCollector({ [proto]: { port: 0 } });
    await collector.start();
    t.after(() => collector.close());
    const port = (proto === 'tcp' ? collector.address().tcp : collector.address().udp)!.port;
    const records: { r: DataRecord; domain: number }[] = [];
    collector.on('record', (r, meta) => records.push({ r, domain: meta.observationDomainId }));
    let now = T0;
    let entries: ConntrackEntry[] = [ctEntry({ src: '10.10.0.2', dst: '10.10.1.2', sport: 40000, dport: 80, packets: 5, bytes: 400, revPackets: 4, revBytes: 3000, start: T0 - 2000 })];
    const exp = new FlowExporter({
      nodeName: 'node-1',
      collector: { host: '127.0.0.1', port, proto },
      pollIntervalMs: 1000,
      activeTimeoutMs: 2000,
      idleTimeoutMs: 2000,
      conntrack: async () => entries,
      enricher: noEnrichment,
      logger: silentLogger,
      now: () => now,
    });
    t.after(() => exp.stop());
    // Drive the polls by hand.
    exp.start({ poll: false });
    await exp.pollOnce();
    now += 2000;
    entries = [ctEntry({ src: '10.10.0.2', dst: '10.10.1.2', sport: 40000, dport: 80, state: 'TIME_WAIT', packets: 9, bytes: 700, revPackets: 7, revBytes: 5000, start: T0 - 2000, lastSeen: T0 + 1500 })];
    await exp.pollOnce();
    await waitFor(() => records.length >= 1);
    const [{ r, domain }] = records as [{ r: DataRecord; domain: number }];
    assert.equal(domain, observationDomainId('node-1'));
    assert.equal(r.templateId, 256);
    assert.deepEqual(Object.keys(r.fields), antreaTemplateFields(4));
    assert.equal(r.fields.flowEndReason, FlowEndReason.EndOfFlow);
    assert.equal(r.fields.packetTotalCount, 9n);
    assert.equal(r.fields.packetDeltaCount, 9n);
    assert.equal(r.fields.octetTotalCount, 700n);
    assert.equal(r.fields.reverseOctetDeltaCount, 5000n);
    assert.equal(r.fields.flowStartSeconds, (T0 - 2000) / 1000);
    assert.equal(r.fields.flowEndSeconds, Math.floor((T0 + 1500) / 1000));
    assert.equal(r.fields.tcpState, 'TIME_WAIT');
    assert.equal(r.fields.sourceIPv4Address, '10.10.0.2');
    assert.equal(r.fields.destinationClusterIPv4, '0.0.0.0');
    assert.equal(exp.stats().records.endOfFlow, 1);
  });
}

test('observation domain id is the FNV-1 32-bit hash of the Node name (as Antrea)', () => {
  // FNV-1 of "" is the offset basis; of "a" is 0x050c5d7e.
  assert.equal(observationDomainId(''), 0x811c9dc5);
  assert.equal(observationDomainId('a'), 0x050c5d7e);
});

test('with the collector down, exporting never blocks and memory stays bounded: the oldest records are dropped and counted', async (t) => {
  const port = await freePort();
  let now = T0;
  let entries = manyEntries(5000);
  const exp = new FlowExporter({
    nodeName: 'node-1',
    collector: { host: '127.0.0.1', port, proto: 'tcp' },
    pollIntervalMs: 1000,
    activeTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    conntrack: async () => entries,
    enricher: noEnrichment,
    logger: silentLogger,
    now: () => now,
    maxBufferedBytes: 64 * 1024,
  });
  t.after(() => exp.stop());
  exp.start({ poll: false });
  await exp.pollOnce();
  now += 1000;
  entries = [];
  const t0 = performance.now();
  await exp.pollOnce();
  const ms = performance.now() - t0;
  const s = exp.stats();
  assert.equal(s.records.endOfFlow, 5000);
  assert.ok(s.ipfix.recordsDropped > 0, 'drops are counted');
  assert.ok(s.ipfix.bufferedBytes <= 64 * 1024, `buffer ${s.ipfix.bufferedBytes} within its bound`);
  assert.equal(s.ipfix.connected, false);
  assert.equal(s.connections, 0);
  assert.ok(ms < 1000, `an export cycle with the collector down took ${ms} ms`);
});

test('the module refuses a tls collector at start with an error naming flowCollectorAddr', () => {
  const ctx = {
    config: { flowCollectorAddr: 'flow-aggregator.flow-aggregator.svc:4739:tls', flowPollInterval: '5s' },
    derived: {
      flowExporter: {
        collector: { host: 'flow-aggregator.flow-aggregator.svc', port: 4739, proto: 'tls', address: 'flow-aggregator.flow-aggregator.svc:4739' },
        pollIntervalNs: 5e9,
        activeFlowTimeoutNs: 30e9,
        idleFlowTimeoutNs: 15e9,
        staleConnectionTimeoutNs: 300e9,
      },
    },
  } as unknown as AgentContext;
  assert.throws(
    () => flowExporter.start(ctx),
    (err: unknown) => isAntreaError(err, 'ERR_FLOW_EXPORTER_TLS') && /flowCollectorAddr "flow-aggregator\.flow-aggregator\.svc:4739:tls".*tls/.test(err.message),
  );
  const invalid = { config: { flowCollectorAddr: 'x:y:z', flowPollInterval: '5s' }, derived: {} } as unknown as AgentContext;
  assert.throws(() => flowExporter.start(invalid), (err: unknown) => isAntreaError(err, 'ERR_FLOW_EXPORTER_CONFIG'));
});
