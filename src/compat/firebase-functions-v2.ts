/**
 * @module
 * `firebase-functions/v2` on Outpost: `https` (onRequest, onCall, HttpsError), `logger`,
 * `params` and `setGlobalOptions`. Other v2 trigger namespaces load but are not served.
 */
import * as https from './firebase-functions-https.ts';
import * as logger from './firebase-functions-logger.ts';
import * as params from './firebase-functions-params.ts';
import { unsupportedTrigger } from './firebase-unsupported.ts';

export function setGlobalOptions(_options: Record<string, unknown>): void {}

export const scheduler = unsupportedTrigger('scheduler');
export const firestore = unsupportedTrigger('firestore');
export const pubsub = unsupportedTrigger('pubsub');
export const storage = unsupportedTrigger('storage');
export const database = unsupportedTrigger('database');
export const tasks = unsupportedTrigger('tasks');
export const identity = unsupportedTrigger('identity');
export const eventarc = unsupportedTrigger('eventarc');
export const alerts = unsupportedTrigger('alerts');
export const remoteConfig = unsupportedTrigger('remoteConfig');
export const testLab = unsupportedTrigger('testLab');

export { https, logger, params };

export default { https, logger, params, setGlobalOptions, scheduler, firestore, pubsub, storage, database, tasks, identity, eventarc, alerts, remoteConfig, testLab };
