/**
 * @module
 * The control API's queue routes (behind the control API's auth), used by `outpost queues`:
 *
 *   GET    /_outpost/api/queues                      every queue with its depth, age and consumers
 *   POST   /_outpost/api/queues                      { name, visibilityTimeoutSeconds?, deadLetterQueue?, maxReceiveCount? }
 *   POST   /_outpost/api/queues/<name>/messages      { body, contentType?, delaySeconds? }
 *   GET    /_outpost/api/queues/<name>/messages      ?limit=&dead=true|false — look without leasing
 *   DELETE /_outpost/api/queues/<name>/messages      purge
 *   POST   /_outpost/api/queues/<name>/redrive       { to? } — dead messages back to their queue
 */
import { OutpostError } from '../errors.ts';
import type { GatewayHook } from '../server/context.ts';
import type { QueueMessage, QueueStore } from '../store/queues.ts';
import type { ConsumerSettings } from './queues.ts';
import { readJsonObject as readJson, sendJson as send } from '../control/http.ts';

const PREFIX = '/_outpost/api/queues';



/** A message as the CLI shows it: text bodies as text, binary ones as base64. */
export function describeMessage(m: QueueMessage): Record<string, unknown> {
  const binary = m.contentType === 'bytes' || m.contentType === 'v8';
  return {
    id: m.id,
    body: binary ? Buffer.from(m.body).toString('base64') : new TextDecoder().decode(m.body),
    ...(binary ? { encoding: 'base64' } : {}),
    ...(m.contentType ? { contentType: m.contentType } : {}),
    sentAt: new Date(m.sentAt).toISOString(),
    receiveCount: m.receiveCount,
    ...(m.deadReason ? { deadReason: m.deadReason } : {}),
    ...(m.sourceQueue ? { sourceQueue: m.sourceQueue } : {}),
  };
}

function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new OutpostError('INVALID_ARGUMENT', `${key} must be a whole number ≥ 0`, { status: 400, fault: 'user' });
  return v;
}

export function queuesApi(queues: QueueStore, consumersOf: (queue: string) => Array<{ function: string; settings: ConsumerSettings }>): GatewayHook {
  return async (req, res, requestId) => {
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return false;
    const parts = url.pathname.slice(PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const [name, sub] = parts;
    if (name === undefined && method === 'GET') {
      const out = [];
      for (const q of await queues.listQueues()) {
        out.push({ ...q, createdAt: new Date(q.createdAt).toISOString(), stats: await queues.stats(q.name), consumers: consumersOf(q.name).map((c) => c.function) });
      }
      send(res, 200, { queues: out }, requestId);
      return true;
    }
    if (name === undefined && method === 'POST') {
      const body = await readJson(req);
      if (typeof body['name'] !== 'string') throw new OutpostError('INVALID_ARGUMENT', 'name the queue: { "name": "jobs" }', { status: 400, fault: 'user' });
      const visibility = optionalNumber(body, 'visibilityTimeoutSeconds');
      const maxReceiveCount = optionalNumber(body, 'maxReceiveCount');
      const dlq = typeof body['deadLetterQueue'] === 'string' ? body['deadLetterQueue'] : undefined;
      const result = await queues.createQueue(body['name'], {
        ...(visibility === undefined ? {} : { visibilityTimeoutSeconds: visibility }),
        ...(maxReceiveCount === undefined ? {} : { maxReceiveCount }),
        ...(dlq === undefined ? {} : { deadLetterQueue: dlq }),
      });
      if (dlq !== undefined) await queues.createQueue(dlq);
      send(res, result.created ? 201 : 200, result, requestId);
      return true;
    }
    if (name === undefined) return false;
    if (!(await queues.getQueue(name))) throw new OutpostError('QUEUE_NOT_FOUND', `no queue named ${name}`, { status: 404, fault: 'user', hint: 'outpost queues list shows the queues' });
    if (sub === 'messages' && method === 'POST') {
      const body = await readJson(req);
      const contentType = typeof body['contentType'] === 'string' ? body['contentType'] : 'json';
      if (!['json', 'text', 'bytes'].includes(contentType)) throw new OutpostError('INVALID_ARGUMENT', 'contentType must be json, text or bytes', { status: 400, fault: 'user' });
      const raw = body['body'];
      const bytes =
        contentType === 'json' ? new TextEncoder().encode(JSON.stringify(raw ?? null)) : contentType === 'bytes' ? Buffer.from(String(raw ?? ''), 'base64') : new TextEncoder().encode(String(raw ?? ''));
      const delay = optionalNumber(body, 'delaySeconds');
      const [sent] = await queues.send(name, [{ body: new Uint8Array(bytes), contentType, ...(delay === undefined ? {} : { delaySeconds: delay }) }]);
      send(res, 200, { id: sent?.id }, requestId);
      return true;
    }
    if (sub === 'messages' && method === 'GET') {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 10) || 10, 1000);
      const dead = url.searchParams.get('dead');
      const messages = await queues.peek(name, { limit, ...(dead === null ? {} : { dead: dead === 'true' }) });
      send(res, 200, { messages: messages.map(describeMessage) }, requestId);
      return true;
    }
    if (sub === 'messages' && method === 'DELETE') {
      send(res, 200, { purged: await queues.purge(name) }, requestId);
      return true;
    }
    if (sub === 'redrive' && method === 'POST') {
      const body = await readJson(req);
      const to = typeof body['to'] === 'string' ? body['to'] : undefined;
      send(res, 200, { moved: await queues.redrive(name, to === undefined ? {} : { to }) }, requestId);
      return true;
    }
    return false;
  };
}
