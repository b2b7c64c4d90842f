/**
 * @module
 * SQL databases for functions (the D1 binding): one database per name, statements with bound
 * parameters only, batches in one transaction. Callers never see which engine runs the SQL;
 * the embedded backend keeps one SQLite file per database, apart from Outpost's own.
 */

/** A value a parameter or column can hold. */
export type SqlValue = null | number | bigint | string | Uint8Array;

export interface SqlStatement {
  sql: string;
  params: readonly SqlValue[];
}

export interface SqlResult {
  columns: string[];
  /** Rows as arrays, in column order. */
  rows: SqlValue[][];
  /** Rows the statement inserted, updated or deleted. */
  changes: number;
  lastRowId: number;
  rowsRead: number;
  rowsWritten: number;
  durationMs: number;
}

/**
 * A failed statement. `message` is the engine's own text (`no such table: users`); `kind` is
 * the engine's error class (`SQLITE_ERROR`, `SQLITE_CONSTRAINT`…).
 */
export interface SqlFailure {
  message: string;
  kind: string;
}

export interface SqlDatabase {
  /** Runs one statement. Throws OutpostError SQL_ERROR (details: SqlFailure) when it fails. */
  run(statement: SqlStatement): Promise<SqlResult>;
  /** Runs the statements in one transaction: all of them or, when one fails, none. */
  batch(statements: readonly SqlStatement[]): Promise<SqlResult[]>;
  /** Runs a script statement by statement (no parameters) and returns each statement's result. */
  script(script: string): Promise<SqlResult[]>;
  /** Runs a script of statements without parameters; returns how many ran. */
  exec(script: string): Promise<{ count: number; durationMs: number }>;
}

export interface SqlStore {
  /** The database named `name`, created empty on first use. Names are `[A-Za-z0-9_-]`, 1–64. */
  database(name: string): SqlDatabase;
  /** Names of the databases that exist. */
  list(): Promise<string[]>;
  /**
   * Change capture (sql-changes.ts): from now on every row change of `database` is recorded in
   * the write's transaction and moved, in order, to each of `queues` as an SqlChange. Replaces
   * the database's set; persisted; an empty list stops capture. Also moves changes a crash left behind.
   */
  setChangeFeeds(database: string, queues: readonly string[]): Promise<void>;
  /** Every database's capture queues. */
  changeFeeds(): Promise<Record<string, string[]>>;
}
