/**
 * @module
 * `outpost usage [fn]`: what a node's functions used (GET /_outpost/api/usage) as a table per
 * function, version or hour, and what the same work would cost at each price table's list
 * price.
 */
import type { Values } from './commands.ts';
import { api, clientFrom, printResult } from './client.ts';
import { EXIT, UsageError } from './output.ts';
import type { Estimate } from '../observe/prices.ts';
import type { UsageCounters, UsageRow } from '../observe/usage.ts';

interface UsageReport {
  rows: UsageRow[];
  totals: UsageCounters;
  estimates: Estimate[];
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const COLUMNS: Array<{ title: string; cell: (c: UsageCounters) => string }> = [
  { title: 'REQUESTS', cell: (c) => String(c.requests) },
  { title: 'ERRORS', cell: (c) => String(c.errors) },
  { title: 'COLD', cell: (c) => String(c.coldStarts) },
  { title: 'BILLED MS', cell: (c) => String(Math.round(c.billedMs)) },
  { title: 'GB-S', cell: (c) => c.gbSeconds.toFixed(4) },
  { title: 'CPU MS', cell: (c) => c.cpuMs.toFixed(1) },
  { title: 'IN', cell: (c) => bytes(c.bytesIn) },
  { title: 'OUT', cell: (c) => bytes(c.bytesOut) },
];

/** The report as a table, its totals and one block per price table. */
export function formatUsage(report: UsageReport, by: string): string {
  const label = (r: UsageRow): string => (by === 'version' ? `${r.function}@${r.version ?? '?'}` : by === 'hour' ? `${r.function} ${r.hour ?? ''}:00Z` : r.function);
  const first = by === 'hour' ? 'FUNCTION HOUR' : by === 'version' ? 'VERSION' : 'FUNCTION';
  const body: string[][] = [[first, ...COLUMNS.map((c) => c.title)], ...report.rows.map((r) => [label(r), ...COLUMNS.map((c) => c.cell(r))]), ['total', ...COLUMNS.map((c) => c.cell(report.totals))]];
  const widths = body[0]?.map((_, i) => Math.max(...body.map((row) => (row[i] ?? '').length))) ?? [];
  const table = body.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
  const estimates = report.estimates.map((e) => {
    const lines = e.lines.map((l) => `  ${l.item.padEnd(22)} ${String(l.quantity).padStart(14)} × ${l.unitPrice} = ${l.amount.toFixed(6)} ${e.currency}`);
    return `${e.table}: ${e.total.toFixed(6)} ${e.currency}\n${lines.join('\n')}`;
  });
  return `${table}\n\nEstimated cost at list price (no free tier):\n${estimates.join('\n')}`;
}

export async function usage(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length > 1) throw new UsageError('outpost usage takes at most one function name');
  const by = typeof values['by'] === 'string' ? values['by'] : 'function';
  if (by !== 'function' && by !== 'version' && by !== 'hour') throw new UsageError(`--by must be function, version or hour, got ${by}`);
  const params = new URLSearchParams({ by, since: typeof values['since'] === 'string' ? values['since'] : '24h' });
  if (typeof values['until'] === 'string') params.set('until', values['until']);
  if (positionals[0]) params.set('function', positionals[0]);
  const client = clientFrom(typeof values['url'] === 'string' && values['to'] === undefined ? { ...values, to: values['url'] } : values);
  const report = await api<UsageReport>(client, 'GET', `usage?${params}`);
  printResult(values, report, report.rows.length === 0 ? 'no usage recorded in that time' : formatUsage(report, by));
  return EXIT.ok;
}
