/**
 * @module
 * Deno KV on NATS JetStream as a commit log: every database is one subject of one stream, and
 * every successful commit is one message on it holding all of the commit's writes (sum, min and
 * max already resolved to the u64 they produce). A node reads a database from a copy in memory
 * that it brings up to date from the log before each call; a commit checks its conditions
 * against that copy and publishes with "expected last subject sequence" = the last commit it
 * applied, so a commit made meanwhile by any node makes the publish fail, and the commit is
 * checked again on the newer state. Commits are therefore serialised per database and applied
 * whole — checks and mutations together or not at all, as Deno KV promises — and a commit's
 * versionstamp is its message's stream sequence, which grows with every commit of the store.
 *
 * Limits: each node keeps every database it reads in memory and replays its whole log on first
 * use; the log is never compacted yet. Right for the small databases functions keep in Deno KV,
 * not for large ones. Expired keys are filtered on read with the store's clock, as elsewhere.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { OutpostError } from '../../errors.ts';
import type { DenoKvCheck, DenoKvCommitResult, DenoKvEncoding, DenoKvEntry, DenoKvMutation, DenoKvRange, DenoKvStore } from '../denokv.ts';
import { u64Bytes, u64Value, versionstamp } from '../sqlite/denokv.ts';
import { encodeToken } from './keys.ts';
import { isWrongLastSequence } from './errors.ts';
import { readFrom } from './scan.ts';

const U64_MAX = (1n << 64n) - 1n;

interface Stored {
  key: Uint8Array;
  data: Uint8Array;
  encoding: DenoKvEncoding;
  seq: number;
  expireAt?: number;
}

/** One write of a commit message (bytes as base64). */
type LoggedWrite = { k: string; v: string; e: DenoKvEncoding; x?: number } | { k: string; d: true };

interface Database {
  entries: Map<string, Stored>;
  /** The last commit applied. */
  seq: number;
  /** Calls on this database run one after another in this process. */
  queue: Promise<unknown>;
}

const hex = (key: Uint8Array): string => Buffer.from(key).toString('hex');

export class NatsDenoKv implements DenoKvStore {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #now: () => number;
  readonly #databases = new Map<string, Database>();

  constructor(opts: { js: JetStreamClient; jsm: JetStreamManager; stream: string; now: () => number }) {
    this.#js = opts.js;
    this.#jsm = opts.jsm;
    this.#stream = opts.stream;
    this.#now = opts.now;
  }

  #subject(database: string): string {
    return `${this.#stream}.${encodeToken(database)}`;
  }

  /** Runs `work` on the database once it is up to date, after earlier calls on it. */
  #with<T>(database: string, work: (db: Database) => Promise<T>): Promise<T> {
    let db = this.#databases.get(database);
    if (!db) {
      db = { entries: new Map(), seq: 0, queue: Promise.resolve() };
      this.#databases.set(database, db);
    }
    const current = db;
    const run = current.queue.then(async () => {
      await this.#catchUp(database, current);
      return work(current);
    });
    current.queue = run.catch(() => undefined);
    return run;
  }

  async #catchUp(database: string, db: Database): Promise<void> {
    const last = await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: this.#subject(database) }).catch(() => null);
    if (!last || last.seq <= db.seq) return;
    for (const m of await readFrom(this.#js, this.#stream, this.#subject(database), db.seq + 1, last.seq)) {
      this.#apply(db, JSON.parse(Buffer.from(m.data).toString('utf8')) as LoggedWrite[], m.seq);
    }
  }

  #apply(db: Database, writes: readonly LoggedWrite[], seq: number): void {
    for (const w of writes) {
      if ('d' in w) db.entries.delete(w.k);
      else {
        const key = Buffer.from(w.k, 'hex');
        db.entries.set(w.k, { key, data: Buffer.from(w.v, 'base64'), encoding: w.e, seq, ...(w.x === undefined ? {} : { expireAt: w.x }) });
      }
    }
    db.seq = seq;
  }

  #live(db: Database, key: string, now: number): Stored | undefined {
    const s = db.entries.get(key);
    return s && (s.expireAt === undefined || s.expireAt > now) ? s : undefined;
  }

  #entry(s: Stored): DenoKvEntry {
    return { key: new Uint8Array(s.key), data: new Uint8Array(s.data), encoding: s.encoding, versionstamp: versionstamp(s.seq) };
  }

  async get(database: string, keys: readonly Uint8Array[]): Promise<Array<DenoKvEntry | undefined>> {
    return this.#with(database, async (db) => {
      const now = this.#now();
      return keys.map((key) => {
        const s = this.#live(db, hex(key), now);
        return s ? this.#entry(s) : undefined;
      });
    });
  }

  async list(database: string, range: DenoKvRange): Promise<DenoKvEntry[]> {
    return this.#with(database, async (db) => {
      const now = this.#now();
      const start = Buffer.from(range.start);
      const end = Buffer.from(range.end);
      const inRange = [...db.entries.values()]
        .filter((s) => (s.expireAt === undefined || s.expireAt > now) && Buffer.compare(s.key, start) >= 0 && Buffer.compare(s.key, end) < 0)
        .sort((a, b) => Buffer.compare(a.key, b.key) * (range.reverse ? -1 : 1));
      return inRange.slice(0, range.limit).map((s) => this.#entry(s));
    });
  }

  async commit(database: string, checks: readonly DenoKvCheck[], mutations: readonly DenoKvMutation[]): Promise<DenoKvCommitResult> {
    for (;;) {
      const outcome = await this.#with(database, async (db): Promise<DenoKvCommitResult | 'retry'> => {
        const now = this.#now();
        for (const check of checks) {
          const s = this.#live(db, hex(check.key), now);
          if ((s ? versionstamp(s.seq) : null) !== check.versionstamp) return { ok: false };
        }
        const writes = this.#resolve(db, mutations, now);
        try {
          const ack = await this.#js.publish(this.#subject(database), JSON.stringify(writes), { expect: { lastSubjectSequence: db.seq } });
          this.#apply(db, writes, ack.seq);
          return { ok: true, versionstamp: versionstamp(ack.seq) };
        } catch (error) {
          if (isWrongLastSequence(error)) return 'retry'; // another commit came first: check again on the newer state
          throw error;
        }
      });
      if (outcome !== 'retry') return outcome;
    }
  }

  /** The commit's writes in order, sum/min/max resolved against the state as the commit changes it. */
  #resolve(db: Database, mutations: readonly DenoKvMutation[], now: number): LoggedWrite[] {
    const pending = new Map<string, { data: Uint8Array; encoding: DenoKvEncoding } | null>();
    const writes: LoggedWrite[] = [];
    for (const m of mutations) {
      const k = hex(m.key);
      if (m.type === 'set') {
        writes.push({ k, v: Buffer.from(m.value.data).toString('base64'), e: m.value.encoding, ...(m.expireAt === undefined ? {} : { x: m.expireAt }) });
        pending.set(k, m.value);
      } else if (m.type === 'delete') {
        writes.push({ k, d: true });
        pending.set(k, null);
      } else {
        const current = pending.has(k) ? pending.get(k) : this.#live(db, k, now);
        let next = m.value;
        if (current) {
          if (current.encoding !== 'u64') throw new OutpostError('DENOKV_TYPE', `Failed to perform '${m.type}' mutation on a non-U64 value in the database`, { fault: 'user' });
          const old = u64Value(current.data);
          next = m.type === 'sum' ? (old + m.value) & U64_MAX : m.type === 'min' ? (old < m.value ? old : m.value) : old > m.value ? old : m.value;
        }
        const data = u64Bytes(next);
        writes.push({ k, v: Buffer.from(data).toString('base64'), e: 'u64' });
        pending.set(k, { data, encoding: 'u64' });
      }
    }
    return writes;
  }
}
