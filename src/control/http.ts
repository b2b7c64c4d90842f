/**
 * @module
 * JSON in and out for the control API and the routes capabilities add to it: one way to read
 * a bounded JSON body and one way to answer, so every route fails the same way on bad input.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError } from '../errors.ts';

const DEFAULT_LIMIT = 1024 * 1024;

/** The request body parsed as JSON (any value; `{}` when empty), at most `limit` bytes. */
export async function readJsonValue(req: IncomingMessage, limit = DEFAULT_LIMIT): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) throw new OutpostError('BODY_TOO_LARGE', `the request body exceeds ${limit} bytes`, { status: 413, fault: 'user' });
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new OutpostError('INVALID_JSON', 'the request body is not valid JSON', { status: 400, fault: 'user' });
  }
}

/** The request body as a JSON object; anything else is INVALID_JSON. */
export async function readJsonObject(req: IncomingMessage, limit = DEFAULT_LIMIT): Promise<Record<string, unknown>> {
  const value = await readJsonValue(req, limit);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new OutpostError('INVALID_JSON', 'the request body must be a JSON object', { status: 400, fault: 'user' });
}

/** Answers with `value` as JSON and the request id. */
export function sendJson(res: ServerResponse, status: number, value: unknown, requestId: string): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId });
  res.end(body);
}
