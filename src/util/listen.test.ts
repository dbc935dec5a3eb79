import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundPort, listen } from './listen.js';

test('listen resolves on a kernel-picked port and rejects a port already taken, leaving no listener behind', async () => {
  const first = createServer();
  await listen(first, { port: 0, host: '127.0.0.1' });
  const port = boundPort(first);
  assert.ok(port > 0);
  const second = createServer();
  await assert.rejects(listen(second, { port, host: '127.0.0.1' }), { code: 'EADDRINUSE' });
  assert.equal(second.listenerCount('error'), 0, 'the one-shot error handler is removed after a failed bind');
  assert.equal(second.listening, false);
  await new Promise<void>((r) => first.close(() => r()));
});

test('listen binds a Unix socket path; boundPort refuses it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'listen-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = createServer((c) => c.end('hi'));
  const path = join(dir, 'sock');
  await listen(server, { path });
  assert.equal(server.listenerCount('error'), 0);
  const got = await new Promise<string>((resolve, reject) => {
    let data = '';
    connect(path).on('data', (d) => (data += String(d))).on('end', () => resolve(data)).on('error', reject);
  });
  assert.equal(got, 'hi');
  assert.throws(() => boundPort(server), /not listening on a TCP port/);
  await new Promise<void>((r) => server.close(() => r()));
});
