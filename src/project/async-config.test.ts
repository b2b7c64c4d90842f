/** @module Tests for reading async-invocation settings (retries, event age, destinations) from serverless.yml and SAM. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSam } from './sam.ts';
import { loadServerless } from './serverless.ts';
import { expectProblems, tempProject } from './testing.ts';

const HANDLER = 'export const handler = async () => ({});\n';

test('serverless.yml: maximumRetryAttempts, maximumEventAge and destinations become platform keys', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `service: svc
provider:
  name: aws
  runtime: nodejs20.x
resources:
  Resources:
    Failed:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: failed-events
functions:
  a:
    handler: h.handler
    maximumRetryAttempts: 1
    maximumEventAge: 120
    destinations:
      onSuccess: b
      onFailure:
        type: sqs
        arn: !GetAtt Failed.Arn
  b:
    handler: h.handler
    destinations:
      onFailure: arn:aws:lambda:us-east-1:000000000000:function:svc-dev-a
`,
    'h.mjs': HANDLER,
  });
  const spec = await loadServerless(root, { dev: true, env: {} });
  const [a, b] = spec.functions;
  assert.ok(a && b);
  assert.equal(a.platform['asyncRetries'], '1');
  assert.equal(a.platform['asyncMaxAgeSeconds'], '120');
  assert.equal(a.platform['onSuccess'], 'function:b');
  assert.equal(a.platform['onFailure'], 'queue:failed-events');
  assert.equal(b.platform['onFailure'], 'function:svc-dev-a');
  assert.equal(b.platform['asyncRetries'], undefined);
});

test('serverless.yml: out-of-range settings and SNS destinations are problems', async (t) => {
  const root = await tempProject(t, {
    'serverless.yml': `service: svc
provider: { name: aws, runtime: nodejs20.x }
functions:
  a:
    handler: h.handler
    maximumRetryAttempts: 3
    maximumEventAge: 30
    destinations:
      onFailure: arn:aws:sns:us-east-1:000000000000:topic
`,
    'h.mjs': HANDLER,
  });
  await expectProblems(() => loadServerless(root, { dev: true, env: {} }), [
    { file: 'serverless.yml', key: 'functions.a.maximumRetryAttempts' },
    { file: 'serverless.yml', key: 'functions.a.maximumEventAge' },
    { file: 'serverless.yml', key: 'functions.a.destinations.onFailure', message: /sns destinations are not supported/ },
  ]);
});

test('SAM: EventInvokeConfig (own and from Globals) becomes platform keys', async (t) => {
  const root = await tempProject(t, {
    'template.yaml': `Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    EventInvokeConfig:
      MaximumRetryAttempts: 0
Resources:
  Failed:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: h.handler
      Runtime: nodejs20.x
      EventInvokeConfig:
        MaximumEventAgeInSeconds: 3600
        MaximumRetryAttempts: 2
        DestinationConfig:
          OnSuccess:
            Type: Lambda
            Destination: !GetAtt Audit.Arn
          OnFailure:
            Type: SQS
            Destination: !GetAtt Failed.Arn
  Audit:
    Type: AWS::Serverless::Function
    Properties:
      Handler: h.handler
      Runtime: nodejs20.x
`,
    'h.mjs': HANDLER,
  });
  const spec = await loadSam(root, { dev: true, env: {} });
  const worker = spec.functions.find((f) => f.name === 'Worker');
  const audit = spec.functions.find((f) => f.name === 'Audit');
  assert.ok(worker && audit);
  assert.equal(worker.platform['asyncRetries'], '2');
  assert.equal(worker.platform['asyncMaxAgeSeconds'], '3600');
  assert.equal(worker.platform['onSuccess'], 'function:Audit');
  assert.match(worker.platform['onFailure'] ?? '', /^queue:/);
  assert.equal(audit.platform['asyncRetries'], '0', 'Globals.Function.EventInvokeConfig applies');
});

test('SAM: unsupported destination types and missing ARNs are problems', async (t) => {
  const root = await tempProject(t, {
    'template.yaml': `Transform: AWS::Serverless-2016-10-31
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: h.handler
      Runtime: nodejs20.x
      EventInvokeConfig:
        MaximumRetryAttempts: 5
        DestinationConfig:
          OnSuccess:
            Type: SNS
            Destination: arn:aws:sns:us-east-1:000000000000:t
          OnFailure:
            Type: SQS
`,
    'h.mjs': HANDLER,
  });
  await expectProblems(() => loadSam(root, { dev: true, env: {} }), [
    { file: 'template.yaml', key: 'Resources.Worker.Properties.EventInvokeConfig.MaximumRetryAttempts' },
    { file: 'template.yaml', key: 'Resources.Worker.Properties.EventInvokeConfig.DestinationConfig.OnSuccess.Type', message: /SNS destinations are not supported/ },
    { file: 'template.yaml', key: 'Resources.Worker.Properties.EventInvokeConfig.DestinationConfig.OnFailure.Destination' },
  ]);
});
