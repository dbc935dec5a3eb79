import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter } from './ratelimit.js';
import { WorkQueue } from './workqueue.js';
import { runWorkers } from './workers.js';
import { memoryLogger } from '../util/log.js';

const noLimit = () => new ItemExponentialRateLimiter<string>(1, 1);

test('keys come out in order, each once however often it was added', async () => {
  const q = new WorkQueue<string>();
  for (const k of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(k);
  assert.equal(q.len(), 3);
  const got = [await q.get(), await q.get(), await q.get()];
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.equal(q.len(), 0);
});

test('a key added while it is processed is handed out again only after done, and to one worker at a time', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'not queued while processing');
  let second: string | undefined;
  void q.get().then((k) => (second = k));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, undefined, 'no second worker gets "a" while it is processed');
  q.done('a');
  await new Promise((r) => setImmediate(r));
  assert.equal(second, 'a');
  q.done('a');
  assert.equal(q.len(), 0);
});

test('a waiting getter is woken by add', async () => {
  const q = new WorkQueue<string>();
  const next = q.get();
  q.add('x');
  assert.equal(await next, 'x');
});

test('addAfter delays a key; the earliest of several delays wins; dedup with a queued key', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const q = new WorkQueue<string>();
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 500);
    assert.equal(q.len(), 0);
    assert.equal(q.numWaiting(), 1);
    mock.timers.tick(49);
    assert.equal(q.len(), 0);
    mock.timers.tick(1);
    assert.equal(q.len(), 1);
    assert.equal(q.numWaiting(), 0);
    mock.timers.tick(1000);
    assert.equal(q.len(), 1, 'the later delays were merged into the earliest');
  } finally {
    mock.timers.reset();
  }
});

test('rate-limited retries back off exponentially per key until forgotten', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const q = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter<string>(5, 1_000_000) });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.addRateLimited('k');
      let waited = 0;
      while (q.len() === 0) {
        mock.timers.tick(1);
        waited++;
      }
      delays.push(waited);
      q.done((await q.get()) as string);
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 80]);
    assert.equal(q.numRequeues('k'), 5);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
  } finally {
    mock.timers.reset();
  }
});

test('the per-item limiter is capped; the token bucket spaces bursts; max-of combines them', () => {
  const item = new ItemExponentialRateLimiter<string>(5, 1000);
  const seq = Array.from({ length: 10 }, () => item.when('x'));
  assert.deepEqual(seq, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  assert.equal(item.when('other'), 5);

  let now = 0;
  const bucket = new BucketRateLimiter<string>(10, 3, () => now);
  assert.deepEqual([bucket.when('a'), bucket.when('b'), bucket.when('c')], [0, 0, 0]);
  assert.equal(bucket.when('d'), 100);
  assert.equal(bucket.when('e'), 200);
  now = 1000;
  assert.equal(bucket.when('f'), 0);

  const both = new MaxOfRateLimiter<string>(new ItemExponentialRateLimiter<string>(5, 1000), new BucketRateLimiter<string>(10, 1, () => 0));
  assert.equal(both.when('a'), 5);
  assert.equal(both.when('a'), 100);
  assert.equal(both.numRequeues('a'), 2);
});

test('shutDown refuses new keys, cancels delayed ones, and lets workers drain what is queued', async () => {
  const q = new WorkQueue<string>({ rateLimiter: noLimit() });
  q.add('a');
  q.add('b');
  q.addAfter('later', 10_000);
  q.shutDown();
  q.add('c');
  assert.equal(q.numWaiting(), 0);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(await q.get(), undefined);
  q.done('a');
  q.done('b');
});

test('shutDown wakes idle getters; shutDownWithDrain waits for keys in process', async () => {
  const q = new WorkQueue<string>();
  const idle = q.get();
  q.shutDown();
  assert.equal(await idle, undefined);

  const q2 = new WorkQueue<string>();
  q2.add('a');
  const key = await q2.get();
  let drained = false;
  const drain = q2.shutDownWithDrain().then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false);
  q2.done(key as string);
  await drain;
  assert.equal(drained, true);
});

test('runWorkers processes keys concurrently, never one key twice at once, and ends after shutdown', async () => {
  const q = new WorkQueue<string>({ rateLimiter: noLimit() });
  const active = new Set<string>();
  let maxParallel = 0;
  const seen: string[] = [];
  const done = runWorkers(q, 3, async (key) => {
    assert.ok(!active.has(key), `${key} processed twice at once`);
    active.add(key);
    maxParallel = Math.max(maxParallel, active.size);
    seen.push(key);
    await new Promise((r) => setTimeout(r, 10));
    active.delete(key);
  });
  for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) q.add(k);
  await new Promise((r) => setTimeout(r, 5));
  q.add('a'); // while "a" is processed: once more, afterwards
  await new Promise((r) => setTimeout(r, 60));
  await q.shutDownWithDrain();
  await done;
  assert.equal(maxParallel, 3);
  assert.deepEqual(seen.filter((k) => k === 'a').length, 2);
  assert.equal(seen.length, 7);
});

test('runWorkers retries a failing key with backoff up to maxRetries, then drops and logs it', async () => {
  const q = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter<string>(2, 50) });
  const logger = memoryLogger();
  const times: number[] = [];
  let flakyCalls = 0;
  const done = runWorkers(
    q,
    1,
    (key) => {
      if (key === 'bad') {
        times.push(Date.now());
        throw new Error('always fails');
      }
      flakyCalls++;
      if (flakyCalls < 3) throw new Error('fails twice');
    },
    { maxRetries: 4, logger },
  );
  q.add('bad');
  q.add('flaky');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(times.length, 5, 'first try plus 4 retries');
  for (let i = 2; i < times.length; i++) assert.ok((times[i] ?? 0) - (times[i - 1] ?? 0) >= 3, 'retries are spaced');
  assert.equal(q.numRequeues('bad'), 0, 'forgotten once dropped');
  assert.equal(flakyCalls, 3);
  assert.equal(q.numRequeues('flaky'), 0, 'forgotten after success');
  assert.ok(logger.lines.some((l) => l.includes('giving up') && l.includes('"key":"bad"')));
  q.shutDown();
  await done;
});
