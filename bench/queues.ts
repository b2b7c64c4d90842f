/**
 * @module
 * Queue end-to-end: a Worker produces batches of 100 (`env.Q.sendBatch`), the same Worker
 * consumes them (`queue()` with max_batch_size 100, max_batch_timeout 0) and acknowledges —
 * every message stored, leased, delivered through dispatch and deleted. Reports:
 *
 * - throughput: messages per second from the first send until the last ack;
 * - delay: p50 / p99 from `send()` to the start of the consumer's `queue()` at a steady,
 *   unsaturated rate (every message carries its send time);
 * - the baseline beside it, in the same run: the same send → receive → ack cycle on the
 *   embedded queue store alone, with no function and no HTTP — the ratio is what dispatch,
 *   the isolate and the bindings cost on top of storage.
 *
 * Targets (issue 5): ≥ 5,000 messages/s, p50 delay ≤ 50 ms.
 *
 *   node bench/queues.ts [--messages 20000]
 */
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../src/store/index.ts';
import { CLI, CORES, MACHINE, cleanup, freePort, percentile, startServer, tempDir, writeFiles } from './lib.ts';

const { values } = parseArgs({ options: { messages: { type: 'string' } } });
const TOTAL = Number(values.messages ?? 20_000);

const WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/send') {
      const n = Number(url.searchParams.get('n') ?? 100);
      const t = Date.now();
      await env.Q.sendBatch(Array.from({ length: n }, (_, i) => ({ body: { t, i } })));
      return new Response('ok');
    }
    if (url.pathname === '/stats') {
      let count = 0;
      const delays = [];
      let cursor;
      for (;;) {
        const page = await env.STATS.list({ cursor, limit: 1000 });
        for (const k of page.keys) {
          const d = JSON.parse(await env.STATS.get(k.name));
          count += d.length;
          if (url.searchParams.get('delays')) delays.push(...d);
        }
        if (page.list_complete) break;
        cursor = page.cursor;
      }
      return Response.json({ count, delays });
    }
    if (url.pathname === '/reset') {
      for (const k of (await env.STATS.list({ limit: 1000 })).keys) await env.STATS.delete(k.name);
      return new Response('ok');
    }
    return new Response('not found', { status: 404 });
  },
  async queue(batch, env) {
    const start = Date.now();
    await env.STATS.put(crypto.randomUUID(), JSON.stringify(batch.messages.map((m) => start - m.body.t)));
  },
};`;

const TOML = `name = "qbench"
main = "src/index.ts"
[[kv_namespaces]]
binding = "STATS"
id = "stats"
[[queues.producers]]
binding = "Q"
queue = "bench"
[[queues.consumers]]
queue = "bench"
max_batch_size = 100
max_batch_timeout = 0
max_concurrency = 10
`;

async function get(url: string): Promise<string> {
  const r = await fetch(url);
  const text = await r.text();
  if (!r.ok) throw new Error(`${url}: ${r.status} ${text}`);
  return text;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The storage floor: send, receive and ack batches of 100 on the embedded store, in process. */
async function baseline(total: number): Promise<number> {
  const dir = tempDir('outpost-qbase-');
  const store = openSqliteStore({ dir });
  try {
    await store.queues.createQueue('base');
    const body = new TextEncoder().encode(JSON.stringify({ t: 0, i: 0 }));
    const started = performance.now();
    for (let sent = 0; sent < total; sent += 100) {
      await store.queues.send('base', Array.from({ length: 100 }, () => ({ body, contentType: 'json' })));
      const got = await store.queues.receive('base', { max: 100, visibilityTimeoutSeconds: 30 });
      await store.queues.ack('base', got.map((m) => m.receipt));
    }
    return total / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    cleanup(dir);
  }
}

async function main(): Promise<void> {
  const root = tempDir('outpost-qbench-');
  const state = tempDir('outpost-qbench-state-');
  writeFiles(root, { 'wrangler.toml': TOML, 'src/index.ts': WORKER });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer(process.execPath, [CLI, 'dev', root, '--port', String(port), '--aws-port', String(await freePort()), '--state', state, '--quiet'], `${url}/_outpost/health`, { core: CORES.server });
  try {
    await until(async () => (await get(`${url}/stats`)).startsWith('{'), 20_000, 'the worker');
    // Warm up: one batch through the whole path.
    await get(`${url}/send?n=100`);
    await until(async () => (JSON.parse(await get(`${url}/stats`)) as { count: number }).count >= 100, 20_000, 'warm-up');
    await get(`${url}/reset`);

    // Throughput: TOTAL messages in batches of 100, four producers at once.
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < TOTAL) {
          next += 100;
          await get(`${url}/send?n=100`);
        }
      }),
    );
    const sentMs = performance.now() - started;
    await until(async () => (JSON.parse(await get(`${url}/stats`)) as { count: number }).count >= TOTAL, 120_000, 'all messages consumed');
    const elapsed = (performance.now() - started) / 1000;
    const throughput = TOTAL / elapsed;
    await get(`${url}/reset`);

    // Delay at a steady rate well below saturation: one batch of 100 every 20 ms for 2 s.
    const batches = 100;
    for (let i = 0; i < batches; i++) {
      await get(`${url}/send?n=100`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(async () => (JSON.parse(await get(`${url}/stats`)) as { count: number }).count >= batches * 100, 60_000, 'delay phase');
    const { delays } = JSON.parse(await get(`${url}/stats?delays=1`)) as { delays: number[] };
    const base = await baseline(TOTAL);

    process.stdout.write(`queues end-to-end (${MACHINE})
  throughput: ${Math.round(throughput)} msgs/s (${TOTAL} messages, batches of 100; sends done after ${Math.round(sentMs)} ms, all acknowledged after ${Math.round(elapsed * 1000)} ms)  target ≥ 5000
  send → consumer start: p50 ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms (${delays.length} messages at ~5,000 msgs/s, max_batch_timeout 0)  target p50 ≤ 50
  baseline, embedded store alone (send → receive → ack, batches of 100): ${Math.round(base)} msgs/s; end-to-end / baseline = ${(throughput / base).toFixed(2)}
`);
  } finally {
    await server.stop();
    cleanup(root);
    cleanup(state);
  }
}

await main();
