// IPFIX codec and collector throughput for Antrea-shaped records (37 IEs). Prints one JSON line last.
// Reference: a Go collector (go-ipfix) reaches about 260k records/s over loopback (engineering-anchors A4).
import { Worker } from 'node:worker_threads';
import { IpfixCollector, IpfixDecoder, IpfixEncoder, IpfixExporter, type IpfixRecord } from '../src/ipfix/index.js';
import { antreaRecordV4, antreaTemplateV4 } from '../src/ipfix/testdata.js';

type Unit = 'ops/s' | 'ms' | 'MB' | 'ratio';
const figures: Record<string, { value: number; unit: Unit }> = {};
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const N = 50_000;
const records: IpfixRecord[] = Array.from({ length: N }, (_, i) => antreaRecordV4(i));

function encodeAll(enc: IpfixEncoder): Buffer[] {
  for (let i = 0; i < N; i++) enc.writeRecord(antreaTemplateV4, records[i]!);
  return enc.flush().map((m) => m.bytes);
}

// Encode: records/s into MTU-sized messages.
{
  const enc = new IpfixEncoder({ maxMessageSize: 1400 });
  enc.addTemplate(antreaTemplateV4);
  encodeAll(enc); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    encodeAll(enc);
    rates.push(N / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  figures.encode_records_per_s = { value: Math.round(median(rates)), unit: 'ops/s' };
}

// Decode: records/s from the same messages.
{
  const enc = new IpfixEncoder({ maxMessageSize: 1400 });
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  const msgs = encodeAll(enc);
  figures.bytes_per_record = { value: Math.round((msgs.reduce((a, m) => a + m.length, 0) / N) * 10) / 10, unit: 'ratio' };
  const dec = new IpfixDecoder();
  let n = 0;
  for (const m of msgs) n += dec.decode(m).records.length; // warm-up, learns the template
  if (n !== N) throw new Error(`decoded ${n} of ${N}`);
  const rates: number[] = [];
  const data = msgs.slice(1);
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    let count = 0;
    for (const m of data) count += dec.decode(m).records.length;
    rates.push(count / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  figures.decode_records_per_s = { value: Math.round(median(rates)), unit: 'ops/s' };
}

// End to end in one thread: IpfixExporter -> loopback TCP -> IpfixCollector, both sharing this event loop.
async function endToEnd(total: number): Promise<number> {
  const collector = new IpfixCollector({ tcp: { host: '127.0.0.1', port: 0 } });
  let received = 0;
  collector.on('message', (m) => {
    received += m.records.length;
  });
  await collector.start();
  const exporter = new IpfixExporter({ port: collector.address().tcp!.port, protocol: 'tcp', maxBufferedBytes: 64 << 20 }).start();
  exporter.addTemplate(antreaTemplateV4);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < total; sent += 10_000) {
    for (let i = 0; i < 10_000 && sent + i < total; i++) exporter.export(antreaTemplateV4, records[(sent + i) % N]!);
    exporter.flush();
    await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 20_000;
  while (received < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await exporter.close(500);
  await collector.close();
  return received / secs;
}

// The sender runs in a worker thread with pre-encoded messages, so the figure is the collector's own throughput
// (as in go-ipfix's BenchmarkCollector, where the exporter runs on other cores). Over UDP the sender keeps at
// most `window` records unacknowledged (the collector publishes its count in shared memory) so the socket buffer
// never overflows and the figure is a loss-free rate.
const senderSource = `
const { workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const net = require('node:net');
const { protocol, port, msgs, counts, total, window, shared } = workerData;
const received = new Int32Array(shared);
const tick = () => new Promise((r) => setImmediate(r));
(async () => {
  let sent = 0;
  if (protocol === 'tcp') {
    const sock = net.createConnection({ port, host: '127.0.0.1' });
    await new Promise((r) => sock.once('connect', r));
    for (let i = 0; sent < total; i = (i + 1) % msgs.length) {
      if (i === 0 && sent > 0) i = 1; // the template message goes once
      if (!sock.write(msgs[i])) await new Promise((r) => sock.once('drain', r));
      sent += counts[i];
    }
    await new Promise((r) => sock.end(r));
  } else {
    const sock = dgram.createSocket('udp4');
    await new Promise((r) => sock.connect(port, '127.0.0.1', r));
    sock.send(msgs[0]);
    for (let i = 1; sent < total; i = i + 1 === msgs.length ? 1 : i + 1) {
      while (sent - Atomics.load(received, 0) > window) await tick();
      await new Promise((r) => sock.send(msgs[i], r));
      sent += counts[i];
    }
    sock.close();
  }
})();
`;

async function collectorRun(protocol: 'udp' | 'tcp', total: number): Promise<{ rate: number; lost: number }> {
  const collector = new IpfixCollector({ [protocol]: { host: '127.0.0.1', port: 0 } });
  const shared = new SharedArrayBuffer(4);
  const counter = new Int32Array(shared);
  let received = 0;
  let t0 = 0n;
  collector.on('message', (m) => {
    if (t0 === 0n) t0 = process.hrtime.bigint();
    received += m.records.length;
    Atomics.store(counter, 0, received);
  });
  await collector.start();
  const port = collector.address()[protocol]!.port;
  const enc = new IpfixEncoder({ maxMessageSize: 1400 });
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  const first = enc.flush();
  for (let i = 0; i < 2000; i++) enc.writeRecord(antreaTemplateV4, records[i]!);
  // Sequence numbers repeat as the sender cycles; the collector only counts gaps, which the figure ignores.
  const msgs = [...first, ...enc.flush()];
  const worker = new Worker(senderSource, {
    eval: true,
    workerData: { protocol, port, msgs: msgs.map((m) => m.bytes), counts: msgs.map((m) => m.records), total, window: 600, shared },
  });
  const deadline = Date.now() + 30_000;
  let last = -1;
  let lastChange = Date.now();
  while (received < total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2));
    if (received !== last) {
      last = received;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 500) break;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await worker.terminate();
  await collector.close();
  return { rate: received / secs, lost: Math.max(0, total - received) };
}

for (const protocol of ['tcp', 'udp'] as const) {
  await collectorRun(protocol, 20_000); // warm-up
  const rates: number[] = [];
  let lost = 0;
  for (let r = 0; r < 3; r++) {
    const res = await collectorRun(protocol, 300_000);
    rates.push(res.rate);
    lost += res.lost;
  }
  figures[`collector_${protocol}_records_per_s`] = { value: Math.round(median(rates)), unit: 'ops/s' };
  figures[`collector_${protocol}_lost_ratio`] = { value: Math.round((lost / 900_000) * 1e4) / 1e4, unit: 'ratio' };
}
{
  await endToEnd(20_000);
  const rates: number[] = [];
  for (let r = 0; r < 3; r++) rates.push(await endToEnd(200_000));
  figures.exporter_to_collector_tcp_one_thread_records_per_s = { value: Math.round(median(rates)), unit: 'ops/s' };
}

const heap = process.memoryUsage().heapUsed / (1 << 20);
figures.heap_used = { value: Math.round(heap), unit: 'MB' };
figures.vs_go_collector_260k = { value: Math.round((figures.collector_tcp_records_per_s!.value / 260_000) * 100) / 100, unit: 'ratio' };

for (const [k, v] of Object.entries(figures)) console.error(`${k.padEnd(32)} ${v.value} ${v.unit}`);
console.log(JSON.stringify({ bench: 'ipfix', figures }));
