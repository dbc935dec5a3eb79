import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAnnotation, encodeAnnotation, sameEntries } from './annotation.js';
import { isAntreaError } from '../../util/errors.js';

test('encodes Antrea 1.5’s format: one entry per Node port, sorted, protocols lowercased and sorted', () => {
  const text = encodeAnnotation([
    { podPort: 53, nodeIP: '192.168.77.11', nodePort: 61001, protocols: ['udp', 'tcp'] },
    { podPort: 80, nodeIP: '192.168.77.11', nodePort: 61000, protocols: ['tcp'] },
  ]);
  assert.equal(
    text,
    '[{"podPort":80,"nodeIP":"192.168.77.11","nodePort":61000,"protocols":["tcp"]},{"podPort":53,"nodeIP":"192.168.77.11","nodePort":61001,"protocols":["tcp","udp"]}]',
  );
  assert.equal(encodeAnnotation([]), undefined, 'nothing to publish: the annotation is removed');
});

test('decode is the inverse of encode, and reads the later single-protocol field too', () => {
  const entries = [{ podPort: 8080, nodeIP: '10.0.0.1', nodePort: 61005, protocols: ['tcp' as const] }];
  assert.deepEqual(decodeAnnotation(encodeAnnotation(entries) as string), { entries, problems: [] });
  const newer = '[{"podPort":8080,"nodeIP":"10.0.0.1","nodePort":61005,"protocol":"tcp","protocols":["tcp"]}]';
  assert.deepEqual(decodeAnnotation(newer).entries, entries);
  assert.deepEqual(decodeAnnotation('[{"podPort":53,"nodeIP":"10.0.0.1","nodePort":61006,"protocol":"UDP"}]').entries[0]?.protocols, ['udp']);
});

test('malformed entries are dropped and reported; a value that is not a list is an error', () => {
  const { entries, problems } = decodeAnnotation('[{"podPort":80,"nodeIP":"1.2.3.4","nodePort":61000,"protocols":["tcp"]},{"podPort":"x"},{"podPort":1,"nodeIP":"1.2.3.4","nodePort":2,"protocols":["sctp"]}]');
  assert.equal(entries.length, 1);
  assert.equal(problems.length, 2);
  assert.throws(() => decodeAnnotation('{"podPort":80}'), (e: unknown) => isAntreaError(e, 'ERR_NPL_INVALID_ANNOTATION'));
  assert.throws(() => decodeAnnotation('not json'), (e: unknown) => isAntreaError(e, 'ERR_NPL_INVALID_ANNOTATION'));
});

test('annotation lists compare as unordered sets', () => {
  const a = { podPort: 80, nodeIP: 'n', nodePort: 61000, protocols: ['tcp' as const, 'udp' as const] };
  const b = { podPort: 81, nodeIP: 'n', nodePort: 61001, protocols: ['tcp' as const] };
  assert.ok(sameEntries([a, b], [b, { ...a, protocols: ['udp', 'tcp'] }]));
  assert.ok(!sameEntries([a], [a, b]));
  assert.ok(!sameEntries([a], [{ ...a, nodeIP: 'm' }]));
});
