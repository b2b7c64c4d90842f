/**
 * @module
 * Object change capture for the embedded store (store/object-changes.ts): which buckets feed
 * which queues (persisted in `object_feeds`, so writes made while a node restarts are captured
 * too), and the one call sqlite/objects.ts makes inside its write transactions.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { formatSequence } from '../kv-changes.ts';
import type { ObjectChange } from '../object-changes.ts';
import type { SqliteQueues } from './queues.ts';

export class ObjectChangeCapture {
  readonly #db: DatabaseSync;
  readonly #queues: SqliteQueues;
  /** bucket → the queues its changes are sent to. */
  readonly #feeds = new Map<string, string[]>();
  readonly #nextSequence: StatementSync;
  /** Queues written in the open transaction, woken after it commits. */
  readonly #pending = new Set<string>();

  constructor(db: DatabaseSync, queues: SqliteQueues) {
    this.#db = db;
    this.#queues = queues;
    db.exec('CREATE TABLE IF NOT EXISTS object_feeds (bucket TEXT NOT NULL, queue TEXT NOT NULL, PRIMARY KEY (bucket, queue)) WITHOUT ROWID');
    for (const r of db.prepare('SELECT bucket, queue FROM object_feeds ORDER BY bucket, queue').all() as Array<{ bucket: string; queue: string }>) {
      this.#feeds.set(r.bucket, [...(this.#feeds.get(r.bucket) ?? []), r.queue]);
    }
    this.#nextSequence = db.prepare("INSERT INTO counters (name, value) VALUES ('object_changes', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value");
  }

  /** Whether changes of `bucket` are captured (cheap; checked before building a record). */
  captures(bucket: string): boolean {
    return this.#feeds.has(bucket);
  }

  /** Inside the caller's open transaction: sends the change to every queue the bucket feeds. */
  record(change: Omit<ObjectChange, 'sequence'>): void {
    const feeds = this.#feeds.get(change.bucket);
    if (!feeds) return;
    const full: ObjectChange = { ...change, sequence: formatSequence(Number((this.#nextSequence.get() as { value: number }).value)) };
    const body = new TextEncoder().encode(JSON.stringify(full));
    for (const queue of feeds) {
      this.#queues.sendInTransaction(queue, [{ body, contentType: 'json' }]);
      this.#pending.add(queue);
    }
  }

  /** After the caller's commit: wakes the consumers of the queues written. */
  committed(): void {
    for (const queue of this.#pending) this.#queues.notify(queue);
    this.#pending.clear();
  }

  /** After the caller's rollback: nothing was sent. */
  rolledBack(): void {
    this.#pending.clear();
  }

  setFeeds(bucket: string, queues: readonly string[]): void {
    const wanted = [...new Set(queues)].sort();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db.prepare('DELETE FROM object_feeds WHERE bucket = ?').run(bucket);
      for (const q of wanted) this.#db.prepare('INSERT INTO object_feeds (bucket, queue) VALUES (?, ?)').run(bucket, q);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    if (wanted.length === 0) this.#feeds.delete(bucket);
    else this.#feeds.set(bucket, wanted);
  }

  feeds(): Record<string, string[]> {
    return Object.fromEntries([...this.#feeds].map(([b, qs]) => [b, [...qs]]));
  }
}
