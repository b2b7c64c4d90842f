/**
 * @module
 * `outpost d1 list|execute|migrations apply`: a node's D1 databases through the control API
 * (routes in src/bindings/d1/api.ts). Migrations are the numbered `.sql` files of a folder,
 * sent in name order; the node applies the ones its `d1_migrations` table does not list.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Values } from './commands.ts';
import { EXIT, UsageError } from './output.ts';
import { api, clientFrom as client, printResult as print } from './client.ts';



interface QueryResult {
  success: boolean;
  results: Array<Record<string, unknown>>;
  meta: { changes?: number; duration?: number };
}

function table(rows: Array<Record<string, unknown>>): string {
  const first = rows[0];
  if (!first) return '(no rows)';
  const cols = Object.keys(first);
  const cells = rows.map((r) => cols.map((c) => (r[c] === null ? 'NULL' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]))));
  const widths = cols.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => (row[i] as string).length))));
  const line = (values: string[]): string => values.map((v, i) => v.slice(0, 60).padEnd(widths[i] as number)).join(' │ ');
  return [line(cols), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(line)].join('\n');
}

export async function d1(values: Values, positionals: string[]): Promise<number> {
  const [verb, ...rest] = positionals;
  const c = client(values);
  switch (verb) {
    case 'list':
    case undefined: {
      const { databases } = await api<{ databases: string[] }>(c, 'GET', 'd1');
      print(values, databases, databases.length === 0 ? 'no databases' : databases.join('\n'));
      return EXIT.ok;
    }
    case 'execute': {
      const database = rest[0];
      if (!database) throw new UsageError('outpost d1 execute <database> --command "<sql>" | --file <file.sql>');
      const command = typeof values['command'] === 'string' ? values['command'] : undefined;
      const file = typeof values['file'] === 'string' ? values['file'] : undefined;
      if ((command === undefined) === (file === undefined)) throw new UsageError('pass exactly one of --command "<sql>" or --file <file.sql>');
      const sql = command ?? (await readFile(resolve(file as string), 'utf8'));
      const { results } = await api<{ results: QueryResult[] }>(c, 'POST', `d1/${encodeURIComponent(database)}/query`, { sql });
      print(values, results, results.map((r) => (r.results.length > 0 ? table(r.results) : `✔ ${r.meta.changes ?? 0} change(s) in ${(r.meta.duration ?? 0).toFixed(1)}ms`)).join('\n\n') || '✔ nothing to run');
      return EXIT.ok;
    }
    case 'migrations': {
      const [action, database] = rest;
      if (action !== 'apply' || !database) throw new UsageError('outpost d1 migrations apply <database> [--dir migrations]');
      const dir = resolve(typeof values['dir'] === 'string' ? values['dir'] : 'migrations');
      let files: string[];
      try {
        files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
      } catch {
        throw new UsageError(`no migrations folder at ${dir} (pass --dir <folder>)`);
      }
      const migrations = await Promise.all(files.map(async (name) => ({ name, sql: await readFile(join(dir, name), 'utf8') })));
      const result = await api<{ applied: string[]; skipped: number }>(c, 'POST', `d1/${encodeURIComponent(database)}/migrations`, { migrations });
      print(values, result, result.applied.length === 0 ? `✔ no migrations to apply (${result.skipped} already applied)` : result.applied.map((n) => `✔ applied ${n}`).join('\n'));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown d1 command "${verb}" (list, execute, migrations apply)`);
  }
}
