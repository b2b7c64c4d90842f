/**
 * @module
 * Serves the web dashboard (built from dashboard/ into dashboard/dist/ by
 * scripts/build-dashboard.ts) on the gateway port at `/_outpost/`. The page itself is public —
 * it holds no data; everything it shows comes from `/_outpost/api/…`, which checks the
 * bearer token the user types in.
 *
 * Decisions:
 * - Only `index.html` (at `/_outpost/` and `/_outpost/index.html`) and files directly under
 *   `/_outpost/assets/` are served; names are checked against a strict pattern, so no request
 *   can reach outside dist. Other `/_outpost/…` paths pass to the next page hook.
 * - Assets carry a content hash in their name (Vite), so they are cached for a year and marked
 *   immutable; index.html is revalidated every time (`no-cache` + ETag), so a rebuilt
 *   dashboard shows at the next load.
 * - Files are read per request (a rebuild needs no restart); text files are gzipped once per
 *   version (keyed by path, size and mtime) when the client accepts it.
 * - A strict Content-Security-Policy: the bundle needs nothing but its own origin.
 * - When dist is missing, `/_outpost/` answers 503 with a page saying how to build it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { GatewayHook, NodeService } from '../server/context.ts';

const ROOT = '/_outpost/';
const ASSETS = '/_outpost/assets/';
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.map', '.svg', '.txt']);

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<main>
<h1>The Outpost dashboard is not built</h1>
<p>This node serves the dashboard from <code>dashboard/dist/</code>, which does not exist yet.</p>
<p>Build it from the Outpost checkout with <code>npm run build:dashboard</code> (or start the node with <code>npm start</code>, which builds it first), then reload this page.</p>
<p>The node's API under <code>/_outpost/api/</code> works without it.</p>
</main></body></html>
`;

/** The default location of the build output, beside the sources in this checkout. */
export const DEFAULT_DIST = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

interface Prepared {
  key: string;
  body: Buffer;
  gzipped?: Buffer;
}

/** The file a dashboard path names, or undefined when the path is not one of the dashboard's. */
function fileFor(pathname: string): { file: string; immutable: boolean } | undefined {
  if (pathname === ROOT || pathname === `${ROOT}index.html`) return { file: 'index.html', immutable: false };
  if (pathname.startsWith(ASSETS)) {
    const name = pathname.slice(ASSETS.length);
    if (ASSET_NAME.test(name)) return { file: join('assets', name), immutable: true };
  }
  return undefined;
}

function acceptsGzip(req: IncomingMessage): boolean {
  return /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
}

/** A page hook serving `dist` (see the module comment). */
export function dashboardPages(dist: string): GatewayHook {
  const prepared = new Map<string, Prepared>();
  const load = async (file: string): Promise<Prepared | undefined> => {
    const path = join(dist, file);
    let info;
    try {
      info = await stat(path);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const key = `${info.size}-${Math.floor(info.mtimeMs)}`;
    const cached = prepared.get(file);
    if (cached?.key === key) return cached;
    const body = await readFile(path);
    const entry: Prepared = { key, body, ...(COMPRESSIBLE.has(extname(file)) && body.byteLength > 1024 ? { gzipped: gzipSync(body) } : {}) };
    prepared.set(file, entry);
    return entry;
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://node');
    const target = fileFor(url.pathname);
    if (!target) return false;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${method} is not allowed on the dashboard; it only serves pages (GET)\n`);
      return true;
    }
    const entry = await load(target.file);
    if (!entry) {
      if (target.immutable) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
        res.end(`no dashboard asset ${url.pathname}; reload the dashboard to get the current one\n`);
      } else {
        res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
        res.end(method === 'HEAD' ? undefined : NOT_BUILT);
      }
      return true;
    }
    const etag = `"${entry.key}"`;
    const headers: Record<string, string | number> = {
      'content-type': CONTENT_TYPES[extname(target.file)] ?? 'application/octet-stream',
      'cache-control': target.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag,
      vary: 'accept-encoding',
      ...SECURITY_HEADERS,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gzip = entry.gzipped !== undefined && acceptsGzip(req);
    const body = gzip ? (entry.gzipped as Buffer) : entry.body;
    res.writeHead(200, { ...headers, 'content-length': body.byteLength, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  };
}

/** `/_outpost` without its slash: relative asset URLs need it, so redirect. */
const addSlash: GatewayHook = async (_req, res) => {
  res.writeHead(308, { location: ROOT });
  res.end();
  return true;
};

/** A NodeService serving the dashboard built into `dist`. */
export function createDashboardService(dist: string = DEFAULT_DIST): NodeService {
  return {
    name: 'dashboard',
    start: () => ({
      pages: [dashboardPages(dist)],
      gatewayRoutes: [{ paths: ['/_outpost'], handle: addSlash }],
      close: async () => undefined,
    }),
  };
}

export const dashboardService: NodeService = createDashboardService();
