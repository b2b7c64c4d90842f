// The Lambda adapter against the shapes AWS documents: how a Node.js handler finishes (promise,
// callback, context.done/succeed/fail), how errors are reported, the context object, the
// reserved environment, and API Gateway requests in and responses out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { HandlerShapeError } from './adapter.ts';
import { asError, formatLambdaLog, lambdaAdapter, lambdaFacts, lambdaVariables, LambdaRuntime, resolveHandler, toResponse } from './lambda-adapter.ts';
import type { LambdaHandler } from './lambda-adapter.ts';

function setup(overrides: Partial<AdapterSetup> = {}): AdapterSetup {
  return {
    functionName: 'orders',
    version: 3,
    handlerExport: 'handler',
    env: {},
    variables: {},
    bindings: [],
    platform: { region: 'eu-west-1', runtime: 'nodejs22.x', accountId: '000000000000' },
    dev: true,
    memoryMb: 256,
    host: { region: 'local', gatewayUrl: 'http://127.0.0.1:8787', awsEndpoint: 'http://127.0.0.1:4566' },
    ...overrides,
  };
}

function context(overrides: Partial<InvocationContext> = {}): InvocationContext {
  return {
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    signal: new AbortController().signal,
    deadline: Date.now() + 3000,
    waitUntil: () => undefined,
    passThroughOnException: () => undefined,
    ...overrides,
  };
}

const facts = lambdaFacts(setup(), 'instance-1', Date.UTC(2026, 0, 2));
const run = (handler: LambdaHandler, event: unknown = {}, ctx = context()): Promise<unknown> => new LambdaRuntime(handler, facts).invoke(event, ctx);

test('an async handler resolves with its return value', async () => {
  assert.deepEqual(await run(async (event) => ({ got: event }), { a: 1 }), { got: { a: 1 } });
  assert.equal(await run(async () => undefined), undefined);
});

test('a callback handler finishes when it calls back; the first of callback and context.done wins', async () => {
  assert.equal(await run((_e, _c, cb) => void setTimeout(() => cb(null, 'later'), 1)), 'later');
  assert.equal(await run((_e, c, cb) => { c.succeed('first'); cb(null, 'second'); }), 'first');
  await assert.rejects(run((_e, c) => void c.fail(new TypeError('bad'))), TypeError);
  await assert.rejects(run((_e, _c, cb) => cb(new RangeError('no'))), { name: 'RangeError', message: 'no' });
});

test('errors keep their class name; non-Error values report their typeof, as AWS does', async () => {
  class InvalidOrder extends Error {
    constructor(message: string) {
      super(message);
      this.name = 'InvalidOrder';
    }
  }
  await assert.rejects(run(async () => { throw new InvalidOrder('order has no items'); }), { name: 'InvalidOrder', message: 'order has no items' });
  await assert.rejects(run((_e, _c, cb) => cb('boom')), { name: 'string', message: 'boom' });
  assert.equal(asError({ name: 'Custom', message: 'm' }).name, 'Custom');
  assert.equal(asError(42).name, 'number');
});

test('a plain handler with no callback and no promise answers null once idle', async () => {
  let idled = false;
  const result = await run(() => ({ ignored: true }), {}, context({ untilIdle: async () => void (idled = true) }));
  assert.equal(result, null);
  assert.ok(idled);
});

test('callbackWaitsForEmptyEventLoop: waits for idle after a callback unless set to false', async () => {
  let waits = 0;
  const ctx = context({ untilIdle: async () => void waits++ });
  await run((_e, _c, cb) => cb(null, 1), {}, ctx);
  assert.equal(waits, 1);
  await run((_e, c, cb) => { c.callbackWaitsForEmptyEventLoop = false; cb(null, 1); }, {}, ctx);
  assert.equal(waits, 1);
  await run(async () => 1, {}, ctx);
  assert.equal(waits, 1, 'async handlers finish when their promise settles');
});

test('the context object carries the documented fields', async () => {
  const ctx = context();
  const seen = (await run(async (_e, c) => ({ ...c, remaining: c.getRemainingTimeInMillis() }), {}, ctx)) as Record<string, unknown>;
  assert.equal(seen['functionName'], 'orders');
  assert.equal(seen['functionVersion'], '$LATEST');
  assert.equal(seen['invokedFunctionArn'], 'arn:aws:lambda:eu-west-1:000000000000:function:orders');
  assert.equal(seen['memoryLimitInMB'], '256');
  assert.equal(seen['awsRequestId'], ctx.requestId);
  assert.equal(seen['logGroupName'], '/aws/lambda/orders');
  assert.match(String(seen['logStreamName']), /^2026\/01\/02\/\[\$LATEST\][0-9a-f]{32}$/);
  assert.equal(seen['callbackWaitsForEmptyEventLoop'], true);
  assert.ok(Number(seen['remaining']) > 2000 && Number(seen['remaining']) <= 3000);
});

test('the handler is found as a named export or on a CommonJS default export', () => {
  const fn = async (): Promise<number> => 1;
  assert.equal(resolveHandler({ handler: fn }, 'handler'), fn);
  assert.equal(resolveHandler({ default: { lambdaHandler: fn } }, 'lambdaHandler'), fn);
  assert.throws(() => resolveHandler({ other: fn }, 'handler'), HandlerShapeError);
  assert.throws(() => resolveHandler({ handler: 'nope' }, 'handler'), /is a string, not a function/);
});

test('reserved environment: region from the project, endpoint from the node, log stream as in context', () => {
  const env = lambdaVariables(setup(), facts);
  assert.equal(env['AWS_REGION'], 'eu-west-1');
  assert.equal(env['AWS_LAMBDA_FUNCTION_NAME'], 'orders');
  assert.equal(env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'], '256');
  assert.equal(env['AWS_EXECUTION_ENV'], 'AWS_Lambda_nodejs22.x');
  assert.equal(env['AWS_ENDPOINT_URL'], 'http://127.0.0.1:4566');
  assert.equal(env['AWS_LAMBDA_LOG_STREAM_NAME'], facts.logStreamName);
  // Without a project region, a named node region, else us-east-1.
  assert.equal(lambdaFacts(setup({ platform: {} }), 'i', 0).region, 'us-east-1');
  assert.equal(lambdaFacts(setup({ platform: {}, host: { region: 'ap-south-1', gatewayUrl: '' } }), 'i', 0).region, 'ap-south-1');
  assert.equal(lambdaVariables(setup({ host: { region: 'local', gatewayUrl: '' } }), facts)['AWS_ENDPOINT_URL'], undefined);
});

test('console lines are formatted as the Node.js runtime prints them', () => {
  assert.match(formatLambdaLog('log', 'hello', 'req-1'), /^\d{4}-\d\d-\d\dT[\d:.]+Z\treq-1\tINFO\thello$/);
  assert.match(formatLambdaLog('error', 'bad', undefined), /\tundefined\tERROR\tbad$/);
  assert.match(formatLambdaLog('warn', 'w', 'r'), /\tWARN\tw$/);
});

test('toResponse: null-body statuses, hop-by-hop headers dropped, repeated set-cookie kept', async () => {
  const empty = toResponse({ status: 204, headers: [['content-length', '5']], body: new TextEncoder().encode('ignored') });
  assert.equal(empty.status, 204);
  assert.equal(empty.body, null);
  const r = toResponse({ status: 200, headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['transfer-encoding', 'chunked']], body: new TextEncoder().encode('x') });
  assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
  assert.equal(r.headers.get('transfer-encoding'), null);
  assert.equal(await r.text(), 'x');
  assert.equal(toResponse({ status: 101, headers: [], body: new Uint8Array() }).status, 502);
});

function http(event: HttpInvocation['event'], params: Record<string, string> = {}, rawHeaders?: string[]): HttpInvocation {
  return { meta: { ip: '198.51.100.7', cf: {} }, event, params, ...(rawHeaders ? { rawHeaders } : {}) };
}

test('API Gateway REST (1.0) through the adapter: event in, proxy result out', async () => {
  const adapter = lambdaAdapter.create({ handler: async (event: Record<string, unknown>) => ({ statusCode: 200, body: JSON.stringify(event) }) }, setup());
  const request = new Request('http://api.example.com/users/7?tag=a&tag=b', { headers: { host: 'api.example.com', 'x-a': '1' } });
  const res = await adapter.fetch(request, http({ kind: 'api-gateway', payloadVersion: '1.0', resource: '/users/{id}', stage: 'prod' }, { id: '7' }, ['host', 'api.example.com', 'x-a', '1', 'x-a', '2']), context());
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const event = (await res.json()) as Record<string, unknown> & { requestContext: Record<string, unknown> };
  assert.equal(event['resource'], '/users/{id}');
  assert.deepEqual(event['pathParameters'], { id: '7' });
  assert.deepEqual(event['multiValueQueryStringParameters'], { tag: ['a', 'b'] });
  assert.deepEqual((event['multiValueHeaders'] as Record<string, string[]>)['x-a'], ['1', '2']);
  assert.equal(event.requestContext['stage'], 'prod');
  assert.equal((event.requestContext['identity'] as Record<string, unknown>)['sourceIp'], '198.51.100.7');
});

test('HTTP API (2.0) through the adapter; Outpost\'s /<function>/ mount is the $default route', async () => {
  const adapter = lambdaAdapter.create({ handler: async (event: Record<string, unknown>) => ({ routeKey: event['routeKey'], body: event['body'], b64: event['isBase64Encoded'] }) }, setup());
  const bytes = new Uint8Array([0, 255, 1, 254]);
  const res = await adapter.fetch(new Request('http://h/x', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } }), http({ kind: 'fetch' }), context());
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { routeKey: '$default', body: 'AP8B/g==', b64: true });
});

test('an invoke event is passed through unchanged; other event kinds are refused', async () => {
  const adapter = lambdaAdapter.create({ handler: async (event: unknown) => ({ echo: event }) }, setup());
  assert.deepEqual(await adapter.event('invoke', { a: [1] }, context()), { echo: { a: [1] } });
  await assert.rejects(adapter.event('scheduled', {}, context()), HandlerShapeError);
});
