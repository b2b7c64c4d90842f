// Logs end to end: complete invocation records for HTTP, cron and queue invocations, limits and
// throws; source-mapped stacks in `outpost logs` and the dev 500 body; Lambda's CloudWatch
// lines; `outpost logs --tail` and the SSE stream; history after a restart; the flood cap.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { CLI, eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const THROW_LINE = 6;

const PROJECTS: Record<string, string> = {
  'web/wrangler.toml': 'name = "web"\nmain = "src/index.ts"\n[triggers]\ncrons = ["0 0 1 1 *"]\n[[queues.consumers]]\nqueue = "jobs"\nmax_batch_timeout = 0\n',
  'web/src/index.ts': `export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const kind: string = url.pathname;
    if (kind === '/throw') {
      throw new Error('thrown on purpose');
    }
    if (kind === '/log') {
      console.log('log line', url.searchParams.get('m'));
      return new Response('logged');
    }
    if (kind === '/echo') return new Response((await request.text()).repeat(2));
    return new Response('hello');
  },
  async scheduled(): Promise<void> {
    console.log('tick');
  },
  async queue(batch: { messages: Array<{ ack(): void }> }): Promise<void> {
    for (const m of batch.messages) m.ack();
  },
};
`,
  'spin/outpost.toml': 'name = "spin"\nmain = "index.js"\n[limits]\ncpu_ms = 50\n',
  'spin/index.js': 'export default { fetch() { for (;;) {} } };\n',
  'flood/outpost.toml': 'name = "flood"\nmain = "index.js"\n',
  'flood/index.js': "export default { fetch() { for (let i = 0; i < 3000; i++) console.log('flood ' + i); return new Response('flooded'); } };\n",
  'lam/package.json': '{ "name": "lam", "private": true, "type": "module" }',
  'lam/serverless.yml': 'service: lam\nprovider:\n  name: aws\n  runtime: nodejs20.x\n  memorySize: 192\nfunctions:\n  lam:\n    handler: src/handler.handler\n    events:\n      - http:\n          path: /lam\n          method: any\n',
  'lam/src/handler.js': `export const handler = async (event) => {
  console.log('lambda says hi');
  if (event.queryStringParameters && event.queryStringParameters.slow) await new Promise((r) => setTimeout(r, 300));
  return { statusCode: 200, body: 'ok' };
};
`,
};

interface Rec {
  type: 'invocation' | 'console';
  time: string;
  requestId?: string;
  function?: string;
  [key: string]: unknown;
}

async function logs(url: string, query: string): Promise<Rec[]> {
  const res = await fetch(`${url}/_outpost/api/logs?${query}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { records: Rec[] }).records;
}

/** The invocation record of a request, once written. */
function recordOf(url: string, requestId: string, fn: string): Promise<Rec> {
  return eventually(async () => (await logs(url, `function=${fn}&since=10m`)).find((r) => r.type === 'invocation' && r.requestId === requestId), 10_000, `the record of ${requestId}`);
}

describe('logs', () => {
  let node: Running;
  let state: string;
  let root: string;

  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  before(async () => {
    root = await writeProject(t, PROJECTS);
    state = await tempDir(t, 'outpost-logs-state-');
    node = await startOutpost(t, ['dev', root, '--port', '0', '--state', state, '--quiet']);
  });

  test('an HTTP record has every field with the right values', async () => {
    const res = await fetch(`${node.url}/web/echo`, { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal((await res.text()).length, 2000);
    const r = await recordOf(node.url, res.headers.get('x-request-id') ?? '', 'web');
    assert.equal(r['trigger'], 'http');
    assert.equal(r['method'], 'POST');
    assert.equal(r['path'], '/web/echo');
    assert.equal(r['status'], 200);
    assert.equal(r['outcome'], 'ok');
    assert.equal(r['level'], 'info');
    assert.equal(r['version'], 1);
    assert.equal(r['memoryMb'], 128);
    assert.equal(typeof r['coldStart'], 'boolean');
    const duration = r['durationMs'] as number;
    const billed = r['billedDurationMs'] as number;
    assert.ok(Number.isInteger(billed) && billed >= duration && billed < duration + 1, `billed ${billed} for ${duration}`);
    assert.ok((r['maxMemoryMB'] as number) > 0);
    assert.ok((r['cpuMs'] as number) >= 0);
    assert.ok((r['bytesIn'] as number) > 1000, `bytesIn ${String(r['bytesIn'])}`);
    assert.ok((r['bytesOut'] as number) > 2000, `bytesOut ${String(r['bytesOut'])}`);
    assert.match(r.time, /^\d{4}-\d\d-\d\dT/);
  });

  test('a throw is an error record whose stack names the source line, in outpost logs and the dev 500 body', async () => {
    const res = await fetch(`${node.url}/web/throw`);
    assert.equal(res.status, 500);
    const body = (await res.json()) as { error: { stack?: string } };
    assert.match(body.error.stack ?? '', new RegExp(`src/index\\.ts:${THROW_LINE}:`));
    assert.doesNotMatch(body.error.stack ?? '', /bundles\/|outpost-runtime/);
    const id = res.headers.get('x-request-id') ?? '';
    const r = await recordOf(node.url, id, 'web');
    assert.equal(r['outcome'], 'error');
    assert.equal(r['level'], 'error');
    const cli = await runCli(['logs', 'web', '--to', node.url, '--status', '5xx']);
    assert.equal(cli.code, 0, cli.stderr);
    const block = cli.stdout.slice(cli.stdout.indexOf(id));
    assert.match(block, /FUNCTION_THREW: thrown on purpose/);
    assert.match(block, new RegExp(`src/index\\.ts:${THROW_LINE}:`));
  });

  test('a busy loop past cpu_ms is recorded as exceeded-cpu', async () => {
    const res = await fetch(`${node.url}/spin/`);
    assert.equal(res.status, 503);
    const r = await recordOf(node.url, res.headers.get('x-request-id') ?? '', 'spin');
    assert.equal(r['outcome'], 'exceeded-cpu');
    assert.equal(r['level'], 'error');
  });

  test('cron, queue and direct invocations carry their trigger', async () => {
    const cron = await runCli(['trigger', 'cron', 'web', '--to', node.url]);
    assert.equal(cron.code, 0, cron.stderr);
    const queue = await runCli(['queues', 'send', 'jobs', '{"n":1}', '--to', node.url]);
    assert.equal(queue.code, 0, queue.stderr);
    const invoked = await runCli(['invoke', 'web', '--path', '/log', '--to', node.url]);
    assert.equal(invoked.code, 0, invoked.stderr);
    const triggers = await eventually(async () => {
      const seen = new Set((await logs(node.url, 'function=web&since=10m')).filter((r) => r.type === 'invocation').map((r) => r['trigger']));
      return seen.has('cron') && seen.has('queue') && seen.has('invoke') ? seen : undefined;
    }, 15_000, 'cron, queue and invoke records');
    assert.ok(triggers.has('http'));
    const tick = (await logs(node.url, 'function=web&search=tick')).find((r) => r.type === 'console');
    assert.equal(tick?.['level'], 'log');
    assert.ok(typeof tick?.requestId === 'string', 'console lines carry the request id');
  });

  test('a Lambda function: cold start then warm, printed as CloudWatch START / END / REPORT lines', async () => {
    // Lambda runs one invocation per instance: the second of two concurrent requests starts one.
    const [a, b] = await Promise.all([fetch(`${node.url}/lam?slow=1`), fetch(`${node.url}/lam?slow=1`)]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    const first = await Promise.all([a, b].map((res) => recordOf(node.url, res.headers.get('x-request-id') ?? '', 'lam')));
    const cold = first.find((r) => r['coldStart'] === true);
    assert.ok(cold, 'one of two concurrent requests started an instance');
    assert.ok((cold['startMs'] as number) > 0);
    const warm = await fetch(`${node.url}/lam`);
    const warmRecord = await recordOf(node.url, warm.headers.get('x-request-id') ?? '', 'lam');
    assert.equal(warmRecord['coldStart'], false);
    assert.equal(warmRecord['memoryMb'], 192);

    const cli = await runCli(['logs', 'lam', '--to', node.url]);
    assert.equal(cli.code, 0, cli.stderr);
    const id = cold.requestId ?? '';
    const lines = cli.stdout.split('\n');
    const start = lines.indexOf(`START RequestId: ${id} Version: 1`);
    assert.ok(start >= 0, cli.stdout);
    assert.match(lines[start + 1] ?? '', new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${id}\\tINFO\\tlambda says hi$`));
    assert.equal(lines[start + 2], `END RequestId: ${id}`);
    assert.match(lines[start + 3] ?? '', new RegExp(`^REPORT RequestId: ${id}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 192 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d\\d ms$`));
    const warmId = warmRecord.requestId ?? '';
    const warmReport = lines.find((l) => l.startsWith(`REPORT RequestId: ${warmId}\t`));
    assert.ok(warmReport && !warmReport.includes('Init Duration'), 'a warm invocation has no Init Duration');
  });

  test('outpost logs --tail prints a line that appears after it started', async (t) => {
    const proc = spawn(process.execPath, [CLI, 'logs', 'web', '--tail', '--to', node.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => proc.kill('SIGKILL'));
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // The stream may still be connecting: a new marker per request until one is printed.
    let n = 0;
    const seen = await eventually(async () => {
      const marker = `tail-${n++}`;
      await (await fetch(`${node.url}/web/log?m=${marker}`)).text();
      await new Promise((r) => setTimeout(r, 100));
      return /log line tail-\d+/.exec(out)?.[0];
    }, 15_000, 'a tailed line');
    assert.match(out, /\[200\] GET \/web\/log/);
    assert.ok(seen);
  });

  test('the SSE stream delivers records as they happen, filtered', async () => {
    const controller = new AbortController();
    const res = await fetch(`${node.url}/_outpost/api/logs/stream?function=web&level=info`, { signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.ok(res.body);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = (await reader.read()).value ?? '';
    assert.match(text, /^: connected/);
    const idOf = async (path: string): Promise<string> => {
      const r = await fetch(`${node.url}${path}`);
      await r.text();
      return r.headers.get('x-request-id') ?? '';
    };
    const first = await idOf('/web/log?m=sse');
    await idOf('/flood/'); // another function: filtered out
    const last = await idOf('/web/log?m=sse-after');
    const parse = (): Rec[] => text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Rec);
    while (!parse().some((r) => r.type === 'invocation' && r.requestId === last)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    controller.abort();
    const records = parse();
    assert.ok(records.some((r) => r.type === 'invocation' && r.requestId === first));
    assert.ok(records.some((r) => r.type === 'console' && r.requestId === first && r['message'] === 'log line sse'));
    assert.deepEqual([...new Set(records.map((r) => r.function))], ['web']);
  });

  test('a log flood is capped and counted while other functions keep answering', async () => {
    const flood = fetch(`${node.url}/flood/`).then((r) => r.text());
    const other = await fetch(`${node.url}/web/`);
    assert.equal(await other.text(), 'hello');
    assert.equal(await flood, 'flooded');
    const records = await eventually(async () => {
      const all = (await logs(node.url, 'function=flood&limit=10000')).filter((r) => r.type === 'console');
      const dropped = all.reduce((n, r) => n + ((r['dropped'] as number | undefined) ?? 0), 0);
      const kept = all.filter((r) => r['dropped'] === undefined).length;
      // Every flood run so far logged 3000 lines: each is either kept or counted as dropped.
      return dropped > 0 && (kept + dropped) % 3000 === 0 ? { kept, dropped, all } : undefined;
    }, 10_000, 'the dropped-lines record');
    assert.ok(records.kept < 3000 && records.kept >= 100, `kept ${records.kept}`);
    assert.match(String(records.all.find((r) => r['dropped'] !== undefined)?.['message']), /console line\(s\) dropped: more than 100 a second/);
  });

  test('history survives a restart and is read with --since', async () => {
    const res = await fetch(`${node.url}/web/log?m=before-restart`);
    const id = res.headers.get('x-request-id') ?? '';
    await res.text();
    await recordOf(node.url, id, 'web');
    await node.stop();
    node = await startOutpost(t, ['dev', root, '--port', '0', '--state', state, '--quiet']);
    const cli = await runCli(['logs', 'web', '--since', '30m', '--search', 'before-restart', '--json', '--to', node.url]);
    assert.equal(cli.code, 0, cli.stderr);
    const records = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec);
    assert.deepEqual(records.map((r) => r.type), ['console']);
    assert.equal(records[0]?.requestId, id);
    const none = await runCli(['logs', 'web', '--since', '2000-01-01T00:00:00Z', '--until', '2000-01-02T00:00:00Z', '--json', '--to', node.url]);
    assert.equal(none.stdout, '');
    const bad = await fetch(`${node.url}/_outpost/api/logs?since=yesterday`);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-outpost-error'), 'INVALID_LOG_QUERY');
  });
});
