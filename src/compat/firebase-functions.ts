/**
 * @module
 * `firebase-functions` (and `firebase-functions/v1`) on Outpost. The root import serves both
 * generations of the API, so code written for firebase-functions 3–5 (v1 at the root) and 6+
 * (v2 at the root) runs unchanged: `functions.https.onRequest(handler)`,
 * `functions.https.onRequest(options, handler)`, `functions.region(…).runWith(…).https.onRequest`,
 * `https.onCall`, `logger`, `params`, `config()` and `setGlobalOptions()`. Other trigger
 * namespaces load but are not served (see firebase-unsupported.ts).
 */
import * as logger from './firebase-functions-logger.ts';
import * as params from './firebase-functions-params.ts';
import { HttpsError, onCall, onCallV1, onRequest } from './firebase-functions-https.ts';
import type { HttpsFunction, HttpsOptions } from './firebase-functions-https.ts';
import { unsupportedTrigger } from './firebase-unsupported.ts';

type Handler = NonNullable<Parameters<typeof onRequest>[1]>;

/** `https.onCall` accepts both the v1 `(data, context)` and the v2 `(request)` handler. */
function onCallEither(a: unknown, b?: unknown): HttpsFunction {
  if (typeof a === 'function' && a.length >= 2) return onCallV1(a as Parameters<typeof onCallV1>[0]);
  return onCall(a as Parameters<typeof onCall>[0], b as Parameters<typeof onCall>[1]);
}

export const https = {
  onRequest: (a: HttpsOptions | Handler, b?: Handler): HttpsFunction => onRequest(a, b),
  onCall: onCallEither,
  HttpsError,
};

export interface FunctionBuilder {
  https: typeof https;
  region(...regions: string[]): FunctionBuilder;
  runWith(options: Record<string, unknown>): FunctionBuilder;
  [trigger: string]: unknown;
}

const TRIGGERS = ['pubsub', 'firestore', 'database', 'storage', 'auth', 'analytics', 'remoteConfig', 'testLab', 'tasks', 'alerts', 'eventarc', 'identity', 'scheduler'] as const;

function builder(): FunctionBuilder {
  const b: FunctionBuilder = {
    https,
    region: () => b,
    runWith: () => b,
  };
  for (const t of TRIGGERS) b[t] = unsupportedTrigger(t);
  return b;
}

export const region = (..._regions: string[]): FunctionBuilder => builder();
export const runWith = (_options: Record<string, unknown>): FunctionBuilder => builder();

/** v1 runtime config: `CLOUD_RUNTIME_CONFIG` (JSON) if the function has it, else `{}`. */
export function config(): Record<string, unknown> {
  const raw = typeof process === 'undefined' ? undefined : process.env['CLOUD_RUNTIME_CONFIG'];
  if (raw) {
    try {
      const v: unknown = JSON.parse(raw);
      if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
    } catch {
      // fall through
    }
  }
  return {};
}

export function firebaseConfig(): Record<string, unknown> | null {
  const raw = typeof process === 'undefined' ? undefined : process.env['FIREBASE_CONFIG'];
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** v2 global options (region, memory, …) describe deployment; Outpost's limits come from its own config. */
export function setGlobalOptions(_options: Record<string, unknown>): void {}

export const SUPPORTED_REGIONS = ['us-central1', 'us-east1', 'us-east4', 'us-west1', 'europe-west1', 'europe-west2', 'asia-east2', 'asia-northeast1'];
export const VALID_MEMORY_OPTIONS = ['128MB', '256MB', '512MB', '1GB', '2GB', '4GB', '8GB'];

export const pubsub = unsupportedTrigger('pubsub');
export const firestore = unsupportedTrigger('firestore');
export const database = unsupportedTrigger('database');
export const storage = unsupportedTrigger('storage');
export const auth = unsupportedTrigger('auth');
export const analytics = unsupportedTrigger('analytics');
export const remoteConfig = unsupportedTrigger('remoteConfig');
export const testLab = unsupportedTrigger('testLab');
export const tasks = unsupportedTrigger('tasks');
export const scheduler = unsupportedTrigger('scheduler');
export const alerts = unsupportedTrigger('alerts');
export const eventarc = unsupportedTrigger('eventarc');
export const identity = unsupportedTrigger('identity');

export { logger, params, HttpsError };

export default {
  https, region, runWith, config, firebaseConfig, setGlobalOptions, logger, params, SUPPORTED_REGIONS, VALID_MEMORY_OPTIONS,
  pubsub, firestore, database, storage, auth, analytics, remoteConfig, testLab, tasks, scheduler, alerts, eventarc, identity,
};
