/**
 * @module
 * The control API's asynchronous-invocation route (behind the control API's auth), used by
 * `outpost invoke <fn> --async`:
 *
 *   POST /_outpost/api/async/<function>   { event, idempotencyKey? } → 202 { requestId, duplicate }
 *
 * The event is committed to the function's async queue before the answer (async-enqueue.ts).
 */
import { OutpostError } from '../errors.ts';
import type { GatewayHook, NodeContext } from '../server/context.ts';
import { enqueueAsync } from './async-enqueue.ts';
import { readJsonObject as readJson } from '../control/http.ts';

const PREFIX = '/_outpost/api/async/';
/** Lambda accepts asynchronous payloads up to 1 MB (256 KB before 2025). */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;


export function asyncApi(ctx: Pick<NodeContext, 'store' | 'functions'>): GatewayHook {
  return async (req, res, requestId) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!path.startsWith(PREFIX) || req.method !== 'POST') return false;
    const name = decodeURIComponent(path.slice(PREFIX.length));
    if (!ctx.functions().has(name)) throw new OutpostError('FUNCTION_NOT_FOUND', `no function named ${name}`, { status: 404, fault: 'user', hint: 'outpost ls shows the deployed functions' });
    const body = await readJson(req);
    const key = body['idempotencyKey'];
    if (key !== undefined && (typeof key !== 'string' || key === '' || key.length > 128)) {
      throw new OutpostError('INVALID_ARGUMENT', 'idempotencyKey must be a string of 1–128 characters', { status: 400, fault: 'user' });
    }
    const queued = await enqueueAsync(ctx.store.queues, name, body['event'] ?? {}, key === undefined ? {} : { idempotencyKey: key });
    const out = JSON.stringify({ function: name, ...queued });
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out), 'x-request-id': requestId });
    res.end(out);
    return true;
  };
}
