/**
 * @module
 * `next/server` for Next.js route handlers running on Outpost: NextRequest (a Request with
 * `nextUrl`, `cookies`, and Next 14's `geo` and `ip`), NextResponse (a Response with `cookies`
 * and the static `json`, `redirect`, `rewrite` and `next`), NextURL, `userAgent()` and `after()`.
 * Geo and ip are read from the `x-vercel-ip-*` / `x-real-ip` headers the Vercel adapter sets
 * from the gateway's request metadata.
 *
 * The Vercel adapter constructs the NextRequest a handler receives. So that `instanceof` agrees
 * between the adapter's copy of these classes and the one bundled into the function, the
 * adapter publishes its classes on `globalThis[Symbol.for('outpost.next-server')]` and this
 * module exports those when present.
 */
import { RequestCookies, ResponseCookies } from './cookies.ts';
import { geolocation, ipAddress, waitUntil } from './vercel-functions.ts';

export { RequestCookies, ResponseCookies } from './cookies.ts';
export type { RequestCookie, ResponseCookie } from './cookies.ts';

const INTERNALS = Symbol('internal request');

/** Next's URL: a URL with basePath, locale and buildId (always empty here: next.config is not read). */
class LocalNextURL extends URL {
  basePath = '';
  buildId: string | undefined = undefined;
  locale = '';
  defaultLocale: string | undefined = undefined;
  domainLocale: unknown = undefined;

  clone(): LocalNextURL {
    return new LocalNextURL(this.href);
  }
}

export interface NextRequestGeo {
  city?: string;
  country?: string;
  region?: string;
  latitude?: string;
  longitude?: string;
}

export interface NextRequestInit extends RequestInit {
  geo?: NextRequestGeo;
  ip?: string;
  nextConfig?: unknown;
}

interface RequestInternals {
  cookies: RequestCookies;
  geo: NextRequestGeo;
  ip: string | undefined;
  nextUrl: LocalNextURL;
}

class LocalNextRequest extends Request {
  readonly #url: string;
  readonly #geo: NextRequestGeo | undefined;
  readonly #ip: string | undefined;
  #internals: RequestInternals | undefined;

  constructor(input: URL | RequestInfo, init: NextRequestInit = {}) {
    const url = typeof input !== 'string' && 'url' in input ? input.url : String(input);
    const { geo, ip, nextConfig: _nextConfig, ...rest } = init;
    const requestInit: RequestInit & { duplex?: 'half' } = rest;
    if (input instanceof Request && input.body !== null && rest.body === undefined) requestInit.duplex = 'half';
    super(input, requestInit);
    this.#url = url;
    this.#geo = geo;
    this.#ip = ip;
  }

  /** Cookies, geo, ip and nextUrl are worked out on first use: most handlers read one or none. */
  get [INTERNALS](): RequestInternals {
    if (this.#internals) return this.#internals;
    const g = geolocation(this);
    const derived: NextRequestGeo = {};
    if (g.city !== undefined) derived.city = g.city;
    if (g.country !== undefined) derived.country = g.country;
    if (g.countryRegion !== undefined) derived.region = g.countryRegion;
    if (g.latitude !== undefined) derived.latitude = g.latitude;
    if (g.longitude !== undefined) derived.longitude = g.longitude;
    this.#internals = {
      cookies: new RequestCookies(this.headers),
      geo: this.#geo ?? derived,
      ip: this.#ip ?? ipAddress(this) ?? this.headers.get('x-forwarded-for')?.split(',')[0]?.trim(),
      nextUrl: new LocalNextURL(this.#url),
    };
    return this.#internals;
  }

  get cookies(): RequestCookies {
    return this[INTERNALS].cookies;
  }

  /** Next 14 (removed in 15 in favour of `geolocation()` from @vercel/functions). */
  get geo(): NextRequestGeo {
    return this[INTERNALS].geo;
  }

  /** Next 14 (removed in 15 in favour of `ipAddress()` from @vercel/functions). */
  get ip(): string | undefined {
    return this[INTERNALS].ip;
  }

  get nextUrl(): LocalNextURL {
    return this[INTERNALS].nextUrl;
  }

  /** Next's deprecated `page` (pages router only); empty here. */
  get page(): { name?: string; params?: Record<string, string> } {
    return {};
  }

  /** Next's deprecated `ua`; use userAgent(request). */
  get ua(): undefined {
    return undefined;
  }
}

function validUrl(url: string | URL): string {
  try {
    return String(new URL(String(url)));
  } catch (error) {
    throw new Error(`URL is malformed "${String(url)}". Please use only absolute URLs - https://nextjs.org/docs/messages/middleware-relative-urls`, { cause: error });
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface MiddlewareResponseInit extends ResponseInit {
  request?: { headers?: Headers };
}

/** Carries `x-middleware-override-headers` for NextResponse.next/rewrite({ request: { headers } }). */
function overrideRequestHeaders(init: MiddlewareResponseInit | undefined, headers: Headers): void {
  const requestHeaders = init?.request?.headers;
  if (!requestHeaders) return;
  const names: string[] = [];
  requestHeaders.forEach((value, key) => {
    headers.set(`x-middleware-request-${key}`, value);
    names.push(key);
  });
  headers.set('x-middleware-override-headers', names.join(','));
}

class LocalNextResponse<Body = unknown> extends Response {
  readonly #cookies: ResponseCookies;
  /** Phantom type of the JSON body (for NextResponse<T> annotations); never set. */
  declare readonly __body?: Body;

  constructor(body?: BodyInit | null, init: ResponseInit = {}) {
    super(body, init);
    this.#cookies = new ResponseCookies(this.headers);
  }

  get cookies(): ResponseCookies {
    return this.#cookies;
  }

  static override json<T>(body: T, init?: ResponseInit): LocalNextResponse<T> {
    const response = Response.json(body, init);
    return new LocalNextResponse<T>(response.body, response);
  }

  static override redirect(url: string | URL, init?: number | ResponseInit): LocalNextResponse {
    const status = typeof init === 'number' ? init : (init?.status ?? 307);
    if (!REDIRECTS.has(status)) throw new RangeError('Failed to execute "redirect" on "response": Invalid status code');
    const base = typeof init === 'object' ? init : {};
    const headers = new Headers(base.headers);
    headers.set('Location', validUrl(url));
    return new LocalNextResponse(null, { ...base, headers, status });
  }

  static rewrite(destination: string | URL, init?: MiddlewareResponseInit): LocalNextResponse {
    const headers = new Headers(init?.headers);
    headers.set('x-middleware-rewrite', validUrl(destination));
    overrideRequestHeaders(init, headers);
    return new LocalNextResponse(null, { ...init, headers });
  }

  static next(init?: MiddlewareResponseInit): LocalNextResponse {
    const headers = new Headers(init?.headers);
    headers.set('x-middleware-next', '1');
    overrideRequestHeaders(init, headers);
    return new LocalNextResponse(null, { ...init, headers });
  }
}

/** What the adapter publishes so both copies of this module share classes. */
export interface NextServerClasses {
  NextRequest: typeof LocalNextRequest;
  NextResponse: typeof LocalNextResponse;
  NextURL: typeof LocalNextURL;
}

export const NEXT_SERVER_GLOBAL = Symbol.for('outpost.next-server');
const shared = (globalThis as Record<symbol, NextServerClasses | undefined>)[NEXT_SERVER_GLOBAL];

export const NextRequest: typeof LocalNextRequest = shared?.NextRequest ?? LocalNextRequest;
export type NextRequest = LocalNextRequest;
export const NextResponse: typeof LocalNextResponse = shared?.NextResponse ?? LocalNextResponse;
export type NextResponse<Body = unknown> = LocalNextResponse<Body>;
export const NextURL: typeof LocalNextURL = shared?.NextURL ?? LocalNextURL;
export type NextURL = LocalNextURL;

/** The classes defined by this copy of the module (the adapter publishes these). */
export const LOCAL_CLASSES: NextServerClasses = { NextRequest: LocalNextRequest, NextResponse: LocalNextResponse, NextURL: LocalNextURL };

export interface UserAgent {
  isBot: boolean;
  ua: string;
  browser: { name?: string; version?: string };
  device: { model?: string; type?: string; vendor?: string };
  engine: { name?: string; version?: string };
  os: { name?: string; version?: string };
  cpu: { architecture?: string };
}

function match(ua: string, re: RegExp): string | undefined {
  return re.exec(ua)?.[1];
}

/**
 * A small user-agent parse (Next bundles ua-parser-js; this covers the common browsers,
 * engines, operating systems and bots, not every device model).
 */
export function userAgent(request: { headers: Headers }): UserAgent {
  const ua = request.headers.get('user-agent') ?? '';
  const browser: UserAgent['browser'] = {};
  const browsers: Array<[string, RegExp]> = [['Edge', /Edg(?:e|A|iOS)?\/([\d.]+)/], ['Opera', /OPR\/([\d.]+)/], ['Chrome', /Chrome\/([\d.]+)/], ['Firefox', /Firefox\/([\d.]+)/], ['Safari', /Version\/([\d.]+).*Safari/]];
  for (const [name, re] of browsers) {
    const version = match(ua, re);
    if (version !== undefined) {
      browser.name = name;
      browser.version = version;
      break;
    }
  }
  const os: UserAgent['os'] = {};
  if (/Windows NT/.test(ua)) Object.assign(os, { name: 'Windows', version: match(ua, /Windows NT ([\d.]+)/) });
  else if (/Android/.test(ua)) Object.assign(os, { name: 'Android', version: match(ua, /Android ([\d.]+)/) });
  else if (/iPhone|iPad|iPod/.test(ua)) Object.assign(os, { name: 'iOS', version: match(ua, /OS ([\d_]+)/)?.replace(/_/g, '.') });
  else if (/Mac OS X/.test(ua)) Object.assign(os, { name: 'Mac OS', version: match(ua, /Mac OS X ([\d_.]+)/)?.replace(/_/g, '.') });
  else if (/Linux/.test(ua)) os.name = 'Linux';
  for (const key of Object.keys(os) as Array<keyof typeof os>) if (os[key] === undefined) delete os[key];
  const engine: UserAgent['engine'] = {};
  if (/AppleWebKit/.test(ua) && /Chrome/.test(ua)) engine.name = 'Blink';
  else if (/AppleWebKit/.test(ua)) engine.name = 'WebKit';
  else if (/Gecko\//.test(ua)) engine.name = 'Gecko';
  const device: UserAgent['device'] = {};
  if (/Mobile|iPhone|Android.*Mobile/.test(ua)) device.type = 'mobile';
  else if (/iPad|Tablet/.test(ua)) device.type = 'tablet';
  return { isBot: /bot|crawler|spider|crawling|slurp/i.test(ua), ua, browser, device, engine, os, cpu: {} };
}

/** Next 15's `after(callback)`: runs after the response, kept alive with waitUntil. */
export function after(task: Promise<unknown> | (() => unknown)): void {
  waitUntil(typeof task === 'function' ? Promise.resolve().then(task) : task);
}

/** `connection()` (Next 15): resolves immediately — every Outpost request is dynamic. */
export async function connection(): Promise<void> {}

export class ImageResponse extends Response {
  constructor() {
    super(null);
    throw new Error('ImageResponse (next/og) is not supported by Outpost');
  }
}

/** Next's URLPattern re-export. */
export const URLPattern: unknown = (globalThis as { URLPattern?: unknown }).URLPattern;
