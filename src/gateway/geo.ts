/**
 * @module
 * One request-metadata record per request: the client address and where it is. In dev the
 * client's own geo headers are trusted (so a location can be simulated); in serve only headers
 * set by configured proxies are. The record is projected into every platform's shape by the
 * adapters (`request.cf`, Vercel's geo/ip, CloudFront's viewer headers, Deno's remoteAddr).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestMeta } from '../runtime/protocol.ts';

const COUNTRY_HEADERS = ['cf-ipcountry', 'x-vercel-ip-country', 'cloudfront-viewer-country', 'x-country-code'] as const;

function first(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface GeoPolicy {
  /** Trust client-supplied geo and x-forwarded-for headers from any peer (dev). */
  trustAll: boolean;
  /** Peers whose geo and x-forwarded-for headers are trusted (serve). */
  trustedProxies: ReadonlySet<string>;
  /** `colo` / region name reported to functions. */
  region: string;
}

export function requestMeta(headers: IncomingHttpHeaders, remoteAddress: string, policy: GeoPolicy): RequestMeta {
  const peer = remoteAddress.replace(/^::ffff:/, '');
  const trusted = policy.trustAll || policy.trustedProxies.has(peer);
  const cf: Record<string, string | number> = { colo: policy.region, httpProtocol: 'HTTP/1.1', clientTcpRtt: 0 };
  if (!trusted) return { ip: peer, cf };
  const forwarded = first(headers, 'x-forwarded-for')?.split(',')[0]?.trim();
  const ip = first(headers, 'cf-connecting-ip') ?? first(headers, 'x-real-ip') ?? forwarded ?? peer;
  for (const h of COUNTRY_HEADERS) {
    const country = first(headers, h);
    if (country) {
      cf['country'] = country.toUpperCase();
      break;
    }
  }
  const fields: Array<[string, string]> = [
    ['city', 'x-vercel-ip-city'], ['region', 'x-vercel-ip-country-region'], ['latitude', 'x-vercel-ip-latitude'],
    ['longitude', 'x-vercel-ip-longitude'], ['timezone', 'x-vercel-ip-timezone'], ['postalCode', 'x-vercel-ip-postal-code'],
    ['continent', 'cf-ipcontinent'], ['city', 'cf-ipcity'], ['latitude', 'cf-iplatitude'], ['longitude', 'cf-iplongitude'],
    ['timezone', 'cf-timezone'], ['region', 'cloudfront-viewer-country-region'], ['city', 'cloudfront-viewer-city'],
  ];
  for (const [key, header] of fields) {
    const value = first(headers, header);
    if (value !== undefined && cf[key] === undefined) cf[key] = safeDecode(value);
  }
  return { ip, cf };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
