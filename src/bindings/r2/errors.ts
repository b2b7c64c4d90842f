/**
 * @module
 * R2 binding errors. Like workerd, messages start with the method that failed (`put: …`);
 * store errors keep their OBJECT_* codes, the binding's own are R2_*.
 */
import { isOutpostError, OutpostError } from '../../errors.ts';

export const R2_LIMITS = Object.freeze({
  /** Bytes per rpc crossing between the isolate and the host, either way. */
  chunkBytes: 1024 * 1024,
  /** A streamed put or part with no new chunk for this long is abandoned (its temp file removed). */
  idleSessionMs: 60_000,
  maxListLimit: 1000,
});

export function r2Error(method: string, code: string, message: string): OutpostError {
  return new OutpostError(code, `${method}: ${message}`, { fault: 'user', status: 400 });
}

/** Prefixes a store error's message with the method, keeping its code. */
export function asR2Error(method: string, error: unknown): unknown {
  if (isOutpostError(error) && !error.message.startsWith(`${method}: `)) {
    return new OutpostError(error.code, `${method}: ${error.message}`, { fault: error.fault, status: error.status });
  }
  return error;
}
