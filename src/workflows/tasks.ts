/**
 * @module
 * Task resources and task invocation. Classifies a Resource URI (plain Lambda ARN, the
 * `lambda:invoke` integration, other service integrations, `.waitForTaskToken` callbacks) so
 * the interpreter can choose history event types and shape the host call; and runs one task
 * attempt against the host with TimeoutSeconds and HeartbeatSeconds enforced.
 */

import { AbortedError, StatesErrorNames, toErrorInfo } from './failure.ts';
import type { ErrorInfo } from './failure.ts';
import type { TaskRequest, WorkflowHost } from './host.ts';
import { isJsonObject } from './json.ts';

export type ResourceKind =
  | { kind: 'lambda-function'; resource: string }
  | {
      kind: 'service';
      /** AWS's `resourceType` in Task* events, e.g. `lambda`. */
      resourceType: string;
      /** AWS's `resource` in Task* events, e.g. `invoke.waitForTaskToken`. */
      resource: string;
      waitForTaskToken: boolean;
      /** `arn:aws:states:::lambda:invoke` (not the callback form): result wrapped like the Lambda API. */
      lambdaInvoke: boolean;
    };

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$/;
const STATES_ARN = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:([^:]+):(.+)$/;

/** Classifies a Task Resource. */
export function classifyResource(resource: string): ResourceKind {
  if (LAMBDA_ARN.test(resource)) return { kind: 'lambda-function', resource };
  const match = STATES_ARN.exec(resource);
  const resourceType = match?.[1] ?? 'custom';
  const name = match?.[2] ?? resource;
  const waitForTaskToken = name.endsWith('.waitForTaskToken');
  return {
    kind: 'service',
    resourceType,
    resource: name,
    waitForTaskToken,
    lambdaInvoke: resourceType === 'lambda' && name === 'invoke',
  };
}

/** What the host's function receives for a resource. */
export function hostInput(kind: ResourceKind, parameters: unknown): unknown {
  if (kind.kind === 'service' && kind.resourceType === 'lambda' && kind.resource.startsWith('invoke')) {
    const payload = isJsonObject(parameters) ? parameters['Payload'] : undefined;
    return payload === undefined ? {} : payload;
  }
  return parameters;
}

/** The state's raw result for what the host returned. */
export function wrapResult(kind: ResourceKind, value: unknown): unknown {
  if (kind.kind === 'service' && kind.lambdaInvoke) {
    return { ExecutedVersion: '$LATEST', Payload: value === undefined ? null : value, StatusCode: 200 };
  }
  return value === undefined ? null : value;
}

export type AttemptResult = { ok: true; value: unknown } | { ok: false; info: ErrorInfo; timedOut: boolean };

const NEVER = new Promise<never>(() => {});

/**
 * Invokes the host once, racing it against TimeoutSeconds (States.Timeout) and
 * HeartbeatSeconds (States.HeartbeatTimeout). Throws {@link AbortedError} when `signal` aborts.
 */
export async function invokeWithLimits(
  host: WorkflowHost,
  request: Omit<TaskRequest, 'signal' | 'heartbeat'>,
  signal: AbortSignal,
): Promise<AttemptResult> {
  if (signal.aborted) throw new AbortedError();
  const control = new AbortController();
  let rejectAborted: (error: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    rejectAborted = reject;
  });
  const onAbort = (): void => {
    rejectAborted(new AbortedError());
    control.abort();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const started = host.now();
  let lastBeat = started;
  const racers: Array<Promise<AttemptResult>> = [];

  racers.push(
    Promise.resolve()
      .then(() => host.invokeTask({ ...request, signal: control.signal, heartbeat: () => { lastBeat = host.now(); } }))
      .then(
        (value): AttemptResult => ({ ok: true, value }),
        (error: unknown): AttemptResult => ({ ok: false, info: toErrorInfo(error), timedOut: false }),
      ),
  );
  const timeout = request.timeoutSeconds;
  if (timeout !== undefined) {
    racers.push(
      host.sleepUntil(started + timeout * 1000, control.signal).then(
        (): Promise<AttemptResult> | AttemptResult =>
          control.signal.aborted
            ? NEVER
            : { ok: false, timedOut: true, info: { error: StatesErrorNames.Timeout, cause: `The task did not finish within ${timeout} seconds` } },
        () => NEVER,
      ),
    );
  }
  const heartbeat = request.heartbeatSeconds;
  if (heartbeat !== undefined) {
    racers.push(
      (async (): Promise<AttemptResult> => {
        for (;;) {
          await host.sleepUntil(lastBeat + heartbeat * 1000, control.signal);
          if (control.signal.aborted) return NEVER;
          if (host.now() >= lastBeat + heartbeat * 1000) {
            return {
              ok: false,
              timedOut: true,
              info: { error: StatesErrorNames.HeartbeatTimeout, cause: `No heartbeat was received within ${heartbeat} seconds` },
            };
          }
        }
      })().catch(() => NEVER),
    );
  }
  aborted.catch(() => {});
  racers.push(aborted);
  try {
    const result = await Promise.race(racers);
    if (signal.aborted) throw new AbortedError();
    return result;
  } finally {
    signal.removeEventListener('abort', onAbort);
    control.abort();
  }
}
