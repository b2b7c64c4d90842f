/** @module Tests for the Next.js/Vercel adapters: method dispatch (405/Allow, HEAD, OPTIONS), params, metadata headers, process.env. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { allowHeader, nextParams, paramsPromise, vercelAppRouteAdapter, vercelPagesApiAdapter } from './vercel.ts';

function setup(platform: Record<string, string> = {}, variables: Record<string, string> = {}): AdapterSetup {
  return { functionName: 'fn', version: 3, handlerExport: '*', env: variables, variables, bindings: [], platform: { runtime: 'edge', ...platform }, dev: true };
}

function http(params: Record<string, string> = {}, cf: Record<string, string | number> = { colo: 'fra1' }): HttpInvocation {
  return { meta: { ip: '203.0.113.9', cf }, event: { kind: 'fetch' }, params };
}

function context(waits: unknown[] = []): InvocationContext {
  return { requestId: 'req-1', signal: new AbortController().signal, deadline: Date.now() + 10_000, waitUntil: (p) => void waits.push(p), passThroughOnException() {} };
}

describe('vercel-app-route', () => {
  const route = {
    GET: (req: Request) => Response.json({ method: req.method, url: req.url }, { headers: { 'x-from': 'get' } }),
    POST: async (req: Request) => new Response(await req.text(), { status: 201 }),
  };

  test('calls the export named by the method; 405 with Allow for the rest', async () => {
    vercelAppRouteAdapter.prepare?.(setup());
    const adapter = vercelAppRouteAdapter.create(route, setup());
    const get = await adapter.fetch(new Request('http://h/api/x'), http(), context());
    assert.equal(get.status, 200);
    assert.equal((await get.json() as { method: string }).method, 'GET');
    const post = await adapter.fetch(new Request('http://h/api/x', { method: 'POST', body: 'hi' }), http(), context());
    assert.equal(post.status, 201);
    assert.equal(await post.text(), 'hi');
    const del = await adapter.fetch(new Request('http://h/api/x', { method: 'DELETE' }), http(), context());
    assert.equal(del.status, 405);
    assert.equal(del.headers.get('allow'), 'GET, HEAD, OPTIONS, POST');
  });

  test('HEAD falls back to GET without a body; OPTIONS is automatic unless exported', async () => {
    const adapter = vercelAppRouteAdapter.create(route, setup());
    const head = await adapter.fetch(new Request('http://h/api/x', { method: 'HEAD' }), http(), context());
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-from'), 'get');
    assert.equal(head.body, null);
    const options = await adapter.fetch(new Request('http://h/api/x', { method: 'OPTIONS' }), http(), context());
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, HEAD, OPTIONS, POST');
    const own = vercelAppRouteAdapter.create({ OPTIONS: () => new Response('mine', { headers: { 'access-control-allow-origin': '*' } }) }, setup());
    const cors = await own.fetch(new Request('http://h/', { method: 'OPTIONS' }), http(), context());
    assert.equal(await cors.text(), 'mine');
    const postOnly = vercelAppRouteAdapter.create({ POST: () => new Response('p') }, setup());
    const headOfPostOnly = await postOnly.fetch(new Request('http://h/', { method: 'HEAD' }), http(), context());
    assert.equal(headOfPostOnly.status, 405);
    assert.equal(headOfPostOnly.headers.get('allow'), 'OPTIONS, POST');
  });

  test('params is a Promise that also has the values; catch-all segments are arrays', async () => {
    let seen: unknown;
    let awaited: unknown;
    const adapter = vercelAppRouteAdapter.create({
      GET: async (_req: Request, ctx: { params: Promise<Record<string, unknown>> & Record<string, unknown> }) => {
        seen = { id: ctx.params['id'], slug: ctx.params['slug'] };
        awaited = await ctx.params;
        return new Response('ok');
      },
    }, setup({ catchAll: 'slug' }));
    await adapter.fetch(new Request('http://h/shop/7/a/b'), http({ id: '7', slug: 'a/b' }), context());
    assert.deepEqual(seen, { id: '7', slug: ['a', 'b'] });
    assert.deepEqual(awaited, { id: '7', slug: ['a', 'b'] });
    assert.deepEqual(nextParams({}, 'slug'), {});
    assert.ok(paramsPromise({ a: 1 }) instanceof Promise);
  });

  test('the handler gets a NextRequest whose geo and ip come from the request metadata, not the client', async () => {
    let captured: { geo: unknown; ip: unknown; xff: string | null; city: string | null } | undefined;
    const adapter = vercelAppRouteAdapter.create({
      GET: (req: Request & { geo: unknown; ip: unknown }) => {
        captured = { geo: req.geo, ip: req.ip, xff: req.headers.get('x-forwarded-for'), city: req.headers.get('x-vercel-ip-city') };
        return new Response('ok');
      },
    }, setup());
    const spoofed = new Request('http://h/', { headers: { 'x-vercel-ip-country': 'XX', 'x-vercel-ip-city': 'Nowhere', 'x-real-ip': '10.0.0.1' } });
    await adapter.fetch(spoofed, http({}, { colo: 'fra1', country: 'DE', city: 'Frankfurt am Main' }), context());
    assert.deepEqual(captured, { geo: { city: 'Frankfurt am Main', country: 'DE' }, ip: '203.0.113.9', xff: '203.0.113.9', city: 'Frankfurt%20am%20Main' });
  });

  test('NextResponse.rewrite()/next() from a route handler are refused as Next refuses them', async () => {
    const rewrite = vercelAppRouteAdapter.create({ GET: () => new Response(null, { headers: { 'x-middleware-rewrite': 'https://e.com/' } }) }, setup());
    await assert.rejects(rewrite.fetch(new Request('http://h/'), http(), context()), /NextResponse\.rewrite\(\) was used in a app route handler/);
    const next = vercelAppRouteAdapter.create({ GET: () => new Response(null, { headers: { 'x-middleware-next': '1' } }) }, setup());
    await assert.rejects(next.fetch(new Request('http://h/'), http(), context()), /NextResponse\.next\(\) was used/);
    const nothing = vercelAppRouteAdapter.create({ GET: () => undefined }, setup());
    await assert.rejects(nothing.fetch(new Request('http://h/'), http(), context()), /No response is returned/);
  });

  test('a module without method exports is refused at load', () => {
    assert.throws(() => vercelAppRouteAdapter.create({ default: () => 1 }, setup()), /at least one of GET/);
  });

  test('allowHeader sorts and adds the automatic methods', () => {
    assert.equal(allowHeader(new Set(['PUT', 'GET'])), 'GET, HEAD, OPTIONS, PUT');
  });
});

describe('vercel-pages-api', () => {
  test('default export gets a NextRequest; dynamic params are in the query; waitUntil reaches the invocation', async () => {
    const waits: unknown[] = [];
    const adapter = vercelPagesApiAdapter.create({
      default: (req: Request & { nextUrl: URL }, ctx: { waitUntil(p: Promise<unknown>): void }) => {
        ctx.waitUntil(Promise.resolve('later'));
        return Response.json({ path: req.nextUrl.pathname, id: req.nextUrl.searchParams.get('id'), all: req.nextUrl.searchParams.getAll('rest') });
      },
    }, { ...setup({ router: 'pages', catchAll: 'rest' }), handlerExport: 'default' });
    const res = await adapter.fetch(new Request('http://h/api/items/5/x/y'), http({ id: '5', rest: 'x/y' }), context(waits));
    assert.deepEqual(await res.json(), { path: '/api/items/5/x/y', id: '5', all: ['x', 'y'] });
    assert.equal(waits.length, 1);
  });

  test('process.env holds the function variables and Vercel system variables', async () => {
    vercelPagesApiAdapter.prepare?.(setup({}, { API_KEY: 'k1' }));
    const adapter = vercelPagesApiAdapter.create({
      default: () => {
        const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
        return Response.json({ key: env['API_KEY'], vercel: env['VERCEL'], runtime: env['NEXT_RUNTIME'], region: env['VERCEL_REGION'] });
      },
    }, { ...setup(), handlerExport: 'default' });
    const res = await adapter.fetch(new Request('http://h/api/env'), http(), context());
    const body = await res.json() as Record<string, string>;
    assert.equal(body['key'], 'k1');
    assert.equal(body['vercel'], '1');
    assert.ok(typeof body['region'] === 'string');
  });

  test('a Node-runtime pages route says it is not supported yet', () => {
    assert.throws(() => vercelPagesApiAdapter.create({ default: () => 1 }, { ...setup({ runtime: 'nodejs' }), handlerExport: 'default' }), /not supported yet/);
  });
});
