/**
 * @module
 * One uPlot time-series chart. uPlot draws to a canvas and stays fast at 10,000+ points;
 * the canvas is not readable by screen readers, so each chart is a labelled figure with a
 * text summary beside it. The chart is rebuilt when its data changes (uPlot's setData would
 * keep old scales when the range changes) and resized with its container.
 *
 * Each first draw after data arrives is recorded as a `outpost:chart:<id>` performance
 * measure, which bench/dashboard.ts reads.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { ChartSpec, Columns } from './series.ts';

const HEIGHT = 200;

/** Axis text and grid in the page's colours: uPlot paints on a canvas, which CSS cannot reach (dark mode). */
function axis(): uPlot.Axis {
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue('--fg').trim() || '#111827';
  const line = style.getPropertyValue('--line').trim() || '#d1d5db';
  return { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
}

export function Chart({ spec, columns, summary }: { spec: ChartSpec; columns: Columns; summary: string }) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = holder.current;
    if (!target) return;
    const started = performance.now();
    let measured = false;
    const plot = new uPlot(
      {
        width: Math.max(240, target.clientWidth),
        height: HEIGHT,
        series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: false }))],
        axes: [axis(), { ...axis(), label: spec.unit, size: 56 }],
        legend: { live: true },
        hooks: {
          draw: [
            () => {
              if (measured) return;
              measured = true;
              performance.measure(`outpost:chart:${spec.id}`, { start: started, end: performance.now() });
              target.dataset['drawn'] = String(columns[0].length);
            },
          ],
        },
      },
      columns as uPlot.AlignedData,
      target,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, target.clientWidth), height: HEIGHT }));
    resize.observe(target);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [spec, columns]);
  return (
    <figure class="chart" aria-labelledby={`chart-${spec.id}`}>
      <figcaption id={`chart-${spec.id}`}>
        {spec.title} <span class="muted">({summary})</span>
      </figcaption>
      <div ref={holder} class="chart-canvas" data-chart={spec.id} role="img" aria-label={`${spec.title}: ${summary}`} />
    </figure>
  );
}
