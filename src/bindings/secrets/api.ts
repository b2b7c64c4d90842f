/**
 * @module
 * The control API's secret routes (behind the control API's auth), used by `outpost secret`:
 *
 *   GET    /_outpost/api/functions/<fn>/secrets          { secrets: [{ name, updatedAt }] } — names only
 *   PUT    /_outpost/api/functions/<fn>/secrets/<name>   { value } → { name, function }
 *   DELETE /_outpost/api/functions/<fn>/secrets/<name>   → { deleted }
 *
 * No route returns a value.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError } from '../../errors.ts';
import type { SecretVault } from './index.ts';
import { sendJson } from '../../control/http.ts';

const send = (res: ServerResponse, value: unknown, requestId: string): void => sendJson(res, 200, value, requestId);

const PREFIX = '/_outpost/api/functions/';

async function readValue(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > 64 * 1024) throw new OutpostError('BODY_TOO_LARGE', 'request body exceeds 64 KiB', { status: 413, fault: 'user' });
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new OutpostError('INVALID_JSON', 'the request body must be JSON: { "value": "…" }', { status: 400, fault: 'user' });
  }
  const value = (body as { value?: unknown } | null)?.value;
  if (typeof value !== 'string') throw new OutpostError('INVALID_SECRET', 'the body must be { "value": "<string>" }', { status: 400, fault: 'user' });
  return value;
}


export function secretsApi(vault: SecretVault): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean> {
  return async (req, res, requestId) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!path.startsWith(PREFIX)) return false;
    const parts = path.slice(PREFIX.length).split('/').map(decodeURIComponent);
    const [fn, what, name] = parts;
    if (fn === undefined || what !== 'secrets' || parts.length > 3) return false;
    const method = req.method ?? 'GET';
    if (name === undefined && method === 'GET') {
      send(res, { function: fn, secrets: await vault.list(fn) }, requestId);
      return true;
    }
    if (name !== undefined && method === 'PUT') {
      await vault.put(fn, name, await readValue(req));
      send(res, { function: fn, name }, requestId);
      return true;
    }
    if (name !== undefined && method === 'DELETE') {
      await vault.delete(fn, name);
      send(res, { function: fn, deleted: name }, requestId);
      return true;
    }
    return false;
  };
}
