// External check: Wireshark's IPFIX dissector (tshark, "cflow") must read every IANA field we encode as the value
// we meant. The messages travel as UDP to port 4739 inside a pcap we build ourselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpfixEncoder } from './encoder.js';
import { ipfixPcap } from './pcap.js';
import { defineTemplate } from './template.js';
import { everyTypeFields, everyTypeRecord, antreaRecordV4, antreaTemplateV4 } from './testdata.js';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = hasTshark ? false : 'tshark is not on PATH (apt-get install tshark)';

type Json = string | Json[] | { [k: string]: Json };

const months: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** tshark's absolute time text ("Nov 14, 2023 22:13:20.123456790 UTC") as nanoseconds since the Unix epoch. */
function tsharkTimeNs(s: string): bigint {
  const m = /^(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{9}) UTC$/.exec(s);
  assert.ok(m, `unexpected tshark time format: ${s}`);
  const ms = Date.UTC(Number(m[3]), months[m[1]!]!, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(ms) * 1000000n + BigInt(m[7]!);
}

function runTshark(messages: Buffer[]): Record<string, Json>[] {
  const dir = mkdtempSync(join(tmpdir(), 'ipfix-tshark-'));
  try {
    const file = join(dir, 'ipfix.pcap');
    writeFileSync(file, ipfixPcap(messages));
    const out = spawnSync('tshark', ['-r', file, '-d', 'udp.port==4739,cflow', '-T', 'json', '-x', '--no-duplicate-keys'], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
      maxBuffer: 64 << 20,
    });
    assert.equal(out.status, 0, out.stderr);
    const packets = JSON.parse(out.stdout) as { _source: { layers: { cflow: Record<string, Json> } } }[];
    return packets.map((p) => p._source.layers.cflow);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The "Flow N" objects of every data set of a decoded packet. */
function flows(cflow: Record<string, Json>): Record<string, Json>[] {
  const out: Record<string, Json>[] = [];
  for (const [k, v] of Object.entries(cflow)) {
    if (!k.startsWith('Set ') || typeof v !== 'object' || Array.isArray(v)) continue;
    for (const [fk, fv] of Object.entries(v)) if (fk.startsWith('Flow ')) out.push(fv as Record<string, Json>);
  }
  return out;
}

test('tshark decodes every IANA type we encode with the value we sent', { skip }, () => {
  const t = defineTemplate(300, everyTypeFields);
  const enc = new IpfixEncoder({ observationDomainId: 1234 });
  enc.addTemplate(t);
  enc.writeTemplates();
  const sent = [0, 1, 2].map(everyTypeRecord);
  for (const r of sent) enc.writeRecord(t, r);
  const msgs = enc.flush().map((m) => m.bytes);
  const [cflow] = runTshark(msgs);
  assert.equal(cflow!['cflow.version'], '10');
  assert.equal(cflow!['cflow.od_id'], '1234');
  const got = flows(cflow!);
  assert.equal(got.length, sent.length);
  for (let i = 0; i < sent.length; i++) {
    const r = sent[i]!;
    const f = got[i]!;
    assert.equal(f['cflow.protocol'], String(r.protocolIdentifier));
    assert.equal(f['cflow.srcport'], String(r.sourceTransportPort));
    assert.equal(f['cflow.inputint'], String(r.ingressInterface));
    assert.equal(f['cflow.octets'], String(r.octetDeltaCount));
    assert.equal(f['cflow.mib_object_value_integer'], String(r.mibObjectValueInteger));
    assert.equal(Number(f['cflow.sampling_probability']), r.samplingProbability);
    // Wireshark shows any non-zero boolean octet as "1"; its raw octet tells RFC 7011's true (1) from false (2).
    assert.equal(f['cflow.data_records_reliability'], '1');
    assert.equal((f['cflow.data_records_reliability_raw'] as Json[])[0], r.dataRecordsReliability ? '01' : '02');
    assert.equal(f['cflow.srcmac'], r.sourceMacAddress);
    assert.equal(f['cflow.if_name'], r.interfaceName);
    // Wireshark splits applicationId into its RFC 6759 parts: engine id, then the selector as hex.
    const app = r.applicationId as Uint8Array;
    assert.equal(f['cflow.appl_id.classification_engine_id'], String(app[0]));
    assert.equal(f['cflow.appl_id.selector_id'], [...app.subarray(1)].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    assert.equal(f['cflow.srcaddr'], r.sourceIPv4Address);
    assert.equal(f['cflow.srcaddrv6'], r.sourceIPv6Address);
    // All four dateTime types are "abstimestart" to Wireshark, in template order.
    const times = f['cflow.abstimestart'];
    assert.ok(Array.isArray(times) && times.length === 4, JSON.stringify(times));
    const ns = (times as string[]).map(tsharkTimeNs);
    assert.equal(ns[0], BigInt(r.flowStartSeconds as number) * 1000000000n);
    assert.equal(ns[1], BigInt(r.flowStartMilliseconds as number) * 1000000n);
    // NTP fractions: microseconds keep 21 bits (0.48 us), nanoseconds 32 bits (0.23 ns); tshark truncates.
    const us = (r.flowStartMicroseconds as bigint) * 1000n;
    assert.ok(ns[2]! - us < 500n && us - ns[2]! < 500n, `microseconds: tshark ${ns[2]} vs sent ${us}`);
    const nano = r.flowStartNanoseconds as bigint;
    assert.ok(ns[3]! - nano <= 1n && nano - ns[3]! <= 1n, `nanoseconds: tshark ${ns[3]} vs sent ${nano}`);
  }
});

test('tshark reads an Antrea flow record: IANA, reverse and Antrea enterprise fields', { skip }, () => {
  const enc = new IpfixEncoder();
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  const r = antreaRecordV4(5);
  enc.writeRecord(256, r);
  const [cflow] = runTshark(enc.flush().map((m) => m.bytes));
  const [f] = flows(cflow!);
  assert.equal(f!['cflow.srcaddr'], r.sourceIPv4Address);
  assert.equal(f!['cflow.dstaddr'], r.destinationIPv4Address);
  assert.equal(f!['cflow.flow_end_reason'], '2');
  // forward then reverse (enterprise 29305) counters
  assert.deepEqual(f!['cflow.permanent_packets'], [String(r.packetTotalCount), String(r.reversePacketTotalCount)]);
  assert.deepEqual(f!['cflow.octets'], [String(r.octetDeltaCount), String(r.reverseOctetDeltaCount)]);
  const tree = f!['cflow.timedelta_tree'] as Record<string, string>;
  assert.equal(tsharkTimeNs(tree['cflow.abstimestart']!), BigInt(r.flowStartSeconds as number) * 1000000000n);
  // Wireshark shows enterprise 56506 fields as raw octets; the pod name is the first of them.
  const priv = f!['cflow.enterprise_private_entry'] as string[];
  assert.equal(Buffer.from(priv[0]!.split(':').map((h) => parseInt(h, 16))).toString(), r.sourcePodName);
  assert.equal(priv.at(-1), '0a:60:00:0a'); // destinationClusterIPv4 10.96.0.10
});
