/** @module Tests for the Next.js loader: fixture, folder-to-path rules, runtimes, env files and bad routes. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { detectNext, loadNext, parseSegment, readRuntime, segmentPaths } from './next.ts';
import { expectProblems, fixturePath, tempProject } from './testing.ts';

const EDGE_ROUTE = "export const runtime = 'edge';\nexport async function GET() { return new Response('ok'); }\n";

test('vercel-edge fixture: edge app route and edge pages API route', async () => {
  const root = fixturePath('vercel-edge');
  assert.equal(await detectNext(root), true);
  const spec = await loadNext(root, { dev: true });
  assert.equal(spec.name, 'geo-edge');
  assert.equal(spec.format, 'next');
  const hello = spec.functions.find((f) => f.name === 'api-hello');
  const geo = spec.functions.find((f) => f.name === 'api-geo');
  assert.ok(hello && geo);
  assert.equal(hello.style, 'vercel-app-route');
  assert.equal(hello.entry, path.join(root, 'app/api/hello/route.ts'));
  assert.deepEqual(hello.routes, [{ path: '/api/hello', event: { kind: 'fetch' } }]);
  assert.equal(hello.nodeCompat, false);
  assert.equal(hello.limits.concurrency, 100);
  assert.deepEqual(hello.platform, { runtime: 'edge', router: 'app', methods: 'GET,POST' });
  assert.equal(geo.style, 'vercel-pages-api');
  assert.equal(geo.handlerExport, 'default');
  assert.deepEqual(geo.routes, [{ path: '/api/geo', event: { kind: 'fetch' } }]);
  assert.equal(geo.platform['runtime'], 'edge');
});

test('segments: groups, params, catch-alls and optional catch-alls', () => {
  assert.equal(parseSegment('(marketing)'), null);
  assert.deepEqual(parseSegment('[id]'), { kind: 'param', name: 'id' });
  assert.deepEqual(segmentPaths([{ kind: 'static', text: 'docs' }, { kind: 'catchall', name: 'slug' }]), ['/docs/{slug+}']);
  assert.deepEqual(segmentPaths([{ kind: 'static', text: 'shop' }, { kind: 'optional', name: 'slug' }]), ['/shop', '/shop/{slug+}']);
  assert.deepEqual(segmentPaths([]), ['/']);
});

test('runtime detection reads live code only', () => {
  assert.equal(readRuntime("export const runtime = 'experimental-edge';", 'app'), 'edge');
  assert.equal(readRuntime("// export const runtime = 'edge';\nexport const GET = () => 1;", 'app'), 'nodejs');
  assert.equal(readRuntime("export const config = { api: { bodyParser: false }, runtime: \"edge\" };", 'pages'), 'edge');
  assert.equal(readRuntime("export const config = { api: { runtime: 'edge' } };", 'pages'), 'nodejs');
});

test('app router tree: groups, private and parallel folders, dynamic segments, root route, node runtime', async (t) => {
  const root = await tempProject(t, {
    'package.json': JSON.stringify({ name: 'shop', dependencies: { next: '15.0.0' } }),
    'app/route.ts': EDGE_ROUTE,
    'app/(shop)/products/[id]/route.ts': EDGE_ROUTE,
    'app/docs/[...slug]/route.js': "export const runtime = 'edge';\nexport function GET() {}\nexport function DELETE() {}\n",
    'app/files/[[...path]]/route.ts': EDGE_ROUTE,
    'app/_lib/route.ts': EDGE_ROUTE,
    'app/@modal/route.ts': EDGE_ROUTE,
    'app/(.)photo/route.ts': EDGE_ROUTE,
    'app/api/node/route.ts': 'export const maxDuration = 15;\nexport async function POST() { return new Response(); }\n',
    'app/page.tsx': 'export default function Page() { return null; }\n',
  });
  const spec = await loadNext(root, { dev: true });
  const byName = Object.fromEntries(spec.functions.map((f) => [f.name, f]));
  assert.deepEqual(Object.keys(byName).sort(), ['api-node', 'docs-slug', 'files-path', 'index', 'products-id']);
  assert.deepEqual(byName['index']?.routes, [{ path: '/', event: { kind: 'fetch' } }]);
  assert.deepEqual(byName['products-id']?.routes.map((r) => r.path), ['/products/{id}']);
  assert.deepEqual(byName['docs-slug']?.routes.map((r) => r.path), ['/docs/{slug+}']);
  assert.equal(byName['docs-slug']?.platform['methods'], 'GET,DELETE');
  assert.equal(byName['docs-slug']?.platform['catchAll'], 'slug', 'the adapter hands catch-all params over as arrays');
  assert.equal(byName['files-path']?.platform['catchAll'], 'path');
  assert.equal(byName['products-id']?.platform['catchAll'], undefined);
  assert.deepEqual(byName['files-path']?.routes.map((r) => r.path), ['/files', '/files/{path+}']);
  const node = byName['api-node'];
  assert.ok(node);
  assert.equal(node.nodeCompat, true);
  assert.equal(node.platform['runtime'], 'nodejs');
  assert.equal(node.limits.wallMs, 15_000);
});

test('pages/api: index files, dynamic names, node routes and src/ layout', async (t) => {
  const root = await tempProject(t, {
    'src/pages/api/index.ts': "export const config = { runtime: 'edge' };\nexport default () => new Response('root');\n",
    'src/pages/api/users/[id].ts': "export const config = { runtime: 'edge' };\nexport default () => new Response();\n",
    'src/pages/api/blog/[[...slug]].js': "export const config = { runtime: 'experimental-edge' };\nexport default () => new Response();\n",
    'src/pages/api/legacy.js': 'export default function handler(req, res) { res.status(200).json({}); }\n',
    'src/pages/api/types.d.ts': 'export type X = 1;\n',
  });
  assert.equal(await detectNext(root), true);
  const spec = await loadNext(root, { dev: true });
  const byName = Object.fromEntries(spec.functions.map((f) => [f.name, f]));
  assert.deepEqual(Object.keys(byName).sort(), ['api', 'api-blog-slug', 'api-legacy', 'api-users-id']);
  assert.deepEqual(byName['api']?.routes.map((r) => r.path), ['/api']);
  assert.deepEqual(byName['api-users-id']?.routes.map((r) => r.path), ['/api/users/{id}']);
  assert.deepEqual(byName['api-blog-slug']?.routes.map((r) => r.path), ['/api/blog', '/api/blog/{slug+}']);
  assert.equal(byName['api-legacy']?.platform['runtime'], 'nodejs');
  assert.equal(byName['api-legacy']?.nodeCompat, true);
  assert.equal(spec.name, path.basename(root));
});

test('.env files: mode files as vars, .local files as secrets', async (t) => {
  const root = await tempProject(t, {
    'app/api/x/route.ts': EDGE_ROUTE,
    '.env': 'A=base\nB=base\n',
    '.env.development': 'B=dev\n',
    '.env.production': 'B=prod\n',
    '.env.local': 'TOKEN="s3cr3t"\n',
  });
  const dev = await loadNext(root, { dev: true });
  assert.deepEqual(dev.functions[0]?.vars, { A: 'base', B: 'dev' });
  assert.deepEqual(dev.functions[0]?.secrets, { TOKEN: 's3cr3t' });
  assert.deepEqual(dev.configFiles, ['.env', '.env.development', '.env.local']);
  const prod = await loadNext(root, { dev: false });
  assert.equal(prod.functions[0]?.vars['B'], 'prod');
});

test('bad routes: no method export, no default export, conflicting paths, misplaced catch-all', async (t) => {
  const root = await tempProject(t, {
    'app/api/empty/route.ts': "export const runtime = 'edge';\nexport const helper = 1;\n",
    'app/api/dup/route.ts': EDGE_ROUTE,
    'app/(group)/api/dup/route.ts': EDGE_ROUTE,
    'app/api/[...rest]/more/route.ts': EDGE_ROUTE,
    'pages/api/nodefault.ts': "export const config = { runtime: 'edge' };\nexport const handler = () => 1;\n",
  });
  await expectProblems(() => loadNext(root, { dev: true }), [
    { file: 'app/api/empty/route.ts', key: '', message: /HTTP method/ },
    { file: 'app/api/dup/route.ts', key: '', message: /serves \/api\/dup/ },
    { file: 'app/api/[...rest]/more/route.ts', key: '', message: /catch-all/ },
    { file: 'pages/api/nodefault.ts', key: '', message: /default export/ },
  ]);
});

test('a folder without route handlers is not a Next project and fails to load clearly', async (t) => {
  const root = await tempProject(t, { 'app/page.tsx': 'export default () => null;\n' });
  assert.equal(await detectNext(root), false);
  await expectProblems(() => loadNext(root, { dev: true }), [{ file: 'app', key: '', message: /no route handlers/ }]);
});
