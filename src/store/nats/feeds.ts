/**
 * @module
 * Change-feed sets (which queues a KV namespace or an object bucket feeds), shared by a fleet:
 * one KV entry per namespace or bucket under a subject prefix, and a local copy every store
 * keeps current with a watcher. Loading and following leave no gap: the watcher starts at the
 * revision after the newest one loaded. A set written here applies here at once; other nodes
 * apply it when their watcher delivers it (milliseconds later), so a write racing a change of
 * the set on another node may use either set.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { QueuedIterator } from '@nats-io/nats-core';
import { decodeToken, encodeToken } from './keys.ts';
import { lastPerSubject } from './scan.ts';

export class FeedSets {
  readonly #kv: KV;
  /** The key prefix (`f.` for object buckets, empty for KV namespaces). */
  readonly #prefix: string;
  readonly #sets: Map<string, string[]>;
  readonly #watcher: QueuedIterator<KvWatchEntry>;

  private constructor(kv: KV, prefix: string, sets: Map<string, string[]>, watcher: QueuedIterator<KvWatchEntry>) {
    this.#kv = kv;
    this.#prefix = prefix;
    this.#sets = sets;
    this.#watcher = watcher;
    void this.#follow();
  }

  /** Loads every set under `prefix` of the bucket named `bucket`, then follows changes. */
  static async open(kv: KV, js: JetStreamClient, bucket: string, prefix: string): Promise<FeedSets> {
    const head = `$KV.${bucket}.${prefix}`;
    const sets = new Map<string, string[]>();
    let last = 0;
    for (const m of await lastPerSubject(js, `KV_${bucket}`, `${head}*`)) {
      last = Math.max(last, m.seq);
      const queues = m.operation === undefined ? (JSON.parse(Buffer.from(m.data).toString('utf8')) as string[]) : [];
      if (queues.length > 0) sets.set(decodeToken(m.subject.slice(head.length)), queues);
    }
    const watcher = await kv.watch({ key: `${prefix}*`, include: 'history', resumeFromRevision: last + 1 });
    return new FeedSets(kv, prefix, sets, watcher);
  }

  async #follow(): Promise<void> {
    for await (const entry of this.#watcher) {
      this.#apply(decodeToken(entry.key.slice(this.#prefix.length)), entry.operation === 'PUT' ? entry.json<string[]>() : []);
    }
  }

  #apply(name: string, queues: string[]): void {
    if (queues.length === 0) this.#sets.delete(name);
    else this.#sets.set(name, queues);
  }

  get(name: string): readonly string[] | undefined {
    return this.#sets.get(name);
  }

  /** Replaces the set of `name` (deduplicated, sorted); an empty list removes it. */
  async set(name: string, queues: readonly string[]): Promise<void> {
    const wanted = [...new Set(queues)].sort();
    if (wanted.length === 0) await this.#kv.delete(`${this.#prefix}${encodeToken(name)}`);
    else await this.#kv.put(`${this.#prefix}${encodeToken(name)}`, JSON.stringify(wanted));
    this.#apply(name, wanted);
  }

  all(): Record<string, string[]> {
    return Object.fromEntries([...this.#sets].map(([name, qs]) => [name, [...qs]]));
  }

  close(): void {
    this.#watcher.stop();
  }
}
