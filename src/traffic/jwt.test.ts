/** @module Tests for JWT authorizers: identity sources, claims and scopes, clock skew, missing secrets and keys, config readers (outpost.toml, SAM). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from 'node:http';
import { generateKeyPair, SignJWT } from 'jose';
import { isOutpostError } from '../errors.ts';
import { Fields } from '../project/fields.ts';
import { ProblemList } from '../project/problems.ts';
import { loadSam } from '../project/sam.ts';
import type { JwtSpec, RoutePolicySpec } from '../project/spec.ts';
import { tempProject } from '../project/testing.ts';
import { nodeState } from './index.ts';
import type { PolicyNode } from './index.ts';
import { claimStrings, claimsHeaderValue, jwtPolicy, parseIdentitySource, readJwtRule, scopesOfToken } from './jwt.ts';
import type { PolicyRequest } from './policy.ts';

const SECRET = 'a-shared-secret-long-enough-for-hs256';

function node(now: () => number): PolicyNode {
  return { state: nodeState(), invoke: () => Promise.reject(new Error('not used')), now };
}

function request(headers: Record<string, string>, search = ''): PolicyRequest {
  return { requestId: 'r', method: 'GET', host: 'h', path: '/x', search, headers, ip: '127.0.0.1', functionName: 'fn' };
}

const hsSpec: JwtSpec = {
  audiences: [],
  keys: { secretName: 'JWT_SECRET' },
  algorithms: ['HS256'],
  scopes: [],
  clockSkewSeconds: 30,
  identitySource: { in: 'header', name: 'authorization' },
  jwksCooldownSeconds: 30,
};

test('identity sources in HTTP API and REST notation', () => {
  assert.deepEqual(parseIdentitySource('$request.header.Authorization'), { in: 'header', name: 'authorization' });
  assert.deepEqual(parseIdentitySource('method.request.querystring.token'), { in: 'query', name: 'token' });
  assert.equal(parseIdentitySource('$context.identity.sourceIp'), undefined);
});

test('scopes from scope or scp; claims as strings the way API Gateway passes them', () => {
  assert.deepEqual(scopesOfToken({ scope: 'a b' }), ['a', 'b']);
  assert.deepEqual(scopesOfToken({ scp: ['x'] }), ['x']);
  assert.deepEqual(claimStrings({ sub: 'u', exp: 10, aud: ['a', 'b'], admin: true, org: { id: 1 } }), { sub: 'u', exp: '10', aud: '[a b]', admin: 'true', org: '{"id":1}' });
});

test('the claims header is ASCII (header-safe) and parses back to the claims', () => {
  const claims = { name: 'Zoë 🚀', n: 1 };
  const value = claimsHeaderValue(claims);
  assert.match(value, /^[\x20-\x7e]+$/);
  assert.deepEqual(JSON.parse(value), claims);
});

test('clock skew is measured against the node clock, and a token from the query string works', async () => {
  const issuedAt = 1_700_000_000;
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(issuedAt).setExpirationTime(issuedAt + 60).sign(new TextEncoder().encode(SECRET));
  let now = (issuedAt + 60 + 20) * 1000; // 20 s past exp, inside the 30 s skew
  const policy = jwtPolicy({ ...hsSpec, identitySource: { in: 'query', name: 'token' } }, node(() => now), { secret: SECRET, claimsHeader: true, functionName: 'fn' });
  const inside = await policy.decide(request({}, `?token=${token}`));
  assert.ok(inside && 'requestHeaders' in inside, 'accepted within the skew');
  now += 20_000;
  const outside = await policy.decide(request({}, `?token=${token}`));
  assert.ok(outside && 'reply' in outside);
  assert.equal(outside.reply.status, 401);
  assert.match(outside.reply.headers?.['www-authenticate'] ?? '', /expired/);
});

test('a secret the function does not have is a JWT_SECRET_MISSING error, not an open route', async () => {
  const policy = jwtPolicy(hsSpec, node(Date.now), { claimsHeader: true, functionName: 'billing' });
  await assert.rejects(Promise.resolve(policy.decide(request({ authorization: 'Bearer x' }))), (e: unknown) => isOutpostError(e, 'JWT_SECRET_MISSING') && /outpost secret put JWT_SECRET --function billing/.test(e.hint ?? ''));
});

test('outpost.toml jwt: defaults, and problems for a key source that is missing or inline', () => {
  const problems = new ProblemList('outpost.toml');
  const policies: RoutePolicySpec = {};
  readJwtRule(new Fields({ jwt: { jwks_url: 'https://idp.example/jwks', scopes: ['read'] } }, 'route_rules[0]', problems), policies);
  assert.deepEqual(policies.jwt?.algorithms, ['RS256', 'ES256', 'EdDSA']);
  assert.equal(policies.jwt?.jwksCooldownSeconds, 30);
  assert.equal(problems.items.length, 0);
  readJwtRule(new Fields({ jwt: { audiences: ['a'] } }, 'route_rules[1]', problems), {});
  readJwtRule(new Fields({ jwt: { secret: 'not a name!', algorithms: ['none'] } }, 'route_rules[2]', problems), {});
  assert.deepEqual(problems.items.map((p) => p.key), ['route_rules[1].jwt.jwks_url', 'route_rules[2].jwt.secret', 'route_rules[2].jwt.algorithms']);
});

test('SAM HttpApi JwtConfiguration + DefaultAuthorizer + AuthorizationScopes, CorsConfiguration, and NONE', async (t) => {
  const dir = await tempProject(t, {
    'template.yaml': `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: [https://app.example.com]
      Auth:
        DefaultAuthorizer: Issuer
        Authorizers:
          Issuer:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: https://idp.example.com
              audience: [my-api]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: nodejs20.x
      Events:
        Read:
          Type: HttpApi
          Properties: { ApiId: !Ref Api, Path: /items, Method: get, Auth: { AuthorizationScopes: [items/read] } }
        Health:
          Type: HttpApi
          Properties: { ApiId: !Ref Api, Path: /health, Method: get, Auth: { Authorizer: NONE } }
`,
    'app.js': 'export const handler = async () => ({ statusCode: 200 });\n',
  });
  const { functions } = await loadSam(dir, { dev: false });
  const routes = functions[0]?.routes ?? [];
  const read = routes.find((r) => r.path === '/items' && r.method === 'GET');
  assert.equal(read?.policies?.jwt?.issuer, 'https://idp.example.com');
  assert.deepEqual(read?.policies?.jwt?.audiences, ['my-api']);
  assert.deepEqual(read?.policies?.jwt?.scopes, ['items/read']);
  assert.deepEqual(read?.policies?.jwt?.keys, { discover: true });
  assert.deepEqual(read?.policies?.cors?.allowOrigins, ['https://app.example.com']);
  const health = routes.find((r) => r.path === '/health' && r.method === 'GET');
  assert.equal(health?.policies?.jwt, undefined, 'Authorizer: NONE opts out');
  assert.ok(routes.some((r) => r.path === '/items' && r.method === 'OPTIONS'), 'a preflight twin');
});

test('a JWKS that cannot be fetched is JWKS_UNAVAILABLE (the system), not a 401 for the caller', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  const { privateKey } = await generateKeyPair('RS256');
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setExpirationTime('1m').sign(privateKey);
  const policy = jwtPolicy({ ...hsSpec, keys: { jwksUrl: `http://127.0.0.1:${port}/jwks` }, algorithms: ['RS256'] }, node(Date.now), { claimsHeader: true, functionName: 'fn' });
  await assert.rejects(Promise.resolve(policy.decide(request({ authorization: `Bearer ${token}` }))), (e: unknown) => isOutpostError(e, 'JWKS_UNAVAILABLE') && e.status === 502);
});
