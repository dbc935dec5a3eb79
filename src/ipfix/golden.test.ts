// Wire-format regression check: an Antrea IPv4 template and record, byte for byte. The fixture was produced by
// this encoder and checked with tshark (see tshark.test.ts); regenerate with UPDATE_FIXTURES=1 only after such a
// check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { IpfixDecoder } from './decoder.js';
import { IpfixEncoder } from './encoder.js';
import { antreaRecordV4, antreaTemplateV4 } from './testdata.js';

const fixture = new URL('../../test/fixtures/ipfix/antrea-v4.hex', import.meta.url);

test('an Antrea IPv4 template and record encode to the recorded bytes', () => {
  const enc = new IpfixEncoder({ observationDomainId: 0x1234abcd, now: () => 1700000000000 });
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  enc.writeRecord(256, antreaRecordV4(1));
  const hex = enc.flush().map((m) => m.bytes.toString('hex')).join('\n') + '\n';
  if (process.env.UPDATE_FIXTURES === '1') writeFileSync(fixture, hex);
  assert.equal(hex, readFileSync(fixture, 'utf8'));
  const msg = new IpfixDecoder().decode(Buffer.from(hex.trim(), 'hex'));
  assert.equal(msg.header.exportTime, 1700000000);
  assert.deepEqual(msg.records[0]!.fields, antreaRecordV4(1));
});
