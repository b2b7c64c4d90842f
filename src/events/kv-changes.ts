/**
 * @module
 * KV change events: a function whose outpost.toml has `[[kv_triggers]] namespace = "…"`
 * receives the namespace's puts and deletes as batches of records in the DynamoDB Streams
 * shape (eventName INSERT / MODIFY / REMOVE, Keys, NewImage, OldImage, SequenceNumber,
 * StreamViewType NEW_AND_OLD_IMAGES).
 *
 * Capture is the store's job (store/kv-changes.ts): this service tells the KvStore which
 * namespaces feed which queue (`__kv__<function>`), and the store writes each change record in
 * the same transaction as the KV write — so a crash can lose neither a change's record nor
 * create a record for a write that did not happen. The feeds are persisted, so writes made
 * while a node restarts are captured too.
 *
 * Delivery is ordered and at-least-once: one consumer per function receives in strict send
 * order (`receive({ ordered: true })`), so a batch that fails is retried, whole, before
 * anything after it — as a DynamoDB stream shard blocks on a failing batch — and after a crash
 * the unfinished batch comes back first. Lambda-style functions get `{ Records }` (a throw
 * retries the batch); Workers get `queue(batch)` with one message per record (any `retry()` or
 * throw retries the batch). After `max_retries` retries the batch's records are kept dead in
 * the function's queue (`outpost queues peek __kv__<fn> --dead`), and later records flow again.
 */
import { createHash } from 'node:crypto';
import type { D1Trigger, KvTrigger } from '../project/spec.ts';
import type { QueueBatchOutcome } from '../runtime/adapters/workers-queue.ts';
import type { ActiveFunction, NodeContext, NodeService, RunningService } from '../server/context.ts';
import type { KvChange, KvChangeImage } from '../store/kv-changes.ts';
import type { QueueMessage } from '../store/queues.ts';
import { ACCOUNT_ID } from '../aws/index.ts';
import { Wakeup } from './waiter.ts';

export const KV_QUEUE_PREFIX = '__kv__';

export function kvQueueName(fn: string): string {
  return `${KV_QUEUE_PREFIX}${fn}`;
}

type AttributeValue = { S: string } | { B: string } | { N: string };

/** A DynamoDB Streams record (AWS's documented shape), with Outpost's eventSource. */
export interface StreamRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: '1.1';
  eventSource: 'outpost:kv';
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: { key: { S: string } };
    NewImage?: Record<string, AttributeValue>;
    OldImage?: Record<string, AttributeValue>;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: 'NEW_AND_OLD_IMAGES';
  };
  eventSourceARN: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A value as an item attribute: `{S}` when the bytes are UTF-8 text, `{B}` (base64) otherwise. */
function valueAttribute(base64: string): AttributeValue {
  try {
    return { S: utf8.decode(Buffer.from(base64, 'base64')) };
  } catch {
    return { B: base64 };
  }
}

function image(key: string, img: KvChangeImage): Record<string, AttributeValue> {
  return {
    key: { S: key },
    value: valueAttribute(img.value),
    ...(img.metadata === undefined ? {} : { metadata: { S: JSON.stringify(img.metadata) } }),
    ...(img.expiration === undefined ? {} : { expiration: { N: String(img.expiration) } }),
  };
}

/** The stream record for one captured change. */
export function streamRecord(change: KvChange, region: string): StreamRecord {
  const keyBytes = Buffer.byteLength(change.key);
  const size = (img: KvChangeImage | undefined): number => (img ? keyBytes + Buffer.from(img.value, 'base64').byteLength + (img.metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(img.metadata))) : 0);
  return {
    eventID: createHash('md5').update(`${change.namespace}\u0000${change.sequence}`).digest('hex'),
    eventName: change.op === 'delete' ? 'REMOVE' : change.old ? 'MODIFY' : 'INSERT',
    eventVersion: '1.1',
    eventSource: 'outpost:kv',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(change.at / 1000),
      Keys: { key: { S: change.key } },
      ...(change.new ? { NewImage: image(change.key, change.new) } : {}),
      ...(change.old ? { OldImage: image(change.key, change.old) } : {}),
      SequenceNumber: change.sequence,
      SizeBytes: keyBytes + size(change.new) + size(change.old),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: `arn:aws:dynamodb:${region}:${ACCOUNT_ID}:table/${change.namespace}/stream/outpost`,
  };
}

export interface KvConsumerSettings {
  maxBatchSize: number;
  maxBatchTimeoutMs: number;
  /** Deliveries of a record before it is kept dead. */
  maxReceives: number;
  retryDelaySeconds: number;
  visibilityTimeoutSeconds: number;
}

/** The batching and retry settings a change feed trigger has (KV and D1 alike). */
export type FeedTriggerSettings = KvTrigger | D1Trigger;

export function kvConsumerSettings(trigger: FeedTriggerSettings, wallMs: number): KvConsumerSettings {
  return {
    maxBatchSize: trigger.maxBatchSize ?? 100,
    maxBatchTimeoutMs: (trigger.maxBatchTimeoutSeconds ?? 0) * 1000,
    maxReceives: (trigger.maxRetries ?? 3) + 1,
    retryDelaySeconds: trigger.retryDelaySeconds ?? 0,
    visibilityTimeoutSeconds: Math.ceil(wallMs / 1000) + 30,
  };
}

const LAMBDA_STYLES = new Set(['lambda', 'lambda-edge']);


/** Which feed a consumer reads and how its neutral records become the records a function sees. */
export interface ChangeFeed {
  queue: string;
  /** For logs: `kv change events`. */
  label: string;
  /** The invocation's trigger name in logs and metrics. */
  trigger: string;
  render(change: unknown, region: string): unknown;
}

/** Delivers one function's change records, one batch at a time, in order (KV and D1 change events). */
export class ChangeConsumer {
  readonly fn: string;
  readonly queue: string;
  readonly signature: string;
  readonly #ctx: NodeContext;
  readonly #settings: KvConsumerSettings;
  readonly #style: string;
  readonly #region: string;
  readonly #feed: ChangeFeed;
  #running = true;
  #wakeup = new Wakeup();
  #loop: Promise<void> = Promise.resolve();

  constructor(ctx: NodeContext, fn: ActiveFunction, trigger: FeedTriggerSettings, feed: ChangeFeed) {
    this.#ctx = ctx;
    this.#feed = feed;
    this.fn = fn.name;
    this.queue = feed.queue;
    const m = fn.version.manifest;
    this.#style = m.style;
    this.#region = m.platform['region'] ?? (ctx.region === 'local' ? 'us-east-1' : ctx.region);
    this.#settings = kvConsumerSettings(trigger, m.limits.wallMs);
    this.signature = JSON.stringify([fn.key, this.#settings]);
  }

  start(): void {
    this.#loop = this.#run().catch((e: unknown) => this.#ctx.logger.system('error', `${this.#feed.label} for ${this.fn} stopped: ${(e as Error).message}`));
  }

  wake(): void {
    this.#wakeup.wake();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
  }

  async #wait(ms: number): Promise<void> {
    if (!this.#running) return;
    await this.#wakeup.sleep(ms);
  }

  async #run(): Promise<void> {
    const queues = this.#ctx.store.queues;
    const s = this.#settings;
    while (this.#running) {
      if (s.maxBatchTimeoutMs > 0) {
        // Hold off until a full batch is waiting or the oldest record has waited long enough.
        const stats = await queues.stats(this.queue);
        if (stats.visible > 0 && stats.visible < s.maxBatchSize && stats.oldestSentAt !== undefined && Date.now() < stats.oldestSentAt + s.maxBatchTimeoutMs) {
          await this.#wait(stats.oldestSentAt + s.maxBatchTimeoutMs - Date.now());
          continue;
        }
      }
      const batch = await queues.receive(this.queue, { max: s.maxBatchSize, ordered: true, visibilityTimeoutSeconds: s.visibilityTimeoutSeconds, maxReceives: s.maxReceives });
      if (batch.length === 0) {
        const next = await queues.nextVisibleAt(this.queue);
        await this.#wait(next === undefined ? 60_000 : next - Date.now());
        continue;
      }
      await this.#deliver(batch);
    }
  }

  async #deliver(batch: QueueMessage[]): Promise<void> {
    const queues = this.#ctx.store.queues;
    let failure: string | undefined;
    try {
      const records = batch.map((m) => this.#feed.render(JSON.parse(new TextDecoder().decode(m.body)), this.#region));
      if (LAMBDA_STYLES.has(this.#style)) {
        await this.#ctx.invoke(this.fn, 'invoke', { Records: records }, { trigger: this.#feed.trigger });
      } else {
        const payload = { queue: this.queue, messages: batch.map((m, i) => ({ id: m.id, timestamp: m.sentAt, body: records[i], attempts: m.receiveCount })) };
        const { result } = await this.#ctx.invoke(this.fn, 'queue', payload, { trigger: this.#feed.trigger });
        const outcome = result as QueueBatchOutcome | undefined;
        if (outcome?.error) failure = `${outcome.error.name}: ${outcome.error.message}`;
        else if (outcome && outcome.retry.length > 0) failure = `${outcome.retry.length} records were retried`;
      }
    } catch (error) {
      const e = error as Error & { userError?: { name: string; message: string } };
      failure = e.userError ? `${e.userError.name}: ${e.userError.message}` : e.message;
    }
    if (failure === undefined) {
      await queues.ack(this.queue, batch.map((m) => m.receipt));
      return;
    }
    this.#ctx.logger.system('warn', `${this.#feed.label} → ${this.fn}: ${failure} (the batch of ${batch.length} will be retried)`);
    // The whole batch, so no record of it is delivered after a later one.
    for (const m of batch) {
      await queues.retry(this.queue, m.receipt, { delaySeconds: this.#settings.retryDelaySeconds, maxReceives: this.#settings.maxReceives, reason: failure });
    }
  }
}

function kvConsumer(ctx: NodeContext, fn: ActiveFunction, trigger: KvTrigger): ChangeConsumer {
  return new ChangeConsumer(ctx, fn, trigger, {
    queue: kvQueueName(fn.name),
    label: 'kv change events',
    trigger: 'kv',
    render: (change, region) => streamRecord(change as KvChange, region),
  });
}

/**
 * What one kind of change feed (KV namespaces, D1 databases) needs beyond what every feed
 * shares: which triggers subscribe, which source each reads, and how the store keeps the list
 * of queues a source writes its changes to.
 */
export interface ChangeSource<T> {
  label: string;
  triggersOf(fn: ActiveFunction): T[];
  /** The namespace or database a trigger follows. */
  sourceOf(trigger: T): string;
  queueOf(fn: string): string;
  consumer(ctx: NodeContext, fn: ActiveFunction, trigger: T): ChangeConsumer;
  feeds(ctx: NodeContext): Promise<Record<string, string[]>>;
  setFeeds(ctx: NodeContext, source: string, queues: string[]): Promise<void>;
  /** Set every source's feeds on each sync, even unchanged (D1: it also moves changes a crash left behind). */
  reapplyAlways?: boolean;
}

/** Keeps the store's change feeds and one consumer per subscribed function in step with the active functions. */
export class ChangeFeedEvents<T> {
  readonly #ctx: NodeContext;
  readonly #source: ChangeSource<T>;
  readonly #consumers = new Map<string, ChangeConsumer>();
  #unsubscribe: () => void = () => {};
  #unwatch: () => void = () => {};
  #syncing: Promise<void> = Promise.resolve();

  constructor(ctx: NodeContext, source: ChangeSource<T>) {
    this.#ctx = ctx;
    this.#source = source;
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.#ctx.store.queues.subscribe((queue) => this.#consumers.get(queue)?.wake());
    this.#unwatch = this.#ctx.onFunctionsChanged(() => void this.sync());
    await this.sync();
  }

  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync()).catch((e: unknown) => this.#ctx.logger.system('error', `${this.#source.label}: ${(e as Error).message}`));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const source = this.#source;
    const { queues } = this.#ctx.store;
    const wanted = new Map<string, { fn: ActiveFunction; trigger: T }>();
    const feeds = new Map<string, Set<string>>();
    for (const fn of this.#ctx.functions().values()) {
      for (const t of source.triggersOf(fn)) {
        const queue = source.queueOf(fn.name);
        if (!wanted.has(queue)) wanted.set(queue, { fn, trigger: t });
        feeds.set(source.sourceOf(t), (feeds.get(source.sourceOf(t)) ?? new Set()).add(queue));
      }
    }
    for (const queue of wanted.keys()) if (!(await queues.getQueue(queue))) await queues.createQueue(queue);
    const current = await source.feeds(this.#ctx);
    for (const name of new Set([...Object.keys(current), ...feeds.keys()])) {
      const want = [...(feeds.get(name) ?? [])].sort();
      const have = [...(current[name] ?? [])].sort();
      if (source.reapplyAlways || want.join('\u0000') !== have.join('\u0000')) await source.setFeeds(this.#ctx, name, want);
    }
    for (const [queue, c] of this.#consumers) {
      const w = wanted.get(queue);
      if (w && source.consumer(this.#ctx, w.fn, w.trigger).signature === c.signature) continue;
      this.#consumers.delete(queue);
      await c.stop();
    }
    for (const [queue, w] of wanted) {
      if (this.#consumers.has(queue)) continue;
      const c = source.consumer(this.#ctx, w.fn, w.trigger);
      this.#consumers.set(queue, c);
      c.start();
    }
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#unwatch();
    await this.#syncing;
    await Promise.all([...this.#consumers.values()].map((c) => c.stop()));
    this.#consumers.clear();
  }
}

/** Node services for change feeds: one ChangeFeedEvents each. */
export function changeFeedService<T>(name: string, source: ChangeSource<T>): NodeService {
  return {
    name,
    async start(ctx): Promise<RunningService> {
      const events = new ChangeFeedEvents(ctx, source);
      await events.start();
      return { close: () => events.close() };
    },
  };
}

const KV_SOURCE: ChangeSource<KvTrigger> = {
  label: 'kv change events',
  triggersOf: (fn) => fn.version.manifest.triggers.filter((t): t is KvTrigger => t.type === 'kv'),
  sourceOf: (t) => t.namespace,
  queueOf: kvQueueName,
  consumer: kvConsumer,
  feeds: (ctx) => ctx.store.kv.changeFeeds(),
  setFeeds: (ctx, namespace, queues) => ctx.store.kv.setChangeFeeds(namespace, queues),
};

export const kvChangesService: NodeService = changeFeedService('kv-changes', KV_SOURCE);
