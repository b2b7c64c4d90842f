/**
 * @module
 * Usage and estimated cost per function over a chosen period, from the usage API: the metered
 * counters per function, and for each price table the function's estimated cost. The API
 * estimates the whole query, so the page asks once for the totals and once per function for
 * that function's estimate (in parallel); the costs are the node's numbers, not recomputed.
 */
import { useState } from 'preact/hooks';
import { api, optionalApi, query } from './api.ts';
import { Empty, Show } from './status.tsx';
import type { UsageAnswer, UsageCounters, UsageEstimate } from './types.ts';
import { useLoad } from './use-load.ts';

const PERIODS = [
  { id: '24h', label: 'Last 24 hours' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
];

const COUNTERS: Array<{ key: keyof UsageCounters; label: string; digits?: number }> = [
  { key: 'requests', label: 'Requests' },
  { key: 'errors', label: 'Errors' },
  { key: 'coldStarts', label: 'Cold starts' },
  { key: 'gbSeconds', label: 'GB-seconds', digits: 3 },
  { key: 'cpuMs', label: 'CPU ms', digits: 0 },
  { key: 'bytesOut', label: 'Bytes out' },
];

const number = (value: number, digits = 0): string => value.toLocaleString(undefined, { maximumFractionDigits: digits });
/** Cents as usual; fractions of a cent (a few requests) with two significant digits, not as 0.00. */
function money(e: UsageEstimate | undefined): string {
  if (!e) return '—';
  const small = e.total > 0 && e.total < 0.01;
  return e.total.toLocaleString(undefined, { style: 'currency', currency: e.currency, ...(small ? { maximumSignificantDigits: 2 } : {}) });
}

interface UsageView {
  answer: UsageAnswer;
  /** Each function's estimates, by function name. */
  perFunction: Map<string, UsageEstimate[]>;
}

async function loadUsage(since: string, signal: AbortSignal): Promise<UsageView | undefined> {
  const answer = await optionalApi<UsageAnswer>(`/usage${query({ since, by: 'function' })}`, { signal });
  if (!answer) return undefined;
  const each = await Promise.all(answer.rows.map(async (r) => [r.function, (await api<UsageAnswer>(`/usage${query({ since, function: r.function })}`, { signal })).estimates] as const));
  return { answer, perFunction: new Map(each) };
}

export function UsagePage() {
  const [since, setSince] = useState('24h');
  const usage = useLoad((signal) => loadUsage(since, signal), [since]);
  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage and cost</h1>
      <label>
        Period{' '}
        <select value={since} onChange={(e) => setSince(e.currentTarget.value)}>
          {PERIODS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      <Show loaded={usage}>
        {(view) => {
          if (!view) return <Empty>No data yet: this node does not report usage yet.</Empty>;
          const { answer, perFunction } = view;
          if (answer.rows.length === 0) return <Empty>No usage recorded in this period.</Empty>;
          const tables = answer.estimates.map((e) => e.table);
          return (
            <table>
              <caption>Usage and estimated cost per function (list prices, free tiers not included)</caption>
              <thead>
                <tr>
                  <th scope="col">Function</th>
                  {COUNTERS.map((c) => (
                    <th scope="col" key={c.key}>
                      {c.label}
                    </th>
                  ))}
                  {tables.map((t) => (
                    <th scope="col" key={t}>
                      Cost at {t}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {answer.rows.map((r) => (
                  <tr key={r.function}>
                    <th scope="row">{r.function}</th>
                    {COUNTERS.map((c) => (
                      <td key={c.key}>{number(r[c.key], c.digits)}</td>
                    ))}
                    {tables.map((t) => (
                      <td key={t}>{money(perFunction.get(r.function)?.find((e) => e.table === t))}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  {COUNTERS.map((c) => (
                    <td key={c.key}>{number(answer.totals[c.key], c.digits)}</td>
                  ))}
                  {answer.estimates.map((e) => (
                    <td key={e.table}>{money(e)}</td>
                  ))}
                </tr>
              </tfoot>
            </table>
          );
        }}
      </Show>
    </section>
  );
}
