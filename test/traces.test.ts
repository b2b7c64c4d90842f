// Traces end to end: W3C traceparent in and out of the gateway, into a function's fetches and
// service-binding calls, the trace API and the invocation record, OTLP export to a real
// loopback receiver, and `outpost traces` printing the waterfall.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

const front = `
export default {
  async fetch(request, env) {
    const to = new URL(request.url).searchParams.get('to');
    const upstream = await (await fetch(to)).text();
    const inner = await (await env.BACK.fetch('http://back/inner')).text();
    await env.CACHE.get('k');
    return new Response(upstream + ' | ' + inner);
  },
};`;
const back = `export default { async fetch(request) { return new Response('back saw ' + (request.headers.get('traceparent') ?? 'nothing')); } };`;

interface Span {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  start: number;
  end: number;
  attributes: Record<string, unknown>;
  status: string;
}

describe('traces', () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let node: Running;
  let upstreamUrl: string;
  const upstreamSaw: IncomingHttpHeaders[] = [];
  const exported: string[] = [];

  before(async () => {
    const upstream = createServer((req, res) => {
      upstreamSaw.push(req.headers);
      res.end('upstream ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => upstream.close());
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/hello`;
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') exported.push(Buffer.concat(chunks).toString('latin1'));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => collector.close());
    const root = await writeProject(t, {
      'front/outpost.toml': 'name = "front"\nmain = "index.js"\n[limits]\nidle_timeout_s = 3\n[[services]]\nbinding = "BACK"\nservice = "back"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "traces-ns"\n',
      'front/index.js': front,
      'back/outpost.toml': 'name = "back"\nmain = "index.js"\n',
      'back/index.js': back,
    });
    node = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t), '--quiet', '--otlp-endpoint', `http://127.0.0.1:${(collector.address() as AddressInfo).port}`]);
  });

  const getTrace = async (id: string): Promise<{ traceId: string; spans: Span[] }> => {
    const r = await fetch(`${node.url}/_outpost/api/traces/${id}`);
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as { traceId: string; spans: Span[] };
  };

  test('a traceparent in continues the trace through the gateway, the function\'s fetch and a service binding', async () => {
    // The instance the deploy started goes idle and stops, so this request starts a new one.
    await eventually(async () => {
      const text = await (await fetch(`${node.url}/_outpost/metrics`)).text();
      return /^outpost_instances\{function="front",state="idle"\} 0$/m.test(text) ? true : undefined;
    }, 15_000, 'the idle instance of front to stop');
    const r = await fetch(`${node.url}/front/?to=${encodeURIComponent(upstreamUrl)}`, { headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=1' } });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    const requestId = r.headers.get('x-request-id') ?? '';
    // The response names this trace and the gateway's own span.
    const back = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(r.headers.get('traceparent') ?? '');
    assert.ok(back, r.headers.get('traceparent') ?? 'no traceparent');
    assert.equal(back[1], TRACE);
    assert.notEqual(back[2], CALLER_SPAN);
    // The loopback server the function fetched saw the same trace, with the fetch's span as parent.
    const seen = upstreamSaw.at(-1);
    const sub = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(seen?.['traceparent']));
    assert.ok(sub, String(seen?.['traceparent']));
    assert.equal(sub[1], TRACE);
    assert.equal(seen?.['tracestate'], 'vendor=1');
    // The service binding's callee got the trace too.
    assert.match(text, new RegExp(`back saw 00-${TRACE}-[0-9a-f]{16}-01`));

    const trace = await eventually(async () => {
      const found = await getTrace(requestId);
      return found.spans.some((s) => s.name.startsWith('fetch ')) && found.spans.some((s) => s.name === 'handler back') ? found : undefined;
    });
    assert.equal(trace.traceId, TRACE);
    assert.equal((await getTrace(TRACE)).spans.length, trace.spans.length, 'the trace id finds the same trace');
    const byName = (name: string): Span => {
      const s = trace.spans.find((x) => x.name === name || x.name.startsWith(name));
      assert.ok(s, `${name} in ${trace.spans.map((x) => x.name).join(', ')}`);
      return s;
    };
    const gateway = byName('GET /front/');
    assert.equal(gateway.parentSpanId, CALLER_SPAN);
    assert.equal(gateway.spanId, back[2]);
    assert.equal(gateway.kind, 'server');
    const dispatch = byName('dispatch');
    assert.equal(dispatch.parentSpanId, gateway.spanId);
    const cold = byName('cold start');
    assert.equal(cold.parentSpanId, dispatch.spanId, 'the first request started an instance');
    const handler = byName('handler front');
    const fetchSpan = byName('fetch GET 127.0.0.1');
    assert.equal(fetchSpan.parentSpanId, handler.spanId);
    assert.equal(fetchSpan.spanId, sub[2], 'the upstream saw the fetch span as its parent');
    assert.equal(fetchSpan.attributes['http.response.status_code'], 200);
    assert.equal(byName('CACHE.get').parentSpanId, handler.spanId);
    const binding = byName('BACK.fetch');
    assert.equal(byName('handler back').parentSpanId !== undefined, true);
    assert.equal(trace.spans.find((s) => s.name === 'GET /inner')?.parentSpanId, binding.spanId, 'the callee\'s server span hangs under the binding call');
    for (const s of trace.spans) assert.ok(s.end >= s.start && s.start >= gateway.start - 1, `${s.name} inside the request`);

    // The invocation record carries the trace id.
    const logs = await eventually(async () => {
      const l = await fetch(`${node.url}/_outpost/api/logs?function=front&search=${requestId}`);
      const body = (await l.json()) as { records: Array<{ type: string; requestId?: string; traceId?: string }> };
      return body.records.find((x) => x.type === 'invocation' && x.requestId === requestId);
    });
    assert.equal(logs.traceId, TRACE);

    // OTLP export reached the collector with this trace.
    await eventually(() => (exported.some((body) => body.includes(TRACE) || body.includes(Buffer.from(TRACE, 'hex').toString('latin1'))) ? true : undefined), 10_000, 'OTLP export');
  });

  test('without a traceparent a request starts its own trace; warm requests have no cold start', async () => {
    await (await fetch(`${node.url}/front/?to=${encodeURIComponent(upstreamUrl)}`)).text();
    const r = await fetch(`${node.url}/front/?to=${encodeURIComponent(upstreamUrl)}`);
    assert.equal(r.status, 200);
    await r.text();
    const requestId = r.headers.get('x-request-id') ?? '';
    const traceId = /^00-([0-9a-f]{32})-/.exec(r.headers.get('traceparent') ?? '')?.[1];
    assert.match(traceId ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(traceId, TRACE);
    assert.equal(String(upstreamSaw.at(-1)?.['traceparent']).split('-')[1], traceId);
    const trace = await eventually(async () => {
      const found = await getTrace(requestId);
      return found.spans.some((s) => s.name.startsWith('fetch ')) ? found : undefined;
    });
    assert.equal(trace.spans.find((s) => s.name === 'GET /front/')?.parentSpanId, undefined);
    assert.ok(!trace.spans.some((s) => s.name === 'cold start'), 'the instance was warm');

    // A caller that does not record its trace: passed on with flags 00, nothing kept here.
    const unsampled = await fetch(`${node.url}/front/?to=${encodeURIComponent(upstreamUrl)}`, { headers: { traceparent: `00-${'e'.repeat(32)}-${CALLER_SPAN}-00` } });
    assert.match(await unsampled.text(), new RegExp(`back saw 00-${'e'.repeat(32)}-[0-9a-f]{16}-00`));
    assert.match(unsampled.headers.get('traceparent') ?? '', new RegExp(`^00-${'e'.repeat(32)}-[0-9a-f]{16}-00$`));
    assert.match(String(upstreamSaw.at(-1)?.['traceparent']), new RegExp(`^00-${'e'.repeat(32)}-[0-9a-f]{16}-00$`));
    assert.equal((await fetch(`${node.url}/_outpost/api/traces/${unsampled.headers.get('x-request-id') ?? ''}`)).status, 404);

    const list = (await (await fetch(`${node.url}/_outpost/api/traces?function=front&limit=2`)).json()) as { traces: Array<{ traceId: string; requestId: string; function: string; start: number; durationMs: number; status: string }> };
    assert.equal(list.traces.length, 2);
    assert.equal(list.traces[0]?.traceId, traceId, 'newest first');
    assert.equal(list.traces[0]?.function, 'front');
    assert.equal(list.traces[0]?.status, 'ok');
    assert.equal((await fetch(`${node.url}/_outpost/api/traces/${'f'.repeat(32)}`)).status, 404);

    const cli = await runCli(['traces', requestId, '--to', node.url]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`trace ${traceId}`));
    assert.match(cli.stdout, /^GET \/front\/ .*\|/m);
    assert.match(cli.stdout, /^ {2}handler front/m);
    assert.match(cli.stdout, /^ {4}fetch GET 127\.0\.0\.1/m);
    const missing = await runCli(['traces', 'no-such-request', '--to', node.url]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /TRACE_NOT_FOUND|no trace/);
  });
});
