import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBuckets } from './token-bucket.ts';

test('a bucket allows its burst, then refills at its rate, per key', () => {
  let now = 0;
  const buckets = new TokenBuckets({ rate: 2, burst: 3 }, { now: () => now });
  assert.deepEqual([1, 2, 3, 4].map(() => buckets.take('a').allowed), [true, true, true, false]);
  assert.equal(buckets.take('b').allowed, true, 'another key has its own bucket');
  const refused = buckets.take('a');
  assert.equal(refused.retryAfterSeconds, 1);
  now += 500; // one token back at 2/s
  assert.equal(buckets.take('a').allowed, true);
  assert.equal(buckets.take('a').allowed, false);
  now += 60_000;
  assert.equal(buckets.take('a').remaining, 2, 'refill stops at the burst size');
});

test('past maxKeys the least recently used key is forgotten', () => {
  const buckets = new TokenBuckets({ rate: 0, burst: 1 }, { maxKeys: 2, now: () => 0 });
  buckets.take('a');
  buckets.take('b');
  buckets.take('a'); // refused, and now most recently used
  buckets.take('c'); // evicts b
  assert.equal(buckets.take('a').allowed, false, 'a was kept');
  assert.equal(buckets.take('b').allowed, true, 'b was forgotten and starts over with a full bucket');
});
