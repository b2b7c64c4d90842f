// AWS Lambda functions run unchanged: a Serverless Framework project with API Gateway REST (v1)
// and HTTP API (v2) routes, callback-style, CommonJS and TypeScript handlers, Node built-ins,
// Lambda@Edge triggers in front of a loopback origin, and the Lambda Invoke API on the AWS port
// driven by the official SDK client.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { FIXTURES, REPO, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';


interface RawResponse {
  status: number;
  /** Flat [name, value, …] as sent, names lower-cased. */
  headers: string[];
  body: Buffer;
}

/** A request with repeated headers (fetch would join them), answered with the raw header list. */
function rawRequest(url: string, method: string, headers: string[], body?: Uint8Array): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // With a raw header list Node adds no Host header of its own.
    const req = httpRequest(url, { method, headers: ['host', new URL(url).host, ...headers] }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.rawHeaders.map((h, i) => (i % 2 === 0 ? h.toLowerCase() : h)), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function values(raw: RawResponse, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.headers.length; i += 2) if (raw.headers[i] === name) out.push(raw.headers[i + 1] as string);
  return out;
}

const FILES = (originPort: number): Record<string, string> => ({
  'package.json': '{ "name": "lambda-e2e", "private": true, "type": "module" }',
  'serverless.yml': `service: lt
provider:
  name: aws
  runtime: nodejs20.x
  memorySize: 192
  timeout: 5
  environment:
    GREETING: hi
functions:
  v1:
    handler: src/v1.handler
    events:
      - http:
          path: /v1/{proxy+}
          method: any
  v2:
    handler: src/v2.handler
    events:
      - httpApi:
          path: /v2/{id}
          method: GET
      - httpApi:
          path: /v2/bin
          method: POST
  plain:
    handler: src/plain.handler
    events:
      - httpApi: GET /plain
  callback:
    handler: src/cb.handler
    events:
      - httpApi: GET /cb
  typed:
    handler: src/typed.handler
    events:
      - httpApi: GET /typed
  node:
    handler: src/node.handler
    environment:
      OWN: mine
    events:
      - httpApi: GET /node
  sum:
    handler: src/sum.handler
  late:
    handler: src/late.handler
  validate:
    handler: src/validate.handler
  viewer:
    handler: edge.viewer
    events:
      - cloudFront: { eventType: viewer-request, origin: 'http://127.0.0.1:${originPort}', pathPattern: /edge/* }
  originResponse:
    handler: edge.originResponse
    events:
      - cloudFront: { eventType: origin-response, origin: 'http://127.0.0.1:${originPort}', pathPattern: /resp/* }
`,
  'src/v1.mjs': `export const handler = async (event) => {
  if (event.path.endsWith('/binary')) {
    return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: event.body, isBase64Encoded: event.isBase64Encoded };
  }
  return {
    statusCode: 201,
    headers: { 'x-single': 'one', 'content-type': 'application/json' },
    multiValueHeaders: { 'x-multi': ['a', 'b'], 'set-cookie': ['c1=1; Path=/', 'c2=2'] },
    body: JSON.stringify(event),
  };
};
`,
  'src/v2.mjs': `export const handler = async (event) => {
  if (event.rawPath === '/v2/bin') {
    return { statusCode: 200, headers: { 'content-type': 'image/png' }, body: event.body, isBase64Encoded: event.isBase64Encoded };
  }
  return { statusCode: 202, headers: { 'x-v': '2' }, cookies: ['s=1; Path=/', 't=2'], body: JSON.stringify(event) };
};
`,
  'src/plain.mjs': `export const handler = async () => ({ hello: 'world', list: [1, 2] });
`,
  'src/cb.cjs': `'use strict';
const crypto = require('crypto');
const { promisify } = require('node:util');
let denied;
try { require('child_process'); denied = 'loaded'; } catch (e) { denied = e.code; }
exports.handler = function (event, context, callback) {
  setTimeout(() => {
    callback(null, {
      statusCode: 200,
      body: JSON.stringify({
        functionName: context.functionName,
        functionVersion: context.functionVersion,
        invokedFunctionArn: context.invokedFunctionArn,
        memoryLimitInMB: context.memoryLimitInMB,
        awsRequestId: context.awsRequestId,
        logGroupName: context.logGroupName,
        logStreamName: context.logStreamName,
        remaining: context.getRemainingTimeInMillis(),
        waits: context.callbackWaitsForEmptyEventLoop,
        md5: crypto.createHash('md5').update('abc').digest('hex'),
        promisify: typeof promisify,
        requireChildProcess: denied,
        dirname: __dirname,
      }),
    });
  }, 5);
};
`,
  'src/typed.ts': `import type { APIGatewayProxyHandlerV2 } from 'aws-lambda';
interface Answer { n: number; kind: string }
const answer = (n: number): Answer => ({ n, kind: typeof n });
export const handler: APIGatewayProxyHandlerV2<Answer> = async () => answer(42);
`,
  'src/node.mjs': `import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { Buffer as NodeBuffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';
import http from 'node:http';
const dyn = (s) => import(s);
const get = (options) => new Promise((resolve) => {
  const req = http.get(options, (res) => { res.resume(); resolve('reached ' + res.statusCode); });
  req.on('error', (e) => resolve(e.code ?? e.message));
});
async function tryImport(s) { try { await dyn(s); return 'loaded'; } catch (e) { return e.code ?? e.name; } }
export const handler = async (event) => {
  const to = event.queryStringParameters?.to;
  if (to) {
    const viaFetch = await fetch(to).then((r) => 'reached ' + r.status, (e) => e.code ?? e.cause?.code ?? e.message);
    return { statusCode: 200, body: JSON.stringify({ http: await get(to), fetch: viaFetch, unixSocket: await get({ socketPath: '/tmp/outpost-none.sock', path: '/' }) }) };
  }
  const gz = zlib.gzipSync(Buffer.from('hello hello hello'));
  const als = new AsyncLocalStorage();
  const seen = await als.run('inside', async () => { await null; return als.getStore(); });
  const emitter = new EventEmitter();
  let emitted = false;
  emitter.on('x', () => { emitted = true; });
  emitter.emit('x');
  let streamed = '';
  for await (const chunk of Readable.from(['a', 'b'])) streamed += chunk;
  return {
    statusCode: 200,
    body: JSON.stringify({
      sha256: createHash('sha256').update('abc').digest('hex'),
      gunzip: zlib.gunzipSync(gz).toString(),
      buffer: NodeBuffer.from('hi').toString('base64'),
      isBuffer: Buffer.isBuffer(NodeBuffer.alloc(1)),
      als: seen,
      emitted,
      streamed,
      joined: path.posix.join('/a', 'b'),
      decoded: new StringDecoder('utf8').write(Buffer.from('é')),
      childProcess: await tryImport('node:child_process'),
      fsWrite: await tryImport('node:fs'),
      canary: process.env.OUTPOST_SECRET_CANARY ?? null,
      env: process.env,
    }),
  };
};
`,
  'src/sum.mjs': `export const handler = async (event, context) => {
  console.log('summing', event.a, event.b);
  return { sum: event.a + event.b, version: context.functionVersion, arn: context.invokedFunctionArn };
};
`,
  'src/late.cjs': `exports.handler = (event, context, callback) => {
  if (event.noWait) context.callbackWaitsForEmptyEventLoop = false;
  callback(null, 'answered');
  setTimeout(() => console.log('after the callback'), 30);
};
`,
  'src/validate.mjs': `class InvalidOrder extends Error {
  constructor(message) { super(message); this.name = 'InvalidOrder'; }
}
export const handler = async (order) => {
  console.log('validating order', order.id);
  if (!order.items?.length) throw new InvalidOrder('order has no items');
  return { ok: true };
};
`,
  'edge.js': `exports.viewer = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri === '/edge/direct') {
    return {
      status: '200',
      statusDescription: 'OK',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'text/plain' }] },
      body: 'answered at the edge for ' + request.clientIp,
    };
  }
  request.uri = request.uri.replace('/edge', '/origin');
  request.headers['x-edge'] = [{ key: 'X-Edge', value: 'yes' }];
  return request;
};
exports.originResponse = async (event) => {
  const { response } = event.Records[0].cf;
  response.headers['x-origin-status'] = [{ key: 'X-Origin-Status', value: response.status }];
  response.headers['x-added'] = [{ key: 'X-Added', value: 'by-edge' }];
  return response;
};
`,
});

describe('Lambda functions', () => {
  let node: Running;
  let aws: string;
  let client: LambdaClient;
  let originPort = 0;
  const originSeen: Array<{ url: string; edge: string | undefined; host: string | undefined }> = [];
  // Registered from before(): cleaned up once the whole suite is done.
  const cleanups: Array<() => unknown> = [];
  const cleanup = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  before(async () => {
    const origin = createServer((req, res) => {
      originSeen.push({ url: req.url ?? '', edge: req.headers['x-edge'] as string | undefined, host: req.headers.host });
      res.writeHead(200, { 'content-type': 'application/json', 'x-from': 'origin' });
      res.end(JSON.stringify({ origin: true, url: req.url, edge: req.headers['x-edge'] ?? null }));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    cleanup.after(() => new Promise<void>((resolve) => origin.close(() => resolve())));
    originPort = (origin.address() as AddressInfo).port;
    const dir = await writeProject(cleanup, FILES(originPort));
    node = await startOutpost(cleanup, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(cleanup), '--quiet'], {
      env: { OUTPOST_SECRET_CANARY: 'host-secret' },
      timeoutMs: 60_000,
    });
    aws = (await node.waitFor(/aws api on (http:\/\/\S+)/))[1] ?? '';
    client = new LambdaClient({ endpoint: aws, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    cleanup.after(() => client.destroy());
  });

  test('REST API (payload 1.0): multi-value headers and query strings, path parameters, stage', async () => {
    const res = await rawRequest(`${node.url}/v1/a/b%20c?x=1&x=2&y=3`, 'GET', ['x-h', '1', 'x-h', '2', 'user-agent', 'e2e']);
    assert.equal(res.status, 201);
    const event = JSON.parse(res.body.toString()) as Record<string, unknown> & { requestContext: Record<string, unknown> };
    assert.equal(event['resource'], '/v1/{proxy+}');
    assert.equal(event['path'], '/v1/a/b%20c');
    assert.equal(event['httpMethod'], 'GET');
    assert.deepEqual(event['pathParameters'], { proxy: 'a/b c' });
    assert.deepEqual(event['queryStringParameters'], { x: '2', y: '3' });
    assert.deepEqual(event['multiValueQueryStringParameters'], { x: ['1', '2'], y: ['3'] });
    assert.equal((event['headers'] as Record<string, string>)['x-h'], '2');
    assert.deepEqual((event['multiValueHeaders'] as Record<string, string[]>)['x-h'], ['1', '2']);
    assert.equal(event['body'], null);
    assert.equal(event['isBase64Encoded'], false);
    assert.equal(event.requestContext['stage'], 'dev');
    assert.equal(event.requestContext['path'], '/dev/v1/a/b%20c');
    assert.equal(event.requestContext['resourcePath'], '/v1/{proxy+}');
    assert.equal((event.requestContext['identity'] as Record<string, unknown>)['userAgent'], 'e2e');
    // headers and multiValueHeaders of the result are both sent; repeated values are joined the
    // HTTP way (one line, comma-separated), except set-cookie which keeps one line per cookie.
    assert.deepEqual(values(res, 'x-single'), ['one']);
    assert.deepEqual(values(res, 'x-multi'), ['a, b']);
    assert.deepEqual(values(res, 'set-cookie'), ['c1=1; Path=/', 'c2=2']);
  });

  test('REST API: a binary body round-trips through base64', async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const res = await fetch(`${node.url}/v1/binary`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);
  });

  test('HTTP API (payload 2.0): cookies, joined values, raw query string, result cookies', async () => {
    const res = await rawRequest(`${node.url}/v2/abc?a=1&a=2&b=x%20y`, 'GET', ['x-h', '1', 'x-h', '2', 'cookie', 'k=1; m=2']);
    assert.equal(res.status, 202);
    const event = JSON.parse(res.body.toString()) as Record<string, unknown> & { requestContext: { http: Record<string, unknown> } };
    assert.equal(event['version'], '2.0');
    assert.equal(event['routeKey'], 'GET /v2/{id}');
    assert.equal(event['rawPath'], '/v2/abc');
    assert.equal(event['rawQueryString'], 'a=1&a=2&b=x%20y');
    assert.deepEqual(event['queryStringParameters'], { a: '1,2', b: 'x y' });
    assert.deepEqual(event['cookies'], ['k=1', 'm=2']);
    assert.equal((event['headers'] as Record<string, string>)['x-h'], '1,2');
    assert.equal((event['headers'] as Record<string, string>)['cookie'], undefined);
    assert.deepEqual(event['pathParameters'], { id: 'abc' });
    assert.equal(event.requestContext.http['method'], 'GET');
    assert.equal(event.requestContext.http['path'], '/v2/abc');
    assert.deepEqual(values(res, 'set-cookie'), ['s=1; Path=/', 't=2']);
    assert.deepEqual(values(res, 'x-v'), ['2']);
    assert.deepEqual(values(res, 'content-type'), ['text/plain; charset=utf-8']);
  });

  test('HTTP API: binary round trip, and a plain object result becomes JSON 200', async () => {
    const bytes = new Uint8Array(1000).map((_, i) => (i * 7) % 256);
    const bin = await fetch(`${node.url}/v2/bin`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: bytes });
    assert.equal(bin.status, 200);
    assert.equal(bin.headers.get('content-type'), 'image/png');
    assert.deepEqual(new Uint8Array(await bin.arrayBuffer()), bytes);
    const plain = await fetch(`${node.url}/plain`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-type'), 'application/json');
    assert.deepEqual(await plain.json(), { hello: 'world', list: [1, 2] });
  });

  test('callback-style CommonJS handler with the context object', async () => {
    const res = await fetch(`${node.url}/cb`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body['functionName'], 'callback');
    assert.equal(body['functionVersion'], '$LATEST');
    assert.equal(body['invokedFunctionArn'], 'arn:aws:lambda:us-east-1:000000000000:function:callback');
    assert.equal(body['memoryLimitInMB'], '192');
    assert.match(String(body['awsRequestId']), /^[0-9a-f-]{36}$/);
    assert.equal(body['logGroupName'], '/aws/lambda/callback');
    assert.match(String(body['logStreamName']), /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.ok(Number(body['remaining']) > 0 && Number(body['remaining']) <= 5000, String(body['remaining']));
    assert.equal(body['waits'], true);
    assert.equal(body['md5'], '900150983cd24fb0d6963f7d28e17f72');
    assert.equal(body['promisify'], 'function');
    assert.equal(body['requireChildProcess'], 'ERR_ACCESS_DENIED');
    assert.equal(body['dirname'], '/var/task');
  });

  test('a TypeScript handler with aws-lambda types', async () => {
    const res = await fetch(`${node.url}/typed`);
    assert.deepEqual(await res.json(), { n: 42, kind: 'number' });
  });

  test('Node built-ins work; child processes, fs and the host environment do not', async () => {
    const res = await fetch(`${node.url}/node`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown> & { env: Record<string, string> };
    assert.equal(body['sha256'], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(body['gunzip'], 'hello hello hello');
    assert.equal(body['buffer'], 'aGk=');
    assert.equal(body['isBuffer'], true);
    assert.equal(body['als'], 'inside');
    assert.equal(body['emitted'], true);
    assert.equal(body['streamed'], 'ab');
    assert.equal(body['joined'], '/a/b');
    assert.equal(body['decoded'], 'é');
    assert.equal(body['childProcess'], 'ERR_ACCESS_DENIED');
    assert.equal(body['fsWrite'], 'ERR_ACCESS_DENIED');
    assert.equal(body['canary'], null);
    // Only the function's own variables and Lambda's reserved ones.
    assert.equal(body.env['OWN'], 'mine');
    assert.equal(body.env['GREETING'], 'hi');
    assert.equal(body.env['AWS_REGION'], 'us-east-1');
    assert.equal(body.env['AWS_LAMBDA_FUNCTION_NAME'], 'node');
    assert.equal(body.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'], '192');
    assert.equal(body.env['AWS_EXECUTION_ENV'], 'AWS_Lambda_nodejs20.x');
    assert.equal(body.env['AWS_ENDPOINT_URL'], aws);
    for (const key of Object.keys(body.env)) {
      assert.ok(/^(AWS_|LAMBDA_|_HANDLER$|LANG$|TZ$|OWN$|GREETING$)/.test(key), `unexpected variable ${key}`);
    }
    assert.equal(body.env['PATH'], undefined);
    assert.equal(body.env['HOME'], undefined);
  });

  test('node:http is held to the egress policy: not the node\'s own ports, no local sockets', async () => {
    const own = await fetch(`${node.url}/node?to=${encodeURIComponent(`${node.url}/_outpost/api/functions`)}`);
    assert.deepEqual(await own.json(), { http: 'EGRESS_DENIED', fetch: 'EGRESS_DENIED', unixSocket: 'EGRESS_DENIED' });
    const loopbackOrigin = `http://127.0.0.1:${originPort}/anything`;
    const allowed = await fetch(`${node.url}/node?to=${encodeURIComponent(loopbackOrigin)}`);
    assert.deepEqual(await allowed.json(), { http: 'reached 200', fetch: 'reached 200', unixSocket: 'EGRESS_DENIED' }, 'outpost dev allows loopback services');
  });

  test('Lambda@Edge viewer-request: a generated response answers directly', async () => {
    const before = originSeen.length;
    const res = await fetch(`${node.url}/edge/direct`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'answered at the edge for 127.0.0.1');
    assert.equal(originSeen.length, before, 'the origin was not called');
  });

  test('Lambda@Edge viewer-request: a returned request is forwarded to the origin', async () => {
    const res = await fetch(`${node.url}/edge/page?q=1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-from'), 'origin');
    assert.deepEqual(await res.json(), { origin: true, url: '/origin/page?q=1', edge: 'yes' });
    assert.match(originSeen.at(-1)?.host ?? '', /^127\.0\.0\.1:\d+$/);
  });

  test('Lambda@Edge origin-response: the origin response passes through the handler', async () => {
    const res = await fetch(`${node.url}/resp/thing`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-added'), 'by-edge');
    assert.equal(res.headers.get('x-origin-status'), '200');
    assert.deepEqual(await res.json(), { origin: true, url: '/resp/thing', edge: null });
  });

  test('Invoke API: RequestResponse through the SDK, by name and by ARN with qualifiers', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'sum', Payload: JSON.stringify({ a: 2, b: 3 }) }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    assert.equal(out.ExecutedVersion, '$LATEST');
    const result = JSON.parse(new TextDecoder().decode(out.Payload)) as Record<string, unknown>;
    assert.deepEqual(result, { sum: 5, version: '$LATEST', arn: 'arn:aws:lambda:us-east-1:000000000000:function:sum' });

    const byArn = await client.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:sum:$LATEST', Payload: '{"a":1,"b":1}' }));
    assert.equal(JSON.parse(new TextDecoder().decode(byArn.Payload)).sum, 2);
    const versioned = await client.send(new InvokeCommand({ FunctionName: 'sum', Qualifier: '1', Payload: '{"a":1,"b":2}' }));
    assert.equal(versioned.ExecutedVersion, '1');
    const deployedName = await client.send(new InvokeCommand({ FunctionName: 'lt-dev-sum', Payload: '{"a":0,"b":0}' }));
    assert.equal(JSON.parse(new TextDecoder().decode(deployedName.Payload)).sum, 0);
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: 'sum', Qualifier: '7' })), { name: 'ResourceNotFoundException' });
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: 'nope' })), (e: Error) => e.name === 'ResourceNotFoundException' && /function:nope/.test(e.message));
  });

  test('Invoke API: DryRun, and Event is accepted with 202 (test/async.test.ts covers delivery)', async () => {
    const dry = await client.send(new InvokeCommand({ FunctionName: 'sum', InvocationType: 'DryRun' }));
    assert.equal(dry.StatusCode, 204);
    const queued = await client.send(new InvokeCommand({ FunctionName: 'sum', InvocationType: 'Event', Payload: '{}' }));
    assert.equal(queued.StatusCode, 202);
  });

  test('Invoke API: an error thrown by the function is Unhandled with its errorType, and LogType Tail returns the log', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'validate', Payload: JSON.stringify({ id: 'o-7', items: [] }), LogType: 'Tail' }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    const error = JSON.parse(new TextDecoder().decode(out.Payload)) as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(error.errorType, 'InvalidOrder');
    assert.equal(error.errorMessage, 'order has no items');
    assert.match(error.trace[0] ?? '', /^InvalidOrder: order has no items/);
    assert.ok(error.trace.every((line) => !line.includes(REPO) && !line.includes('node:internal')), error.trace.join('\n'));
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    assert.match(log, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/m);
    assert.match(log, /^\S+Z\t[0-9a-f-]{36}\tINFO\tvalidating order o-7$/m);
    assert.match(log, /\tERROR\tInvoke Error \t\{"errorType":"InvalidOrder"/);
    assert.match(log, /^END RequestId: /m);
    assert.match(log, /^REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 192 MB/m);

    const ok = await client.send(new InvokeCommand({ FunctionName: 'validate', Payload: JSON.stringify({ id: 'o-8', items: [1] }) }));
    assert.equal(ok.FunctionError, undefined);
    assert.equal(ok.LogResult, undefined);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(ok.Payload)), { ok: true });
  });

  test('Invoke API: callbackWaitsForEmptyEventLoop waits for pending timers after the callback', async () => {
    const waited = await client.send(new InvokeCommand({ FunctionName: 'late', Payload: '{}', LogType: 'Tail' }));
    assert.equal(new TextDecoder().decode(waited.Payload), '"answered"');
    assert.match(Buffer.from(waited.LogResult ?? '', 'base64').toString(), /after the callback/);
    const early = await client.send(new InvokeCommand({ FunctionName: 'late', Payload: '{"noWait":true}', LogType: 'Tail' }));
    assert.equal(new TextDecoder().decode(early.Payload), '"answered"');
    assert.doesNotMatch(Buffer.from(early.LogResult ?? '', 'base64').toString(), /after the callback/);
  });
});

test('the sam-order-workflow functions are invokable through the Invoke API', async (t) => {
  const node = await startOutpost(t, ['dev', `${FIXTURES}sam-order-workflow`, '--port', '0', '--aws-port', '0', '--state', await tempDir(t), '--quiet']);
  const aws = (await node.waitFor(/aws api on (http:\/\/\S+)/))[1] ?? '';
  const client = new LambdaClient({ endpoint: aws, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  t.after(() => client.destroy());
  const call = async (name: string, event: unknown): Promise<{ error: string | undefined; value: Record<string, unknown> }> => {
    const out = await client.send(new InvokeCommand({ FunctionName: `arn:aws:lambda:us-east-1:000000000000:function:${name}`, Payload: JSON.stringify(event) }));
    return { error: out.FunctionError, value: JSON.parse(new TextDecoder().decode(out.Payload)) as Record<string, unknown> };
  };
  assert.deepEqual(await call('ValidateFunction', { items: [{ qty: 2, price: 20 }] }), { error: undefined, value: { ok: true, total: 40 } });
  const rejected = await call('ValidateFunction', { items: [] });
  assert.equal(rejected.error, 'Unhandled');
  assert.equal(rejected.value['errorType'], 'InvalidOrder');
  const first = await call('ChargeFunction', { orderId: 'o1', amount: 40 });
  assert.equal(first.value['errorType'], 'PaymentRetryable');
  assert.deepEqual(await call('ChargeFunction', { orderId: 'o1', amount: 40 }), { error: undefined, value: { chargeId: 'ch_o1_4000', attempt: 2 } });
  assert.deepEqual((await call('NotifyFunction', { orderId: 'o1' })).value, { notified: true, orderId: 'o1', channel: 'email' });
});
