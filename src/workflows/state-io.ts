/**
 * @module
 * JSONPath-mode input and output processing, in the spec's order:
 * InputPath → Parameters → (task) → ResultSelector → ResultPath → OutputPath.
 * Each step is a small function so the interpreter reads as that pipeline, and each maps a
 * failure to the error name AWS uses for it.
 */

import { StatesError, StatesErrorNames } from './failure.ts';
import { applyPayloadTemplate } from './payload.ts';
import type { IntrinsicEnv } from './intrinsics.ts';
import { evaluatePath, PathNotFoundError, PathSyntaxError, setReferencePath } from './paths.ts';
import type { PathScope } from './paths.ts';

/** InputPath: absent means `$`, null means `{}`; a missing path is States.Runtime. */
export function applyInputPath(input: unknown, inputPath: string | null | undefined, scope: Omit<PathScope, 'input'>): unknown {
  if (inputPath === undefined) return input;
  if (inputPath === null) return {};
  return selectOrFail(inputPath, { ...scope, input }, 'InputPath');
}

/** OutputPath: absent means `$`, null means `{}`; a missing path is States.Runtime. */
export function applyOutputPath(output: unknown, outputPath: string | null | undefined, scope: Omit<PathScope, 'input'>): unknown {
  if (outputPath === undefined) return output;
  if (outputPath === null) return {};
  return selectOrFail(outputPath, { ...scope, input: output }, 'OutputPath');
}

function selectOrFail(path: string, scope: PathScope, field: string): unknown {
  try {
    return evaluatePath(path, scope);
  } catch (error) {
    if (error instanceof PathNotFoundError || error instanceof PathSyntaxError) {
      throw new StatesError(
        StatesErrorNames.Runtime,
        `An error occurred while executing the state. Invalid path '${path}' : The ${field} could not be found in the input`,
      );
    }
    throw error;
  }
}

/** Parameters (or ItemSelector): a payload template evaluated against the effective input. */
export function applyParameters(template: unknown, env: IntrinsicEnv): unknown {
  if (template === undefined) return env.scope.input;
  return applyPayloadTemplate(template, env, StatesErrorNames.ParameterPathFailure);
}

/** ResultSelector: a payload template evaluated against the raw result. */
export function applyResultSelector(template: unknown, env: IntrinsicEnv): unknown {
  if (template === undefined) return env.scope.input;
  return applyPayloadTemplate(template, env, StatesErrorNames.ParameterPathFailure);
}

/**
 * ResultPath: absent means `$` (the result replaces the input), null discards the result and
 * keeps the raw input; otherwise the result is placed at the reference path inside a copy of
 * the raw input. Failures are States.ResultPathMatchFailure.
 */
export function applyResultPath(rawInput: unknown, result: unknown, resultPath: string | null | undefined): unknown {
  if (resultPath === undefined) return result;
  if (resultPath === null) return rawInput;
  try {
    return setReferencePath(rawInput, resultPath, result);
  } catch (error) {
    if (error instanceof PathNotFoundError || error instanceof PathSyntaxError) {
      throw new StatesError(
        StatesErrorNames.ResultPathMatchFailure,
        `Unable to apply ResultPath '${resultPath}' to the state input: ${error.message}`,
      );
    }
    throw error;
  }
}
