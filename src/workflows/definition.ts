/**
 * @module
 * TypeScript shapes of an Amazon States Language definition. These describe a definition that
 * has passed {@link validateDefinition}; they are deliberately permissive (optional fields,
 * `unknown` for templates) because the same types cover JSONPath and JSONata states.
 */

export type QueryLanguage = 'JSONPath' | 'JSONata';

export type StateType = 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
  Comment?: string;
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
  Output?: unknown;
  Assign?: Record<string, unknown>;
  Comment?: string;
}

/** A Choice rule: either a top-level rule (with Next) or a nested one inside And/Or/Not. */
export interface ChoiceRule {
  Next?: string;
  Variable?: string;
  And?: ChoiceRule[];
  Or?: ChoiceRule[];
  Not?: ChoiceRule;
  Condition?: unknown;
  Output?: unknown;
  Assign?: Record<string, unknown>;
  Comment?: string;
  [operator: string]: unknown;
}

/** Every field any state type may carry; validation decides which are allowed where. */
export interface StateDefinition {
  Type: StateType;
  Comment?: string;
  QueryLanguage?: QueryLanguage;
  Next?: string;
  End?: boolean;
  // JSONPath input/output processing
  InputPath?: string | null;
  OutputPath?: string | null;
  Parameters?: unknown;
  ResultSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  // JSONata input/output processing
  Arguments?: unknown;
  Output?: unknown;
  // Variables (both languages)
  Assign?: Record<string, unknown>;
  // Pass
  Result?: unknown;
  // Task
  Resource?: string;
  TimeoutSeconds?: number | string;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number | string;
  HeartbeatSecondsPath?: string;
  Credentials?: unknown;
  Retry?: Retrier[];
  Catch?: Catcher[];
  // Choice
  Choices?: ChoiceRule[];
  Default?: string;
  // Wait
  Seconds?: number | string;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
  // Fail
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
  // Parallel
  Branches?: StateMachineDefinition[];
  // Map
  ItemsPath?: string;
  Items?: unknown;
  ItemSelector?: unknown;
  ItemProcessor?: StateMachineDefinition & { ProcessorConfig?: Record<string, unknown> };
  Iterator?: StateMachineDefinition;
  ItemReader?: unknown;
  ItemBatcher?: unknown;
  ResultWriter?: unknown;
  MaxConcurrency?: number | string;
  MaxConcurrencyPath?: string;
  ToleratedFailureCount?: number | string;
  ToleratedFailureCountPath?: string;
  ToleratedFailurePercentage?: number | string;
  ToleratedFailurePercentagePath?: string;
  Label?: string;
}

export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, StateDefinition>;
  Comment?: string;
  Version?: string;
  TimeoutSeconds?: number;
  QueryLanguage?: QueryLanguage;
}
