/**
 * @module
 * A function's charts over a selectable range (15 min, 1 h, 24 h): invocations and errors,
 * p50/p95/p99 latency, cold-start rate and concurrency, from the metrics series API. The step
 * (a whole number of minutes, as the API wants) grows with the range so a day is 60 points,
 * not 1,440. Refreshes every 10 s while open.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { optionalApi, query } from './api.ts';
import { Chart } from './chart.tsx';
import { CHARTS, total } from './series.ts';
import { Empty, Show } from './status.tsx';
import type { Series } from './types.ts';
import { useLoad } from './use-load.ts';

const RANGES = [
  { id: '15m', label: '15 min', step: 60 },
  { id: '1h', label: '1 hour', step: 60 },
  { id: '24h', label: '24 hours', step: 1440 },
] as const;
type RangeId = (typeof RANGES)[number]['id'];

const REFRESH_MS = 10_000;

export function ChartsPanel({ name }: { name: string }) {
  const [range, setRange] = useState<RangeId>('1h');
  const step = RANGES.find((r) => r.id === range)?.step ?? 60;
  const series = useLoad(
    async (signal) => {
      // Marks for bench/dashboard.ts: request → answer parsed → (chart.tsx) drawn.
      performance.mark('outpost:series:requested');
      const answer = await optionalApi<Series>(`/metrics/series${query({ function: name, since: range, step })}`, { signal });
      performance.mark('outpost:series:received');
      return answer;
    },
    [name, range],
  );
  useEffect(() => {
    const timer = setInterval(series.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [series.reload]);
  return (
    <section aria-labelledby="charts-title">
      <div class="section-head">
        <h2 id="charts-title">Metrics</h2>
        <fieldset class="segmented">
          <legend class="visually-hidden">Time range</legend>
          {RANGES.map((r) => (
            <label key={r.id}>
              <input type="radio" name="range" value={r.id} checked={range === r.id} onChange={() => setRange(r.id)} />
              {r.label}
            </label>
          ))}
        </fieldset>
      </div>
      <Show loaded={series}>{(value) => <Charts series={value} />}</Show>
    </section>
  );
}

function Charts({ series }: { series: Series | undefined }) {
  const points = series?.points;
  const columns = useMemo(() => CHARTS.map((c) => c.columns(points ?? [])), [points]);
  if (!points) return <Empty>No data yet: this node does not serve metrics yet.</Empty>;
  const invocations = total(points, 'invocations');
  if (invocations === 0) return <Empty>No data yet: no invocations in this range.</Empty>;
  const summaries: Record<string, string> = {
    invocations: `${invocations} invocations, ${total(points, 'errors')} errors`,
    latency: `latest p95 ${points.findLast((p) => p.invocations > 0)?.p95 ?? '—'} ms`,
    'cold-starts': `${total(points, 'coldStarts')} cold starts`,
    concurrency: `peak ${Math.max(...points.map((p) => p.concurrency))}`,
  };
  return (
    <div class="charts">
      {CHARTS.map((spec, i) => (
        <Chart key={spec.id} spec={spec} columns={columns[i] ?? [[]]} summary={summaries[spec.id] ?? ''} />
      ))}
    </div>
  );
}
