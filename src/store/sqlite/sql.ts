/**
 * @module
 * The embedded SqlStore: one SQLite file per database under `<state>/d1/<name>.sqlite`, apart
 * from Outpost's own database. A function's SQL can reach its own file only: ATTACH, DETACH and
 * VACUUM INTO are refused by an authorizer, so are pragmas outside D1's list, and extension
 * loading stays off (node:sqlite's default).
 *
 * Like the rest of the embedded store, statements run synchronously on the node's thread;
 * D1 databases are small and the calls are short. `rowsRead` counts the rows returned and
 * `rowsWritten` the rows changed — SQLite keeps no cheaper exact counter.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { constants, DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { OutpostError } from '../../errors.ts';
import type { SqlDatabase, SqlResult, SqlStatement, SqlStore, SqlValue } from '../sql.ts';
import { SqlChangeCapture } from './sql-changes.ts';
import type { QueueStore } from '../queues.ts';

/** Change capture (sql-changes.ts): where captured changes go. */
export interface SqlCaptureOptions {
  queues: QueueStore;
  now: () => number;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SQLITE_DETACH = 25;
const SQLITE_PRAGMA = 19;
/** The pragmas D1 lets a Worker run; the rest (journal_mode, writable_schema…) are refused. */
const PRAGMAS = new Set([
  'table_list', 'table_info', 'table_xinfo', 'index_list', 'index_info', 'index_xinfo', 'foreign_key_list', 'foreign_key_check',
  'foreign_keys', 'defer_foreign_keys', 'quick_check', 'integrity_check', 'optimize', 'case_sensitive_like', 'ignore_check_constraints',
  'legacy_alter_table', 'recursive_triggers', 'reverse_unordered_selects', 'data_version',
]);

/** SQLite's primary result codes by number, for D1-style messages. */
const KINDS: Record<number, string> = { 1: 'SQLITE_ERROR', 5: 'SQLITE_BUSY', 8: 'SQLITE_READONLY', 13: 'SQLITE_FULL', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT', 20: 'SQLITE_MISMATCH', 23: 'SQLITE_AUTH', 25: 'SQLITE_RANGE' };

function failure(error: unknown): OutpostError<'SQL_ERROR'> {
  const e = error as { errcode?: unknown; message?: unknown };
  const code = typeof e.errcode === 'number' ? e.errcode & 0xff : 1;
  const message = typeof e.message === 'string' ? e.message : String(error);
  return new OutpostError('SQL_ERROR', message, { status: 400, fault: 'user', cause: error, details: { message, kind: KINDS[code] ?? 'SQLITE_ERROR' } });
}

/** Splits a script into statements on `;` outside quotes, comments and trigger bodies. */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < script.length; i++) {
    const c = script[i] as string;
    if (c === '-' && script[i + 1] === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end;
      current += ' ';
      continue;
    }
    if (c === '/' && script[i + 1] === '*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? script.length : end + 1;
      current += ' ';
      continue;
    }
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      for (; j < script.length; j++) {
        if (script[j] === close) {
          if (close !== ']' && script[j + 1] === close) j++;
          else break;
        }
      }
      current += script.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === ';' && depth === 0) {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
      continue;
    }
    current += c;
    if (/[A-Za-z]/.test(c) && !/[A-Za-z0-9_]/.test(script[i + 1] ?? '')) {
      const word = /([A-Za-z_][A-Za-z0-9_]*)$/.exec(current)?.[1]?.toUpperCase();
      if (/^\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER\b/i.test(current)) {
        if (word === 'BEGIN') depth++;
        else if (word === 'END' && depth > 0) depth--;
      }
    }
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

class SqliteDatabase implements SqlDatabase {
  readonly #db: DatabaseSync;
  readonly #totalChangesStmt: StatementSync;
  readonly #lastRowIdStmt: StatementSync;
  readonly #capture: SqlChangeCapture | undefined;

  constructor(path: string, name: string, capture?: SqlCaptureOptions) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    this.#db.setAuthorizer((action, arg1) => {
      if (action === constants.SQLITE_ATTACH || action === SQLITE_DETACH) return constants.SQLITE_DENY;
      if (action === SQLITE_PRAGMA && !PRAGMAS.has(String(arg1).toLowerCase())) return constants.SQLITE_DENY;
      return constants.SQLITE_OK;
    });
    this.#totalChangesStmt = this.#db.prepare('SELECT total_changes() AS n');
    this.#lastRowIdStmt = this.#db.prepare('SELECT last_insert_rowid() AS id');
    this.#capture = capture ? new SqlChangeCapture(this.#db, name, capture.queues, capture.now) : undefined;
  }

  get capture(): SqlChangeCapture | undefined {
    return this.#capture;
  }

  close(): void {
    this.#db.close();
  }

  #run(statement: SqlStatement): SqlResult {
    const started = performance.now();
    const before = this.#totalChanges();
    try {
      const stmt = this.#db.prepare(statement.sql);
      const columns = stmt.columns().map((c) => c.name);
      let rows: SqlValue[][] = [];
      let lastRowId = 0;
      if (columns.length > 0) {
        stmt.setReturnArrays(true);
        rows = stmt.all(...(statement.params as SqlValue[])) as unknown as SqlValue[][];
        lastRowId = Number((this.#lastRowIdStmt.get() as { id: number }).id);
      } else {
        lastRowId = Number(stmt.run(...(statement.params as SqlValue[])).lastInsertRowid);
      }
      const changes = this.#totalChanges() - before;
      // Triggers must cover a table this statement created before the next statement writes to it.
      if (this.#capture?.active) this.#capture.refresh();
      return { columns, rows, changes, lastRowId, rowsRead: rows.length, rowsWritten: changes, durationMs: performance.now() - started };
    } catch (error) {
      throw failure(error);
    }
  }

  #totalChanges(): number {
    return Number((this.#totalChangesStmt.get() as { n: number }).n);
  }

  async run(statement: SqlStatement): Promise<SqlResult> {
    const result = this.#run(statement);
    await this.#capture?.flush();
    return result;
  }

  async batch(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const results = statements.map((s) => this.#run(s));
      this.#db.exec('COMMIT');
      await this.#capture?.flush();
      return results;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async exec(script: string): Promise<{ count: number; durationMs: number }> {
    const started = performance.now();
    if (this.#capture?.active) {
      // Statement by statement, so a table the script creates is captured from its first row.
      const results = await this.script(script);
      return { count: results.length, durationMs: performance.now() - started };
    }
    try {
      this.#db.exec(script);
    } catch (error) {
      throw failure(error);
    }
    return { count: splitStatements(script).length, durationMs: performance.now() - started };
  }

  async script(script: string): Promise<SqlResult[]> {
    const results = splitStatements(script).map((sql) => this.#run({ sql, params: [] }));
    await this.#capture?.flush();
    return results;
  }
}

export class SqliteSql implements SqlStore {
  readonly #dir: string;
  readonly #open = new Map<string, SqliteDatabase>();
  readonly #captureOptions: SqlCaptureOptions | undefined;

  constructor(dir: string, capture?: SqlCaptureOptions) {
    this.#dir = dir;
    this.#captureOptions = capture;
  }

  database(name: string): SqlDatabase {
    return this.#database(name);
  }

  #database(name: string): SqliteDatabase {
    if (!NAME.test(name)) throw new OutpostError('INVALID_DATABASE', `invalid database name ${JSON.stringify(name)}`, { status: 400, fault: 'user', hint: 'use 1–64 letters, digits, - or _' });
    let db = this.#open.get(name);
    if (!db) {
      mkdirSync(this.#dir, { recursive: true });
      db = new SqliteDatabase(join(this.#dir, `${name}.sqlite`), name, this.#captureOptions);
      this.#open.set(name, db);
    }
    return db;
  }

  async list(): Promise<string[]> {
    try {
      return readdirSync(this.#dir).filter((f) => f.endsWith('.sqlite')).map((f) => f.slice(0, -'.sqlite'.length)).sort();
    } catch {
      return [];
    }
  }

  // Change capture (sql-changes.ts).
  async setChangeFeeds(database: string, queues: readonly string[]): Promise<void> {
    const capture = this.#database(database).capture;
    if (!capture) throw new Error('this SQL store was opened without change capture');
    if (capture.feeds().join('\u0000') !== [...new Set(queues)].sort().join('\u0000')) capture.setFeeds(queues);
    // Changes a crash left in the database are moved now.
    await capture.flush();
  }

  async changeFeeds(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const name of await this.list()) {
      const feeds = this.#database(name).capture?.feeds() ?? [];
      if (feeds.length > 0) out[name] = feeds;
    }
    return out;
  }

  close(): void {
    for (const db of this.#open.values()) db.close();
    this.#open.clear();
  }
}
