/**
 * @module
 * Turns the metrics API's points into uPlot's column arrays, one per chart. uPlot wants x in
 * Unix seconds and `null` for gaps; the API's `t` is taken as milliseconds when it is too large
 * to be seconds, so either works.
 */
import type { SeriesPoint } from './types.ts';

export type Columns = [number[], ...Array<Array<number | null>>];

const toSeconds = (t: number): number => (t > 1e11 ? t / 1000 : t);

export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  series: Array<{ label: string; color: string }>;
  columns(points: readonly SeriesPoint[]): Columns;
}

const xs = (points: readonly SeriesPoint[]): number[] => points.map((p) => toSeconds(p.t));

/** Colours chosen for contrast on both the light and the dark background. */
export const CHARTS: ChartSpec[] = [
  {
    id: 'invocations',
    title: 'Invocations and errors',
    unit: 'per step',
    series: [
      { label: 'invocations', color: '#2563eb' },
      { label: 'errors', color: '#dc2626' },
    ],
    columns: (p) => [xs(p), p.map((x) => x.invocations), p.map((x) => x.errors)],
  },
  {
    id: 'latency',
    title: 'Latency',
    unit: 'ms',
    series: [
      { label: 'p50', color: '#059669' },
      { label: 'p95', color: '#d97706' },
      { label: 'p99', color: '#dc2626' },
    ],
    // A step without invocations has no latency (the API sends 0): a gap, not a dip to zero.
    columns: (p) => [xs(p), ...(['p50', 'p95', 'p99'] as const).map((q) => p.map((x) => (x.invocations > 0 ? x[q] : null)))],
  },
  {
    id: 'cold-starts',
    title: 'Cold-start rate',
    unit: '%',
    series: [{ label: 'cold starts', color: '#7c3aed' }],
    columns: (p) => [xs(p), p.map((x) => (x.invocations > 0 ? (100 * x.coldStarts) / x.invocations : null))],
  },
  {
    id: 'concurrency',
    title: 'Concurrency',
    unit: 'in flight',
    series: [{ label: 'concurrency', color: '#0891b2' }],
    columns: (p) => [xs(p), p.map((x) => x.concurrency)],
  },
];

/** Sum of one numeric field over the points (the figure beside each chart's title). */
export function total(points: readonly SeriesPoint[], field: 'invocations' | 'errors' | 'coldStarts'): number {
  let sum = 0;
  for (const p of points) sum += p[field];
  return sum;
}
