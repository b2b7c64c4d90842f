/**
 * @module
 * Cookie jars with the API Next.js exposes as `request.cookies` (RequestCookies) and
 * `response.cookies` (ResponseCookies): parse the `cookie` request header, write `set-cookie`
 * response headers. Web APIs only — this is bundled into the function.
 */

export interface RequestCookie {
  name: string;
  value: string;
}

export interface ResponseCookie extends RequestCookie {
  domain?: string;
  expires?: number | Date;
  httpOnly?: boolean;
  maxAge?: number;
  partitioned?: boolean;
  path?: string;
  priority?: 'low' | 'medium' | 'high';
  sameSite?: 'strict' | 'lax' | 'none' | boolean;
  secure?: boolean;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `a=1; b=2` → Map; the first occurrence of a name wins, as browsers send the most specific first. */
export function parseCookieHeader(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const pair of header.split(/;\s*/)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    const value = eq === -1 ? 'true' : pair.slice(eq + 1).trim();
    if (name !== '' && !out.has(name)) out.set(name, safeDecode(value));
  }
  return out;
}

/** One `set-cookie` header value. */
export function serializeCookie(c: ResponseCookie): string {
  const parts = [`${c.name}=${encodeURIComponent(c.value)}`];
  if (c.path !== undefined) parts.push(`Path=${c.path}`);
  if (c.expires !== undefined) parts.push(`Expires=${(typeof c.expires === 'number' ? new Date(c.expires) : c.expires).toUTCString()}`);
  if (c.maxAge !== undefined) parts.push(`Max-Age=${c.maxAge}`);
  if (c.domain !== undefined) parts.push(`Domain=${c.domain}`);
  if (c.secure) parts.push('Secure');
  if (c.httpOnly) parts.push('HttpOnly');
  if (c.sameSite !== undefined && c.sameSite !== false) {
    const s = c.sameSite === true ? 'strict' : c.sameSite;
    parts.push(`SameSite=${s[0]?.toUpperCase() ?? ''}${s.slice(1)}`);
  }
  if (c.partitioned) parts.push('Partitioned');
  if (c.priority !== undefined) parts.push(`Priority=${c.priority}`);
  return parts.join('; ');
}

/** `set-cookie` value → cookie (attributes read case-insensitively). */
export function parseSetCookie(header: string): ResponseCookie | undefined {
  const [pair = '', ...attributes] = header.split(/;\s*/);
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const cookie: ResponseCookie = { name: pair.slice(0, eq), value: safeDecode(pair.slice(eq + 1)) };
  for (const attr of attributes) {
    const i = attr.indexOf('=');
    const key = (i === -1 ? attr : attr.slice(0, i)).toLowerCase();
    const value = i === -1 ? '' : attr.slice(i + 1);
    if (key === 'path') cookie.path = value;
    else if (key === 'domain') cookie.domain = value;
    else if (key === 'expires') cookie.expires = new Date(value);
    else if (key === 'max-age') cookie.maxAge = Number(value);
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'partitioned') cookie.partitioned = true;
    else if (key === 'samesite') cookie.sameSite = value.toLowerCase() as 'strict' | 'lax' | 'none';
    else if (key === 'priority') cookie.priority = value.toLowerCase() as 'low' | 'medium' | 'high';
  }
  return cookie;
}

function nameOf(arg: string | { name: string }): string {
  return typeof arg === 'string' ? arg : arg.name;
}

/** `request.cookies`: reads the `cookie` header; set/delete rewrite it (as middleware does). */
export class RequestCookies {
  readonly #headers: Headers;
  readonly #parsed: Map<string, string>;

  constructor(requestHeaders: Headers) {
    this.#headers = requestHeaders;
    this.#parsed = parseCookieHeader(requestHeaders.get('cookie'));
  }

  [Symbol.iterator](): IterableIterator<[string, RequestCookie]> {
    return new Map([...this.#parsed].map(([name, value]) => [name, { name, value }] as [string, RequestCookie]))[Symbol.iterator]();
  }

  get size(): number {
    return this.#parsed.size;
  }

  get(arg: string | { name: string }): RequestCookie | undefined {
    const name = nameOf(arg);
    const value = this.#parsed.get(name);
    return value === undefined ? undefined : { name, value };
  }

  getAll(arg?: string | { name: string }): RequestCookie[] {
    const all = [...this.#parsed].map(([name, value]) => ({ name, value }));
    return arg === undefined ? all : all.filter((c) => c.name === nameOf(arg));
  }

  has(name: string): boolean {
    return this.#parsed.has(name);
  }

  set(...args: [string, string] | [RequestCookie]): this {
    const [name, value] = args.length === 1 ? [args[0].name, args[0].value] : args;
    this.#parsed.set(name, value);
    this.#write();
    return this;
  }

  delete(names: string | string[]): boolean | boolean[] {
    const result = (Array.isArray(names) ? names : [names]).map((n) => this.#parsed.delete(n));
    this.#write();
    return Array.isArray(names) ? result : (result[0] ?? false);
  }

  clear(): this {
    this.#parsed.clear();
    this.#write();
    return this;
  }

  toString(): string {
    return [...this.#parsed].map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join('; ');
  }

  #write(): void {
    if (this.#parsed.size === 0) this.#headers.delete('cookie');
    else this.#headers.set('cookie', this.toString());
  }
}

/** `response.cookies`: every change rewrites the response's `set-cookie` headers. */
export class ResponseCookies {
  readonly #headers: Headers;
  readonly #parsed = new Map<string, ResponseCookie>();

  constructor(responseHeaders: Headers) {
    this.#headers = responseHeaders;
    for (const header of responseHeaders.getSetCookie()) {
      const c = parseSetCookie(header);
      if (c) this.#parsed.set(c.name, c);
    }
  }

  get(arg: string | { name: string }): ResponseCookie | undefined {
    return this.#parsed.get(nameOf(arg));
  }

  getAll(arg?: string | { name: string }): ResponseCookie[] {
    const all = [...this.#parsed.values()];
    return arg === undefined ? all : all.filter((c) => c.name === nameOf(arg));
  }

  has(name: string): boolean {
    return this.#parsed.has(name);
  }

  set(...args: [string, string, Partial<ResponseCookie>?] | [ResponseCookie]): this {
    const cookie: ResponseCookie = args.length === 1 ? { ...args[0] } : { ...(args[2] ?? {}), name: args[0], value: args[1] };
    if (cookie.path === undefined) cookie.path = '/';
    if (typeof cookie.maxAge === 'number' && cookie.expires === undefined) cookie.expires = new Date(Date.now() + cookie.maxAge * 1000);
    this.#parsed.set(cookie.name, cookie);
    this.#write();
    return this;
  }

  /** Expires the cookie in the browser (an empty value with an expiry in 1970). */
  delete(arg: string | Omit<ResponseCookie, 'value' | 'expires'>): this {
    const base = typeof arg === 'string' ? { name: arg } : arg;
    return this.set({ path: '/', ...base, value: '', expires: new Date(0) });
  }

  toString(): string {
    return [...this.#parsed.values()].map(serializeCookie).join('; ');
  }

  #write(): void {
    this.#headers.delete('set-cookie');
    for (const c of this.#parsed.values()) this.#headers.append('set-cookie', serializeCookie(c));
  }
}
