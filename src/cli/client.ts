/**
 * @module
 * The CLI's client for a node's control API. Errors come back as the node's OutpostErrors.
 */
import { OutpostError } from '../errors.ts';

export interface ClientOptions {
  url: string;
  token?: string;
}

export async function api<T>(options: ClientOptions, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL(`/_outpost/api/${path}`, options.url), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new OutpostError('NODE_UNREACHABLE', `could not reach an Outpost node at ${options.url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`, {
      fault: 'user',
      hint: 'start one with `outpost serve` or pass --to <url>',
    });
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new OutpostError('BAD_RESPONSE', `the node answered ${response.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const e = (json as { error?: { code?: string; message?: string; hint?: string; details?: Record<string, unknown> } }).error ?? {};
    throw new OutpostError(e.code ?? 'REQUEST_FAILED', e.message ?? `request failed with ${response.status}`, {
      status: response.status,
      fault: 'user',
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.details ? { details: e.details } : {}),
    });
  }
  return json as T;
}

/** The node a remote command talks to: --to / $OUTPOST_URL, with --token / $OUTPOST_TOKEN. */
export function clientFrom(values: Record<string, string | boolean | undefined>): ClientOptions {
  const url = typeof values['to'] === 'string' ? values['to'] : (process.env['OUTPOST_URL'] ?? 'http://127.0.0.1:8787');
  const token = typeof values['token'] === 'string' ? values['token'] : process.env['OUTPOST_TOKEN'];
  return { url, ...(token ? { token } : {}) };
}

/** Prints the result as JSON with --json, else the human-readable text. */
export function printResult(values: Record<string, string | boolean | undefined>, json: unknown, human: string): void {
  process.stdout.write(values['json'] ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`);
}
