// Auth at the edge, end to end: JWT authorizers (accept/reject matrix, scopes, JWKS rotation,
// claims seen by a Worker and by a Lambda v2 handler), Lambda authorizers (simple responses,
// IAM policies, caching per identity) and API keys with usage plans.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { eventually, runCli, startOutpost, tempDir, writeProject } from './helpers.ts';
import type { Running } from './helpers.ts';

const AUDIENCE = 'outpost-tests';

/** A loopback identity provider: OIDC discovery and a JWKS whose keys the test switches. */
async function identityProvider(t: { after(fn: () => unknown): void }): Promise<{ issuer: string; setKeys(keys: JWK[]): void; fetches(): number }> {
  let keys: JWK[] = [];
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise((r) => server.close(() => r(undefined))));
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { issuer, setKeys: (k) => (keys = k), fetches: () => fetches };
}

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

async function token(key: SigningKey, claims: Record<string, unknown>, options: { issuer: string; audience?: string; expiresIn?: number | string; notBefore?: number }): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuer(options.issuer).setAudience(options.audience ?? AUDIENCE).setIssuedAt().setSubject('user-1');
  jwt.setExpirationTime(options.expiresIn ?? '5m');
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(key.privateKey);
}

function bearer(value: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${value}` } };
}

describe('JWT authorizers', () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let idp: Awaited<ReturnType<typeof identityProvider>>;
  let first: SigningKey;
  let second: SigningKey;
  let ec: SigningKey;
  let stranger: SigningKey;
  let workerNode: Running;
  let lambdaNode: Running;

  before(async () => {
    idp = await identityProvider(t);
    [first, second, ec, stranger] = await Promise.all([signingKey('k1', 'RS256'), signingKey('k2', 'RS256'), signingKey('e1', 'ES256'), signingKey('k1', 'RS256')]);
    idp.setKeys([first.jwk, ec.jwk]);
    const worker = await writeProject(t, {
      'outpost.toml': `name = "claims"
main = "src/index.ts"

[[route_rules]]
path = "/api/*"
jwt = { issuer = "${idp.issuer}", audiences = ["${AUDIENCE}"], jwks_url = "${idp.issuer}/jwks", algorithms = ["RS256"], scopes = ["read"], jwks_cooldown_seconds = 1 }

[[route_rules]]
path = "/hs/*"
jwt = { secret = "JWT_SECRET", algorithms = ["HS256"] }

[[route_rules]]
path = "/stored/*"
jwt = { secret = "STORED_SECRET" }
`,
      '.dev.vars': 'JWT_SECRET=a-long-shared-secret-for-hmac-tokens\n',
      'src/index.ts': `export default { fetch: (request) => new Response(request.headers.get('x-outpost-jwt-claims') ?? 'no claims') };`,
    });
    const lambda = await writeProject(t, {
      'serverless.yml': `service: jwtapi
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    authorizers:
      issuerAuth:
        identitySource: $request.header.Authorization
        issuerUrl: ${idp.issuer}
        audience:
          - ${AUDIENCE}
functions:
  me:
    handler: handler.me
    events:
      - httpApi:
          path: /me
          method: get
          authorizer:
            name: issuerAuth
            scopes: [read]
`,
      'handler.js': `export const me = async (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.authorizer) });\n`,
    });
    [workerNode, lambdaNode] = await Promise.all([
      startOutpost(t, ['dev', worker, '--port', '0', '--state', await tempDir(t), '--quiet']),
      startOutpost(t, ['dev', lambda, '--port', '0', '--state', await tempDir(t), '--quiet']),
    ]);
  });

  test('a valid token passes and its claims reach a Worker as x-outpost-jwt-claims', async () => {
    const res = await fetch(`${workerNode.url}/api/me`, bearer(await token(first, { scope: 'read write', tier: 'gold', name: 'Zoë' }, { issuer: idp.issuer })));
    assert.equal(res.status, 200);
    const claims = JSON.parse(await res.text()) as Record<string, unknown>;
    assert.equal(claims['sub'], 'user-1');
    assert.equal(claims['tier'], 'gold');
    assert.equal(claims['name'], 'Zoë', 'non-ASCII claims survive the header');
  });

  test('rejections answer like API Gateway: 401 Unauthorized, 403 Forbidden for a missing scope', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Promise<string> | string, number]> = [
      ['expired', token(first, { scope: 'read' }, { issuer: idp.issuer, expiresIn: now - 60 }), 401],
      ['not yet valid', token(first, { scope: 'read' }, { issuer: idp.issuer, notBefore: now + 600 }), 401],
      ['wrong issuer', token(first, { scope: 'read' }, { issuer: 'https://someone-else.example' }), 401],
      ['wrong audience', token(first, { scope: 'read' }, { issuer: idp.issuer, audience: 'another-api' }), 401],
      ['wrong key (same kid, other key)', token(stranger, { scope: 'read' }, { issuer: idp.issuer }), 401],
      ['algorithm not allowed (ES256 key in the JWKS)', token(ec, { scope: 'read' }, { issuer: idp.issuer }), 401],
      ['not a JWT', 'not.a.jwt', 401],
      ['missing scope', token(first, { scope: 'write' }, { issuer: idp.issuer }), 403],
    ];
    for (const [what, jwt, status] of cases) {
      const res = await fetch(`${workerNode.url}/api/me`, bearer(await jwt));
      assert.equal(res.status, status, what);
      assert.deepEqual(await res.json(), { message: status === 401 ? 'Unauthorized' : 'Forbidden' }, what);
      if (status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, what);
    }
    const none = await fetch(`${workerNode.url}/api/me`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const forged = await fetch(`${workerNode.url}/api/me`, { headers: { authorization: `Bearer ${await token(first, { scope: 'read' }, { issuer: idp.issuer })}`, 'x-outpost-jwt-claims': '{"sub":"admin"}' } });
    assert.equal(forged.status, 401, 'a client cannot send its own claims header');
  });

  test('HS256 with the secret named in config (from .dev.vars)', async () => {
    const secret = new TextEncoder().encode('a-long-shared-secret-for-hmac-tokens');
    const good = await new SignJWT({ role: 'ops' }).setProtectedHeader({ alg: 'HS256' }).setSubject('svc').setExpirationTime('1m').sign(secret);
    const res = await fetch(`${workerNode.url}/hs/x`, bearer(good));
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(await res.text()) as Record<string, unknown>)['role'], 'ops');
    const other = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1m').sign(new TextEncoder().encode('another-secret-of-enough-length!!'));
    assert.equal((await fetch(`${workerNode.url}/hs/x`, bearer(other))).status, 401);
  });

  test('an HMAC secret from outpost secret put: 500 JWT_SECRET_MISSING until it is stored, then verified', async () => {
    const secret = 'a-stored-secret-that-never-touches-git';
    const signed = await new SignJWT({ via: 'vault' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1m').sign(new TextEncoder().encode(secret));
    const before = await fetch(`${workerNode.url}/stored/x`, bearer(signed));
    assert.equal(before.status, 500);
    assert.equal(before.headers.get('x-outpost-error'), 'JWT_SECRET_MISSING', 'a missing secret never leaves the route open');
    const put = await fetch(`${workerNode.url}/_outpost/api/functions/claims/secrets/STORED_SECRET`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: secret }) });
    assert.equal(put.status, 200, await put.text());
    const after = await eventually(async () => {
      const res = await fetch(`${workerNode.url}/stored/x`, bearer(signed));
      return res.status === 200 ? res : undefined;
    }, 10_000, 'the stored secret used');
    assert.equal((JSON.parse(await after.text()) as Record<string, unknown>)['via'], 'vault');
  });

  test('a rotated JWKS: a token signed with the new key is accepted once the node refetches', async () => {
    assert.equal((await fetch(`${workerNode.url}/api/me`, bearer(await token(first, { scope: 'read' }, { issuer: idp.issuer })))).status, 200);
    idp.setKeys([second.jwk]);
    const rotated = await token(second, { scope: 'read' }, { issuer: idp.issuer });
    // The unknown kid refetches the JWKS, at most once per cooldown (1 s here).
    await eventually(async () => ((await fetch(`${workerNode.url}/api/me`, bearer(rotated))).status === 200 ? true : undefined), 10_000, 'the rotated key accepted');
    const old = await fetch(`${workerNode.url}/api/me`, bearer(await token(first, { scope: 'read' }, { issuer: idp.issuer })));
    assert.equal(old.status, 401, 'the retired key no longer verifies');
    idp.setKeys([first.jwk, second.jwk, ec.jwk]);
  });

  test('serverless httpApi JWT authorizer (OIDC discovery): claims and scopes in the Lambda v2 event', async () => {
    idp.setKeys([first.jwk, second.jwk, ec.jwk]);
    const res = await fetch(`${lambdaNode.url}/me`, bearer(await token(first, { scope: 'read write', n: 7 }, { issuer: idp.issuer })));
    assert.equal(res.status, 200);
    const authorizer = (await res.json()) as { jwt: { claims: Record<string, string>; scopes: string[] } };
    assert.equal(authorizer.jwt.claims['sub'], 'user-1');
    assert.equal(authorizer.jwt.claims['n'], '7', 'claim values are strings, as API Gateway passes them');
    assert.deepEqual(authorizer.jwt.scopes, ['read', 'write']);
    assert.equal((await fetch(`${lambdaNode.url}/me`, bearer(await token(first, { scope: 'write' }, { issuer: idp.issuer })))).status, 403);
    assert.equal((await fetch(`${lambdaNode.url}/me`)).status, 401);
    assert.equal((await fetch(`${lambdaNode.url}/elsewhere`)).status, 404, 'dev adds no unauthenticated catch-all for a function whose routes all have authorizers');
  });
});

describe('Lambda authorizers', () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let node: Running;

  before(async () => {
    const root = await writeProject(t, {
      'serverless.yml': `service: lambdaauth
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    authorizers:
      simple:
        type: request
        functionName: auth
        identitySource: $request.header.Authorization
        enableSimpleResponses: true
        resultTtlInSeconds: 300
functions:
  auth:
    handler: auth.handler
  v2:
    handler: handler.echo
    events:
      - httpApi: { path: /v2, method: get, authorizer: { name: simple } }
  rest:
    handler: handler.echo
    events:
      - http:
          path: rest
          method: get
          authorizer:
            name: auth
            type: request
            identitySource: method.request.header.Authorization
            resultTtlInSeconds: 0
`,
      'auth.js': `let calls = 0;
export const handler = async (event) => {
  calls++;
  if (event.version === '2.0') {
    const token = event.identitySource[0];
    return { isAuthorized: token !== 'nope', context: { calls, token } };
  }
  const token = event.headers.authorization;
  return {
    principalId: 'user-' + token,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: token === 'allow' ? 'Allow' : 'Deny', Resource: event.methodArn }] },
    context: { calls },
  };
};
`,
      'handler.js': `export const echo = async (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.authorizer) });\n`,
    });
    node = await startOutpost(t, ['dev', root, '--port', '0', '--state', await tempDir(t), '--quiet']);
  });

  test('simple responses: allow, deny, and one authorizer call per identity per TTL', async () => {
    const get = async (authorization?: string): Promise<Response> => fetch(`${node.url}/v2`, authorization ? { headers: { authorization } } : {});
    const firstCall = await get('let-me-in');
    assert.equal(firstCall.status, 200);
    const context = ((await firstCall.json()) as { lambda: { calls: number; token: string } }).lambda;
    assert.equal(context.token, 'let-me-in');
    const again = ((await (await get('let-me-in')).json()) as { lambda: { calls: number } }).lambda;
    assert.equal(again.calls, context.calls, 'the cached answer was used: the authorizer ran once');
    const other = ((await (await get('me-too')).json()) as { lambda: { calls: number } }).lambda;
    assert.equal(other.calls, context.calls + 1, 'another identity asks again');
    const denied = await get('nope');
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), { message: 'Forbidden' });
    assert.equal((await get('nope')).status, 403);
    const missing = await get();
    assert.equal(missing.status, 401, 'no identity source: 401 without asking');
    assert.deepEqual(await missing.json(), { message: 'Unauthorized' });
    const later = ((await (await get('third')).json()) as { lambda: { calls: number } }).lambda;
    assert.equal(later.calls, context.calls + 3, 'the repeated deny and the missing identity did not call the authorizer');
  });

  test('REST REQUEST authorizer: an IAM policy Allow/Deny on the method ARN, context flat in requestContext.authorizer', async () => {
    const allowed = await fetch(`${node.url}/rest`, { headers: { authorization: 'allow' } });
    assert.equal(allowed.status, 200);
    const authorizer = (await allowed.json()) as Record<string, unknown>;
    assert.equal(authorizer['principalId'], 'user-allow');
    assert.match(String(authorizer['calls']), /^\d+$/);
    assert.equal(typeof authorizer['calls'], 'string', 'REST passes context values as strings');
    const denied = await fetch(`${node.url}/rest`, { headers: { authorization: 'deny' } });
    assert.equal(denied.status, 403);
  });
});

describe('API keys and usage plans', () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => void cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  let rest: Running;
  let worker: Running;

  before(async () => {
    const restRoot = await writeProject(t, {
      'serverless.yml': `service: keyed
provider:
  name: aws
  runtime: nodejs20.x
  apiGateway:
    apiKeys:
      - name: partner
        value: partner-key-value-0123456789
      - ops
    usagePlan:
      throttle:
        rateLimit: 0.01
        burstLimit: 2
functions:
  orders:
    handler: handler.orders
    events:
      - http: { path: orders, method: get, private: true }
      - http: { path: open, method: get }
`,
      'handler.js': `export const orders = async () => ({ statusCode: 200, body: 'orders' });\n`,
    });
    const workerRoot = await writeProject(t, {
      'outpost.toml': `name = "quota"
main = "src/index.ts"

[[route_rules]]
path = "/metered/*"
api_key = { quota = 2, quota_period = "DAY" }
`,
      'src/index.ts': `export default { fetch: () => new Response('metered') };`,
    });
    [rest, worker] = await Promise.all([
      startOutpost(t, ['dev', restRoot, '--port', '0', '--state', await tempDir(t), '--quiet']),
      startOutpost(t, ['dev', workerRoot, '--port', '0', '--state', await tempDir(t), '--quiet']),
    ]);
  });

  const get = (url: string, key?: string): Promise<Response> => fetch(url, key ? { headers: { 'x-api-key': key } } : {});

  test('private: true requires a known x-api-key; the usage plan throttles each key with 429 and Retry-After', async () => {
    const missing = await get(`${rest.url}/orders`);
    assert.equal(missing.status, 403);
    assert.deepEqual(await missing.json(), { message: 'Forbidden' });
    assert.equal((await get(`${rest.url}/orders`, 'guessed-key')).status, 403);
    assert.equal((await get(`${rest.url}/open`)).status, 200, 'a route without private: true needs no key');
    assert.equal(await (await get(`${rest.url}/orders`, 'partner-key-value-0123456789')).text(), 'orders');
    assert.equal((await get(`${rest.url}/orders`, 'partner-key-value-0123456789')).status, 200);
    const throttled = await get(`${rest.url}/orders`, 'partner-key-value-0123456789');
    assert.equal(throttled.status, 429);
    assert.deepEqual(await throttled.json(), { message: 'Too Many Requests' });
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
  });

  test('outpost apikeys create prints a value once; the node accepts it where config names it, until deleted', async () => {
    const created = await runCli(['apikeys', 'create', 'ops', '--to', rest.url, '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { value } = JSON.parse(created.stdout) as { value: string };
    assert.equal((await get(`${rest.url}/orders`, value)).status, 200, 'ops has its own throttle bucket');
    const listed = await runCli(['apikeys', 'list', '--to', rest.url]);
    assert.match(listed.stdout, /ops/);
    assert.doesNotMatch(listed.stdout, new RegExp(value), 'values are never listed');
    const other = JSON.parse((await runCli(['apikeys', 'create', 'stranger', '--to', rest.url, '--json'])).stdout) as { value: string };
    assert.equal((await get(`${rest.url}/orders`, other.value)).status, 403, 'a key the config does not name is refused');
    const twice = await runCli(['apikeys', 'create', 'ops', '--to', rest.url]);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr + twice.stdout, /exists already/);
    assert.equal((await runCli(['apikeys', 'delete', 'ops', '--to', rest.url])).code, 0);
    assert.equal((await get(`${rest.url}/orders`, value)).status, 403, 'a deleted key is refused');
  });

  test('a quota per day answers 429 Limit Exceeded once used up', async () => {
    const { value } = JSON.parse((await runCli(['apikeys', 'create', 'metered', '--to', worker.url, '--json'])).stdout) as { value: string };
    assert.equal(await (await get(`${worker.url}/metered/a`, value)).text(), 'metered');
    assert.equal((await get(`${worker.url}/metered/b`, value)).status, 200);
    const over = await get(`${worker.url}/metered/c`, value);
    assert.equal(over.status, 429);
    assert.deepEqual(await over.json(), { message: 'Limit Exceeded' });
    assert.ok(Number(over.headers.get('retry-after')) > 0);
    assert.equal((await get(`${worker.url}/metered/c`)).status, 403);
  });
});
