import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpireQueue, type QueueItem } from './queue.js';

interface Item extends QueueItem {
  id: number;
}

test('the expire queue pops in expiry order through random pushes, updates and removals', () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < 50; round++) {
    const q = new ExpireQueue<Item>();
    const items: Item[] = Array.from({ length: 200 }, (_, id) => ({ id, expireAt: 0, heapIndex: -1 }));
    const queued = new Set<Item>();
    for (let op = 0; op < 600; op++) {
      const it = items[rand(items.length)]!;
      const kind = rand(4);
      if (kind === 0 || kind === 1) {
        it.expireAt = rand(1000);
        q.push(it);
        queued.add(it);
      } else if (kind === 2 && queued.has(it)) {
        it.expireAt = rand(1000);
        q.fix(it);
      } else {
        q.remove(it);
        queued.delete(it);
      }
      assert.equal(q.size, queued.size);
    }
    const expected = [...queued].map((i) => i.expireAt).sort((x, y) => x - y);
    const got: number[] = [];
    for (let it = q.pop(); it; it = q.pop()) {
      assert.equal(it.heapIndex, -1);
      got.push(it.expireAt);
    }
    assert.deepEqual(got, expected);
  }
});

test('popExpired only pops what is due', () => {
  const q = new ExpireQueue<Item>();
  q.push({ id: 1, expireAt: 10, heapIndex: -1 });
  q.push({ id: 2, expireAt: 5, heapIndex: -1 });
  assert.equal(q.popExpired(4), undefined);
  assert.equal(q.popExpired(5)?.id, 2);
  assert.equal(q.popExpired(9), undefined);
  assert.equal(q.peek()?.id, 1);
});
