/** @module Tests for the SAM template loader: fixtures, Globals, events, intrinsics, state machines and bad templates. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseCfnYaml } from './cfn-yaml.ts';
import { ProblemList } from './problems.ts';
import { detectSam, loadSam } from './sam.ts';
import { expectProblems, fixturePath, tempProject } from './testing.ts';

const HANDLER = 'export const handler = async () => ({ statusCode: 200 });\n';

test('short-form CloudFormation tags parse to the long form', () => {
  const problems = new ProblemList('t.yaml');
  const v = parseCfnYaml(
    [
      'a: !Ref X',
      'b: !GetAtt Fn.Arn',
      "c: !Sub '${AWS::Region}-x'",
      "d: !Join [',', [!Ref A, b]]",
      'e: !Select [0, !GetAZs ""]',
      'f: !If [Cond, !Ref A, !Ref AWS::NoValue]',
      'g: !Sub',
      '  - "${A}"',
      '  - { A: !Ref B }',
      'h: !GetAtt [Fn, Arn]',
      'i: !Base64 { "Fn::Sub": x }',
    ].join('\n'),
    problems,
  );
  assert.equal(problems.items.length, 0);
  assert.deepEqual(v, {
    a: { Ref: 'X' },
    b: { 'Fn::GetAtt': ['Fn', 'Arn'] },
    c: { 'Fn::Sub': '${AWS::Region}-x' },
    d: { 'Fn::Join': [',', [{ Ref: 'A' }, 'b']] },
    e: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
    f: { 'Fn::If': ['Cond', { Ref: 'A' }, { Ref: 'AWS::NoValue' }] },
    g: { 'Fn::Sub': ['${A}', { A: { Ref: 'B' } }] },
    h: { 'Fn::GetAtt': ['Fn', 'Arn'] },
    i: { 'Fn::Base64': { 'Fn::Sub': 'x' } },
  });
});

test('sam-httpapi fixture: Globals, esbuild TypeScript entry, HttpApi routes', async () => {
  const root = fixturePath('sam-httpapi');
  assert.equal(await detectSam(root), true);
  const spec = await loadSam(root, { dev: true });
  assert.equal(spec.format, 'sam');
  assert.equal(spec.name, 'sam-httpapi');
  const [echo, items] = spec.functions;
  assert.ok(echo && items);
  assert.equal(echo.name, 'EchoFunction');
  assert.equal(echo.entry, path.join(root, 'echo/app.ts'));
  assert.equal(echo.handlerExport, 'handler');
  assert.deepEqual(echo.vars, { STAGE: 'local' });
  assert.equal(echo.limits.memoryMb, 256);
  assert.equal(echo.limits.wallMs, 5000);
  assert.deepEqual(echo.routes, [{ path: '/echo', method: 'POST', event: { kind: 'api-gateway', payloadVersion: '2.0', resource: '/echo', stage: '$default' } }]);
  assert.equal(items.entry, path.join(root, 'items/index.mjs'));
  assert.equal(items.handlerExport, 'lambdaHandler');
  assert.deepEqual(items.routes, [
    { path: '/items/{itemId}', method: 'GET', event: { kind: 'api-gateway', payloadVersion: '2.0', resource: '/items/{itemId}', stage: '$default' } },
  ]);
  assert.deepEqual(echo.platform, { runtime: 'nodejs22.x', region: 'us-east-1', accountId: '000000000000', functionName: 'EchoFunction' });
});

test('sam-order-workflow fixture: DefinitionUri with GetAtt substitutions', async () => {
  const root = fixturePath('sam-order-workflow');
  const spec = await loadSam(root, { dev: true });
  assert.deepEqual(
    spec.functions.map((f) => [f.name, path.relative(root, f.entry), f.limits.wallMs]),
    [
      ['ValidateFunction', 'fns/validate.mjs', 10_000],
      ['ChargeFunction', 'fns/charge.mjs', 10_000],
      ['NotifyFunction', 'fns/notify.mjs', 10_000],
    ],
  );
  assert.deepEqual(spec.configFiles, ['template.yaml', 'statemachine/order.asl.json']);
  const [sm] = spec.stateMachines;
  assert.ok(sm);
  assert.equal(sm.name, 'order-flow');
  assert.equal(sm.type, 'STANDARD');
  const states = (sm.definition as { States: Record<string, { Resource?: string }> }).States;
  assert.equal(states['Validate']?.Resource, 'arn:aws:lambda:us-east-1:000000000000:function:ValidateFunction');
  assert.equal(states['Charge']?.Resource, 'arn:aws:lambda:us-east-1:000000000000:function:ChargeFunction');
  assert.equal(states['Notify']?.Resource, 'arn:aws:lambda:us-east-1:000000000000:function:NotifyFunction');
});

test('Api/HttpApi variants, FunctionName, parameters, environment intrinsics and triggers', async (t) => {
  const root = await tempProject(t, {
    'template.yaml': `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: { Type: String, Default: beta }
Globals:
  Function:
    Runtime: nodejs20.x
    CodeUri: src/
    Handler: app.handler
    MemorySize: 512
    Environment:
      Variables: { SHARED: global, OVERRIDE: global }
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub 'api-\${Stage}'
      Timeout: 20
      Environment:
        Variables:
          OVERRIDE: mine
          TABLE: !Ref Table
          QUEUE_URL: !Ref Jobs
          BUCKET_ARN: !GetAtt Uploads.Arn
          REGION: !Ref AWS::Region
          FLOW: !Ref Flow
      Events:
        Rest: { Type: Api, Properties: { Path: '/users/{id}', Method: get } }
        RestAny: { Type: Api, Properties: { Path: '/{proxy+}', Method: any, RestApiId: !Ref MyApi } }
        Http: { Type: HttpApi, Properties: { Path: /v2/items, Method: ANY, PayloadFormatVersion: '1.0' } }
        Default: { Type: HttpApi }
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: worker.run
      Events:
        Tick: { Type: Schedule, Properties: { Schedule: rate(1 minute) } }
        Off: { Type: Schedule, Properties: { Schedule: rate(1 hour), Enabled: false } }
        Daily: { Type: ScheduleV2, Properties: { ScheduleExpression: cron(0 8 * * ? *), ScheduleExpressionTimezone: Asia/Seoul } }
        Q: { Type: SQS, Properties: { Queue: !GetAtt Jobs.Arn, BatchSize: 10, MaximumBatchingWindowInSeconds: 2 } }
        Q2: { Type: SQS, Properties: { Queue: arn:aws:sqs:us-east-1:123456789012:external } }
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: [s3:ObjectCreated:*, s3:ObjectRemoved:*]
            Filter: { S3Key: { Rules: [{ Name: prefix, Value: in/ }, { Name: suffix, Value: .png }] } }
        Plain: { Type: S3, Properties: { Bucket: !Ref Logs, Events: s3:ObjectCreated:Put } }
        Topic: { Type: SNS, Properties: { Topic: x } }
  MyApi: { Type: AWS::Serverless::Api, Properties: { StageName: v1 } }
  Table: { Type: AWS::Serverless::SimpleTable }
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub 'jobs-\${Stage}'
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5 }
  Dlq: { Type: AWS::SQS::Queue }
  Uploads: { Type: AWS::S3::Bucket, Properties: { BucketName: my-uploads } }
  Logs: { Type: AWS::S3::Bucket }
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: EXPRESS
      Definition:
        StartAt: Call
        States:
          Call: { Type: Task, Resource: !GetAtt Api.Arn, Parameters: { Fn: '\${WorkerName}', Arn: '\${WorkerArn}', Mixed: '\${Prefix}' }, End: true }
      DefinitionSubstitutions:
        WorkerName: !Ref Worker
        WorkerArn: !GetAtt Worker.Arn
        Prefix: !Sub 'x-\${Worker.Arn}'
`,
    'src/app.js': HANDLER,
    'src/worker.cjs': 'exports.run = async () => {};\n',
  });
  const spec = await loadSam(root, { dev: true });
  const [api, worker] = spec.functions;
  assert.ok(api && worker);
  assert.equal(api.name, 'api-beta');
  assert.equal(api.entry, path.join(root, 'src/app.js'));
  assert.equal(api.limits.memoryMb, 512);
  assert.equal(api.limits.wallMs, 20_000);
  assert.deepEqual(api.vars, {
    SHARED: 'global',
    OVERRIDE: 'mine',
    TABLE: 'Table',
    QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs-beta',
    BUCKET_ARN: 'arn:aws:s3:::my-uploads',
    REGION: 'us-east-1',
    FLOW: 'arn:aws:states:us-east-1:000000000000:stateMachine:Flow',
  });
  assert.deepEqual(api.routes, [
    { path: '/users/{id}', method: 'GET', event: { kind: 'api-gateway', payloadVersion: '1.0', resource: '/users/{id}', stage: 'Prod' } },
    { path: '/{proxy+}', event: { kind: 'api-gateway', payloadVersion: '1.0', resource: '/{proxy+}', stage: 'v1' } },
    { path: '/v2/items', event: { kind: 'api-gateway', payloadVersion: '1.0', resource: '/v2/items', stage: '$default' } },
    { path: '/*', event: { kind: 'api-gateway', payloadVersion: '2.0', resource: '$default', stage: '$default' } },
  ]);
  assert.equal(worker.name, 'Worker');
  assert.equal(worker.entry, path.join(root, 'src/worker.cjs'));
  assert.deepEqual(worker.triggers, [
    { type: 'cron', expression: 'rate(1 minute)' },
    { type: 'cron', expression: 'cron(0 8 * * ? *)', timezone: 'Asia/Seoul' },
    { type: 'queue', queue: 'jobs-beta', maxRetries: 4, deadLetterQueue: 'Dlq', maxBatchSize: 10, maxBatchTimeoutSeconds: 2 },
    { type: 'queue', queue: 'external' },
    { type: 'object', bucket: 'my-uploads', events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'], prefix: 'in/', suffix: '.png' },
    { type: 'object', bucket: 'Logs', events: ['s3:ObjectCreated:Put'] },
  ]);
  const [flow] = spec.stateMachines;
  assert.ok(flow);
  assert.equal(flow.name, 'Flow');
  assert.equal(flow.type, 'EXPRESS');
  assert.deepEqual((flow.definition as { States: Record<string, unknown> }).States['Call'], {
    Type: 'Task',
    Resource: 'arn:aws:lambda:us-east-1:000000000000:function:api-beta',
    Parameters: { Fn: 'Worker', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:Worker', Mixed: 'x-arn:aws:lambda:us-east-1:000000000000:function:Worker' },
    End: true,
  });
});

test('YAML state machine definition files and plain StepFunctions resources', async (t) => {
  const root = await tempProject(t, {
    'template.yml': `
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn: { Type: AWS::Serverless::Function, Properties: { Runtime: nodejs22.x, Handler: index.handler } }
  A:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: sm/a.asl.yaml
      DefinitionSubstitutions: { FnArn: !GetAtt Fn.Arn }
  B:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: plain
      DefinitionString: !Sub '{"StartAt":"X","States":{"X":{"Type":"Task","Resource":"\${Fn.Arn}","End":true}}}'
`,
    'index.js': HANDLER,
    'sm/a.asl.yaml': 'StartAt: X\nStates:\n  X: { Type: Task, Resource: "${FnArn}", End: true }\n',
  });
  const spec = await loadSam(root, { dev: true });
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:Fn';
  assert.deepEqual(spec.stateMachines, [
    { name: 'A', type: 'STANDARD', definition: { StartAt: 'X', States: { X: { Type: 'Task', Resource: arn, End: true } } } },
    { name: 'plain', type: 'STANDARD', definition: { StartAt: 'X', States: { X: { Type: 'Task', Resource: arn, End: true } } } },
  ]);
  assert.deepEqual(spec.configFiles, ['template.yml', 'sm/a.asl.yaml']);
});

test('bad templates: unresolvable intrinsics, missing files, bad events are problems naming the key', async (t) => {
  const root = await tempProject(t, {
    'template.yaml': `
Transform: AWS::Serverless-2016-10-31
Parameters:
  NoDefault: { Type: String }
Resources:
  Missing: { Type: AWS::Serverless::Function, Properties: { Runtime: nodejs20.x, Handler: nope.handler, CodeUri: src } }
  Python: { Type: AWS::Serverless::Function, Properties: { Runtime: python3.12, Handler: app.handler } }
  Env:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: app.handler
      Environment:
        Variables:
          IMPORTED: !ImportValue shared-table
          PARAM: !Ref NoDefault
          UNKNOWN: !GetAtt Nothing.Arn
      Events:
        Bad: { Type: Schedule, Properties: { Schedule: every minute } }
        NoQueue: { Type: SQS, Properties: { BatchSize: 1 } }
        HalfHttp: { Type: HttpApi, Properties: { Method: GET } }
  Sm:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: missing.asl.json
  Sm2:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: { Bucket: b, Key: k }
`,
    'app.js': HANDLER,
  });
  await expectProblems(() => loadSam(root, { dev: true }), [
    { file: 'template.yaml', key: 'Resources.Missing.Properties.Handler', message: /no source file/ },
    { file: 'template.yaml', key: 'Resources.Python.Properties.Runtime' },
    { file: 'template.yaml', key: 'Resources.Env.Properties.Environment.Variables.IMPORTED', message: /ImportValue/ },
    { file: 'template.yaml', key: 'Resources.Env.Properties.Environment.Variables.PARAM', message: /no Default/ },
    { file: 'template.yaml', key: 'Resources.Env.Properties.Environment.Variables.UNKNOWN', message: /Nothing/ },
    { file: 'template.yaml', key: 'Resources.Env.Properties.Events.Bad.Properties.Schedule' },
    { file: 'template.yaml', key: 'Resources.Env.Properties.Events.NoQueue.Properties.Queue' },
    { file: 'template.yaml', key: 'Resources.Env.Properties.Events.HalfHttp.Properties.Path' },
    { file: 'missing.asl.json', key: '' },
    { file: 'template.yaml', key: 'Resources.Sm2.Properties.DefinitionUri' },
  ]);
});

test('detectSam ignores plain CloudFormation templates', async (t) => {
  const root = await tempProject(t, { 'template.yaml': 'Resources:\n  B: { Type: AWS::S3::Bucket }\n' });
  assert.equal(await detectSam(root), false);
});

test('a bad Globals environment value is reported once, at Globals', async (t) => {
  const root = await tempProject(t, {
    'template.yaml': `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs20.x
    Handler: app.handler
    Environment: { Variables: { SHARED: !ImportValue other-stack-url } }
Resources:
  A: { Type: AWS::Serverless::Function }
  B: { Type: AWS::Serverless::Function }
`,
    'app.js': HANDLER,
  });
  const problems = await expectProblems(() => loadSam(root, { dev: true }), [{ file: 'template.yaml', key: 'Globals.Function.Environment.Variables.SHARED' }]);
  assert.equal(problems.filter((p) => p.severity === 'error').length, 1);
});
