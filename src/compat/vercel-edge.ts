/**
 * @module
 * `@vercel/edge` (the older package of edge helpers): geolocation, ipAddress and the
 * middleware responses `next()` and `rewrite()`. Web APIs only: bundled into the function.
 */
export { geolocation, ipAddress, getEnv, waitUntil, CITY_HEADER_NAME, COUNTRY_HEADER_NAME, IP_HEADER_NAME, LATITUDE_HEADER_NAME, LONGITUDE_HEADER_NAME, REGION_HEADER_NAME, REQUEST_ID_HEADER_NAME } from './vercel-functions.ts';
export type { Geo } from './vercel-functions.ts';

interface ExtraResponseInit extends Omit<ResponseInit, 'headers'> {
  headers?: HeadersInit;
  request?: { headers?: Headers };
}

function middlewareHeaders(init: ExtraResponseInit | undefined): Headers {
  const headers = new Headers(init?.headers);
  const requestHeaders = init?.request?.headers;
  if (requestHeaders) {
    const names: string[] = [];
    requestHeaders.forEach((value, key) => {
      headers.set(`x-middleware-request-${key}`, value);
      names.push(key);
    });
    headers.set('x-middleware-override-headers', names.join(','));
  }
  return headers;
}

/** Continue to the route (middleware). */
export function next(init?: ExtraResponseInit): Response {
  const headers = middlewareHeaders(init);
  headers.set('x-middleware-next', '1');
  return new Response(null, { ...init, headers });
}

/** Serve `destination` instead (middleware). */
export function rewrite(destination: string | URL, init?: ExtraResponseInit): Response {
  const headers = middlewareHeaders(init);
  headers.set('x-middleware-rewrite', String(destination));
  return new Response(null, { ...init, headers });
}
