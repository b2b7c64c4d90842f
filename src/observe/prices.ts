/**
 * @module
 * Price tables that turn metered usage into an estimate of what the same work would cost on a
 * public platform, and the reader for a custom table (`outpost serve|dev --prices <file.json>`).
 *
 * Decisions: the built-in tables are list prices without free tiers or plan fees (AWS Lambda
 * x86 in us-east-1: $0.20 per 1M requests and $0.0000166667 per GB-second; Cloudflare Workers
 * Standard: $0.30 per 1M requests and $0.02 per 1M CPU ms, without the $5 monthly fee and its
 * included 10M requests / 30M CPU ms). A free tier is monthly and per account, which one node's
 * hourly counters cannot apply honestly, so estimates are the marginal cost of the metered work.
 */
import { readFile } from 'node:fs/promises';

/** What a price line multiplies: one of the usage counters. */
export type Meter = 'requests' | 'gbSeconds' | 'cpuMs' | 'durationMs' | 'billedMs' | 'bytesIn' | 'bytesOut';

export interface PriceLine {
  item: string;
  meter: Meter;
  /** Price of one unit of the meter (one request, one GB-second, one CPU ms, one byte). */
  unitPrice: number;
}

export interface PriceTable {
  name: string;
  currency: string;
  lines: PriceLine[];
}

export interface Estimate {
  table: string;
  currency: string;
  total: number;
  lines: Array<{ item: string; quantity: number; unitPrice: number; amount: number }>;
}

const METERS = new Set<string>(['requests', 'gbSeconds', 'cpuMs', 'durationMs', 'billedMs', 'bytesIn', 'bytesOut']);

export const AWS_LAMBDA: PriceTable = {
  name: 'aws-lambda',
  currency: 'USD',
  lines: [
    { item: 'requests', meter: 'requests', unitPrice: 0.0000002 },
    { item: 'compute (GB-seconds)', meter: 'gbSeconds', unitPrice: 0.0000166667 },
  ],
};

export const CLOUDFLARE_WORKERS: PriceTable = {
  name: 'cloudflare-workers',
  currency: 'USD',
  lines: [
    { item: 'requests', meter: 'requests', unitPrice: 0.0000003 },
    { item: 'CPU time (ms)', meter: 'cpuMs', unitPrice: 0.00000002 },
  ],
};

export const BUILT_IN_TABLES: readonly PriceTable[] = [AWS_LAMBDA, CLOUDFLARE_WORKERS];

/** Prices `usage` with `table`; amounts are rounded to 1/1,000,000 of the currency unit. */
export function estimate(table: PriceTable, usage: Record<Meter, number>): Estimate {
  const round = (n: number): number => Math.round(n * 1e6) / 1e6;
  const lines = table.lines.map((l) => ({ item: l.item, quantity: usage[l.meter], unitPrice: l.unitPrice, amount: round(usage[l.meter] * l.unitPrice) }));
  return { table: table.name, currency: table.currency, total: round(lines.reduce((n, l) => n + l.amount, 0)), lines };
}

/**
 * Reads custom tables: one table or an array of them, each
 * `{ "name", "currency"?, "lines": [{ "item", "meter", "unitPrice" }] }`.
 * Throws an Error naming the file, the entry and what is wrong.
 */
export async function readPriceTables(file: string): Promise<PriceTable[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`--prices ${file}: cannot read it as JSON (${(error as Error).message})`);
  }
  const tables = Array.isArray(raw) ? raw : [raw];
  return tables.map((t: unknown, i) => {
    const where = `--prices ${file}: table ${i + 1}`;
    const table = t as Partial<PriceTable> | null;
    if (!table || typeof table.name !== 'string' || table.name === '') throw new Error(`${where} needs a "name"`);
    if (!Array.isArray(table.lines) || table.lines.length === 0) throw new Error(`${where} (${table.name}) needs "lines": [{ "item", "meter", "unitPrice" }]`);
    const lines = table.lines.map((l: Partial<PriceLine>, j) => {
      if (typeof l.item !== 'string' || typeof l.meter !== 'string' || !METERS.has(l.meter) || typeof l.unitPrice !== 'number' || !(l.unitPrice >= 0)) {
        throw new Error(`${where} (${table.name}), line ${j + 1}: needs "item" (text), "meter" (one of ${[...METERS].join(', ')}) and "unitPrice" (a number ≥ 0)`);
      }
      return { item: l.item, meter: l.meter, unitPrice: l.unitPrice };
    });
    return { name: table.name, currency: typeof table.currency === 'string' ? table.currency : 'USD', lines };
  });
}
