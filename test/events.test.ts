// End-to-end tests of the events capability: queue consumers (Workers and Lambda), the
// SQS-compatible API with the official SDK, cron ticks across restarts, and a kill -9 fault
// test. Real `outpost` processes on loopback, temp state dirs, polling with deadlines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

function sqs(t: { after(fn: () => unknown): void }, endpoint: string): SQSClient {
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  t.after(() => client.destroy());
  return client;
}

async function awsUrl(node: Running): Promise<string> {
  const m = await node.waitFor(/aws api on (http:\/\/\S+)/);
  assert.ok(m[1], 'the node serves the AWS API');
  return m[1];
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init);
  const text = await r.text();
  assert.ok(r.ok, `${url}: ${r.status} ${text}`);
  return JSON.parse(text) as T;
}

interface QueueRow {
  name: string;
  stats: { visible: number; inFlight: number; delayed: number; dead: number };
}

async function queueStats(base: string, name: string, token?: string): Promise<QueueRow['stats'] | undefined> {
  const { queues } = await json<{ queues: QueueRow[] }>(`${base}/_outpost/api/queues`, token ? { headers: { authorization: `Bearer ${token}` } } : undefined);
  return queues.find((q) => q.name === name)?.stats;
}

/** A Worker that logs every delivery to KV as `<queue>|<n>|<attempt>` and settles by the body's kind. */
const CONSUMER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/send') {
      const { queue, bodies } = await request.json();
      await env[queue].sendBatch(bodies.map((body) => ({ body })));
      return new Response('sent');
    }
    if (url.pathname === '/send-types') {
      await env.TYPES.send('plain text', { contentType: 'text' });
      await env.TYPES.send(new Uint8Array([1, 2, 3]), { contentType: 'bytes' });
      await env.TYPES.send({ when: new Date(0), map: new Map([['k', 1]]) }, { contentType: 'v8' });
      await env.TYPES.send({ json: true });
      const errors = [];
      for (const attempt of [
        () => env.TYPES.send(undefined),
        () => env.TYPES.send(42, { contentType: 'text' }),
        () => env.TYPES.sendBatch(Array.from({ length: 101 }, () => ({ body: 1 }))),
        () => env.TYPES.sendBatch([{ body: 'x'.repeat(100000) }, { body: 'y'.repeat(100000) }, { body: 'z'.repeat(100000) }]),
        () => env.TYPES.send('x'.repeat(130000), { contentType: 'text' }),
        () => env.TYPES.send(() => 1, { contentType: 'v8' }),
      ]) {
        try { await attempt(); errors.push('no error'); } catch (e) { errors.push(e.name + ': ' + e.message); }
      }
      return Response.json(errors);
    }
    if (url.pathname === '/log') {
      const keys = [];
      let cursor;
      for (;;) {
        const page = await env.LOG.list({ cursor, limit: 1000 });
        keys.push(...page.keys.map((k) => k.name));
        if (page.list_complete) break;
        cursor = page.cursor;
      }
      const values = {};
      if (url.searchParams.get('values')) for (const k of keys) values[k] = await env.LOG.get(k);
      return Response.json({ keys, values });
    }
    return new Response('not found', { status: 404 });
  },
  async queue(batch, env) {
    let throwIt = false;
    for (const m of batch.messages) {
      const body = m.body;
      const tag = typeof body === 'object' && body !== null && 'kind' in body ? body.kind + ':' + body.n : 'typed:' + m.id;
      await env.LOG.put(batch.queue + '|' + tag + '|' + m.attempts, JSON.stringify({ id: m.id, t: m.timestamp instanceof Date, body: body instanceof ArrayBuffer ? Array.from(new Uint8Array(body)) : body instanceof Map || (body && body.map instanceof Map) ? { date: body.when instanceof Date, map: [...body.map] } : body }));
      if (tag.startsWith('typed')) continue;
      if (body.kind === 'ok') m.ack();
      else if (body.kind === 'retry-once' && m.attempts === 1) m.retry();
      else if (body.kind === 'poison') m.retry();
      else if (body.kind === 'throw' && m.attempts === 1) throwIt = true;
      else if (body.kind === 'all' && m.attempts === 1) batch.retryAll();
    }
    if (throwIt) throw new Error('boom');
  },
};`;

const CONSUMER_TOML = `name = "consumer"
main = "src/index.ts"
compatibility_date = "2025-06-01"

[[kv_namespaces]]
binding = "LOG"
id = "log"

[[queues.producers]]
binding = "WORK"
queue = "work"

[[queues.producers]]
binding = "NODLQ"
queue = "nodlq"

[[queues.producers]]
binding = "TYPES"
queue = "types"

[[queues.consumers]]
queue = "work"
max_batch_size = 10
max_batch_timeout = 0
max_retries = 2
dead_letter_queue = "work-dlq"

[[queues.consumers]]
queue = "nodlq"
max_batch_timeout = 0
max_retries = 1

[[queues.consumers]]
queue = "types"
max_batch_timeout = 0

[[queues.consumers]]
queue = "from-sqs"
max_batch_timeout = 0
`;

test('Workers queue consumer: ack, retry, retryAll, a throwing handler, attempts, DLQ and no-DLQ dead messages', async (t) => {
  const dir = await writeProject(t, { 'wrangler.toml': CONSUMER_TOML, 'src/index.ts': CONSUMER });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t), '--quiet']);
  const bodies = [
    ...[1, 2, 3].map((n) => ({ kind: 'ok', n })),
    { kind: 'retry-once', n: 1 },
    { kind: 'poison', n: 1 },
    { kind: 'poison', n: 2 },
    { kind: 'throw', n: 1 },
    { kind: 'all', n: 1 },
  ];
  // Send one at a time so each batch holds one kind (throw and retryAll affect their whole batch).
  for (const body of bodies) await json(`${node.url}/send`, { method: 'POST', body: JSON.stringify({ queue: 'WORK', bodies: [body] }) }).catch(() => undefined);
  await fetch(`${node.url}/send`, { method: 'POST', body: JSON.stringify({ queue: 'NODLQ', bodies: [{ kind: 'poison', n: 9 }, { kind: 'ok', n: 9 }] }) });

  const dlq = await eventually(async () => {
    const { messages } = await json<{ messages: Array<{ id: string; body: string; sourceQueue?: string; deadReason?: string }> }>(`${node.url}/_outpost/api/queues/work-dlq/messages?limit=100`);
    const work = await queueStats(node.url, 'work');
    return messages.length === 2 && work && work.visible + work.inFlight + work.delayed === 0 ? messages : undefined;
  }, 20_000, 'two poison messages in work-dlq and an empty work queue');
  assert.deepEqual(dlq.map((m) => JSON.parse(m.body).n).sort(), [1, 2]);
  assert.ok(dlq.every((m) => m.sourceQueue === 'work'));

  const { keys } = await json<{ keys: string[] }>(`${node.url}/log`);
  const work = keys.filter((k) => k.startsWith('work|')).sort();
  assert.deepEqual(work, [
    'work|all:1|1',
    'work|all:1|2',
    'work|ok:1|1',
    'work|ok:2|1',
    'work|ok:3|1',
    'work|poison:1|1',
    'work|poison:1|2',
    'work|poison:1|3',
    'work|poison:2|1',
    'work|poison:2|2',
    'work|poison:2|3',
    'work|retry-once:1|1',
    'work|retry-once:1|2',
    'work|throw:1|1',
    'work|throw:1|2',
  ]);

  // Without a dead-letter queue, the poison message stays in its queue as dead and is reported.
  const nodlq = await eventually(async () => {
    const s = await queueStats(node.url, 'nodlq');
    return s && s.dead === 1 && s.visible + s.inFlight + s.delayed === 0 ? s : undefined;
  }, 20_000, 'one dead message kept in nodlq');
  assert.equal(nodlq.dead, 1);
  const listed = await runCli(['queues', 'list', '--to', node.url]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /nodlq\s+0\s+0\s+0\s+1/);
  assert.match(listed.stdout, /nodlq holds 1 dead message/);
  const peek = await runCli(['queues', 'peek', 'nodlq', '--dead', '--json', '--to', node.url]);
  const dead = JSON.parse(peek.stdout) as Array<{ body: string; deadReason: string }>;
  assert.equal(JSON.parse(dead[0]?.body ?? '{}').kind, 'poison');
  // Redrive gives it two more deliveries (max_retries 1), after which it is dead again.
  const redrive = await runCli(['queues', 'dlq', 'redrive', 'nodlq', '--to', node.url]);
  assert.match(redrive.stdout, /moved 1 message/);
  await eventually(async () => {
    const { keys: k } = await json<{ keys: string[] }>(`${node.url}/log`);
    const s = await queueStats(node.url, 'nodlq');
    return k.filter((x) => x.startsWith('nodlq|poison')).length === 2 && s?.dead === 1 ? true : undefined;
  }, 20_000, 'the redriven message to die again');
});

test('queue producer: content types, limits and their Cloudflare error messages', async (t) => {
  const dir = await writeProject(t, { 'wrangler.toml': CONSUMER_TOML, 'src/index.ts': CONSUMER });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t), '--quiet']);
  const errors = await json<string[]>(`${node.url}/send-types`);
  assert.equal(errors[0], 'TypeError: Message body cannot be undefined');
  assert.equal(errors[1], 'TypeError: Content Type "text" requires a value of type string, but received: number');
  assert.equal(errors[2], 'Error: Queue sendBatch failed: batch message count of 101 exceeds limit of 100');
  assert.match(errors[3] ?? '', /^Error: Queue sendBatch failed: batch size of \d+ bytes exceeds limit of 256000$/);
  assert.equal(errors[4], 'Error: Queue send failed: message length of 130000 bytes exceeds limit of 128000');
  assert.match(errors[5] ?? '', /^DataCloneError/);
  const { values } = await eventually(async () => {
    const r = await json<{ keys: string[]; values: Record<string, string> }>(`${node.url}/log?values=1`);
    return r.keys.filter((k) => k.startsWith('types|')).length === 4 ? r : undefined;
  }, 15_000, 'four typed messages consumed');
  const bodies = Object.entries(values).filter(([k]) => k.startsWith('types|')).map(([, v]) => JSON.parse(v) as { body: unknown; t: boolean });
  assert.ok(bodies.every((b) => b.t), 'message.timestamp is a Date');
  const seen = bodies.map((b) => JSON.stringify(b.body)).sort();
  assert.deepEqual(seen, ['"plain text"', '[1,2,3]', '{"date":true,"map":[["k",1]]}', '{"json":true}'].sort());
});

test('SQS API with @aws-sdk/client-sqs: queues, batches, long polling, visibility, attributes, redrive, errors; API-fed queue triggers its consumer', async (t) => {
  const dir = await writeProject(t, { 'wrangler.toml': CONSUMER_TOML, 'src/index.ts': CONSUMER });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t), '--quiet']);
  const aws = await awsUrl(node);
  const client = sqs(t, aws);

  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'sdk-q', Attributes: { VisibilityTimeout: '30' } }));
  assert.equal(QueueUrl, `${aws}/000000000000/sdk-q`);
  assert.equal((await client.send(new GetQueueUrlCommand({ QueueName: 'sdk-q' }))).QueueUrl, QueueUrl);
  assert.ok((await client.send(new ListQueuesCommand({ QueueNamePrefix: 'sdk' }))).QueueUrls?.includes(QueueUrl ?? ''));
  await assert.rejects(client.send(new GetQueueUrlCommand({ QueueName: 'nope' })), (e: Error & { Code?: string }) => {
    assert.equal(e.name, 'QueueDoesNotExist');
    assert.equal(e.Code, 'AWS.SimpleQueueService.NonExistentQueue');
    return true;
  });
  await assert.rejects(client.send(new SendMessageCommand({ QueueUrl: `${aws}/000000000000/nope`, MessageBody: 'x' })), { name: 'QueueDoesNotExist' });

  // SendMessage with attributes (the SDK checks both MD5s), then SendMessageBatch.
  const sent = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello', MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' }, n: { DataType: 'Number', StringValue: '7' } } }));
  assert.ok(sent.MessageId && sent.MD5OfMessageAttributes);
  const batch = await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body-${i}` })) }));
  assert.equal(batch.Successful?.length, 10);
  await assert.rejects(client.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `x${i}`, MessageBody: 'x' })) })), { name: 'TooManyEntriesInBatchRequest' });
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
  assert.equal(attrs.Attributes?.['ApproximateNumberOfMessages'], '11');
  assert.equal(attrs.Attributes?.['QueueArn'], 'arn:aws:sqs:us-east-1:000000000000:sdk-q');

  const first = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }));
  assert.equal(first.Messages?.length, 10);
  const hello = first.Messages?.find((m) => m.Body === 'hello');
  assert.equal(hello?.MessageAttributes?.['kind']?.StringValue, 'greeting');
  assert.equal(hello?.Attributes?.['ApproximateReceiveCount'], '1');
  assert.ok(Number(hello?.Attributes?.['SentTimestamp']) > 0);
  const inflight = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  assert.deepEqual(inflight.Attributes, { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '10' });
  await client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: (first.Messages ?? []).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
  const last = await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
  assert.equal(last.Messages?.length, 1);
  await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: last.Messages?.[0]?.ReceiptHandle ?? '' }));

  // Long polling: an empty queue answers after WaitTimeSeconds; a send wakes a waiting receive.
  const empty = performance.now();
  assert.equal((await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))).Messages, undefined);
  assert.ok(performance.now() - empty >= 900, 'the receive waited');
  const started = performance.now();
  const waiting = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
  await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake' }));
  const woke = await waiting;
  assert.equal(woke.Messages?.[0]?.Body, 'wake');
  assert.ok(performance.now() - started < 5000, 'the send woke the long poll');

  // Visibility timeout: an unacknowledged message comes back after it, counted.
  const receipt = woke.Messages?.[0]?.ReceiptHandle ?? '';
  await client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: receipt, VisibilityTimeout: 1 }));
  assert.equal((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
  const back = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, VisibilityTimeout: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
  assert.equal(back.Messages?.[0]?.Body, 'wake');
  assert.equal(back.Messages?.[0]?.Attributes?.['ApproximateReceiveCount'], '2');

  // RedrivePolicy: after maxReceiveCount receives the message moves to the DLQ.
  const dlq = await client.send(new CreateQueueCommand({ QueueName: 'sdk-dlq' }));
  await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:sdk-dlq', maxReceiveCount: 2 }) } }));
  const policy = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['RedrivePolicy'] }));
  assert.deepEqual(JSON.parse(policy.Attributes?.['RedrivePolicy'] ?? '{}'), { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:sdk-dlq', maxReceiveCount: 2 });
  // The third receive (once the lease runs out) moves it instead of returning it, as SQS does.
  const third = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }));
  const moved = await client.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['All'] }));
  assert.equal((await third).Messages, undefined);
  assert.equal(moved.Messages?.[0]?.Body, 'wake');
  assert.equal(moved.Messages?.[0]?.Attributes?.['DeadLetterQueueSourceArn'], 'arn:aws:sqs:us-east-1:000000000000:sdk-q');

  await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'purge me' }));
  await client.send(new PurgeQueueCommand({ QueueUrl }));
  assert.equal((await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.['ApproximateNumberOfMessages'], '0');
  await client.send(new DeleteQueueCommand({ QueueUrl }));
  await assert.rejects(client.send(new GetQueueUrlCommand({ QueueName: 'sdk-q' })), { name: 'QueueDoesNotExist' });

  // A queue fed through the API triggers the Worker that consumes it.
  const fromSqs = await client.send(new CreateQueueCommand({ QueueName: 'from-sqs' }));
  await client.send(new SendMessageCommand({ QueueUrl: fromSqs.QueueUrl, MessageBody: 'via the SQS API' }));
  await eventually(async () => {
    const { keys } = await json<{ keys: string[] }>(`${node.url}/log`);
    return keys.some((k) => k.startsWith('from-sqs|typed:') && k.endsWith('|1')) ? true : undefined;
  }, 10_000, 'the Worker to consume the API-fed message');
});

test('Lambda SQS consumer: the SQS event shape and batchItemFailures partial failure', async (t) => {
  const dir = await writeProject(t, {
    'package.json': '{ "name": "lambda-sqs", "private": true, "type": "module" }',
    'serverless.yml': `service: ls
provider:
  name: aws
  runtime: nodejs20.x
functions:
  orders:
    handler: src/orders.handler
    events:
      - sqs:
          arn: arn:aws:sqs:us-east-1:000000000000:orders
          batchSize: 10
          functionResponseType: ReportBatchItemFailures
`,
    'src/orders.js': `export const handler = async (event) => {
  const batchItemFailures = [];
  for (const r of event.Records) {
    const body = JSON.parse(r.body);
    console.log('SEEN ' + JSON.stringify({ n: body.n, id: r.messageId, count: r.attributes.ApproximateReceiveCount, source: r.eventSource, arn: r.eventSourceARN, region: r.awsRegion, receipt: typeof r.receiptHandle, md5: r.md5OfBody.length, attr: r.messageAttributes.k?.stringValue ?? null }));
    if (body.fail && r.attributes.ApproximateReceiveCount === '1') batchItemFailures.push({ itemIdentifier: r.messageId });
  }
  return { batchItemFailures };
};
`,
  });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t)]);
  const client = sqs(t, await awsUrl(node));
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'orders' }));
  await client.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: [1, 2, 3, 4, 5].map((n) => ({ Id: `e${n}`, MessageBody: JSON.stringify({ n, fail: n % 2 === 0 }), MessageAttributes: { k: { DataType: 'String', StringValue: `v${n}` } } })),
    }),
  );
  const seen = await eventually(() => {
    const lines = [...node.stdout().matchAll(/SEEN (\{.*\})/g)].map((m) => JSON.parse(m[1] ?? '{}') as { n: number; count: string; source: string; arn: string; region: string; receipt: string; md5: number; attr: string });
    return lines.length >= 7 ? lines : undefined;
  }, 15_000, 'seven deliveries (five, then the two failures again)');
  assert.deepEqual(seen.filter((s) => s.count === '1').map((s) => s.n).sort(), [1, 2, 3, 4, 5]);
  assert.deepEqual(seen.filter((s) => s.count === '2').map((s) => s.n).sort(), [2, 4]);
  const one = seen[0];
  assert.equal(one?.source, 'aws:sqs');
  assert.equal(one?.arn, 'arn:aws:sqs:us-east-1:000000000000:orders');
  assert.equal(one?.region, 'us-east-1');
  assert.equal(one?.receipt, 'string');
  assert.equal(one?.md5, 32);
  assert.match(one?.attr ?? '', /^v\d$/);
  await eventually(async () => {
    const a = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    return a.Attributes?.['ApproximateNumberOfMessages'] === '0' && a.Attributes['ApproximateNumberOfMessagesNotVisible'] === '0' ? true : undefined;
  }, 10_000, 'the queue to drain');
});

const TICKER = `
export default {
  async fetch(request, env) {
    const keys = (await env.LOG.list({ prefix: 'tick:' })).keys.map((k) => k.name);
    const out = {};
    for (const k of keys) out[k] = Number(await env.LOG.get(k));
    return Response.json(out);
  },
  async scheduled(controller, env) {
    const key = 'tick:' + controller.scheduledTime;
    await env.LOG.put(key, String(Number((await env.LOG.get(key)) ?? 0) + 1));
  },
};`;

test('cron: an every-second schedule fires, and a restart on the same state never fires a tick twice', async (t) => {
  const dir = await writeProject(t, {
    'wrangler.toml': `name = "ticker"\nmain = "src/index.ts"\n[triggers]\ncrons = ["* * * * * *"]\n[[kv_namespaces]]\nbinding = "LOG"\nid = "log"\n`,
    'src/index.ts': TICKER,
  });
  const state = await tempDir(t);
  const run = async (): Promise<Running> => startOutpost(t, ['dev', dir, '--port', '0', '--state', state, '--quiet']);
  const ticksOf = async (node: Running): Promise<Record<string, number>> => json<Record<string, number>>(`${node.url}/`);

  const first = await run();
  const before = await eventually(async () => {
    const ticks = await ticksOf(first);
    return Object.keys(ticks).length >= 2 ? ticks : undefined;
  }, 10_000, 'two ticks');
  await first.stop('SIGTERM');
  const second = await run();
  const after = await eventually(async () => {
    const ticks = await ticksOf(second);
    return Object.keys(ticks).length >= Object.keys(before).length + 2 ? ticks : undefined;
  }, 10_000, 'two more ticks after the restart');
  await second.stop('SIGTERM');
  for (const [tick, count] of Object.entries(after)) assert.equal(count, 1, `${tick} ran ${count} times`);
  for (const tick of Object.keys(after)) assert.equal(Number(tick.slice(5)) % 1000, 0, 'scheduledTime is the whole-second tick');
});

test('cron: /__scheduled and /cdn-cgi/handler/scheduled in dev, and outpost trigger cron', async (t) => {
  const dir = await writeProject(t, {
    'wrangler.toml': `name = "ticker"\nmain = "src/index.ts"\n[triggers]\ncrons = ["0 0 1 1 *"]\n[[kv_namespaces]]\nbinding = "LOG"\nid = "log"\n`,
    'src/index.ts': TICKER,
  });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const a = await fetch(`${node.url}/__scheduled?cron=0+0+1+1+*`);
  assert.equal(a.status, 200);
  assert.equal(await a.text(), 'Ran scheduled event');
  const b = await fetch(`${node.url}/cdn-cgi/handler/scheduled?cron=0+0+1+1+*&time=1700000000000`);
  assert.equal(b.status, 200);
  const c = await runCli(['trigger', 'cron', 'ticker', '--to', node.url, '--json']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((JSON.parse(c.stdout) as { cron: string }).cron, '0 0 1 1 *');
  const ticks = await json<Record<string, number>>(`${node.url}/`);
  assert.equal(ticks['tick:1700000000000'], 1);
  assert.equal(Object.keys(ticks).length, 3);
});

test('fault: kill -9 while 10,000 queued messages are consumed loses nothing acknowledged; the DLQ holds exactly the poison messages', async (t) => {
  const dir = await writeProject(t, {
    'wrangler.toml': `name = "load"
main = "src/index.ts"
[[kv_namespaces]]
binding = "SEEN"
id = "seen"
[[queues.consumers]]
queue = "load"
max_batch_size = 100
max_batch_timeout = 0
max_retries = 2
dead_letter_queue = "load-dlq"
max_concurrency = 4
visibility_timeout_ms = 3000
`,
    'src/index.ts': `
export default {
  async fetch(request, env) {
    const names = [];
    let cursor;
    for (;;) {
      const page = await env.SEEN.list({ cursor, limit: 1000 });
      names.push(...page.keys.map((k) => k.name));
      if (page.list_complete) break;
      cursor = page.cursor;
    }
    return Response.json(names);
  },
  async queue(batch, env) {
    await Promise.all(batch.messages.map((m) => env.SEEN.put(m.body + ':' + m.attempts, m.id)));
    for (const m of batch.messages) {
      if (Number(m.body) % 1000 === 7) m.retry();
      else m.ack();
    }
  },
};`,
  });
  const state = await tempDir(t);
  const serve = async (): Promise<Running> => startOutpost(t, ['serve', '--port', '0', '--aws-port', '0', '--state', state, '--quiet']);
  const node = await serve();
  const token = /admin token \(shown once, keep it\): (\S+)/.exec(node.stderr())?.[1] ?? '';
  const client = sqs(t, await awsUrl(node));
  // The queue fills first and the consumer is deployed after, so the kill lands mid-consumption.
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'load' }));

  const TOTAL = 10_000;
  const acknowledged = new Set<number>();
  const started = performance.now();
  for (let i = 0; i < TOTAL; i += 100) {
    // Ten SendMessageBatch calls of ten in flight at once.
    await Promise.all(
      Array.from({ length: 10 }, async (_, j) => {
        const base = i + j * 10;
        const r = await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: 10 }, (_, k) => ({ Id: `e${k}`, MessageBody: String(base + k) })) }));
        assert.equal(r.Successful?.length, 10);
        for (let k = 0; k < 10; k++) acknowledged.add(base + k);
      }),
    );
  }
  const sendMs = performance.now() - started;
  const deployed = await runCli(['deploy', dir, '--to', node.url, '--token', token]);
  assert.equal(deployed.code, 0, deployed.stderr);

  // Kill the node mid-consumption: some batches are acknowledged, some in flight, most waiting.
  const atKill = await eventually(async () => {
    const s = await queueStats(node.url, 'load', token);
    return s && s.visible < TOTAL * 0.7 ? s : undefined;
  }, 30_000, 'consumption to get going');
  node.proc.kill('SIGKILL');
  assert.ok(atKill.visible > 0, 'killed before the queue drained');
  await new Promise((resolve) => node.proc.once('exit', resolve));

  const again = await serve();
  const done = await eventually(async () => {
    const s = await queueStats(again.url, 'load', token);
    const d = await queueStats(again.url, 'load-dlq', token);
    return s && d && s.visible + s.inFlight + s.delayed === 0 && d.visible === 10 ? true : undefined;
  }, 40_000, 'the queue to drain after the restart');
  assert.ok(done);
  const seen = await json<string[]>(`${again.url}/load/`);
  const deliveries = new Map<number, number>();
  for (const key of seen) {
    const n = Number(key.split(':')[0]);
    deliveries.set(n, (deliveries.get(n) ?? 0) + 1);
  }
  const missing = [...acknowledged].filter((n) => !deliveries.has(n));
  assert.deepEqual(missing, [], 'every acknowledged send was delivered at least once');
  const poison = [...acknowledged].filter((n) => n % 1000 === 7);
  // A lease taken when the node died counts as an attempt even if the function never ran, so a
  // poison message shows 1–3 recorded deliveries, never more than max_retries + 1.
  const attemptsOf = (n: number): number[] => seen.filter((k) => k.startsWith(`${n}:`)).map((k) => Number(k.split(':')[1]));
  for (const n of poison) assert.ok(attemptsOf(n).length >= 1 && Math.max(...attemptsOf(n)) <= 3, `poison ${n}: attempts ${attemptsOf(n).join(',')}`);
  const { messages } = await json<{ messages: Array<{ body: string }> }>(`${again.url}/_outpost/api/queues/load-dlq/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(messages.map((m) => Number(m.body)).sort((a, b) => a - b), poison, 'the DLQ holds exactly the poison messages');
  const duplicates = [...deliveries].filter(([n, count]) => n % 1000 !== 7 && count > 1);
  // A duplicate is a redelivery of a batch that was in flight when the node died: there are at
  // most max_concurrency batches of them, and each was delivered again with a higher attempt.
  assert.ok(duplicates.length <= 4 * 100, `${duplicates.length} duplicates: more than the batches in flight at the kill`);
  for (const [n] of duplicates) assert.ok(attemptsOf(n).every((a) => a <= 2), `${n}: attempts ${attemptsOf(n).join(',')}`);
  t.diagnostic(`sent ${TOTAL} in ${Math.round(sendMs)} ms; killed with ${atKill.visible} waiting and ${atKill.inFlight} in flight; ${duplicates.length} messages were delivered twice (in flight at the kill), ${poison.length} poison messages dead-lettered`);
});
