/**
 * @module
 * End-to-end test of the order workflow from the engine's brief: Validate → Charge (retried on
 * PaymentRetryable) → Choice → Notify, with InvalidOrder caught into a Fail state.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskFailure } from './failure.ts';
import type { HistoryEvent } from './history.ts';
import { toPublicEvent } from './history.ts';
import { runWithTestHost, TestHost } from './testing.ts';

const ORDER = JSON.stringify({
  StartAt: 'Validate',
  States: {
    Validate: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:validate',
      ResultPath: '$.validation',
      Catch: [{ ErrorEquals: ['InvalidOrder'], ResultPath: '$.error', Next: 'Rejected' }],
      Next: 'Charge',
    },
    Charge: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:charge',
      Parameters: { 'orderId.$': '$.orderId', 'amount.$': '$.validation.total' },
      ResultSelector: { 'chargeId.$': '$.chargeId', 'attempts.$': '$.attempt' },
      ResultPath: '$.payment',
      Retry: [{ ErrorEquals: ['PaymentRetryable'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1.5 }],
      Next: 'NeedsReview',
    },
    NeedsReview: {
      Type: 'Choice',
      Choices: [{ Variable: '$.validation.total', NumericGreaterThan: 1000, Next: 'ManualReview' }],
      Default: 'Notify',
    },
    ManualReview: { Type: 'Pass', Result: { queued: true }, ResultPath: '$.review', Next: 'Notify' },
    Notify: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:notify',
      InputPath: '$',
      ResultPath: '$.notification',
      OutputPath: '$',
      End: true,
    },
    Rejected: { Type: 'Fail', Error: 'OrderRejected', Cause: 'The order did not pass validation' },
  },
});

function orderHost(failCharges: number): TestHost {
  let chargeAttempts = 0;
  return new TestHost({
    tasks: {
      validate: (input) => {
        const order = input as { orderId: string; amount: number };
        if (order.amount <= 0) throw new TaskFailure('InvalidOrder', 'amount must be positive');
        return { ok: true, total: order.amount };
      },
      charge: (input) => {
        chargeAttempts += 1;
        if (chargeAttempts <= failCharges) throw new TaskFailure('PaymentRetryable', 'gateway busy');
        const { orderId } = input as { orderId: string };
        return { chargeId: `ch_${orderId}`, attempt: chargeAttempts, ignored: 'x' };
      },
      notify: () => ({ sent: true }),
    },
  });
}

function types(events: HistoryEvent[]): string[] {
  return events.map((e) => e.type);
}

describe('order workflow', () => {
  it('charges with retries, skips review for small orders and notifies', async () => {
    const host = orderHost(2);
    const start = host.now();
    const { result, events } = await runWithTestHost(ORDER, { orderId: 'o1', amount: 250 }, { host });
    assert.equal(result.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(result.output ?? ''), {
      orderId: 'o1',
      amount: 250,
      validation: { ok: true, total: 250 },
      payment: { chargeId: 'ch_o1', attempts: 3 },
      notification: { sent: true },
    });
    // Charge received only the Parameters.
    assert.deepEqual(host.calls.find((c) => c.resource.endsWith(':charge'))?.input, { orderId: 'o1', amount: 250 });
    // Backoff: 1s, then 1.5s.
    assert.deepEqual(host.clock.sleeps.map((t) => t - start), [1000, 2500]);
    assert.equal(host.count('charge'), 3);
    assert.deepEqual(types(events), [
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1));
    const failed = toPublicEvent(events[9] as HistoryEvent);
    assert.deepEqual(failed['lambdaFunctionFailedEventDetails'], { error: 'PaymentRetryable', cause: 'gateway busy' });
    const scheduled = toPublicEvent(events[7] as HistoryEvent);
    assert.deepEqual(scheduled['lambdaFunctionScheduledEventDetails'], {
      resource: 'arn:aws:lambda:us-east-1:000000000000:function:charge',
      input: '{"orderId":"o1","amount":250}',
      inputDetails: { truncated: false },
    });
  });

  it('routes large orders through manual review', async () => {
    const { result } = await runWithTestHost(ORDER, { orderId: 'o2', amount: 5000 }, { host: orderHost(0) });
    assert.equal(result.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(result.output ?? '').review, { queued: true });
  });

  it('fails with OrderRejected when validation throws InvalidOrder', async () => {
    const { result, events } = await runWithTestHost(ORDER, { orderId: 'o3', amount: 0 }, { host: orderHost(0) });
    assert.deepEqual(result, { status: 'FAILED', error: 'OrderRejected', cause: 'The order did not pass validation' });
    assert.deepEqual(types(events).slice(-4), ['LambdaFunctionFailed', 'TaskStateExited', 'FailStateEntered', 'ExecutionFailed']);
    const exited = events.find((e) => e.type === 'TaskStateExited');
    assert.deepEqual(JSON.parse(String(exited?.['stateExitedEventDetails']?.['output'])), {
      orderId: 'o3',
      amount: 0,
      error: { Error: 'InvalidOrder', Cause: 'amount must be positive' },
    });
  });

  it('fails the execution when Charge exhausts its retries', async () => {
    const host = orderHost(10);
    const { result } = await runWithTestHost(ORDER, { orderId: 'o4', amount: 10 }, { host });
    assert.deepEqual(result, { status: 'FAILED', error: 'PaymentRetryable', cause: 'gateway busy' });
    assert.equal(host.count('charge'), 4);
  });
});
