// KV change events end to end: a Worker subscribed with `[[kv_triggers]]` receives its own
// namespace's puts and deletes as DynamoDB Streams records — INSERT / MODIFY / REMOVE with old
// and new images — in per-key order, batched, and retried whole (still in order) when the
// handler throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { StreamRecord } from '../src/events/kv-changes.ts';

const WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const k = url.searchParams.get('k');
    if (url.pathname === '/put') {
      await env.DATA.put(k, request.method === 'POST' ? await request.arrayBuffer() : url.searchParams.get('v'));
      return new Response('ok');
    }
    if (url.pathname === '/del') {
      await env.DATA.delete(k);
      return new Response('ok');
    }
    const out = [];
    let cursor;
    for (;;) {
      const page = await env.LOG.list({ cursor });
      for (const key of page.keys) out.push({ key: key.name, records: JSON.parse(await env.LOG.get(key.name)) });
      if (page.list_complete) break;
      cursor = page.cursor;
    }
    return Response.json(out);
  },
  async queue(batch, env) {
    const first = batch.messages[0];
    if (first.attempts === 1 && batch.messages.some((m) => m.body.dynamodb.NewImage?.value?.S === 'fail-once')) throw new Error('failing once');
    // One log entry per delivered batch, keyed by its first sequence number (delivery order).
    await env.LOG.put(first.body.dynamodb.SequenceNumber, JSON.stringify(batch.messages.map((m) => m.body)));
  },
};
`;

test('KV change events: INSERT, MODIFY, REMOVE with images, per-key order, batching, whole-batch retry', async (t) => {
  const dir = await writeProject(t, {
    'outpost.toml': `name = "watch"
main = "src/index.js"
[[kv_namespaces]]
binding = "DATA"
id = "data"
[[kv_namespaces]]
binding = "LOG"
id = "log"
[[kv_triggers]]
namespace = "data"
max_batch_size = 50
max_batch_timeout = 0.3
`,
    'src/index.js': WORKER,
  });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const call = async (path: string, init?: RequestInit): Promise<void> => {
    const r = await fetch(`${node.url}${path}`, init);
    assert.equal(r.status, 200, await r.text());
  };
  const log = async (): Promise<Array<{ key: string; records: StreamRecord[] }>> => (await fetch(`${node.url}/log`)).json() as Promise<Array<{ key: string; records: StreamRecord[] }>>;
  const all = async (): Promise<StreamRecord[]> => (await log()).flatMap((b) => b.records);

  await call('/put?k=a&v=1');
  await call('/put?k=a&v=2');
  await call('/del?k=a');
  await call('/put?k=bin', { method: 'POST', body: new Uint8Array([0xff, 0x00, 0x7f]) });
  const first = await eventually(async () => {
    const r = await all();
    return r.length >= 4 ? r : undefined;
  }, 10_000, 'the first four records');
  assert.deepEqual(first.map((r) => [r.eventName, r.dynamodb.Keys.key.S]), [['INSERT', 'a'], ['MODIFY', 'a'], ['REMOVE', 'a'], ['INSERT', 'bin']]);
  const [ins, mod, rem, bin] = first as [StreamRecord, StreamRecord, StreamRecord, StreamRecord];
  assert.deepEqual(ins.dynamodb.NewImage, { key: { S: 'a' }, value: { S: '1' } });
  assert.equal(ins.dynamodb.OldImage, undefined);
  assert.deepEqual(mod.dynamodb.OldImage, { key: { S: 'a' }, value: { S: '1' } });
  assert.deepEqual(mod.dynamodb.NewImage, { key: { S: 'a' }, value: { S: '2' } });
  assert.deepEqual(rem.dynamodb.OldImage, { key: { S: 'a' }, value: { S: '2' } });
  assert.equal(rem.dynamodb.NewImage, undefined);
  assert.deepEqual(bin.dynamodb.NewImage?.['value'], { B: Buffer.from([0xff, 0x00, 0x7f]).toString('base64') });
  for (const r of first) {
    assert.equal(r.eventSource, 'outpost:kv');
    assert.equal(r.eventVersion, '1.1');
    assert.equal(r.dynamodb.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.ok(r.dynamodb.SizeBytes > 0);
    assert.match(r.eventID, /^[0-9a-f]{32}$/);
  }
  assert.ok(ins.dynamodb.SequenceNumber < mod.dynamodb.SequenceNumber && mod.dynamodb.SequenceNumber < rem.dynamodb.SequenceNumber);
  const batchesBefore = (await log()).length;

  // Many writes to a few keys at once (one fails the first delivery of its batch): they arrive
  // batched, every change once, and each key's changes in order.
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 60; i++) writes.push(call(`/put?k=k${i % 3}&v=${i === 30 ? 'fail-once' : `v${i}`}`));
  await Promise.all(writes);
  const batches = await eventually(async () => {
    const b = await log();
    return b.flatMap((x) => x.records).length >= 64 ? b : undefined;
  }, 15_000, 'all 64 records');
  const later = batches.slice(batchesBefore);
  const records = later.flatMap((b) => b.records);
  assert.equal(records.length, 60, 'each change delivered once (the failed batch was logged only when it succeeded)');
  assert.ok(later.length < 60 / 2, `${later.length} batches for 60 records: they were batched`);
  assert.ok(later.every((b) => b.records.length <= 50), 'max_batch_size holds');
  const seqs = records.map((r) => r.dynamodb.SequenceNumber);
  assert.deepEqual([...seqs].sort(), seqs, 'delivered in sequence order, the retried batch included');
  for (const k of ['k0', 'k1', 'k2']) {
    const mine = records.filter((r) => r.dynamodb.Keys.key.S === k);
    assert.equal(mine.length, 20);
    assert.equal(mine[0]?.eventName, 'INSERT');
    for (let i = 1; i < mine.length; i++) {
      const prev = mine[i - 1] as StreamRecord;
      const cur = mine[i] as StreamRecord;
      assert.equal(cur.eventName, 'MODIFY');
      assert.deepEqual(cur.dynamodb.OldImage?.['value'], prev.dynamodb.NewImage?.['value'], `${k}: each change's old image is the previous new image`);
    }
  }
  assert.ok(records.some((r) => JSON.stringify(r.dynamodb.NewImage?.['value']) === '{"S":"fail-once"}'));
  assert.match(node.stdout() + node.stderr(), /kv change events → watch: Error: failing once \(the batch of \d+ will be retried\)/);
});
