/**
 * @module
 * Object change events: objects created or deleted in a bucket — through the R2 binding or the
 * S3 API alike, because capture is the object store's job (store/object-changes.ts) — reach
 *
 * - Lambda-style functions with an `object` trigger (serverless.yml `s3`, SAM `S3` events) as an
 *   **S3 event notification** (`{ Records: [ … ] }`, one record per invocation). S3 invokes
 *   Lambda asynchronously, and so does Outpost: the event is queued in the function's
 *   `__async__<fn>` queue (events/async.ts), which brings Lambda's retries, maximum event age and
 *   on-failure destination;
 * - queues named by outpost.toml `[[r2_notifications]]` rules, as **R2 event notification
 *   messages** (Cloudflare's body: account, action, bucket, object, eventTime, copySource), which
 *   the queue's consumers — a Worker's `queue()` handler, a Lambda, the SQS API — receive.
 *
 * This service tells the ObjectStore which buckets feed the internal queue `__objects__`; the
 * store writes each change record in the transaction of the object's metadata write, so a
 * `kill -9` loses nothing a client saw acknowledged. Here each record is matched against the
 * current rules (event type, prefix, suffix) and fanned out; only then is it acknowledged. A
 * crash in between sends it again, and the sends carry dedup ids (`<sequence>:…`), so within the
 * queue store's 5-minute window a target receives it once. Delivery is at-least-once.
 */
import type { ObjectTrigger, R2NotificationRule } from '../project/spec.ts';
import type { ActiveFunction, NodeContext, NodeService, RunningService } from '../server/context.ts';
import type { ObjectChange } from '../store/object-changes.ts';
import type { QueueMessage } from '../store/queues.ts';
import { ACCOUNT_ID } from '../aws/index.ts';
import { enqueueAsync } from './async-enqueue.ts';
import { Wakeup } from './waiter.ts';

/** The internal queue every captured bucket feeds. */
export const OBJECT_CHANGES_QUEUE = '__objects__';
/** The account id R2 notification messages carry (Cloudflare's are 32 hex digits). */
export const R2_ACCOUNT_ID = '00000000000000000000000000000000';

export type S3EventName = 'ObjectCreated:Put' | 'ObjectCreated:Copy' | 'ObjectCreated:CompleteMultipartUpload' | 'ObjectRemoved:Delete';

/** One record of an S3 event notification (AWS's documented shape, version 2.1). */
export interface S3EventRecord {
  eventVersion: '2.1';
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: S3EventName;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

export type R2Action = 'PutObject' | 'CopyObject' | 'CompleteMultipartUpload' | 'DeleteObject' | 'LifecycleDeletion';

/** The body of an R2 event notification message (Cloudflare's documented shape). */
export interface R2EventMessage {
  account: string;
  action: R2Action;
  bucket: string;
  /** size and eTag are absent for deletes. */
  object: { key: string; size?: number; eTag?: string };
  eventTime: string;
  copySource?: { bucket: string; object: string };
}

const S3_NAMES: Record<ObjectChange['action'], S3EventName> = {
  put: 'ObjectCreated:Put',
  copy: 'ObjectCreated:Copy',
  'complete-multipart': 'ObjectCreated:CompleteMultipartUpload',
  delete: 'ObjectRemoved:Delete',
};

const R2_ACTIONS: Record<ObjectChange['action'], R2Action> = {
  put: 'PutObject',
  copy: 'CopyObject',
  'complete-multipart': 'CompleteMultipartUpload',
  delete: 'DeleteObject',
};

export function s3EventName(change: Pick<ObjectChange, 'action'>): S3EventName {
  return S3_NAMES[change.action];
}

/**
 * A key as S3 event notifications spell it: form-URL-encoded (UTF-8 percent escapes, a space
 * as `+`), keeping letters, digits, `-_.*` and `/`. `decodeURIComponent(key.replaceAll('+', ' '))`
 * gives the key back, as AWS's examples do.
 */
export function s3EventKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.*/]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function keyMatches(key: string, prefix: string | undefined, suffix: string | undefined): boolean {
  return (prefix === undefined || key.startsWith(prefix)) && (suffix === undefined || key.endsWith(suffix));
}

/** Whether an S3 event type (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`, …) covers the event. */
export function s3EventTypeMatches(type: string, name: S3EventName): boolean {
  const full = `s3:${name}`;
  if (type.endsWith('*')) return full.startsWith(type.slice(0, -1));
  // DeleteMarkerCreated needs versioning, which Outpost's buckets do not have.
  return type === full;
}

export function matchesObjectTrigger(trigger: ObjectTrigger, change: ObjectChange): boolean {
  if (trigger.bucket !== change.bucket || !keyMatches(change.key, trigger.prefix, trigger.suffix)) return false;
  const name = s3EventName(change);
  return trigger.events.some((t) => s3EventTypeMatches(t, name));
}

export function matchesR2Rule(rule: R2NotificationRule, change: ObjectChange): boolean {
  if (rule.bucket !== change.bucket || !keyMatches(change.key, rule.prefix, rule.suffix)) return false;
  return rule.events.includes(change.action === 'delete' ? 'object-delete' : 'object-create');
}

/** S3's sequencer: hex, comparable between events of one key (longer or greater is later). */
function sequencer(sequence: string): string {
  return BigInt(sequence).toString(16).toUpperCase().padStart(16, '0');
}

/** The S3 event notification record for one captured change. */
export function s3EventRecord(change: ObjectChange, options: { region: string; configurationId: string }): S3EventRecord {
  const requestId = sequencer(change.sequence);
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: options.region,
    eventTime: new Date(change.at).toISOString(),
    eventName: s3EventName(change),
    userIdentity: { principalId: `AWS:${ACCOUNT_ID}` },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': requestId, 'x-amz-id-2': Buffer.from(`outpost/${change.sequence}`).toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: options.configurationId,
      bucket: { name: change.bucket, ownerIdentity: { principalId: ACCOUNT_ID }, arn: `arn:aws:s3:::${change.bucket}` },
      object: {
        key: s3EventKey(change.key),
        ...(change.size === undefined ? {} : { size: change.size }),
        ...(change.etag === undefined ? {} : { eTag: change.etag }),
        sequencer: requestId,
      },
    },
  };
}

/** The R2 event notification message body for one captured change. */
export function r2EventMessage(change: ObjectChange, account = R2_ACCOUNT_ID): R2EventMessage {
  const deleted = change.action === 'delete';
  return {
    account,
    action: R2_ACTIONS[change.action],
    bucket: change.bucket,
    object: {
      key: change.key,
      ...(deleted || change.size === undefined ? {} : { size: change.size }),
      ...(deleted || change.etag === undefined ? {} : { eTag: change.etag }),
    },
    eventTime: new Date(change.at).toISOString(),
    ...(change.copySource ? { copySource: { bucket: change.copySource.bucket, object: change.copySource.key } } : {}),
  };
}

const LAMBDA_STYLES = new Set(['lambda', 'lambda-edge']);
/** Deliveries of a change record before it is kept dead in `__objects__`. */
const MAX_RECEIVES = 10;
const BATCH = 100;
const VISIBILITY_SECONDS = 60;
const RETRY_DELAY_SECONDS = 5;

interface Subscribers {
  /** Lambda-style functions and their object triggers (the index makes the configuration id). */
  lambdas: Array<{ fn: string; region: string; triggers: Array<{ trigger: ObjectTrigger; id: string }> }>;
  rules: R2NotificationRule[];
}

/** Who receives what, from the active functions. */
export function subscribersOf(functions: Iterable<ActiveFunction>, nodeRegion: string): Subscribers {
  const out: Subscribers = { lambdas: [], rules: [] };
  for (const fn of functions) {
    const m = fn.version.manifest;
    const triggers: Array<{ trigger: ObjectTrigger; id: string }> = [];
    m.triggers.forEach((t, i) => {
      if (t.type === 'object' && LAMBDA_STYLES.has(m.style)) triggers.push({ trigger: t, id: `${fn.name}-s3-${i}` });
      if (t.type === 'r2-notification') out.rules.push(t);
    });
    if (triggers.length > 0) out.lambdas.push({ fn: fn.name, region: m.platform['region'] ?? (nodeRegion === 'local' ? 'us-east-1' : nodeRegion), triggers });
  }
  return out;
}

/** Matches each captured change against the current subscribers and fans it out. */
export class ObjectChangeEvents {
  readonly #ctx: NodeContext;
  #subscribers: Subscribers = { lambdas: [], rules: [] };
  #running = false;
  #wakeup = new Wakeup();
  #loop: Promise<void> = Promise.resolve();
  #unsubscribe: () => void = () => {};
  #unwatch: () => void = () => {};
  #syncing: Promise<void> = Promise.resolve();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  async start(): Promise<void> {
    const queues = this.#ctx.store.queues;
    this.#unsubscribe = queues.subscribe((queue) => {
      if (queue === OBJECT_CHANGES_QUEUE) this.#wakeup.wake();
    });
    this.#unwatch = this.#ctx.onFunctionsChanged(() => void this.sync());
    await this.sync();
    this.#running = true;
    this.#loop = this.#run().catch((e: unknown) => this.#ctx.logger.system('error', `object change events stopped: ${(e as Error).message}`));
  }

  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync()).catch((e: unknown) => this.#ctx.logger.system('error', `object change events: ${(e as Error).message}`));
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const { objects, queues } = this.#ctx.store;
    const subs = subscribersOf(this.#ctx.functions().values(), this.#ctx.region);
    const buckets = new Set([...subs.lambdas.flatMap((l) => l.triggers.map((t) => t.trigger.bucket)), ...subs.rules.map((r) => r.bucket)]);
    // serverless.yml and SAM create the buckets their events name; R2 binding buckets are created on first use.
    for (const bucket of buckets) {
      try {
        await objects.createBucket(bucket);
      } catch (e) {
        this.#ctx.logger.system('warn', `object change events: bucket ${bucket}: ${(e as Error).message}`);
      }
    }
    for (const rule of subs.rules) if (!(await queues.getQueue(rule.queue))) await queues.createQueue(rule.queue);
    // Created on first use, so a node without object events has no such queue.
    if (buckets.size > 0 && !(await queues.getQueue(OBJECT_CHANGES_QUEUE))) {
      await queues.createQueue(OBJECT_CHANGES_QUEUE);
      this.#wakeup.wake();
    }
    const current = await objects.changeFeeds();
    for (const bucket of new Set([...Object.keys(current), ...buckets])) {
      const want = buckets.has(bucket) ? [OBJECT_CHANGES_QUEUE] : [];
      if ((current[bucket] ?? []).join('\u0000') !== want.join('\u0000')) await objects.setChangeFeeds(bucket, want);
    }
    this.#subscribers = subs;
  }

  async #run(): Promise<void> {
    const queues = this.#ctx.store.queues;
    while (this.#running) {
      if (!(await queues.getQueue(OBJECT_CHANGES_QUEUE))) {
        await this.#sleep(60_000);
        continue;
      }
      const batch = await queues.receive(OBJECT_CHANGES_QUEUE, { max: BATCH, visibilityTimeoutSeconds: VISIBILITY_SECONDS, maxReceives: MAX_RECEIVES });
      if (batch.length === 0) {
        const next = await queues.nextVisibleAt(OBJECT_CHANGES_QUEUE);
        await this.#sleep(next === undefined ? 60_000 : next - Date.now());
        continue;
      }
      await this.#syncing;
      for (const m of batch) await this.#deliver(m);
    }
  }

  async #sleep(ms: number): Promise<void> {
    if (!this.#running) return;
    // A wake that came while the queue was being read makes this return at once.
    await this.#wakeup.sleep(ms);
  }

  async #deliver(m: QueueMessage): Promise<void> {
    const queues = this.#ctx.store.queues;
    try {
      const change = JSON.parse(new TextDecoder().decode(m.body)) as ObjectChange;
      const subs = this.#subscribers;
      for (const l of subs.lambdas) {
        const hit = l.triggers.find((t) => matchesObjectTrigger(t.trigger, change));
        if (!hit) continue;
        const event = { Records: [s3EventRecord(change, { region: l.region, configurationId: hit.id })] };
        await enqueueAsync(queues, l.fn, event, { idempotencyKey: `s3:${change.sequence}:${hit.id}`, trigger: 'object' });
      }
      const sent = new Set<string>();
      for (const rule of subs.rules) {
        if (sent.has(rule.queue) || !matchesR2Rule(rule, change)) continue;
        sent.add(rule.queue);
        // The rule's queue was created with the rule; it may have been deleted since.
        if (!(await queues.getQueue(rule.queue))) await queues.createQueue(rule.queue);
        const body = new TextEncoder().encode(JSON.stringify(r2EventMessage(change)));
        await queues.send(rule.queue, [{ body, contentType: 'json', dedupId: `r2:${change.bucket}:${change.sequence}` }]);
      }
      await queues.ack(OBJECT_CHANGES_QUEUE, [m.receipt]);
    } catch (error) {
      const reason = (error as Error).message;
      this.#ctx.logger.system('warn', `object change events: ${reason} (the change will be retried)`);
      await queues.retry(OBJECT_CHANGES_QUEUE, m.receipt, { delaySeconds: RETRY_DELAY_SECONDS, maxReceives: MAX_RECEIVES, reason });
    }
  }

  async close(): Promise<void> {
    this.#running = false;
    this.#unsubscribe();
    this.#unwatch();
    this.#wakeup.wake();
    await this.#syncing;
    await this.#loop;
  }
}

export const objectChangesService: NodeService = {
  name: 'object-changes',
  async start(ctx): Promise<RunningService> {
    const events = new ObjectChangeEvents(ctx);
    await events.start();
    return { close: () => events.close() };
  },
};
