// The HTTP path end to end: routing and errors, request ids, streaming bodies both ways,
// body limits, request metadata, waitUntil, warm reuse, idle eviction, wall time,
// subrequest limits and passThroughOnException.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const app = `
let served = 0;
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    served++;
    switch (url.pathname) {
      case '/count': return new Response(String(served));
      case '/throw': throw new TypeError('broken on purpose');
      case '/stream-hash': {
        // Streams the body through without holding it: counts bytes and a rolling checksum.
        let bytes = 0; let sum = 0;
        for await (const chunk of request.body) { bytes += chunk.length; for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i]) % 65521; }
        return Response.json({ bytes, sum });
      }
      case '/chunks': {
        const n = Number(url.searchParams.get('n'));
        let i = 0;
        return new Response(new ReadableStream({ pull(c) { if (i === n) c.close(); else c.enqueue(new TextEncoder().encode('chunk ' + i++ + '\\n')); } }), { headers: { 'content-type': 'text/plain' } });
      }
      case '/cf': return Response.json({ cf: request.cf ?? null });
      case '/sse': {
        // One event now, the next only when the test's gate answers: the first must not wait.
        const gate = url.searchParams.get('gate');
        const encoder = new TextEncoder();
        return new Response(new ReadableStream({
          async start(c) {
            c.enqueue(encoder.encode('data: first\\n\\n'));
            await (await fetch(gate)).text();
            c.enqueue(encoder.encode('data: second\\n\\n'));
            c.close();
          },
        }), { headers: { 'content-type': 'text/event-stream' } });
      }
      case '/later': {
        ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 50)).then(() => { globalThis.late = 'done'; }));
        return new Response('answered first');
      }
      case '/late': return new Response(String(globalThis.late ?? 'pending'));
      case '/subrequests': {
        const to = url.searchParams.get('to');
        const results = [];
        for (let i = 0; i < 4; i++) { try { await (await fetch(to)).text(); results.push('ok'); } catch (e) { results.push(e.message); } }
        return Response.json(results);
      }
      case '/passthrough': ctx.passThroughOnException(); throw new Error('let the origin answer');
      case '/headers': return new Response('h', { headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-multi', 'one']] });
      default: return new Response('ok');
    }
  },
};`;

/** Peak resident memory of a process so far, in MB (Linux). */
function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

describe('gateway', () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let dev: Running;
  let origin: number;
  before(async () => {
    const server = createServer((req, res) => res.end(`origin saw ${req.method} ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => server.close());
    origin = (server.address() as { port: number }).port;
    const root = await writeProject(t, {
      'app/outpost.toml': `name = "app"\nmain = "index.js"\norigin = "http://127.0.0.1:${origin}"\n[limits]\nrequest_body_mb = 300\nsubrequests = 3\nidle_timeout_s = 1\n`,
      'app/index.js': app,
      'capped/outpost.toml': 'name = "capped"\nmain = "index.js"\n[limits]\nconcurrency = 1\nmax_instances = 2\n',
      'capped/index.js': 'export default { async fetch(r) { await (await fetch(new URL(r.url).searchParams.get("gate"))).text(); return new Response("done"); } };',
      'hanger/outpost.toml': 'name = "hanger"\nmain = "index.js"\n[limits]\nwall_ms = 1500\n',
      'hanger/index.js': 'export default { async fetch() { await new Promise(() => {}); } };',
      'small/outpost.toml': 'name = "small"\nmain = "index.js"\n[limits]\nrequest_body_mb = 1\n',
      'small/index.js': 'export default { async fetch(r) { return new Response(String((await r.arrayBuffer()).byteLength)); } };',
      'routed/outpost.toml': 'name = "routed"\nmain = "index.js"\nroutes = ["api.example.com/v1/*", { pattern = "*/exact", method = "POST" }]\n',
      'routed/index.js': 'export default { fetch(r) { return new Response("routed " + r.method + " " + new URL(r.url).host + new URL(r.url).pathname); } };',
    });
    dev = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t)]);
  });

  test('unknown routes answer 404 JSON with a code; every response has a request id', async () => {
    const r = await fetch(`${dev.url}/nothing-here`);
    assert.equal(r.status, 404);
    const body = (await r.json()) as { error: { code: string; requestId: string } };
    assert.equal(body.error.code, 'ROUTE_NOT_FOUND');
    assert.equal(r.headers.get('x-request-id'), body.error.requestId);
    const ok = await fetch(`${dev.url}/app/`);
    assert.match(ok.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('routes from config match host, path and method; mounts strip their prefix', async () => {
    // fetch() may not set Host; node:http may.
    const byHost = await new Promise<string>((resolve, reject) => {
      httpRequest(`${dev.url}/v1/users`, { headers: { host: 'api.example.com' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject).end();
    });
    assert.equal(byHost, 'routed GET api.example.com/v1/users');
    const exact = await fetch(`${dev.url}/exact`, { method: 'POST' });
    assert.equal(await exact.text(), `routed POST 127.0.0.1:${dev.port}/exact`);
    assert.equal((await fetch(`${dev.url}/exact`)).status, 404, 'the method is part of the route');
    assert.equal(await (await fetch(`${dev.url}/routed/deep/path`)).text(), `routed GET 127.0.0.1:${dev.port}/deep/path`);
  });

  test('a function that throws answers 500 with the request id and, in dev, the user\'s stack', async () => {
    const r = await fetch(`${dev.url}/app/throw`);
    assert.equal(r.status, 500);
    assert.equal(r.headers.get('x-outpost-error'), 'FUNCTION_THREW');
    const body = (await r.json()) as { error: { message: string; requestId: string; stack: string } };
    assert.match(body.error.message, /TypeError: broken on purpose/);
    assert.match(body.error.stack, /index\.js:\d+:\d+/);
    await dev.waitFor(new RegExp(`\\[500\\] GET /app/throw app@1`));
  });

  test('a 200 MB upload streams through the function without being buffered', async () => {
    const size = 200 * 1024 * 1024;
    const chunk = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    let chunkSum = 0;
    for (const b of chunk) chunkSum += b;
    const expectedSum = (chunkSum * (size / chunk.length)) % 65521;
    const peakBefore = peakRssMb(dev.proc.pid);
    const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${dev.url}/app/stream-hash`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    assert.equal(status.code, 200, status.body);
    assert.deepEqual(JSON.parse(status.body), { bytes: size, sum: expectedSum });
    const growth = peakRssMb(dev.proc.pid) - peakBefore;
    assert.ok(growth < 100, `the node's peak memory grew by ${growth} MB for a 200 MB body`);
  });

  test('a streamed response arrives chunk by chunk, complete', async () => {
    const r = await fetch(`${dev.url}/app/chunks?n=500`);
    assert.equal(r.headers.get('content-length'), null, 'a stream is sent chunked');
    const text = await r.text();
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 500);
    assert.equal(lines[499], 'chunk 499');
  });

  test('a streamed response sends its first chunk before the second exists (server-sent events)', async () => {
    const arrived = Promise.withResolvers<() => void>();
    const gate = createServer((_req, res) => arrived.resolve(() => res.end('go')));
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => gate.close());
    const gateUrl = `http://127.0.0.1:${(gate.address() as { port: number }).port}/`;
    const r = await fetch(`${dev.url}/app/sse?gate=${encodeURIComponent(gateUrl)}`);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), 'data: first\n\n', 'the first event arrived while the function still waits');
    (await arrived.promise)();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    assert.equal(rest, 'data: second\n\n');
  });

  test('repeated response headers survive (set-cookie)', async () => {
    const r = await fetch(`${dev.url}/app/headers`);
    assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
  });

  test('bodies over the limit are refused with 413 before the function runs', async () => {
    const r = await fetch(`${dev.url}/small/`, { method: 'POST', body: new Uint8Array(2 * 1024 * 1024) });
    assert.equal(r.status, 413);
    assert.equal(r.headers.get('x-outpost-error'), 'BODY_TOO_LARGE');
    assert.equal(await (await fetch(`${dev.url}/small/`, { method: 'POST', body: new Uint8Array(1000) })).text(), '1000');
  });

  test('client geo headers fill request.cf in dev', async () => {
    const r = await fetch(`${dev.url}/app/cf`, { headers: { 'cf-ipcountry': 'kr', 'x-vercel-ip-city': 'Seoul' } });
    const { cf } = (await r.json()) as { cf: Record<string, string> };
    assert.equal(cf['country'], 'KR');
    assert.equal(cf['city'], 'Seoul');
    assert.equal(cf['colo'], 'local');
  });

  test('waitUntil work runs after the response', async () => {
    assert.equal(await (await fetch(`${dev.url}/app/later`)).text(), 'answered first');
    await eventually(async () => ((await (await fetch(`${dev.url}/app/late`)).text()) === 'done' ? true : undefined), 5_000, 'waitUntil work');
  });

  test('an instance is reused warm, serves requests concurrently, and stops when idle', async () => {
    const first = Number(await (await fetch(`${dev.url}/app/count`)).text());
    const second = Number(await (await fetch(`${dev.url}/app/count`)).text());
    assert.equal(second, first + 1, 'module state survives between requests');
    const many = await Promise.all(Array.from({ length: 50 }, () => fetch(`${dev.url}/app/count`).then((r) => r.text())));
    assert.equal(new Set(many).size, 50, 'fifty concurrent requests, one instance, fifty distinct counts');
    // idle_timeout_s = 1: the instance is stopped, and the next request starts a fresh one.
    const running = async (): Promise<number> => ((await (await fetch(`${dev.url}/_outpost/api/functions/app`)).json()) as { runtime: { instances: number } }).runtime.instances;
    assert.equal(await running(), 1);
    await eventually(async () => ((await running()) === 0 ? true : undefined), 10_000, 'scale to zero');
    assert.equal(await (await fetch(`${dev.url}/app/count`)).text(), '1', 'a fresh instance starts with fresh module state');
  });

  test('a burst beyond max_instances waits for a free instance instead of starting more', async () => {
    const held: Array<() => void> = [];
    let arrivals = 0;
    const gate = createServer((_req, res) => {
      arrivals++;
      held.push(() => res.end('go'));
    });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => gate.close());
    const gateUrl = encodeURIComponent(`http://127.0.0.1:${(gate.address() as { port: number }).port}/`);
    const burst = Array.from({ length: 10 }, () => fetch(`${dev.url}/capped/?gate=${gateUrl}`).then((r) => r.text()));
    const runtime = async (): Promise<{ instances: number; inFlight: number }> => ((await (await fetch(`${dev.url}/_outpost/api/functions/capped`)).json()) as { runtime: { instances: number; inFlight: number } }).runtime;
    await eventually(async () => (arrivals === 2 ? true : undefined), 10_000, 'two invocations at the gate').catch(async (e: Error) => { throw new Error(`${e.message} (arrivals: ${arrivals}, runtime ${JSON.stringify(await runtime())})`); });
    assert.deepEqual(await runtime(), { instances: 2, inFlight: 2 }, 'concurrency 1 × max_instances 2');
    // Release one at a time: each frees a slot for exactly one waiting request.
    for (let released = 0; released < 10; released++) {
      await eventually(() => (held.length > 0 ? true : undefined), 10_000, 'the next invocation at the gate');
      (held.shift() as () => void)();
    }
    assert.deepEqual(await Promise.all(burst), Array.from({ length: 10 }, () => 'done'));
    assert.equal((await runtime()).instances, 2, 'no more than two instances were started');
  });

  test('wall time ends a hanging invocation with 504', async () => {
    const r = await fetch(`${dev.url}/hanger/`);
    assert.equal(r.status, 504);
    assert.equal(r.headers.get('x-outpost-error'), 'TIMEOUT');
  });

  test('subrequests beyond the limit fail inside the function', async () => {
    const r = await fetch(`${dev.url}/app/subrequests?to=${encodeURIComponent(`http://127.0.0.1:${origin}/x`)}`);
    const results = (await r.json()) as string[];
    assert.deepEqual(results.slice(0, 3), ['ok', 'ok', 'ok']);
    assert.match(results[3] as string, /Too many subrequests/);
  });

  test('passThroughOnException sends a failed request to the origin', async () => {
    const r = await fetch(`${dev.url}/app/passthrough?q=1`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'origin saw GET /passthrough?q=1');
  });
});

test('serve does not trust client geo headers unless the peer is a configured proxy', async (t) => {
  const project = await writeProject(t, { 'outpost.toml': 'name = "geo"\nmain = "index.js"\n', 'index.js': 'export default { fetch(r) { return Response.json({ country: r.cf.country ?? null }); } };' });
  const plain = await startOutpost(t, ['serve', '--port', '0', '--state', await tempDir(t), '--quiet']);
  const token = (await plain.waitFor(/(op_\S+)/))[1] as string;
  assert.equal((await runCli(['deploy', project, '--to', plain.url, '--token', token])).code, 0);
  assert.deepEqual(await (await fetch(`${plain.url}/geo/`, { headers: { 'cf-ipcountry': 'KR' } })).json(), { country: null });
  const proxied = await startOutpost(t, ['serve', '--port', '0', '--state', await tempDir(t), '--quiet', '--trust-proxy', '127.0.0.1']);
  const token2 = (await proxied.waitFor(/(op_\S+)/))[1] as string;
  assert.equal((await runCli(['deploy', project, '--to', proxied.url, '--token', token2])).code, 0);
  assert.deepEqual(await (await fetch(`${proxied.url}/geo/`, { headers: { 'cf-ipcountry': 'KR' } })).json(), { country: 'KR' });
});
