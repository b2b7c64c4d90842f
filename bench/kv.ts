/**
 * @module
 * KV from inside a function: a Worker reads one warm key N times in a loop (`env.KV.get`) and
 * writes N keys (`env.KV.put`), timing each call itself, so HTTP is not in the figures — what
 * is measured is the binding path: guest object → message to the host → KvStore → back.
 * The baseline in the same run makes the same KvStore calls directly on the host (in process,
 * no isolate); the ratio is what crossing the isolate boundary costs.
 *
 *   node bench/kv.ts [--ops 5000]
 */
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../src/store/index.ts';
import { CLI, CORES, MACHINE, cleanup, freePort, percentile, startServer, table, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { ops: { type: 'string' } } });
const OPS = Number(values.ops ?? 5_000);

const WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') ?? 1000);
    const value = 'v'.repeat(100);
    if (url.pathname === '/get') {
      await env.KV.put('warm', value);
      await env.KV.get('warm');
      const samples = [];
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await env.KV.get('warm');
        samples.push(performance.now() - t);
      }
      return Response.json({ samples, totalMs: performance.now() - started });
    }
    if (url.pathname === '/put') {
      const started = performance.now();
      for (let i = 0; i < n; i++) await env.KV.put('k' + i, value);
      return Response.json({ samples: [], totalMs: performance.now() - started });
    }
    return new Response('not found', { status: 404 });
  },
};`;

interface Run {
  samples: number[];
  totalMs: number;
}

async function inFunction(url: string, path: string): Promise<Run> {
  const r = await fetch(`${url}${path}?n=${OPS}`);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as Run;
}

async function direct(): Promise<{ get: Run; put: Run }> {
  const dir = tempDir('outpost-kvbase-');
  const store = openSqliteStore({ dir });
  try {
    const value = new TextEncoder().encode('v'.repeat(100));
    await store.kv.put('bench', 'warm', { value });
    const samples: number[] = [];
    let started = performance.now();
    for (let i = 0; i < OPS; i++) {
      const t = performance.now();
      await store.kv.get('bench', 'warm');
      samples.push(performance.now() - t);
    }
    const get = { samples, totalMs: performance.now() - started };
    started = performance.now();
    for (let i = 0; i < OPS; i++) await store.kv.put('bench', `k${i}`, { value });
    return { get, put: { samples: [], totalMs: performance.now() - started } };
  } finally {
    await store.close();
    cleanup(dir);
  }
}

async function main(): Promise<void> {
  const root = tempDir('outpost-kvbench-');
  const state = tempDir('outpost-kvbench-state-');
  writeFiles(root, { 'wrangler.toml': 'name = "kvbench"\nmain = "src/index.ts"\n[[kv_namespaces]]\nbinding = "KV"\nid = "bench"\n', 'src/index.ts': WORKER });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer(process.execPath, [CLI, 'dev', root, '--port', String(port), '--aws-port', String(await freePort()), '--state', state, '--quiet'], `${url}/_outpost/health`, { core: CORES.server, readyLine: true });
  try {
    await inFunction(url, '/get'); // warm-up: JIT, the instance, the page cache
    const get = await inFunction(url, '/get');
    const put = await inFunction(url, '/put');
    const base = await direct();
    const ops = (r: Run): number => Math.round(OPS / (r.totalMs / 1000));
    const fnGet = ops(get);
    const fnPut = ops(put);
    const baseGet = ops(base.get);
    const basePut = ops(base.put);
    process.stdout.write(`KV binding (${MACHINE}), ${OPS} sequential operations, 100-byte values\n\n${table(
      ['operation', 'from a function', 'KvStore on the host (baseline)', 'function / baseline'],
      [
        ['get warm key, p50', `${(percentile(get.samples, 50) * 1000).toFixed(0)} µs`, `${(percentile(base.get.samples, 50) * 1000).toFixed(0)} µs`, `${(percentile(get.samples, 50) / percentile(base.get.samples, 50)).toFixed(1)}×`],
        ['get warm key, p99', `${(percentile(get.samples, 99) * 1000).toFixed(0)} µs`, `${(percentile(base.get.samples, 99) * 1000).toFixed(0)} µs`, ''],
        ['get ops/s', fnGet, baseGet, (fnGet / baseGet).toFixed(2)],
        ['put ops/s', fnPut, basePut, (fnPut / basePut).toFixed(2)],
      ],
    )}\n`);
  } finally {
    await server.stop();
    cleanup(root);
    cleanup(state);
  }
}

await main();
