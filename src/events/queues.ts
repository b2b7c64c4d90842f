/**
 * @module
 * Queue consumers: for every active function with a `queue` trigger, pull batches from the
 * queue store and invoke the function through the one dispatch path — Workers get
 * `queue(batch, env, ctx)` (dispatch kind 'queue'), Lambda-style functions the SQS event
 * (kind 'invoke') with `batchItemFailures` partial failure. Every message is leased before
 * delivery and settled after: acknowledged ones are deleted, failed ones retried after
 * retry_delay, and a message that has failed max_retries times goes to the dead-letter queue
 * once — or, with none configured, stays in its queue marked dead (Cloudflare drops it; Outpost
 * keeps it for `outpost queues list` and `dlq redrive`). A crash mid-batch leaves the leases to
 * expire, so unacknowledged work is delivered again: at-least-once, with ids to deduplicate.
 */
import { createHash } from 'node:crypto';
import { deserialize } from 'node:v8';
import type { QueueTrigger } from '../project/spec.ts';
import type { QueueBatchOutcome } from '../runtime/adapters/workers-queue.ts';
import type { ActiveFunction, NodeContext, NodeService, RunningService } from '../server/context.ts';
import type { QueueMessage, QueueStore } from '../store/queues.ts';
import { ACCOUNT_ID } from '../aws/index.ts';
import { RETRY_AFTER_SECONDS } from '../dispatch/index.ts';
import { isOutpostError } from '../errors.ts';
import { queuesApi } from './queues-api.ts';
import { Wakeup } from './waiter.ts';

/** Consumer settings with Cloudflare's defaults filled in. */
export interface ConsumerSettings {
  maxBatchSize: number;
  maxBatchTimeoutMs: number;
  /** Deliveries after which a failing message is dead-lettered; undefined = the queue's own redrive policy. */
  maxReceives: number | undefined;
  retryDelaySeconds: number;
  deadLetterQueue: string | undefined;
  maxConcurrency: number;
  visibilityTimeoutSeconds: number;
}

const WORKERS_STYLES = new Set(['workers-module', 'service-worker']);
const LAMBDA_STYLES = new Set(['lambda', 'lambda-edge']);

export function consumerSettings(trigger: QueueTrigger, style: string, wallMs: number): ConsumerSettings {
  const workers = WORKERS_STYLES.has(style);
  const batchTimeout = trigger.maxBatchTimeoutSeconds ?? (workers ? 5 : 0);
  const maxRetries = trigger.maxRetries ?? (workers ? 3 : undefined);
  return {
    maxBatchSize: Math.max(1, Math.min(trigger.maxBatchSize ?? 10, 10_000)),
    maxBatchTimeoutMs: Math.max(0, batchTimeout * 1000),
    maxReceives: maxRetries === undefined ? undefined : maxRetries + 1,
    retryDelaySeconds: trigger.retryDelaySeconds ?? 0,
    deadLetterQueue: trigger.deadLetterQueue,
    maxConcurrency: Math.max(1, trigger.maxConcurrency ?? (workers ? 10 : 5)),
    // A lease must outlast the invocation, or the message would be delivered twice at once.
    visibilityTimeoutSeconds: trigger.visibilityTimeoutSeconds ?? Math.ceil(wallMs / 1000) + 30 + batchTimeout,
  };
}

/** Decodes a stored body by its content type, as a Workers consumer sees it. */
export function decodeBody(m: Pick<QueueMessage, 'body' | 'contentType'>): unknown {
  switch (m.contentType) {
    case 'json':
      return JSON.parse(new TextDecoder().decode(m.body));
    case 'bytes':
      return m.body.buffer.slice(m.body.byteOffset, m.body.byteOffset + m.body.byteLength);
    case 'v8':
      return deserialize(m.body);
    default:
      return new TextDecoder().decode(m.body);
  }
}

/** SQS MessageAttributes ({Name: {DataType, StringValue, BinaryValue}}) in the Lambda event's spelling. */
function lambdaAttributes(attributes: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(attributes ?? {})) {
    const a = v as { DataType?: string; StringValue?: string; BinaryValue?: string };
    out[name] = {
      ...(a.StringValue === undefined ? {} : { stringValue: a.StringValue }),
      ...(a.BinaryValue === undefined ? {} : { binaryValue: a.BinaryValue }),
      stringListValues: [],
      binaryListValues: [],
      dataType: a.DataType ?? 'String',
    };
  }
  return out;
}

/** The SQS event a Lambda consumer receives (AWS's documented shape). */
export function sqsEvent(queue: string, region: string, messages: readonly QueueMessage[]): { Records: unknown[] } {
  return {
    Records: messages.map((m) => {
      const body = m.contentType === 'bytes' || m.contentType === 'v8' ? Buffer.from(m.body).toString('base64') : new TextDecoder().decode(m.body);
      return {
        messageId: m.id,
        receiptHandle: m.receipt,
        body,
        attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentAt),
          SenderId: m.senderId ?? ACCOUNT_ID,
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
        },
        messageAttributes: lambdaAttributes(m.attributes),
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${region}:${ACCOUNT_ID}:${queue}`,
        awsRegion: region,
      };
    }),
  };
}


/** Pulls one queue for one function until stopped. */
class Consumer {
  readonly fn: string;
  readonly queue: string;
  readonly settings: ConsumerSettings;
  readonly signature: string;
  readonly #ctx: NodeContext;
  readonly #queues: QueueStore;
  readonly #style: string;
  readonly #region: string;
  #running = true;
  #inFlight = 0;
  #wakeup = new Wakeup();
  #loop: Promise<void> = Promise.resolve();
  readonly #batches = new Set<Promise<void>>();

  constructor(ctx: NodeContext, fn: ActiveFunction, trigger: QueueTrigger) {
    this.#ctx = ctx;
    this.#queues = ctx.store.queues;
    this.fn = fn.name;
    this.queue = trigger.queue;
    const m = fn.version.manifest;
    this.#style = m.style;
    this.#region = m.platform['region'] ?? 'us-east-1';
    this.settings = consumerSettings(trigger, m.style, m.limits.wallMs);
    this.signature = JSON.stringify([fn.key, this.settings]);
  }

  start(): void {
    this.#loop = this.#run().catch((error: unknown) => this.#ctx.logger.system('error', `queue consumer ${this.fn} ← ${this.queue} stopped: ${(error as Error).message}`));
  }

  wake(): void {
    this.#wakeup.wake();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    await Promise.allSettled([...this.#batches]);
  }

  /** Waits until woken (a send, a settled batch) or `ms` passed. */
  async #wait(ms: number): Promise<void> {
    if (!this.#running) return;
    await this.#wakeup.sleep(ms);
  }

  #receive(max: number): Promise<QueueMessage[]> {
    return this.#queues.receive(this.queue, {
      max,
      visibilityTimeoutSeconds: this.settings.visibilityTimeoutSeconds,
      ...(this.settings.maxReceives === undefined ? {} : { maxReceives: this.settings.maxReceives, ...(this.settings.deadLetterQueue ? { deadLetterQueue: this.settings.deadLetterQueue } : {}) }),
    });
  }

  async #run(): Promise<void> {
    await this.#queues.createQueue(this.queue);
    if (this.settings.deadLetterQueue) await this.#queues.createQueue(this.settings.deadLetterQueue);
    while (this.#running) {
      if (this.#inFlight >= this.settings.maxConcurrency) {
        await this.#wait(60_000);
        continue;
      }
      const batch = await this.#receive(this.settings.maxBatchSize);
      if (batch.length === 0) {
        const next = await this.#queues.nextVisibleAt(this.queue);
        await this.#wait(next === undefined ? 60_000 : next - Date.now());
        continue;
      }
      // Wait up to max_batch_timeout for a full batch, holding the leases already taken.
      const deadline = Date.now() + this.settings.maxBatchTimeoutMs;
      while (this.#running && batch.length < this.settings.maxBatchSize && Date.now() < deadline) {
        await this.#wait(deadline - Date.now());
        batch.push(...(await this.#receive(this.settings.maxBatchSize - batch.length)));
      }
      this.#inFlight++;
      const work = this.#deliver(batch).finally(() => {
        this.#inFlight--;
        this.#batches.delete(work);
        this.wake();
      });
      this.#batches.add(work);
    }
  }

  async #deliver(batch: QueueMessage[]): Promise<void> {
    let outcome: QueueBatchOutcome;
    try {
      outcome = await this.#deliverUnthrottled(batch);
    } catch (error) {
      const e = error as Error & { userError?: { name: string; message: string } };
      const why = e.userError ? `${e.userError.name}: ${e.userError.message}` : e.message;
      outcome = { ack: [], retry: batch.map((m) => ({ id: m.id })), error: { name: 'Error', message: why } };
    }
    if (outcome.error) this.#ctx.logger.system('warn', `queue ${this.queue} → ${this.fn}: ${outcome.error.name}: ${outcome.error.message} (${outcome.retry.length} of ${batch.length} messages will be retried)`);
    await this.#settle(batch, outcome);
  }

  /**
   * Delivers the batch, trying again while the function is throttled (at its concurrency cap
   * after waiting for a slot). A throttle is not a failure: the batch keeps its lease (renewed),
   * so it is not received again — its receive count, which decides dead-lettering, stays as it
   * was. Only a consumer that stops mid-wait lets the lease run out.
   */
  async #deliverUnthrottled(batch: QueueMessage[]): Promise<QueueBatchOutcome> {
    for (let throttles = 0; ; throttles++) {
      try {
        return WORKERS_STYLES.has(this.#style) ? await this.#deliverWorkers(batch) : LAMBDA_STYLES.has(this.#style) ? await this.#deliverLambda(batch) : await this.#deliverGeneric(batch);
      } catch (error) {
        if (!isOutpostError(error, 'THROTTLED') || !this.#running) throw error;
        if (throttles === 0) this.#ctx.logger.system('warn', `queue ${this.queue} → ${this.fn}: throttled; the batch of ${batch.length} is kept and tried again every ${RETRY_AFTER_SECONDS} s`);
        for (const m of batch) await this.#queues.changeVisibility(this.queue, m.receipt, this.settings.visibilityTimeoutSeconds);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_SECONDS * 1000));
      }
    }
  }

  async #settle(batch: QueueMessage[], outcome: QueueBatchOutcome): Promise<void> {
    const byId = new Map(batch.map((m) => [m.id, m]));
    const acks = outcome.ack.flatMap((id) => byId.get(id)?.receipt ?? []);
    if (acks.length > 0) await this.#queues.ack(this.queue, acks);
    for (const r of outcome.retry) {
      const m = byId.get(r.id);
      if (!m) continue;
      const result = await this.#queues.retry(this.queue, m.receipt, {
        delaySeconds: r.delaySeconds ?? this.settings.retryDelaySeconds,
        ...(this.settings.maxReceives === undefined ? {} : { maxReceives: this.settings.maxReceives, ...(this.settings.deadLetterQueue ? { deadLetterQueue: this.settings.deadLetterQueue } : {}) }),
        ...(outcome.error ? { reason: `${outcome.error.name}: ${outcome.error.message}` } : {}),
      });
      if (result === 'dead') {
        this.#ctx.logger.system('warn', `queue ${this.queue}: message ${m.id} failed ${m.receiveCount} times; ${this.settings.deadLetterQueue ? `moved to ${this.settings.deadLetterQueue}` : 'kept as dead (no dead_letter_queue; see outpost queues list)'}`);
      }
    }
  }

  async #deliverWorkers(batch: QueueMessage[]): Promise<QueueBatchOutcome> {
    const payload = { queue: this.queue, messages: batch.map((m) => ({ id: m.id, timestamp: m.sentAt, body: decodeBody(m), attempts: m.receiveCount })) };
    const { result } = await this.#ctx.invoke(this.fn, 'queue', payload, { trigger: 'queue' });
    return result as QueueBatchOutcome;
  }

  async #deliverLambda(batch: QueueMessage[]): Promise<QueueBatchOutcome> {
    const { result } = await this.#ctx.invoke(this.fn, 'invoke', sqsEvent(this.queue, this.#region, batch), { trigger: 'queue' });
    const failures = (result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
    if (!Array.isArray(failures)) return { ack: batch.map((m) => m.id), retry: [] };
    const failed = new Set(failures.map((f: { itemIdentifier?: unknown }) => String(f?.itemIdentifier)));
    // An itemIdentifier that names no message of the batch fails the whole batch, as on AWS.
    if ([...failed].some((id) => !batch.some((m) => m.id === id))) return { ack: [], retry: batch.map((m) => ({ id: m.id })), error: { name: 'Error', message: 'batchItemFailures names an unknown itemIdentifier' } };
    return { ack: batch.filter((m) => !failed.has(m.id)).map((m) => m.id), retry: [...failed].map((id) => ({ id })) };
  }

  /** Other styles get the neutral batch (their adapters map it to their platform's shape). */
  async #deliverGeneric(batch: QueueMessage[]): Promise<QueueBatchOutcome> {
    const payload = { queue: this.queue, messages: batch.map((m) => ({ id: m.id, timestamp: m.sentAt, body: decodeBody(m), attempts: m.receiveCount })) };
    await this.#ctx.invoke(this.fn, 'queue', payload, { trigger: 'queue' });
    return { ack: batch.map((m) => m.id), retry: [] };
  }
}

/** Keeps one consumer per (function, queue trigger) of the active functions. */
export class QueueConsumers {
  readonly #ctx: NodeContext;
  readonly #consumers = new Map<string, Consumer>();
  #unsubscribe: () => void = () => {};
  #unwatch: () => void = () => {};
  #syncing: Promise<void> = Promise.resolve();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  start(): void {
    this.#unsubscribe = this.#ctx.store.queues.subscribe((queue) => {
      for (const c of this.#consumers.values()) if (c.queue === queue) c.wake();
    });
    this.#unwatch = this.#ctx.onFunctionsChanged(() => void this.sync());
    void this.sync();
  }

  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync()).catch((e: unknown) => this.#ctx.logger.system('error', `queue consumers: ${(e as Error).message}`));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const wanted = new Map<string, { fn: ActiveFunction; trigger: QueueTrigger }>();
    for (const fn of this.#ctx.functions().values()) {
      for (const t of fn.version.manifest.triggers) if (t.type === 'queue') wanted.set(`${fn.name}\u0000${t.queue}`, { fn, trigger: t });
    }
    for (const [key, c] of this.#consumers) {
      const w = wanted.get(key);
      if (w && new Consumer(this.#ctx, w.fn, w.trigger).signature === c.signature) continue;
      this.#consumers.delete(key);
      await c.stop();
    }
    for (const [key, w] of wanted) {
      if (this.#consumers.has(key)) continue;
      const c = new Consumer(this.#ctx, w.fn, w.trigger);
      this.#consumers.set(key, c);
      c.start();
    }
  }

  /** The consumers of a queue (for `outpost queues list`). */
  consumersOf(queue: string): Array<{ function: string; settings: ConsumerSettings }> {
    return [...this.#consumers.values()].filter((c) => c.queue === queue).map((c) => ({ function: c.fn, settings: c.settings }));
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#unwatch();
    await this.#syncing;
    await Promise.all([...this.#consumers.values()].map((c) => c.stop()));
    this.#consumers.clear();
  }
}

export const queuesService: NodeService = {
  name: 'queues',
  start(ctx): RunningService {
    const consumers = new QueueConsumers(ctx);
    consumers.start();
    return {
      controlRoutes: [queuesApi(ctx.store.queues, (queue) => consumers.consumersOf(queue))],
      close: () => consumers.close(),
    };
  },
};
