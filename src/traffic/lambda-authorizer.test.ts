/** @module Tests for Lambda authorizers: IAM policy evaluation, the answer cache, failures, the events sent, config readers and the event shapes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOutpostError } from '../errors.ts';
import { loadSam } from '../project/sam.ts';
import type { LambdaAuthorizerSpec } from '../project/spec.ts';
import { expectProblems, tempProject } from '../project/testing.ts';
import { loadServerless } from '../project/serverless.ts';
import { nodeState } from './index.ts';
import type { PolicyNode } from './index.ts';
import { authorizerEvent, lambdaAuthorizerPolicy, policyAllows } from './lambda-authorizer.ts';
import type { PolicyRequest } from './policy.ts';
import { apiGatewayAuthorizer } from '../runtime/adapters/lambda-http.ts';

const facts = { region: 'us-east-1', accountId: '000000000000', stage: 'dev', resource: '/items/{id}' };
const arn = 'arn:aws:execute-api:us-east-1:000000000000:outpostapi/dev/GET/items/7';

function request(headers: Record<string, string>): PolicyRequest {
  return { requestId: 'r', method: 'GET', host: 'h', path: '/items/7', search: '?a=1&a=2', headers, ip: '127.0.0.1', functionName: 'items' };
}

const simple: LambdaAuthorizerSpec = { function: 'auth', type: 'REQUEST', identitySource: [{ in: 'header', name: 'authorization' }], payloadVersion: '2.0', simpleResponses: true, ttlSeconds: 60 };

function nodeWith(answer: (event: Record<string, unknown>) => unknown, clock: { now: number }): { node: PolicyNode; calls: () => number } {
  let calls = 0;
  const node: PolicyNode = {
    state: nodeState(),
    now: () => clock.now,
    invoke: async (_name, _kind, payload) => {
      calls++;
      const result = answer(payload as Record<string, unknown>);
      if (result instanceof Error) throw Object.assign(result, { userError: { name: 'Error', message: result.message } });
      return { requestId: 'r', result, record: {} as never };
    },
  };
  return { node, calls: () => calls };
}

test('IAM policies: Allow on a matching ARN (wildcards), Deny wins, other actions ignored', () => {
  const allow = { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:us-east-1:000000000000:outpostapi/dev/GET/*' };
  assert.equal(policyAllows({ Statement: [allow] }, arn), true);
  assert.equal(policyAllows({ Statement: [allow, { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [arn] }] }, arn), false);
  assert.equal(policyAllows({ Statement: [{ ...allow, Action: 's3:GetObject' }] }, arn), false);
  assert.equal(policyAllows({ Statement: { ...allow, Resource: 'arn:aws:execute-api:us-east-1:000000000000:outpostapi/dev/POST/*' } }, arn), false);
});

test('answers are cached per identity for the TTL, then asked again', async () => {
  const clock = { now: 0 };
  const { node, calls } = nodeWith((event) => ({ isAuthorized: (event['identitySource'] as string[])[0] === 'good', context: { who: 'u1' } }), clock);
  const policy = lambdaAuthorizerPolicy(simple, node, facts);
  const first = await policy.decide(request({ authorization: 'good' }));
  assert.deepEqual(first, { authorizer: { who: 'u1' } });
  await policy.decide(request({ authorization: 'good' }));
  assert.equal(calls(), 1);
  const denied = await policy.decide(request({ authorization: 'bad' }));
  assert.ok(denied && 'reply' in denied && denied.reply.status === 403);
  clock.now += 60_000;
  await policy.decide(request({ authorization: 'good' }));
  assert.equal(calls(), 3, 'expired after ttl_seconds');
});

test('concurrent first requests share one invocation; a failure is not cached', async () => {
  const clock = { now: 0 };
  let fail = true;
  const { node, calls } = nodeWith(() => (fail ? new Error('cold database') : { isAuthorized: true }), clock);
  const policy = lambdaAuthorizerPolicy(simple, node, facts);
  await assert.rejects(Promise.resolve(policy.decide(request({ authorization: 'a' }))));
  fail = false;
  const both = await Promise.all([policy.decide(request({ authorization: 'a' })), policy.decide(request({ authorization: 'a' }))]);
  assert.deepEqual(both, [{ authorizer: {} }, { authorizer: {} }]);
  assert.equal(calls(), 2, 'one failed call, then one shared by both requests');
});

test('Unauthorized thrown by the authorizer is 401; any other failure is AUTHORIZER_FAILED', async () => {
  const clock = { now: 0 };
  const unauthorized = lambdaAuthorizerPolicy(simple, nodeWith(() => new Error('Unauthorized'), clock).node, facts);
  const decision = await unauthorized.decide(request({ authorization: 'x' }));
  assert.ok(decision && 'reply' in decision && decision.reply.status === 401);
  const broken = lambdaAuthorizerPolicy(simple, nodeWith(() => new Error('boom'), clock).node, facts);
  await assert.rejects(Promise.resolve(broken.decide(request({ authorization: 'x' }))), (e: unknown) => isOutpostError(e, 'AUTHORIZER_FAILED'));
  const wrongShape = lambdaAuthorizerPolicy(simple, nodeWith(() => 'yes', clock).node, facts);
  await assert.rejects(Promise.resolve(wrongShape.decide(request({ authorization: 'y' }))), (e: unknown) => isOutpostError(e, 'AUTHORIZER_FAILED'));
});

test('the events API Gateway sends: 2.0 REQUEST, 1.0 REQUEST and TOKEN', () => {
  const req = request({ authorization: 'tok', cookie: 'a=1; b=2' });
  const v2 = authorizerEvent(simple, facts, req, ['tok']);
  assert.equal(v2['routeArn'], arn);
  assert.deepEqual(v2['identitySource'], ['tok']);
  assert.deepEqual(v2['cookies'], ['a=1', 'b=2']);
  assert.deepEqual(v2['queryStringParameters'], { a: '1,2' });
  assert.equal(v2['routeKey'], 'GET /items/{id}');
  const v1 = authorizerEvent({ ...simple, payloadVersion: '1.0', simpleResponses: false }, facts, req, ['tok']);
  assert.equal(v1['methodArn'], arn);
  assert.deepEqual(v1['multiValueQueryStringParameters'], { a: ['1', '2'] });
  assert.deepEqual(authorizerEvent({ ...simple, type: 'TOKEN', payloadVersion: '1.0' }, facts, req, ['tok']), { type: 'TOKEN', authorizationToken: 'tok', methodArn: arn });
});

test('SAM Api FunctionArn authorizer (REQUEST, Identity.Headers, ReauthorizeEvery), ApiKeyRequired with a UsagePlan', async (t) => {
  const dir = await tempProject(t, {
    'template.yaml': `Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Cors: "'https://app.example.com'"
Resources:
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Auth:
        DefaultAuthorizer: Gate
        Authorizers:
          Gate:
            FunctionArn: !GetAtt AuthFn.Arn
            FunctionPayloadType: REQUEST
            Identity: { Headers: [X-Token], ReauthorizeEvery: 30 }
        ApiKeyRequired: true
        UsagePlan:
          CreateUsagePlan: PER_API
          Throttle: { RateLimit: 5, BurstLimit: 10 }
          Quota: { Limit: 1000, Period: MONTH }
  PartnerKey:
    Type: AWS::ApiGateway::ApiKey
    Properties: { Name: partner, Value: partner-value-0123456789 }
  AuthFn:
    Type: AWS::Serverless::Function
    Properties: { Handler: app.handler, Runtime: nodejs20.x }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: nodejs20.x
      Events:
        Get:
          Type: Api
          Properties: { RestApiId: !Ref Rest, Path: /orders, Method: get }
        Implicit:
          Type: Api
          Properties: { Path: /public, Method: get }
`,
    'app.js': 'export const handler = async () => ({ statusCode: 200 });\n',
  });
  const { functions } = await loadSam(dir, { dev: false });
  const routes = functions.find((f) => f.name === 'Fn')?.routes ?? [];
  const orders = routes.find((r) => r.path === '/orders');
  assert.deepEqual(orders?.policies?.authorizer, { function: 'AuthFn', type: 'REQUEST', identitySource: [{ in: 'header', name: 'x-token' }], payloadVersion: '1.0', simpleResponses: false, ttlSeconds: 30 });
  assert.deepEqual(orders?.policies?.apiKey, { keys: [{ name: 'partner', value: 'partner-value-0123456789' }], usagePlan: { throttle: { rate: 5, burst: 10 }, quota: { limit: 1000, period: 'MONTH' } } });
  const open = routes.find((r) => r.path === '/public' && r.method === 'GET');
  assert.deepEqual(open?.policies?.cors?.allowOrigins, ['https://app.example.com'], 'the implicit API takes Globals.Api.Cors');
  assert.equal(open?.policies?.authorizer, undefined);
});

test('the loader refuses authorizers it cannot enforce: a missing function, IAM', async (t) => {
  const dir = await tempProject(t, {
    'serverless.yml': `service: s
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    authorizers:
      gate: { type: request, functionName: missing, identitySource: $request.header.Authorization }
functions:
  api:
    handler: app.handler
    events:
      - httpApi: { path: /a, method: get, authorizer: { name: gate } }
      - http: { path: b, method: get, authorizer: aws_iam }
`,
    'app.js': 'export const handler = async () => ({ statusCode: 200 });\n',
  });
  await expectProblems(() => loadServerless(dir, { dev: false }), [
    { file: 'serverless.yml', key: 'functions.api', message: /names the function "missing"/ },
    { file: 'serverless.yml', key: 'functions.api.events[1].http.authorizer', message: /IAM authorization is not served/ },
  ]);
});

test('what authorizers return is shaped per payload version in the Lambda event', () => {
  const jwt = { jwt: { claims: { sub: 'u1' }, scopes: ['read'] } };
  assert.deepEqual(apiGatewayAuthorizer('2.0', jwt), jwt);
  assert.deepEqual(apiGatewayAuthorizer('1.0', jwt), { claims: { sub: 'u1' }, scopes: ['read'] });
  const lambda = { principalId: 'user-1', calls: 2, admin: true };
  assert.deepEqual(apiGatewayAuthorizer('2.0', lambda), { lambda: { calls: 2, admin: true } });
  assert.deepEqual(apiGatewayAuthorizer('1.0', lambda), { principalId: 'user-1', calls: '2', admin: 'true' });
});
