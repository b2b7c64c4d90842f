/**
 * @module
 * D1 errors, worded as D1 words them (`D1_ERROR: no such table: users: SQLITE_ERROR`) so code
 * that matches on the prefix keeps working.
 */
import { OutpostError } from '../../errors.ts';

export type D1Code = 'D1_ERROR' | 'D1_TYPE_ERROR' | 'D1_EXEC_ERROR' | 'D1_COLUMN_NOTFOUND';

export function d1Error(code: D1Code, message: string): OutpostError<D1Code> {
  return new OutpostError(code, `${code}: ${message}`, { fault: 'user', status: 400 });
}
