// Azure Functions run unchanged: programming model v3 (function.json + `module.exports =
// async (context, req)`) with context.res variants, `$return`, legacy `context.done()`, route
// parameters under host.json's routePrefix, bindingData and method lists; and programming model
// v4 (`app.http(name, { methods, route, handler })` from @azure/functions) with route params,
// jsonBody, HttpResponse and the 204 default — in one project, as Azure allows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const httpIn = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ authLevel: 'anonymous', type: 'httpTrigger', direction: 'in', name: 'req', ...extra });
const fnJson = (trigger: Record<string, unknown>, out = 'res'): string => JSON.stringify({ bindings: [trigger, { type: 'http', direction: 'out', name: out }] });

const FILES: Record<string, string> = {
  'host.json': JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: 'v1' } } }),
  'package.json': JSON.stringify({ name: 'azure-e2e', main: 'src/functions/*.js' }),
  'Items/function.json': fnJson(httpIn({ methods: ['get', 'delete'], route: 'items/{id:int}' })),
  'Items/index.js': `module.exports = async function (context, req) {
  context.log.warn('item %s requested', req.params.id);
  context.res = { body: { id: req.params.id, fromBindingData: context.bindingData.id, q: req.query, method: req.method, fn: context.executionContext.functionName } };
};`,
  'Raw/function.json': fnJson(httpIn(), '$return'),
  'Raw/index.js': `module.exports = async (context, req) => ({ status: 202, headers: { 'content-type': 'text/plain' }, body: 'raw ' + req.method + ' ' + (typeof req.body === 'object' ? req.body.n : req.body), isRaw: true });`,
  'Legacy/function.json': fnJson(httpIn({ methods: ['post'] })),
  'Legacy/index.js': `module.exports = function (context, req) {
  setTimeout(() => context.res.status(201).json({ legacy: true, body: req.body, raw: req.rawBody }), 5);
};`,
  'Cookies/function.json': fnJson(httpIn({ methods: ['get'] })),
  'Cookies/index.js': `module.exports = async function (context) {
  context.res = { status: 200, headers: { 'x-custom': 'yes' }, cookies: [{ name: 'session', value: 'abc', httpOnly: true, sameSite: 'Lax', maxAge: 3600 }], body: 'cookie set' };
};`,
  'Nothing/function.json': fnJson(httpIn({ methods: ['get'] })),
  'Nothing/index.js': 'module.exports = async function () {};',
  'Throws/function.json': fnJson(httpIn({ methods: ['get'] })),
  'Throws/index.js': "module.exports = async function () { throw new Error('azure boom'); };",
  'src/functions/users.js': `const { app, HttpResponse } = require('@azure/functions');
app.http('getUser', {
  methods: ['GET'],
  route: 'users/{id}',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    context.log('getUser', request.params.id);
    return { jsonBody: { id: request.params.id, q: request.query.get('q'), fn: context.functionName, inv: context.invocationId.length > 0 } };
  },
});
app.post('createUser', {
  route: 'users',
  handler: async (request) => new HttpResponse({ status: 201, jsonBody: { created: await request.json() }, headers: { location: '/v1/users/1' } }),
});
app.http('silent', { methods: ['GET'], handler: async () => {} });
`,
};

let node: Running;
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
before(async () => {
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  const dir = await writeProject(t, FILES);
  node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t)]);
});

describe('programming model v3', () => {
  test('route params under the host.json routePrefix, bindingData, query, context.log', async () => {
    const r = await fetch(`${node.url}/v1/items/42?q=x&q=y`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await r.json(), { id: '42', fromBindingData: '42', q: { q: 'y' }, method: 'GET', fn: 'Items' });
    await node.waitFor(/item 42 requested/);
  });
  test('routes match in any case, as Azure matches them', async () => {
    const r = await fetch(`${node.url}/V1/ITEMS/42`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { id: string }).id, '42');
  });
  test('a method not listed in function.json is 404, as Azure answers', async () => {
    assert.equal((await fetch(`${node.url}/v1/items/42`, { method: 'PUT' })).status, 404);
    assert.equal((await fetch(`${node.url}/v1/items/42`, { method: 'DELETE' })).status, 200);
  });
  test('$return output with isRaw and a status; no methods means every method', async () => {
    const r = await fetch(`${node.url}/v1/Raw`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"n":5}' });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('content-type'), 'text/plain');
    assert.equal(await r.text(), 'raw PATCH 5');
  });
  test('legacy callback style: context.res.status().json() ends the invocation', async () => {
    const r = await fetch(`${node.url}/v1/Legacy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.equal(r.status, 201);
    assert.deepEqual(await r.json(), { legacy: true, body: { a: 1 }, raw: '{"a":1}' });
  });
  test('headers and cookies', async () => {
    const r = await fetch(`${node.url}/v1/Cookies`);
    assert.equal(r.headers.get('x-custom'), 'yes');
    assert.deepEqual(r.headers.getSetCookie(), ['session=abc; Max-Age=3600; HttpOnly; SameSite=Lax']);
    assert.equal(await r.text(), 'cookie set');
  });
  test('no response is 204; an exception is 500', async () => {
    assert.equal((await fetch(`${node.url}/v1/Nothing`)).status, 204);
    const e = await fetch(`${node.url}/v1/Throws`);
    assert.equal(e.status, 500);
    assert.match(await e.text(), /azure boom/);
  });
});

describe('programming model v4', () => {
  test('app.http with a route template and jsonBody', async () => {
    const r = await fetch(`${node.url}/v1/users/7?q=z`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(await r.json(), { id: '7', q: 'z', fn: 'getUser', inv: true });
    await node.waitFor(/getUser 7/);
  });
  test('app.post with an HttpResponse; GET on a POST-only route is 404', async () => {
    const r = await fetch(`${node.url}/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Kim"}' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), '/v1/users/1');
    assert.deepEqual(await r.json(), { created: { name: 'Kim' } });
    assert.equal((await fetch(`${node.url}/v1/users`)).status, 404);
  });
  test('a handler that returns nothing answers 204', async () => {
    assert.equal((await fetch(`${node.url}/v1/silent`)).status, 204);
  });
});
