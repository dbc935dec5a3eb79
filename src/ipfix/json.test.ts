import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpfixDecoder } from './decoder.js';
import { IpfixEncoder } from './encoder.js';
import { recordToJson } from './json.js';
import { defineTemplate } from './template.js';
import { everyTypeFields, everyTypeRecord } from './testdata.js';

test('a decoded record renders as JSON: numbers when safe, addresses and ISO timestamps as strings', () => {
  const t = defineTemplate(300, [...everyTypeFields, 'packetDeltaCount']);
  const enc = new IpfixEncoder();
  enc.addTemplate(t);
  enc.writeTemplates();
  enc.writeRecord(t, { ...everyTypeRecord(0), packetDeltaCount: 12n });
  const [msg] = enc.flush().map((m) => new IpfixDecoder().decode(m.bytes));
  const rec = msg!.records[0]!;
  const json = recordToJson(rec.fields, rec.template);
  assert.deepEqual(json, {
    protocolIdentifier: 17,
    sourceTransportPort: 40000,
    ingressInterface: 4000000000,
    octetDeltaCount: '18000000000000000000',
    mibObjectValueInteger: -123456,
    samplingProbability: 0.25,
    dataRecordsReliability: true,
    sourceMacAddress: '0a:1b:2c:3d:4e:5f',
    interfaceName: 'eth0-ünï',
    applicationId: '03005000',
    flowStartSeconds: '2023-11-14T22:13:20Z',
    flowStartMilliseconds: '2023-11-14T22:13:20.123Z',
    flowStartMicroseconds: '2023-11-14T22:13:20.123456Z',
    flowStartNanoseconds: '2023-11-14T22:13:20.123456789Z',
    sourceIPv4Address: '192.168.0.7',
    sourceIPv6Address: 'fd00:10:244::1',
    packetDeltaCount: 12,
  });
  // Without the template, types come from the registry by name: same result.
  assert.deepEqual(recordToJson(rec.fields), json);
  assert.doesNotThrow(() => JSON.stringify(json));
});
