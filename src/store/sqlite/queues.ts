/**
 * @module
 * The embedded queue store: messages are rows of one SQLite table (WAL), leased by setting
 * `visible_at` into the future with a fresh receipt. Every operation is one transaction, so a
 * send is on disk (in the WAL) before it returns and a dead-letter move happens exactly once.
 *
 * Durability: the database runs with `journal_mode=WAL` and `synchronous=NORMAL`. A commit is
 * written to the WAL file before the call returns; with NORMAL the WAL is fsynced at
 * checkpoints, not at every commit. A killed process (`kill -9`, a crash, OOM) therefore loses
 * nothing committed — the data is in the OS page cache and the WAL is replayed on open. Only a
 * crash of the operating system or a power cut can lose the last commits before a checkpoint;
 * surviving that needs `synchronous=FULL` (an fsync per commit), which the store does not offer
 * yet.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { OutpostError } from '../../errors.ts';
import { DEFAULT_QUEUE_CONFIG, QUEUE_NAME_RE } from '../queues.ts';
import type { PeekOptions, QueueConfig, QueueInfo, QueueMessage, QueueSendInput, QueueSendResult, QueueStats, QueueStore, ReceiveOptions, RetryOptions } from '../queues.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, config TEXT NOT NULL, extra TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queue_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  body BLOB NOT NULL,
  content_type TEXT,
  attributes TEXT,
  sender_id TEXT,
  sent_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  first_received_at INTEGER,
  receipt TEXT,
  dead INTEGER NOT NULL DEFAULT 0,
  dead_reason TEXT,
  source_queue TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (queue, dead, visible_at, seq);
CREATE UNIQUE INDEX IF NOT EXISTS queue_messages_id ON queue_messages (queue, id);
CREATE TABLE IF NOT EXISTS queue_dedup (queue TEXT NOT NULL, dedup_id TEXT NOT NULL, message_id TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (queue, dedup_id)) WITHOUT ROWID;
`;

/** SQS keeps a deduplication id for five minutes. */
const DEDUP_WINDOW_MS = 5 * 60_000;

interface Row {
  seq: number;
  queue: string;
  id: string;
  body: Uint8Array;
  content_type: string | null;
  attributes: string | null;
  sender_id: string | null;
  sent_at: number;
  visible_at: number;
  receive_count: number;
  first_received_at: number | null;
  receipt: string | null;
  dead: number;
  dead_reason: string | null;
  source_queue: string | null;
}

function notFound(name: string): OutpostError<'QUEUE_NOT_FOUND'> {
  return new OutpostError('QUEUE_NOT_FOUND', `no queue named ${name}`, { status: 404, fault: 'user', hint: 'create it first (outpost queues create <name>)' });
}

function checkName(name: string): void {
  if (!QUEUE_NAME_RE.test(name)) {
    throw new OutpostError('QUEUE_INVALID_NAME', `invalid queue name ${JSON.stringify(name)}`, {
      status: 400,
      fault: 'user',
      hint: 'use 1–80 letters, digits, - or _ (a .fifo suffix is allowed)',
    });
  }
}

function toMessage(row: Row): QueueMessage {
  return {
    id: row.id,
    queue: row.queue,
    body: row.body,
    sentAt: row.sent_at,
    receiveCount: row.receive_count,
    receipt: row.receipt ?? '',
    ...(row.content_type === null ? {} : { contentType: row.content_type }),
    ...(row.attributes === null ? {} : { attributes: JSON.parse(row.attributes) as Record<string, unknown> }),
    ...(row.sender_id === null ? {} : { senderId: row.sender_id }),
    ...(row.first_received_at === null ? {} : { firstReceivedAt: row.first_received_at }),
    ...(row.dead_reason === null ? {} : { deadReason: row.dead_reason }),
    ...(row.source_queue === null ? {} : { sourceQueue: row.source_queue }),
  };
}

/** Receipts are `<seq>.<random>`: the seq finds the row, the random part proves the lease. */
function seqOf(receipt: string): number | undefined {
  const dot = receipt.indexOf('.');
  const seq = Number(receipt.slice(0, dot));
  return dot > 0 && Number.isSafeInteger(seq) ? seq : undefined;
}

export class SqliteQueues implements QueueStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #listeners = new Set<(queue: string) => void>();
  readonly #s: Record<string, StatementSync>;

  constructor(db: DatabaseSync, now: () => number) {
    this.#db = db;
    this.#now = now;
    db.exec(SCHEMA);
    const p = (sql: string): StatementSync => db.prepare(sql);
    this.#s = {
      getQueue: p('SELECT name, config, extra, created_at FROM queues WHERE name = ?'),
      insertQueue: p('INSERT INTO queues (name, config, extra, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING'),
      updateQueue: p('UPDATE queues SET config = ?, extra = ? WHERE name = ?'),
      deleteQueue: p('DELETE FROM queues WHERE name = ?'),
      deleteMessages: p('DELETE FROM queue_messages WHERE queue = ?'),
      deleteDedup: p('DELETE FROM queue_dedup WHERE queue = ?'),
      listQueues: p('SELECT name, config, extra, created_at FROM queues WHERE name >= ? ORDER BY name'),
      insert: p('INSERT INTO queue_messages (queue, id, body, content_type, attributes, sender_id, sent_at, visible_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      getDedup: p('SELECT message_id FROM queue_dedup WHERE queue = ? AND dedup_id = ? AND expires_at > ?'),
      putDedup: p('INSERT INTO queue_dedup (queue, dedup_id, message_id, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(queue, dedup_id) DO UPDATE SET message_id = excluded.message_id, expires_at = excluded.expires_at'),
      expireDedup: p('DELETE FROM queue_dedup WHERE expires_at <= ?'),
      ready: p('SELECT * FROM queue_messages WHERE queue = ? AND dead = 0 AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?'),
      head: p('SELECT * FROM queue_messages WHERE queue = ? AND dead = 0 ORDER BY seq LIMIT ?'),
      lease: p('UPDATE queue_messages SET receive_count = receive_count + 1, first_received_at = coalesce(first_received_at, ?), receipt = ?, visible_at = ? WHERE seq = ?'),
      bySeq: p('SELECT * FROM queue_messages WHERE seq = ? AND queue = ?'),
      ack: p('DELETE FROM queue_messages WHERE seq = ? AND queue = ? AND receipt = ? AND dead = 0'),
      release: p('UPDATE queue_messages SET receipt = NULL, visible_at = ? WHERE seq = ?'),
      visibility: p('UPDATE queue_messages SET visible_at = ? WHERE seq = ?'),
      markDead: p('UPDATE queue_messages SET dead = 1, dead_reason = ?, receipt = NULL WHERE seq = ?'),
      deleteSeq: p('DELETE FROM queue_messages WHERE seq = ?'),
      insertDead: p('INSERT INTO queue_messages (queue, id, body, content_type, attributes, sender_id, sent_at, visible_at, dead_reason, source_queue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      purge: p('DELETE FROM queue_messages WHERE queue = ?'),
      stats: p(`SELECT
          coalesce(sum(dead = 1), 0) AS dead,
          coalesce(sum(dead = 0 AND visible_at <= ?), 0) AS visible,
          coalesce(sum(dead = 0 AND visible_at > ? AND receipt IS NOT NULL), 0) AS in_flight,
          coalesce(sum(dead = 0 AND visible_at > ? AND receipt IS NULL), 0) AS delayed,
          min(CASE WHEN dead = 0 THEN sent_at END) AS oldest
        FROM queue_messages WHERE queue = ?`),
      peekAll: p('SELECT * FROM queue_messages WHERE queue = ? ORDER BY seq LIMIT ?'),
      peekDead: p('SELECT * FROM queue_messages WHERE queue = ? AND dead = ? ORDER BY seq LIMIT ?'),
      redriveDead: p('SELECT seq, source_queue, dead FROM queue_messages WHERE queue = ? AND (dead = 1 OR source_queue IS NOT NULL) ORDER BY seq LIMIT ?'),
      move: p('UPDATE OR IGNORE queue_messages SET queue = ?, dead = 0, dead_reason = NULL, source_queue = NULL, receive_count = 0, first_received_at = NULL, receipt = NULL, visible_at = ? WHERE seq = ?'),
      nextVisible: p('SELECT min(visible_at) AS next FROM queue_messages WHERE queue = ? AND dead = 0 AND visible_at > ?'),
    };
  }

  #stmt(name: string): StatementSync {
    const s = this.#s[name];
    if (!s) throw new Error(`no statement ${name}`);
    return s;
  }

  /** Runs `work` in one write transaction. */
  #tx<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #emit(queue: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(queue);
      } catch {
        // A listener's failure is its own; the write has committed.
      }
    }
  }

  #info(name: string): QueueInfo | undefined {
    const row = this.#stmt('getQueue').get(name) as { name: string; config: string; extra: string; created_at: number } | undefined;
    return row ? { name: row.name, createdAt: row.created_at, config: JSON.parse(row.config) as QueueConfig, extra: JSON.parse(row.extra) as Record<string, string> } : undefined;
  }

  #require(name: string): QueueInfo {
    const info = this.#info(name);
    if (!info) throw notFound(name);
    return info;
  }

  /** Creates a queue inside a running transaction when missing (dead-letter and redrive targets). */
  #ensure(name: string): void {
    checkName(name);
    this.#stmt('insertQueue').run(name, JSON.stringify(DEFAULT_QUEUE_CONFIG), '{}', this.#now());
  }

  async createQueue(name: string, config: Partial<QueueConfig> = {}, extra: Record<string, string> = {}): Promise<{ queue: QueueInfo; created: boolean }> {
    checkName(name);
    return this.#tx(() => {
      const existing = this.#info(name);
      if (existing) return { queue: existing, created: false };
      const full: QueueConfig = { ...DEFAULT_QUEUE_CONFIG, ...config };
      this.#stmt('insertQueue').run(name, JSON.stringify(full), JSON.stringify(extra), this.#now());
      return { queue: this.#require(name), created: true };
    });
  }

  async getQueue(name: string): Promise<QueueInfo | undefined> {
    return this.#info(name);
  }

  async updateQueue(name: string, config: { [K in keyof QueueConfig]?: QueueConfig[K] | undefined }, extra?: Record<string, string>): Promise<QueueInfo> {
    const updated = this.#tx(() => {
      const info = this.#require(name);
      const next: Record<string, unknown> = { ...info.config };
      for (const [k, v] of Object.entries(config)) {
        if (v === undefined) delete next[k];
        else next[k] = v;
      }
      this.#stmt('updateQueue').run(JSON.stringify(next), JSON.stringify(extra ? { ...info.extra, ...extra } : info.extra), name);
      return this.#require(name);
    });
    this.#emit(name);
    return updated;
  }

  async deleteQueue(name: string): Promise<void> {
    this.#tx(() => {
      this.#stmt('deleteMessages').run(name);
      this.#stmt('deleteDedup').run(name);
      this.#stmt('deleteQueue').run(name);
    });
  }

  async listQueues(prefix = ''): Promise<QueueInfo[]> {
    const rows = this.#stmt('listQueues').all(prefix) as Array<{ name: string; config: string; extra: string; created_at: number }>;
    return rows
      .filter((r) => r.name.startsWith(prefix))
      .map((r) => ({ name: r.name, createdAt: r.created_at, config: JSON.parse(r.config) as QueueConfig, extra: JSON.parse(r.extra) as Record<string, string> }));
  }

  async send(queue: string, messages: readonly QueueSendInput[]): Promise<QueueSendResult[]> {
    const results = this.#tx(() => this.#insert(queue, messages));
    this.#emit(queue);
    return results;
  }

  #insert(queue: string, messages: readonly QueueSendInput[]): QueueSendResult[] {
    const now = this.#now();
    const info = this.#require(queue);
    const out: QueueSendResult[] = [];
    if (messages.some((m) => m.dedupId !== undefined)) this.#stmt('expireDedup').run(now);
    for (const m of messages) {
      if (m.dedupId !== undefined) {
        const seen = this.#stmt('getDedup').get(queue, m.dedupId, now) as { message_id: string } | undefined;
        if (seen) {
          out.push({ id: seen.message_id, duplicate: true });
          continue;
        }
      }
      const id = randomUUID();
      const delay = m.delaySeconds ?? info.config.delaySeconds;
      this.#stmt('insert').run(queue, id, m.body, m.contentType ?? null, m.attributes === undefined ? null : JSON.stringify(m.attributes), m.senderId ?? null, now, now + delay * 1000);
      if (m.dedupId !== undefined) this.#stmt('putDedup').run(queue, m.dedupId, id, now + DEDUP_WINDOW_MS);
      out.push({ id, duplicate: false });
    }
    return out;
  }

  /**
   * For the other tables of this database (KV change capture): sends inside the caller's open
   * transaction, so the messages commit or roll back with the caller's write; a missing queue
   * is created (a write must not fail because its feed's queue was deleted). Call
   * {@link notify} after the commit.
   */
  sendInTransaction(queue: string, messages: readonly QueueSendInput[]): QueueSendResult[] {
    this.#ensure(queue);
    return this.#insert(queue, messages);
  }

  /** Wakes this process's listeners of `queue` (after a commit made with sendInTransaction). */
  notify(queue: string): void {
    this.#emit(queue);
  }

  /** Moves a message to its dead-letter queue, or marks it dead where it is. Inside a transaction. */
  #deadLetter(row: Row, dlq: string | undefined, reason: string): void {
    if (dlq === undefined || dlq === row.queue) {
      this.#stmt('markDead').run(reason, row.seq);
      return;
    }
    this.#ensure(dlq);
    this.#stmt('deleteSeq').run(row.seq);
    this.#stmt('insertDead').run(dlq, row.id, row.body, row.content_type, row.attributes, row.sender_id, row.sent_at, this.#now(), reason, row.queue);
  }

  async receive(queue: string, options: ReceiveOptions): Promise<QueueMessage[]> {
    const now = this.#now();
    let moved: string | undefined;
    const out = this.#tx(() => {
      const info = this.#require(queue);
      const lease = (options.visibilityTimeoutSeconds ?? info.config.visibilityTimeoutSeconds) * 1000;
      const maxReceives = options.maxReceives ?? info.config.maxReceiveCount;
      const dlq = options.maxReceives !== undefined ? options.deadLetterQueue : info.config.deadLetterQueue;
      const got: QueueMessage[] = [];
      while (got.length < options.max) {
        let rows = (options.ordered ? this.#stmt('head').all(queue, options.max - got.length) : this.#stmt('ready').all(queue, now, options.max - got.length)) as unknown as Row[];
        if (options.ordered) {
          const blocked = rows.findIndex((r) => r.visible_at > now);
          if (blocked !== -1) rows = rows.slice(0, blocked);
        }
        if (rows.length === 0) break;
        for (const row of rows) {
          if (maxReceives !== undefined && row.receive_count >= maxReceives) {
            this.#deadLetter(row, dlq, `received ${row.receive_count} times without being acknowledged`);
            if (dlq !== undefined) moved = dlq;
            continue;
          }
          const receipt = `${row.seq}.${randomBytes(9).toString('base64url')}`;
          this.#stmt('lease').run(now, receipt, now + lease, row.seq);
          got.push(toMessage({ ...row, receive_count: row.receive_count + 1, first_received_at: row.first_received_at ?? now, receipt, visible_at: now + lease }));
        }
      }
      return got;
    });
    if (moved !== undefined) this.#emit(moved);
    return out;
  }

  async ack(queue: string, receipts: readonly string[]): Promise<string[]> {
    return this.#tx(() => {
      const done: string[] = [];
      for (const receipt of receipts) {
        const seq = seqOf(receipt);
        if (seq !== undefined && this.#stmt('ack').run(seq, queue, receipt).changes > 0) done.push(receipt);
      }
      return done;
    });
  }

  #current(queue: string, receipt: string): Row | undefined {
    const seq = seqOf(receipt);
    if (seq === undefined) return undefined;
    const row = this.#stmt('bySeq').get(seq, queue) as unknown as Row | undefined;
    return row && row.receipt === receipt && row.dead === 0 ? row : undefined;
  }

  async retry(queue: string, receipt: string, options: RetryOptions = {}): Promise<'retried' | 'dead' | 'stale'> {
    let dlq: string | undefined;
    const outcome = this.#tx(() => {
      const info = this.#require(queue);
      const row = this.#current(queue, receipt);
      if (!row) return 'stale' as const;
      const maxReceives = options.maxReceives ?? info.config.maxReceiveCount;
      if (maxReceives !== undefined && row.receive_count >= maxReceives) {
        dlq = options.maxReceives !== undefined ? options.deadLetterQueue : info.config.deadLetterQueue;
        this.#deadLetter(row, dlq, options.reason ?? `failed ${row.receive_count} times`);
        return 'dead' as const;
      }
      this.#stmt('release').run(this.#now() + (options.delaySeconds ?? 0) * 1000, row.seq);
      return 'retried' as const;
    });
    if (outcome === 'retried') this.#emit(queue);
    if (dlq !== undefined) this.#emit(dlq);
    return outcome;
  }

  async changeVisibility(queue: string, receipt: string, seconds: number): Promise<boolean> {
    const ok = this.#tx(() => {
      const row = this.#current(queue, receipt);
      if (!row) return false;
      this.#stmt('visibility').run(this.#now() + seconds * 1000, row.seq);
      return true;
    });
    if (ok && seconds === 0) this.#emit(queue);
    return ok;
  }

  async purge(queue: string): Promise<number> {
    return this.#tx(() => {
      this.#require(queue);
      return Number(this.#stmt('purge').run(queue).changes);
    });
  }

  async stats(queue: string): Promise<QueueStats> {
    this.#require(queue);
    const now = this.#now();
    const r = this.#stmt('stats').get(now, now, now, queue) as { dead: number; visible: number; in_flight: number; delayed: number; oldest: number | null };
    return { name: queue, visible: r.visible, inFlight: r.in_flight, delayed: r.delayed, dead: r.dead, ...(r.oldest === null ? {} : { oldestSentAt: r.oldest }) };
  }

  async peek(queue: string, options: PeekOptions): Promise<QueueMessage[]> {
    this.#require(queue);
    const rows = (options.dead === undefined ? this.#stmt('peekAll').all(queue, options.limit) : this.#stmt('peekDead').all(queue, options.dead ? 1 : 0, options.limit)) as unknown as Row[];
    return rows.map((r) => toMessage({ ...r, receipt: null }));
  }

  async redrive(queue: string, options: { to?: string; limit?: number } = {}): Promise<number> {
    const targets = new Set<string>();
    const count = this.#tx(() => {
      this.#require(queue);
      const rows = this.#stmt('redriveDead').all(queue, options.limit ?? -1) as Array<{ seq: number; source_queue: string | null; dead: number }>;
      let n = 0;
      const now = this.#now();
      for (const row of rows) {
        const target = options.to ?? row.source_queue ?? queue;
        this.#ensure(target);
        if (this.#stmt('move').run(target, now, row.seq).changes > 0) {
          n++;
          targets.add(target);
        }
      }
      return n;
    });
    for (const t of targets) this.#emit(t);
    return count;
  }

  async nextVisibleAt(queue: string): Promise<number | undefined> {
    const row = this.#stmt('nextVisible').get(queue, this.#now()) as { next: number | null } | undefined;
    return row?.next ?? undefined;
  }

  subscribe(listener: (queue: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
