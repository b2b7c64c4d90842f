/**
 * @module
 * Outpost's error type. Every error a user or operator can see carries a stable `code`
 * (listed in docs/errors.md), says whose fault it is, and — when it crosses HTTP — knows its
 * status and renders itself as JSON. Never match on message text; match on `code`.
 */

export type Fault = 'user' | 'system';

export interface OutpostErrorOptions {
  /** HTTP status when this error answers a request (default 500 for system, 400 for user). */
  status?: number;
  fault?: Fault;
  /** How to fix it, shown after the message by the CLI and in JSON bodies. */
  hint?: string;
  cause?: unknown;
  /** Structured details (file, key, line …) safe to show to the caller. */
  details?: Record<string, unknown>;
}

export class OutpostError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly status: number;
  readonly fault: Fault;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: Code, message: string, options: OutpostErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutpostError';
    this.code = code;
    this.fault = options.fault ?? 'system';
    this.status = options.status ?? (this.fault === 'user' ? 400 : 500);
    this.hint = options.hint;
    this.details = options.details;
  }

  /** The JSON body an HTTP caller receives. */
  toJSON(): { error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint === undefined ? {} : { hint: this.hint }),
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** True when `value` is an OutpostError, optionally with the given code. */
export function isOutpostError(value: unknown, code?: string): value is OutpostError {
  return value instanceof OutpostError && (code === undefined || value.code === code);
}
