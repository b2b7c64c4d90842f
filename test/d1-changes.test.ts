// D1 change events end to end: a Worker subscribed with `[[d1_triggers]]` receives its D1
// database's row changes — INSERT / MODIFY / REMOVE with keys, old and new images — as
// DynamoDB Streams records, in order, including rows of a table created after the subscription.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { D1StreamRecord } from '../src/events/d1-changes.ts';

const WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/setup') {
      await env.DB.exec('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
      return new Response('ok');
    }
    if (url.pathname === '/write') {
      await env.DB.prepare('INSERT INTO users (id, name) VALUES (?, ?)').bind(1, 'ada').run();
      await env.DB.batch([
        env.DB.prepare('UPDATE users SET name = ? WHERE id = ?').bind('Ada', 1),
        env.DB.prepare('INSERT INTO users (id, name) VALUES (?, ?)').bind(2, 'bob'),
      ]);
      await env.DB.prepare('DELETE FROM users WHERE id = ?').bind(2).run();
      await env.DB.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes (body) VALUES (\\'later\\')');
      return new Response('ok');
    }
    const out = [];
    for (const key of (await env.LOG.list()).keys) out.push(...JSON.parse(await env.LOG.get(key.name)));
    return Response.json(out);
  },
  async queue(batch, env) {
    await env.LOG.put(batch.messages[0].body.dynamodb.SequenceNumber, JSON.stringify(batch.messages.map((m) => m.body)));
  },
};
`;

test('D1 change events: row changes of every table as DynamoDB Streams records, in order', async (t) => {
  const dir = await writeProject(t, {
    'outpost.toml': `name = "d1w"
main = "src/index.js"
[[d1_databases]]
binding = "DB"
database_name = "app"
[[kv_namespaces]]
binding = "LOG"
id = "log"
[[d1_triggers]]
database = "app"
`,
    'src/index.js': WORKER,
  });
  const node = await startOutpost(t, ['dev', dir, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const call = async (path: string): Promise<void> => {
    const r = await fetch(`${node.url}${path}`);
    assert.equal(r.status, 200, await r.text());
  };
  await call('/setup');
  await call('/write');
  const records = await eventually(async () => {
    const r = ((await (await fetch(`${node.url}/log`)).json()) as D1StreamRecord[]).sort((a, b) => a.dynamodb.SequenceNumber.localeCompare(b.dynamodb.SequenceNumber));
    return r.length >= 5 ? r : undefined;
  }, 15_000, 'five records');
  assert.deepEqual(records.map((r) => [r.eventName, r.eventSourceARN.split(':table/')[1], r.dynamodb.Keys]), [
    ['INSERT', 'app.users/stream/outpost', { id: { N: '1' } }],
    ['MODIFY', 'app.users/stream/outpost', { id: { N: '1' } }],
    ['INSERT', 'app.users/stream/outpost', { id: { N: '2' } }],
    ['REMOVE', 'app.users/stream/outpost', { id: { N: '2' } }],
    ['INSERT', 'app.notes/stream/outpost', { rowid: { N: '1' } }],
  ]);
  const [ins, mod, , rem, note] = records as [D1StreamRecord, D1StreamRecord, D1StreamRecord, D1StreamRecord, D1StreamRecord];
  assert.deepEqual(ins.dynamodb.NewImage, { id: { N: '1' }, name: { S: 'ada' } });
  assert.equal(ins.dynamodb.OldImage, undefined);
  assert.deepEqual(mod.dynamodb.OldImage, { id: { N: '1' }, name: { S: 'ada' } });
  assert.deepEqual(mod.dynamodb.NewImage, { id: { N: '1' }, name: { S: 'Ada' } });
  assert.deepEqual(rem.dynamodb.OldImage, { id: { N: '2' }, name: { S: 'bob' } });
  assert.equal(rem.dynamodb.NewImage, undefined);
  assert.deepEqual(note.dynamodb.NewImage, { body: { S: 'later' } });
  assert.equal(ins.eventSource, 'outpost:d1');
  assert.equal(records.length, 5);
});
