// Object change events end to end: writes through the S3 API (official SDK client) invoke
// serverless.yml `s3`-triggered Lambdas with S3 event notifications — Put, Copy,
// CompleteMultipartUpload, DeleteObjects — with the event type, prefix and suffix filters
// applied; and an R2 put from a Worker reaches a Workers queue consumer as Cloudflare's R2 event
// notification message. Lambdas record what they receive by sending an SQS message to the
// node's own AWS API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';
import type { R2EventMessage, S3EventRecord } from '../src/events/object-changes.ts';

const RECORD = `
export const handler = async (event, context) => {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
    body: JSON.stringify({ QueueUrl: endpoint + '/000000000000/seen', MessageBody: JSON.stringify({ fn: context.functionName, event }) }),
  });
  if (!r.ok) throw new Error('recording failed: ' + r.status + ' ' + (await r.text()));
};
`;

interface Seen {
  fn: string;
  event: { Records: S3EventRecord[] };
}

async function peek<T>(node: Running, queue: string): Promise<T[]> {
  const r = await fetch(`${node.url}/_outpost/api/queues/${queue}/messages?limit=1000`);
  if (r.status === 404) return [];
  const text = await r.text();
  assert.equal(r.status, 200, text);
  const { messages } = JSON.parse(text) as { messages: Array<{ body: string }> };
  return messages.map((m) => JSON.parse(m.body) as T);
}

test('S3 API writes invoke s3-triggered Lambdas with S3 event notifications, filtered', async (t) => {
  const dir = await writeProject(t, {
    'package.json': '{ "name": "object-events", "private": true, "type": "module" }',
    'serverless.yml': `service: oe
provider:
  name: aws
  runtime: nodejs20.x
  region: eu-west-1
  timeout: 5
functions:
  images:
    handler: src/record.handler
    events:
      - s3:
          bucket: uploads
          event: s3:ObjectCreated:*
          rules:
            - prefix: images/
            - suffix: .jpg
  removed:
    handler: src/record.handler
    events:
      - s3:
          bucket: uploads
          event: s3:ObjectRemoved:*
`,
    'src/record.mjs': RECORD,
  });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', await tempDir(t), '--quiet']);
  const aws = (await node.waitFor(/aws api on (http:\/\/[\d.]+:\d+)/))[1] as string;
  const created = await fetch(`${node.url}/_outpost/api/queues`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'seen' }) });
  assert.ok(created.ok, await created.text());
  const s3 = new S3Client({ endpoint: aws, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  t.after(() => s3.destroy());
  const seen = (): Promise<Seen[]> => peek<Seen>(node, 'seen');
  const records = async (fn: string): Promise<S3EventRecord[]> => (await seen()).filter((s) => s.fn === fn).flatMap((s) => s.event.Records).sort((a, b) => a.s3.object.sequencer.localeCompare(b.s3.object.sequencer));

  // The bucket is created for the trigger, as serverless would.
  const put = await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'images/a b.jpg', Body: 'hello' }));
  // Outside the prefix, outside the suffix: nothing. The later matching events arriving alone prove it.
  await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'other/x.jpg', Body: 'x' }));
  await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'images/x.png', Body: 'x' }));
  await s3.send(new CopyObjectCommand({ Bucket: 'uploads', Key: 'images/copy.jpg', CopySource: 'uploads/images/a%20b.jpg' }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: 'images/big.jpg' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: 'uploads', Key: 'images/big.jpg', UploadId: up.UploadId, PartNumber: 1, Body: 'one part' }));
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'uploads', Key: 'images/big.jpg', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));

  const created3 = await eventually(async () => {
    const r = await records('images');
    return r.length >= 3 ? r : undefined;
  }, 15_000, 'three ObjectCreated records');
  assert.deepEqual(created3.map((r) => [r.eventName, r.s3.object.key]), [
    ['ObjectCreated:Put', 'images/a+b.jpg'],
    ['ObjectCreated:Copy', 'images/copy.jpg'],
    ['ObjectCreated:CompleteMultipartUpload', 'images/big.jpg'],
  ]);
  const [first, , multi] = created3 as [S3EventRecord, S3EventRecord, S3EventRecord];
  assert.equal(first.eventVersion, '2.1');
  assert.equal(first.eventSource, 'aws:s3');
  assert.equal(first.awsRegion, 'eu-west-1');
  assert.ok(!Number.isNaN(Date.parse(first.eventTime)));
  assert.equal(first.s3.s3SchemaVersion, '1.0');
  assert.deepEqual(first.s3.bucket, { name: 'uploads', ownerIdentity: { principalId: '000000000000' }, arn: 'arn:aws:s3:::uploads' });
  assert.equal(first.s3.object.size, 5);
  assert.equal(first.s3.object.eTag, put.ETag?.replaceAll('"', ''));
  assert.equal(multi.s3.object.eTag, done.ETag?.replaceAll('"', ''));
  assert.equal(multi.s3.object.size, 8);
  // One record per invocation, as S3 sends them.
  assert.ok((await seen()).every((s) => s.event.Records.length === 1));

  await s3.send(new DeleteObjectsCommand({ Bucket: 'uploads', Delete: { Objects: [{ Key: 'images/a b.jpg' }, { Key: 'other/x.jpg' }, { Key: 'never-existed' }] } }));
  const removed = await eventually(async () => {
    const r = await records('removed');
    return r.length >= 2 ? r : undefined;
  }, 15_000, 'two ObjectRemoved records');
  assert.deepEqual(removed.map((r) => [r.eventName, r.s3.object.key]), [['ObjectRemoved:Delete', 'images/a+b.jpg'], ['ObjectRemoved:Delete', 'other/x.jpg']]);
  assert.equal(removed[0]?.s3.object.size, undefined);
  assert.equal(removed[0]?.s3.object.eTag, undefined);
  // The created-only function got no delete, and nothing was delivered twice.
  assert.equal((await records('images')).length, 3);
  assert.equal((await records('removed')).length, 2);
});

test('an R2 put from a Worker reaches a Workers queue consumer as an R2 event notification', async (t) => {
  const dir = await writeProject(t, {
    'outpost.toml': `name = "r2n"
main = "src/index.js"
[[r2_buckets]]
binding = "PHOTOS"
bucket_name = "r2-photos"
[[kv_namespaces]]
binding = "LOG"
id = "log"
[[r2_notifications]]
bucket = "r2-photos"
queue = "photo-events"
events = ["object-create", "object-delete"]
suffix = ".png"
[[queues.consumers]]
queue = "photo-events"
max_batch_timeout = 0
`,
    'src/index.js': `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const k = url.searchParams.get('k');
    if (url.pathname === '/put') {
      await env.PHOTOS.put(k, 'pixels');
      return new Response('ok');
    }
    if (url.pathname === '/del') {
      await env.PHOTOS.delete(k);
      return new Response('ok');
    }
    const out = [];
    for (const key of (await env.LOG.list()).keys) out.push(JSON.parse(await env.LOG.get(key.name)));
    return Response.json(out);
  },
  async queue(batch, env) {
    for (const m of batch.messages) await env.LOG.put(m.id, JSON.stringify(m.body));
  },
};
`,
  });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const call = async (path: string): Promise<void> => {
    const r = await fetch(`${node.url}${path}`);
    assert.equal(r.status, 200, await r.text());
  };
  const log = async (): Promise<R2EventMessage[]> => ((await (await fetch(`${node.url}/log`)).json()) as R2EventMessage[]).sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.action.localeCompare(b.action));

  await call('/put?k=skip.jpg'); // outside the suffix
  await call('/put?k=cat.png');
  const first = await eventually(async () => {
    const l = await log();
    return l.length >= 1 ? l : undefined;
  }, 15_000, 'the put notification');
  assert.equal(first.length, 1);
  const msg = first[0] as R2EventMessage;
  assert.deepEqual({ ...msg, eventTime: '' }, {
    account: '00000000000000000000000000000000',
    action: 'PutObject',
    bucket: 'r2-photos',
    object: { key: 'cat.png', size: 6, eTag: 'd399848208da8b80a306af0fd62bb03f' },
    eventTime: '',
  });
  assert.ok(!Number.isNaN(Date.parse(msg.eventTime)));

  await call('/del?k=cat.png');
  const both = await eventually(async () => {
    const l = await log();
    return l.length >= 2 ? l : undefined;
  }, 15_000, 'the delete notification');
  const del = both.find((m) => m.action === 'DeleteObject');
  assert.deepEqual(del?.object, { key: 'cat.png' });
  assert.equal(both.length, 2);
});

test('fault: kill -9 while objects are written loses no event of an acknowledged write', async (t) => {
  const dir = await writeProject(t, {
    'outpost.toml': `name = "r2k"
main = "src/index.js"
[[r2_notifications]]
bucket = "durable"
queue = "durable-events"
events = ["object-create"]
`,
    'src/index.js': 'export default { fetch() { return new Response("ok") } }\n',
  });
  const state = await tempDir(t);
  const start = (): Promise<Running> => startOutpost(t, ['dev', dir, '--port', '0', '--aws-port', '0', '--state', state, '--quiet']);
  const node = await start();
  const aws = (await node.waitFor(/aws api on (http:\/\/[\d.]+:\d+)/))[1] as string;
  const s3 = new S3Client({ endpoint: aws, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  t.after(() => s3.destroy());
  await eventually(async () => (await fetch(`${node.url}/_outpost/api/queues/durable-events/messages?limit=1`)).ok || undefined, 10_000, 'the rule is active');

  const acked: string[] = [];
  let next = 0;
  let killed = false;
  const writer = async (): Promise<void> => {
    while (!killed) {
      const key = `k${next++}`;
      try {
        await s3.send(new PutObjectCommand({ Bucket: 'durable', Key: key, Body: key }));
        acked.push(key);
      } catch {
        return; // the node is gone
      }
      if (acked.length >= 150 && !killed) {
        killed = true;
        node.proc.kill('SIGKILL');
      }
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  assert.ok(killed);

  const again = await start();
  const events = await eventually(async () => {
    const got = await peek<R2EventMessage>(again, 'durable-events');
    const keys = new Set(got.map((m) => m.object.key));
    return acked.every((k) => keys.has(k)) ? got : undefined;
  }, 60_000, 'an event for every acknowledged put');
  const keys = events.map((m) => m.object.key);
  const duplicates = keys.length - new Set(keys).size;
  // Nothing that was never written: every event's key was put (acknowledged or in flight at the kill).
  assert.ok(keys.every((k) => Number(k.slice(1)) < next), 'an event for a key that was never written');
  t.diagnostic(`${acked.length} puts acknowledged before the kill; ${keys.length} events after the restart, ${duplicates} duplicates`);
});
