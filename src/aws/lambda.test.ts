// The pure parts of the Invoke API: FunctionName forms AWS accepts, the log tail, and the
// error body of a failed invocation. The wire behaviour is tested with the SDK in test/lambda.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvocationError } from '../runtime/instance.ts';
import { functionErrorBody, LambdaApiError, LOG_TAIL_BYTES, logTail, parseFunctionName, traceOf } from './lambda.ts';

test('FunctionName: name, name:qualifier, partial and full ARNs', () => {
  assert.deepEqual(parseFunctionName('orders', undefined), { name: 'orders', qualifier: undefined });
  assert.deepEqual(parseFunctionName('orders:$LATEST', undefined), { name: 'orders', qualifier: '$LATEST' });
  assert.deepEqual(parseFunctionName('orders', '3'), { name: 'orders', qualifier: '3' });
  assert.deepEqual(parseFunctionName('000000000000:function:orders', undefined), { name: 'orders', qualifier: undefined });
  assert.deepEqual(parseFunctionName('000000000000:function:orders:live', undefined), { name: 'orders', qualifier: 'live' });
  assert.deepEqual(parseFunctionName('arn:aws:lambda:us-east-1:000000000000:function:orders', undefined), { name: 'orders', qualifier: undefined });
  assert.deepEqual(parseFunctionName('arn:aws:lambda:us-east-1:000000000000:function:orders:2', '2'), { name: 'orders', qualifier: '2' });
});

test('FunctionName: malformed names and disagreeing qualifiers are 400s', () => {
  for (const bad of ['', 'a b', 'arn:aws:s3:::bucket', 'arn:aws:lambda:us-east-1:000000000000:function:', 'orders:', 'a:b:c:d:e']) {
    assert.throws(() => parseFunctionName(bad, undefined), (e: LambdaApiError) => e.status === 400 && e.type === 'ValidationException', bad);
  }
  assert.throws(() => parseFunctionName('orders:1', '2'), (e: LambdaApiError) => e.type === 'InvalidParameterValueException');
});

test('the log tail is the last 4 KB, base64', () => {
  assert.equal(Buffer.from(logTail(['START', 'END']), 'base64').toString(), 'START\nEND\n');
  const long = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
  const tail = Buffer.from(logTail(long), 'base64');
  assert.equal(tail.length, LOG_TAIL_BYTES);
  assert.ok(tail.toString().endsWith(`line 199 ${'x'.repeat(40)}\n`));
});

test('a function error reports the function\'s own error type and a trace without Outpost frames', () => {
  const stack = [
    'InvalidOrder: order has no items',
    '    at handler (/state/blobs/bundles/6e97f798dafaa89b53e09d8a2eefe2048da814167ab65a42aa6c697c4abb0fcf/fns/validate.mjs:9:79)',
    `    at LambdaRuntime.invoke (${new URL('../runtime/adapters/lambda-adapter.ts', import.meta.url).href}:156:35)`,
    '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
  ].join('\n');
  const error = new InvocationError('FUNCTION_THREW', 'order has no items', { userError: { name: 'InvalidOrder', message: 'order has no items', stack } });
  assert.deepEqual(functionErrorBody(error, { requestId: 'r', timeoutSeconds: 3 }), {
    errorType: 'InvalidOrder',
    errorMessage: 'order has no items',
    trace: ['InvalidOrder: order has no items', '    at handler (/var/task/fns/validate.mjs:9:79)'],
  });
  assert.deepEqual(traceOf(undefined, undefined), []);
});

test('limits map to the error types AWS reports', () => {
  const timeout = functionErrorBody(new InvocationError('TIMEOUT', 'late'), { requestId: 'req-9', timeoutSeconds: 3 });
  assert.equal(timeout.errorType, 'Sandbox.Timedout');
  assert.match(timeout.errorMessage, /^\S+Z req-9 Task timed out after 3\.00 seconds$/);
  assert.equal(functionErrorBody(new InvocationError('EXCEEDED_MEMORY', 'oom'), { requestId: 'r', timeoutSeconds: 3 }).errorType, 'Runtime.OutOfMemory');
  const missing = new InvocationError('INVALID_HANDLER', 'no handler', { userError: { name: 'HandlerShapeError', message: 'Runtime.HandlerNotFound: …' } });
  assert.equal(functionErrorBody(missing, { requestId: 'r', timeoutSeconds: 3 }).errorType, 'Runtime.HandlerNotFound');
});
