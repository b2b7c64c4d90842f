/**
 * @module
 * MetaStore on a NATS KV bucket. A key is one subject token (keys.ts); the revision is the
 * bucket stream's sequence, which grows with every write to any key, as the interface asks.
 * Compare-and-set is JetStream's expected-last-subject-sequence together with the stream's
 * expected last sequence (cas.ts: the subject check alone is not serialisable on replicated
 * streams before nats-server 2.9.21); a refused publish stores nothing, so it uses up no
 * revision and wakes no watcher.
 *
 * Watching: one KV watcher (updates only) per store, started before the store is handed out,
 * fans changes out to local listeners by prefix. Events arrive asynchronously, after the write
 * that caused them; a listener only gets changes with a revision above the newest one this
 * store had seen when it subscribed, so "later changes" means the same as in the embedded store.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { KvWatchInclude } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/nats-core';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { MetaChange, MetaEntry, MetaStore } from '../types.ts';
import { compareKeys, decodeToken, encodeToken } from './keys.ts';
import { compareAndPublish } from './cas.ts';
import { conflict, isWrongLastSequence } from './errors.ts';
import { headers } from '@nats-io/nats-core';
import { lastPerSubject } from './scan.ts';

interface Listener {
  prefix: string;
  after: number;
  listener: (change: MetaChange) => void;
}

export class NatsMeta implements MetaStore {
  readonly #kv: KV;
  readonly #js: JetStreamClient;
  readonly #bucket: string;
  readonly #listeners = new Set<Listener>();
  readonly #watcher: QueuedIterator<KvWatchEntry>;
  /** The newest revision this store has written or seen. */
  #latest = 0;
  readonly #streamOrder: boolean;

  private constructor(kv: KV, js: JetStreamClient, bucket: string, watcher: QueuedIterator<KvWatchEntry>, streamOrder: boolean) {
    this.#streamOrder = streamOrder;
    this.#kv = kv;
    this.#js = js;
    this.#bucket = bucket;
    this.#watcher = watcher;
    void this.#dispatch();
  }

  /** `streamOrder`: compare-and-set needs the stream order (cas.ts needsStreamOrder). */
  static async open(kv: KV, js: JetStreamClient, bucket: string, streamOrder: boolean): Promise<NatsMeta> {
    const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    return new NatsMeta(kv, js, bucket, watcher, streamOrder);
  }

  async #dispatch(): Promise<void> {
    for await (const entry of this.#watcher) {
      this.#seen(entry.revision);
      const key = decodeToken(entry.key);
      const change: MetaChange =
        entry.operation === 'PUT' ? { key, op: 'put', value: entry.json<unknown>(), revision: entry.revision } : { key, op: 'delete', revision: entry.revision };
      for (const l of this.#listeners) if (entry.revision > l.after && key.startsWith(l.prefix)) l.listener(change);
    }
  }

  #seen(revision: number): void {
    if (revision > this.#latest) this.#latest = revision;
  }

  async get<T>(key: string): Promise<MetaEntry<T> | undefined> {
    const entry = await this.#kv.get(encodeToken(key));
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { key, value: entry.json<T>(), revision: entry.revision };
  }

  async put(key: string, value: unknown, options: { expectRevision?: number } = {}): Promise<number> {
    const token = encodeToken(key);
    const data = JSON.stringify(value);
    const expected = options.expectRevision;
    if (expected === undefined) {
      const revision = await this.#kv.put(token, data);
      this.#seen(revision);
      return revision;
    }
    const revision = await this.#compareAndPublish(key, expected, data);
    if (revision === undefined) throw conflict(key, expected, (await this.get(key))?.revision ?? 0);
    return revision;
  }

  async #compareAndPublish(key: string, expected: number, data: string, kvOperation?: 'DEL'): Promise<number | undefined> {
    let hdrs;
    if (kvOperation) {
      hdrs = headers();
      hdrs.set('KV-Operation', kvOperation);
    }
    // The subject's last sequence: a missing key may still have a delete marker, which "revision 0" expects.
    const subjectSequence = async (): Promise<number> => (await this.#kv.get(encodeToken(key)))?.revision ?? 0;
    let expectedSequence = expected;
    if (expected === 0) {
      const entry = await this.#kv.get(encodeToken(key));
      if (entry?.operation === 'PUT') return undefined;
      expectedSequence = entry?.revision ?? 0;
    }
    const revision = await compareAndPublish(this.#js, {
      stream: `KV_${this.#bucket}`,
      subject: `$KV.${this.#bucket}.${encodeToken(key)}`,
      data,
      expectedRevision: expectedSequence,
      streamOrder: this.#streamOrder,
      lastSequence: this.#latest,
      currentRevision: subjectSequence,
      seen: (sequence) => this.#seen(sequence),
      ...(hdrs ? { headers: hdrs } : {}),
    });
    if (revision !== undefined) this.#seen(revision);
    return revision;
  }

  async delete(key: string, options: { expectRevision?: number } = {}): Promise<void> {
    const current = (await this.get(key))?.revision ?? 0;
    const expected = options.expectRevision;
    if (expected !== undefined && expected !== current) throw conflict(key, expected, current);
    // Deleting a missing key writes nothing, as in the embedded store (no revision, no event).
    if (current === 0) return;
    try {
      if (expected !== undefined) {
        if ((await this.#compareAndPublish(key, expected, '', 'DEL')) === undefined) throw conflict(key, expected, (await this.get(key))?.revision ?? 0);
        return;
      }
      await this.#kv.delete(encodeToken(key), { previousSeq: current });
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      if (expected !== undefined) throw conflict(key, expected, (await this.get(key))?.revision ?? 0);
      // Changed since we read it: delete whatever is there now.
      return this.delete(key);
    }
  }

  async list<T>(prefix: string): Promise<MetaEntry<T>[]> {
    const head = `$KV.${this.#bucket}.`;
    const messages = await lastPerSubject(this.#js, `KV_${this.#bucket}`, `${head}>`);
    const entries: MetaEntry<T>[] = [];
    for (const m of messages) {
      if (m.operation !== undefined) continue;
      const key = decodeToken(m.subject.slice(head.length));
      if (key.startsWith(prefix)) entries.push({ key, value: JSON.parse(new TextDecoder().decode(m.data)) as T, revision: m.seq });
    }
    return entries.sort((a, b) => compareKeys(a.key, b.key));
  }

  watch(prefix: string, listener: (change: MetaChange) => void): () => void {
    const entry: Listener = { prefix, after: this.#latest, listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Stops the watcher (the store is closing). */
  close(): void {
    this.#watcher.stop();
  }
}
