/**
 * @module
 * Asynchronous invocation, as Lambda does it: events accepted by async-enqueue.ts wait in the
 * function's internal queue `__async__<fn>`; this worker leases each one, runs the function
 * through the one dispatch path (`ctx.invoke(fn, 'invoke', event)`), and settles it:
 *
 * - success: acknowledged, and a record sent to the on-success destination if one is set;
 * - error: retried after ~1 minute, then ~2 minutes (the base delay is configurable), up to
 *   `asyncRetries` times (0–2, default 2); an event older than `asyncMaxAgeSeconds` (default
 *   6 hours) is not run again;
 * - given up: a record with condition `RetriesExhausted` or `EventAgeExceeded` goes to the
 *   on-failure destination (a queue, or a function invoked asynchronously) — or, with none set,
 *   the event stays in its queue marked dead (AWS discards it; Outpost keeps it for
 *   `outpost queues peek __async__<fn> --dead` and `outpost queues dlq redrive`).
 *
 * Settings come from the version's `platform` keys `asyncRetries`, `asyncMaxAgeSeconds`,
 * `onSuccess`, `onFailure` (`queue:<name>` or `function:<name>`), filled by the serverless.yml
 * and SAM loaders.
 *
 * At-least-once: a lease outlives the invocation; if the node dies mid-invocation the lease runs
 * out and the event runs again with the same request id. Destination records carry a dedup id
 * (`<requestId>:<condition>`), so a record re-sent after a crash within 5 minutes is stored once.
 */
import { RETRY_AFTER_SECONDS } from '../dispatch/index.ts';
import { isOutpostError } from '../errors.ts';
import type { InvocationError } from '../runtime/instance.ts';
import type { InvokeResult, NodeContext, NodeService, RunningService } from '../server/context.ts';
import type { QueueMessage, QueueStore } from '../store/queues.ts';
import { findFunction, functionArnOf, functionErrorBody } from '../aws/lambda.ts';
import type { FunctionErrorBody } from '../aws/lambda.ts';
import { asyncApi } from './async-api.ts';
import { ASYNC_QUEUE_PREFIX, asyncFunctionOf, asyncQueueName, enqueueAsync } from './async-enqueue.ts';
import type { AsyncEnvelope } from './async-enqueue.ts';
import { Wakeup } from './waiter.ts';

export type Destination = { type: 'queue' | 'function'; name: string };

export interface AsyncSettings {
  /** Retries after the first attempt (Lambda MaximumRetryAttempts, 0–2, default 2). */
  maxRetries: number;
  /** Events older than this are not run again (MaximumEventAgeInSeconds, 60–21600, default 21600). */
  maxAgeMs: number;
  onSuccess?: Destination;
  onFailure?: Destination;
}

export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_MAX_AGE_SECONDS = 21_600;
/** Lambda retries after about a minute, then about two. */
export const DEFAULT_RETRY_BASE_MS = 60_000;

/** `queue:<name>` or `function:<name>` (the loaders' spelling) → a destination. */
export function parseDestination(value: string | undefined): Destination | undefined {
  if (value === undefined) return undefined;
  const colon = value.indexOf(':');
  const type = value.slice(0, colon);
  const name = value.slice(colon + 1);
  if (colon <= 0 || name === '' || (type !== 'queue' && type !== 'function')) return undefined;
  return { type, name };
}

/** A function's async settings from its version's platform keys, with Lambda's defaults. */
export function asyncSettings(platform: Readonly<Record<string, string>>): AsyncSettings {
  const retries = Number(platform['asyncRetries'] ?? DEFAULT_MAX_RETRIES);
  const age = Number(platform['asyncMaxAgeSeconds'] ?? DEFAULT_MAX_AGE_SECONDS);
  const onSuccess = parseDestination(platform['onSuccess']);
  const onFailure = parseDestination(platform['onFailure']);
  return {
    maxRetries: Number.isInteger(retries) ? Math.max(0, Math.min(2, retries)) : DEFAULT_MAX_RETRIES,
    maxAgeMs: (Number.isFinite(age) && age > 0 ? age : DEFAULT_MAX_AGE_SECONDS) * 1000,
    ...(onSuccess ? { onSuccess } : {}),
    ...(onFailure ? { onFailure } : {}),
  };
}

export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded';
export type AfterFailure = { action: 'retry'; delayMs: number } | { action: 'give-up'; condition: FailureCondition };

/**
 * What to do after attempt number `attempt` (1 = the first) failed: retry after
 * `base × 2^(attempt−1)` while retries remain and the event would still be younger than the
 * maximum age when retried; otherwise give up with the condition Lambda reports.
 */
export function afterFailure(attempt: number, sentAt: number, now: number, settings: AsyncSettings, baseDelayMs: number): AfterFailure {
  if (attempt > settings.maxRetries) return { action: 'give-up', condition: 'RetriesExhausted' };
  const delayMs = baseDelayMs * 2 ** (attempt - 1);
  if (now + delayMs - sentAt > settings.maxAgeMs) return { action: 'give-up', condition: 'EventAgeExceeded' };
  return { action: 'retry', delayMs };
}

/** An event past its maximum age is not run (again). */
export function isExpired(sentAt: number, now: number, settings: AsyncSettings): boolean {
  return now - sentAt > settings.maxAgeMs;
}

/** The invocation record Lambda sends to a destination (AWS's documented shape). */
export interface DestinationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'Success' | FailureCondition;
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  responsePayload?: unknown;
}

export function destinationRecord(input: {
  now: number;
  requestId: string;
  functionArn: string;
  condition: 'Success' | FailureCondition;
  invokeCount: number;
  payload: unknown;
  /** The function's result (success) or error body (failure); absent when it was not run. */
  response?: { result: unknown } | { error: FunctionErrorBody };
}): DestinationRecord {
  const r = input.response;
  return {
    version: '1.0',
    timestamp: new Date(input.now).toISOString(),
    requestContext: { requestId: input.requestId, functionArn: input.functionArn, condition: input.condition, approximateInvokeCount: input.invokeCount },
    requestPayload: input.payload,
    ...(r === undefined
      ? {}
      : 'error' in r
        ? { responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' }, responsePayload: r.error }
        : { responseContext: { statusCode: 200, executedVersion: '$LATEST' }, responsePayload: r.result === undefined ? null : r.result }),
  };
}

/** What the worker needs of a node (a NodeContext fits; tests pass their own). */
export interface AsyncDeps {
  queues: QueueStore;
  invoke: NodeContext['invoke'];
  functions: NodeContext['functions'];
  logger: Pick<NodeContext['logger'], 'system'>;
  region: string;
  now?: () => number;
  /** First retry delay; the second is twice this (default 60 s; OUTPOST_ASYNC_RETRY_BASE_MS). */
  retryBaseMs?: number;
  /** Invocations of one function in flight at once (default 10). */
  concurrency?: number;
}


/** Delivers the queued asynchronous invocations of every function. */
export class AsyncInvoker {
  readonly #d: AsyncDeps;
  readonly #now: () => number;
  readonly #baseMs: number;
  readonly #concurrency: number;
  readonly #pumps = new Map<string, { wakeup: Wakeup; loop: Promise<void> }>();
  readonly #work = new Set<Promise<void>>();
  readonly #inFlight = new Map<string, number>();
  #running = false;
  #unsubscribe: () => void = () => {};

  constructor(deps: AsyncDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#baseMs = deps.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.#concurrency = deps.concurrency ?? 10;
  }

  /** Starts a delivery loop for every async queue, now and as new ones appear. */
  async start(): Promise<void> {
    this.#running = true;
    this.#unsubscribe = this.#d.queues.subscribe((queue) => {
      if (asyncFunctionOf(queue) === undefined) return;
      const pump = this.#pumps.get(queue);
      if (pump) pump.wakeup.wake();
      else this.#startPump(queue);
    });
    for (const q of await this.#d.queues.listQueues(ASYNC_QUEUE_PREFIX)) if (!this.#pumps.has(q.name)) this.#startPump(q.name);
  }

  async close(): Promise<void> {
    this.#running = false;
    this.#unsubscribe();
    for (const p of this.#pumps.values()) p.wakeup.wake();
    await Promise.all([...this.#pumps.values()].map((p) => p.loop));
    await Promise.allSettled([...this.#work]);
  }

  #startPump(queue: string): void {
    const pump = { wakeup: new Wakeup(), loop: Promise.resolve() };
    this.#pumps.set(queue, pump);
    pump.loop = this.#pump(queue, pump).catch((e: unknown) => this.#d.logger.system('error', `async invocations of ${asyncFunctionOf(queue) ?? queue} stopped: ${(e as Error).message}`));
  }

  async #pump(queue: string, pump: { wakeup: Wakeup }): Promise<void> {
    const wait = async (ms: number): Promise<void> => {
      if (this.#running) await pump.wakeup.sleep(ms);
    };
    while (this.#running) {
      const busy = this.#inFlight.get(queue) ?? 0;
      if (busy >= this.#concurrency) {
        await wait(60_000);
        continue;
      }
      const got = await this.#receive(queue, this.#concurrency - busy);
      if (got.length === 0) {
        const next = await this.#d.queues.nextVisibleAt(queue);
        await wait(next === undefined ? 60_000 : next - Date.now());
        continue;
      }
      for (const m of got) {
        this.#inFlight.set(queue, (this.#inFlight.get(queue) ?? 0) + 1);
        const work = this.#deliver(queue, m)
          .catch((e: unknown) => this.#d.logger.system('error', `async invocation ${m.id}: ${(e as Error).message}`))
          .finally(() => {
            this.#inFlight.set(queue, (this.#inFlight.get(queue) ?? 1) - 1);
            this.#work.delete(work);
            pump.wakeup.wake();
          });
        this.#work.add(work);
      }
    }
  }

  #receive(queue: string, max: number): Promise<QueueMessage[]> {
    const fn = this.#d.functions().get(asyncFunctionOf(queue) ?? '');
    // The lease must outlast the invocation, or the event would run twice at once.
    const lease = Math.ceil((fn?.version.manifest.limits.wallMs ?? 30_000) / 1000) + 30;
    return this.#d.queues.receive(queue, { max, visibilityTimeoutSeconds: lease });
  }

  /**
   * Delivers what is visible in `fn`'s queue now and settles it; resolves with how many events
   * were handled. The loop started by `start()` does this continuously; tests with an injected
   * clock call it directly.
   */
  async deliverVisible(fn: string): Promise<number> {
    const queue = asyncQueueName(fn);
    if (!(await this.#d.queues.getQueue(queue))) return 0;
    const got = await this.#receive(queue, 100);
    await Promise.all(got.map((m) => this.#deliver(queue, m)));
    return got.length;
  }

  async #deliver(queue: string, m: QueueMessage): Promise<void> {
    const name = asyncFunctionOf(queue) ?? '';
    const fn = this.#d.functions().get(name);
    const settings = asyncSettings(fn?.version.manifest.platform ?? {});
    const region = fn?.version.manifest.platform['region'] ?? (this.#d.region === 'local' ? 'us-east-1' : this.#d.region);
    const arn = `${functionArnOf(region, name)}:$LATEST`;
    let event: unknown;
    let trigger: string = 'async';
    try {
      const envelope = JSON.parse(new TextDecoder().decode(m.body)) as AsyncEnvelope;
      event = envelope.event;
      trigger = envelope.trigger ?? trigger;
    } catch {
      await this.#keepDead(queue, m, 'the stored event is not valid JSON');
      return;
    }
    // Every receive is counted as an attempt: one cut short by a crash may have run.
    const record = (condition: 'Success' | FailureCondition, invokeCount: number, response?: { result: unknown } | { error: FunctionErrorBody }): DestinationRecord =>
      destinationRecord({ now: this.#now(), requestId: m.id, functionArn: arn, condition, invokeCount, payload: event, ...(response ? { response } : {}) });

    if (isExpired(m.sentAt, this.#now(), settings)) {
      await this.#giveUp(queue, m, settings, record('EventAgeExceeded', m.receiveCount - 1), `older than ${settings.maxAgeMs / 1000} s (maximum event age)`);
      return;
    }
    let outcome: InvokeResult;
    try {
      outcome = await this.#invokeUnthrottled(queue, m, () => this.#d.invoke(name, 'invoke', event, { requestId: m.id, trigger }));
    } catch (error) {
      const body = this.#errorBody(error, m.id, fn?.version.manifest.limits.wallMs ?? 30_000, fn?.version.sourceRoot);
      const next = afterFailure(m.receiveCount, m.sentAt, this.#now(), settings, this.#baseMs);
      if (next.action === 'retry') {
        this.#d.logger.system('warn', `async invocation ${m.id} of ${name} failed (attempt ${m.receiveCount}: ${body.errorType}: ${body.errorMessage}); retrying in ${Math.round(next.delayMs / 1000)} s`);
        await this.#d.queues.retry(queue, m.receipt, { delaySeconds: next.delayMs / 1000 });
        return;
      }
      await this.#giveUp(queue, m, settings, record(next.condition, m.receiveCount, { error: body }), `${body.errorType}: ${body.errorMessage}`);
      return;
    }
    if (settings.onSuccess) await this.#send(settings.onSuccess, record('Success', m.receiveCount, { result: outcome.result }), `${m.id}:Success`);
    await this.#d.queues.ack(queue, [m.receipt]);
  }

  /**
   * Runs `invoke`, trying again while the function is throttled (at its concurrency cap after
   * waiting for a slot). A throttle is not a failed attempt: the event keeps its lease
   * (renewed), so its receive count — the attempt number — does not grow, and no failure
   * destination is involved. Only an invoker that stops mid-wait lets the lease run out.
   */
  async #invokeUnthrottled(queue: string, m: QueueMessage, invoke: () => Promise<InvokeResult>): Promise<InvokeResult> {
    for (let throttles = 0; ; throttles++) {
      try {
        return await invoke();
      } catch (error) {
        if (!isOutpostError(error, 'THROTTLED') || !this.#running) throw error;
        const name = asyncFunctionOf(queue) ?? queue;
        if (throttles === 0) this.#d.logger.system('warn', `async invocation ${m.id} of ${name} throttled; kept and tried again every ${RETRY_AFTER_SECONDS} s`);
        const wallMs = this.#d.functions().get(name)?.version.manifest.limits.wallMs ?? 30_000;
        await this.#d.queues.changeVisibility(queue, m.receipt, Math.ceil(wallMs / 1000) + 30);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_SECONDS * 1000));
      }
    }
  }

  #errorBody(error: unknown, requestId: string, wallMs: number, sourceRoot: string | undefined): FunctionErrorBody {
    if (isOutpostError(error) && error.code !== 'FUNCTION_NOT_FOUND') return functionErrorBody(error as InvocationError, { requestId, timeoutSeconds: wallMs / 1000, sourceRoot });
    if (isOutpostError(error, 'FUNCTION_NOT_FOUND')) return { errorType: 'ResourceNotFoundException', errorMessage: error.message };
    return { errorType: 'Runtime.Unknown', errorMessage: (error as Error).message };
  }

  async #giveUp(queue: string, m: QueueMessage, settings: AsyncSettings, record: DestinationRecord, why: string): Promise<void> {
    const name = asyncFunctionOf(queue) ?? queue;
    if (!settings.onFailure) {
      this.#d.logger.system('warn', `async invocation ${m.id} of ${name}: ${record.requestContext.condition} (${why}); no on-failure destination, kept as dead in ${queue}`);
      await this.#keepDead(queue, m, `${record.requestContext.condition}: ${why}`);
      return;
    }
    this.#d.logger.system('warn', `async invocation ${m.id} of ${name}: ${record.requestContext.condition} (${why}); sent to ${settings.onFailure.type} ${settings.onFailure.name}`);
    await this.#send(settings.onFailure, record, `${m.id}:${record.requestContext.condition}`);
    await this.#d.queues.ack(queue, [m.receipt]);
  }

  /** Marks the event dead in its own queue (kept, counted, redrivable). */
  async #keepDead(queue: string, m: QueueMessage, reason: string): Promise<void> {
    await this.#d.queues.retry(queue, m.receipt, { maxReceives: 1, reason });
  }

  /** Sends a destination record: a JSON message to a queue, or an async invocation of a function. */
  async #send(to: Destination, record: DestinationRecord, dedupId: string): Promise<void> {
    if (to.type === 'function') {
      // A Lambda ARN names the deployed name (serverless `service-stage-fn`); queue under Outpost's.
      const target = findFunction(this.#d.functions(), to.name)?.name ?? to.name;
      await enqueueAsync(this.#d.queues, target, record, { idempotencyKey: dedupId });
      return;
    }
    if (!(await this.#d.queues.getQueue(to.name))) await this.#d.queues.createQueue(to.name);
    await this.#d.queues.send(to.name, [{ body: new TextEncoder().encode(JSON.stringify(record)), contentType: 'json', dedupId }]);
  }
}

function retryBaseFromEnv(): number | undefined {
  const raw = process.env['OUTPOST_ASYNC_RETRY_BASE_MS'];
  const n = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

export const asyncService: NodeService = {
  name: 'async',
  async start(ctx): Promise<RunningService> {
    const base = retryBaseFromEnv();
    const invoker = new AsyncInvoker({
      queues: ctx.store.queues,
      invoke: ctx.invoke,
      functions: () => ctx.functions(),
      logger: ctx.logger,
      region: ctx.region,
      ...(base === undefined ? {} : { retryBaseMs: base }),
    });
    await invoker.start();
    return { controlRoutes: [asyncApi(ctx)], close: () => invoker.close() };
  },
};
