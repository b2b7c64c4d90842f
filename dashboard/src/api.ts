/**
 * @module
 * The node's JSON API as the dashboard calls it: same origin, `Authorization: Bearer <token>`,
 * the token kept in sessionStorage (gone when the tab closes, never in a cookie the browser
 * would send on its own). Several endpoints are newer than some nodes, so a 404 from an API
 * route is an answer of its own ("no data yet"), not an error.
 */

const TOKEN_KEY = 'outpost.token';
export const API = '/_outpost/api';

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** An API answer that was not 2xx, with the node's error code and message when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Listeners told when the node refuses the token, so the app can go back to the login page. */
const onUnauthorized = new Set<() => void>();
export function whenUnauthorized(listener: () => void): () => void {
  onUnauthorized.add(listener);
  return () => onUnauthorized.delete(listener);
}

export function authHeaders(token = storedToken()): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `the node answered ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } | string; message?: string; code?: string };
    const e = typeof body.error === 'object' ? body.error : body;
    if (typeof e.code === 'string') code = e.code;
    if (typeof e.message === 'string') message = e.message;
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, code, message);
}

/** Calls the API; throws ApiError on any non-2xx answer (and tells listeners on 401). */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal; token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(init.token) };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${API}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && init.token === undefined) for (const l of onUnauthorized) l();
    throw error;
  }
  return (await response.json()) as T;
}

/** Like {@link api}, but an endpoint this node does not have yet (404) resolves to undefined. */
export async function optionalApi<T>(path: string, init: { signal?: AbortSignal } = {}): Promise<T | undefined> {
  try {
    return await api<T>(path, init);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** A query string from the defined, non-empty values of `params` (with its leading `?`). */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
