/**
 * @module
 * Region routing: a request for a function that may run only in another region is forwarded,
 * whole, to a live node of that region and its response relayed. A function must run in region
 * R when one of its KV bindings names a namespace pinned to R with `:refuse`
 * (store/nats/regions.ts): anywhere else its KV calls fail with DATA_RESIDENCY.
 *
 * Decisions: this is a gateway hook ahead of the route table rather than a route policy, because
 * policies see a request's head but not its body, and forwarding needs both. The hook is
 * installed only while some deployed function must be forwarded, so nodes without such
 * functions pay nothing; with one, every request pays a second route-table match. The body is
 * buffered up to the route's body limit (streaming is not needed for the sizes functions accept);
 * the response is streamed back. Only one region can serve a function (its pin's), so "nearest"
 * is that region; its live nodes (node-registry.ts, read at most once a second) are tried in
 * random order until one accepts the connection. A forwarded request carries
 * `x-outpost-forwarded-by: <node>`; a node never forwards such a request again (it serves it, so
 * a fleet whose nodes disagree on pins gets DATA_RESIDENCY, not a loop).
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { BindingSpec } from '../project/spec.ts';
import { OutpostError } from '../errors.ts';
import { sendError } from '../gateway/index.ts';
import type { RegionPin } from '../store/nats/index.ts';
import type { NodeEntry } from './node-registry.ts';

export const FORWARDED_BY = 'x-outpost-forwarded-by';

/** Connection-level headers, which belong to one hop and are not forwarded or relayed. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/**
 * The region a function with `bindings` must be served from when this node (in `nodeRegion`)
 * may not: the region of the first `:refuse` pin of another region among its KV namespaces.
 */
export function servingRegion(bindings: readonly BindingSpec[], pins: readonly RegionPin[], nodeRegion: string): string | undefined {
  for (const binding of bindings) {
    if (binding.type !== 'kv') continue;
    const pin = pins.find((p) => p.kind === 'kv' && p.name === binding.namespace);
    if (pin && pin.access === 'refuse' && pin.region !== nodeRegion) return pin.region;
  }
  return undefined;
}

export interface ForwardOptions {
  /** This node's name, sent in {@link FORWARDED_BY}. */
  nodeName: string;
  region: string;
  /** The function being forwarded, for messages. */
  functionName: string;
  bodyLimit: number;
  liveNodes(region: string): Promise<NodeEntry[]>;
}

/**
 * Answers `req` with the response of a live node of `options.region`, or with
 * REGION_UNAVAILABLE (503) when there is none or it cannot be reached, or BODY_TOO_LARGE (413).
 */
export async function forwardToRegion(req: IncomingMessage, res: ServerResponse, requestId: string, options: ForwardOptions): Promise<void> {
  const unavailable = (why: string): OutpostError =>
    new OutpostError('REGION_UNAVAILABLE', `${options.functionName} may only run in region ${options.region} (it uses a KV namespace pinned there with :refuse), and ${why}`, {
      status: 503,
      fault: 'system',
      hint: `start a node with --region ${options.region} (and the same --pin flags) against the same store, or check that the region's nodes are running`,
    });
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > options.bodyLimit) {
    sendError(res, requestId, new OutpostError('BODY_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${options.bodyLimit}`, { status: 413, fault: 'user' }));
    req.resume();
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, options.bodyLimit);
  } catch (error) {
    sendError(res, requestId, error instanceof OutpostError ? error : new OutpostError('BAD_REQUEST', (error as Error).message, { status: 400, fault: 'user' }));
    return;
  }
  let nodes: NodeEntry[];
  try {
    nodes = shuffled(await options.liveNodes(options.region));
  } catch (error) {
    sendError(res, requestId, unavailable(`the node registry could not be read: ${(error as Error).message}`));
    return;
  }
  if (nodes.length === 0) {
    sendError(res, requestId, unavailable(`no live node of region ${options.region} is registered`));
    return;
  }
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  headers[FORWARDED_BY] = options.nodeName;
  headers['content-length'] = String(body.byteLength);
  const client = req.socket.remoteAddress;
  if (client) headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${client}` : client;
  const failures: string[] = [];
  for (const node of nodes) {
    const failure = await relay(res, new URL(req.url ?? '/', node.url), req.method ?? 'GET', headers, body);
    if (failure === undefined) return;
    failures.push(`${node.name} (${node.url}): ${failure}`);
  }
  sendError(res, requestId, unavailable(`none of its live nodes could be reached: ${failures.join('; ')}`));
}

/**
 * Sends the request to `url` and streams the response into `res`; resolves with why the node
 * could not be reached (nothing was written to `res` then), or undefined once relayed.
 */
function relay(res: ServerResponse, url: URL, method: string, headers: IncomingHttpHeaders, body: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    const upstream = httpRequest(url, { method, headers }, (response) => {
      const relayed: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) relayed[name] = value;
      res.writeHead(response.statusCode ?? 502, relayed);
      response.pipe(res);
      response.on('end', () => resolve(undefined));
      response.on('error', () => (res.destroy(), resolve(undefined)));
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) return resolve(error.message);
      res.destroy();
      resolve(undefined);
    });
    // A client that goes away stops the upstream request too.
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  });
}

/**
 * `live` with each region's answer reused for `ttlMs`: the NATS meta store reads its whole bucket
 * to list a prefix, too much to do for every forwarded request.
 */
export function cachedLiveNodes(live: (region: string) => Promise<NodeEntry[]>, ttlMs = 1_000, now: () => number = Date.now): (region: string) => Promise<NodeEntry[]> {
  const cache = new Map<string, { at: number; nodes: Promise<NodeEntry[]> }>();
  return (region) => {
    const hit = cache.get(region);
    if (hit && now() - hit.at < ttlMs) return hit.nodes;
    const nodes = live(region);
    cache.set(region, { at: now(), nodes });
    // A failed read is not kept: the next request asks again.
    nodes.catch(() => cache.delete(region));
    return nodes;
  };
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The whole body, or BODY_TOO_LARGE once it passes `limit` (the rest is drained, so the answer can be sent). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new OutpostError('BODY_TOO_LARGE', `request body of ${size} bytes exceeds the limit of ${limit}`, { status: 413, fault: 'user' });
  return Buffer.concat(chunks);
}
