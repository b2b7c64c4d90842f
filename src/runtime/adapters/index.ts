/**
 * @module
 * The registry of handler styles: one adapter per style, one map.
 */
import type { HandlerStyle } from '../../project/spec.ts';
import type { AdapterFactory } from './adapter.ts';
import { workersAdapter } from './workers.ts';

export const ADAPTERS: Partial<Record<HandlerStyle, AdapterFactory>> = {
  'workers-module': workersAdapter,
};

export type { Adapter, AdapterFactory, AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
export { HandlerShapeError } from './adapter.ts';
