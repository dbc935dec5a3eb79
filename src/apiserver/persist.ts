/**
 * Durable state for the store: an append-only log of writes plus a periodic snapshot.
 *
 * Why a log and not "rewrite the whole state atomically on every write": a write costs one small append and one
 * fdatasync instead of serialising every object (10 000 Pods is megabytes per write). The log is compacted into a
 * snapshot every `compactEvery` records and on close, so start-up replays at most that many records.
 *
 * Files in `dataDir`:
 * - `snapshot.json`: line 1 is the SHA-256 of the rest, then `{"format":1,"resourceVersion":N,"objects":[...]}`.
 *   Written to a temporary file, fsynced, renamed over the old one, then the directory is fsynced: a crash leaves
 *   either the old or the new snapshot, never a mix.
 * - `wal.log`: one record per line, `<crc32 hex> <json>\n`, where json is `{rv, op: "put"|"del", gr, ns, name,
 *   obj?}`. Records at or below the snapshot's resourceVersion are skipped on replay, so a crash between writing a
 *   snapshot and truncating the log replays nothing twice.
 *
 * Recovery: a bad *last* line (no newline, bad checksum or bad JSON) is a torn write from a crash: the write was
 * never acknowledged (we acknowledge after the fsync), so it is dropped, the file truncated to the last good record,
 * and a warning logged. A bad line followed by good ones, or a bad snapshot, is corruption: `StoreCorruptError`.
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { KubeObject } from '../apis/meta.js';
import { AntreaError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { processAlive } from '../util/process.js';

export interface LogRecord {
  rv: number;
  op: 'put' | 'del';
  /** Storage key of the type: `group/plural`. */
  gr: string;
  ns: string;
  name: string;
  obj?: KubeObject;
}

export interface StoredEntry {
  gr: string;
  obj: KubeObject;
}

export interface LoadedState {
  resourceVersion: number;
  objects: Map<string, StoredEntry>;
}

/** The data directory holds a corrupt snapshot or log; `details.file` and `details.line` say where. */
export class StoreCorruptError extends AntreaError {
  constructor(message: string, details: { file: string; line?: number }) {
    super('ERR_STORE_CORRUPT', message, details);
    this.name = 'StoreCorruptError';
  }
}

/** Another live process holds the data directory (its pid is in `dataDir/LOCK`). */
export class StoreLockedError extends AntreaError {
  constructor(message: string, details: { file: string; pid: number }) {
    super('ERR_STORE_LOCKED', message, details);
    this.name = 'StoreLockedError';
  }
}

export interface PersistenceOptions {
  dataDir: string;
  logger: Logger;
  /** fdatasync each record before acknowledging the write (default true). */
  fsync?: boolean;
  /** Records in the log before it is folded into a new snapshot (default 5000). */
  compactEvery?: number;
}

const snapshotName = 'snapshot.json';
const walName = 'wal.log';

function entryKey(gr: string, ns: string, name: string): string {
  return `${gr}\u0000${ns}\u0000${name}`;
}

export class Persistence {
  private fd = -1;
  private records = 0;
  private readonly fsync: boolean;
  private readonly compactEvery: number;

  constructor(private readonly opts: PersistenceOptions) {
    this.fsync = opts.fsync ?? true;
    this.compactEvery = opts.compactEvery ?? 5000;
  }

  private get snapshotPath(): string {
    return join(this.opts.dataDir, snapshotName);
  }

  private get walPath(): string {
    return join(this.opts.dataDir, walName);
  }

  /**
   * One process per data directory: `LOCK` holds the owner's pid. A lock left by a dead process is taken over; one
   * held by a live other process is a `StoreLockedError`. (Within one process the lock is not re-checked, so tests
   * can simulate a crash by opening a second store without closing the first.)
   */
  private lock(): void {
    const file = join(this.opts.dataDir, 'LOCK');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, String(process.pid), { flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid === process.pid) return;
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new StoreLockedError(`${this.opts.dataDir} is in use by process ${pid}; stop it or use another data directory`, { file, pid });
      }
      this.opts.logger.warn('taking over the lock of a store whose process is gone', { file, pid });
      unlinkSync(file);
    }
  }

  private unlock(): void {
    const file = join(this.opts.dataDir, 'LOCK');
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  }

  /** Reads the snapshot and replays the log; opens the log for appending. */
  load(): LoadedState {
    mkdirSync(this.opts.dataDir, { recursive: true });
    this.lock();
    try {
      return this.read();
    } catch (err) {
      this.unlock();
      throw err;
    }
  }

  private read(): LoadedState {
    const state: LoadedState = { resourceVersion: 0, objects: new Map() };
    if (existsSync(this.snapshotPath)) this.readSnapshot(state);
    const snapshotRv = state.resourceVersion;
    let goodLength = 0;
    if (existsSync(this.walPath)) {
      const buf = readFileSync(this.walPath);
      const text = buf.toString('utf8');
      // Every element but the last is a complete line; the last is '' or a partial (torn) record.
      const lines = text.split('\n');
      const partial = lines.pop()!;
      let offset = 0;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        const rec = parseRecord(line);
        if (!rec) {
          const rest = lines.slice(i + 1).filter((l) => l.length > 0).length + (partial.length > 0 ? 1 : 0);
          if (rest === 0) {
            this.tornTail(buf.length - offset, 'a last record with a bad checksum');
            break;
          }
          throw new StoreCorruptError(`${this.walPath}: record ${i + 1} is corrupt (bad checksum or JSON) and is followed by ${rest} more; refusing to start`, {
            file: this.walPath,
            line: i + 1,
          });
        }
        offset += Buffer.byteLength(line, 'utf8') + 1;
        goodLength = offset;
        this.records++;
        if (rec.rv <= snapshotRv) continue;
        const key = entryKey(rec.gr, rec.ns, rec.name);
        if (rec.op === 'put' && rec.obj) state.objects.set(key, { gr: rec.gr, obj: rec.obj });
        else state.objects.delete(key);
        if (rec.rv > state.resourceVersion) state.resourceVersion = rec.rv;
      }
      if (goodLength === offset && partial.length > 0 && goodLength + Buffer.byteLength(partial, 'utf8') === buf.length) {
        this.tornTail(buf.length - goodLength, 'an incomplete last record');
      }
      this.fd = openSync(this.walPath, 'r+');
      if (goodLength < buf.length) {
        ftruncateSync(this.fd, goodLength);
        fsyncSync(this.fd);
      }
      closeSync(this.fd);
    }
    this.fd = openSync(this.walPath, 'a');
    return state;
  }

  private tornTail(bytes: number, what: string): void {
    this.opts.logger.warn('store log ends with a torn write; recovered the last good state', { file: this.walPath, droppedBytes: bytes, problem: what });
  }

  private readSnapshot(state: LoadedState): void {
    const text = readFileSync(this.snapshotPath, 'utf8');
    const nl = text.indexOf('\n');
    const fail = (why: string): never => {
      throw new StoreCorruptError(`${this.snapshotPath}: ${why}; refusing to start (move the file away to start empty)`, { file: this.snapshotPath });
    };
    if (nl < 0) fail('no checksum line');
    const sum = text.slice(0, nl);
    const body = text.slice(nl + 1);
    if (createHash('sha256').update(body).digest('hex') !== sum) fail('checksum mismatch (torn or corrupt snapshot)');
    let doc: { format?: number; resourceVersion?: number; objects?: StoredEntry[] };
    try {
      doc = JSON.parse(body) as typeof doc;
    } catch {
      return fail('not valid JSON');
    }
    if (doc.format !== 1 || typeof doc.resourceVersion !== 'number' || !Array.isArray(doc.objects)) fail('unknown format');
    state.resourceVersion = doc.resourceVersion!;
    for (const e of doc.objects!) state.objects.set(entryKey(e.gr, e.obj.metadata.namespace ?? '', e.obj.metadata.name ?? ''), e);
  }

  /** Appends one record durably. Throws (and the store does not apply the write) if the disk refuses. */
  append(rec: LogRecord): void {
    const json = JSON.stringify(rec);
    const line = `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
    writeSync(this.fd, line);
    if (this.fsync) fdatasyncSync(this.fd);
    this.records++;
  }

  needsCompaction(): boolean {
    return this.records >= this.compactEvery;
  }

  /** Writes a snapshot of `objects` at `resourceVersion` atomically, then empties the log. */
  compact(resourceVersion: number, objects: Iterable<StoredEntry>): void {
    const body = JSON.stringify({ format: 1, resourceVersion, objects: [...objects] });
    const sum = createHash('sha256').update(body).digest('hex');
    const tmp = `${this.snapshotPath}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${sum}\n${body}`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.snapshotPath);
    this.syncDir();
    // The snapshot now covers every record; start a fresh log the same atomic way.
    const walTmp = `${this.walPath}.tmp`;
    writeFileSync(walTmp, '');
    if (this.fd >= 0) closeSync(this.fd);
    renameSync(walTmp, this.walPath);
    this.syncDir();
    this.fd = openSync(this.walPath, 'a');
    this.records = 0;
  }

  private syncDir(): void {
    try {
      const dfd = openSync(this.opts.dataDir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // Some filesystems do not allow fsync on a directory; the rename is still atomic.
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.unlock();
  }
}

function parseRecord(line: string): LogRecord | undefined {
  const sp = line.indexOf(' ');
  if (sp !== 8) return undefined;
  const json = line.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    const rec = JSON.parse(json) as LogRecord;
    if (typeof rec.rv !== 'number' || (rec.op !== 'put' && rec.op !== 'del') || typeof rec.gr !== 'string') return undefined;
    return rec;
  } catch {
    return undefined;
  }
}
