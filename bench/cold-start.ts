/**
 * @module
 * Cold start: the first request to a function that has never run on this node, until its
 * response. N distinct functions are deployed, the node is restarted on the same state (so no
 * instance exists), and each function gets one request. Measured from the client, so an HTTP
 * round trip is included; a warm request to the same node is reported beside it, and workerd's
 * time from start to the first response of one worker is the baseline.
 *
 *   node bench/cold-start.ts [--functions 100]
 */
import { parseArgs } from 'node:util';
import { ensureWorkerd, CLI, CORES, MACHINE, WORKERD, cleanup, freePort, median, percentile, startServer, table, tempDir, writeFiles } from './lib.ts';

ensureWorkerd();

const { values } = parseArgs({ options: { functions: { type: 'string', default: '100' } } });
const n = Number(values.functions);
const dir = tempDir('outpost-cold-');
const files: Record<string, string> = {};
for (let i = 0; i < n; i++) {
  files[`fns/f${i}/wrangler.toml`] = `name = "f${i}"\nmain = "index.js"\n`;
  files[`fns/f${i}/index.js`] = `const id = ${i};\nexport default { fetch() { return new Response('hello from ' + id); } };\n`;
}
writeFiles(dir, files);

// 1. deploy everything once
let port = await freePort();
let node = await startServer(process.execPath, [CLI, 'dev', `${dir}/fns`, '--port', String(port), '--state', `${dir}/state`, '--quiet'], `http://127.0.0.1:${port}/_outpost/health`, { core: CORES.server, readyLine: true });
await node.stop();

async function timeRequest(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(url);
  await r.text();
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return performance.now() - t0;
}

/** Instance start times the node itself logged for cold invocations (JSON log lines). */
function startTimes(log: string): number[] {
  const out: number[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as { type?: string; coldStart?: boolean; startMs?: number };
    if (r.type === 'invocation' && r.coldStart && typeof r.startMs === 'number') out.push(r.startMs);
  }
  return out;
}

async function run(pacingMs: number): Promise<{ cold: number[]; warm: number[]; server: number[] }> {
  port = await freePort();
  let log = '';
  node = await startServer(process.execPath, [CLI, 'serve', '--port', String(port), '--state', `${dir}/state`], `http://127.0.0.1:${port}/_outpost/health`, { core: CORES.server, readyLine: true, onStdout: (t) => (log += t) });
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < n; i++) {
    cold.push(await timeRequest(`http://127.0.0.1:${port}/f${i}/`));
    warm.push(await timeRequest(`http://127.0.0.1:${port}/f${i}/`));
    if (pacingMs > 0) await new Promise((r) => setTimeout(r, pacingMs));
  }
  await node.stop();
  return { cold, warm, server: startTimes(log) };
}

const paced = await run(100);
const burst = await run(0);

// workerd baseline: process start → first response, one worker.
const workerdTimes: number[] = [];
writeFiles(dir, { 'workerd/w.js': "export default { fetch() { return new Response('hello'); } };\n" });
for (let i = 0; i < 5; i++) {
  const wport = await freePort();
  writeFiles(dir, {
    'workerd/config.capnp': `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .w) ], sockets = [ ( name = "http", address = "127.0.0.1:${wport}", http = (), service = "main" ) ] );
const w :Workerd.Worker = ( modules = [ (name = "w.js", esModule = embed "w.js") ], compatibilityDate = "2025-06-01" );
`,
  });
  const t0 = performance.now();
  const w = await startServer(WORKERD, ['serve', `${dir}/workerd/config.capnp`], `http://127.0.0.1:${wport}/`, { core: CORES.server });
  workerdTimes.push(performance.now() - t0);
  await w.stop();
}
cleanup(dir);

const row = (name: string, xs: number[]) => [name, median(xs).toFixed(2), percentile(xs, 99).toFixed(2), Math.max(...xs).toFixed(2)];
console.log(`\n### Cold start (${n} functions, first request after a node restart)\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(['case', 'p50 ms', 'p99 ms', 'max ms'], [
    row('outpost instance start, node-measured (one every 100 ms)', paced.server),
    row('outpost instance start, node-measured (back to back)', burst.server),
    row('outpost cold request, client-measured (one every 100 ms)', paced.cold),
    row('outpost cold request, client-measured (back to back)', burst.cold),
    row('outpost warm request, client-measured (same functions)', paced.warm),
    row('workerd: process start → first response (1 worker)', workerdTimes),
  ]),
);
