/**
 * @module
 * SQL change capture, the store side: a database can feed one or more queues, and every row its
 * statements insert, update or delete is recorded — by triggers in the database itself, so **in
 * the same transaction as the write** — and then moved, in order, to each queue as a
 * {@link SqlChange} (JSON). events/d1-changes.ts turns these neutral records into the DynamoDB
 * Streams shape and delivers them.
 */

/** A column value, typed as SQLite stores it: `{S}` text, `{N}` number (as text), `{B}` blob (base64), `{NULL}`. */
export type SqlCell = { S: string } | { N: string } | { B: string } | { NULL: true };

export interface SqlChange {
  database: string;
  table: string;
  op: 'insert' | 'update' | 'delete';
  /** The primary key columns (or `rowid` for a table without one). */
  keys: Record<string, SqlCell>;
  /** Increases with every captured change of the database: 21 digits, so it also sorts as a string. */
  sequence: string;
  /** Epoch ms the change was moved out of the database (close to the write). */
  at: number;
  old?: Record<string, SqlCell>;
  new?: Record<string, SqlCell>;
}
