import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOutpostError } from '../errors.ts';
import { ConcurrencyGate, UNRESERVED_MIN } from './concurrency.ts';


test('a reserved function runs at most its reservation; the next is THROTTLED with a retry hint', async () => {
  const gate = new ConcurrencyGate(1000);
  gate.reserve('a', 2);
  assert.equal(gate.enter('a', 0, 0), undefined);
  assert.equal(gate.enter('a', 0, 0), undefined);
  await assert.rejects(gate.enter('a', 0, 0) ?? Promise.resolve(), (e: unknown) => isOutpostError(e, 'THROTTLED') && e.status === 429 && e.details?.['retryAfterSeconds'] === 1);
  gate.leave('a');
  assert.equal(gate.enter('a', 0, 0), undefined);
});

test('unreserved functions share the total minus the reservations', async () => {
  const gate = new ConcurrencyGate(150);
  gate.reserve('big', 50);
  for (let i = 0; i < 100; i++) assert.equal(gate.enter(i % 2 ? 'x' : 'y', 0, 0), undefined);
  await assert.rejects(gate.enter('x', 0, 0) ?? Promise.resolve(), (e: unknown) => isOutpostError(e, 'THROTTLED'));
  // the reservation is still there for its function
  assert.equal(gate.enter('big', 0, 0), undefined);
});

test('reservations may not eat into the unreserved minimum; a refused one changes nothing', () => {
  const gate = new ConcurrencyGate(1000);
  gate.reserve('a', 600);
  assert.throws(() => gate.check('b', 1000 - UNRESERVED_MIN - 600 + 1), (e: unknown) => isOutpostError(e, 'RESERVED_CONCURRENCY_EXCEEDED'));
  assert.equal(gate.unreserved, 400);
  gate.check('b', 300);
  gate.reserve('b', 300);
  assert.equal(gate.unreserved, 100);
  // raising a's own reservation counts a's old value once, not twice
  assert.throws(() => gate.check('a', 601), (e: unknown) => isOutpostError(e, 'RESERVED_CONCURRENCY_EXCEEDED'));
  gate.check('a', 600);
  // reservations pending in the same deploy count too
  assert.throws(() => gate.check('c', 1, new Map([['a', 600], ['b', 300]])));
});

test('a queued invocation takes the first free slot, in order', async () => {
  const gate = new ConcurrencyGate(1000);
  gate.reserve('a', 1);
  gate.enter('a', 0, 0);
  const order: number[] = [];
  const first = gate.enter('a', 10_000, 2)?.then(() => order.push(1));
  const second = gate.enter('a', 10_000, 2)?.then(() => order.push(2));
  await assert.rejects(gate.enter('a', 10_000, 2) ?? Promise.resolve(), (e: unknown) => isOutpostError(e, 'THROTTLED'));
  assert.deepEqual(gate.usage('a'), { running: 1, queued: 2, reserved: 1 });
  gate.leave('a');
  await first;
  gate.leave('a');
  await second;
  assert.deepEqual(order, [1, 2]);
});

test('a queued invocation that finds no slot in time is THROTTLED', async () => {
  const gate = new ConcurrencyGate(1000);
  gate.reserve('a', 1);
  gate.enter('a', 0, 0);
  await assert.rejects(gate.enter('a', 5, 10) ?? Promise.resolve(), (e: unknown) => isOutpostError(e, 'THROTTLED'));
  assert.equal(gate.usage('a').queued, 0);
});

test('the node total has a floor', () => {
  assert.throws(() => new ConcurrencyGate(UNRESERVED_MIN - 1), (e: unknown) => isOutpostError(e, 'BAD_MAX_CONCURRENCY'));
});
