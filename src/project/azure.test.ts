/** @module Tests for the Azure Functions loader: fixture, v3 function.json, v4 app.* registrations, route templates and bad projects. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { azureRoutePaths, detectAzure, loadAzure, parseTimeSpan } from './azure.ts';
import { expectProblems, fixturePath, tempProject } from './testing.ts';

const V3 = 'module.exports = async function (context, req) { context.res = { body: "ok" }; };\n';
const HOST = JSON.stringify({ version: '2.0' });

test('azure-functions fixture: v3 httpTrigger with GET and POST under /api', async () => {
  const root = fixturePath('azure-functions');
  assert.equal(await detectAzure(root), true);
  const spec = await loadAzure(root, { dev: true, env: {} });
  assert.equal(spec.format, 'azure');
  assert.equal(spec.name, 'azure-hello');
  const [fn] = spec.functions;
  assert.ok(fn);
  assert.equal(fn.name, 'HttpHello');
  assert.equal(fn.style, 'azure-v3');
  assert.equal(fn.entry, path.join(root, 'HttpHello/index.js'));
  assert.equal(fn.handlerExport, 'default');
  assert.equal(fn.limits.concurrency, 100, "an Azure Node.js worker runs invocations concurrently");
  assert.equal(fn.nodeCompat, true);
  assert.deepEqual(fn.routes, [
    { path: '/api/HttpHello', method: 'GET', event: { kind: 'export', name: 'default' } },
    { path: '/api/HttpHello', method: 'POST', event: { kind: 'export', name: 'default' } },
  ]);
  assert.deepEqual(spec.configFiles, ['host.json', 'package.json', 'HttpHello/function.json']);
});

test('route templates: constraints, optional parameters, catch-alls, prefixes', () => {
  assert.deepEqual(azureRoutePaths('api', 'products/{category:alpha}/{id:int?}'), ['/api/products/{category}', '/api/products/{category}/{id}']);
  assert.deepEqual(azureRoutePaths('api', 'files/{*rest}'), ['/api/files', '/api/files/{rest+}']);
  assert.deepEqual(azureRoutePaths('', 'a/{x=1}'), ['/a', '/a/{x}']);
  assert.deepEqual(azureRoutePaths('v1/', '/users/{id}'), ['/v1/users/{id}']);
  assert.deepEqual(azureRoutePaths('api', ''), ['/api']);
  assert.equal(parseTimeSpan('00:05:00'), 300);
  assert.equal(parseTimeSpan('1.00:00:00'), 86_400);
  assert.equal(parseTimeSpan('five'), undefined);
});

test('v3: routePrefix, custom routes, scriptFile/entryPoint, timers, queues, blobs, %settings%, disabled functions', async (t) => {
  const root = await tempProject(t, {
    'host.json': JSON.stringify({ version: '2.0', functionTimeout: '00:02:00', extensions: { http: { routePrefix: '' }, queues: { batchSize: 8, maxDequeueCount: 3 } } }),
    'local.settings.json': JSON.stringify({ IsEncrypted: false, Values: { QUEUE: 'orders', FUNCTIONS_WORKER_RUNTIME: 'node' } }),
    'Items/function.json': JSON.stringify({
      scriptFile: '../dist/Items/index.js',
      entryPoint: 'run',
      bindings: [{ type: 'httpTrigger', direction: 'in', name: 'req', route: 'items/{id:int?}' }, { type: 'http', direction: 'out', name: 'res' }],
    }),
    'Items/index.ts': 'export async function run(context: unknown) {}\n',
    'Tick/function.json': JSON.stringify({ bindings: [{ type: 'timerTrigger', name: 't', schedule: '0 */5 * * * *', direction: 'in' }] }),
    'Tick/index.js': V3,
    'Orders/function.json': JSON.stringify({ bindings: [{ type: 'queueTrigger', name: 'm', queueName: '%QUEUE%', connection: 'AzureWebJobsStorage', direction: 'in' }] }),
    'Orders/index.js': V3,
    'Blobs/function.json': JSON.stringify({ bindings: [{ type: 'blobTrigger', name: 'b', path: 'uploads/in/{name}.csv', direction: 'in' }] }),
    'Blobs/index.js': V3,
    'Off/function.json': JSON.stringify({ disabled: true, bindings: [{ type: 'httpTrigger', name: 'req' }] }),
  });
  const spec = await loadAzure(root, { dev: true, env: {} });
  const by = Object.fromEntries(spec.functions.map((f) => [f.name, f]));
  assert.deepEqual(Object.keys(by), ['Blobs', 'Items', 'Orders', 'Tick']);
  const items = by['Items'];
  assert.ok(items);
  assert.equal(items.entry, path.join(root, 'Items/index.ts'));
  assert.equal(items.handlerExport, 'run');
  assert.equal(items.limits.wallMs, 120_000);
  assert.deepEqual(items.routes, [
    { path: '/items', event: { kind: 'export', name: 'run' } },
    { path: '/items/{id}', event: { kind: 'export', name: 'run' } },
  ]);
  assert.equal(items.secrets['QUEUE'], 'orders');
  assert.deepEqual(by['Tick']?.triggers, [{ type: 'cron', expression: '0 */5 * * * *' }]);
  assert.deepEqual(by['Orders']?.triggers, [{ type: 'queue', queue: 'orders', maxBatchSize: 8, maxRetries: 2, deadLetterQueue: 'orders-poison' }]);
  assert.deepEqual(by['Blobs']?.triggers, [{ type: 'object', bucket: 'uploads', events: ['s3:ObjectCreated:*'], prefix: 'in/', suffix: '.csv' }]);
  // Outside dev, local.settings.json is not read: %QUEUE% must come from the environment.
  const served = await loadAzure(root, { dev: false, env: { QUEUE: 'prod-orders' } });
  assert.deepEqual(served.functions.find((f) => f.name === 'Orders')?.triggers, [
    { type: 'queue', queue: 'prod-orders', maxBatchSize: 8, maxRetries: 2, deadLetterQueue: 'prod-orders-poison' },
  ]);
  assert.deepEqual(served.functions.find((f) => f.name === 'Orders')?.secrets, {});
});

test('v4: app.http / app.get registrations from a main glob, default routes, methods, timers and queues', async (t) => {
  const root = await tempProject(t, {
    'host.json': JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: 'v1' } } }),
    'package.json': JSON.stringify({ name: 'azure-v4', main: 'src/functions/*.js', dependencies: { '@azure/functions': '^4' } }),
    'src/functions/hello.js': `
const { app } = require('@azure/functions');
app.http('hello', {
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: async (request, context) => ({ body: 'hi' }),
});
app.http('users', { route: 'users/{id?}', handler: async () => ({ jsonBody: { nested: { route: 'nope' } } }) });
// app.http('ghost', { handler: async () => ({}) });
`,
    'src/functions/jobs.js': `
const { app } = require('@azure/functions');
app.get('status', async () => ({ body: 'up' }));
app.timer('cleanup', { schedule: '0 0 * * * *', handler: async () => {} });
app.storageQueue('work', { queueName: 'work-items', connection: 'Storage', handler: async () => {} });
`,
    'src/functions/util.js': 'module.exports = { helper() {} };\n',
  });
  const spec = await loadAzure(root, { dev: true, env: {} });
  const by = Object.fromEntries(spec.functions.map((f) => [f.name, f]));
  assert.deepEqual(Object.keys(by).sort(), ['hello', 'jobs']);
  const hello = by['hello'];
  assert.ok(hello);
  assert.equal(hello.style, 'azure-v4');
  assert.equal(hello.handlerExport, '*');
  assert.deepEqual(hello.routes, [
    { path: '/v1/hello', method: 'GET', event: { kind: 'export', name: 'hello' } },
    { path: '/v1/hello', method: 'POST', event: { kind: 'export', name: 'hello' } },
    { path: '/v1/users', event: { kind: 'export', name: 'users' } },
    { path: '/v1/users/{id}', event: { kind: 'export', name: 'users' } },
  ]);
  const jobs = by['jobs'];
  assert.deepEqual(jobs?.routes, [{ path: '/v1/status', method: 'GET', event: { kind: 'export', name: 'status' } }]);
  assert.deepEqual(jobs?.triggers, [
    { type: 'cron', expression: '0 0 * * * *' },
    { type: 'queue', queue: 'work-items', deadLetterQueue: 'work-items-poison' },
  ]);
});

test('v4 TypeScript: a dist/ glob falls back to the sources before a build', async (t) => {
  const root = await tempProject(t, {
    'host.json': HOST,
    'package.json': JSON.stringify({ main: 'dist/src/functions/*.js' }),
    'src/functions/api.ts': "import { app } from '@azure/functions';\napp.http('api', { handler: async () => ({}) });\n",
  });
  const fn = (await loadAzure(root, { dev: true, env: {} })).functions[0];
  assert.equal(fn?.entry, path.join(root, 'src/functions/api.ts'));
  assert.deepEqual(fn?.routes, [{ path: '/api/api', event: { kind: 'export', name: 'api' } }]);
});

test('bad projects: broken JSON, missing scripts, unknown settings, non-literal v4 options, nothing to serve', async (t) => {
  const root = await tempProject(t, {
    'host.json': JSON.stringify({ version: '2.0', functionTimeout: 'soon' }),
    'package.json': JSON.stringify({ main: 'src/*.js' }),
    'Broken/function.json': '{ "bindings": [ }',
    'NoScript/function.json': JSON.stringify({ bindings: [{ type: 'httpTrigger', name: 'req' }] }),
    'NoTrigger/function.json': JSON.stringify({ bindings: [{ type: 'http', direction: 'out', name: 'res' }] }),
    'NoTrigger/index.js': V3,
    'Setting/function.json': JSON.stringify({ bindings: [{ type: 'queueTrigger', name: 'm', queueName: '%MISSING%' }] }),
    'Setting/index.js': V3,
    'src/v4.js': "const ROUTE = 'x';\nconst opts = { handler() {} };\napp.http('a', { route: ROUTE, handler() {} });\napp.http('b', opts);\napp.timer('c', { handler() {} });\napp.http(name, { handler() {} });\n",
  });
  await expectProblems(() => loadAzure(root, { dev: true, env: {} }), [
    { file: 'host.json', key: 'functionTimeout' },
    { file: 'Broken/function.json', key: '', message: /line 1/ },
    { file: 'NoScript/function.json', key: '', message: /no script/ },
    { file: 'NoTrigger/function.json', key: 'bindings', message: /no trigger/ },
    { file: 'Setting/function.json', key: 'bindings[0].queueName', message: /MISSING/ },
    { file: 'src/v4.js', key: 'app.http (line 3).route', message: /not a string literal/ },
    { file: 'src/v4.js', key: 'app.timer (line 5).schedule', message: /missing schedule/ },
    { file: 'src/v4.js', key: 'app.http (line 6)', message: /name is not a string literal/ },
  ]);
  const empty = await tempProject(t, { 'host.json': HOST });
  await expectProblems(() => loadAzure(empty, { dev: true, env: {} }), [{ file: 'host.json', key: '', message: /no functions/ }]);
});
