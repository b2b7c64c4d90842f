/** @module The QueueStore contract suite: what every backend's queues must do, run by each backend's test file. */
/*
 * Each test gets a fresh store in its own temp dir and a clock it moves by hand, so leases,
 * delays and dedup windows are checked to the millisecond without waiting.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { isOutpostError } from '../errors.ts';
import type { OpenStore } from './contract.ts';
import type { Store } from './types.ts';

const EPOCH_MS = Date.UTC(2030, 0, 1);
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

export function queueStoreContract(name: string, open: OpenStore): void {
  async function fresh(t: TestContext): Promise<{ store: Store; clock: { ms: number } }> {
    const dir = await mkdtemp(join(tmpdir(), 'outpost-queues-'));
    const clock = { ms: EPOCH_MS };
    const store = await open({ dir, now: () => clock.ms });
    t.after(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { store, clock };
  }

  describe(`queue store contract: ${name}`, () => {
    test('create is idempotent, list and delete queues; bad names are refused', async (t) => {
      const { store } = await fresh(t);
      const first = await store.queues.createQueue('jobs', { visibilityTimeoutSeconds: 10 });
      assert.equal(first.created, true);
      assert.equal(first.queue.config.visibilityTimeoutSeconds, 10);
      assert.equal(first.queue.config.delaySeconds, 0);
      const again = await store.queues.createQueue('jobs', { visibilityTimeoutSeconds: 99 });
      assert.equal(again.created, false);
      assert.equal(again.queue.config.visibilityTimeoutSeconds, 10, 'an existing queue is returned unchanged');
      await store.queues.createQueue('jobs-dlq');
      await store.queues.createQueue('other');
      assert.deepEqual((await store.queues.listQueues()).map((q) => q.name), ['jobs', 'jobs-dlq', 'other']);
      assert.deepEqual((await store.queues.listQueues('jobs')).map((q) => q.name), ['jobs', 'jobs-dlq']);
      await store.queues.deleteQueue('other');
      assert.equal(await store.queues.getQueue('other'), undefined);
      for (const bad of ['', 'a b', 'x'.repeat(81), '../x']) await assert.rejects(store.queues.createQueue(bad), (e: unknown) => isOutpostError(e, 'QUEUE_INVALID_NAME'));
      await assert.rejects(store.queues.send('missing', [{ body: bytes('x') }]), (e: unknown) => isOutpostError(e, 'QUEUE_NOT_FOUND'));
    });

    test('send, receive with a lease, ack: a message is delivered until acknowledged', async (t) => {
      const { store, clock } = await fresh(t);
      await store.queues.createQueue('q');
      const [sent] = await store.queues.send('q', [{ body: bytes('hello'), contentType: 'text', attributes: { a: 1 }, senderId: 'me' }]);
      assert.ok(sent && !sent.duplicate);
      const [m] = await store.queues.receive('q', { max: 10, visibilityTimeoutSeconds: 30 });
      assert.ok(m);
      assert.equal(m.id, sent.id);
      assert.equal(text(m.body), 'hello');
      assert.equal(m.contentType, 'text');
      assert.deepEqual(m.attributes, { a: 1 });
      assert.equal(m.senderId, 'me');
      assert.equal(m.receiveCount, 1);
      assert.equal(m.sentAt, EPOCH_MS);
      assert.equal(m.firstReceivedAt, EPOCH_MS);
      assert.deepEqual(await store.queues.receive('q', { max: 10 }), [], 'leased messages are invisible');
      assert.deepEqual(await store.queues.stats('q'), { name: 'q', visible: 0, inFlight: 1, delayed: 0, dead: 0, oldestSentAt: EPOCH_MS });
      clock.ms += 30_000;
      const [again] = await store.queues.receive('q', { max: 10 });
      assert.ok(again, 'an expired lease makes the message visible again');
      assert.equal(again.receiveCount, 2);
      assert.notEqual(again.receipt, m.receipt);
      assert.equal(again.firstReceivedAt, EPOCH_MS);
      assert.deepEqual(await store.queues.ack('q', [m.receipt]), [], 'an old receipt cannot settle a newer delivery');
      assert.deepEqual(await store.queues.ack('q', [again.receipt]), [again.receipt]);
      clock.ms += 60_000;
      assert.deepEqual(await store.queues.receive('q', { max: 10 }), []);
      assert.deepEqual(await store.queues.stats('q'), { name: 'q', visible: 0, inFlight: 0, delayed: 0, dead: 0 });
    });

    test('receive returns at most max, oldest first; a batch send is one step', async (t) => {
      const { store } = await fresh(t);
      await store.queues.createQueue('q');
      const sent = await store.queues.send('q', Array.from({ length: 25 }, (_, i) => ({ body: bytes(String(i)) })));
      assert.equal(new Set(sent.map((s) => s.id)).size, 25);
      const a = await store.queues.receive('q', { max: 10 });
      const b = await store.queues.receive('q', { max: 10 });
      const c = await store.queues.receive('q', { max: 10 });
      assert.deepEqual([a.length, b.length, c.length], [10, 10, 5]);
      assert.deepEqual([...a, ...b, ...c].map((m) => text(m.body)), Array.from({ length: 25 }, (_, i) => String(i)));
    });

    test('delays: per message and per queue; retry with a delay; changeVisibility', async (t) => {
      const { store, clock } = await fresh(t);
      await store.queues.createQueue('q', { delaySeconds: 5 });
      await store.queues.send('q', [{ body: bytes('queue-delay') }, { body: bytes('now'), delaySeconds: 0 }, { body: bytes('later'), delaySeconds: 60 }]);
      assert.deepEqual(await store.queues.stats('q'), { name: 'q', visible: 1, inFlight: 0, delayed: 2, dead: 0, oldestSentAt: EPOCH_MS });
      assert.equal(await store.queues.nextVisibleAt('q'), EPOCH_MS + 5000);
      const [now] = await store.queues.receive('q', { max: 10 });
      assert.equal(now && text(now.body), 'now');
      clock.ms += 5000;
      const [qd] = await store.queues.receive('q', { max: 10 });
      assert.equal(qd && text(qd.body), 'queue-delay');
      assert.ok(now && qd);
      assert.equal(await store.queues.retry('q', now.receipt, { delaySeconds: 10 }), 'retried');
      assert.equal(await store.queues.retry('q', now.receipt), 'stale', 'a receipt settles once');
      assert.deepEqual(await store.queues.receive('q', { max: 10 }), []);
      clock.ms += 10_000;
      const [back] = await store.queues.receive('q', { max: 10, visibilityTimeoutSeconds: 100 });
      assert.equal(back && text(back.body), 'now');
      assert.equal(back?.receiveCount, 2);
      assert.ok(back);
      assert.equal(await store.queues.changeVisibility('q', back.receipt, 0), true);
      const [visibleAgain] = await store.queues.receive('q', { max: 1 });
      assert.equal(visibleAgain?.id, back.id, 'visibility 0 releases the message at once');
      assert.equal(await store.queues.changeVisibility('q', back.receipt, 5), false, 'the old receipt is stale');
    });

    test('dedup ids: a second send within five minutes is accepted once', async (t) => {
      const { store, clock } = await fresh(t);
      await store.queues.createQueue('q');
      const [a] = await store.queues.send('q', [{ body: bytes('1'), dedupId: 'd' }]);
      const [b] = await store.queues.send('q', [{ body: bytes('2'), dedupId: 'd' }]);
      assert.equal(b?.duplicate, true);
      assert.equal(b?.id, a?.id);
      clock.ms += 5 * 60_000;
      const [c] = await store.queues.send('q', [{ body: bytes('3'), dedupId: 'd' }]);
      assert.equal(c?.duplicate, false);
      assert.equal((await store.queues.stats('q')).visible, 2);
    });

    test('ordered receive: nothing overtakes a leased or retried message, even after its lease runs out', async (t) => {
      const { store, clock } = await fresh(t);
      await store.queues.createQueue('q');
      await store.queues.send('q', [1, 2, 3, 4].map((n) => ({ body: bytes(String(n)) })));
      const first = await store.queues.receive('q', { max: 2, ordered: true, visibilityTimeoutSeconds: 10 });
      assert.deepEqual(first.map((m) => text(m.body)), ['1', '2']);
      assert.deepEqual(await store.queues.receive('q', { max: 2, ordered: true }), [], 'the head is leased: 3 and 4 wait');
      assert.equal((await store.queues.receive('q', { max: 2, visibilityTimeoutSeconds: 20 })).length, 2, 'an unordered receive takes them');
      await store.queues.send('q', [{ body: bytes('5') }]);
      clock.ms += 10_000;
      // 1 and 2 come back after their lease, later than 5 was sent, yet are first again.
      const again = await store.queues.receive('q', { max: 10, ordered: true, visibilityTimeoutSeconds: 10 });
      assert.deepEqual(again.map((m) => text(m.body)), ['1', '2']);
      const [one] = again;
      assert.ok(one);
      assert.equal(await store.queues.retry('q', one.receipt, { delaySeconds: 5 }), 'retried');
      await store.queues.ack('q', again.slice(1).map((m) => m.receipt));
      assert.deepEqual(await store.queues.receive('q', { max: 10, ordered: true }), [], 'a retried head blocks');
      clock.ms += 10_000;
      assert.deepEqual((await store.queues.receive('q', { max: 10, ordered: true })).map((m) => text(m.body)), ['1', '3', '4', '5']);
    });

    test('max receives: the message goes to the dead-letter queue exactly once, with its id and source', async (t) => {
      const { store, clock } = await fresh(t);
      await store.queues.createQueue('q', { maxReceiveCount: 2, deadLetterQueue: 'q-dlq' });
      const [sent] = await store.queues.send('q', [{ body: bytes('poison') }, { body: bytes('fine') }]);
      for (let i = 0; i < 2; i++) {
        const got = await store.queues.receive('q', { max: 10, visibilityTimeoutSeconds: 1 });
        assert.equal(got.length, 2);
        const fine = got.find((m) => text(m.body) === 'fine');
        if (i === 1 && fine) await store.queues.ack('q', [fine.receipt]);
        clock.ms += 1000;
      }
      assert.deepEqual(await store.queues.receive('q', { max: 10 }), [], 'the third receive dead-letters instead of delivering');
      const dead = await store.queues.peek('q-dlq', { limit: 10 });
      assert.equal(dead.length, 1);
      assert.equal(dead[0]?.id, sent?.id);
      assert.equal(dead[0]?.sourceQueue, 'q');
      assert.equal(text(dead[0]?.body ?? bytes('')), 'poison');
      assert.deepEqual(await store.queues.receive('q', { max: 10 }), []);
      assert.equal((await store.queues.peek('q-dlq', { limit: 10 })).length, 1, 'moved once');
      assert.equal(await store.queues.redrive('q-dlq'), 1);
      const [back] = await store.queues.receive('q', { max: 10 });
      assert.equal(back?.id, sent?.id);
      assert.equal(back?.receiveCount, 1, 'redrive resets the receive count');
    });

    test('retry past maxReceives dead-letters at once; without a DLQ the message stays, dead, until redriven', async (t) => {
      const { store } = await fresh(t);
      await store.queues.createQueue('q');
      await store.queues.send('q', [{ body: bytes('bad') }]);
      const [m] = await store.queues.receive('q', { max: 1, maxReceives: 1 });
      assert.ok(m);
      assert.equal(await store.queues.retry('q', m.receipt, { maxReceives: 1, reason: 'Error: boom' }), 'dead');
      assert.deepEqual(await store.queues.receive('q', { max: 1 }), []);
      assert.deepEqual(await store.queues.stats('q'), { name: 'q', visible: 0, inFlight: 0, delayed: 0, dead: 1 });
      const [dead] = await store.queues.peek('q', { limit: 10, dead: true });
      assert.equal(dead?.deadReason, 'Error: boom');
      assert.equal(await store.queues.redrive('q'), 1);
      assert.equal((await store.queues.receive('q', { max: 1 })).length, 1);
    });

    test('a consumer policy overrides the queue redrive policy; a retry into a DLQ creates it', async (t) => {
      const { store } = await fresh(t);
      await store.queues.createQueue('q');
      await store.queues.send('q', [{ body: bytes('x') }]);
      const [m] = await store.queues.receive('q', { max: 1, maxReceives: 1, deadLetterQueue: 'made-on-demand' });
      assert.ok(m);
      assert.equal(await store.queues.retry('q', m.receipt, { maxReceives: 1, deadLetterQueue: 'made-on-demand' }), 'dead');
      assert.equal((await store.queues.stats('made-on-demand')).visible, 1);
    });

    test('purge removes everything; updateQueue sets and removes settings', async (t) => {
      const { store } = await fresh(t);
      await store.queues.createQueue('q');
      await store.queues.send('q', [{ body: bytes('1') }, { body: bytes('2') }]);
      assert.equal(await store.queues.purge('q'), 2);
      assert.equal((await store.queues.stats('q')).visible, 0);
      const updated = await store.queues.updateQueue('q', { maxReceiveCount: 3, deadLetterQueue: 'd' }, { Policy: 'x' });
      assert.equal(updated.config.maxReceiveCount, 3);
      assert.equal(updated.extra['Policy'], 'x');
      const removed = await store.queues.updateQueue('q', { maxReceiveCount: undefined, deadLetterQueue: undefined });
      assert.equal(removed.config.maxReceiveCount, undefined);
      assert.equal('deadLetterQueue' in removed.config, false);
    });

    test('subscribers hear about sends after they commit', async (t) => {
      const { store } = await fresh(t);
      await store.queues.createQueue('q');
      const heard: string[] = [];
      const off = store.queues.subscribe((q) => heard.push(q));
      await store.queues.send('q', [{ body: bytes('1') }]);
      off();
      await store.queues.send('q', [{ body: bytes('2') }]);
      assert.deepEqual(heard, ['q']);
    });

    test('binary bodies round-trip every byte value', async (t) => {
      const { store } = await fresh(t);
      await store.queues.createQueue('q');
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await store.queues.send('q', [{ body: all, contentType: 'bytes' }]);
      const [m] = await store.queues.receive('q', { max: 1 });
      assert.deepEqual(new Uint8Array(m?.body ?? []), all);
    });
  });
}
