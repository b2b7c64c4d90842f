/**
 * @module
 * Tests for the Lambda context object and environment, written against the Lambda developer
 * guide's "AWS Lambda context object in Node.js" and "Defined runtime environment variables".
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FAKE_CREDENTIALS,
  createLambdaContext,
  defaultLogStreamName,
  functionArn,
  lambdaEnvironment,
} from './lambda-context.ts';
import type { LambdaContextOptions } from './lambda-context.ts';

const START = Date.UTC(2024, 0, 31, 23, 59, 0);

function options(overrides: Partial<LambdaContextOptions> = {}): LambdaContextOptions {
  return {
    functionName: 'my-function',
    memoryLimitInMB: 128,
    region: 'us-east-1',
    accountId: '123456789012',
    requestId: '8f507cfc-xmpl-4697-b07a-ac58fc914c95',
    deadlineMs: START + 3000,
    now: () => START,
    ...overrides,
  };
}

describe('createLambdaContext', () => {
  it('has the documented properties with AWS-shaped values', () => {
    const context = createLambdaContext(options());
    assert.equal(context.awsRequestId, '8f507cfc-xmpl-4697-b07a-ac58fc914c95');
    assert.equal(context.functionName, 'my-function');
    assert.equal(context.functionVersion, '$LATEST');
    assert.equal(context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:my-function');
    assert.equal(context.logGroupName, '/aws/lambda/my-function');
    assert.match(context.logStreamName, /^2024\/01\/31\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.equal(context.callbackWaitsForEmptyEventLoop, true);
    assert.equal(context.identity, undefined);
    assert.equal(context.clientContext, undefined);
  });

  it('gives memoryLimitInMB as a string, as the Node.js runtime does', () => {
    const context = createLambdaContext(options({ memoryLimitInMB: 1024 }));
    assert.equal(context.memoryLimitInMB, '1024');
    assert.equal(typeof context.memoryLimitInMB, 'string');
  });

  it('counts down getRemainingTimeInMillis with the injected clock and stops at zero', () => {
    let now = START;
    const context = createLambdaContext(options({ now: () => now }));
    assert.equal(context.getRemainingTimeInMillis(), 3000);
    now += 1250;
    assert.equal(context.getRemainingTimeInMillis(), 1750);
    now += 5000;
    assert.equal(context.getRemainingTimeInMillis(), 0);
  });

  it('lets the handler set callbackWaitsForEmptyEventLoop', () => {
    const context = createLambdaContext(options());
    context.callbackWaitsForEmptyEventLoop = false;
    assert.equal(context.callbackWaitsForEmptyEventLoop, false);
  });

  it('uses the given version, qualifier, log names, identity and client context', () => {
    const context = createLambdaContext(
      options({
        functionVersion: '7',
        qualifier: 'prod',
        logGroupName: '/custom/group',
        logStreamName: '2024/01/31/[7]abc',
        identity: { cognitoIdentityId: 'id', cognitoIdentityPoolId: 'pool' },
        clientContext: { client: { app_title: 'x' } },
      }),
    );
    assert.equal(context.functionVersion, '7');
    assert.equal(context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:my-function:prod');
    assert.equal(context.logGroupName, '/custom/group');
    assert.equal(context.logStreamName, '2024/01/31/[7]abc');
    assert.deepEqual(context.identity, { cognitoIdentityId: 'id', cognitoIdentityPoolId: 'pool' });
    assert.deepEqual(context.clientContext, { client: { app_title: 'x' } });
  });

  it('reports the first of done/succeed/fail and ignores later calls', () => {
    const calls: Array<[unknown, unknown]> = [];
    const context = createLambdaContext(options({ onDone: (error, result) => calls.push([error, result]) }));
    context.succeed({ ok: true });
    context.fail(new Error('late'));
    context.done(null, 'later');
    assert.deepEqual(calls, [[null, { ok: true }]]);
  });

  it('done(error) and fail(error) report the error; fail() with nothing still fails', () => {
    const errors: unknown[] = [];
    const boom = new Error('boom');
    createLambdaContext(options({ onDone: (e) => errors.push(e) })).done(boom);
    createLambdaContext(options({ onDone: (e) => errors.push(e) })).fail(boom);
    createLambdaContext(options({ onDone: (e) => errors.push(e) })).fail();
    assert.equal(errors[0], boom);
    assert.equal(errors[1], boom);
    assert.ok(errors[2] instanceof Error);
  });

  it('done(undefined, result) is a success', () => {
    const calls: Array<[unknown, unknown]> = [];
    createLambdaContext(options({ onDone: (e, r) => calls.push([e, r]) })).done(undefined, 42);
    assert.deepEqual(calls, [[null, 42]]);
  });

  it('does not throw when nobody listens to done', () => {
    assert.doesNotThrow(() => createLambdaContext(options()).succeed('x'));
  });
});

describe('defaultLogStreamName and functionArn', () => {
  it('formats YYYY/MM/DD/[version] + 32 hex digits, stable per instance', () => {
    const a = defaultLogStreamName('$LATEST', 'instance-1', START);
    assert.match(a, /^2024\/01\/31\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.equal(defaultLogStreamName('$LATEST', 'instance-1', START), a);
    assert.notEqual(defaultLogStreamName('$LATEST', 'instance-2', START), a);
    assert.match(defaultLogStreamName('3', 'i', Date.UTC(2025, 11, 1)), /^2025\/12\/01\/\[3\]/);
  });

  it('builds Lambda function ARNs', () => {
    assert.equal(functionArn('eu-west-1', '000000000000', 'fn'), 'arn:aws:lambda:eu-west-1:000000000000:function:fn');
    assert.equal(functionArn('eu-west-1', '000000000000', 'fn', '$LATEST'), 'arn:aws:lambda:eu-west-1:000000000000:function:fn:$LATEST');
  });
});

describe('lambdaEnvironment', () => {
  it('sets the reserved runtime variables with AWS-shaped values', () => {
    const env = lambdaEnvironment({
      functionName: 'my-function',
      memoryLimitInMB: 512,
      region: 'eu-central-1',
      instanceId: 'instance-1',
      now: () => START,
      handler: 'index.handler',
      endpointUrl: 'http://127.0.0.1:8787/_aws',
    });
    assert.deepEqual(env, {
      AWS_REGION: 'eu-central-1',
      AWS_DEFAULT_REGION: 'eu-central-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: 'my-function',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/my-function',
      AWS_LAMBDA_LOG_STREAM_NAME: defaultLogStreamName('$LATEST', 'instance-1', START),
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: FAKE_CREDENTIALS.sessionToken,
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      _HANDLER: 'index.handler',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:8787/_aws',
    });
  });

  it('agrees with the context on the log stream for the same instance', () => {
    const env = lambdaEnvironment({ functionName: 'f', memoryLimitInMB: 128, region: 'us-east-1', instanceId: 'i-1', now: () => START });
    const context = createLambdaContext(options({ functionName: 'f', instanceId: 'i-1' }));
    assert.equal(env['AWS_LAMBDA_LOG_STREAM_NAME'], context.logStreamName);
    assert.equal(env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'], context.memoryLimitInMB);
  });

  it('uses given runtime, version, credentials and log names; never sets NODE_OPTIONS', () => {
    const env = lambdaEnvironment({
      functionName: 'f',
      functionVersion: '3',
      memoryLimitInMB: 256,
      region: 'us-west-2',
      runtime: 'nodejs20.x',
      logGroupName: '/g',
      logStreamName: 's',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' },
    });
    assert.equal(env['AWS_EXECUTION_ENV'], 'AWS_Lambda_nodejs20.x');
    assert.equal(env['AWS_LAMBDA_FUNCTION_VERSION'], '3');
    assert.equal(env['AWS_LAMBDA_LOG_GROUP_NAME'], '/g');
    assert.equal(env['AWS_LAMBDA_LOG_STREAM_NAME'], 's');
    assert.equal(env['AWS_ACCESS_KEY_ID'], 'AKID');
    assert.equal('AWS_SESSION_TOKEN' in env, false);
    assert.equal('NODE_OPTIONS' in env, false);
    assert.equal('AWS_ENDPOINT_URL' in env, false);
    assert.equal('_HANDLER' in env, false);
  });
});
