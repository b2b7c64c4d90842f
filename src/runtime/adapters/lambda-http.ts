/**
 * @module
 * Translates between a plain HTTP request/response (as the Outpost host sees it) and the event
 * and result shapes that Amazon API Gateway exchanges with a Lambda proxy integration:
 *
 * - REST APIs, "Lambda proxy integration" input/output format (payload version 1.0):
 *   {@link toRestApiEvent} / {@link fromRestApiResult}.
 * - HTTP APIs, payload format version 2.0: {@link toHttpApiEvent} / {@link fromHttpApiResult}.
 *
 * This file runs inside the function's isolate, where Node's globals are gone, so it only uses
 * Web APIs (TextEncoder/TextDecoder, URL, URLSearchParams). It also exports the small binary
 * helpers ({@link encodeBase64}, {@link decodeBase64}, {@link isTextBody}) that the Lambda@Edge
 * adapter shares.
 *
 * Decisions that AWS leaves implicit, written down once here:
 *
 * **Text or base64 request body.** Real API Gateway base64-encodes a REST body only when its
 * content type matches the API's `binaryMediaTypes`; Outpost has no such setting, so it decides
 * per request with {@link isTextBody}: a body is passed as text when (1) it is valid UTF-8,
 * (2) the request has no `content-encoding` (other than `identity`), and (3) the content type is
 * absent or textual (`text/*`, JSON, XML, JavaScript, form-urlencoded, GraphQL, YAML, CSV and
 * their `+json`/`+xml` suffixes, or any type carrying a `charset` parameter). Everything else is
 * base64 with `isBase64Encoded: true`. The rule never corrupts bytes: anything that would not
 * survive a UTF-8 round trip is base64.
 *
 * **Header names.** The host hands us lower-case names only (Node lower-cases them), so events
 * carry lower-case names where AWS would keep the client's spelling in payload 1.0. Handlers that
 * read `event.headers['Content-Type']` in exact case must read lower case here; payload 2.0 is
 * lower-case on AWS too.
 *
 * **Paths and the stage.** The host's URL does not contain the stage, so `path`/`rawPath` are the
 * path as received (still percent-encoded). REST `requestContext.path` gets the `/{stage}`
 * prefix like a request to the default `execute-api` domain does (not for `$default`).
 *
 * **Query strings** are decoded with WHATWG form rules (`URLSearchParams`: percent-decoding and
 * `+` → space); `rawQueryString` keeps the original text.
 */

/** A plain description of an HTTP request, produced by the host. */
export interface HttpRequestInfo {
  /** Request method, e.g. `'GET'`. */
  method: string;
  /** Absolute URL, e.g. `'http://127.0.0.1:8787/users/1?a=1&a=2'`. */
  url: string;
  /** Lower-case names in arrival order; repeated names allowed. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array | null;
  sourceIp: string;
  /** Used for `requestContext.requestId`. */
  requestId: string;
  requestTimeEpochMs: number;
}

/** Which API Gateway route matched (the host's router found it). */
export interface ApiRoute {
  /** `'/users/{id}'`: payload 1.0 `resource`; the 2.0 route key is `${method} ${resource}` unless given. */
  resource: string;
  /** Payload 2.0 route key, e.g. `'GET /items/{itemId}'` or `'$default'`. */
  routeKey?: string;
  /** Already extracted and URL-decoded. */
  pathParameters: Record<string, string>;
  /** `'$default'` for an HTTP API's default stage, `'dev'` etc. for REST. */
  stage: string;
  /** Defaults to {@link DEFAULT_API_ID}. */
  apiId?: string;
  /** Defaults to {@link DEFAULT_ACCOUNT_ID}. */
  accountId?: string;
  /** `requestContext.authorizer`, e.g. `{ jwt: { claims, scopes } }` for payload 2.0. */
  authorizer?: Record<string, unknown>;
}

/**
 * `requestContext.authorizer` for what the gateway's auth policies returned: a JWT authorizer's
 * `{ jwt: { claims, scopes } }`, or a Lambda authorizer's context (flat, with `principalId`).
 * Payload 2.0 keeps `jwt` and puts a Lambda authorizer's context under `lambda`; payload 1.0
 * (REST) has the context flat, its values as strings (as REST APIs pass them), and JWT claims
 * under `claims`, as Cognito authorizers do.
 */
export function apiGatewayAuthorizer(payloadVersion: '1.0' | '2.0', authorizer: Record<string, unknown>): Record<string, unknown> {
  const jwt = authorizer['jwt'];
  if (typeof jwt === 'object' && jwt !== null) {
    const { claims, scopes } = jwt as { claims?: unknown; scopes?: unknown };
    return payloadVersion === '2.0' ? { jwt: { claims, scopes } } : { claims, ...(scopes ? { scopes } : {}) };
  }
  if (payloadVersion === '1.0') {
    const flat: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(authorizer)) flat[name] = value === null || typeof value === 'object' ? value : String(value);
    return flat;
  }
  const { principalId: _principalId, ...context } = authorizer;
  return { lambda: context };
}

/** What the host sends back to the client. Repeated header names are allowed (set-cookie). */
export interface HttpResult {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** A 10-character id in the shape of a real API id, the same for every API unless configured. */
export const DEFAULT_API_ID = 'outpostapi';
/** The account id AWS uses in its own examples for "no real account". */
export const DEFAULT_ACCOUNT_ID = '000000000000';

// ---------------------------------------------------------------------------------------------
// Binary helpers (shared with lambda-edge.ts)
// ---------------------------------------------------------------------------------------------

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_CODES = new TextEncoder().encode(BASE64_ALPHABET);
/** Maps a character code to its 6-bit value, or -1. Accepts the URL-safe alphabet too, as Node's decoder does. */
const BASE64_LOOKUP: Int16Array = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < BASE64_ALPHABET.length; i++) table[BASE64_ALPHABET.charCodeAt(i)] = i;
  table['-'.charCodeAt(0)] = 62;
  table['_'.charCodeAt(0)] = 63;
  return table;
})();

const utf8Encoder = new TextEncoder();
const asciiDecoder = new TextDecoder();
// fatal: reject invalid UTF-8 instead of inserting U+FFFD; ignoreBOM: keep a BOM as a character
// so that text → bytes gives back exactly the bytes we started from.
const strictUtf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Standard base64 (with padding) of any bytes. Writes ASCII into a byte array and decodes it in
 * one call, so multi-megabyte bodies neither build strings char by char nor spread arguments.
 */
export function encodeBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  const whole = bytes.length - (bytes.length % 3);
  for (; i < whole; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out[o++] = BASE64_CODES[(n >> 18) & 63] ?? 0;
    out[o++] = BASE64_CODES[(n >> 12) & 63] ?? 0;
    out[o++] = BASE64_CODES[(n >> 6) & 63] ?? 0;
    out[o++] = BASE64_CODES[n & 63] ?? 0;
  }
  const rest = bytes.length - whole;
  if (rest > 0) {
    const n = ((bytes[i] ?? 0) << 16) | (rest === 2 ? (bytes[i + 1] ?? 0) << 8 : 0);
    out[o++] = BASE64_CODES[(n >> 18) & 63] ?? 0;
    out[o++] = BASE64_CODES[(n >> 12) & 63] ?? 0;
    out[o++] = rest === 2 ? (BASE64_CODES[(n >> 6) & 63] ?? 0) : 61; // '='
    out[o++] = 61;
  }
  return asciiDecoder.decode(out);
}

/**
 * Decodes base64, or returns `null` when the text is not base64. ASCII whitespace is skipped
 * (MIME-style line breaks), padding is optional, and the URL-safe alphabet is accepted; any other
 * character, misplaced `=`, or an impossible length is an error, because AWS answers an invalid
 * base64 body with an error rather than with garbage.
 */
export function decodeBase64(text: string): Uint8Array | null {
  const values = new Uint8Array(text.length);
  let count = 0;
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) continue;
    if (c === 0x3d) {
      padding++;
      continue;
    }
    if (padding > 0) return null; // data after '='
    const v = c < 128 ? (BASE64_LOOKUP[c] ?? -1) : -1;
    if (v < 0) return null;
    values[count++] = v;
  }
  if (padding > 2 || count % 4 === 1) return null;
  if (padding > 0 && (count + padding) % 4 !== 0) return null;
  const out = new Uint8Array(Math.floor((count * 3) / 4));
  let o = 0;
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const n =
      ((values[i] ?? 0) << 18) | ((values[i + 1] ?? 0) << 12) | ((values[i + 2] ?? 0) << 6) | (values[i + 3] ?? 0);
    out[o++] = (n >> 16) & 255;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const rest = count - i;
  if (rest >= 2) {
    const n = ((values[i] ?? 0) << 18) | ((values[i + 1] ?? 0) << 12) | (rest === 3 ? (values[i + 2] ?? 0) << 6 : 0);
    out[o++] = (n >> 16) & 255;
    if (rest === 3) out[o++] = (n >> 8) & 255;
  }
  return out;
}

/** UTF-8 text of the bytes, or `null` when they are not valid UTF-8. */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return strictUtf8Decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** UTF-8 bytes of a string. */
export function encodeUtf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

const TEXT_MEDIA_TYPES = new Set([
  'application/json',
  'application/ld+json',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/x-www-form-urlencoded',
  'application/graphql',
  'application/x-ndjson',
  'application/ndjson',
  'application/yaml',
  'application/x-yaml',
  'application/csv',
  'application/sql',
]);

/**
 * True when a body with this content type and encoding is safe to hand over as a string.
 * See the module comment for the rule; it is shared by every Lambda adapter so that all of them
 * choose text and base64 the same way.
 */
export function isTextBody(bytes: Uint8Array, contentType: string | undefined, contentEncoding?: string): boolean {
  if (contentEncoding !== undefined && contentEncoding.trim() !== '' && contentEncoding.trim().toLowerCase() !== 'identity') {
    return false;
  }
  if (contentType !== undefined && contentType.trim() !== '' && !isTextualContentType(contentType)) return false;
  return decodeUtf8Strict(bytes) !== null;
}

/** `text/*`, the common structured-text types, `+json`/`+xml` suffixes, or anything with a charset. */
export function isTextualContentType(contentType: string): boolean {
  const [essence = '', ...params] = contentType.toLowerCase().split(';');
  const type = essence.trim();
  if (type.startsWith('text/')) return true;
  if (TEXT_MEDIA_TYPES.has(type)) return true;
  if (type.endsWith('+json') || type.endsWith('+xml')) return true;
  return params.some((p) => p.trim().startsWith('charset='));
}

// ---------------------------------------------------------------------------------------------
// Request side
// ---------------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestTime`/`time` format, always UTC: `09/Apr/2015:12:34:56 +0000`. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] ?? 'Jan'}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/** Last value of a (lower-case) header, as payload 1.0's single-value map keeps it. */
function lastHeader(req: HttpRequestInfo, name: string): string | undefined {
  let value: string | undefined;
  for (const [n, v] of req.headers) if (n === name) value = v;
  return value;
}

interface BodyFields {
  body: string | null;
  isBase64Encoded: boolean;
}

function bodyFields(req: HttpRequestInfo): BodyFields {
  if (req.body === null || req.body.length === 0) {
    // An empty POST is indistinguishable from no body for a handler; AWS sends null for both.
    return { body: null, isBase64Encoded: false };
  }
  if (isTextBody(req.body, lastHeader(req, 'content-type'), lastHeader(req, 'content-encoding'))) {
    return { body: decodeUtf8Strict(req.body), isBase64Encoded: false };
  }
  return { body: encodeBase64(req.body), isBase64Encoded: true };
}

/** The host the client addressed: the Host header (what frameworks rebuild URLs from), else the URL's. */
function domainOf(req: HttpRequestInfo, url: URL): string {
  const host = lastHeader(req, 'host') ?? url.host;
  // Strip a port (but not the colons of a bracketed IPv6 literal): domainName is a name.
  return host.replace(/:\d+$/, '');
}

/** Small stable hash (FNV-1a, 32 bit) for ids that must not change between requests. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hasOwnKeys(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

/**
 * Groups name/value pairs by name, in first-seen order. A Map, not `obj[name] ??= []`, because
 * names come from the client and `constructor` or `__proto__` would hit Object.prototype.
 */
export function groupPairs(pairs: Iterable<readonly [string, string]>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const values = groups.get(name);
    if (values === undefined) groups.set(name, [value]);
    else values.push(value);
  }
  return groups;
}

/** A plain object with every name as an own property (`Object.fromEntries` defines even `__proto__`). */
function mapToRecord<T>(groups: Map<string, string[]>, pick: (values: string[]) => T): Record<string, T> {
  return Object.fromEntries([...groups].map(([name, values]): [string, T] => [name, pick(values)]));
}

/**
 * The API Gateway REST API (Lambda proxy integration, payload 1.0) event for a request.
 * Absent maps are `null`, as AWS sends them; `stageVariables` is always `null` (Outpost has none).
 */
export function toRestApiEvent(req: HttpRequestInfo, route: ApiRoute): Record<string, unknown> {
  const url = new URL(req.url);
  const headerValues = groupPairs(req.headers);
  const queryValues = groupPairs(url.searchParams);
  // Payload 1.0's single-value maps keep the last value, as AWS does.
  const headers = mapToRecord(headerValues, (values) => values[values.length - 1] ?? '');
  const multiValueHeaders = mapToRecord(headerValues, (values) => values);
  const query = mapToRecord(queryValues, (values) => values[values.length - 1] ?? '');
  const multiQuery = mapToRecord(queryValues, (values) => values);
  const hasHeaders = req.headers.length > 0;
  const hasQuery = queryValues.size > 0;
  const domainName = domainOf(req, url);
  const { body, isBase64Encoded } = bodyFields(req);
  const requestContext: Record<string, unknown> = {
    accountId: route.accountId ?? DEFAULT_ACCOUNT_ID,
    apiId: route.apiId ?? DEFAULT_API_ID,
    resourceId: fnv1a(`${req.method} ${route.resource}`).toString(36).padStart(7, '0').slice(-6),
    resourcePath: route.resource,
    httpMethod: req.method,
    path: route.stage === '$default' ? url.pathname : `/${route.stage}${url.pathname}`,
    stage: route.stage,
    requestId: req.requestId,
    extendedRequestId: extendedRequestId(req.requestId),
    requestTime: formatRequestTime(req.requestTimeEpochMs),
    requestTimeEpoch: req.requestTimeEpochMs,
    protocol: 'HTTP/1.1',
    identity: {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: req.sourceIp,
      user: null,
      userAgent: lastHeader(req, 'user-agent') ?? null,
      userArn: null,
    },
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
  };
  if (route.authorizer !== undefined) requestContext['authorizer'] = route.authorizer;
  return {
    resource: route.resource,
    path: url.pathname,
    httpMethod: req.method,
    headers: hasHeaders ? headers : null,
    multiValueHeaders: hasHeaders ? multiValueHeaders : null,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: hasOwnKeys(route.pathParameters) ? { ...route.pathParameters } : null,
    stageVariables: null,
    requestContext,
    body,
    isBase64Encoded,
  };
}

/** AWS's extended ids look like `BQGojGTzIAMFdnQ=`: 10 bytes of base64. Derived, so stable per request id. */
function extendedRequestId(requestId: string): string {
  const a = fnv1a(requestId);
  const b = fnv1a(`${requestId}#`);
  const bytes = new Uint8Array([a >>> 24, a >>> 16, a >>> 8, a, b >>> 24, b >>> 16, b >>> 8, b, a ^ b, (a ^ b) >>> 8]);
  return encodeBase64(bytes);
}

/**
 * The HTTP API (payload format 2.0) event for a request. Repeated headers and query parameters
 * are joined with commas; the `cookie` header moves to `cookies` (one entry per cookie); empty
 * maps, `cookies`, `body` and `stageVariables` are omitted, as AWS omits them.
 */
export function toHttpApiEvent(req: HttpRequestInfo, route: ApiRoute): Record<string, unknown> {
  const url = new URL(req.url);
  const cookies: string[] = [];
  for (const [name, value] of req.headers) {
    if (name !== 'cookie') continue;
    for (const part of value.split(';')) {
      const cookie = part.trim();
      if (cookie !== '') cookies.push(cookie);
    }
  }
  const headerValues = groupPairs(req.headers.filter(([name]) => name !== 'cookie'));
  const queryValues = groupPairs(url.searchParams);
  // Payload 2.0 joins repeated values with commas (no space), as AWS documents.
  const headers = mapToRecord(headerValues, (values) => values.join(','));
  const query = mapToRecord(queryValues, (values) => values.join(','));
  const routeKey = route.routeKey ?? (route.resource === '$default' ? '$default' : `${req.method} ${route.resource}`);
  const domainName = domainOf(req, url);
  const requestContext: Record<string, unknown> = {
    accountId: route.accountId ?? DEFAULT_ACCOUNT_ID,
    apiId: route.apiId ?? DEFAULT_API_ID,
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    http: {
      method: req.method,
      path: url.pathname,
      protocol: 'HTTP/1.1',
      sourceIp: req.sourceIp,
      userAgent: lastHeader(req, 'user-agent') ?? '',
    },
    requestId: req.requestId,
    routeKey,
    stage: route.stage,
    time: formatRequestTime(req.requestTimeEpochMs),
    timeEpoch: req.requestTimeEpochMs,
  };
  if (route.authorizer !== undefined) requestContext['authorizer'] = route.authorizer;
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.startsWith('?') ? url.search.slice(1) : url.search,
  };
  if (cookies.length > 0) event['cookies'] = cookies;
  event['headers'] = headers;
  if (queryValues.size > 0) event['queryStringParameters'] = query;
  if (hasOwnKeys(route.pathParameters)) event['pathParameters'] = { ...route.pathParameters };
  event['requestContext'] = requestContext;
  const { body, isBase64Encoded } = bodyFields(req);
  if (body !== null) event['body'] = body;
  event['isBase64Encoded'] = isBase64Encoded;
  return event;
}

// ---------------------------------------------------------------------------------------------
// Response side
// ---------------------------------------------------------------------------------------------

/** Thrown internally when a result is malformed; turned into the gateway's 502. */
class MalformedResult extends Error {}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Integer 100–599, given as a number or a numeric string (both reach API Gateway as JSON). */
function readStatus(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{3}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 100 || n > 599) throw new MalformedResult(`statusCode ${String(value)} is not an HTTP status`);
  return n;
}

/** Header values may be strings, numbers or booleans (JSON scalars); null means "no header". */
function readHeaderValue(name: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new MalformedResult(`header ${name} has a non-scalar value`);
}

function readBody(value: unknown, isBase64Encoded: unknown): Uint8Array {
  if (isBase64Encoded !== undefined && isBase64Encoded !== null && typeof isBase64Encoded !== 'boolean') {
    throw new MalformedResult('isBase64Encoded is not a boolean');
  }
  if (value === undefined || value === null) return new Uint8Array(0);
  if (typeof value !== 'string') throw new MalformedResult('body is not a string');
  if (isBase64Encoded === true) {
    const bytes = decodeBase64(value);
    if (bytes === null) throw new MalformedResult('body is not valid base64');
    return bytes;
  }
  return encodeUtf8(value);
}

function hasHeader(headers: ReadonlyArray<readonly [string, string]>, name: string): boolean {
  return headers.some(([n]) => n.toLowerCase() === name);
}

const REST_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

/**
 * The body API Gateway REST APIs send (with status 502, `content-type: application/json` and
 * `x-amzn-ErrorType: InternalServerErrorException`) when a proxy result is malformed.
 */
export const REST_API_ERROR_BODY = '{"message": "Internal server error"}';

/**
 * Turns a REST (payload 1.0) proxy result into an HTTP response.
 *
 * Valid means: a JSON object whose keys are only `statusCode` (required; an integer 100–599,
 * or the same as a numeric string), `headers` (object of scalar values), `multiValueHeaders`
 * (object of arrays of scalars), `body` (string) and `isBase64Encoded` (boolean; then `body`
 * must be valid base64). Anything else — a string, `null`, a missing status, a `body` that is an
 * object, an unknown key such as payload 2.0's `cookies` — is "Malformed Lambda proxy response",
 * which API Gateway answers with 502 `{"message": "Internal server error"}`.
 *
 * `headers` and `multiValueHeaders` merge; for a name present in both (compared case-insensitively)
 * only the `multiValueHeaders` values are sent, as AWS documents. With no content type, REST APIs
 * answer `application/json`.
 */
export function fromRestApiResult(result: unknown): HttpResult {
  try {
    if (!isPlainObject(result)) throw new MalformedResult('result is not an object');
    for (const key of Object.keys(result)) if (!REST_KEYS.has(key)) throw new MalformedResult(`unexpected key ${key}`);
    const status = readStatus(result['statusCode']);
    const out: Array<[string, string]> = [];
    const multi = result['multiValueHeaders'];
    const multiNames = new Set<string>();
    if (multi !== undefined && multi !== null) {
      if (!isPlainObject(multi)) throw new MalformedResult('multiValueHeaders is not an object');
      for (const [name, values] of Object.entries(multi)) {
        if (values === null || values === undefined) continue;
        if (!Array.isArray(values)) throw new MalformedResult(`multiValueHeaders.${name} is not an array`);
        multiNames.add(name.toLowerCase());
        for (const v of values as unknown[]) {
          const value = readHeaderValue(name, v);
          if (value !== null) out.push([name, value]);
        }
      }
    }
    const single = result['headers'];
    if (single !== undefined && single !== null) {
      if (!isPlainObject(single)) throw new MalformedResult('headers is not an object');
      const fromSingle: Array<[string, string]> = [];
      for (const [name, v] of Object.entries(single)) {
        const value = readHeaderValue(name, v);
        if (value !== null && !multiNames.has(name.toLowerCase())) fromSingle.push([name, value]);
      }
      out.unshift(...fromSingle);
    }
    const body = readBody(result['body'], result['isBase64Encoded']);
    if (!hasHeader(out, 'content-type')) out.push(['content-type', 'application/json']);
    return { status, headers: out, body };
  } catch (error) {
    if (error instanceof MalformedResult) return restApiError();
    throw error;
  }
}

function restApiError(): HttpResult {
  return {
    status: 502,
    headers: [
      ['content-type', 'application/json'],
      ['x-amzn-errortype', 'InternalServerErrorException'],
    ],
    body: encodeUtf8(REST_API_ERROR_BODY),
  };
}

/** The body HTTP APIs send with a 502 when a payload 2.0 result is malformed. */
export const HTTP_API_ERROR_BODY = '{"message":"Internal Server Error"}';

/**
 * Turns an HTTP API (payload 2.0) result into an HTTP response.
 *
 * - A result that is not an object with a `statusCode` (a plain object, a string, a number,
 *   `null`; `undefined` counts as `null` because Lambda serialises it so) is inferred, as AWS
 *   documents: status 200, `content-type: application/json`, and the body is the JSON text of the
 *   value — a string comes back quoted, which is what the client receives from AWS.
 * - Otherwise `statusCode` (integer 100–599 or numeric string), `headers` (object of scalar
 *   values; repeated values are written comma-joined by the function), `cookies` (array of
 *   strings, each sent as its own `set-cookie`, after any `set-cookie` from `headers`), `body`
 *   (string) and `isBase64Encoded` (boolean) are used; other keys are ignored.
 * - With no content type, HTTP APIs answer `text/plain; charset=utf-8` (observed AWS behaviour;
 *   AWS only documents the inferred case).
 * - Anything invalid (wrong types, a `body` that is an object, invalid base64) becomes
 *   502 {@link HTTP_API_ERROR_BODY}.
 */
export function fromHttpApiResult(result: unknown): HttpResult {
  if (!isPlainObject(result) || result['statusCode'] === undefined) {
    const json = JSON.stringify(result === undefined ? null : result) ?? 'null';
    return { status: 200, headers: [['content-type', 'application/json']], body: encodeUtf8(json) };
  }
  try {
    const status = readStatus(result['statusCode']);
    const out: Array<[string, string]> = [];
    const headers = result['headers'];
    if (headers !== undefined && headers !== null) {
      if (!isPlainObject(headers)) throw new MalformedResult('headers is not an object');
      for (const [name, v] of Object.entries(headers)) {
        const value = readHeaderValue(name, v);
        if (value !== null) out.push([name, value]);
      }
    }
    const cookies = result['cookies'];
    if (cookies !== undefined && cookies !== null) {
      if (!Array.isArray(cookies)) throw new MalformedResult('cookies is not an array');
      for (const cookie of cookies as unknown[]) {
        if (typeof cookie !== 'string') throw new MalformedResult('cookies holds a non-string');
        out.push(['set-cookie', cookie]);
      }
    }
    const body = readBody(result['body'], result['isBase64Encoded']);
    if (!hasHeader(out, 'content-type')) out.push(['content-type', 'text/plain; charset=utf-8']);
    return { status, headers: out, body };
  } catch (error) {
    if (error instanceof MalformedResult) {
      return { status: 502, headers: [['content-type', 'application/json']], body: encodeUtf8(HTTP_API_ERROR_BODY) };
    }
    throw error;
  }
}
