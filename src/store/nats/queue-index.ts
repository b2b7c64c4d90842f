/**
 * @module
 * One node's live view of a queue's messages, so a receive can pick its candidates without
 * scanning the bucket: loaded once (a last-per-subject scan), then kept current by a KV watcher
 * from the next revision on, and changed at once by this node's own writes. The view may be
 * behind — another node's write arrives a moment later, and a settled message leaves no event
 * (it is deleted without a marker) — but it is never trusted for correctness: every lease is
 * still a compare-and-set on the entry's revision, and an entry whose compare-and-set fails is
 * read again and corrected here.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { QueuedIterator } from '@nats-io/nats-core';
import { lastPerSubject } from './scan.ts';

export interface Indexed {
  /** The entry's revision. */
  revision: number;
}

export class QueueIndex<T extends Indexed> {
  readonly #entries = new Map<string, T>();
  /** Entries removed here, by the revision they were removed at, until the watcher has passed it. */
  readonly #removed = new Map<string, number>();
  readonly #decode: (data: Uint8Array, revision: number) => T;
  #watcher: QueuedIterator<KvWatchEntry> | undefined;
  /** The newest revision the watcher delivered. */
  #watched = 0;

  private constructor(decode: (data: Uint8Array, revision: number) => T) {
    this.#decode = decode;
  }

  /**
   * Loads the entries under `prefix` (`m.<queue>.`) and follows them. `idOf` turns a subject's
   * last token into the entry's id.
   */
  static async open<T extends Indexed>(opts: { kv: KV; js: JetStreamClient; bucket: string; prefix: string; idOf: (token: string) => string; decode: (data: Uint8Array, revision: number) => T }): Promise<QueueIndex<T>> {
    const index = new QueueIndex<T>(opts.decode);
    const head = `$KV.${opts.bucket}.${opts.prefix}`;
    let last = 0;
    for (const m of await lastPerSubject(opts.js, `KV_${opts.bucket}`, `${head}*`)) {
      last = Math.max(last, m.seq);
      if (m.operation === undefined) index.#entries.set(opts.idOf(m.subject.slice(head.length)), opts.decode(m.data, m.seq));
    }
    index.#watcher = await opts.kv.watch({ key: `${opts.prefix}*`, include: 'history', resumeFromRevision: last + 1 });
    void index.#follow(index.#watcher, (key) => opts.idOf(key.slice(opts.prefix.length)));
    return index;
  }

  async #follow(watcher: QueuedIterator<KvWatchEntry>, idOf: (key: string) => string): Promise<void> {
    for await (const e of watcher) {
      this.#watched = e.revision;
      if (e.operation === 'PUT') this.set(idOf(e.key), this.#decode(e.value, e.revision));
      else this.remove(idOf(e.key), e.revision);
    }
  }

  /** Records `entry` unless this view already holds a newer state of it. */
  set(id: string, entry: T): void {
    const current = this.#entries.get(id);
    const removedAt = this.#removed.get(id);
    if ((current && current.revision >= entry.revision) || (removedAt !== undefined && removedAt >= entry.revision)) return;
    this.#entries.set(id, entry);
  }

  /** Forgets the entry; `revision` is the newest revision it could have had (older events are then ignored). */
  remove(id: string, revision: number): void {
    this.#entries.delete(id);
    this.#removed.set(id, Math.max(revision, this.#removed.get(id) ?? 0));
    for (const [k, r] of this.#removed) if (r <= this.#watched) this.#removed.delete(k);
  }

  values(): T[] {
    return [...this.#entries.values()];
  }

  close(): void {
    this.#watcher?.stop();
  }
}
