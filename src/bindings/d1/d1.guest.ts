/**
 * @module
 * The D1 database a function sees on `env` (Web APIs only: this runs inside the isolate):
 * `prepare(sql).bind(…).first|all|raw|run()`, `batch([…])` and `exec(sql)`, with D1's result
 * shapes. BLOB columns come back as arrays of byte values, as D1 returns them.
 */
import type { Rpc } from '../rpc.ts';

interface WireResult {
  columns: string[];
  rows: unknown[][];
  meta: Record<string, unknown>;
}

function toParam(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return new Uint8Array(value);
  if (value === undefined) throw new Error(`D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined'`);
  return value;
}

function cell(value: unknown): unknown {
  return value instanceof Uint8Array ? Array.from(value) : value;
}

function objects(r: WireResult): Record<string, unknown>[] {
  return r.rows.map((row) => {
    const o: Record<string, unknown> = {};
    r.columns.forEach((c, i) => (o[c] = cell(row[i])));
    return o;
  });
}

function result(r: WireResult): { success: true; meta: Record<string, unknown>; results: Record<string, unknown>[] } {
  return { success: true, meta: r.meta, results: objects(r) };
}

const STATEMENT = Symbol('statement');

class PreparedStatement {
  readonly #rpc: Rpc;
  readonly #binding: string;
  readonly [STATEMENT]: { sql: string; params: unknown[] };

  constructor(rpc: Rpc, binding: string, sql: string, params: unknown[]) {
    this.#rpc = rpc;
    this.#binding = binding;
    this[STATEMENT] = { sql, params };
  }

  bind(...values: unknown[]): PreparedStatement {
    return new PreparedStatement(this.#rpc, this.#binding, this[STATEMENT].sql, values.map(toParam));
  }

  async #run(): Promise<WireResult> {
    return (await this.#rpc(this.#binding, 'run', [this[STATEMENT]])) as WireResult;
  }

  async first(column?: string): Promise<unknown> {
    const r = await this.#run();
    const row = objects(r)[0];
    if (column === undefined) return row ?? null;
    if (!r.columns.includes(column)) throw new Error('D1_COLUMN_NOTFOUND: Column not found');
    return row ? row[column] : null;
  }

  async all(): Promise<unknown> {
    return result(await this.#run());
  }

  async run(): Promise<unknown> {
    return result(await this.#run());
  }

  async raw(options: { columnNames?: boolean } = {}): Promise<unknown[]> {
    const r = await this.#run();
    const rows = r.rows.map((row) => row.map(cell));
    return options.columnNames ? [r.columns, ...rows] : rows;
  }
}

export function createD1Database(binding: string, rpc: Rpc): object {
  const db = {
    prepare(sql: string): PreparedStatement {
      return new PreparedStatement(rpc, binding, String(sql), []);
    },
    async batch(statements: unknown[]): Promise<unknown[]> {
      if (!Array.isArray(statements)) throw new TypeError('batch() takes an array of prepared statements');
      const list = statements.map((s) => {
        if (!(s instanceof PreparedStatement)) throw new TypeError('batch() takes statements from prepare()');
        return s[STATEMENT];
      });
      return ((await rpc(binding, 'batch', [list])) as WireResult[]).map(result);
    },
    async exec(sql: string): Promise<unknown> {
      return rpc(binding, 'exec', [String(sql)]);
    },
    async dump(): Promise<never> {
      throw new Error('D1_DUMP_ERROR: dump() is not supported; use `outpost d1 execute` to export data');
    },
    /** Sessions (read replication) do not apply to one embedded database: every read sees every write. */
    withSession(): object {
      return { prepare: db.prepare, batch: db.batch, getBookmark: () => null };
    },
  };
  return db;
}
