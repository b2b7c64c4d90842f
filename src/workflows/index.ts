/**
 * @module
 * Public surface of the Amazon States Language engine: definition parsing and validation,
 * the interpreter with its host/journal interfaces, history types, and the building blocks
 * (paths, intrinsics, choice rules, JSONata) for callers that need them directly.
 */

export { runExecution } from './interpreter.ts';
export type { ExecutionContextInfo, ExecutionResult, ExecutionStatus, RunExecutionOptions } from './interpreter.ts';

export { parseDefinition, ProblemCodes, validateDefinition } from './validate.ts';
export type { Problem, ProblemCode } from './validate.ts';

export type {
  Catcher,
  ChoiceRule,
  QueryLanguage,
  Retrier,
  StateDefinition,
  StateMachineDefinition,
  StateType,
} from './definition.ts';

export { discardJournal, MemoryJournal } from './host.ts';
export type { ExecutionJournal, TaskRequest, WorkflowHost } from './host.ts';

export { StatesError, StatesErrorNames, TaskFailure } from './failure.ts';
export type { ErrorInfo } from './failure.ts';

export { detailsKey, eventDetails, ReplayIndex, replayExtension, TERMINAL_EVENT_TYPES, toPublicEvent } from './history.ts';
export type { EventDetails, HistoryEvent, HistoryEventType, ReplayExtension } from './history.ts';

export { evaluatePath, isReferencePath, isValidPath, parsePath, PathNotFoundError, PathSyntaxError, setReferencePath } from './paths.ts';
export type { ParsedPath, PathScope } from './paths.ts';

export { evaluateIntrinsic, INTRINSIC_FUNCTIONS, IntrinsicSyntaxError, parseIntrinsic } from './intrinsics.ts';
export type { IntrinsicCall, IntrinsicEnv } from './intrinsics.ts';

export { evaluateChoiceRule, isTimestamp, stringMatches } from './choice.ts';
export { evaluateJsonataTemplate, isJsonataExpression } from './jsonata-mode.ts';
export type { JsonataEnv, StatesBinding } from './jsonata-mode.ts';

export { errorMatches, retryDelayMs } from './retry.ts';
export { classifyResource } from './tasks.ts';
export type { ResourceKind } from './tasks.ts';

export { handlerName, RecordingJournal, runWithTestHost, TestHost, VirtualClock } from './testing.ts';
export type { TaskHandler, TestHostOptions, TestRunOptions } from './testing.ts';

// Outpost's durable service around the engine: records, the state machine registry, the node capability.
export { WorkflowService, workflowsService, realClock, functionNameOf } from './service.ts';
export type { ExecutionView, InvokeFunction, WorkflowClock, WorkflowServiceOptions } from './service.ts';
export { StateMachines, definitionProblems, invalidDefinition } from './registry.ts';
export type { StateMachineInput, StateMachineView } from './registry.ts';
export { executionArn, expressExecutionArn, parseExecutionArn, sfnKeys, stateMachineArn, stateMachineNameOf, WorkflowError } from './records.ts';
export type { ExecutionRecord, ExecutionStatusName, StateMachineRecord, StateMachineType, StateMachineVersion, TaskTokenRecord } from './records.ts';
export { workflowsOf } from './attach.ts';
