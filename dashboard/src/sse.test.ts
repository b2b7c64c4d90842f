/// <reference types="node" />
// Server-Sent Events read from a fetch body, whatever the chunk boundaries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readEvents } from './sse.ts';

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

test('events split across chunks, CRLF line ends, multi-line data and comments', async () => {
  const text = ': keep-alive\n\ndata: {"a":1}\n\ndata: line one\r\ndata: line two\r\n\r\nevent: x\nid: 7\ndata:{"é":"ü"}\n\ndata: unfinished';
  const whole: string[] = [];
  await readEvents(body([text]), (d) => whole.push(d), new AbortController().signal);
  assert.deepEqual(whole, ['{"a":1}', 'line one\nline two', '{"é":"ü"}'], 'an event without its blank line is not delivered');
  // One byte per chunk: every split point, inside CRLFs and inside the two-byte é and ü.
  const bytes = new TextEncoder().encode(text);
  const oneByOne = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const b of bytes) controller.enqueue(new Uint8Array([b]));
      controller.close();
    },
  });
  const split: string[] = [];
  await readEvents(oneByOne, (d) => split.push(d), new AbortController().signal);
  assert.deepEqual(split, whole);
});

test('aborting stops reading', async () => {
  const controller = new AbortController();
  const seen: string[] = [];
  let pull = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pull++;
      c.enqueue(new TextEncoder().encode(`data: ${pull}\n\n`));
    },
  });
  await readEvents(endless, (d) => {
    seen.push(d);
    if (seen.length === 3) controller.abort();
  }, controller.signal);
  assert.deepEqual(seen.slice(0, 3), ['1', '2', '3']);
});
