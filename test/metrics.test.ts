// Metrics end to end: the Prometheus page behind a token, counters that move with requests,
// KV and queue gauges, the chart series API, and a real Prometheus scraping the node.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const api = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/boom') throw new Error('broken on purpose');
    await env.CACHE.put('seen', 'yes');
    return new Response(await env.CACHE.get('seen'));
  },
};`;

/** The value of one exact series line in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A port that was free a moment ago (Prometheus cannot report the port it bound for :0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('metrics', () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let node: Running;
  let token: string;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const scrape = async (): Promise<string> => (await fetch(`${node.url}/_outpost/metrics`, { headers: auth() })).text();

  before(async () => {
    node = await startOutpost(t, ['serve', '--port', '0', '--state', await tempDir(t), '--quiet']);
    token = /admin token \(shown once, keep it\): (\S+)/.exec(node.stderr())?.[1] ?? '';
    const dir = await writeProject(t, { 'outpost.toml': 'name = "api"\nmain = "index.js"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "metrics-ns"\n', 'index.js': api });
    const deployed = await runCli(['deploy', dir, '--to', node.url, '--token', token]);
    assert.equal(deployed.code, 0, deployed.stderr);
  });

  test('GET /_outpost/metrics needs a token', async () => {
    const denied = await fetch(`${node.url}/_outpost/metrics`);
    assert.equal(denied.status, 401);
    assert.equal(((await denied.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    const wrong = await fetch(`${node.url}/_outpost/metrics`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${node.url}/_outpost/metrics`, { headers: auth() });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await ok.text(), /# TYPE outpost_invocations_total counter/);
  });

  test('counters move as requests are made; queue gauges read the queue store', async () => {
    const before = await scrape();
    const okBefore = sample(before, 'outpost_invocations_total{function="api",version="1",trigger="http",outcome="ok"}') ?? 0;
    const kvBefore = sample(before, 'outpost_kv_operations_total{op="put"}') ?? 0;
    for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`${node.url}/api/`)).text(), 'yes');
    assert.equal((await fetch(`${node.url}/api/boom`)).status, 500);
    const text = await eventually(async () => {
      const s = await scrape();
      return sample(s, 'outpost_invocations_total{function="api",version="1",trigger="http",outcome="ok"}') === okBefore + 3 ? s : undefined;
    });
    assert.equal(sample(text, 'outpost_invocations_total{function="api",version="1",trigger="http",outcome="error"}'), 1);
    assert.equal(sample(text, 'outpost_kv_operations_total{op="put"}'), kvBefore + 3);
    assert.ok((sample(text, 'outpost_kv_operations_total{op="get"}') ?? 0) >= 3);
    assert.ok((sample(text, 'outpost_invocation_duration_seconds_count{function="api",trigger="http"}') ?? 0) >= 4);
    assert.ok((sample(text, 'outpost_instances{function="api",state="idle"}') ?? 0) >= 1, 'a warm instance stays after the requests');
    assert.ok((sample(text, 'outpost_instance_memory_bytes{function="api"}') ?? 0) > 0);

    const created = await fetch(`${node.url}/_outpost/api/queues`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'metrics-jobs' }) });
    assert.ok(created.ok);
    for (const body of [1, 2]) {
      const sent = await fetch(`${node.url}/_outpost/api/queues/metrics-jobs/messages`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ body }) });
      assert.ok(sent.ok);
    }
    // S3 API requests count by method, answered or refused (this one is unsigned).
    const aws = /aws api on (http:\/\/\S+)/.exec(node.stdout())?.[1];
    assert.ok(aws, node.stdout());
    await (await fetch(`${aws}/metrics-bucket/key`, { method: 'HEAD' })).arrayBuffer();
    const queues = await scrape();
    assert.equal(sample(queues, 'outpost_s3_operations_total{op="head"}'), 1);
    assert.equal(sample(queues, 'outpost_queue_depth{queue="metrics-jobs"}'), 2);
    assert.equal(sample(queues, 'outpost_queue_dead_letter_messages{queue="metrics-jobs"}'), 0);
    assert.ok((sample(queues, 'outpost_queue_oldest_message_age_seconds{queue="metrics-jobs"}') ?? -1) >= 0);
  });

  test('the series API returns per-minute points with zeros for quiet minutes', async () => {
    for (let i = 0; i < 2; i++) await (await fetch(`${node.url}/api/`)).text();
    const denied = await fetch(`${node.url}/_outpost/api/metrics/series?function=api`);
    assert.equal(denied.status, 401);
    const series = await eventually(async () => {
      const r = await fetch(`${node.url}/_outpost/api/metrics/series?function=api&since=10m&step=60`, { headers: auth() });
      const body = (await r.json()) as { step: number; points: Array<Record<string, number>> };
      return body.points.reduce((n, p) => n + (p['invocations'] ?? 0), 0) >= 6 ? body : undefined;
    });
    assert.equal(series.step, 60);
    assert.ok(series.points.length >= 10 && series.points.length <= 11, String(series.points.length));
    for (const p of series.points) {
      assert.deepEqual(Object.keys(p).sort(), ['coldStarts', 'concurrency', 'errors', 'invocations', 'p50', 'p95', 'p99', 't']);
      assert.equal((p['t'] ?? 1) % 60_000, 0);
    }
    const busy = series.points.filter((p) => (p['invocations'] ?? 0) > 0);
    assert.ok(busy.every((p) => (p['p50'] ?? 0) > 0 && (p['p99'] ?? 0) >= (p['p50'] ?? 0) && (p['concurrency'] ?? 0) >= 1));
    assert.ok(series.points.some((p) => p['invocations'] === 0 && p['p50'] === 0), 'quiet minutes are present as zeros');
    assert.equal(series.points.reduce((n, p) => n + (p['errors'] ?? 0), 0), 1);
    const bad = await fetch(`${node.url}/_outpost/api/metrics/series?step=90`, { headers: auth() });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
  });

  test('a real Prometheus scrapes the node with its bearer token', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' }).status !== 0) {
      t.skip('prometheus is not installed (npm test installs it with apt-get)');
      return;
    }
    const dir = await tempDir(t);
    const port = await freePort();
    const target = new URL(node.url).host;
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: outpost\n    metrics_path: /_outpost/metrics\n    authorization:\n      type: Bearer\n      credentials: ${token}\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    t.after(() => {
      prometheus.kill('SIGKILL');
    });
    const value = await eventually(
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('sum(outpost_invocations_total{function="api"})')}`);
        const body = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
        const v = body.data.result[0]?.value[1];
        return v === undefined ? undefined : Number(v);
      },
      30_000,
      'Prometheus to have scraped outpost_invocations_total',
    );
    assert.ok(value >= 6, String(value));
  });
});

test('--telemetry off: no traceparent, no counts, no traces', async (t) => {
  const root = await writeProject(t, { 'outpost.toml': 'name = "quiet"\nmain = "index.js"\n', 'index.js': 'export default { fetch() { return new Response("hi"); } };' });
  const dev = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t), '--telemetry', 'off']);
  const r = await fetch(`${dev.url}/quiet/`);
  assert.equal(await r.text(), 'hi');
  assert.equal(r.headers.get('traceparent'), null);
  const text = await (await fetch(`${dev.url}/_outpost/metrics`)).text();
  assert.equal(sample(text, 'outpost_invocations_total{function="quiet",version="1",trigger="http",outcome="ok"}'), undefined);
  assert.equal((await fetch(`${dev.url}/_outpost/api/traces/${r.headers.get('x-request-id') ?? ''}`)).status, 404);
  const bad = await runCli(['dev', root, '--port', '0', '--telemetry', 'maybe']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--telemetry must be on or off/);
});
