import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { compareAndPublish, needsStreamOrder } from './cas.ts';
import { startNatsCluster } from './testing.ts';

test('the stream order is needed on replicated buckets of servers before 2.9.21', () => {
  assert.equal(needsStreamOrder(3, '2.9.10'), true);
  assert.equal(needsStreamOrder(3, '2.9.21'), false);
  assert.equal(needsStreamOrder(3, '2.10.4'), false);
  assert.equal(needsStreamOrder(1, '2.9.10'), false, 'one replica: the leader alone decides');
  assert.equal(needsStreamOrder(3, undefined), true, 'unknown version: be safe');
});

test('three nodes racing to compare-and-set one key on a replicas-3 bucket: exactly one wins each round', async () => {
  const cluster = await startNatsCluster({ size: 3 });
  after(() => cluster.stop());
  const connections = await Promise.all(cluster.servers.map((s) => connect({ servers: s.url })));
  after(() => Promise.all(connections.map((nc) => nc.close())));
  const [first] = connections;
  if (!first) throw new Error('no connection');
  const kv = await new Kvm(first).create('race', { history: 1, replicas: 3 });
  let revision = await kv.put('k', 'start');
  const streamOrder = needsStreamOrder(3, first.info?.version);
  for (let round = 0; round < 30; round++) {
    const expected = revision;
    const results = await Promise.all(connections.map((nc, i) =>
      compareAndPublish(jetstream(nc), {
        stream: 'KV_race',
        subject: '$KV.race.k',
        data: `round ${round} by ${i}`,
        expectedRevision: expected,
        lastSequence: expected,
        currentRevision: async () => (await kv.get('k'))?.revision ?? 0,
        streamOrder,
      }),
    ));
    const winners = results.filter((r) => r !== undefined);
    assert.equal(winners.length, 1, `round ${round}: ${winners.length} writers won`);
    revision = winners[0] as number;
  }
});
