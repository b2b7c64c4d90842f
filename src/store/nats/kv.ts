/**
 * @module
 * KvStore (Workers KV) on one NATS KV bucket. A key's subject is `<namespace>.<key>`, each
 * encoded as one token (keys.ts), so a namespace is a subject filter and listing it never reads
 * another namespace. An entry's data is an envelope (envelope.ts) of
 * `{ m: metadata, e: expiration }` and the value's bytes, in one message: a value over the
 * server's max_payload is refused with STORE_VALUE_TOO_LARGE before anything is sent.
 *
 * TTLs: the bucket has no per-key TTL on nats-server 2.9, so the expiration (seconds) is
 * stored with the value and compared with the store's clock on every read — exact to the
 * second, and the injected clock of the contract works. An expired entry found by a read is
 * deleted then (with the revision read, so a newer write is never lost); one nobody reads again
 * stays in the bucket until it is overwritten or deleted.
 *
 * Listing scans the namespace's newest entries (scan.ts), sorts keys by code point and pages
 * with a cursor (the last key returned, base64url) — one scan per page, fine for the namespaces
 * of functions, slow for millions of keys.
 *
 * Change feeds (kv-changes.ts): the feed sets are shared by the fleet (feeds.ts). A captured
 * write is a compare-and-set on the key (cas.ts, ordered through the stream where the server needs it) (so the old image is exactly what was replaced), then
 * a send of the change to each queue with the key's new revision in the dedup id. That is **not** one transaction: if the node dies between the write and the send,
 * the write stands and its record is lost; a retried send within the queue's dedup window is
 * accepted once. The embedded store's guarantee (never a write without its record) does not
 * hold on NATS.
 */
import type { KV, KvEntry } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import { OutpostError, isOutpostError } from '../../errors.ts';
import { formatSequence } from '../kv-changes.ts';
import type { KvChange, KvChangeImage } from '../kv-changes.ts';
import type { QueueStore } from '../queues.ts';
import type { KvListResult, KvStore, KvValue } from '../types.ts';
import { compareKeys, decodeToken, encodeToken } from './keys.ts';
import { isWrongLastSequence } from './errors.ts';
import { compareAndPublish } from './cas.ts';
import { headers } from '@nats-io/nats-core';
import { lastPerSubject } from './scan.ts';
import type { FeedSets } from './feeds.ts';
import { packEnvelope, unpackEnvelope } from './envelope.ts';

interface Envelope {
  m?: unknown;
  e?: number;
}

function pack(entry: KvValue): Uint8Array {
  return packEnvelope({ ...(entry.metadata === undefined ? {} : { m: entry.metadata }), ...(entry.expiration === undefined ? {} : { e: entry.expiration }) }, entry.value);
}

function unpack(data: Uint8Array): KvValue {
  const { head, body } = unpackEnvelope<Envelope>(data);
  return { value: body, ...(head.m === undefined ? {} : { metadata: head.m }), ...(head.e === undefined ? {} : { expiration: head.e }) };
}

function image(v: KvValue): KvChangeImage {
  return { value: Buffer.from(v.value).toString('base64'), ...(v.metadata === undefined ? {} : { metadata: v.metadata }), ...(v.expiration === undefined ? {} : { expiration: v.expiration }) };
}

function same(a: KvValue, b: KvValue): boolean {
  return Buffer.from(a.value).equals(b.value) && JSON.stringify(a.metadata) === JSON.stringify(b.metadata) && a.expiration === b.expiration;
}

export class NatsKv implements KvStore {
  readonly #kv: KV;
  readonly #js: JetStreamClient;
  readonly #bucket: string;
  readonly #queues: QueueStore;
  readonly #now: () => number;
  /** namespace → capture queues (feeds.ts). */
  readonly #feeds: FeedSets;

  /** The largest message the connected server accepts (its max_payload). */
  readonly #maxPayload: () => number | undefined;

  /** Compare-and-set needs the stream order (cas.ts needsStreamOrder). */
  readonly #streamOrder: boolean;
  /** The bucket stream's last sequence as this node last saw it applied (its own captured writes). */
  #lastSequence = 0;

  constructor(opts: { kv: KV; js: JetStreamClient; bucket: string; feeds: FeedSets; queues: QueueStore; now: () => number; maxPayload: () => number | undefined; streamOrder: boolean }) {
    this.#streamOrder = opts.streamOrder;
    this.#maxPayload = opts.maxPayload;
    this.#kv = opts.kv;
    this.#js = opts.js;
    this.#bucket = opts.bucket;
    this.#feeds = opts.feeds;
    this.#queues = opts.queues;
    this.#now = opts.now;
  }

  #token(namespace: string, key: string): string {
    return `${encodeToken(namespace)}.${encodeToken(key)}`;
  }

  #live(value: KvValue): boolean {
    return value.expiration === undefined || value.expiration > Math.floor(this.#now() / 1000);
  }

  /** The live value and the revision it was read at (an expired value is deleted here). */
  async #read(token: string): Promise<{ value?: KvValue; revision: number }> {
    const entry: KvEntry | null = await this.#kv.get(token);
    if (!entry || entry.operation !== 'PUT') return { revision: entry?.revision ?? 0 };
    const value = unpack(entry.value);
    if (this.#live(value)) return { value, revision: entry.revision };
    await this.#kv.delete(token, { previousSeq: entry.revision }).catch((error: unknown) => {
      if (!isWrongLastSequence(error)) throw error;
    });
    return { revision: entry.revision };
  }

  async get(namespace: string, key: string): Promise<KvValue | undefined> {
    return (await this.#read(this.#token(namespace, key))).value;
  }

  async put(namespace: string, key: string, entry: KvValue): Promise<void> {
    const feeds = this.#feeds.get(namespace);
    const token = this.#token(namespace, key);
    const data = pack(entry);
    const limit = this.#maxPayload();
    // 256 bytes left for the subject and headers that travel with the message.
    if (limit !== undefined && data.byteLength + 256 > limit) {
      throw new OutpostError('STORE_VALUE_TOO_LARGE', `the value of ${namespace}/${key} is ${entry.value.byteLength} bytes; the NATS server takes at most ${limit} bytes in one message`, {
        status: 413,
        hint: 'raise max_payload in the nats-server config (32MB covers Workers KV\'s 25 MiB), or store large values in R2',
      });
    }
    if (!feeds) {
      await this.#kv.put(token, data);
      return;
    }
    await this.#captured(namespace, key, token, feeds, entry);
  }

  async delete(namespace: string, key: string): Promise<void> {
    const feeds = this.#feeds.get(namespace);
    const token = this.#token(namespace, key);
    if (!feeds) {
      await this.#kv.delete(token);
      return;
    }
    await this.#captured(namespace, key, token, feeds);
  }

  /** A write with compare-and-set on the key, then its change record to each feed queue. */
  async #captured(namespace: string, key: string, token: string, feeds: readonly string[], next?: KvValue): Promise<void> {
    for (;;) {
      const { value: old, revision: readAt } = await this.#read(token);
      if (next === undefined ? old === undefined : old !== undefined && same(old, next)) return;
      // readAt is the subject's last sequence (a delete marker's too), which the write expects.
      let hdrs;
      if (next === undefined) {
        hdrs = headers();
        hdrs.set('KV-Operation', 'DEL');
      }
      const revision = await compareAndPublish(this.#js, {
        stream: `KV_${this.#bucket}`,
        subject: `$KV.${this.#bucket}.${token}`,
        data: next === undefined ? '' : pack(next),
        expectedRevision: readAt,
        lastSequence: this.#lastSequence,
        currentRevision: async () => (await this.#kv.get(token))?.revision ?? 0,
        streamOrder: this.#streamOrder,
        seen: (sequence) => (this.#lastSequence = Math.max(this.#lastSequence, sequence)),
        ...(hdrs ? { headers: hdrs } : {}),
      });
      if (revision === undefined) continue; // another writer got there first: read again
      this.#lastSequence = Math.max(this.#lastSequence, revision);
      const change: KvChange = {
        namespace,
        key,
        op: next === undefined ? 'delete' : 'put',
        sequence: formatSequence(revision),
        at: this.#now(),
        ...(old ? { old: image(old) } : {}),
        ...(next ? { new: image(next) } : {}),
      };
      const message = { body: new TextEncoder().encode(JSON.stringify(change)), contentType: 'json', dedupId: `kv-${this.#bucket}-${revision}` };
      for (const queue of feeds) await this.#send(queue, message);
      return;
    }
  }

  async #send(queue: string, message: { body: Uint8Array; contentType: string; dedupId: string }): Promise<void> {
    try {
      await this.#queues.send(queue, [message]);
    } catch (error) {
      if (!isOutpostError(error, 'QUEUE_NOT_FOUND')) throw error;
      await this.#queues.createQueue(queue);
      await this.#queues.send(queue, [message]);
    }
  }

  async list(namespace: string, options: { prefix?: string; limit: number; cursor?: string }): Promise<KvListResult> {
    const prefix = options.prefix ?? '';
    const after = options.cursor ? Buffer.from(options.cursor, 'base64url').toString('utf8') : undefined;
    const head = `$KV.${this.#bucket}.${encodeToken(namespace)}.`;
    const found: Array<{ name: string; value: KvValue }> = [];
    for (const m of await lastPerSubject(this.#js, `KV_${this.#bucket}`, `${head}*`)) {
      if (m.operation !== undefined) continue;
      const name = decodeToken(m.subject.slice(head.length));
      if (!name.startsWith(prefix) || (after !== undefined && compareKeys(name, after) <= 0)) continue;
      const value = unpack(m.data);
      if (this.#live(value)) found.push({ name, value });
    }
    found.sort((a, b) => compareKeys(a.name, b.name));
    const page = found.slice(0, options.limit);
    const keys = page.map(({ name, value }) => ({
      name,
      ...(value.expiration === undefined ? {} : { expiration: value.expiration }),
      ...(value.metadata === undefined ? {} : { metadata: value.metadata }),
    }));
    const last = page.at(-1);
    return found.length <= options.limit || !last ? { keys, complete: true } : { keys, complete: false, cursor: Buffer.from(last.name, 'utf8').toString('base64url') };
  }

  async namespaces(): Promise<string[]> {
    const head = `$KV.${this.#bucket}.`;
    const names = new Set<string>();
    for (const m of await lastPerSubject(this.#js, `KV_${this.#bucket}`, `${head}>`, { headersOnly: true })) {
      if (m.operation === undefined) names.add(decodeToken(m.subject.slice(head.length).split('.')[0] ?? ''));
    }
    return [...names].sort(compareKeys);
  }

  async setChangeFeeds(namespace: string, queues: readonly string[]): Promise<void> {
    for (const q of new Set(queues)) if (!(await this.#queues.getQueue(q))) await this.#queues.createQueue(q);
    await this.#feeds.set(namespace, queues);
  }

  async changeFeeds(): Promise<Record<string, string[]>> {
    return this.#feeds.all();
  }
}
