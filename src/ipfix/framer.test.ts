import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpfixEncoder } from './encoder.js';
import { isIpfixError } from './errors.js';
import { MessageFramer } from './framer.js';
import { antreaRecordV4, antreaTemplateV4 } from './testdata.js';

function someMessages(n: number): Buffer[] {
  const enc = new IpfixEncoder({ maxMessageSize: 600 });
  enc.addTemplate(antreaTemplateV4);
  enc.writeTemplates();
  for (let i = 0; i < n; i++) enc.writeRecord(256, antreaRecordV4(i));
  return enc.flush().map((m) => m.bytes);
}

test('property: any chunking of a stream yields the same messages', () => {
  const msgs = someMessages(20);
  const stream = Buffer.concat(msgs);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 40 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const framer = new MessageFramer();
      const got: Buffer[] = [];
      let prev = 0;
      for (const p of [...points, stream.length]) {
        framer.push(stream.subarray(prev, p), (m) => got.push(Buffer.from(m)));
        prev = p;
      }
      assert.deepEqual(got, msgs);
      assert.equal(framer.pendingLength, 0);
    }),
    { numRuns: 300 },
  );
});

test('a stream that loses its framing is a typed error', () => {
  const framer = new MessageFramer();
  assert.throws(() => framer.push(Buffer.from([0, 9, 0, 16]), () => undefined), (e) => isIpfixError(e, 'ERR_IPFIX_BAD_VERSION'));
  assert.throws(() => new MessageFramer().push(Buffer.from([0, 10, 0, 3]), () => undefined), (e) => isIpfixError(e, 'ERR_IPFIX_BAD_LENGTH'));
});
