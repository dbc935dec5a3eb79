import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
import { IpfixCollector } from './collector.js';
import { type DataRecord } from './decoder.js';
import { IpfixExporter, type ExporterOptions } from './exporter.js';
import { isIpfixError } from './errors.js';
import { antreaRecordV4, antreaTemplateV4 } from './testdata.js';

async function startCollector(t: TestContext, proto: 'udp' | 'tcp', port = 0): Promise<{ c: IpfixCollector; port: number; records: DataRecord[] }> {
  const c = new IpfixCollector({ [proto]: { host: '127.0.0.1', port } });
  const records: DataRecord[] = [];
  c.on('record', (r) => records.push(r));
  await c.start();
  t.after(() => c.close());
  return { c, port: c.address()[proto]!.port, records };
}

function exporter(t: TestContext, opts: ExporterOptions): IpfixExporter {
  const e = new IpfixExporter(opts);
  t.after(() => e.close(200));
  return e.start();
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

for (const proto of ['udp', 'tcp'] as const) {
  test(`${proto}: records exported arrive at the collector unchanged, keyed by IE name`, async (t) => {
    const { c, port, records } = await startCollector(t, proto);
    const e = exporter(t, { port, protocol: proto, observationDomainId: 42 });
    e.addTemplate(antreaTemplateV4);
    for (let i = 0; i < 300; i++) e.export(256, antreaRecordV4(i));
    await until(() => records.length === 300);
    assert.deepEqual(records.map((r) => r.fields), Array.from({ length: 300 }, (_, i) => antreaRecordV4(i)));
    const s = c.stats();
    assert.equal(s.records, 300);
    assert.equal(s.lostRecords, 0);
    assert.equal(s.decodeErrors, 0);
    assert.equal(e.stats().recordsSent, 300);
    assert.ok(e.stats().templatesSent >= 1);
  });
}

test('tcp: the exporter buffers while the collector is down, reconnects with backoff and resends templates', async (t) => {
  const port = await freePort();
  const e = exporter(t, { port, protocol: 'tcp', reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
  e.addTemplate(antreaTemplateV4);
  for (let i = 0; i < 20; i++) e.export(256, antreaRecordV4(i));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(e.stats().connected, false);
  assert.ok(e.stats().reconnects >= 1);
  const { records } = await startCollector(t, 'tcp', port);
  await until(() => records.length === 20);
  assert.deepEqual(records.map((r) => r.fields.sourceTransportPort), Array.from({ length: 20 }, (_, i) => 30000 + i));
  assert.equal(e.stats().recordsDropped, 0);
});

test('tcp: a full send buffer drops the oldest records and counts them, without blocking export()', async (t) => {
  const port = await freePort();
  const e = exporter(t, { port, protocol: 'tcp', maxBufferedBytes: 8000, reconnect: { initialDelayMs: 1000 } });
  e.addTemplate(antreaTemplateV4);
  const started = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) e.export(256, antreaRecordV4(i));
  e.flush();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 1000, `export took ${ms} ms`);
  const s = e.stats();
  assert.ok(s.recordsDropped > 1900, `dropped ${s.recordsDropped}`);
  assert.ok(s.bufferedBytes <= 8000);
  // What is kept is the newest data: once a collector appears, the last record arrives.
  const { records } = await startCollector(t, 'tcp', port);
  await until(() => records.length === 2000 - s.recordsDropped, 5000);
  assert.equal(records.at(-1)!.fields.sourceTransportPort, 30000 + 1999);
});

test('udp: templates are refreshed periodically, so a restarted collector decodes again', async (t) => {
  const first = await startCollector(t, 'udp');
  const e = exporter(t, { port: first.port, protocol: 'udp', templateRefreshIntervalMs: 50 });
  e.addTemplate(antreaTemplateV4);
  e.export(256, antreaRecordV4(0));
  await until(() => first.records.length === 1);
  await first.c.close();
  const second = await startCollector(t, 'udp', first.port);
  // Until the next refresh the new collector does not know template 256: data sets are skipped, not errors.
  const deadline = Date.now() + 3000;
  while (second.records.length === 0 && Date.now() < deadline) {
    e.export(256, antreaRecordV4(1));
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(second.records.length > 0);
  assert.equal(second.c.stats().decodeErrors, 0);
});

test('udp: garbage datagrams are counted as decode errors and the collector keeps working', async (t) => {
  const { c, port, records } = await startCollector(t, 'udp');
  const errors: string[] = [];
  c.on('decodeError', (err) => errors.push(err.code));
  const sock = createSocket('udp4');
  t.after(() => sock.close());
  await new Promise<void>((r) => sock.send(Buffer.from([0, 10, 0, 99, 1, 2, 3]), port, '127.0.0.1', () => r()));
  await new Promise<void>((r) => sock.send(Buffer.from([0, 9, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), port, '127.0.0.1', () => r()));
  await until(() => errors.length === 2);
  assert.deepEqual(errors.sort(), ['ERR_IPFIX_BAD_VERSION', 'ERR_IPFIX_TRUNCATED']);
  const e = exporter(t, { port, protocol: 'udp' });
  e.addTemplate(antreaTemplateV4);
  e.export(256, antreaRecordV4(0));
  await until(() => records.length === 1);
  assert.equal(c.stats().decodeErrorsByCode.ERR_IPFIX_TRUNCATED, 1);
});

test('tcp: a stream that loses its framing is closed and counted', async (t) => {
  const { c, port } = await startCollector(t, 'tcp');
  const sock = createConnection({ port, host: '127.0.0.1' });
  t.after(() => sock.destroy());
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(Buffer.from([0, 5, 0, 16, 1, 1, 1, 1]));
  await new Promise<void>((r) => sock.once('close', () => r()));
  assert.equal(c.stats().decodeErrorsByCode.ERR_IPFIX_BAD_VERSION, 1);
});

test('udp: with no collector listening, sends fail quietly and the errors are counted', async (t) => {
  const port = await freePort();
  const e = exporter(t, { port, protocol: 'udp' });
  e.addTemplate(antreaTemplateV4);
  for (let round = 0; round < 50 && e.stats().sendErrors === 0; round++) {
    e.export(256, antreaRecordV4(round));
    e.flush();
    await new Promise((r) => setTimeout(r, 10));
  }
  // ICMP port-unreachable surfaces as an error on a later send or on the socket; UDP cannot say which records
  // were lost (the collector's sequence numbers can), so only the errors are asserted.
  assert.ok(e.stats().sendErrors > 0);
});

test('a closed exporter refuses records with ERR_IPFIX_CLOSED; bad options are typed errors', async () => {
  const e = new IpfixExporter({ port: 4739, protocol: 'udp' });
  await e.close();
  assert.throws(() => e.export(256, {}), (err) => isIpfixError(err, 'ERR_IPFIX_CLOSED'));
  assert.throws(() => new IpfixExporter({ port: 0, protocol: 'udp' }), (err) => isIpfixError(err, 'ERR_IPFIX_BAD_OPTION'));
  assert.throws(() => new IpfixExporter({ port: 1, protocol: 'tls' as 'tcp' }), (err) => isIpfixError(err, 'ERR_IPFIX_BAD_OPTION'));
  assert.throws(() => new IpfixCollector({}), (err) => isIpfixError(err, 'ERR_IPFIX_BAD_OPTION'));
});
