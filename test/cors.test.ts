// CORS at the gateway: preflights answered without the function running, and the allow headers
// on real responses, from outpost.toml [[route_rules]] and from serverless.yml httpApi.cors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startOutpost, tempDir, writeProject } from './helpers.ts';

const counter = `
let served = 0;
export default {
  async fetch(request) {
    served++;
    const path = new URL(request.url).pathname;
    if (path.endsWith('/count')) return new Response(String(served));
    return new Response('hello', { headers: { 'x-trace': 't-1' } });
  },
};`;

const rules = `
[[route_rules]]
path = "/api/*"
cors = { allow_origins = ["https://app.example.com", "https://*.preview.example.com"], allow_methods = ["GET", "PUT"], allow_headers = ["content-type", "x-token"], expose_headers = ["x-trace"], allow_credentials = true, max_age = 600 }
`;

test('outpost.toml cors: preflights are answered by the gateway and responses carry the allow headers', async (t) => {
  const root = await writeProject(t, { 'outpost.toml': `name = "corsy"\nmain = "src/index.ts"\n${rules}`, 'src/index.ts': counter });
  const node = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const count = async (): Promise<string> => (await fetch(`${node.url}/api/count`)).text();
  const before = await count();

  const preflight = await fetch(`${node.url}/api/items`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'Content-Type, X-Token' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET,PUT');
  assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type,x-token');
  assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(preflight.headers.get('access-control-max-age'), '600');

  const wildcard = await fetch(`${node.url}/api/items`, { method: 'OPTIONS', headers: { origin: 'https://pr-7.preview.example.com', 'access-control-request-method': 'GET' } });
  assert.equal(wildcard.headers.get('access-control-allow-origin'), 'https://pr-7.preview.example.com');

  const stranger = await fetch(`${node.url}/api/items`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
  assert.equal(stranger.status, 204);
  assert.equal(stranger.headers.get('access-control-allow-origin'), null, 'an origin not allowed gets no allow header');
  const badMethod = await fetch(`${node.url}/api/items`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' } });
  assert.equal(badMethod.headers.get('access-control-allow-origin'), null, 'a method not allowed gets no allow header');

  // Four preflights, none reached the function: its counter moved by one (the count request itself).
  assert.equal(Number(await count()), Number(before) + 1);

  const real = await fetch(`${node.url}/api/items`, { headers: { origin: 'https://app.example.com' } });
  assert.equal(await real.text(), 'hello');
  assert.equal(real.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.equal(real.headers.get('access-control-allow-credentials'), 'true');
  assert.equal(real.headers.get('access-control-expose-headers'), 'x-trace');
  assert.match(real.headers.get('vary') ?? '', /origin/i);

  const foreign = await fetch(`${node.url}/api/items`, { headers: { origin: 'https://evil.example' } });
  assert.equal(await foreign.text(), 'hello', 'CORS does not block the request itself; the browser does');
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
});

test('serverless httpApi cors: true answers preflights of a GET route and tags its responses', async (t) => {
  const root = await writeProject(t, {
    'serverless.yml': `service: corsapi
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    cors: true
functions:
  items:
    handler: handler.main
    events:
      - httpApi: 'GET /items'
`,
    'handler.js': `let served = 0;
export const main = async () => ({ statusCode: 200, body: String(++served) });
`,
  });
  const node = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t), '--quiet']);
  const preflight = await fetch(`${node.url}/items`, { method: 'OPTIONS', headers: { origin: 'https://any.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET');
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
  const real = await fetch(`${node.url}/items`, { headers: { origin: 'https://any.example' } });
  assert.equal(await real.text(), '1', 'the preflight did not run the function');
  assert.equal(real.headers.get('access-control-allow-origin'), '*');
});
