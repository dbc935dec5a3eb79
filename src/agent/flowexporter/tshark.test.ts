// External check of a real export: the datagrams a FlowExporter sends over UDP, captured as they arrive, decoded by
// Wireshark's IPFIX dissector (tshark). Every IANA field must read as what the connection held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipfixPcap } from '../../ipfix/index.js';
import { silentLogger } from '../../util/log.js';
import type { Pod } from '../../apis/core.js';
import { ClusterIndex } from './enrich.js';
import { FlowExporter, observationDomainId } from './exporter.js';
import { ctEntry } from './testing.js';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = hasTshark ? false : 'tshark is not on PATH (apt-get install tshark)';

type Json = string | Json[] | { [k: string]: Json };

const months: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** tshark's absolute time ("Nov 14, 2023 22:13:20.000000000 UTC") in whole seconds since the epoch. */
function tsharkSeconds(s: string): number {
  const m = /^(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)\.\d+ UTC$/.exec(s);
  assert.ok(m, `unexpected tshark time format: ${s}`);
  return Date.UTC(Number(m[3]), months[m[1]!]!, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
}

function dataFlows(cflow: Record<string, Json>): Record<string, Json>[] {
  const out: Record<string, Json>[] = [];
  for (const [k, v] of Object.entries(cflow)) {
    if (!k.startsWith('Set ') || typeof v !== 'object' || Array.isArray(v)) continue;
    for (const [fk, fv] of Object.entries(v)) if (fk.startsWith('Flow ')) out.push(fv as Record<string, Json>);
  }
  return out;
}

test('tshark decodes the records a FlowExporter sends with every IANA field equal to the connection', { skip }, async (t) => {
  const sock = createSocket('udp4');
  const datagrams: Buffer[] = [];
  sock.on('message', (m) => datagrams.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  const index = new ClusterIndex();
  const pod = (name: string, node: string, ip: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'shop', name }, spec: { nodeName: node, containers: [] }, status: { podIP: ip } }) as unknown as Pod;
  index.upsertPod(pod('client', 'node-1', '10.10.0.2'));
  index.upsertPod(pod('server', 'node-2', '10.10.1.3'));
  const start = 1_700_000_000_000;
  const entry = ctEntry({ src: '10.10.0.2', dst: '10.10.1.3', sport: 43210, dport: 8443, state: 'TIME_WAIT', packets: 12, bytes: 1960, revPackets: 10, revBytes: 14_600, start, lastSeen: start + 7_000 });
  const exp = new FlowExporter({
    nodeName: 'node-1',
    collector: { host: '127.0.0.1', port: sock.address().port, proto: 'udp' },
    pollIntervalMs: 1000,
    activeTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    conntrack: async () => [entry],
    enricher: index,
    logger: silentLogger,
    now: () => start + 8_000,
  });
  t.after(() => exp.stop());
  exp.start({ poll: false });
  await exp.pollOnce();
  const end = Date.now() + 3000;
  while (!datagrams.some((d) => d.readUInt16BE(16) === 256) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));

  const dir = mkdtempSync(join(tmpdir(), 'flowexporter-tshark-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'export.pcap');
  writeFileSync(file, ipfixPcap(datagrams));
  const out = spawnSync('tshark', ['-r', file, '-d', 'udp.port==4739,cflow', '-T', 'json', '--no-duplicate-keys'], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    maxBuffer: 64 << 20,
  });
  assert.equal(out.status, 0, out.stderr);
  const packets = (JSON.parse(out.stdout) as { _source: { layers: { cflow: Record<string, Json> } } }[]).map((p) => p._source.layers.cflow);
  const withData = packets.filter((c) => dataFlows(c).length > 0);
  assert.equal(withData.length, 1, 'one message carries the record');
  const cflow = withData[0]!;
  assert.equal(cflow['cflow.od_id'], String(observationDomainId('node-1')));
  const [f] = dataFlows(cflow);
  assert.ok(f);
  assert.equal(f['cflow.srcaddr'], '10.10.0.2');
  assert.equal(f['cflow.dstaddr'], '10.10.1.3');
  assert.equal(f['cflow.srcport'], '43210');
  assert.equal(f['cflow.dstport'], '8443');
  assert.equal(f['cflow.protocol'], '6');
  assert.equal(f['cflow.flow_end_reason'], '3');
  // Forward, then reverse (RFC 5103, enterprise 29305): totals, then deltas (first record: delta = total).
  assert.deepEqual(f['cflow.permanent_packets'], ['12', '10']);
  assert.deepEqual(f['cflow.permanent_octets'], ['1960', '14600']);
  assert.deepEqual(f['cflow.packets'], ['12', '10']);
  assert.deepEqual(f['cflow.octets'], ['1960', '14600']);
  const tree = f['cflow.timedelta_tree'] as Record<string, string>;
  assert.equal(tsharkSeconds(tree['cflow.abstimestart']!), start / 1000);
  assert.equal(tsharkSeconds(tree['cflow.abstimeend']!), (start + 7_000) / 1000);
  // Antrea's enterprise fields are raw octets to Wireshark: the first is sourcePodName.
  const priv = f['cflow.enterprise_private_entry'] as string[];
  assert.equal(Buffer.from(priv[0]!.split(':').map((h) => parseInt(h, 16))).toString(), 'client');
});
