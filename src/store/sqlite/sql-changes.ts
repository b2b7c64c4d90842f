/**
 * @module
 * SQL change capture for the embedded store (store/sql-changes.ts). Capture lives in the
 * database file itself: a `_outpost_feeds` table names the queues, and AFTER INSERT / UPDATE /
 * DELETE triggers on every table append each row change to `_outpost_changes` inside the
 * statement's own transaction. After each write the captured rows are moved, in order, to the
 * queues (one outpost.db transaction, with a dedup id per change) and then removed from the
 * database; a crash in between moves them again and the dedup id keeps them single. Triggers are
 * rebuilt whenever the set of tables or their definitions change, before the next statement runs.
 */
import type { DatabaseSync } from 'node:sqlite';
import { formatSequence } from '../kv-changes.ts';
import type { SqlCell, SqlChange } from '../sql-changes.ts';
import type { QueueStore } from '../queues.ts';

const CHANGES = '_outpost_changes';
const FEEDS = '_outpost_feeds';
const TRIGGER_PREFIX = '_outpost_cdc_';

const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const quoteText = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** SQL for one column value as a typed cell (JSON text). */
function cell(ref: string): string {
  return `json(CASE typeof(${ref}) WHEN 'null' THEN json_object('NULL', json('true')) WHEN 'integer' THEN json_object('N', CAST(${ref} AS TEXT)) WHEN 'real' THEN json_object('N', CAST(${ref} AS TEXT)) WHEN 'blob' THEN json_object('X', hex(${ref})) ELSE json_object('S', ${ref}) END)`;
}

function image(row: 'NEW' | 'OLD', columns: readonly string[]): string {
  return `json_object(${columns.map((c) => `${quoteText(c)}, ${cell(`${row}.${quoteId(c)}`)}`).join(', ')})`;
}

/** Hex blobs (SQLite has no base64) become `{B: base64}`. */
function cells(json: string | null): Record<string, SqlCell> | undefined {
  if (json === null) return undefined;
  const raw = JSON.parse(json) as Record<string, SqlCell | { X: string }>;
  const out: Record<string, SqlCell> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = 'X' in v ? { B: Buffer.from(v.X, 'hex').toString('base64') } : v;
  return out;
}

interface ChangeRow {
  seq: number;
  tbl: string;
  op: 'insert' | 'update' | 'delete';
  keys: string;
  old: string | null;
  new: string | null;
}

export class SqlChangeCapture {
  readonly #db: DatabaseSync;
  readonly #name: string;
  readonly #queues: QueueStore;
  readonly #now: () => number;
  #feeds: string[] = [];
  #schema = '';

  constructor(db: DatabaseSync, name: string, queues: QueueStore, now: () => number) {
    this.#db = db;
    this.#name = name;
    this.#queues = queues;
    this.#now = now;
    if (this.#tableExists(FEEDS)) this.#feeds = (db.prepare(`SELECT queue FROM ${FEEDS} ORDER BY queue`).all() as Array<{ queue: string }>).map((r) => r.queue);
    // The schema may have changed while the database was closed.
    this.refresh();
  }

  get active(): boolean {
    return this.#feeds.length > 0;
  }

  feeds(): string[] {
    return [...this.#feeds];
  }

  #tableExists(name: string): boolean {
    return this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  /** Replaces the database's feeds; an empty list removes the triggers and capture tables. */
  setFeeds(queues: readonly string[]): void {
    const wanted = [...new Set(queues)].sort();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      if (wanted.length === 0) {
        this.#dropTriggers();
        this.#db.exec(`DROP TABLE IF EXISTS ${FEEDS}; DROP TABLE IF EXISTS ${CHANGES};`);
      } else {
        this.#db.exec(`CREATE TABLE IF NOT EXISTS ${FEEDS} (queue TEXT PRIMARY KEY) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS ${CHANGES} (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL, keys TEXT NOT NULL, old TEXT, new TEXT);
          DELETE FROM ${FEEDS};`);
        for (const q of wanted) this.#db.prepare(`INSERT INTO ${FEEDS} (queue) VALUES (?)`).run(q);
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#feeds = wanted;
    this.#schema = '';
    if (this.active) this.refresh();
  }

  #dropTriggers(): void {
    const names = this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, ?) = ?").all(TRIGGER_PREFIX.length, TRIGGER_PREFIX) as Array<{ name: string }>;
    for (const { name } of names) this.#db.exec(`DROP TRIGGER IF EXISTS ${quoteId(name)}`);
  }

  /** Rebuilds the triggers when tables were created, altered or dropped since the last look. */
  refresh(): void {
    if (!this.active) return;
    const schema = (this.#db.prepare("SELECT group_concat(name || ':' || coalesce(sql, ''), ';') AS s FROM sqlite_master WHERE type = 'table'").get() as { s: string | null }).s ?? '';
    if (schema === this.#schema) return;
    const own = !this.#db.isTransaction;
    if (own) this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#dropTriggers();
      const tables = this.#db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_outpost\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").all() as Array<{ name: string; sql: string | null }>;
      for (const t of tables) {
        if (/^\s*CREATE\s+VIRTUAL\b/i.test(t.sql ?? '')) continue;
        const info = this.#db.prepare('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid').all(t.name) as Array<{ name: string; pk: number }>;
        const columns = info.map((c) => c.name);
        const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
        const keys = (row: 'NEW' | 'OLD'): string => (pk.length > 0 ? `json_object(${pk.map((c) => `${quoteText(c)}, ${cell(`${row}.${quoteId(c)}`)}`).join(', ')})` : `json_object('rowid', ${cell(`${row}.rowid`)})`);
        const table = quoteId(t.name);
        const name = (op: string): string => quoteId(`${TRIGGER_PREFIX}${op}_${t.name}`);
        const insert = (op: string, row: 'NEW' | 'OLD', old: string, neu: string): string =>
          `INSERT INTO ${CHANGES} (tbl, op, keys, old, new) VALUES (${quoteText(t.name)}, '${op}', ${keys(row)}, ${old}, ${neu});`;
        this.#db.exec(`CREATE TRIGGER ${name('insert')} AFTER INSERT ON ${table} BEGIN ${insert('insert', 'NEW', 'NULL', image('NEW', columns))} END`);
        this.#db.exec(`CREATE TRIGGER ${name('update')} AFTER UPDATE ON ${table} BEGIN ${insert('update', 'NEW', image('OLD', columns), image('NEW', columns))} END`);
        this.#db.exec(`CREATE TRIGGER ${name('delete')} AFTER DELETE ON ${table} BEGIN ${insert('delete', 'OLD', image('OLD', columns), 'NULL')} END`);
      }
      if (own) this.#db.exec('COMMIT');
    } catch (error) {
      if (own) this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#schema = schema;
  }

  /** Moves captured changes to the feeds, in order. Outside any transaction of the database. */
  async flush(): Promise<void> {
    if (!this.active || this.#db.isTransaction) return;
    const rows = this.#db.prepare(`SELECT seq, tbl, op, keys, old, new FROM ${CHANGES} ORDER BY seq LIMIT 1000`).all() as unknown as ChangeRow[];
    if (rows.length === 0) return;
    const at = this.#now();
    const messages = rows.map((r) => {
      const change: SqlChange = {
        database: this.#name,
        table: r.tbl,
        op: r.op,
        keys: cells(r.keys) ?? {},
        sequence: formatSequence(r.seq),
        at,
        ...(r.old === null ? {} : { old: cells(r.old) ?? {} }),
        ...(r.new === null ? {} : { new: cells(r.new) ?? {} }),
      };
      return { body: new TextEncoder().encode(JSON.stringify(change)), contentType: 'json', dedupId: `d1:${this.#name}:${change.sequence}` };
    });
    for (const queue of this.#feeds) {
      if (!(await this.#queues.getQueue(queue))) await this.#queues.createQueue(queue);
      await this.#queues.send(queue, messages);
    }
    this.#db.prepare(`DELETE FROM ${CHANGES} WHERE seq <= ?`).run((rows.at(-1) as ChangeRow).seq);
    if (rows.length === 1000) await this.flush();
  }
}
