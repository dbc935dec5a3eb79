import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, Sleeper } from './backoff.js';

test('backoff doubles from the initial delay to the cap, and resets', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 30_000, jitter: 0 });
  const seq = Array.from({ length: 12 }, () => b.next());
  assert.deepEqual(seq, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000]);
  b.reset();
  assert.equal(b.next(), 100);
});

test('jitter draws each delay from [d·(1−jitter), d]', () => {
  const lo = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
  const hi = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
  assert.equal(lo.next(), 800);
  assert.equal(hi.next(), 1000);
  const real = new Backoff({ initialMs: 1000, jitter: 0.5 });
  for (let i = 0; i < 50; i++) {
    real.reset();
    const d = real.next();
    assert.ok(d >= 500 && d <= 1000, String(d));
  }
});

test('a sleeper can be cut short', async () => {
  const s = new Sleeper();
  const t0 = Date.now();
  const slept = s.sleep(10_000);
  setTimeout(() => s.cancel(), 10);
  assert.equal(await slept, false);
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(await s.sleep(5), true);
});
