/**
 * @module
 * `@vercel/functions` for functions running on Outpost: `geolocation(request)` and
 * `ipAddress(request)` read the `x-vercel-ip-*` and `x-real-ip` headers that Outpost's Vercel
 * adapter sets on every request from the gateway's request metadata (client-sent copies are
 * replaced, so they cannot be spoofed past a trusted proxy); `waitUntil` extends the current
 * invocation through the request context Vercel's own runtime publishes on
 * `globalThis[Symbol.for('@vercel/request-context')]`, which the adapter provides.
 * Web APIs only: this module is bundled into the function.
 */

export const CITY_HEADER_NAME = 'x-vercel-ip-city';
export const COUNTRY_HEADER_NAME = 'x-vercel-ip-country';
export const IP_HEADER_NAME = 'x-real-ip';
export const LATITUDE_HEADER_NAME = 'x-vercel-ip-latitude';
export const LONGITUDE_HEADER_NAME = 'x-vercel-ip-longitude';
export const REGION_HEADER_NAME = 'x-vercel-ip-country-region';
export const POSTAL_CODE_HEADER_NAME = 'x-vercel-ip-postal-code';
export const REQUEST_ID_HEADER_NAME = 'x-vercel-id';

export interface Geo {
  city?: string;
  country?: string;
  flag?: string;
  region?: string;
  countryRegion?: string;
  latitude?: string;
  longitude?: string;
  postalCode?: string;
}

interface HeaderSource {
  headers: { get(name: string): string | null };
}

function header(request: HeaderSource, name: string): string | undefined {
  return request.headers.get(name) ?? undefined;
}

function decoded(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** 🇩🇪 from "DE": two regional indicator symbols. */
export function countryFlag(country: string | undefined): string | undefined {
  if (country === undefined || !/^[A-Za-z]{2}$/.test(country)) return undefined;
  return String.fromCodePoint(...[...country.toUpperCase()].map((c) => 0x1f1a5 + (c.codePointAt(0) ?? 0)));
}

/** The client's location as Vercel reports it; fields are absent when unknown. */
export function geolocation(request: HeaderSource): Geo {
  const country = header(request, COUNTRY_HEADER_NAME);
  const geo: Geo = {};
  const set = (key: keyof Geo, value: string | undefined): void => {
    if (value !== undefined && value !== '') geo[key] = value;
  };
  set('city', decoded(header(request, CITY_HEADER_NAME)));
  set('country', country);
  set('flag', countryFlag(country));
  set('countryRegion', header(request, REGION_HEADER_NAME));
  set('region', header(request, REQUEST_ID_HEADER_NAME)?.split(':')[0]);
  set('latitude', header(request, LATITUDE_HEADER_NAME));
  set('longitude', header(request, LONGITUDE_HEADER_NAME));
  set('postalCode', header(request, POSTAL_CODE_HEADER_NAME));
  return geo;
}

/** The client's IP address (`x-real-ip`), or undefined. */
export function ipAddress(request: HeaderSource): string | undefined {
  return header(request, IP_HEADER_NAME);
}

interface RequestContext {
  waitUntil?: (promise: Promise<unknown>) => void;
  headers?: Record<string, string | undefined>;
}

const CONTEXT = Symbol.for('@vercel/request-context');

function requestContext(): RequestContext | undefined {
  const holder = (globalThis as Record<symbol, { get?: () => RequestContext | undefined } | undefined>)[CONTEXT];
  return holder?.get?.();
}

/** Keeps the invocation alive until `promise` settles (work after the response). */
export function waitUntil(promise: Promise<unknown>): void {
  const ctx = requestContext();
  if (!ctx?.waitUntil) throw new Error('waitUntil() can only be called while a request is being handled');
  ctx.waitUntil(promise);
}

/** The Vercel system environment variables the function sees. */
export function getEnv(): Record<string, string | undefined> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const out: Record<string, string | undefined> = {};
  for (const key of ['VERCEL', 'CI', 'VERCEL_ENV', 'VERCEL_URL', 'VERCEL_BRANCH_URL', 'VERCEL_PROJECT_PRODUCTION_URL', 'VERCEL_REGION', 'VERCEL_DEPLOYMENT_ID', 'VERCEL_GIT_COMMIT_SHA']) {
    out[key] = env[key];
  }
  return out;
}
