/**
 * @module
 * How long the dashboard takes to draw a function's charts from 10,000 points per series (the
 * most the metrics API returns), in Debian's Chromium, headless. The baseline in the same run is
 * the same page with 100 points, so the ratio shows what the data size costs on top of the
 * page's fixed work. A real `outpost dev` node serves the built dashboard and the function; the
 * series endpoint is answered by the browser (playwright's route) with generated points, so the
 * figure is the browser's work alone, not the API's.
 *
 * Measured in the page with the marks the dashboard sets: "one chart" is one uPlot from
 * construction to its first draw; "data → four charts" is from the parsed answer to the last
 * of the four charts drawn (building the columns, rendering the panel, four uPlots);
 * "request → four charts" adds the request and the JSON parse.
 *
 *   node bench/dashboard.ts [--rounds 15]
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { buildDashboard } from '../scripts/build-dashboard.ts';
import { CLI, MACHINE, cleanup, freePort, median, startServer, table, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const SIZES = [100, 10_000];
const CHART_IDS = ['invocations', 'latency', 'cold-starts', 'concurrency'];

function points(n: number): unknown {
  const step = 60;
  const start = Date.now() - n * step * 1000;
  return {
    step,
    points: Array.from({ length: n }, (_, i) => {
      const invocations = 50 + Math.round(40 * Math.sin(i / 50)) + (i % 7);
      return { t: start + i * step * 1000, invocations, errors: i % 13 === 0 ? 2 : 0, coldStarts: i % 17 === 0 ? 1 : 0, p50: 4 + (i % 5), p95: 12 + (i % 11), p99: 30 + (i % 23), concurrency: 1 + (i % 4) };
    }),
  };
}

interface Sample {
  invocations: number;
  all: number;
  total: number;
}

async function drawOnce(page: Page, n: number): Promise<Sample> {
  await page.goto(`${page.url().split('#')[0]}#/functions`);
  await page.getByRole('heading', { name: 'Functions', level: 1 }).waitFor();
  await page.evaluate(() => {
    performance.clearMeasures();
    performance.clearMarks();
  });
  await page.goto(`${page.url().split('#')[0]}#/functions/hello`);
  for (const id of CHART_IDS) await page.locator(`[data-chart="${id}"][data-drawn="${n}"]`).waitFor();
  return page.evaluate((ids) => {
    const entries = ids.map((id) => performance.getEntriesByName(`outpost:chart:${id}`, 'measure')[0]).filter((e) => e !== undefined);
    const first = entries.find((e) => e.name.endsWith(':invocations'));
    const drawn = Math.max(...entries.map((e) => e.startTime + e.duration));
    const mark = (name: string): number => performance.getEntriesByName(name, 'mark').at(-1)?.startTime ?? Number.NaN;
    return { invocations: first?.duration ?? Number.NaN, all: drawn - mark('outpost:series:received'), total: drawn - mark('outpost:series:requested') };
  }, CHART_IDS);
}

await buildDashboard();
const dir = tempDir('outpost-bench-dashboard-');
writeFiles(dir, { 'hello/outpost.toml': 'name = "hello"\nmain = "index.js"\n', 'hello/index.js': "export default { fetch() { return new Response('hi'); } };\n" });
const port = await freePort();
const server = await startServer(process.execPath, [CLI, 'dev', `${dir}/hello`, '--port', String(port), '--aws-port', '0', '--state', `${dir}/state`, '--quiet'], `http://127.0.0.1:${port}/_outpost/health`, { readyLine: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
let size = SIZES[0] as number;
const bodies = new Map(SIZES.map((n) => [n, JSON.stringify(points(n))]));
await page.route('**/_outpost/api/metrics/series**', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: bodies.get(size) ?? '' }));
await page.goto(`http://127.0.0.1:${port}/_outpost/`);
// `outpost dev` trusts loopback, so any token logs in.
await page.getByLabel('Access token').fill('bench');
await page.getByRole('button', { name: 'Log in' }).click();
await page.getByRole('heading', { name: 'Functions', level: 1 }).waitFor();

const samples = new Map<number, Sample[]>(SIZES.map((n) => [n, []]));
for (let round = 0; round <= rounds; round++) {
  for (const n of SIZES) {
    size = n;
    const s = await drawOnce(page, n);
    // Round 0 warms up (JIT, fonts, the bundle in cache) and is not counted.
    if (round > 0) samples.get(n)?.push(s);
    console.error(`round ${round}: ${String(n).padStart(6)} points  one chart ${s.invocations.toFixed(1)} ms  data → four charts ${s.all.toFixed(1)} ms  request → four charts ${s.total.toFixed(1)} ms`);
  }
}
await browser.close();
await server.stop();
cleanup(dir);

const med = SIZES.map((n) => {
  const s = samples.get(n) ?? [];
  return { n, first: median(s.map((x) => x.invocations)), all: median(s.map((x) => x.all)), total: median(s.map((x) => x.total)) };
});
const base = med[0];
console.log(`\n### Dashboard charts in Chromium (median of ${rounds} rounds, headless, 1280×900)\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(
    ['points per series', 'one chart (ms)', 'data → four charts (ms)', 'request → four charts (ms)', '× 100-point baseline (request → charts)'],
    med.map((m) => [m.n.toLocaleString('en'), m.first.toFixed(1), m.all.toFixed(1), m.total.toFixed(1), base ? (m.total / base.total).toFixed(2) : '']),
  ),
);
