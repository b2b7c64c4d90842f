/**
 * @module
 * The host side of the queue producer binding: checks Cloudflare's limits (128 KB a message,
 * 100 messages and 256 KB a batch, delays up to 12 hours), serialises v8 bodies, and stores the
 * messages durably before the function's `send()` resolves. A queue that does not exist yet is
 * created on first send, as `wrangler dev` does.
 */
import { serialize } from 'node:v8';
import type { QueueSendInput, QueueStore } from '../../store/queues.ts';
import type { HostBinding } from '../rpc.ts';
import { QUEUE_LIMITS, queueError } from './errors.ts';

export { QUEUE_LIMITS } from './errors.ts';

interface Encoded {
  body: unknown;
  contentType?: unknown;
  delaySeconds?: unknown;
}

function toInput(operation: 'send' | 'sendBatch', m: Encoded): QueueSendInput {
  const contentType = typeof m.contentType === 'string' ? m.contentType : 'json';
  let body: Uint8Array;
  if (contentType === 'v8') body = new Uint8Array(serialize(m.body));
  else if (m.body instanceof Uint8Array) body = m.body;
  else throw queueError(operation, 'message body is not encoded');
  if (body.byteLength > QUEUE_LIMITS.messageBytes) throw queueError(operation, `message length of ${body.byteLength} bytes exceeds limit of ${QUEUE_LIMITS.messageBytes}`);
  const input: QueueSendInput = { body, contentType };
  if (m.delaySeconds !== undefined && m.delaySeconds !== null) {
    const d = Number(m.delaySeconds);
    if (!Number.isInteger(d) || d < 0 || d > QUEUE_LIMITS.maxDelaySeconds) throw queueError(operation, `message delay ${String(m.delaySeconds)} is invalid: it must be a whole number of seconds from 0 to ${QUEUE_LIMITS.maxDelaySeconds}`);
    input.delaySeconds = d;
  }
  return input;
}

export function queueHost(queues: QueueStore, queue: string): HostBinding {
  let created = false;
  const store = async (inputs: QueueSendInput[]): Promise<null> => {
    if (!created) {
      await queues.createQueue(queue);
      created = true;
    }
    await queues.send(queue, inputs);
    return null;
  };
  return async (method, args) => {
    if (method === 'send') {
      const [m] = (args[0] ?? []) as Encoded[];
      if (!m) throw queueError('send', 'no message');
      return store([toInput('send', m)]);
    }
    if (method === 'sendBatch') {
      const list = (args[0] ?? []) as Encoded[];
      if (list.length > QUEUE_LIMITS.batchMessages) throw queueError('sendBatch', `batch message count of ${list.length} exceeds limit of ${QUEUE_LIMITS.batchMessages}`);
      const inputs = list.map((m) => toInput('sendBatch', m));
      const total = inputs.reduce((n, m) => n + m.body.byteLength, 0);
      if (total > QUEUE_LIMITS.batchBytes) throw queueError('sendBatch', `batch size of ${total} bytes exceeds limit of ${QUEUE_LIMITS.batchBytes}`);
      return store(inputs);
    }
    throw queueError('send', `unknown operation ${method}`);
  };
}
