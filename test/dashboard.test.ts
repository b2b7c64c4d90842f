// The web dashboard end to end: a real node (`outpost serve`) with a Worker and a SAM project
// (a Lambda function and a state machine) deployed through the CLI, driven in Debian's
// Chromium with playwright-core. Logs in with the node's token (a wrong one is refused), opens
// the Worker and sees its charts drawn from the requests made here, a log line arrive live and
// its trace, then opens workflow executions and sees the path taken (and the failed state) on
// the state graph, and redrives a dead-letter queue. Screenshots go to artifacts/dashboard/. The dashboard is built first (skipped
// when current), and how the node serves it (types, caching, the "not built" page) is checked
// over plain HTTP.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { buildDashboard } from '../scripts/build-dashboard.ts';
import { dashboardPages } from '../src/observe/dashboard-service.ts';
import { eventually, REPO, runCli, startOutpost, tempDir, worker, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const SHOTS = join(REPO, 'artifacts', 'dashboard');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

const greeter = `export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    console.log('greeting ' + path);
    return new Response('hello ' + path);
  },
  async queue() {
    throw new Error('jobs cannot be done yet');
  },
};
`;
const consumer = '[[queues.consumers]]\nqueue = "jobs"\nmax_batch_timeout = 0\nmax_retries = 0\ndead_letter_queue = "jobs-dlq"\n';

/** A SAM project: one Lambda function and a state machine that succeeds for "world" and fails otherwise. */
const samProject = {
  'template.yaml': `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  hello:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: hello
      Runtime: nodejs22.x
      CodeUri: fns/
      Handler: hello.handler
  Orders:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: orders
      Definition:
        StartAt: Validate
        States:
          Validate:
            Type: Pass
            Result: true
            ResultPath: $.validated
            Next: Greet
          Greet:
            Type: Task
            Resource: !GetAtt hello.Arn
            Next: Decide
          Decide:
            Type: Choice
            Choices:
              - Variable: $.hello
                StringEquals: world
                Next: Done
            Default: Reject
          Done:
            Type: Succeed
          Reject:
            Type: Fail
            Error: NotWorld
            Cause: only the world is greeted
`,
  'fns/hello.mjs': 'export const handler = async (event) => ({ hello: event.name ?? "world" });\n',
};

async function api<T>(node: Running, token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${node.url}/_outpost/api${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function launch(t: { after(fn: () => unknown): void }): Promise<{ browser: Browser; page: Page }> {
  const profile = await tempDir(t, 'outpost-chromium-');
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  return { browser: context.browser() as Browser, page };
}

before(async () => {
  await buildDashboard();
  await mkdir(SHOTS, { recursive: true });
});

test('log in, chart a function from real requests, tail its log, draw a workflow execution, redrive a DLQ, see usage', async (t) => {
  const state = await tempDir(t);
  const node = await startOutpost(t, ['serve', '--state', state, '--port', '0', '--quiet']);
  const token = (await node.waitFor(/admin token \(shown once, keep it\): (op_\S+)/))[1] as string;
  for (const project of [await writeProject(t, worker('greeter', greeter, consumer)), await writeProject(t, samProject)]) {
    const deployed = await runCli(['deploy', project, '--to', node.url, '--token', token]);
    assert.equal(deployed.code, 0, deployed.stderr);
  }
  for (let i = 0; i < 5; i++) assert.equal(await (await fetch(`${node.url}/greeter/warm-${i}`)).text(), `hello /warm-${i}`);
  const succeeded = await api<{ execution: { arn: string } }>(node, token, '/workflows/orders/executions', { method: 'POST', body: { name: 'for-world', input: {} } });
  const failed = await api<{ execution: { arn: string } }>(node, token, '/workflows/orders/executions', { method: 'POST', body: { name: 'for-bob', input: { name: 'bob' } } });
  assert.equal(succeeded.status, 200);
  for (const arn of [succeeded.body.execution.arn, failed.body.execution.arn]) {
    await eventually(async () => ((await api<{ execution: { status: string } }>(node, token, `/workflows/${encodeURIComponent(arn)}`)).body.execution.status === 'RUNNING' ? undefined : true), 20_000, `${arn} to finish`);
  }

  const { page } = await launch(t);
  await page.goto(`${node.url}/_outpost/`);

  // Login: a wrong token is refused on the login page, the right one opens the functions list.
  await page.getByLabel('Access token').fill('op_not-a-real-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'That token was not accepted' }).waitFor();
  await page.getByLabel('Access token').fill(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Functions', level: 1 }).waitFor();
  const rows = page.getByRole('main').getByRole('table').getByRole('row');
  await rows.filter({ hasText: 'greeter' }).filter({ hasText: 'v1' }).filter({ hasText: '/greeter/*' }).waitFor();
  await rows.filter({ hasText: 'hello' }).waitFor();
  assert.ok(await page.getByRole('navigation', { name: 'Sections' }).isVisible(), 'the navigation is a labelled landmark');
  await page.screenshot({ path: join(SHOTS, 'functions.png'), fullPage: true });

  // The function page: charts from the five requests above (or the empty state on a node
  // without the series API), then a request made now appears in the live log.
  await page.getByRole('link', { name: 'greeter' }).click();
  await page.getByRole('heading', { name: 'greeter', level: 1 }).waitFor();
  await page.getByRole('region', { name: 'Versions' }).getByRole('row').filter({ hasText: 'v1' }).filter({ hasText: 'active' }).waitFor();
  const seriesApi = await api(node, token, '/metrics/series?function=greeter&since=1h&step=60');
  if (seriesApi.status === 404) {
    await page.getByText('No data yet: this node does not serve metrics yet.').waitFor();
  } else {
    const invocations = page.locator('[data-chart="invocations"][data-drawn]');
    await invocations.waitFor();
    await page.getByRole('figure', { name: /Invocations and errors \(5 invocations, 0 errors\)/ }).waitFor();
    for (const chart of ['latency', 'cold-starts', 'concurrency']) await page.locator(`[data-chart="${chart}"][data-drawn]`).waitFor();
    await page.getByLabel('15 min').check();
    await invocations.waitFor();
  }
  const logsApi = await api(node, token, '/logs?function=greeter&limit=1');
  if (logsApi.status === 404) {
    await page.getByText('No data yet: this node does not serve logs yet.').waitFor();
  } else {
    await page.getByRole('status').filter({ hasText: /^live$/ }).waitFor();
    const live = await fetch(`${node.url}/greeter/live-now`);
    assert.equal(await live.text(), 'hello /live-now');
    const requestId = live.headers.get('x-request-id') ?? '';
    const log = page.getByRole('log', { name: 'Log records' });
    await log.getByText('greeting /live-now').waitFor();
    await page.screenshot({ path: join(SHOTS, 'function.png'), fullPage: true });
    // The request id on that line opens its trace.
    await log.getByRole('button', { name: requestId }).first().click();
    await page.getByRole('heading', { name: `Trace of ${requestId}` }).waitFor();
    const traceApi = await api(node, token, `/traces/${requestId}`);
    if (traceApi.status === 200) assert.ok((await page.locator('ol.waterfall li').count()) >= 1, 'the trace shows its spans');
    await page.screenshot({ path: join(SHOTS, 'trace.png'), fullPage: true });
  }

  // Workflows: the succeeded execution's path is highlighted, Reject was not visited.
  await page.getByRole('link', { name: 'Workflows' }).click();
  await page.getByRole('link', { name: 'orders' }).click();
  await page.getByRole('link', { name: 'for-world' }).click();
  await page.getByRole('heading', { name: 'for-world', level: 1 }).waitFor();
  const visit = (name: string): Promise<string | null> => page.locator(`svg.state-graph [data-state="${name}"]`).getAttribute('data-visit');
  await page.locator('svg.state-graph').waitFor();
  assert.deepEqual(await Promise.all(['Validate', 'Greet', 'Decide', 'Done', 'Reject'].map(visit)), ['visited', 'visited', 'visited', 'visited', 'not visited']);
  assert.equal(await page.locator('[data-edge="Decide→Done"]').getAttribute('class'), 'edge taken');
  assert.equal(await page.locator('[data-edge="Decide→Reject"]').getAttribute('class'), 'edge');
  // Each visited state is a button (keyboard too) showing its input and output.
  await page.getByRole('button', { name: 'Greet (Task, visited)' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'State Greet' }).waitFor();
  assert.match((await page.locator('pre[data-io="input"]').textContent()) ?? '', /"validated": true/);
  assert.match((await page.locator('pre[data-io="output"]').textContent()) ?? '', /"hello": "world"/);
  await page.screenshot({ path: join(SHOTS, 'execution.png'), fullPage: true });

  // The failed execution ends in Reject, drawn as failed.
  await page.getByRole('link', { name: 'orders' }).click();
  await page.getByRole('link', { name: 'for-bob' }).click();
  await page.getByRole('heading', { name: 'for-bob', level: 1 }).waitFor();
  await page.locator('svg.state-graph').waitFor();
  assert.deepEqual(await Promise.all(['Decide', 'Done', 'Reject'].map(visit)), ['visited', 'not visited', 'failed']);
  await page.getByText('(failed in Reject)').waitFor();
  await page.screenshot({ path: join(SHOTS, 'execution-failed.png'), fullPage: true });

  // Queues: a message the consumer cannot process lands in the DLQ; redrive sends it back.
  assert.equal((await api(node, token, '/queues/jobs/messages', { method: 'POST', body: { body: { job: 1 } } })).status, 200);
  await page.getByRole('link', { name: 'Queues' }).click();
  const dlq = page.getByRole('row').filter({ hasText: 'jobs-dlq (dead-letter queue of jobs)' });
  await eventually(async () => {
    await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();
    return (await dlq.getByRole('cell').nth(4).textContent()) === '1' ? true : undefined;
  }, 20_000, 'one dead message in jobs-dlq');
  await page.screenshot({ path: join(SHOTS, 'queues.png'), fullPage: true });
  await page.getByRole('button', { name: 'Redrive jobs-dlq' }).click();
  await page.getByRole('status').filter({ hasText: '1 message of jobs-dlq moved back to be delivered.' }).waitFor();

  // Usage: the greeter's requests, with an estimated cost per price table.
  if ((await api(node, token, '/usage?since=1h')).status === 404) {
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByText('No data yet: this node does not report usage yet.').waitFor();
  } else {
    // Usage counters reach the store every few seconds.
    // (The DLQ's redriven message keeps failing, so the figure may still grow.)
    await eventually(async () => (await api<{ rows: Array<{ function: string; requests: number }> }>(node, token, '/usage?since=1h&by=function')).body.rows.find((r) => r.function === 'greeter' && r.requests >= 6), 20_000, 'greeter usage');
    await page.getByRole('link', { name: 'Usage' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'greeter' }) });
    await row.waitFor();
    assert.ok(Number(await row.getByRole('cell').first().textContent()) >= 6, 'the six HTTP requests (and the queue deliveries) are counted');
    assert.match((await row.textContent()) ?? '', /\$0\.0+\d/, 'an estimated cost in dollars');
    await page.screenshot({ path: join(SHOTS, 'usage.png'), fullPage: true });
  }

  // Logging out forgets the token: the login page is back.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Access token').waitFor();
});

test('the node serves the built dashboard with content types and caching; a missing build says how to build it', async (t) => {
  const state = await tempDir(t);
  const node = await startOutpost(t, ['serve', '--state', state, '--port', '0', '--quiet']);
  const redirect = await fetch(`${node.url}/_outpost`, { redirect: 'manual' });
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get('location'), '/_outpost/');
  const index = await fetch(`${node.url}/_outpost/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await index.text();
  const again = await fetch(`${node.url}/_outpost/`, { headers: { 'if-none-match': index.headers.get('etag') ?? '' } });
  assert.equal(again.status, 304, 'an unchanged index.html is revalidated, not resent');
  const script = /src="(\/_outpost\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  const style = /href="(\/_outpost\/assets\/[^"]+\.css)"/.exec(html)?.[1];
  assert.ok(script && style, html);
  for (const [path, type] of [[script, 'text/javascript; charset=utf-8'], [style, 'text/css; charset=utf-8']] as const) {
    const asset = await fetch(`${node.url}${path}`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('content-type'), type);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(asset.headers.get('content-encoding'), 'gzip', 'text assets are compressed for clients that accept it');
  }
  assert.equal((await fetch(`${node.url}/_outpost/assets/missing-1234.js`)).status, 404);
  assert.notEqual((await fetch(`${node.url}/_outpost/assets/..%2F..%2Fpackage.json`)).status, 200, 'nothing outside dist is served');
  assert.equal((await fetch(`${node.url}/_outpost/api/functions`)).status, 401, 'the API stays behind the token');

  // A checkout where the dashboard was never built.
  const empty = await tempDir(t);
  const pages = dashboardPages(join(empty, 'dist'));
  const server = createServer((req, res) => {
    void pages(req, res, 'test').then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const notBuilt = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/_outpost/`);
  assert.equal(notBuilt.status, 503);
  assert.equal(notBuilt.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(await notBuilt.text(), /The Outpost dashboard is not built[\s\S]*npm run build:dashboard/);
});
