import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Autoscaler } from './autoscaler.ts';

/** Samples `demand` every 25 ms from `from` for `ms`, as dispatch's watchdog does. */
function feed(a: Autoscaler, from: number, ms: number, demand: number): number {
  for (let t = from; t < from + ms; t += 25) a.sample(t, demand);
  return from + ms;
}

test('steady demand asks for ceil(demand / concurrency) instances', () => {
  const a = new Autoscaler();
  const now = feed(a, 0, 60_000, 250);
  assert.deepEqual(a.decide(now - 1, 3, 100), { desired: 3, panicking: false });
});

test('target utilisation leaves headroom as Knative does', () => {
  const a = new Autoscaler({ targetUtilisation: 0.7 });
  const now = feed(a, 0, 60_000, 70);
  assert.equal(a.decide(now - 1, 1, 100).desired, 1);
  const b = new Autoscaler({ targetUtilisation: 0.7 });
  const later = feed(b, 0, 60_000, 71);
  assert.equal(b.decide(later - 1, 1, 100).desired, 2);
});

test('a burst panics at once and scales to the panic window, not the stable one', () => {
  const a = new Autoscaler();
  let now = feed(a, 0, 60_000, 50); // one instance of 100 is enough
  assert.deepEqual(a.decide(now - 1, 1, 100), { desired: 1, panicking: false });
  now = feed(a, now, 6_000, 1000); // the panic window fills with 10× the capacity
  const d = a.decide(now - 1, 1, 100);
  assert.equal(d.panicking, true);
  assert.equal(d.desired, 10);
});

test('while panicking the count never goes down; panic ends a stable window after the burst', () => {
  const a = new Autoscaler();
  let now = feed(a, 0, 6_000, 1000);
  assert.deepEqual(a.decide(now - 1, 1, 100), { desired: 10, panicking: true });
  now = feed(a, now, 10_000, 0); // the burst is over
  assert.deepEqual(a.decide(now - 1, 10, 100), { desired: 10, panicking: true });
  now = feed(a, now, 60_000, 0);
  assert.deepEqual(a.decide(now, 10, 100), { desired: 0, panicking: false });
});

test('demand below twice the capacity does not panic', () => {
  const a = new Autoscaler();
  const now = feed(a, 0, 6_000, 150);
  assert.equal(a.decide(now - 1, 1, 100).panicking, false);
});

test('seconds without samples count as no demand', () => {
  const a = new Autoscaler();
  feed(a, 0, 1_000, 600);
  // one busy second in a 60 s window averages to 10
  assert.equal(a.decide(59_999, 1, 1).desired, 10);
  // ...and it leaves the window a minute later
  assert.equal(a.decide(61_000, 1, 1).desired, 0);
});
