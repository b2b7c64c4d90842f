/**
 * @module
 * Asynchronous-invocation settings as serverless.yml and SAM spell them, read into a function's
 * `platform` keys (strings) that events/async.ts reads:
 *
 * - `asyncRetries`: `0`–`2` (MaximumRetryAttempts; default 2)
 * - `asyncMaxAgeSeconds`: `60`–`21600` (MaximumEventAgeInSeconds; default 21600)
 * - `onSuccess`, `onFailure`: `queue:<name>` or `function:<name>`
 */
import type { ProblemList } from './problems.ts';

const SQS_ARN = /^arn:aws[a-zA-Z-]*:sqs:[^:]*:[^:]*:([a-zA-Z0-9_.-]+)$/;
const LAMBDA_ARN = /^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:([a-zA-Z0-9_-]+)(?::[^:]+)?$/;

/**
 * A destination ARN (or, where `bareIsFunction`, a bare function name) → `queue:<name>` or
 * `function:<name>`; SNS, EventBridge and S3 destinations are reported as unsupported.
 */
export function destinationOf(value: string, key: string, problems: ProblemList, bareIsFunction: boolean): string | undefined {
  const sqs = SQS_ARN.exec(value);
  if (sqs?.[1]) return `queue:${sqs[1]}`;
  const lambda = LAMBDA_ARN.exec(value);
  if (lambda?.[1]) return `function:${lambda[1]}`;
  if (!value.startsWith('arn:') && bareIsFunction && /^[a-zA-Z0-9_-]{1,140}$/.test(value)) return `function:${value}`;
  const service = value.startsWith('arn:') ? value.split(':')[2] : undefined;
  problems.error(
    key,
    service ? `${service} destinations are not supported` : `"${value}" is not a destination`,
    'use an SQS queue or a Lambda function ARN (e.g. !GetAtt FailedQueue.Arn)',
  );
  return undefined;
}
