/** @module Runs the SqlStore contract against the embedded SQLite store. */
import { sqlStoreContract } from '../sql.contract.ts';
import { openSqliteStore } from './index.ts';

sqlStoreContract('sqlite', ({ dir, now }) => openSqliteStore({ dir, now }));
