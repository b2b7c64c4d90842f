/**
 * @module
 * Payload templates for JSONPath states (Parameters, ResultSelector, ItemSelector, and the
 * JSONPath form of Assign). A field whose name ends in `.$` has its string value evaluated as a
 * path (`$.x`, `$$.Execution.Id`, `$var.x`) or an intrinsic function, and is renamed without
 * the suffix; every other value is copied. Nested objects and objects inside arrays are
 * processed too.
 */

import { StatesError, StatesErrorNames } from './failure.ts';
import { evaluateIntrinsic, looksLikeIntrinsic } from './intrinsics.ts';
import type { IntrinsicEnv } from './intrinsics.ts';
import { isJsonObject } from './json.ts';
import { evaluatePath, PathNotFoundError, PathSyntaxError } from './paths.ts';

/**
 * Evaluates one `.$` value. Path failures become `pathError` (States.ParameterPathFailure for
 * Parameters); intrinsic failures are States.IntrinsicFailure.
 */
export function evaluateDynamicValue(
  field: string,
  expression: string,
  env: IntrinsicEnv,
  pathError: string = StatesErrorNames.ParameterPathFailure,
): unknown {
  if (looksLikeIntrinsic(expression)) return evaluateIntrinsic(expression, env);
  try {
    return evaluatePath(expression, env.scope);
  } catch (error) {
    if (error instanceof PathNotFoundError || error instanceof PathSyntaxError) {
      throw new StatesError(
        pathError,
        `The JSONPath '${expression}' specified for the field '${field}' could not be found in the input`,
      );
    }
    throw error;
  }
}

/** Applies a payload template. */
export function applyPayloadTemplate(template: unknown, env: IntrinsicEnv, pathError?: string): unknown {
  if (Array.isArray(template)) return template.map((item) => applyPayloadTemplate(item, env, pathError));
  if (!isJsonObject(template)) return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') {
        throw new StatesError(StatesErrorNames.Runtime, `The value of field '${key}' must be a path or intrinsic function`);
      }
      out[key.slice(0, -2)] = evaluateDynamicValue(key, value, env, pathError);
    } else {
      out[key] = applyPayloadTemplate(value, env, pathError);
    }
  }
  return out;
}
