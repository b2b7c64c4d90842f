/**
 * @module
 * Cold-start storm: 1,000 concurrent first requests to a function scaled to zero. Each request
 * holds its slot for 50 ms (a timer), so the burst needs ceil(1000 / concurrency) instances.
 * Two shapes: Workers-style (concurrency 100, max_instances 16: needs 10) and Lambda-style
 * (concurrency 1, max_instances 50: 50 instances, the other 950 queue). Reported per case: the
 * completion time of every request from the start of the burst (p50/p99/max) and the most
 * instances running during it, which must be at most what the burst needs.
 *
 * Baselines in the same run: the same burst on the same node right after (instances warm), and
 * raw node:http answering after the same 50 ms (the floor). Server pinned to one core.
 *
 *   node bench/cold-start-storm.ts [--rounds 3] [--requests 1000]
 */
import { parseArgs } from 'node:util';
import { CLI, CORES, MACHINE, cleanup, freePort, median, percentile, startServer, table, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, requests: { type: 'string', default: '1000' } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const HOLD_MS = 50;

const HANDLER = `export default { async fetch() { await new Promise((r) => setTimeout(r, ${HOLD_MS})); return new Response('ok'); } };\n`;
const dir = tempDir('outpost-storm-');
writeFiles(dir, {
  'raw.mjs': `import { createServer } from 'node:http';\ncreateServer((req, res) => setTimeout(() => res.end('ok'), ${HOLD_MS})).listen(Number(process.argv[2]), '127.0.0.1');\n`,
  // idle_timeout_s = 1: the bench waits for scale to zero before each cold burst.
  'fns/workers/outpost.toml': 'name = "workers"\nmain = "index.js"\n[limits]\nconcurrency = 100\nmax_instances = 16\nidle_timeout_s = 1\n',
  'fns/workers/index.js': HANDLER,
  'fns/lambda/outpost.toml': 'name = "lambda"\nmain = "index.js"\n[limits]\nconcurrency = 1\nmax_instances = 50\nidle_timeout_s = 1\n',
  'fns/lambda/index.js': HANDLER,
});

/** Fires `requests` at once; returns each one's completion time (ms) from the start of the burst. */
async function burst(url: string): Promise<number[]> {
  const t0 = performance.now();
  return Promise.all(
    Array.from({ length: requests }, async () => {
      const r = await fetch(url);
      await r.text();
      if (!r.ok) throw new Error(`${url}: ${r.status}`);
      return performance.now() - t0;
    }),
  );
}

interface Runtime {
  instances: number;
  inFlight: number;
}
async function runtime(base: string, fn: string): Promise<Runtime> {
  return ((await (await fetch(`${base}/_outpost/api/functions/${fn}`)).json()) as { runtime: Runtime }).runtime;
}

async function scaledToZero(base: string, fn: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await runtime(base, fn)).instances > 0) {
    if (Date.now() > deadline) throw new Error(`${fn} did not scale to zero`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Case {
  cold: number[][];
  warm: number[][];
  instances: number[];
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// dev: loopback needs no token for the control API's runtime figures.
const node = await startServer(process.execPath, [CLI, 'dev', `${dir}/fns`, '--port', String(port), '--state', `${dir}/state`, '--aws-port', '0', '--quiet'], `${base}/_outpost/health`, { core: CORES.server, readyLine: true });
const results = new Map<string, Case>();
for (let round = 1; round <= rounds; round++) {
  for (const fn of ['workers', 'lambda']) {
    const c = results.get(fn) ?? { cold: [], warm: [], instances: [] };
    results.set(fn, c);
    await scaledToZero(base, fn);
    // The most instances seen while the burst runs (sampled every 50 ms, and once after).
    let instances = 0;
    let bursting = true;
    const sampler = (async () => {
      while (bursting) {
        instances = Math.max(instances, (await runtime(base, fn)).instances);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const cold = await burst(`${base}/${fn}/`);
    bursting = false;
    await sampler;
    instances = Math.max(instances, (await runtime(base, fn)).instances);
    const warm = await burst(`${base}/${fn}/`);
    c.cold.push(cold);
    c.warm.push(warm);
    c.instances.push(instances);
    console.error(`round ${round}: ${fn.padEnd(8)} cold p50 ${median(cold).toFixed(0)} ms  max ${Math.max(...cold).toFixed(0)} ms  instances ${instances}  warm p50 ${median(warm).toFixed(0)} ms`);
  }
}
await node.stop();

const rawPort = await freePort();
const raw = await startServer(process.execPath, [`${dir}/raw.mjs`, String(rawPort)], `http://127.0.0.1:${rawPort}/`, { core: CORES.server });
const rawRuns: number[][] = [];
for (let round = 1; round <= rounds; round++) rawRuns.push(await burst(`http://127.0.0.1:${rawPort}/`));
await raw.stop();
cleanup(dir);

/** Median over rounds of each round's p50, p99 and max. */
const row = (name: string, runs: number[][], instances = '—'): Array<string | number> => [
  name,
  median(runs.map((xs) => median(xs))).toFixed(0),
  median(runs.map((xs) => percentile(xs, 99))).toFixed(0),
  median(runs.map((xs) => Math.max(...xs))).toFixed(0),
  instances,
];
const workers = results.get('workers') as Case;
const lambda = results.get('lambda') as Case;
console.log(`\n### Cold-start storm (${requests} concurrent first requests, each holding ${HOLD_MS} ms; median of ${rounds} rounds)\n`);
console.log(`Machine: ${MACHINE}, server on core ${CORES.server}\n`);
console.log(
  table(['case', 'p50 ms', 'p99 ms', 'max ms', 'peak instances (at most)'], [
    row('outpost Workers-style, cold (concurrency 100)', workers.cold, `${median(workers.instances)} (${Math.ceil(requests / 100)})`),
    row('outpost Workers-style, warm', workers.warm),
    row('outpost Lambda-style, cold (concurrency 1, max_instances 50)', lambda.cold, `${median(lambda.instances)} (50)`),
    row('outpost Lambda-style, warm', lambda.warm),
    row(`raw node:http, ${HOLD_MS} ms timer (floor)`, rawRuns),
  ]),
);
