/**
 * @module
 * Accepting an asynchronous invocation (Lambda `InvocationType: Event`, `outpost invoke
 * --async`): the event is written to the function's internal queue `__async__<fn>` in the queue
 * store, and only then acknowledged, so a `kill -9` after the 202 loses nothing. The worker in
 * async.ts delivers it. This file only writes to the store, so the Lambda API and the control
 * API can accept invocations without holding the worker.
 *
 * The queue message id is the invocation's request id: the 202 carries it, and every attempt
 * of the function sees it as `context.awsRequestId` — the id a function needs to be idempotent.
 */
import type { QueueStore } from '../store/queues.ts';

export const ASYNC_QUEUE_PREFIX = '__async__';

/** The internal queue holding a function's pending asynchronous invocations. */
export function asyncQueueName(fn: string): string {
  return `${ASYNC_QUEUE_PREFIX}${fn}`;
}

/** The function whose invocations a queue holds, or undefined for other queues. */
export function asyncFunctionOf(queue: string): string | undefined {
  return queue.startsWith(ASYNC_QUEUE_PREFIX) && queue.length > ASYNC_QUEUE_PREFIX.length ? queue.slice(ASYNC_QUEUE_PREFIX.length) : undefined;
}

/** What is stored per invocation (JSON). */
export interface AsyncEnvelope {
  event: unknown;
  /** What caused the invocation, for logs and metrics (default `async`). */
  trigger?: 'object';
}

export interface EnqueueOptions {
  /**
   * A client-chosen id: a second invocation with the same id within the queue store's
   * deduplication window (5 minutes, as SQS) is not queued again; it answers the first one's
   * request id with `duplicate` true.
   */
  idempotencyKey?: string;
  /** Set by event sources that deliver through async invocation (S3 notifications: `object`). */
  trigger?: 'object';
}

export interface Enqueued {
  requestId: string;
  duplicate: boolean;
}

/** Durably queues one asynchronous invocation of `fn`; resolves once it is committed. */
export async function enqueueAsync(queues: QueueStore, fn: string, event: unknown, options: EnqueueOptions = {}): Promise<Enqueued> {
  const queue = asyncQueueName(fn);
  if (!(await queues.getQueue(queue))) await queues.createQueue(queue);
  const envelope: AsyncEnvelope = { event: event === undefined ? null : event, ...(options.trigger ? { trigger: options.trigger } : {}) };
  const [sent] = await queues.send(queue, [
    {
      body: new TextEncoder().encode(JSON.stringify(envelope)),
      contentType: 'json',
      ...(options.idempotencyKey === undefined ? {} : { dedupId: options.idempotencyKey }),
    },
  ]);
  if (!sent) throw new Error('the queue store accepted no message');
  return { requestId: sent.id, duplicate: sent.duplicate };
}
