/**
 * @module
 * Azure Functions, Node.js programming model v4: modules register handlers with
 * `app.http(name, { methods, route, handler })` (or app.get/post/…) from `@azure/functions`,
 * which resolves to Outpost's compat module; the registrations land in a registry this adapter
 * reads after the module loads. Each route names its registration (`{ kind: 'export', name }`).
 *
 * A handler gets `(request: HttpRequest, context: InvocationContext)` — both built with the
 * bundle's own classes, so `instanceof` holds in user code — and returns an `HttpResponseInit`
 * (`status`, `headers`, `cookies`, `body` or `jsonBody`), an `HttpResponse`, or nothing (204 No
 * Content, Azure's documented default). `app.hook.preInvocation` / `postInvocation` hooks run
 * around it. `request.user` is read from App Service authentication headers in dev only: in
 * production nothing strips those headers from client requests, so they are not trusted.
 */
import type { Adapter, AdapterFactory, AdapterSetup, HttpInvocation, InvocationContext } from './adapter.ts';
import { HandlerShapeError, unsupportedEvent } from './adapter.ts';
import { appendCookies } from './azure-http.ts';
import type { HttpRequest as AzureHttpRequest, InvocationContext as AzureContext, responseFromInit as ResponseFromInit } from '../../compat/azure-functions.ts';

const REGISTRY = Symbol.for('outpost.azure.functions');
const RESPONSE = Symbol.for('outpost.azure.response');
const NATIVE = Symbol.for('outpost.azure.request');

interface Registration {
  trigger: string;
  options: Record<string, unknown>;
}

interface Registry {
  functions: Map<string, Registration>;
  hooks: Map<string, Array<(context: Record<string, unknown>) => unknown>>;
  HttpRequest: typeof AzureHttpRequest;
  InvocationContext: typeof AzureContext;
  responseFromInit: typeof ResponseFromInit;
}

type HttpHandler = (request: AzureHttpRequest, context: AzureContext) => unknown;

function readRegistry(): Registry | undefined {
  return (globalThis as Record<symbol, unknown>)[REGISTRY] as Registry | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** App Service / Static Web Apps authentication headers → `request.user`. */
function userFrom(headers: Headers): Record<string, unknown> | null {
  const principal = headers.get('x-ms-client-principal');
  let claims: Record<string, unknown> = {};
  if (principal) {
    try {
      const parsed: unknown = JSON.parse(atob(principal));
      if (isRecord(parsed)) claims = parsed;
    } catch {
      claims = {};
    }
  }
  const id = headers.get('x-ms-client-principal-id');
  if (id) {
    return { type: 'AppService', id, username: headers.get('x-ms-client-principal-name') ?? '', identityProvider: headers.get('x-ms-client-principal-idp') ?? '', claimsPrincipalData: claims };
  }
  if (principal && typeof claims['userId'] === 'string') {
    return { type: 'StaticWebApps', id: claims['userId'], username: String(claims['userDetails'] ?? ''), identityProvider: String(claims['identityProvider'] ?? ''), claimsPrincipalData: claims };
  }
  return null;
}

/**
 * The handler's result as a Web Response. Throws TypeError for a result that is not an object,
 * as @azure/functions does.
 */
export function v4Response(result: unknown, registry: Pick<Registry, 'responseFromInit'>, method: string): Response {
  if (result === undefined || result === null) return new Response(null, { status: 204 });
  if (!isRecord(result)) throw new TypeError('The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".');
  const branded = (result as Record<symbol, unknown>)[RESPONSE];
  let response: Response;
  let cookies: unknown;
  if (typeof branded === 'function') {
    const inner = (branded as () => { response: Response; cookies: unknown }).call(result);
    response = inner.response;
    cookies = inner.cookies;
  } else {
    response = registry.responseFromInit(result as Parameters<typeof ResponseFromInit>[0]);
    cookies = result['cookies'];
  }
  if (Array.isArray(cookies) && cookies.length > 0) {
    const headers = new Headers(response.headers);
    appendCookies(headers, cookies);
    response = new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
  if (method === 'HEAD' && response.body !== null) response = new Response(null, { status: response.status, headers: response.headers });
  return response;
}

async function runHooks(registry: Registry, kind: string, context: Record<string, unknown>): Promise<void> {
  for (const hook of registry.hooks.get(kind) ?? []) await hook(context);
}

function pick(registry: Registry, http: HttpInvocation, pathname: string): string | undefined {
  if (http.event.kind === 'export') return http.event.name;
  const httpNames = [...registry.functions].filter(([, r]) => r.trigger === 'http').map(([n]) => n);
  const first = decodeURIComponent(pathname.split('/').filter((s) => s !== '')[0] ?? '');
  if (httpNames.includes(first)) return first;
  return httpNames.length === 1 ? httpNames[0] : undefined;
}

async function invoke(registry: Registry, setup: AdapterSetup, request: Request, http: HttpInvocation, ctx: InvocationContext): Promise<Response> {
  const name = pick(registry, http, new URL(request.url).pathname);
  const registration = name === undefined ? undefined : registry.functions.get(name);
  if (name === undefined || !registration || registration.trigger !== 'http') {
    return new Response(null, { status: 404 });
  }
  const req = new registry.HttpRequest({
    [NATIVE]: request,
    params: { ...http.params },
    user: setup.dev ? (userFrom(request.headers) as AzureHttpRequest['user']) : null,
  } as ConstructorParameters<typeof AzureHttpRequest>[0]);
  const context = new registry.InvocationContext({
    invocationId: ctx.requestId,
    functionName: name,
    options: { trigger: { type: 'httpTrigger', name: 'httpTrigger1', ...registration.options, handler: undefined }, extraInputs: [], extraOutputs: [] },
    triggerMetadata: { query: Object.fromEntries(new URL(request.url).searchParams), headers: Object.fromEntries(request.headers), ...http.params },
  });
  let handler = registration.options['handler'] as HttpHandler;
  const inputs: unknown[] = [req];
  const hookData: Record<string, unknown> = {};
  if (registry.hooks.get('preInvocation')?.length) {
    const pre: Record<string, unknown> = { invocationContext: context, inputs, hookData, functionHandler: handler };
    await runHooks(registry, 'preInvocation', pre);
    if (typeof pre['functionHandler'] === 'function') handler = pre['functionHandler'] as HttpHandler;
  }
  let result: unknown;
  let error: unknown;
  try {
    result = await handler(inputs[0] as AzureHttpRequest, context);
  } catch (e) {
    error = e;
  }
  if (registry.hooks.get('postInvocation')?.length) {
    const post: Record<string, unknown> = { invocationContext: context, inputs, hookData, result, error };
    await runHooks(registry, 'postInvocation', post);
    result = post['result'];
    error = post['error'];
  }
  if (error !== undefined) throw error;
  return v4Response(result, registry, request.method);
}

export const azureV4Adapter: AdapterFactory = {
  environment(setup) {
    return { FUNCTIONS_WORKER_RUNTIME: 'node', AZURE_FUNCTIONS_ENVIRONMENT: setup.dev ? 'Development' : 'Production', WEBSITE_SITE_NAME: setup.functionName };
  },
  create(_module, setup): Adapter {
    const registry = readRegistry();
    if (!registry || registry.functions.size === 0) {
      throw new HandlerShapeError("the module registers no function; register one with app.http('name', { handler: async (request, context) => ({ body: 'ok' }) }) from '@azure/functions'");
    }
    const expected = (setup.platform['registrations'] ?? '').split(',').filter((s) => s !== '');
    const missing = expected.filter((n) => !registry.functions.has(n));
    if (missing.length > 0) throw new HandlerShapeError(`app.http registrations ${missing.map((n) => `"${n}"`).join(', ')} did not run when the module loaded; register functions at the top level of the module`);
    return {
      fetch: (request, http, ctx) => invoke(registry, setup, request, http, ctx),
      async event(kind) {
        throw unsupportedEvent('Azure Functions (v4) HTTP function', kind);
      },
    };
  },
};
