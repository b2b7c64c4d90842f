/**
 * @module
 * Reads a Server-Sent Events body from fetch. EventSource cannot send an Authorization header,
 * so the log tail streams with fetch and parses here: events are separated by a blank line
 * (LF, CRLF or CR line ends), and an event's `data:` lines are joined with newlines (other
 * fields and comments are ignored).
 */

/** Splits complete events off `buffer`; returns their data and what is left for the next chunk. */
function takeEvents(buffer: string): { events: string[]; rest: string } {
  const events: string[] = [];
  // A CR at the very end may be the first half of a CRLF split across chunks: keep it for later.
  const held = buffer.endsWith('\r') ? '\r' : '';
  const normalised = (held === '' ? buffer : buffer.slice(0, -1)).replace(/\r\n?/g, '\n');
  const blocks = normalised.split('\n\n');
  const rest = (blocks.pop() ?? '') + held;
  for (const block of blocks) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
    if (data.length > 0) events.push(data.join('\n'));
  }
  return { events, rest };
}

/** Calls `onData` with each event's data until the stream ends or `signal` aborts. */
export async function readEvents(body: ReadableStream<Uint8Array>, onData: (data: string) => void, signal: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const stop = (): void => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const { events, rest } = takeEvents(buffer + decoder.decode(value, { stream: true }));
      buffer = rest;
      for (const e of events) onData(e);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
