import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runQueueBatch } from './workers-queue.ts';
import type { QueueBatchPayload } from './workers-queue.ts';

const payload: QueueBatchPayload = {
  queue: 'jobs',
  messages: ['a', 'b', 'c'].map((id, i) => ({ id, timestamp: Date.UTC(2030, 0, 1) + i, body: { id }, attempts: i + 1 })),
};

type Batch = { queue: string; messages: Array<{ id: string; timestamp: Date; body: unknown; attempts: number; ack(): void; retry(o?: object): void }>; ackAll(): void; retryAll(o?: object): void };

async function run(handler: (batch: Batch) => unknown): Promise<{ outcome: Awaited<ReturnType<typeof runQueueBatch>>; warnings: string[] }> {
  const warnings: string[] = [];
  const outcome = await runQueueBatch(payload, async (b) => handler(b as Batch), (w) => warnings.push(w));
  return { outcome, warnings };
}

test('the batch has Cloudflare\'s shape', async () => {
  await run((b) => {
    assert.equal(b.queue, 'jobs');
    assert.equal(b.messages.length, 3);
    assert.ok(b.messages[0]?.timestamp instanceof Date);
    assert.equal(b.messages[2]?.attempts, 3);
    assert.deepEqual(b.messages[1]?.body, { id: 'b' });
  });
});

test('returning acknowledges every message not retried; explicit retry keeps its delay', async () => {
  const { outcome } = await run((b) => b.messages[1]?.retry({ delaySeconds: 30 }));
  assert.deepEqual(outcome, { ack: ['a', 'c'], retry: [{ id: 'b', delaySeconds: 30 }] });
});

test('throwing retries every message not explicitly acknowledged', async () => {
  const { outcome } = await run((b) => {
    b.messages[0]?.ack();
    throw new TypeError('bad');
  });
  assert.deepEqual(outcome.ack, ['a']);
  assert.deepEqual(outcome.retry, [{ id: 'b' }, { id: 'c' }]);
  assert.equal(outcome.error?.name, 'TypeError');
});

test('retryAll and ackAll, and the warnings for calls they make pointless', async () => {
  const retried = await run((b) => {
    b.messages[0]?.ack();
    b.retryAll({ delaySeconds: 5 });
    b.messages[1]?.ack();
    b.ackAll();
  });
  assert.deepEqual(retried.outcome, { ack: ['a'], retry: [{ id: 'b', delaySeconds: 5 }, { id: 'c', delaySeconds: 5 }] });
  assert.equal(retried.warnings.length, 2);
  const acked = await run((b) => {
    b.ackAll();
    b.messages[0]?.retry();
    b.retryAll();
  });
  assert.deepEqual(acked.outcome, { ack: ['a', 'b', 'c'], retry: [] });
  assert.match(acked.warnings.join('\n'), /after ackAll\(\) was already called/);
});

test('a retry delay outside 0–43200 seconds is a RangeError', async () => {
  const { outcome } = await run((b) => b.messages[0]?.retry({ delaySeconds: 50_000 }));
  assert.equal(outcome.error?.name, 'RangeError');
});
