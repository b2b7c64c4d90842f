/**
 * @module
 * Small HTTP helpers the Node-style adapters share (Google's Express-style `req`/`res`, Azure's
 * `context.res` and v4 responses): status texts, a few media types, query strings parsed the way
 * Express's extended parser (`qs`) reads them, `Set-Cookie` serialisation and Accept
 * negotiation. Web APIs only, so any adapter may use them.
 */

/** Reason phrases, as Node's `http.STATUS_CODES` and the `statuses` package spell them. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked', 424: 'Failed Dependency',
  425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates', 507: 'Insufficient Storage',
  508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended', 511: 'Network Authentication Required',
};

/** Extension (or short name) → media type, for `res.type('json')` and attachments. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html', htm: 'text/html', txt: 'text/plain', text: 'text/plain', css: 'text/css', csv: 'text/csv',
  md: 'text/markdown', xml: 'application/xml', json: 'application/json', js: 'application/javascript',
  mjs: 'application/javascript', map: 'application/json', bin: 'application/octet-stream', pdf: 'application/pdf',
  zip: 'application/zip', gz: 'application/gzip', wasm: 'application/wasm', form: 'application/x-www-form-urlencoded',
  urlencoded: 'application/x-www-form-urlencoded', multipart: 'multipart/form-data',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', svg: 'image/svg+xml', webp: 'image/webp',
  ico: 'image/x-icon', avif: 'image/avif', mp3: 'audio/mpeg', mp4: 'video/mp4', webm: 'video/webm',
  woff: 'font/woff', woff2: 'font/woff2', ics: 'text/calendar', yaml: 'text/yaml', yml: 'text/yaml',
};

/** `json` → `application/json`; a value containing `/` is already a type; unknown → octet-stream. */
export function lookupType(type: string): string {
  if (type.includes('/')) return type;
  const ext = type.replace(/^.*\./, '').toLowerCase();
  return MEDIA_TYPES[ext] ?? 'application/octet-stream';
}

/** The media type without parameters, lower-case: `Application/JSON; charset=x` → `application/json`. */
export function essence(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The `charset` parameter of a content type, lower-case, if any. */
export function charsetOf(contentType: string | null | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1]?.toLowerCase();
}

/** Express adds `charset=utf-8` to text, JavaScript and JSON types that carry no charset. */
export function withDefaultCharset(contentType: string): string {
  if (/;\s*charset\s*=/i.test(contentType)) return contentType;
  return /^\s*(text\/|application\/(javascript|json))/i.test(contentType) ? `${contentType}; charset=utf-8` : contentType;
}

/** Replaces (or adds) the charset parameter. */
export function setCharset(contentType: string, charset: string): string {
  const [type = '', ...params] = contentType.split(';');
  const kept = params.map((p) => p.trim()).filter((p) => p !== '' && !/^charset\s*=/i.test(p));
  return [type.trim(), ...kept, `charset=${charset}`].join('; ');
}

/** Does `contentType` match `pattern` (`json`, `text/*`, `*\/*`, `+json`, `application/json`)? */
export function typeMatches(contentType: string, pattern: string): boolean {
  const actual = essence(contentType);
  if (actual === '') return false;
  const p = pattern.startsWith('+') ? `*/*${pattern}` : pattern.includes('/') ? pattern.toLowerCase() : lookupType(pattern);
  const [pt = '', ps = ''] = p.split('/');
  const [at = '', as = ''] = actual.split('/');
  if (pt !== '*' && pt !== at) return false;
  if (ps === '*') return true;
  if (ps.startsWith('*+')) return as.endsWith(ps.slice(1));
  return ps === as;
}

function decodeComponent(s: string): string {
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Like `qs`: indices above this become object keys instead of sparse arrays. */
const ARRAY_LIMIT = 20;
const DEPTH_LIMIT = 5;

export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };
export type Query = Record<string, QueryValue>;

function isObj(v: QueryValue | undefined): v is { [key: string]: QueryValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(target: Record<string, QueryValue>, key: string, value: QueryValue): void {
  const existing = target[key];
  if (existing === undefined) target[key] = value;
  else if (Array.isArray(existing)) {
    if (Array.isArray(value)) existing.push(...value);
    else existing.push(value);
  } else if (isObj(existing) && isObj(value)) {
    for (const [k, v] of Object.entries(value)) merge(existing, k, v);
  } else target[key] = Array.isArray(value) ? [existing, ...value] : [existing, value];
}

/** `a[b][]` → ['a', 'b', '']; brackets past the depth limit stay part of the last key, as in qs. */
function splitKey(key: string): string[] {
  const first = /^[^[\]]*/.exec(key)?.[0] ?? '';
  const parts = [first];
  const re = /\[([^[\]]*)\]/gy;
  re.lastIndex = first.length;
  let m: RegExpExecArray | null;
  let end = first.length;
  while (parts.length <= DEPTH_LIMIT && (m = re.exec(key)) !== null) {
    parts.push(m[1] ?? '');
    end = re.lastIndex;
  }
  if (end < key.length) parts.push(key.slice(end));
  if (first === '' && parts.length > 1) return [key];
  return parts;
}

function nest(parts: string[], value: string): QueryValue {
  let out: QueryValue = value;
  for (let i = parts.length - 1; i >= 1; i--) {
    const p = parts[i] ?? '';
    if (p === '') out = [out];
    else if (/^\d+$/.test(p) && Number(p) <= ARRAY_LIMIT) {
      const arr: QueryValue[] = [];
      arr[Number(p)] = out;
      out = arr.filter(() => true);
    } else if (UNSAFE_KEYS.has(p)) return {};
    else out = { [p]: out };
  }
  return out;
}

/**
 * Parses a query string (without `?`) as Express 4's default "extended" parser does: repeated
 * keys become arrays, `a[]=1` arrays, `a[b]=1` nested objects (depth 5), `+` is a space.
 * Keys that would reach Object.prototype are dropped.
 */
export function parseQuery(search: string): Query {
  const out: Query = {};
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (text === '') return out;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    const parts = splitKey(rawKey);
    const head = parts[0] ?? '';
    if (head === '' || UNSAFE_KEYS.has(head)) continue;
    merge(out, head, nest(parts, value));
  }
  return out;
}

/** Flat query: the last value wins for repeated keys (Azure's `req.query`). */
export function flatQuery(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!UNSAFE_KEYS.has(k)) out[k] = v;
  return out;
}

export interface CookieOptions {
  maxAge?: number | undefined;
  expires?: Date | number | string | undefined;
  domain?: string | undefined;
  path?: string | undefined;
  secure?: boolean | undefined;
  httpOnly?: boolean | undefined;
  sameSite?: boolean | string | undefined;
  partitioned?: boolean | undefined;
  priority?: string | undefined;
  encode?: ((value: string) => string) | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * One `Set-Cookie` value, attributes in the order the `cookie` package writes them.
 * Throws TypeError for a name that is not an HTTP token or an invalid attribute.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`argument name is invalid: ${name}`);
  const encoded = (options.encode ?? encodeURIComponent)(value);
  if (encoded !== '' && !/^[\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]*$/.test(encoded)) throw new TypeError(`argument val is invalid: ${value}`);
  let out = `${name}=${encoded}`;
  if (options.maxAge !== undefined && options.maxAge !== null) {
    if (!Number.isFinite(options.maxAge)) throw new TypeError('option maxAge is invalid');
    out += `; Max-Age=${Math.floor(options.maxAge)}`;
  }
  if (options.domain) out += `; Domain=${options.domain}`;
  if (options.path) out += `; Path=${options.path}`;
  if (options.expires !== undefined && options.expires !== null) {
    const d = options.expires instanceof Date ? options.expires : new Date(options.expires);
    if (Number.isNaN(d.getTime())) throw new TypeError('option expires is invalid');
    out += `; Expires=${d.toUTCString()}`;
  }
  if (options.httpOnly) out += '; HttpOnly';
  if (options.secure) out += '; Secure';
  if (options.partitioned) out += '; Partitioned';
  if (options.priority) {
    const p = options.priority.toLowerCase();
    if (p !== 'low' && p !== 'medium' && p !== 'high') throw new TypeError('option priority is invalid');
    out += `; Priority=${p[0]?.toUpperCase()}${p.slice(1)}`;
  }
  if (options.sameSite !== undefined && options.sameSite !== false) {
    const s = options.sameSite === true ? 'strict' : String(options.sameSite).toLowerCase();
    if (s !== 'strict' && s !== 'lax' && s !== 'none') throw new TypeError('option sameSite is invalid');
    out += `; SameSite=${s[0]?.toUpperCase()}${s.slice(1)}`;
  }
  return out;
}

interface AcceptEntry {
  type: string;
  subtype: string;
  q: number;
  index: number;
}

function parseAccept(header: string): AcceptEntry[] {
  const out: AcceptEntry[] = [];
  header.split(',').forEach((part, index) => {
    const [range = '', ...params] = part.split(';').map((s) => s.trim());
    const [type = '', subtype = '*'] = range.toLowerCase().split('/');
    if (type === '') return;
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*([\d.]+)$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    out.push({ type, subtype, q, index });
  });
  return out;
}

/**
 * Content negotiation as `req.accepts(types)`: the candidate the Accept header ranks best (by
 * q, then specificity, then the client's order, then the candidate's order); the first candidate
 * when there is no Accept header; false when nothing is acceptable. Candidates may be
 * extensions (`json`) or media types.
 */
export function negotiate(accept: string | null | undefined, candidates: readonly string[]): string | false {
  if (candidates.length === 0) return false;
  if (accept === null || accept === undefined || accept.trim() === '') return candidates[0] ?? false;
  const entries = parseAccept(accept);
  let best: { candidate: string; q: number; spec: number; index: number; order: number } | undefined;
  candidates.forEach((candidate, order) => {
    const [type = '', subtype = ''] = lookupType(candidate).toLowerCase().split('/');
    let match: { q: number; spec: number; index: number } | undefined;
    for (const e of entries) {
      const spec = (e.type === type ? 2 : e.type === '*' ? 0 : -1) + (e.subtype === subtype ? 1 : e.subtype === '*' ? 0 : -10);
      if (spec < 0) continue;
      if (!match || spec > match.spec) match = { q: e.q, spec, index: e.index };
    }
    if (!match || match.q <= 0) return;
    if (!best || match.q > best.q || (match.q === best.q && (match.spec > best.spec || (match.spec === best.spec && match.index < best.index)))) {
      best = { candidate, ...match, order };
    }
  });
  return best ? best.candidate : false;
}

/** Percent-encodes what a URL may not contain, leaving existing escapes alone (as `encodeurl`). */
export function encodeUrl(url: string): string {
  return url
    .replace(/[^\x21\x23-\x3B\x3D\x3F-\x5F\x61-\x7A\x7C\x7E%]+/g, (s) => encodeURI(s))
    .replace(/%(?![0-9A-Fa-f]{2})/g, '%25');
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
