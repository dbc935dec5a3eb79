import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../apis/meta.js';
import { createStore } from './store.js';
import { gvr } from './registry.js';
import { Persistence, StoreCorruptError, StoreLockedError } from './persist.js';
import { isApiError } from './types.js';
import { memoryLogger, silentLogger } from '../util/log.js';

function tempDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'antrea-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const cm = (name: string, data: Record<string, string> = { k: 'v' }): KubeObject => ({ metadata: { name, namespace: 'default' }, data }) as KubeObject;

test('state survives a restart: objects, uids and a resourceVersion counter that keeps increasing', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger });
  const x = await a.create(gvr.configmaps, 'default', cm('x'));
  await a.create(gvr.configmaps, 'default', cm('y'));
  await a.delete(gvr.configmaps, 'default', 'y');
  const rvBefore = Number(a.resourceVersion());
  // no close(): as after a crash, only the log holds the state
  const b = createStore({ dataDir: dir, logger: silentLogger });
  t.after(() => b.close());
  assert.equal(Number(b.resourceVersion()), rvBefore);
  const got = await b.get(gvr.configmaps, 'default', 'x');
  assert.deepEqual(got, x);
  assert.deepEqual((await b.list(gvr.configmaps)).items.map((o) => o.metadata.name), ['x']);
  const z = await b.create(gvr.configmaps, 'default', cm('z'));
  assert.ok(Number(z.metadata.resourceVersion) > rvBefore);
  assert.equal((await b.list(gvr.namespaces)).items.length, 4, 'bootstrap namespaces are not created twice');
});

test('compaction writes a snapshot; restart from snapshot plus log', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger, compactEvery: 5 });
  for (let i = 0; i < 12; i++) await a.create(gvr.configmaps, 'default', cm(`c${i}`));
  assert.ok(existsSync(join(dir, 'snapshot.json')));
  const rv = a.resourceVersion();
  const b = createStore({ dataDir: dir, logger: silentLogger });
  assert.equal(b.resourceVersion(), rv);
  assert.equal((await b.list(gvr.configmaps)).items.length, 12);
  await b.close();
  // after a clean close everything is in the snapshot
  assert.equal(readFileSync(join(dir, 'wal.log'), 'utf8'), '');
  const c = createStore({ dataDir: dir, logger: silentLogger });
  t.after(() => c.close());
  assert.equal((await c.list(gvr.configmaps)).items.length, 12);
  assert.equal(c.resourceVersion(), rv);
});

test('a torn last write is dropped and logged; the last good state is recovered', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger });
  await a.create(gvr.configmaps, 'default', cm('x'));
  const rv = a.resourceVersion();
  appendFileSync(join(dir, 'wal.log'), '1234abcd {"rv":99,"op":"put","gr":"/configmaps","ns":"default","na');
  const log = memoryLogger('warn');
  const b = createStore({ dataDir: dir, logger: log });
  t.after(() => b.close());
  assert.equal(b.resourceVersion(), rv);
  assert.ok(log.lines.some((l) => l.includes('torn write')), log.lines.join('\n'));
  // the log was truncated to the good records and keeps working
  await b.create(gvr.configmaps, 'default', cm('y'));
  const c = createStore({ dataDir: dir, logger: silentLogger });
  t.after(() => c.close());
  assert.deepEqual((await c.list(gvr.configmaps)).items.map((o) => o.metadata.name), ['x', 'y']);
});

test('a last record with a bad checksum is a torn write too', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger });
  await a.create(gvr.configmaps, 'default', cm('x'));
  await a.create(gvr.configmaps, 'default', cm('y'));
  const wal = join(dir, 'wal.log');
  const lines = readFileSync(wal, 'utf8').split('\n');
  lines[lines.length - 2] = lines[lines.length - 2]!.replace('"y"', '"q"');
  writeFileSync(wal, lines.join('\n'));
  const b = createStore({ dataDir: dir, logger: silentLogger });
  t.after(() => b.close());
  assert.deepEqual((await b.list(gvr.configmaps)).items.map((o) => o.metadata.name), ['x']);
});

test('corruption in the middle of the log or in the snapshot is a typed error at start', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger });
  await a.create(gvr.configmaps, 'default', cm('x'));
  await a.create(gvr.configmaps, 'default', cm('y'));
  const wal = join(dir, 'wal.log');
  const good = readFileSync(wal, 'utf8');
  const lines = good.split('\n');
  const i = lines.findIndex((l) => l.includes('"name":"x"'));
  lines[i] = lines[i]!.replace('"v"', '"w"');
  writeFileSync(wal, lines.join('\n'));
  assert.throws(
    () => createStore({ dataDir: dir, logger: silentLogger }),
    (e: unknown) => e instanceof StoreCorruptError && e.code === 'ERR_STORE_CORRUPT' && e.details.line === i + 1 && new RegExp(`record ${i + 1} is corrupt`).test(e.message),
  );
  writeFileSync(wal, good);
  const b = createStore({ dataDir: dir, logger: silentLogger });
  await b.close();
  const snap = join(dir, 'snapshot.json');
  writeFileSync(snap, readFileSync(snap, 'utf8').slice(0, -10));
  assert.throws(() => createStore({ dataDir: dir, logger: silentLogger }), (e: unknown) => e instanceof StoreCorruptError && /checksum mismatch/.test(e.message));
});

test('a write the disk refuses is an InternalError and changes nothing', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger });
  t.after(() => a.close());
  await a.create(gvr.configmaps, 'default', cm('x'));
  const rv = a.resourceVersion();
  const original = Persistence.prototype.append;
  Persistence.prototype.append = () => {
    throw new Error('ENOSPC: no space left on device');
  };
  try {
    await assert.rejects(a.create(gvr.configmaps, 'default', cm('y')), (e) => isApiError(e, 'InternalError') && /ENOSPC/.test(e.message));
    await assert.rejects(a.delete(gvr.configmaps, 'default', 'x'), (e) => isApiError(e, 'InternalError'));
  } finally {
    Persistence.prototype.append = original;
  }
  assert.equal(a.resourceVersion(), rv);
  assert.deepEqual((await a.list(gvr.configmaps)).items.map((o) => o.metadata.name), ['x']);
});

test('rejected requests never reach the disk', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger });
  await a.create(gvr.configmaps, 'default', cm('x'));
  const before = readFileSync(join(dir, 'wal.log'), 'utf8');
  for (const p of [
    a.create(gvr.configmaps, 'default', cm('x')),
    a.create(gvr.configmaps, 'default', cm('Bad')),
    a.update(gvr.configmaps, 'default', { ...cm('x'), metadata: { name: 'x', namespace: 'default', resourceVersion: '1' } }),
    a.patch(gvr.configmaps, 'default', 'x', 'json', [{ op: 'remove', path: '/nope' }]),
  ]) {
    await assert.rejects(p, (e) => isApiError(e));
  }
  assert.equal(readFileSync(join(dir, 'wal.log'), 'utf8'), before);
  await a.close();
});

test('a data directory held by another live process is refused; a lock left by a dead one is taken over', async (t) => {
  const dir = tempDir(t);
  const a = createStore({ dataDir: dir, logger: silentLogger });
  await a.close();
  writeFileSync(join(dir, 'LOCK'), String(process.ppid));
  assert.throws(() => createStore({ dataDir: dir, logger: silentLogger }), (e: unknown) => e instanceof StoreLockedError && e.code === 'ERR_STORE_LOCKED');
  writeFileSync(join(dir, 'LOCK'), '999999999');
  const log = memoryLogger('warn');
  const b = createStore({ dataDir: dir, logger: log });
  assert.ok(log.lines.some((l) => l.includes('taking over the lock')));
  assert.equal(readFileSync(join(dir, 'LOCK'), 'utf8'), String(process.pid));
  await b.close();
  assert.ok(!existsSync(join(dir, 'LOCK')));
});
