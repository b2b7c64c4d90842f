/**
 * @module
 * What auth at the edge costs per request: hello-world throughput of one Lambda HTTP API
 * function on a route without auth, against routes of the same function behind an RS256 JWT
 * authorizer (keys from a loopback JWKS, found by OIDC discovery and cached) and behind a Lambda
 * authorizer whose answer is cached (so the steady state is a cache lookup, not a second
 * invocation). wrk sends no custom headers, so both read the token from the query string. All
 * routes are on one node, all warmed up first, and take turns within each round (the order
 * rotating); the median of the rounds is reported with the ratio to the route without auth.
 *
 *   node bench/edge-auth.ts [--rounds 5] [--seconds 5]
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { CLI, CORES, MACHINE, cleanup, ensureWrk, freePort, median, startServer, table, tempDir, wrk, writeFiles } from './lib.ts';
import type { WrkResult } from './lib.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);

ensureWrk();
const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
const idp = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
  else res.end(JSON.stringify({ keys: [jwk] }));
});
await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
const issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}`;
const token = await new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'RS256', kid: 'bench' }).setIssuer(issuer).setAudience('bench').setSubject('bench').setExpirationTime('1d').sign(privateKey);

const dir = tempDir('outpost-bench-auth-');
writeFiles(dir, {
  'api/serverless.yml': `service: authbench
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    authorizers:
      issuer:
        identitySource: $request.querystring.token
        issuerUrl: ${issuer}
        audience: [bench]
      gate:
        type: request
        functionName: auth
        identitySource: $request.querystring.token
        enableSimpleResponses: true
        resultTtlInSeconds: 300
functions:
  auth:
    handler: auth.handler
  hello:
    handler: hello.handler
    events:
      - httpApi: 'GET /plain'
      - httpApi: { path: /jwt, method: get, authorizer: { name: issuer, scopes: [read] } }
      - httpApi: { path: /lambda, method: get, authorizer: { name: gate } }
`,
  'api/auth.js': `export const handler = async (event) => ({ isAuthorized: event.identitySource[0] === 'open-sesame', context: { user: 'bench' } });\n`,
  'api/hello.js': `export const handler = async () => ({ statusCode: 200, body: 'Hello World' });\n`,
});

const routes = [
  { name: 'no auth', path: '/plain' },
  { name: 'JWT RS256 (JWKS cached)', path: `/jwt?token=${token}` },
  { name: 'Lambda authorizer (answer cached)', path: '/lambda?token=open-sesame' },
];

const results = new Map<string, WrkResult[]>();
for (let round = 1; round <= rounds; round++) {
  const port = await freePort();
  const server = await startServer(process.execPath, [CLI, 'dev', `${dir}/api`, '--port', String(port), '--aws-port', '0', '--state', `${dir}/state-${round}`, '--quiet'], `http://127.0.0.1:${port}/plain`, { core: CORES.server, readyLine: true });
  const origin = server.url.replace(/\/plain$/, '');
  for (const route of routes) {
    const check = await fetch(`${origin}${route.path}`);
    if (check.status !== 200) throw new Error(`${route.path} answered ${check.status}: ${await check.text()}`);
    await check.arrayBuffer();
  }
  // Every route warms up before any is measured (the first load also starts the instances), and
  // the order rotates each round, so no route always goes first.
  for (const route of routes) wrk(`${origin}${route.path}`, { seconds: 2 });
  const order = routes.map((_, i) => routes[(i + round) % routes.length] as (typeof routes)[number]);
  for (const route of order) {
    const r = wrk(`${origin}${route.path}`, { seconds });
    // wrk reports nothing when it could not run (a starved machine): such a sample is dropped, not counted as 0.
    if (r.rps > 0) results.set(route.name, [...(results.get(route.name) ?? []), r]);
    console.error(`round ${round}: ${route.name.padEnd(36)} ${r.rps.toFixed(0)} req/s  p99 ${r.p99Ms} ms`);
  }
  await server.stop();
}
idp.close();
cleanup(dir);

const summary = routes.map((route) => {
  const rs = results.get(route.name) ?? [];
  return { name: route.name, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)) };
});
const plain = summary[0]?.rps ?? 1;
console.log(`\n### Auth at the edge, Lambda HTTP API hello world (median of ${rounds} rounds × ${seconds} s, wrk -t1 -c50, server on core ${CORES.server}, wrk on core ${CORES.load})\n`);
console.log(`Machine: ${MACHINE}\n`);
console.log(
  table(
    ['route', 'req/s', 'of no auth', 'cost', 'p50 ms', 'p99 ms'],
    summary.map((s) => [s.name, s.rps.toFixed(0), `${((s.rps / plain) * 100).toFixed(0)} %`, `${(((plain - s.rps) / plain) * 100).toFixed(1)} %`, s.p50.toFixed(2), s.p99.toFixed(2)]),
  ),
);
