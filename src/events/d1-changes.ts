/**
 * @module
 * D1 change events: a function whose outpost.toml has `[[d1_triggers]] database = "…"` receives
 * the database's row changes — every INSERT, UPDATE and DELETE of every table, whoever made it
 * (the binding, the D1 API) — as batches of records in the DynamoDB Streams shape (eventName
 * INSERT / MODIFY / REMOVE, Keys from the primary key, NewImage, OldImage, SequenceNumber).
 *
 * Capture is the store's job (store/sql-changes.ts): triggers in the database record each change
 * in the statement's own transaction, and the store moves them, in order, to the function's queue
 * `__d1__<function>`. Delivery is the KV change feed's (kv-changes.ts ChangeConsumer): ordered,
 * at-least-once, a failing batch retried whole before anything after it.
 */
import { createHash } from 'node:crypto';
import type { D1Trigger } from '../project/spec.ts';
import type { ActiveFunction, NodeContext, NodeService, RunningService } from '../server/context.ts';
import type { SqlCell, SqlChange } from '../store/sql-changes.ts';
import { ACCOUNT_ID } from '../aws/index.ts';
import { ChangeConsumer } from './kv-changes.ts';

export const D1_QUEUE_PREFIX = '__d1__';

export function d1QueueName(fn: string): string {
  return `${D1_QUEUE_PREFIX}${fn}`;
}

type AttributeValue = { S: string } | { N: string } | { B: string } | { NULL: true };

/** A DynamoDB Streams record for one row change, with Outpost's eventSource. */
export interface D1StreamRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: '1.1';
  eventSource: 'outpost:d1';
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: Record<string, AttributeValue>;
    NewImage?: Record<string, AttributeValue>;
    OldImage?: Record<string, AttributeValue>;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: 'NEW_AND_OLD_IMAGES';
  };
  /** `table/<database>.<table>`: one stream per table, as DynamoDB has. */
  eventSourceARN: string;
}

/** The stream record for one captured row change. */
export function d1StreamRecord(change: SqlChange, region: string): D1StreamRecord {
  const size = (img: Record<string, SqlCell> | undefined): number => (img ? Buffer.byteLength(JSON.stringify(img)) : 0);
  return {
    eventID: createHash('md5').update(`${change.database}\u0000${change.sequence}`).digest('hex'),
    eventName: change.op === 'insert' ? 'INSERT' : change.op === 'update' ? 'MODIFY' : 'REMOVE',
    eventVersion: '1.1',
    eventSource: 'outpost:d1',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(change.at / 1000),
      Keys: change.keys,
      ...(change.new ? { NewImage: change.new } : {}),
      ...(change.old ? { OldImage: change.old } : {}),
      SequenceNumber: change.sequence,
      SizeBytes: size(change.keys) + size(change.new) + size(change.old),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: `arn:aws:dynamodb:${region}:${ACCOUNT_ID}:table/${change.database}.${change.table}/stream/outpost`,
  };
}

function d1Consumer(ctx: NodeContext, fn: ActiveFunction, trigger: D1Trigger): ChangeConsumer {
  return new ChangeConsumer(ctx, fn, trigger, {
    queue: d1QueueName(fn.name),
    label: 'd1 change events',
    trigger: 'd1',
    render: (change, region) => d1StreamRecord(change as SqlChange, region),
  });
}

/** Keeps the SQL store's change feeds and one consumer per subscribed function in step with the active functions. */
export class D1ChangeEvents {
  readonly #ctx: NodeContext;
  readonly #consumers = new Map<string, ChangeConsumer>();
  #unsubscribe: () => void = () => {};
  #unwatch: () => void = () => {};
  #syncing: Promise<void> = Promise.resolve();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.#ctx.store.queues.subscribe((queue) => this.#consumers.get(queue)?.wake());
    this.#unwatch = this.#ctx.onFunctionsChanged(() => void this.sync());
    await this.sync();
  }

  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync()).catch((e: unknown) => this.#ctx.logger.system('error', `d1 change events: ${(e as Error).message}`));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const { sql, queues } = this.#ctx.store;
    const wanted = new Map<string, { fn: ActiveFunction; trigger: D1Trigger }>();
    const feeds = new Map<string, Set<string>>();
    for (const fn of this.#ctx.functions().values()) {
      for (const t of fn.version.manifest.triggers) {
        if (t.type !== 'd1') continue;
        if (!wanted.has(d1QueueName(fn.name))) wanted.set(d1QueueName(fn.name), { fn, trigger: t });
        feeds.set(t.database, (feeds.get(t.database) ?? new Set()).add(d1QueueName(fn.name)));
      }
    }
    for (const queue of wanted.keys()) if (!(await queues.getQueue(queue))) await queues.createQueue(queue);
    const current = await sql.changeFeeds();
    // Every fed database, even unchanged: setChangeFeeds also moves changes a crash left behind.
    for (const db of new Set([...Object.keys(current), ...feeds.keys()])) await sql.setChangeFeeds(db, [...(feeds.get(db) ?? [])]);
    for (const [queue, c] of this.#consumers) {
      const w = wanted.get(queue);
      if (w && d1Consumer(this.#ctx, w.fn, w.trigger).signature === c.signature) continue;
      this.#consumers.delete(queue);
      await c.stop();
    }
    for (const [queue, w] of wanted) {
      if (this.#consumers.has(queue)) continue;
      const c = d1Consumer(this.#ctx, w.fn, w.trigger);
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

export const d1ChangesService: NodeService = {
  name: 'd1-changes',
  async start(ctx): Promise<RunningService> {
    const events = new D1ChangeEvents(ctx);
    await events.start();
    return { close: () => events.close() };
  },
};
