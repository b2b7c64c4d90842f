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
import type { ActiveFunction, NodeContext, NodeService } from '../server/context.ts';
import type { SqlCell, SqlChange } from '../store/sql-changes.ts';
import { ACCOUNT_ID } from '../aws/index.ts';
import { ChangeConsumer, changeFeedService } from './kv-changes.ts';
import type { ChangeSource } from './kv-changes.ts';

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

const D1_SOURCE: ChangeSource<D1Trigger> = {
  label: 'd1 change events',
  triggersOf: (fn) => fn.version.manifest.triggers.filter((t): t is D1Trigger => t.type === 'd1'),
  sourceOf: (t) => t.database,
  queueOf: d1QueueName,
  consumer: d1Consumer,
  feeds: (ctx) => ctx.store.sql.changeFeeds(),
  setFeeds: (ctx, database, queues) => ctx.store.sql.setChangeFeeds(database, queues),
  reapplyAlways: true,
};

export const d1ChangesService: NodeService = changeFeedService('d1-changes', D1_SOURCE);
