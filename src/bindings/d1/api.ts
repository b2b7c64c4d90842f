/**
 * @module
 * The control API's D1 routes (behind the control API's auth), used by `outpost d1`:
 *
 *   GET  /_outpost/api/d1                          { databases: [name] }
 *   POST /_outpost/api/d1/<db>/query               { sql, params? } → D1 results (one per statement
 *                                                  when `sql` holds several and no params are given)
 *   POST /_outpost/api/d1/<db>/migrations          { migrations: [{ name, sql }] } → { applied: [name] }
 *
 * Migrations are applied in name order, each in its own transaction, and recorded in the
 * database's `d1_migrations` table (id, name, applied_at) as wrangler records them; a name
 * already recorded is skipped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError } from '../../errors.ts';
import type { SqlStore, SqlValue } from '../../store/sql.ts';
import { d1Host } from './index.ts';
import type { D1WireResult } from './index.ts';
import { readJsonObject as readJson, sendJson } from '../../control/http.ts';

const send = (res: ServerResponse, value: unknown, requestId: string): void => sendJson(res, 200, value, requestId);

const PREFIX = '/_outpost/api/d1';



function rowsOf(r: D1WireResult): Record<string, unknown>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
}

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS d1_migrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

export function d1Api(sql: SqlStore): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean> {
  return async (req, res, requestId) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return false;
    const [database, action] = path.slice(PREFIX.length + 1).split('/').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (!database && method === 'GET') {
      send(res, { databases: await sql.list() }, requestId);
      return true;
    }
    if (!database || method !== 'POST') return false;
    const host = d1Host(sql, database);
    if (action === 'query') {
      const body = await readJson(req);
      if (typeof body['sql'] !== 'string') throw new OutpostError('INVALID_QUERY', 'the body must be { sql, params? }', { status: 400, fault: 'user' });
      const params = Array.isArray(body['params']) ? (body['params'] as SqlValue[]) : undefined;
      if (params) {
        const r = (await host('run', [{ sql: body['sql'], params }])) as D1WireResult;
        send(res, { results: [{ success: true, results: rowsOf(r), meta: r.meta }] }, requestId);
        return true;
      }
      const results = (await host('script', [body['sql']])) as D1WireResult[];
      send(res, { results: results.map((r) => ({ success: true, results: rowsOf(r), meta: r.meta })) }, requestId);
      return true;
    }
    if (action === 'migrations') {
      const body = await readJson(req);
      const list = body['migrations'];
      if (!Array.isArray(list) || !list.every((m: { name?: unknown; sql?: unknown }) => typeof m?.name === 'string' && typeof m.sql === 'string')) {
        throw new OutpostError('INVALID_QUERY', 'the body must be { migrations: [{ name, sql }] }', { status: 400, fault: 'user' });
      }
      const db = sql.database(database);
      await db.exec(MIGRATIONS_TABLE);
      const done = new Set((await db.run({ sql: 'SELECT name FROM d1_migrations', params: [] })).rows.map((r) => String(r[0])));
      const applied: string[] = [];
      for (const m of [...(list as Array<{ name: string; sql: string }>)].sort((a, b) => a.name.localeCompare(b.name))) {
        if (done.has(m.name)) continue;
        try {
          await db.exec('BEGIN');
          await db.exec(m.sql);
          await db.run({ sql: 'INSERT INTO d1_migrations (name) VALUES (?)', params: [m.name] });
          await db.exec('COMMIT');
        } catch (error) {
          await db.exec('ROLLBACK').catch(() => undefined);
          throw new OutpostError('MIGRATION_FAILED', `migration ${m.name} failed: ${(error as Error).message}`, { status: 400, fault: 'user', details: { applied }, hint: 'fix the migration file; the ones listed in details were applied' });
        }
        applied.push(m.name);
      }
      send(res, { applied, skipped: list.length - applied.length }, requestId);
      return true;
    }
    return false;
  };
}

