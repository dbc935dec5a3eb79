// IPFIX codec and collector throughput for Antrea-shaped records (37 IEs). Prints one JSON line last.
// Reference: a Go collector (go-ipfix) reaches about 260k records/s over loopback (engineering-anchors A4).
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

// Collector over loopback: exporter -> collector, records/s received (UDP and TCP), and UDP loss.
async function collectorRun(protocol: 'udp' | 'tcp', total: number): Promise<{ rate: number; lost: number }> {
  const collector = new IpfixCollector({ [protocol]: { host: '127.0.0.1', port: 0 } });
  let received = 0;
  collector.on('message', (m) => {
    received += m.records.length;
  });
  await collector.start();
  const port = collector.address()[protocol]!.port;
  const exporter = new IpfixExporter({ port, protocol, maxMessageSize: 1400, maxBufferedBytes: 64 << 20 }).start();
  exporter.addTemplate(antreaTemplateV4);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = process.hrtime.bigint();
  // Paced in batches so UDP does not overrun the socket buffer faster than any real agent would.
  const batch = protocol === 'udp' ? 2000 : 10000;
  for (let sent = 0; sent < total; sent += batch) {
    for (let i = 0; i < batch && sent + i < total; i++) exporter.export(antreaTemplateV4, records[(sent + i) % N]!);
    exporter.flush();
    await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 10_000;
  let last = -1;
  let lastChange = Date.now();
  while (received < total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2));
    if (received !== last) {
      last = received;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 300) break; // UDP loss: nothing more will come
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await exporter.close(500);
  await collector.close();
  return { rate: received / secs, lost: total - received };
}

for (const protocol of ['tcp', 'udp'] as const) {
  await collectorRun(protocol, 20_000); // warm-up
  const rates: number[] = [];
  let lost = 0;
  for (let r = 0; r < 3; r++) {
    const res = await collectorRun(protocol, 200_000);
    rates.push(res.rate);
    lost += res.lost;
  }
  figures[`collector_${protocol}_records_per_s`] = { value: Math.round(median(rates)), unit: 'ops/s' };
  if (protocol === 'udp') figures.collector_udp_loss_ratio = { value: Math.round((lost / 600_000) * 1e4) / 1e4, unit: 'ratio' };
}

const heap = process.memoryUsage().heapUsed / (1 << 20);
figures.heap_used = { value: Math.round(heap), unit: 'MB' };
figures.vs_go_collector_260k = { value: Math.round((figures.collector_tcp_records_per_s!.value / 260_000) * 100) / 100, unit: 'ratio' };

for (const [k, v] of Object.entries(figures)) console.error(`${k.padEnd(32)} ${v.value} ${v.unit}`);
console.log(JSON.stringify({ bench: 'ipfix', figures }));
