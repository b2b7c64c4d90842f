/**
 * @module
 * The host side of a service binding (`services = [{ binding, service }]`): `env.OTHER.fetch()`
 * runs an HTTP invocation of the named function's active version through this node's dispatch —
 * no network hop, with the callee's own limits and bindings. The request crosses as plain values
 * (method, url, flat headers, body bytes; up to {@link SERVICE_LIMITS.bodyBytes}); the response
 * head comes back as soon as the callee sends it and its body streams, one chunk per `read`
 * call, with the callee's writes held back until the caller reads. A body the caller cancels
 * aborts the callee's invocation; one it never reads ends with the callee's wall-time limit.
 */
import { OutpostError } from '../../errors.ts';
import type { HostBinding } from '../rpc.ts';

export const SERVICE_LIMITS = Object.freeze({ bodyBytes: 32 * 1024 * 1024 });

/** A request from one function to another, as it crosses to the host. */
export interface ServiceRequest {
  method: string;
  url: string;
  /** Flat [name, value, …], lower-case names. */
  headers: string[];
  body?: Uint8Array;
}

/** The callee's response: its head and first body bytes, and the rest to read when `rest` is set. */
export interface ServiceResponse {
  status: number;
  headers: string[];
  body: Uint8Array | null;
  rest?: { read(): Promise<Uint8Array | null>; cancel(): void };
}

export type InvokeHttp = (functionName: string, request: ServiceRequest) => Promise<ServiceResponse>;

function readRequest(value: unknown): ServiceRequest {
  const r = value as Partial<ServiceRequest> | null;
  if (!r || typeof r.method !== 'string' || typeof r.url !== 'string' || !Array.isArray(r.headers) || !r.headers.every((h) => typeof h === 'string')) {
    throw new OutpostError('INVALID_SERVICE_REQUEST', 'a service binding call needs { method, url, headers, body? }', { fault: 'user' });
  }
  if (r.body !== undefined && !(r.body instanceof Uint8Array)) throw new OutpostError('INVALID_SERVICE_REQUEST', 'the request body must be bytes', { fault: 'user' });
  if (r.body && r.body.byteLength > SERVICE_LIMITS.bodyBytes) {
    throw new OutpostError('BODY_TOO_LARGE', `a service binding request body is limited to ${SERVICE_LIMITS.bodyBytes} bytes`, { status: 413, fault: 'user' });
  }
  return { method: r.method.toUpperCase(), url: r.url, headers: r.headers, ...(r.body && r.body.byteLength > 0 ? { body: r.body } : {}) };
}

/** Serves one declared service binding: calls only `service`, whatever the function sends. */
export function serviceHost(service: string, invoke: InvokeHttp | undefined): HostBinding {
  /** Response bodies still being read, by an id only this binding hands out. */
  const bodies = new Map<string, NonNullable<ServiceResponse['rest']>>();
  const bodyOf = (id: unknown): NonNullable<ServiceResponse['rest']> | undefined => (typeof id === 'string' ? bodies.get(id) : undefined);
  return async (method, args) => {
    switch (method) {
      case 'fetch': {
        if (!invoke) throw new OutpostError('SERVICE_NOT_FOUND', 'service bindings are not available here', { status: 502 });
        const response = await invoke(service, readRequest(args[0]));
        let stream: string | undefined;
        if (response.rest) {
          stream = crypto.randomUUID();
          bodies.set(stream, response.rest);
        }
        return { status: response.status, headers: response.headers, body: response.body, ...(stream ? { stream } : {}) };
      }
      case 'read': {
        const body = bodyOf(args[0]);
        if (!body) return null;
        try {
          const chunk = await body.read();
          if (chunk === null) bodies.delete(String(args[0]));
          return chunk;
        } catch (error) {
          bodies.delete(String(args[0]));
          throw error;
        }
      }
      case 'cancel': {
        bodyOf(args[0])?.cancel();
        bodies.delete(String(args[0]));
        return null;
      }
      default:
        throw new OutpostError('INVALID_SERVICE_REQUEST', `service bindings have no method ${method}`, { fault: 'user' });
    }
  };
}
