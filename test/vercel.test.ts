// Next.js / Vercel projects under `outpost dev`, unchanged: app-router route handlers (405 with
// Allow, HEAD and OPTIONS, dynamic and catch-all params, NextResponse redirect/cookies, rewrite
// refused as Next refuses it, process.env) and pages-router edge API routes (geo and ip from the
// request metadata, @vercel/functions, waitUntil).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Running } from './helpers.ts';
import { eventually, startOutpost, tempDir, writeProject } from './helpers.ts';

const EDGE = "export const runtime = 'edge';\n";

const PROJECT: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'shop', dependencies: { next: '15.0.0' } }),
  '.env': 'GREETING=hello from .env\n',
  'app/api/items/[id]/route.ts': `${EDGE}import { NextResponse, type NextRequest } from 'next/server';
export async function GET(request: NextRequest, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const direct = (params as unknown as { id: string }).id;
  return NextResponse.json({ id, direct, q: request.nextUrl.searchParams.get('q'), isNext: typeof request.cookies.get === 'function' }, { headers: { 'x-item': id } });
}
export async function PUT(request: Request, context: { params: Promise<{ id: string }> }) {
  return Response.json({ updated: (await context.params).id, body: await request.json() });
}
`,
  'app/api/docs/[...slug]/route.ts': `${EDGE}export async function GET(_req: Request, { params }: { params: Promise<{ slug: string[] }> }) {
  return Response.json(await params);
}
`,
  'app/api/files/[[...path]]/route.ts': `${EDGE}export async function GET(_req: Request, { params }: { params: Promise<{ path?: string[] }> }) {
  return Response.json({ path: (await params).path ?? null });
}
`,
  'app/api/session/route.ts': `${EDGE}import { NextResponse, type NextRequest } from 'next/server';
export function GET(request: NextRequest) {
  const theme = request.cookies.get('theme')?.value ?? 'none';
  const response = NextResponse.json({ theme });
  response.cookies.set('visited', 'yes', { httpOnly: true, path: '/' });
  response.cookies.set('theme', 'dark');
  return response;
}
export function DELETE() {
  const response = new NextResponse(null, { status: 204 });
  response.cookies.delete('theme');
  return response;
}
`,
  'app/api/go/route.ts': `${EDGE}import { NextResponse } from 'next/server';
export function GET(request: Request) {
  return NextResponse.redirect(new URL('/api/items/1', request.url));
}
export function POST() {
  return NextResponse.rewrite('https://example.com/elsewhere');
}
`,
  'app/api/env/route.ts': `${EDGE}export function GET() {
  return Response.json({ greeting: process.env.GREETING, vercel: process.env.VERCEL, runtime: process.env.NEXT_RUNTIME, region: process.env.VERCEL_REGION ?? null, processType: typeof process, nodeVersion: typeof process !== 'undefined' && process.versions ? 'node' : 'none' });
}
`,
  'pages/api/where.ts': `import { NextRequest, NextResponse } from 'next/server';
import { geolocation, ipAddress, waitUntil } from '@vercel/functions';
export const config = { runtime: 'edge' };
let after = 0;
export default async function handler(req: NextRequest) {
  if (req.nextUrl.searchParams.has('after')) return NextResponse.json({ after });
  waitUntil(Promise.resolve().then(() => { after++; }));
  return NextResponse.json({ geo: geolocation(req), ip: ipAddress(req), legacy: { geo: req.geo, ip: req.ip }, path: req.nextUrl.pathname });
}
`,
};

describe('Vercel / Next.js projects', () => {
  let node: Running;
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  before(async () => {
    const project = await writeProject(t, PROJECT);
    node = await startOutpost(t, ['dev', project, '--port', '0', '--state', await tempDir(t), '--quiet']);
  });

  test('a method the route exports answers; dynamic params are awaited and read directly', async () => {
    const res = await fetch(`${node.url}/api/items/42?q=x`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-item'), '42');
    assert.deepEqual(await res.json(), { id: '42', direct: '42', q: 'x', isNext: true });
    const put = await fetch(`${node.url}/api/items/7`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    assert.deepEqual(await put.json(), { updated: '7', body: { n: 1 } });
  });

  test('405 with Allow for a method not exported; HEAD falls back to GET; OPTIONS is automatic', async () => {
    const del = await fetch(`${node.url}/api/items/1`, { method: 'DELETE' });
    assert.equal(del.status, 405);
    assert.equal(del.headers.get('allow'), 'GET, HEAD, OPTIONS, PUT');
    const head = await fetch(`${node.url}/api/items/1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-item'), '1');
    assert.equal(await head.text(), '');
    const options = await fetch(`${node.url}/api/items/1`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, HEAD, OPTIONS, PUT');
  });

  test('catch-all and optional catch-all params are arrays of segments', async () => {
    assert.deepEqual(await (await fetch(`${node.url}/api/docs/a/b%20c/d`)).json(), { slug: ['a', 'b c', 'd'] });
    assert.deepEqual(await (await fetch(`${node.url}/api/files`)).json(), { path: null });
    assert.deepEqual(await (await fetch(`${node.url}/api/files/x/y`)).json(), { path: ['x', 'y'] });
  });

  test('request and response cookies', async () => {
    const res = await fetch(`${node.url}/api/session`, { headers: { cookie: 'theme=light; other=1' } });
    assert.deepEqual(await res.json(), { theme: 'light' });
    assert.deepEqual(res.headers.getSetCookie(), ['visited=yes; Path=/; HttpOnly', 'theme=dark; Path=/']);
    const del = await fetch(`${node.url}/api/session`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.match(del.headers.getSetCookie()[0] ?? '', /^theme=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT$/);
  });

  test('NextResponse.redirect answers 307 with Location; NextResponse.rewrite in a route handler is a 500, as in Next', async () => {
    const res = await fetch(`${node.url}/api/go`, { redirect: 'manual' });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get('location'), `${node.url}/api/items/1`);
    const rewrite = await fetch(`${node.url}/api/go`, { method: 'POST' });
    assert.equal(rewrite.status, 500);
    assert.match(await rewrite.text(), /NextResponse\.rewrite\(\) was used in a app route handler/);
  });

  test('process.env in edge code: the .env variables and Vercel system variables, without Node', async () => {
    const body = await (await fetch(`${node.url}/api/env`)).json() as Record<string, unknown>;
    assert.deepEqual(body, { greeting: 'hello from .env', vercel: '1', runtime: 'edge', region: 'local', processType: 'object', nodeVersion: 'none' });
  });

  test('pages edge route: geo and ip from the request metadata via @vercel/functions and NextRequest; waitUntil runs after the response', async () => {
    const res = await fetch(`${node.url}/api/where`, { headers: { 'x-vercel-ip-country': 'FR', 'x-vercel-ip-city': 'Saint-%C3%89tienne', 'x-forwarded-for': '198.51.100.77, 10.0.0.1', 'x-vercel-ip-latitude': '45.4' } });
    assert.equal(res.status, 200);
    const body = await res.json() as { geo: Record<string, string>; ip: string; legacy: { geo: Record<string, string>; ip: string }; path: string };
    assert.equal(body.path, '/api/where');
    assert.equal(body.ip, '198.51.100.77');
    assert.equal(body.geo['country'], 'FR');
    assert.equal(body.geo['city'], 'Saint-Étienne');
    assert.equal(body.geo['flag'], '🇫🇷');
    assert.equal(body.geo['latitude'], '45.4');
    assert.equal(body.geo['region'], 'local');
    assert.deepEqual(body.legacy, { geo: { city: 'Saint-Étienne', country: 'FR', latitude: '45.4' }, ip: '198.51.100.77' });
    await eventually(async () => ((await (await fetch(`${node.url}/api/where?after`)).json()) as { after: number }).after >= 1 || undefined, 10_000, 'the waitUntil work');
  });
});
