// Asynchronous invocation end to end: Lambda InvocationType Event through the Invoke API
// (official SDK client) and `outpost invoke --async`, retries with backoff, on-success and
// on-failure destinations (queue and function), idempotency keys, and a kill -9 fault test.
// Functions record every run they see by sending an SQS message to the node's own AWS API,
// so the records are durable and independent of the worker under test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';
import type { DestinationRecord } from '../src/events/async.ts';
import type { FunctionErrorBody } from '../src/aws/lambda.ts';

/** A handler that records `{ id, fn, event, at }` in the `seen` queue, then maybe throws. */
const RECORD = `
async function record(context, event) {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
    body: JSON.stringify({ QueueUrl: endpoint + '/000000000000/seen', MessageBody: JSON.stringify({ id: context.awsRequestId, fn: context.functionName, event, at: Date.now() }) }),
  });
  if (!r.ok) throw new Error('recording failed: ' + r.status + ' ' + (await r.text()));
}
`;

const FILES: Record<string, string> = {
  'package.json': '{ "name": "async-e2e", "private": true, "type": "module" }',
  'serverless.yml': `service: at
provider:
  name: aws
  runtime: nodejs20.x
  timeout: 5
functions:
  ok:
    handler: src/ok.handler
    destinations:
      onSuccess: arn:aws:sqs:us-east-1:000000000000:ok-success
  bad:
    handler: src/bad.handler
    destinations:
      onFailure:
        type: sqs
        arn: arn:aws:sqs:us-east-1:000000000000:bad-failed
  once:
    handler: src/bad.handler
    maximumRetryAttempts: 0
    destinations:
      onFailure: catcher
  kept:
    handler: src/bad.handler
    maximumRetryAttempts: 0
  catcher:
    handler: src/ok.handler
  load:
    handler: src/load.handler
    maximumRetryAttempts: 1
    destinations:
      onFailure: arn:aws:sqs:us-east-1:000000000000:load-failed
`,
  'src/ok.mjs': `${RECORD}
export const handler = async (event, context) => {
  await record(context, event);
  return { echoed: event };
};
`,
  'src/bad.mjs': `${RECORD}
export const handler = async (event, context) => {
  await record(context, event);
  throw new TypeError('bad input ' + JSON.stringify(event));
};
`,
  'src/load.mjs': `${RECORD}
export const handler = async (event, context) => {
  await record(context, event);
  if (event.poison) throw new Error('poison ' + event.i);
  return event.i;
};
`,
};

interface Seen {
  id: string;
  fn: string;
  event: Record<string, unknown>;
  at: number;
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init);
  const text = await r.text();
  assert.ok(r.ok, `${url}: ${r.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Every message of a queue without leasing it (bodies as sent). */
async function peek<T>(node: Running, token: string, queue: string, dead?: boolean): Promise<T[]> {
  const r = await fetch(`${node.url}/_outpost/api/queues/${queue}/messages?limit=1000${dead === undefined ? '' : `&dead=${dead}`}`, { headers: { authorization: `Bearer ${token}` } });
  if (r.status === 404) return [];
  const { messages } = (await r.json()) as { messages: Array<{ body: string }> };
  return messages.map((m) => JSON.parse(m.body) as T);
}

async function queueDepth(node: Running, token: string, queue: string): Promise<number | undefined> {
  const { queues } = await json<{ queues: Array<{ name: string; stats: { visible: number; inFlight: number; delayed: number } }> }>(`${node.url}/_outpost/api/queues`, { headers: { authorization: `Bearer ${token}` } });
  const s = queues.find((q) => q.name === queue)?.stats;
  return s && s.visible + s.inFlight + s.delayed;
}

async function awsUrl(node: Running): Promise<string> {
  const m = await node.waitFor(/aws api on (http:\/\/\S+)/);
  assert.ok(m[1]);
  return m[1];
}

function lambda(t: { after(fn: () => unknown): void }, endpoint: string): LambdaClient {
  const client = new LambdaClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  t.after(() => client.destroy());
  return client;
}

const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

async function serveAndDeploy(t: { after(fn: () => unknown): void }, dir: string, state: string, baseMs: number): Promise<{ node: Running; token: string; aws: string }> {
  const node = await startOutpost(t, ['serve', '--port', '0', '--aws-port', '0', '--state', state, '--quiet'], { env: { OUTPOST_ASYNC_RETRY_BASE_MS: String(baseMs) } });
  const token = /admin token \(shown once, keep it\): (\S+)/.exec(node.stderr())?.[1] ?? '';
  const aws = await awsUrl(node);
  // The functions record into `seen`; it must exist before they run.
  await fetch(`${node.url}/_outpost/api/queues`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'seen' }) });
  const deployed = await runCli(['deploy', dir, '--to', node.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);
  return { node, token, aws };
}

describe('async invocation', () => {
  const ctx: { node?: Running; token: string; client?: LambdaClient; cleanups: Array<() => unknown> } = { token: '', cleanups: [] };
  const scope = { after: (fn: () => unknown) => void ctx.cleanups.push(fn) };
  const node = (): Running => ctx.node as Running;
  const client = (): LambdaClient => ctx.client as LambdaClient;
  const seen = (): Promise<Seen[]> => peek<Seen>(node(), ctx.token, 'seen');

  before(async () => {
    const dir = await writeProject(scope, FILES);
    const state = await tempDir(scope);
    const started = await serveAndDeploy(scope, dir, state, 100);
    ctx.node = started.node;
    ctx.token = started.token;
    ctx.client = lambda(scope, started.aws);
  });
  after(async () => {
    for (const fn of ctx.cleanups.reverse()) await fn();
  });

  test('InvocationType Event answers 202 with an empty body; the function runs; the on-success destination gets the record', async () => {
    const r = await client().send(new InvokeCommand({ FunctionName: 'ok', InvocationType: 'Event', Payload: encode({ hello: 'async' }) }));
    assert.equal(r.StatusCode, 202);
    assert.equal(r.Payload?.byteLength ?? 0, 0);
    const requestId = r.$metadata.requestId;
    assert.ok(requestId);
    const runs = await eventually(async () => {
      const s = (await seen()).filter((x) => x.id === requestId);
      return s.length > 0 ? s : undefined;
    }, 10_000, 'the function to run');
    assert.deepEqual(runs[0]?.event, { hello: 'async' });
    const records = await eventually(async () => {
      const got = await peek<DestinationRecord>(node(), ctx.token, 'ok-success');
      return got.length > 0 ? got : undefined;
    }, 10_000, 'the success record');
    assert.equal(records.length, 1);
    const rec = records[0] as DestinationRecord;
    const error = rec.responsePayload as FunctionErrorBody;
    assert.equal(rec.version, '1.0');
    assert.ok(!Number.isNaN(Date.parse(rec.timestamp)));
    assert.deepEqual(rec.requestContext, { requestId, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ok:$LATEST', condition: 'Success', approximateInvokeCount: 1 });
    assert.deepEqual(rec.requestPayload, { hello: 'async' });
    assert.deepEqual(rec.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
    assert.deepEqual(rec.responsePayload, { echoed: { hello: 'async' } });
  });

  test('a failing event is retried twice with growing delays, then the on-failure queue gets exactly one record', async () => {
    const r = await client().send(new InvokeCommand({ FunctionName: 'bad', InvocationType: 'Event', Payload: encode({ n: 1 }) }));
    assert.equal(r.StatusCode, 202);
    const requestId = r.$metadata.requestId;
    const records = await eventually(async () => {
      const got = (await peek<DestinationRecord>(node(), ctx.token, 'bad-failed')).filter((x) => x.requestContext.requestId === requestId);
      return got.length > 0 ? got : undefined;
    }, 15_000, 'the failure record');
    const runs = (await seen()).filter((x) => x.id === requestId).sort((a, b) => a.at - b.at);
    assert.equal(runs.length, 3, 'one attempt and two retries');
    const [a, b, c] = runs.map((x) => x.at) as [number, number, number];
    // Base 100 ms in this test: ~100 ms, then ~200 ms (AWS: ~1 min, then ~2 min).
    assert.ok(b - a >= 90, `first retry after ${b - a} ms`);
    assert.ok(c - b >= 190, `second retry after ${c - b} ms`);
    assert.equal(records.length, 1);
    const rec = records[0] as DestinationRecord;
    const error = rec.responsePayload as FunctionErrorBody;
    assert.equal(rec.requestContext.condition, 'RetriesExhausted');
    assert.equal(rec.requestContext.approximateInvokeCount, 3);
    assert.equal(rec.requestContext.functionArn, 'arn:aws:lambda:us-east-1:000000000000:function:bad:$LATEST');
    assert.deepEqual(rec.requestPayload, { n: 1 });
    assert.deepEqual(rec.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(error.errorType, 'TypeError');
    assert.equal(error.errorMessage, 'bad input {"n":1}');
    assert.ok(Array.isArray(error.trace));
    // Nothing more arrives later: the event is settled.
    assert.equal(await queueDepth(node(), ctx.token, '__async__bad'), 0);
  });

  test('a function as the on-failure destination is invoked asynchronously with the record; without a destination the event is kept dead', async () => {
    const r = await client().send(new InvokeCommand({ FunctionName: 'once', InvocationType: 'Event', Payload: encode({ to: 'catcher' }) }));
    const requestId = r.$metadata.requestId;
    const caught = await eventually(async () => (await seen()).find((x) => x.fn === 'catcher' && (x.event['requestContext'] as Record<string, unknown> | undefined)?.['requestId'] === requestId), 10_000, 'the catcher to run');
    assert.equal((caught.event['requestContext'] as Record<string, unknown>)['condition'], 'RetriesExhausted');
    assert.equal((caught.event['requestContext'] as Record<string, unknown>)['approximateInvokeCount'], 1);
    assert.deepEqual(caught.event['requestPayload'], { to: 'catcher' });
    assert.equal((await seen()).filter((x) => x.id === requestId).length, 1, 'maximumRetryAttempts 0: one attempt');

    const k = await client().send(new InvokeCommand({ FunctionName: 'kept', InvocationType: 'Event', Payload: encode({ keep: true }) }));
    const dead = await eventually(async () => {
      const got = await fetch(`${node().url}/_outpost/api/queues/__async__kept/messages?dead=true`, { headers: { authorization: `Bearer ${ctx.token}` } }).then((x) => x.json() as Promise<{ messages: Array<{ id: string; deadReason?: string; body: string }> }>);
      return got.messages.length > 0 ? got.messages : undefined;
    }, 10_000, 'the event to be kept dead');
    assert.equal(dead[0]?.id, k.$metadata.requestId);
    assert.match(dead[0]?.deadReason ?? '', /^RetriesExhausted: TypeError: bad input/);
    assert.deepEqual(JSON.parse(dead[0]?.body ?? '{}'), { event: { keep: true } });
  });

  test('an idempotency key suppresses a repeat within the window', async () => {
    const aws = await awsUrl(node());
    const invoke = (): Promise<Response> =>
      fetch(`${aws}/2015-03-31/functions/ok/invocations`, { method: 'POST', headers: { 'x-amz-invocation-type': 'Event', 'x-outpost-idempotency-key': 'order-42' }, body: JSON.stringify({ order: 42 }) });
    const first = await invoke();
    const second = await invoke();
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    const id = first.headers.get('x-amzn-requestid');
    assert.equal(second.headers.get('x-amzn-requestid'), id);
    assert.equal(second.headers.get('x-outpost-duplicate'), 'true');
    await eventually(async () => ((await seen()).some((x) => x.id === id) ? true : undefined), 10_000, 'the run');
    // The success record follows the run; once it is there, the one event is settled.
    await eventually(async () => ((await peek<DestinationRecord>(node(), ctx.token, 'ok-success')).some((x) => x.requestContext.requestId === id) ? true : undefined), 10_000, 'the success record');
    assert.equal((await seen()).filter((x) => x.event['order'] === 42).length, 1);
  });

  test('outpost invoke --async queues through the control API', async () => {
    const r = await runCli(['invoke', 'ok', '--async', '--event', '{"via":"cli"}', '--to', node().url, '--token', ctx.token, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { requestId: string; duplicate: boolean; function: string };
    assert.equal(out.function, 'ok');
    assert.equal(out.duplicate, false);
    const run = await eventually(async () => (await seen()).find((x) => x.id === out.requestId), 10_000, 'the run');
    assert.deepEqual(run.event, { via: 'cli' });
    const missing = await runCli(['invoke', 'nope', '--async', '--event', '{}', '--to', node().url, '--token', ctx.token]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no function named nope/);
  });

  test('Event invocations of unknown functions and oversized payloads answer as Lambda does', async () => {
    await assert.rejects(client().send(new InvokeCommand({ FunctionName: 'nope', InvocationType: 'Event', Payload: encode({}) })), { name: 'ResourceNotFoundException' });
    await assert.rejects(client().send(new InvokeCommand({ FunctionName: 'ok', InvocationType: 'Event', Payload: new Uint8Array(1024 * 1024 + 10).fill(0x20) })), { name: 'RequestTooLargeException' });
  });
});

test('fault: kill -9 while 500 async invocations are processed and retried; every accepted one runs, duplicates are only unfinished work', async (t) => {
  const dir = await writeProject(t, FILES);
  const state = await tempDir(t);
  const first = await serveAndDeploy(t, dir, state, 200);
  const client = lambda(t, first.aws);
  const TOTAL = 500;
  const accepted = new Map<string, { i: number; poison: boolean }>();
  for (let i = 0; i < TOTAL; i += 25) {
    await Promise.all(
      Array.from({ length: 25 }, async (_, j) => {
        const n = i + j;
        const poison = n % 50 === 7;
        const r = await client.send(new InvokeCommand({ FunctionName: 'load', InvocationType: 'Event', Payload: encode({ i: n, poison }) }));
        assert.equal(r.StatusCode, 202);
        accepted.set(r.$metadata.requestId ?? '', { i: n, poison });
      }),
    );
  }
  assert.equal(accepted.size, TOTAL);
  // Kill once some work has run but much is still waiting or being retried.
  const atKill = await eventually(async () => {
    const s = (await peek<Seen>(first.node, first.token, 'seen')).filter((x) => x.fn === 'load');
    return s.length >= 100 ? s.length : undefined;
  }, 30_000, 'processing to get going');
  first.node.proc.kill('SIGKILL');
  await new Promise((resolve) => first.node.proc.once('exit', resolve));

  const again = await startOutpost(t, ['serve', '--port', '0', '--aws-port', '0', '--state', state, '--quiet'], { env: { OUTPOST_ASYNC_RETRY_BASE_MS: '200' } });
  const token = first.token;
  const poisonCount = [...accepted.values()].filter((a) => a.poison).length;
  await eventually(async () => {
    const depth = await queueDepth(again, token, '__async__load');
    const failed = await peek<unknown>(again, token, 'load-failed');
    return depth === 0 && failed.length >= poisonCount ? true : undefined;
  }, 90_000, 'every async invocation to settle after the restart');

  const runs = (await peek<Seen>(again, token, 'seen')).filter((x) => x.fn === 'load');
  assert.ok(runs.length < 1000, 'every record was read');
  const byId = new Map<string, number>();
  for (const r of runs) byId.set(r.id, (byId.get(r.id) ?? 0) + 1);
  const never = [...accepted.keys()].filter((id) => !byId.has(id));
  assert.deepEqual(never, [], 'every accepted (202) invocation ran at least once');
  for (const id of byId.keys()) assert.ok(accepted.has(id), `a run of ${id}, which was never accepted`);
  // Good events should run once; poison ones twice (maximumRetryAttempts 1). More runs are
  // redeliveries of invocations in flight at the kill: at most the worker's concurrency (10).
  const extra = [...byId].map(([id, n]) => n - ((accepted.get(id)?.poison ?? false) ? 2 : 1)).filter((n) => n > 0);
  const duplicates = extra.reduce((a, b) => a + b, 0);
  assert.ok(extra.length <= 10, `${extra.length} invocations ran more often than their attempts: more than were in flight at the kill`);
  const failed = await peek<DestinationRecord>(again, token, 'load-failed');
  const failedIds = failed.map((f) => f.requestContext.requestId).sort();
  const poisonIds = [...accepted].filter(([, a]) => a.poison).map(([id]) => id).sort();
  assert.deepEqual(failedIds, poisonIds, 'the failure destination holds exactly one record per poison event');
  t.diagnostic(`accepted ${TOTAL}; killed after ${atKill} runs; ${runs.length} runs in all; ${duplicates} extra runs of ${extra.length} invocations in flight at the kill`);
});
