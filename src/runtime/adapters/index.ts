/**
 * @module
 * The registry of handler styles: one adapter per style, one map.
 */
import type { HandlerStyle } from '../../project/spec.ts';
import type { AdapterFactory } from './adapter.ts';
import { workersAdapter } from './workers.ts';
import { lambdaAdapter } from './lambda-adapter.ts';
import { lambdaEdgeAdapter } from './lambda-edge-adapter.ts';
import { vercelAppRouteAdapter, vercelPagesApiAdapter } from './vercel.ts';
import { denoAdapter } from './deno.ts';
import { serviceWorkerAdapter } from './service-worker.ts';
import { gcfAdapter } from './gcf.ts';
import { azureV3Adapter } from './azure-v3.ts';
import { azureV4Adapter } from './azure-v4.ts';

export const ADAPTERS: Partial<Record<HandlerStyle, AdapterFactory>> = {
  'workers-module': workersAdapter,
  lambda: lambdaAdapter,
  'lambda-edge': lambdaEdgeAdapter,
  'vercel-app-route': vercelAppRouteAdapter,
  'vercel-pages-api': vercelPagesApiAdapter,
  deno: denoAdapter,
  'service-worker': serviceWorkerAdapter,
  gcf: gcfAdapter,
  'azure-v3': azureV3Adapter,
  'azure-v4': azureV4Adapter,
};

export type { Adapter, AdapterFactory, AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
export { HandlerShapeError } from './adapter.ts';
