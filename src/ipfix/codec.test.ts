import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpfixDecoder } from './decoder.js';
import { IpfixEncoder } from './encoder.js';
import { isIpfixError } from './errors.js';
import { defineTemplate } from './template.js';
import { antreaRecordV4, antreaTemplateV4, antreaTemplateV6, everyTypeFields, everyTypeRecord } from './testdata.js';

function roundTrip(enc: IpfixEncoder, dec = new IpfixDecoder()) {
  return enc.flush().map((m) => dec.decode(m.bytes));
}

test('an Antrea record of 37 IEs survives encode and decode unchanged', () => {
  const enc = new IpfixEncoder({ observationDomainId: 7 });
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  enc.writeRecord(256, antreaRecordV4(3));
  const [msg] = roundTrip(enc);
  assert.equal(antreaTemplateV4.fields.length, 37);
  assert.equal(msg!.header.observationDomainId, 7);
  assert.equal(msg!.templates[0]!.templateId, 256);
  assert.deepEqual(msg!.records[0]!.fields, antreaRecordV4(3));
});

test('every supported IANA type round-trips', () => {
  const t = defineTemplate(300, everyTypeFields);
  const enc = new IpfixEncoder();
  enc.addTemplate(t);
  enc.writeTemplates();
  for (let i = 0; i < 3; i++) enc.writeRecord(t, everyTypeRecord(i));
  const msgs = roundTrip(enc);
  const recs = msgs.flatMap((m) => m.records.map((r) => r.fields));
  assert.deepEqual(recs, [0, 1, 2].map(everyTypeRecord));
});

test('template ids follow set id 2 for data and 3 for options templates', () => {
  const opt = defineTemplate(400, ['exportingProcessId', 'exportedMessageTotalCount'], { scopeFieldCount: 1 });
  const enc = new IpfixEncoder();
  enc.addTemplate(opt);
  enc.addTemplate(antreaTemplateV6);
  enc.writeTemplates();
  enc.writeRecord(opt, { exportingProcessId: 1, exportedMessageTotalCount: 5n });
  const [bytes] = enc.flush();
  const b = bytes!.bytes;
  assert.equal(b.readUInt16BE(16), 3);
  const dec = new IpfixDecoder();
  const msg = dec.decode(b);
  assert.equal(msg.records[0]!.options, true);
  assert.deepEqual(msg.records[0]!.fields, { exportingProcessId: 1, exportedMessageTotalCount: 5n });
  assert.equal(dec.template(0, 257)!.fields.length, 37);
});

test('reduced-size encoding shrinks counters and rejects values that do not fit', () => {
  const t = defineTemplate(256, [{ name: 'octetDeltaCount', length: 4 }, { name: 'samplingProbability', length: 4 }, { name: 'ingressInterface', length: 3 }]);
  const enc = new IpfixEncoder();
  enc.addTemplate(t);
  enc.writeTemplates();
  enc.writeRecord(t, { octetDeltaCount: 4000000000n, samplingProbability: 0.5, ingressInterface: 0xabcdef });
  assert.throws(() => enc.writeRecord(t, { octetDeltaCount: 1n << 32n, samplingProbability: 0.5, ingressInterface: 1 }), (e) =>
    isIpfixError(e, 'ERR_IPFIX_BAD_VALUE'));
  const [msg] = roundTrip(enc);
  assert.deepEqual(msg!.records.map((r) => r.fields), [{ octetDeltaCount: 4000000000n, samplingProbability: 0.5, ingressInterface: 0xabcdef }]);
  assert.equal(msg!.header.length, 16 + 4 + 4 + 3 * 4 + 4 + 11);
});

test('variable-length strings use the 255 escape from 255 octets on', () => {
  const t = defineTemplate(256, ['interfaceName', 'applicationId']);
  const enc = new IpfixEncoder({ maxMessageSize: 65535 });
  enc.addTemplate(t);
  const long = 'x'.repeat(254);
  const longer = 'é'.repeat(2000);
  enc.writeRecord(t, { interfaceName: long, applicationId: new Uint8Array(255) });
  enc.writeRecord(t, { interfaceName: longer, applicationId: new Uint8Array(0) });
  const [m] = enc.flush();
  // header, set header, then a 1-octet length 254
  assert.equal(m!.bytes[20], 254);
  assert.equal(m!.bytes[21 + 254], 255);
  assert.equal(m!.bytes.readUInt16BE(22 + 254), 255);
  const dec = new IpfixDecoder();
  dec.decode(Buffer.concat(new IpfixEncoderHelper(t).templatesMessage()));
  const msg = dec.decode(m!.bytes);
  assert.equal(msg.records[1]!.fields.interfaceName, longer);
  assert.equal(msg.records[0]!.fields.interfaceName, long);
});

class IpfixEncoderHelper {
  constructor(private readonly t: ReturnType<typeof defineTemplate>) {}
  templatesMessage(): Buffer[] {
    const e = new IpfixEncoder();
    e.addTemplate(this.t);
    e.writeTemplates();
    return e.flush().map((m) => m.bytes);
  }
}

test('records split across messages below the maximum size, and sequence numbers count data records', () => {
  const enc = new IpfixEncoder({ maxMessageSize: 1400, observationDomainId: 1 });
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  for (let i = 0; i < 100; i++) enc.writeRecord(256, antreaRecordV4(i));
  const msgs = enc.flush();
  assert.ok(msgs.length > 5);
  const dec = new IpfixDecoder();
  let expectedSeq = 0;
  const all = [];
  for (const m of msgs) {
    assert.ok(m.bytes.length <= 1400);
    const d = dec.decode(m.bytes);
    assert.equal(d.header.sequenceNumber, expectedSeq);
    assert.equal(d.sequenceGap, 0);
    assert.equal(d.records.length, m.records);
    expectedSeq += d.records.length;
    all.push(...d.records.map((r) => r.fields));
  }
  assert.equal(enc.sequenceNumber, 100);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => antreaRecordV4(i)));
});

test('a template-only message does not advance the sequence number', () => {
  const enc = new IpfixEncoder();
  enc.addTemplate(antreaTemplateV4);
  enc.writeRecord(256, antreaRecordV4(0));
  enc.flush();
  enc.writeTemplates();
  const [t] = enc.flush();
  assert.equal(t!.bytes.readUInt32BE(8), 1);
  enc.writeRecord(256, antreaRecordV4(0));
  assert.equal(enc.flush()[0]!.bytes.readUInt32BE(8), 1);
});

test('a record larger than a message is rejected and leaves the encoder usable', () => {
  const t = defineTemplate(256, ['interfaceName']);
  const enc = new IpfixEncoder({ maxMessageSize: 200 });
  enc.addTemplate(t);
  enc.writeRecord(t, { interfaceName: 'a' });
  assert.throws(() => enc.writeRecord(t, { interfaceName: 'b'.repeat(300) }), (e) => isIpfixError(e, 'ERR_IPFIX_RECORD_TOO_LARGE'));
  enc.writeRecord(t, { interfaceName: 'c' });
  const msgs = enc.flush();
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.records, 2);
});

test('missing values and bad addresses are typed errors naming the field', () => {
  const enc = new IpfixEncoder();
  enc.addTemplate(antreaTemplateV4);
  const rec = { ...antreaRecordV4(0) } as Record<string, unknown>;
  delete rec.tcpState;
  assert.throws(() => enc.writeRecord(256, rec as never), (e) => isIpfixError(e, 'ERR_IPFIX_MISSING_VALUE') && e.details.field === 'tcpState');
  assert.throws(() => enc.writeRecord(256, { ...antreaRecordV4(0), sourceIPv4Address: '10.0.0.256' }), (e) =>
    isIpfixError(e, 'ERR_IPFIX_BAD_VALUE') && e.details.field === 'sourceIPv4Address');
  assert.throws(() => enc.writeRecord(999, {}), (e) => isIpfixError(e, 'ERR_IPFIX_UNKNOWN_TEMPLATE'));
  assert.deepEqual(enc.flush(), []);
});

test('template withdrawal removes a template; data for it is then skipped, not fatal', () => {
  const enc = new IpfixEncoder();
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  enc.writeRecord(256, antreaRecordV4(1));
  const dec = new IpfixDecoder();
  dec.decode(enc.flush()[0]!.bytes);
  enc.writeWithdrawal(256);
  const w = dec.decode(enc.flush()[0]!.bytes);
  assert.deepEqual(w.templates.map((c) => [c.kind, c.templateId]), [['withdrawn', 256]]);
  enc.addTemplate(antreaTemplateV4);
  enc.writeRecord(256, antreaRecordV4(2));
  const d = dec.decode(enc.flush()[0]!.bytes);
  assert.deepEqual(d.records, []);
  assert.deepEqual(d.skipped, [{ setId: 256, length: d.header.length - 16, reason: 'unknown-template' }]);
});

test('withdrawing all data templates (id 2) keeps options templates', () => {
  const opt = defineTemplate(400, ['exportingProcessId'], { scopeFieldCount: 1 });
  const enc = new IpfixEncoder();
  enc.addTemplate(opt);
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  const dec = new IpfixDecoder();
  dec.decode(enc.flush()[0]!.bytes);
  enc.writeWithdrawal();
  dec.decode(enc.flush()[0]!.bytes);
  assert.equal(dec.template(0, 256), undefined);
  assert.ok(dec.template(0, 400));
});

test('unknown enterprise IEs decode as octets under a stable name', () => {
  const dec = new IpfixDecoder();
  const b = Buffer.from([0, 10, 0, 38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 2, 0, 16, 1, 0, 0, 1, 0x80, 5, 0, 2, 0, 0, 0, 99,
    1, 0, 0, 6, 0xbe, 0xef]);
  const msg = dec.decode(b);
  assert.deepEqual(msg.records[0]!.fields, { ie99_5: Buffer.from([0xbe, 0xef]) });
});

test('sequence gaps are reported per observation domain', () => {
  const enc = new IpfixEncoder();
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  enc.writeRecord(256, antreaRecordV4(0));
  const first = enc.flush()[0]!.bytes;
  enc.writeRecord(256, antreaRecordV4(1));
  enc.flush(); // lost
  enc.writeRecord(256, antreaRecordV4(2));
  const third = enc.flush()[0]!.bytes;
  const dec = new IpfixDecoder();
  assert.equal(dec.decode(first).sequenceGap, 0);
  assert.equal(dec.decode(third).sequenceGap, 1);
});

test('property: random records of every type round-trip', () => {
  const t = defineTemplate(256, [...everyTypeFields, 'octetTotalCount', { name: 'packetDeltaCount', length: 2 }]);
  const rec = fc.record({
    protocolIdentifier: fc.integer({ min: 0, max: 255 }),
    sourceTransportPort: fc.integer({ min: 0, max: 65535 }),
    ingressInterface: fc.integer({ min: 0, max: 0xffffffff }),
    octetDeltaCount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    mibObjectValueInteger: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    samplingProbability: fc.double({ noNaN: true }),
    dataRecordsReliability: fc.boolean(),
    sourceMacAddress: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')),
    interfaceName: fc.string({ unit: 'grapheme', maxLength: 300 }),
    applicationId: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    flowStartSeconds: fc.integer({ min: 0, max: 0xffffffff }),
    flowStartMilliseconds: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    flowStartMicroseconds: fc.bigInt({ min: 0n, max: 2085978495n * 1000000n }),
    flowStartNanoseconds: fc.bigInt({ min: 0n, max: 2085978495n * 1000000000n }),
    sourceIPv4Address: fc.ipV4(),
    sourceIPv6Address: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    octetTotalCount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    packetDeltaCount: fc.bigInt({ min: 0n, max: 65535n }),
  });
  fc.assert(
    fc.property(fc.array(rec, { minLength: 1, maxLength: 30 }), (recs) => {
      const enc = new IpfixEncoder({ maxMessageSize: 1400 });
      enc.addTemplate(t);
      enc.writeTemplates();
      const input = recs.map((r) => ({ ...r, sourceIPv6Address: ipv6Text(r.sourceIPv6Address) }));
      for (const r of input) enc.writeRecord(t, r);
      const dec = new IpfixDecoder();
      const out = enc.flush().flatMap((m) => dec.decode(m.bytes).records.map((x) => x.fields));
      assert.deepEqual(out, input);
    }),
    { numRuns: 200 },
  );
});

function ipv6Text(b: Uint8Array): string {
  // Through the decoder's formatter is circular; build canonical text with node's URL parser instead.
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

test('templates expire after their lifetime unless announced again', () => {
  let now = 1000;
  const dec = new IpfixDecoder({ templateLifetimeMs: 100, now: () => now });
  const enc = new IpfixEncoder();
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  dec.decode(enc.flush()[0]!.bytes);
  enc.writeRecord(256, antreaRecordV4(0));
  const data = enc.flush()[0]!.bytes;
  now += 50;
  assert.equal(dec.decode(data).records.length, 1);
  now += 100;
  const late = dec.decode(data);
  assert.equal(late.records.length, 0);
  assert.equal(late.skipped[0]!.reason, 'unknown-template');
});
