import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStore } from '../store/index.ts';
import { NodeRegistry } from './node-registry.ts';

test('live nodes are those that wrote within three heartbeats; a clean close removes the entry', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-registry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = openSqliteStore({ dir });
  t.after(() => store.close());
  let now = 1_000_000;
  const clock = (): number => now;
  const registry = (name: string, region: string): NodeRegistry =>
    new NodeRegistry({ meta: store.meta, self: { name, region, url: `http://${name}.test` }, heartbeatMs: 1_000, now: clock });
  const eu1 = registry('eu-1', 'eu');
  const eu2 = registry('eu-2', 'eu');
  const us1 = registry('us-1', 'us');
  await eu1.heartbeat();
  await eu2.heartbeat();
  await us1.heartbeat();
  assert.deepEqual((await us1.live('eu')).map((n) => [n.name, n.url]), [['eu-1', 'http://eu-1.test'], ['eu-2', 'http://eu-2.test']]);
  assert.deepEqual((await us1.live()).map((n) => n.name), ['eu-1', 'eu-2', 'us-1']);

  // eu-2 stops writing (a crash): still live at three heartbeats, gone after.
  now += 2_000;
  await eu1.heartbeat();
  now += 1_000;
  assert.deepEqual((await us1.live('eu')).map((n) => n.name), ['eu-1', 'eu-2']);
  now += 1;
  assert.deepEqual((await us1.live('eu')).map((n) => n.name), ['eu-1']);

  await eu1.close();
  assert.deepEqual(await us1.live('eu'), []);
});
