import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BindingSpec } from '../project/spec.ts';
import type { RegionPin } from '../store/nats/index.ts';
import type { NodeEntry } from './node-registry.ts';
import { cachedLiveNodes, servingRegion } from './region-routing.ts';

const pins: RegionPin[] = [
  { kind: 'kv', name: 'eu-private', region: 'eu', access: 'refuse' },
  { kind: 'kv', name: 'eu-shared', region: 'eu', access: 'proxy' },
];

test('a function must be served from the region of a :refuse pin its KV bindings use, unless this node is there', () => {
  const kv = (namespace: string): BindingSpec => ({ type: 'kv', name: 'KV', namespace });
  assert.equal(servingRegion([kv('eu-private')], pins, 'us'), 'eu');
  assert.equal(servingRegion([{ type: 'r2', name: 'B', bucket: 'eu-private' }, kv('other'), kv('eu-private')], pins, 'us'), 'eu');
  assert.equal(servingRegion([kv('eu-private')], pins, 'eu'), undefined);
  assert.equal(servingRegion([kv('eu-shared')], pins, 'us'), undefined);
  assert.equal(servingRegion([kv('other')], pins, 'us'), undefined);
});

test('live nodes are read at most once per interval per region', async () => {
  let now = 0;
  const reads: string[] = [];
  const entry = (region: string): NodeEntry => ({ name: `${region}-1`, region, url: 'http://x', seenAt: now });
  const live = cachedLiveNodes(async (region) => (reads.push(region), [entry(region)]), 1_000, () => now);
  await live('eu');
  now = 999;
  await live('eu');
  await live('us');
  assert.deepEqual(reads, ['eu', 'us']);
  now = 1_000;
  await live('eu');
  assert.deepEqual(reads, ['eu', 'us', 'eu']);
});
