/**
 * @module
 * Cloudflare Queues' consumer shape: the `MessageBatch` a Worker's `queue(batch, env, ctx)`
 * receives, and the per-message outcome handed back to the host. The rules follow workerd:
 * an explicit ack or retry wins over the batch-wide calls made after it; after `ackAll()` a
 * `retry()` has no effect (and the other way round); when the handler throws, every message not
 * explicitly acknowledged is retried; when it returns, every message not retried is acknowledged.
 */

/** One message as the host delivers it (body already decoded from its content type). */
export interface QueueDelivery {
  id: string;
  /** Epoch ms of the send. */
  timestamp: number;
  body: unknown;
  attempts: number;
}

export interface QueueBatchPayload {
  queue: string;
  messages: QueueDelivery[];
}

/** What the host does with each message of the batch. */
export interface QueueBatchOutcome {
  /** Message ids to acknowledge. */
  ack: string[];
  /** Message ids to deliver again, with the delay the function asked for. */
  retry: Array<{ id: string; delaySeconds?: number }>;
  /** The handler's error, when it threw (messages not acknowledged are then retried). */
  error?: { name: string; message: string; stack?: string };
}

interface RetryOptions {
  delaySeconds?: unknown;
}

function delayOf(options: RetryOptions | undefined): number | undefined {
  const d = options?.delaySeconds;
  if (d === undefined || d === null) return undefined;
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > 43_200) throw new RangeError('delaySeconds must be a number between 0 and 43200');
  return Math.floor(d);
}

/**
 * Builds the batch object, runs `handler(batch)`, and reports what to do with each message.
 * Never throws for the handler's own error: that is part of the outcome.
 */
export async function runQueueBatch(payload: QueueBatchPayload, handler: (batch: object) => Promise<unknown>, warn: (message: string) => void): Promise<QueueBatchOutcome> {
  let ackAll = false;
  let retryAll: { delaySeconds?: number } | undefined;
  const acks = new Set<string>();
  const retries = new Map<string, { delaySeconds?: number }>();

  const messages = payload.messages.map((m) => {
    const message = {
      id: m.id,
      timestamp: new Date(m.timestamp),
      body: m.body,
      attempts: m.attempts,
      ack(): void {
        if (ackAll) return;
        if (retryAll) return warn(`Received a call to ack() on message ${m.id} after retryAll() was already called. Calling ack() on a message after calling retryAll() has no effect.`);
        if (retries.has(m.id)) return warn(`Received a call to ack() on message ${m.id} after retry() was already called. Calling ack() on a message after calling retry() has no effect.`);
        acks.add(m.id);
      },
      retry(options?: RetryOptions): void {
        const delaySeconds = delayOf(options);
        if (ackAll) return warn(`Received a call to retry() on message ${m.id} after ackAll() was already called. Calling retry() on a message after calling ackAll() has no effect.`);
        if (acks.has(m.id)) return warn(`Received a call to retry() on message ${m.id} after ack() was already called. Calling retry() on a message after calling ack() has no effect.`);
        retries.set(m.id, delaySeconds === undefined ? {} : { delaySeconds });
      },
    };
    return Object.freeze(message);
  });

  const batch = Object.freeze({
    queue: payload.queue,
    messages: Object.freeze(messages),
    ackAll(): void {
      if (retryAll) return warn('Received a call to ackAll() after retryAll() was already called. Calling ackAll() after calling retryAll() has no effect.');
      ackAll = true;
    },
    retryAll(options?: RetryOptions): void {
      const delaySeconds = delayOf(options);
      if (ackAll) return warn('Received a call to retryAll() after ackAll() was already called. Calling retryAll() after calling ackAll() has no effect.');
      retryAll = delaySeconds === undefined ? {} : { delaySeconds };
    },
  });

  let error: QueueBatchOutcome['error'];
  try {
    await handler(batch);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    error = { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  }

  const outcome: QueueBatchOutcome = { ack: [], retry: [], ...(error ? { error } : {}) };
  for (const m of payload.messages) {
    if (ackAll || acks.has(m.id)) outcome.ack.push(m.id);
    else if (retries.has(m.id)) outcome.retry.push({ id: m.id, ...retries.get(m.id) });
    else if (retryAll) outcome.retry.push({ id: m.id, ...retryAll });
    else if (error) outcome.retry.push({ id: m.id });
    else outcome.ack.push(m.id);
  }
  return outcome;
}
