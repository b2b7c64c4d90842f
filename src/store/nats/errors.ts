/**
 * @module
 * Recognising JetStream's answers: a refused expected-sequence publish is a lost
 * compare-and-set, which the MetaStore reports as Outpost's STORE_CONFLICT.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { OutpostError } from '../../errors.ts';

/** JetStream's error code for a publish whose expected last (subject) sequence did not match. */
const WRONG_LAST_SEQUENCE = 10071;

export function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE;
}

export function conflict(key: string, expected: number, actual: number): OutpostError {
  return new OutpostError('STORE_CONFLICT', `${key} changed concurrently (expected revision ${expected}, found ${actual})`, {
    status: 409,
    fault: 'user',
    hint: 'retry the operation',
  });
}
