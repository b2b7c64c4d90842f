/**
 * @module
 * The host side of the D1 binding: runs a function's SQL on the one database its config
 * declared (`d1_databases = [{ binding, database_name }]`), through the store's SqlStore.
 * Parameters are always bound by the engine, never spliced into the SQL text.
 */
import { isOutpostError } from '../../errors.ts';
import type { SqlDatabase, SqlResult, SqlStatement, SqlStore, SqlValue } from '../../store/sql.ts';
import type { HostBinding } from '../rpc.ts';
import { d1Error } from './errors.ts';

/** The meta object of a D1 result. */
export interface D1Meta {
  duration: number;
  size_after: number;
  rows_read: number;
  rows_written: number;
  last_row_id: number;
  changed_db: boolean;
  changes: number;
}

/** What crosses back to the guest for one statement: columns, rows as arrays, meta. */
export interface D1WireResult {
  columns: string[];
  rows: SqlValue[][];
  meta: D1Meta;
}

function meta(r: SqlResult): D1Meta {
  return { duration: r.durationMs, size_after: 0, rows_read: r.rowsRead, rows_written: r.rowsWritten, last_row_id: r.lastRowId, changed_db: r.changes > 0, changes: r.changes };
}

function param(value: unknown, index: number): SqlValue {
  if (value === null || typeof value === 'string' || value instanceof Uint8Array) return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw d1Error('D1_TYPE_ERROR', `Type '${typeof value}' not supported for value '${String(value)}' at position ${index + 1}`);
}

function statement(value: unknown): SqlStatement {
  const s = value as { sql?: unknown; params?: unknown } | null;
  if (!s || typeof s.sql !== 'string') throw d1Error('D1_ERROR', 'a statement needs SQL text');
  if (s.sql.trim() === '') throw d1Error('D1_ERROR', 'No SQL statements detected.');
  const params = Array.isArray(s.params) ? s.params.map(param) : [];
  return { sql: s.sql, params };
}

function sqlError(error: unknown, code: 'D1_ERROR' | 'D1_EXEC_ERROR' = 'D1_ERROR'): unknown {
  if (isOutpostError(error, 'SQL_ERROR')) {
    const details = error.details as { message?: string; kind?: string } | undefined;
    return d1Error(code, `${details?.message ?? error.message}: ${details?.kind ?? 'SQLITE_ERROR'}`);
  }
  return error;
}

function wire(r: SqlResult): D1WireResult {
  return { columns: r.columns, rows: r.rows, meta: meta(r) };
}

export function d1Host(sql: SqlStore, database: string): HostBinding {
  let db: SqlDatabase | undefined;
  const open = (): SqlDatabase => (db ??= sql.database(database));
  return async (method, args) => {
    try {
      switch (method) {
        case 'run':
          return wire(await open().run(statement(args[0])));
        case 'batch': {
          const list = args[0];
          if (!Array.isArray(list)) throw d1Error('D1_ERROR', 'batch() takes an array of prepared statements');
          return (await open().batch(list.map(statement))).map(wire);
        }
        case 'script':
          // Not reachable from a function's binding object (d1.guest.ts never sends it): the
          // control API's `outpost d1 execute` runs a script statement by statement with it.
          if (typeof args[0] !== 'string') throw d1Error('D1_ERROR', 'a script must be SQL text');
          return (await open().script(args[0])).map(wire);
        case 'exec': {
          const script = args[0];
          if (typeof script !== 'string' || script.trim() === '') throw d1Error('D1_EXEC_ERROR', 'Error in line 1: No SQL statements detected.');
          try {
            const r = await open().exec(script);
            return { count: r.count, duration: r.durationMs };
          } catch (error) {
            throw sqlError(error, 'D1_EXEC_ERROR');
          }
        }
        default:
          throw d1Error('D1_ERROR', `unknown operation ${method}`);
      }
    } catch (error) {
      throw sqlError(error);
    }
  };
}
