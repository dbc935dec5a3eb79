import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PortTable } from './porttable.js';
import { isAntreaError } from '../../util/errors.js';

test('allocates round-robin from the start of the range and reuses the Node port of a (Pod IP, Pod port)', () => {
  const t = new PortTable({ start: 61000, end: 61009 });
  assert.deepEqual(t.add('ns/a', '10.10.0.2', 80, 'tcp'), { nodePort: 61000, added: true });
  assert.deepEqual(t.add('ns/a', '10.10.0.2', 443, 'tcp'), { nodePort: 61001, added: true });
  assert.deepEqual(t.add('ns/a', '10.10.0.2', 80, 'tcp'), { nodePort: 61000, added: false }, 'same key, same port');
  assert.deepEqual(t.add('ns/a', '10.10.0.2', 80, 'udp'), { nodePort: 61000, added: true }, 'one Node port serves TCP and UDP');
  assert.equal(t.find('10.10.0.2', 80, 'udp'), 61000);
  assert.equal(t.find('10.10.0.2', 443, 'udp'), undefined);
  assert.deepEqual(t.entriesOf('ns/a').map((e) => [e.nodePort, e.protocols]), [[61000, ['tcp', 'udp']], [61001, ['tcp']]]);
});

test('a Node port is freed with its last protocol, and the search goes on past it before wrapping around', () => {
  const t = new PortTable({ start: 61000, end: 61002 });
  t.add('ns/a', '10.10.0.2', 80, 'tcp');
  t.add('ns/a', '10.10.0.2', 80, 'udp');
  assert.equal(t.remove('10.10.0.2', 80, 'tcp'), 61000);
  assert.equal(t.holds(61000, 'udp'), true, 'still mapped for UDP');
  assert.equal(t.remove('10.10.0.2', 80, 'udp'), 61000);
  assert.equal(t.size, 0);
  assert.equal(t.remove('10.10.0.2', 80, 'udp'), undefined);
  assert.equal(t.add('ns/b', '10.10.0.3', 80, 'tcp').nodePort, 61001, 'round-robin: not the port just freed');
  assert.equal(t.add('ns/b', '10.10.0.3', 81, 'tcp').nodePort, 61002);
  assert.equal(t.add('ns/b', '10.10.0.3', 82, 'tcp').nodePort, 61000, 'wraps around');
});

test('exhaustion is a clear ERR_NPL_NO_FREE_PORT, and a freed port is given out again', () => {
  const t = new PortTable({ start: 61000, end: 61001 });
  t.add('ns/a', '10.10.0.2', 80, 'tcp');
  t.add('ns/a', '10.10.0.2', 81, 'tcp');
  assert.throws(
    () => t.add('ns/b', '10.10.0.3', 80, 'tcp'),
    (e: unknown) => isAntreaError(e, 'ERR_NPL_NO_FREE_PORT') && /^no free port found/.test(e.message) && /61000-61001/.test(e.message) && /ns\/b/.test(e.message),
  );
  assert.equal(t.add('ns/a', '10.10.0.2', 80, 'udp').nodePort, 61000, 'an existing key still gets its port when the range is full');
  t.remove('10.10.0.2', 81, 'tcp');
  assert.equal(t.add('ns/b', '10.10.0.3', 80, 'tcp').nodePort, 61001);
});

test('ports the host holds are skipped', () => {
  const t = new PortTable({ start: 61000, end: 61003 }, { isPortFree: (p) => p !== 61000 && p !== 61001 });
  assert.equal(t.add('ns/a', '10.10.0.2', 80, 'tcp').nodePort, 61002);
});

test('restore keeps the Node ports of the annotations and allocation never hands them out again', () => {
  const t = new PortTable({ start: 61000, end: 61004 });
  assert.equal(t.restore('ns/a', '10.10.0.2', 80, 61000, ['tcp']), undefined);
  assert.equal(t.restore('ns/b', '10.10.0.3', 80, 61002, ['tcp', 'udp']), undefined);
  assert.equal(t.add('ns/a', '10.10.0.2', 80, 'tcp').nodePort, 61000, 'same key after a restart: same port');
  const fresh = [t.add('ns/c', '10.10.0.4', 80, 'tcp').nodePort, t.add('ns/c', '10.10.0.4', 81, 'tcp').nodePort, t.add('ns/c', '10.10.0.4', 82, 'tcp').nodePort];
  assert.deepEqual(fresh, [61001, 61003, 61004]);
});

test('restore refuses what it cannot keep, and says why', () => {
  const t = new PortTable({ start: 61000, end: 61004 });
  t.restore('ns/a', '10.10.0.2', 80, 61000, ['tcp']);
  assert.match(t.restore('ns/b', '10.10.0.3', 80, 61000, ['tcp'])?.reason ?? '', /already mapped to 10.10.0.2:80 for ns\/a/);
  assert.match(t.restore('ns/a', '10.10.0.2', 80, 61001, ['tcp'])?.reason ?? '', /already has Node port 61000/);
  assert.match(t.restore('ns/a', '10.10.0.2', 81, 62000, ['tcp'])?.reason ?? '', /outside the range/);
  assert.equal(t.size, 1);
});

test('a Pod that inherits an IP takes the entry over: the old owner no longer lists it', () => {
  const t = new PortTable({ start: 61000, end: 61004 });
  t.add('ns/old', '10.10.0.2', 80, 'tcp');
  assert.equal(t.add('ns/new', '10.10.0.2', 80, 'tcp').nodePort, 61000);
  assert.deepEqual(t.entriesOf('ns/old'), []);
  assert.equal(t.entriesOf('ns/new').length, 1);
});

test('property: live Node ports are distinct, in range, and stable per key', () => {
  type Op = { add: boolean; ip: number; port: number; proto: 'tcp' | 'udp' };
  const op = fc.record({ add: fc.boolean(), ip: fc.integer({ min: 1, max: 4 }), port: fc.integer({ min: 1, max: 4 }), proto: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp') });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops: Op[]) => {
      const t = new PortTable({ start: 100, end: 109 });
      for (const o of ops) {
        const ip = `10.0.0.${o.ip}`;
        if (o.add) {
          const prev = t.find(ip, o.port);
          let nodePort: number;
          try {
            nodePort = t.add(`ns/p${o.ip}`, ip, o.port, o.proto).nodePort;
          } catch {
            assert.equal(prev, undefined, 'a live key never fails');
            continue;
          }
          if (prev !== undefined) assert.equal(nodePort, prev, 'a live key keeps its Node port');
          assert.equal(t.find(ip, o.port, o.proto), nodePort);
        } else t.remove(ip, o.port, o.proto);
        const ports = t.list().map((e) => e.nodePort);
        assert.equal(new Set(ports).size, ports.length);
        assert.ok(ports.every((p) => p >= 100 && p <= 109));
        for (const e of t.list()) assert.ok(e.protocols.length > 0);
      }
    }),
  );
});
