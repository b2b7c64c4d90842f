/** @module Tests for the host↔instance batcher: mixed batches survive a real MessageChannel intact and in order, and one turn's posts travel as one packet. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { Batcher, decode } from './batcher.ts';
import type { Packet } from './batcher.ts';

interface Message {
  t: string;
  [field: string]: unknown;
}

/** A Batcher whose packets cross a real MessageChannel; `packets` counts what arrived, `received` is their decoded messages in order. */
function wire(t: TestContext): { batcher: Batcher<Message>; packets: Packet[]; received: Message[] } {
  const { port1, port2 } = new MessageChannel();
  const packets: Packet[] = [];
  const received: Message[] = [];
  port2.on('message', (packet: Packet) => {
    packets.push(packet);
    received.push(...decode<Message>(packet));
  });
  t.after(() => {
    port1.close();
    port2.close();
  });
  const batcher = new Batcher<Message>((packet, transfer) => port1.postMessage(packet, transfer as never));
  return { batcher, packets, received };
}

/** Lets the event loop turn (no timers) until `ready()` holds or the deadline passes. */
async function until(ready: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function mixedBatch(): Message[] {
  return [
    { t: 'http', id: 1, requestId: 'r-1', method: 'POST', url: 'https://x.test/a?b=1', headers: ['content-type', 'application/octet-stream'], body: 'inline', bytes: new Uint8Array([0, 1, 127, 128, 255]), params: { id: 'é 1' }, deadline: 1_700_000_000_000 },
    { t: 'rpc', callId: 7, invocation: 1, binding: 'KV', method: 'put', args: [new Uint8Array([1, 2]), 'key', { metadata: { nested: [new Uint8Array([3])] } }] },
    { t: 'req-chunk', id: 1, data: new Uint8Array([9, 8, 7]) },
    { t: 'head', id: 1, status: 200, headers: ['x-a', '1'], body: new Uint8Array([104, 105]), more: false, done: { cpuMicros: 12, subrequests: 0 } },
    { t: 'head', id: 2, status: 204, headers: [], body: null, more: false },
    { t: 'event', id: 3, requestId: 'r-3', kind: 'queue', payload: { when: new Date(0), ids: new Map([['a', 1]]), blob: new Uint8Array([5]) }, deadline: 1 },
    { t: 'log', invocation: 1, level: 'info', message: 'hello {"json": true} \u2028' },
    { t: 'rpc-result', callId: 7, value: { value: new Uint8Array([42]), metadata: null } },
    { t: 'chunk', id: 1, data: new Uint8Array(0) },
    { t: 'custom', bytes: new Uint8Array([1]), body: new Uint8Array([2]), data: new Uint8Array([3]) },
    { t: 'end', id: 1 },
  ];
}

describe('Batcher over a MessageChannel', () => {
  test('a mixed batch arrives with identical content and in the same order', async (t) => {
    const { batcher, received } = wire(t);
    const sent = mixedBatch();
    for (const m of sent) batcher.post(m);
    await until(() => received.length >= sent.length, 'the whole batch');
    assert.deepEqual(received, mixedBatch());
    assert.ok(received[0]?.['bytes'] instanceof Uint8Array);
    assert.deepEqual(received.map((m) => m.t), sent.map((m) => m.t));
  });

  test('posting does not change the caller\'s messages', async (t) => {
    const { batcher, received } = wire(t);
    const message: Message = { t: 'chunk', id: 1, data: new Uint8Array([1, 2, 3]) };
    batcher.post(message);
    await until(() => received.length === 1, 'one message');
    assert.deepEqual(message, { t: 'chunk', id: 1, data: new Uint8Array([1, 2, 3]) });
  });

  test('buffers in the transfer list move instead of being copied', async (t) => {
    const { batcher, received } = wire(t);
    const data = new Uint8Array([10, 20, 30]);
    batcher.post({ t: 'chunk', id: 1, data }, [data.buffer]);
    await until(() => received.length === 1, 'the chunk');
    assert.deepEqual(received[0], { t: 'chunk', id: 1, data: new Uint8Array([10, 20, 30]) });
    assert.equal(data.byteLength, 0, 'the sender\'s copy is detached');
  });

  test('messages posted in one turn arrive as one packet', async (t) => {
    const { batcher, packets, received } = wire(t);
    for (let i = 0; i < 50; i++) batcher.post(i % 2 === 0 ? { t: 'chunk', id: i, data: new Uint8Array([i]) } : { t: 'rpc', callId: i, args: [i] });
    await Promise.resolve();
    batcher.post({ t: 'end', id: 50 }); // a microtask later is still the same turn
    await until(() => received.length >= 51, '51 messages');
    assert.equal(packets.length, 1);
    assert.deepEqual(received.map((m) => m['id'] ?? m['callId']), Array.from({ length: 51 }, (_, i) => i));
  });

  test('messages posted in later turns go in later packets, in order', async (t) => {
    const { batcher, packets, received } = wire(t);
    batcher.post({ t: 'pull', id: 1 });
    batcher.post({ t: 'pull', id: 2 });
    await until(() => received.length === 2, 'the first packet');
    batcher.post({ t: 'pull', id: 3 });
    await until(() => received.length === 3, 'the second packet');
    assert.equal(packets.length, 2);
    assert.deepEqual(received.map((m) => m['id']), [1, 2, 3]);
  });
});
