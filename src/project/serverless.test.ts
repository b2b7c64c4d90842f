/** @module Tests for the serverless.yml loader: fixtures, variables, events, step functions and bad configs. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { cloudFrontPath, detectServerless, loadServerless, serverlessLogicalId } from './serverless.ts';
import { expectProblems, fixturePath, tempProject } from './testing.ts';

const HANDLER = 'export const handler = async () => ({ statusCode: 200 });\n';

test('lambda-apigw fixture: REST routes, provider memory/timeout/environment', async () => {
  const root = fixturePath('lambda-apigw');
  assert.equal(await detectServerless(root), true);
  const spec = await loadServerless(root, { dev: true, env: {} });
  assert.equal(spec.name, 'my-api');
  assert.equal(spec.format, 'serverless');
  assert.deepEqual(spec.configFiles, ['serverless.yml']);
  const [hello, getUser] = spec.functions;
  assert.ok(hello && getUser);
  assert.equal(hello.name, 'hello');
  assert.equal(hello.style, 'lambda');
  assert.equal(hello.entry, path.join(root, 'src/handlers/hello.js'));
  assert.equal(hello.handlerExport, 'handler');
  assert.deepEqual(hello.vars, { GREETING: 'Hello' });
  assert.equal(hello.limits.memoryMb, 256);
  assert.equal(hello.limits.wallMs, 10_000);
  assert.equal(hello.limits.concurrency, 1);
  assert.equal(hello.nodeCompat, true);
  assert.deepEqual(hello.routes, [{ path: '/hello', method: 'GET', event: { kind: 'api-gateway', payloadVersion: '1.0', resource: '/hello', stage: 'dev' } }]);
  assert.deepEqual(getUser.routes, [
    { path: '/users/{id}', method: 'GET', event: { kind: 'api-gateway', payloadVersion: '1.0', resource: '/users/{id}', stage: 'dev' } },
  ]);
  assert.deepEqual(hello.platform, { runtime: 'nodejs20.x', region: 'us-east-1', stage: 'dev', accountId: '000000000000', functionName: 'my-api-dev-hello' });
});

test('lambda-edge-ab fixture: cloudFront viewer-request on /ab/*', async () => {
  const root = fixturePath('lambda-edge-ab');
  const spec = await loadServerless(root, { dev: true, env: {} });
  const [fn] = spec.functions;
  assert.ok(fn);
  assert.equal(fn.style, 'lambda-edge');
  assert.equal(fn.handlerExport, 'abTest');
  assert.equal(fn.entry, path.join(root, 'handler.js'));
  assert.deepEqual(fn.routes, [{ path: '/ab/*', event: { kind: 'cloudfront', eventType: 'viewer-request', origin: 'https://origin.example.com' } }]);
});

test('variables: self, env with defaults, opt/sls stage, nesting, interpolation, file() and params', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `
service: vars-\${sls:stage}
params:
  default: { tier: basic }
  prod: { tier: gold }
custom:
  mem: 512
  dev: { url: https://dev.example.com }
  prod: { url: https://prod.example.com }
  shared: \${file(./config.yml):shared}
provider:
  name: aws
  runtime: nodejs22.x
  stage: \${opt:stage, 'dev'}
  region: \${env:REGION, 'eu-west-1'}
  memorySize: \${self:custom.mem}
  environment:
    URL: \${self:custom.\${sls:stage}.url}
    GREETING: "hi \${env:WHO}, stage \${sls:stage}!"
    FALLBACK: \${env:NOPE, 'plain'}
    TIER: \${param:tier}
    SHARED: \${self:custom.shared.value}
    REGION: \${aws:region}
functions:
  api:
    handler: handler.handler
`,
    'config.yml': 'shared:\n  value: from-file\n',
    'handler.js': HANDLER,
  });
  const dev = await loadServerless(root, { dev: true, env: { WHO: 'Kim' } });
  assert.equal(dev.name, 'vars-dev');
  assert.deepEqual(dev.configFiles, ['serverless.yml', 'config.yml']);
  const fn = dev.functions[0];
  assert.ok(fn);
  assert.equal(fn.limits.memoryMb, 512);
  assert.deepEqual(fn.vars, {
    URL: 'https://dev.example.com',
    GREETING: 'hi Kim, stage dev!',
    FALLBACK: 'plain',
    TIER: 'basic',
    SHARED: 'from-file',
    REGION: 'eu-west-1',
  });
  assert.equal(fn.platform['region'], 'eu-west-1');
  assert.equal(fn.platform['stage'], 'dev');

  const prod = await loadServerless(root, { dev: false, stage: 'prod', env: { WHO: 'Lee', REGION: 'ap-south-1' } });
  const p = prod.functions[0];
  assert.ok(p);
  assert.equal(prod.name, 'vars-prod');
  assert.equal(p.vars['URL'], 'https://prod.example.com');
  assert.equal(p.vars['TIER'], 'gold');
  assert.equal(p.vars['REGION'], 'ap-south-1');
  assert.equal(p.platform['functionName'], 'vars-prod-prod-api');
});

test('unresolved variables are problems naming the key', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `
service: bad-vars
provider:
  name: aws
  environment:
    API_KEY: \${env:API_KEY}
    OTHER: \${self:custom.missing}
    CF: \${ssm:/my/param}
functions:
  api: { handler: handler.handler }
`,
    'handler.js': HANDLER,
  });
  const problems = await expectProblems(() => loadServerless(root, { dev: true, env: {} }), [
    { file: 'serverless.yml', key: 'provider.environment.API_KEY', message: /API_KEY is not set/ },
    { file: 'serverless.yml', key: 'provider.environment.OTHER', message: /custom\.missing/ },
    { file: 'serverless.yml', key: 'provider.environment.CF', message: /ssm/ },
  ]);
  assert.ok(problems.every((p) => p.fix !== undefined));
});

test('CloudFormation Sub placeholders are left for CloudFormation', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `
service: cfn
provider: { name: aws, region: eu-central-1 }
functions:
  api:
    handler: handler.handler
    environment:
      QUEUE_URL: { Ref: Jobs }
      QUEUE_ARN: !GetAtt Jobs.Arn
      SUB: !Sub 'https://\${AWS::Region}.example.com/\${Jobs.QueueName}'
resources:
  Resources:
    Jobs:
      Type: AWS::SQS::Queue
      Properties: { QueueName: jobs-queue }
`,
    'handler.js': HANDLER,
  });
  const spec = await loadServerless(root, { dev: true, env: {} });
  assert.deepEqual(spec.functions[0]?.vars, {
    QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/000000000000/jobs-queue',
    QUEUE_ARN: 'arn:aws:sqs:eu-central-1:000000000000:jobs-queue',
    SUB: 'https://eu-central-1.example.com/jobs-queue',
  });
});

test('per-function overrides, httpApi forms, http short form, TypeScript handlers, triggers', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `
service: events
provider:
  name: aws
  runtime: nodejs20.x
  memorySize: 1024
  timeout: 6
  environment: { A: provider, B: provider }
functions:
  api:
    handler: src/api.main
    runtime: nodejs22.x
    memorySize: 2048
    timeout: 29
    environment: { B: function, C: 3 }
    events:
      - httpApi:
          path: /items/{id}
          method: get
      - httpApi: 'POST /items'
      - httpApi: '*'
      - http: ANY proxy/{proxy+}
      - http: { path: users, method: any }
  worker:
    handler: worker.run
    events:
      - schedule: rate(5 minutes)
      - schedule: { rate: [cron(0 12 * * ? *), rate(1 hour)], timezone: Europe/Berlin }
      - schedule: { rate: rate(1 day), enabled: false }
      - sqs: arn:aws:sqs:us-east-1:123456789012:orders
      - sqs: { arn: !GetAtt Jobs.Arn, batchSize: 5, maximumBatchingWindow: 10 }
      - s3: { bucket: uploads, event: 's3:ObjectCreated:Put', rules: [{ prefix: in/ }, { suffix: .csv }] }
      - s3: photos
      - sns: topic
resources:
  Resources:
    Jobs:
      Type: AWS::SQS::Queue
      Properties:
        VisibilityTimeout: 60
        RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: !GetAtt JobsDlq.Arn }
    JobsDlq: { Type: AWS::SQS::Queue, Properties: { QueueName: jobs-dlq } }
`,
    'src/api.ts': 'export const main = async () => ({ statusCode: 200 });\n',
    'worker.mjs': 'export const run = async () => {};\n',
  });
  const spec = await loadServerless(root, { dev: true, env: {} });
  const [api, worker] = spec.functions;
  assert.ok(api && worker);
  assert.equal(api.entry, path.join(root, 'src/api.ts'));
  assert.equal(api.handlerExport, 'main');
  assert.equal(api.platform['runtime'], 'nodejs22.x');
  assert.equal(api.limits.memoryMb, 2048);
  assert.equal(api.limits.wallMs, 29_000);
  assert.deepEqual(api.vars, { A: 'provider', B: 'function', C: '3' });
  assert.deepEqual(api.routes, [
    { path: '/items/{id}', method: 'GET', event: { kind: 'api-gateway', payloadVersion: '2.0', resource: '/items/{id}', stage: '$default' } },
    { path: '/items', method: 'POST', event: { kind: 'api-gateway', payloadVersion: '2.0', resource: '/items', stage: '$default' } },
    { path: '/*', event: { kind: 'api-gateway', payloadVersion: '2.0', resource: '$default', stage: '$default' } },
    { path: '/proxy/{proxy+}', event: { kind: 'api-gateway', payloadVersion: '1.0', resource: '/proxy/{proxy+}', stage: 'dev' } },
    { path: '/users', event: { kind: 'api-gateway', payloadVersion: '1.0', resource: '/users', stage: 'dev' } },
  ]);
  assert.equal(worker.entry, path.join(root, 'worker.mjs'));
  assert.equal(worker.limits.memoryMb, 1024);
  assert.equal(worker.limits.wallMs, 6_000);
  assert.deepEqual(worker.triggers, [
    { type: 'cron', expression: 'rate(5 minutes)' },
    { type: 'cron', expression: 'cron(0 12 * * ? *)', timezone: 'Europe/Berlin' },
    { type: 'cron', expression: 'rate(1 hour)', timezone: 'Europe/Berlin' },
    { type: 'queue', queue: 'orders' },
    { type: 'queue', queue: 'Jobs', maxRetries: 2, deadLetterQueue: 'jobs-dlq', visibilityTimeoutSeconds: 60, maxBatchSize: 5, maxBatchTimeoutSeconds: 10 },
    { type: 'object', bucket: 'uploads', events: ['s3:ObjectCreated:Put'], prefix: 'in/', suffix: '.csv' },
    { type: 'object', bucket: 'photos', events: ['s3:ObjectCreated:*'] },
  ]);
});

test('provider.httpApi.payload switches httpApi routes to payload 1.0', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': 'service: p1\nprovider: { name: aws, httpApi: { payload: "1.0" } }\nfunctions:\n  a: { handler: h.handler, events: [{ httpApi: "GET /a" }] }\n',
    'h.js': HANDLER,
  });
  const spec = await loadServerless(root, { dev: true, env: {} });
  assert.equal(spec.functions[0]?.routes[0]?.event.kind === 'api-gateway' && spec.functions[0].routes[0].event.payloadVersion, '1.0');
});

test('stepFunctions: GetAtt by function key, logical id and short tag; deployed-name ARNs retargeted', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `
service: flow
provider: { name: aws, region: eu-west-1 }
functions:
  hello: { handler: h.handler }
  get-user: { handler: h.handler }
stepFunctions:
  stateMachines:
    main:
      name: main-flow
      type: express
      definition:
        StartAt: A
        States:
          A: { Type: Task, Resource: { Fn::GetAtt: [hello, Arn] }, Next: B }
          B: { Type: Task, Resource: !GetAtt HelloLambdaFunction.Arn, Next: C }
          C: { Type: Task, Resource: { 'Fn::GetAtt': [GetDashuserLambdaFunction, Arn] }, Next: D }
          D: { Type: Task, Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:\${self:service}-\${sls:stage}-hello', Next: E }
          E: { Type: Task, Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: flow-dev-get-user }, End: true }
    second:
      definition: { StartAt: P, States: { P: { Type: Pass, End: true } } }
`,
    'h.js': HANDLER,
  });
  const spec = await loadServerless(root, { dev: true, env: {} });
  assert.equal(serverlessLogicalId('get-user'), 'GetDashuserLambdaFunction');
  const [main, second] = spec.stateMachines;
  assert.ok(main && second);
  assert.equal(main.name, 'main-flow');
  assert.equal(main.type, 'EXPRESS');
  const states = (main.definition as { States: Record<string, { Resource: string; Parameters?: { FunctionName: string } }> }).States;
  const arn = (n: string): string => `arn:aws:lambda:eu-west-1:000000000000:function:${n}`;
  assert.equal(states['A']?.Resource, arn('hello'));
  assert.equal(states['B']?.Resource, arn('hello'));
  assert.equal(states['C']?.Resource, arn('get-user'));
  assert.equal(states['D']?.Resource, arn('hello'));
  assert.equal(states['E']?.Parameters?.FunctionName, 'get-user');
  assert.equal(second.name, 'second');
  assert.equal(second.type, 'STANDARD');
});

test('useDotenv loads .env.<stage> for ${env:} look-ups; the real environment wins', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': 'service: d\nuseDotenv: true\nprovider: { name: aws, environment: { A: "${env:A}", B: "${env:B}" } }\nfunctions:\n  f: { handler: h.handler }\n',
    '.env.dev': 'A=from-file\nB=from-file\n',
    'h.js': HANDLER,
  });
  const spec = await loadServerless(root, { dev: true, env: { B: 'from-env' } });
  assert.deepEqual(spec.functions[0]?.vars, { A: 'from-file', B: 'from-env' });
  assert.deepEqual(spec.configFiles, ['serverless.yml', '.env.dev']);
});

test('bad configs: every problem is reported with its key', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `
service: broken
provider: { name: aws, runtime: python3.12, memorySize: 64 }
functions:
  missing: { handler: src/nope.handler }
  noexport: { handler: h }
  badmethod: { handler: h.handler, events: [{ http: { path: /x, method: fetch } }] }
  mixed:
    handler: h.handler
    events:
      - http: GET /a
      - cloudFront: { eventType: viewer-request }
  edge: { handler: h.handler, events: [{ cloudFront: { eventType: viewer-middle } }] }
  sched: { handler: h.handler, events: [{ schedule: every 5 minutes }] }
  sqs: { handler: h.handler, events: [{ sqs: { batchSize: 5 } }] }
  "bad name!": { handler: h.handler }
`,
    'h.js': HANDLER,
  });
  await expectProblems(() => loadServerless(root, { dev: true, env: {} }), [
    { file: 'serverless.yml', key: 'provider.runtime' },
    { file: 'serverless.yml', key: 'provider.memorySize' },
    { file: 'serverless.yml', key: 'functions.missing.handler', message: /no source file/ },
    { file: 'serverless.yml', key: 'functions.noexport.handler', message: /not a handler/ },
    { file: 'serverless.yml', key: 'functions.badmethod.events[0].http.method' },
    { file: 'serverless.yml', key: 'functions.mixed.events' },
    { file: 'serverless.yml', key: 'functions.edge.events[0].cloudFront.eventType' },
    { file: 'serverless.yml', key: 'functions.sched.events[0].schedule' },
    { file: 'serverless.yml', key: 'functions.sqs.events[0].sqs.arn' },
    { file: 'serverless.yml', key: 'functions.bad name!' },
  ]);
});

test('YAML syntax errors and script configs are problems in their file', async (t) => {
  const yamlRoot = await tempProject(t, { 'serverless.yml': 'service: x\nprovider: [unclosed\n' });
  await expectProblems(() => loadServerless(yamlRoot, { dev: true, env: {} }), [{ file: 'serverless.yml', key: '' }]);
  const tsRoot = await tempProject(t, { 'serverless.ts': 'export default {}' });
  assert.equal(await detectServerless(tsRoot), true);
  await expectProblems(() => loadServerless(tsRoot, { dev: true, env: {} }), [{ file: 'serverless.ts', key: '', message: /program/ }]);
});

test('CloudFront path patterns with inner wildcards are widened and remembered', async (t) => {
  assert.deepEqual(cloudFrontPath('images/*.jpg'), { path: '/images/*', approximated: true });
  assert.deepEqual(cloudFrontPath('*'), { path: '/*', approximated: false });
  assert.deepEqual(cloudFrontPath('/api/*'), { path: '/api/*', approximated: false });
  const root = await tempProject(t, {
    'serverless.yml': 'service: e\nprovider: { name: aws }\nfunctions:\n  f: { handler: h.handler, events: [{ cloudFront: { eventType: origin-response, pathPattern: "img/*.png", origin: { DomainName: bucket.s3.amazonaws.com, S3OriginConfig: {} } } }] }\n',
    'h.js': HANDLER,
  });
  const fn = (await loadServerless(root, { dev: true, env: {} })).functions[0];
  assert.deepEqual(fn?.routes, [{ path: '/img/*', event: { kind: 'cloudfront', eventType: 'origin-response', origin: 'https://bucket.s3.amazonaws.com' } }]);
  assert.equal(fn?.platform['cloudfrontPathPatterns'], '["img/*.png"]');
});

test('variable cycles and strToBool', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `
service: cyc
custom:
  a: \${self:custom.b}
  b: \${self:custom.a}
  flag: \${strToBool(true)}
provider: { name: aws, environment: { FLAG: "\${self:custom.flag}" } }
functions:
  f: { handler: h.handler }
`,
    'h.js': HANDLER,
  });
  await expectProblems(() => loadServerless(root, { dev: true, env: {} }), [{ file: 'serverless.yml', key: 'custom.a', message: /refers to itself|cannot be resolved/ }]);
  const ok = await tempProject(t, {
    'serverless.yml': 'service: b\ncustom: { flag: "${strToBool(false)}" }\nprovider: { name: aws, environment: { FLAG: "${self:custom.flag}" } }\nfunctions:\n  f: { handler: h.handler }\n',
    'h.js': HANDLER,
  });
  assert.deepEqual((await loadServerless(ok, { dev: true, env: {} })).functions[0]?.vars, { FLAG: 'false' });
});
