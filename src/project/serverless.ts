/**
 * @module
 * Serverless Framework (`serverless.yml` / `.yaml` / `.json`, provider aws) → ProjectSpec.
 * Variables are resolved first (see serverless-variables.ts), then provider defaults
 * (runtime, memorySize, timeout, environment, region, stage) are applied under each function's
 * own settings. `http` events become API Gateway REST routes (payload 1.0), `httpApi` events
 * HTTP API routes (payload 2.0 unless provider.httpApi.payload says otherwise), `cloudFront`
 * events Lambda@Edge routes; schedule/sqs/s3 events become triggers, other event types are
 * ignored with a warning. A `stepFunctions` section (serverless-step-functions plugin) becomes
 * state machines whose Lambda references are resolved to Outpost's function ARNs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCfnYaml } from './cfn-yaml.ts';
import { ACCOUNT_ID, DEFAULT_REGION, lambdaArn, queueNameFromArnOrUrl, queueSettings, resolveIntrinsics, resolveString } from './cfn-intrinsics.ts';
import type { CfnContext, CfnResource } from './cfn-intrinsics.ts';
import { Fields, isRecord } from './fields.ts';
import { moduleCandidates, resolveModuleFile, splitHandler } from './handler-path.ts';
import { loaderEnv } from './load-options.ts';
import type { LoadOptions } from './load-options.ts';
import { FUNCTION_NAME_HINT, FUNCTION_NAME_RE, isFile, joinUrlPath, limitsFor, normalizeMethod, readDotenvFiles, rel } from './loader-util.ts';
import { ProblemList, throwIfErrors } from './problems.ts';
import { destinationOf } from './async-config.ts';
import { VariableResolver } from './serverless-variables.ts';
import type { ApiKeySpec, CorsSpec, FunctionSpec, HandlerStyle, ProjectSpec, RoutePolicySpec, RouteSpec, StateMachineSpec, TriggerSpec } from './spec.ts';
import { readServerlessApiKeys } from '../traffic/api-keys.ts';
import { addPreflightRoutes, readServerlessHttpApiCors, readServerlessRestCors } from '../traffic/cors.ts';
import { checkAuthorizerFunctions, readServerlessHttpApiAuthorizers, readServerlessRestAuthorizer, serverlessHttpApiRouteAuth } from '../traffic/lambda-authorizer.ts';

export const SERVERLESS_CONFIG_FILES: readonly string[] = ['serverless.yml', 'serverless.yaml', 'serverless.json'];
/** Configs that are programs; Outpost does not run them to read them. */
const SCRIPT_CONFIGS: readonly string[] = ['serverless.ts', 'serverless.js', 'serverless.cjs', 'serverless.mjs'];

const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'ANY', '*']);
const EDGE_EVENT_TYPES = new Set(['viewer-request', 'origin-request', 'origin-response', 'viewer-response']);
/** Event types serverless knows that Outpost does not serve yet: accepted, warned about. */
const IGNORED_EVENTS = new Set([
  'sns',
  'stream',
  'eventBridge',
  'cloudwatchEvent',
  'cloudwatchLog',
  'websocket',
  'alb',
  'alexaSkill',
  'alexaSmartHome',
  'iot',
  'iotFleetProvisioning',
  'cognitoUserPool',
  'msk',
  'kafka',
  'activemq',
  'rabbitmq',
]);

export async function detectServerless(root: string): Promise<boolean> {
  for (const f of [...SERVERLESS_CONFIG_FILES, ...SCRIPT_CONFIGS]) if (await isFile(path.join(root, f))) return true;
  return false;
}

/** Serverless's CloudFormation logical id for a function key: `get-user` → `GetDashuserLambdaFunction`. */
export function serverlessLogicalId(functionKey: string): string {
  const normalized = functionKey.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

interface Provider {
  runtime: string;
  region: string;
  memoryMb: number | undefined;
  timeout: number | undefined;
  /** Raw provider.environment; resolved once the CloudFormation context exists. */
  environment: unknown;
  httpApiPayload: '1.0' | '2.0';
  /** provider.httpApi.cors, applied to every httpApi route. */
  httpApiCors: CorsSpec | undefined;
  /** provider.httpApi.authorizers by name, as the policies they give a route. */
  httpApiAuthorizers: Map<string, RoutePolicySpec>;
  /** provider.apiGateway apiKeys + usagePlan, for REST routes with `private: true`. */
  apiKeys: ApiKeySpec;
}

export async function loadServerless(rootIn: string, options: LoadOptions): Promise<ProjectSpec> {
  const root = path.resolve(rootIn);
  let file: string | undefined;
  for (const f of SERVERLESS_CONFIG_FILES) if (await isFile(path.join(root, f))) {
    file = f;
    break;
  }
  if (file === undefined) {
    const script = (await Promise.all(SCRIPT_CONFIGS.map(async (f) => ((await isFile(path.join(root, f))) ? f : undefined)))).find((f) => f !== undefined);
    const problems = new ProblemList(script ?? 'serverless.yml');
    problems.error(
      '',
      script ? `${script} is a program; Outpost reads serverless.yml, serverless.yaml or serverless.json without running code` : 'no serverless.yml found',
      script ? 'write the configuration as serverless.yml' : 'add serverless.yml',
    );
    throwIfErrors(problems);
  }
  const configFile = file ?? 'serverless.yml';
  const problems = new ProblemList(configFile);
  const raw = parseCfnYaml(await readFile(path.join(root, configFile), 'utf8'), problems);
  if (raw !== undefined && !isRecord(raw)) problems.error('', 'expected a table of settings at the top level');
  throwIfErrors(problems);
  const rawConfig = isRecord(raw) ? raw : {};

  // useDotenv loads .env.<stage> (or .env) for ${env:} look-ups; real environment variables win.
  let env = loaderEnv(options);
  const configFiles = [configFile];
  if (rawConfig['useDotenv'] === true) {
    const stage = new VariableResolver({ root, raw: rawConfig, env, optStage: options.stage, problems: new ProblemList(configFile) }).stage();
    const stageFile = await readDotenvFiles(root, [`.env.${stage}`]);
    const dot = stageFile.files.length > 0 ? stageFile : await readDotenvFiles(root, ['.env']);
    env = { ...dot.values, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
    configFiles.push(...dot.files);
  }

  const resolver = new VariableResolver({ root, raw: rawConfig, env, optStage: options.stage, problems });
  const cfg = resolver.resolveAll();
  const stage = resolver.stage();
  configFiles.push(...resolver.files);

  const f = new Fields(cfg, '', problems);
  const service = readService(f);
  const provider = readProvider(f, problems);
  f.accept('frameworkVersion', 'plugins', 'custom', 'package', 'params', 'useDotenv', 'configValidationMode', 'variablesResolutionMode');
  f.accept('org', 'app', 'console', 'dashboard', 'layers', 'outputs', 'build', 'disabledDeprecations', 'deprecationNotificationMode', 'licenseKey');

  const resourcesRaw = f.object('resources');
  const resources = resourcesRaw?.raw['Resources'];
  const mappings = resourcesRaw?.raw['Mappings'];
  resourcesRaw?.accept('Resources', 'Outputs', 'Conditions', 'Mappings', 'Parameters', 'Description', 'extensions');

  const fnDefs = readFunctionTable(f, problems);
  const functionNames: Record<string, string> = {};
  for (const key of fnDefs.keys()) {
    functionNames[key] = key;
    functionNames[serverlessLogicalId(key)] = key;
  }
  const ctx: CfnContext = {
    region: provider.region,
    accountId: ACCOUNT_ID,
    stackName: `${service}-${stage}`,
    resources: isRecord(resources) ? (resources as Record<string, CfnResource>) : {},
    parameters: {},
    mappings: isRecord(mappings) ? mappings : {},
    functionNames,
  };

  const providerEnv = envTable(provider.environment, 'provider.environment', ctx, problems);
  const functions: FunctionSpec[] = [];
  for (const [key, def] of fnDefs) {
    const fn = await readFunction(root, key, def, { service, stage, provider, providerEnv, ctx, problems });
    if (fn) functions.push(fn);
  }

  checkAuthorizerFunctions(functions, problems);
  const stateMachines = readStepFunctions(f, ctx, functions, problems);
  f.reportUnknown(['service', 'provider', 'functions', 'resources', 'stepFunctions', 'custom', 'plugins', 'package', 'params']);

  throwIfErrors(problems, ...resolver.fileProblems);
  return { name: service, root, format: 'serverless', configFiles, functions, stateMachines };
}

function readService(f: Fields): string {
  const raw = f.raw['service'];
  // Framework v1 allowed `service: { name: … }`.
  if (isRecord(raw)) {
    f.accept('service');
    const name = new Fields(raw, 'service', f.problems).string('name', { required: true });
    return name ?? 'service';
  }
  return f.string('service', { required: true }) ?? 'service';
}

function readProvider(f: Fields, problems: ProblemList): Provider {
  const p = f.object('provider', { required: true });
  const name = p?.string('name', { required: true });
  if (name !== undefined && name !== 'aws') problems.error('provider.name', `provider "${name}" is not supported`, 'Outpost reads serverless.yml for provider aws only');
  const runtime = p?.string('runtime') ?? 'nodejs20.x';
  if (!runtime.startsWith('nodejs')) problems.error('provider.runtime', `runtime "${runtime}" is not supported`, 'Outpost runs Node.js functions: use nodejs18.x, nodejs20.x or nodejs22.x');
  const region = p?.string('region') ?? DEFAULT_REGION;
  p?.string('stage');
  const memoryMb = p?.number('memorySize', { integer: true, min: 128, max: 10240 });
  const timeout = p?.number('timeout', { min: 1, max: 900 });
  p?.accept('environment');
  const environment = p?.raw['environment'];
  const httpApi = p?.object('httpApi');
  const payload = httpApi?.string('payload');
  if (payload !== undefined && payload !== '1.0' && payload !== '2.0') problems.error('provider.httpApi.payload', `"${payload}" is not a payload version`, "use '1.0' or '2.0'");
  httpApi?.accept('cors');
  const httpApiCors = readServerlessHttpApiCors(httpApi?.raw['cors'], 'provider.httpApi.cors', problems);
  const httpApiAuthorizers = readServerlessHttpApiAuthorizers(httpApi, payload === '1.0' ? '1.0' : '2.0');
  const apiKeys = readServerlessApiKeys(p?.object('apiGateway'));
  httpApi?.accept('id', 'name', 'metrics', 'disableDefaultEndpoint', 'shouldStartNameWithService', 'useProviderTags');
  p?.accept(
    'profile', 'iam', 'iamRoleStatements', 'iamManagedPolicies', 'role', 'apiGateway', 'tracing', 'logs', 'deploymentBucket', 'deploymentMethod',
    'architecture', 'versionFunctions', 'tags', 'stackTags', 'stackName', 'lambdaHashingVersion', 'vpc', 'layers', 'logRetentionInDays',
    'endpointType', 'apiName', 'websocketsApiName', 'websocketsApiRouteSelectionExpression', 'kmsKeyArn', 'eventBridge', 'ecr', 'alb',
    'cloudFront', 'stackPolicy', 'rollbackConfiguration', 'notificationArns', 'stackParameters', 'disableRollback', 'apiKeys', 'usagePlan',
    'resourcePolicy', 'httpApi', 'environment', 'memorySize', 'timeout', 'ephemeralStorageSize', 'runtimeManagement', 'logDataProtectionPolicy',
    's3', 'deploymentPrefix', 'tracing', 'timeout',
  );
  return { runtime, region, memoryMb, timeout, environment, httpApiPayload: payload === '1.0' ? '1.0' : '2.0', httpApiCors, httpApiAuthorizers, apiKeys };
}

/** Environment tables: strings, numbers and booleans as strings; CloudFormation references resolved. */
function envTable(value: unknown, key: string, ctx: CfnContext, problems: ProblemList): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    problems.error(key, 'expected a table of environment variables');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (v === null || v === undefined) continue; // an unset ${env:X, null} leaves the variable out
    else {
      const s = resolveString(v, ctx, `${key}.${k}`, problems);
      if (s !== undefined) out[k] = s;
    }
  }
  return out;
}

function readFunctionTable(f: Fields, problems: ProblemList): Map<string, Record<string, unknown>> {
  f.accept('functions');
  const value = f.raw['functions'];
  const out = new Map<string, Record<string, unknown>>();
  if (value === undefined || value === null) return out;
  // Older configs list functions as an array of one-key tables (often pulled in with ${file()}).
  const tables = Array.isArray(value) ? value : [value];
  tables.forEach((t, i) => {
    if (!isRecord(t)) {
      problems.error(Array.isArray(value) ? `functions[${i}]` : 'functions', 'expected a table of functions');
      return;
    }
    for (const [k, v] of Object.entries(t)) {
      if (!isRecord(v)) problems.error(`functions.${k}`, 'expected a table with at least `handler`');
      else if (out.has(k)) problems.error(`functions.${k}`, 'function defined twice');
      else out.set(k, v);
    }
  });
  return out;
}

interface FnContext {
  service: string;
  stage: string;
  provider: Provider;
  providerEnv: Record<string, string>;
  ctx: CfnContext;
  problems: ProblemList;
}

async function readFunction(root: string, key: string, def: Record<string, unknown>, c: FnContext): Promise<FunctionSpec | undefined> {
  const { problems, provider } = c;
  const fn = new Fields(def, `functions.${key}`, problems);
  if (!FUNCTION_NAME_RE.test(key)) problems.error(fn.path, `function name "${key}" is not valid`, FUNCTION_NAME_HINT);
  if (fn.has('image')) {
    fn.accept('image');
    problems.error(fn.key('image'), 'container-image functions are not supported', 'use `handler: file.export` with a Node.js runtime');
    return undefined;
  }
  const handler = fn.string('handler', { required: true });
  const runtime = fn.string('runtime') ?? provider.runtime;
  if (fn.has('runtime') && !runtime.startsWith('nodejs')) problems.error(fn.key('runtime'), `runtime "${runtime}" is not supported`, 'Outpost runs Node.js functions');
  const memoryMb = fn.number('memorySize', { integer: true, min: 128, max: 10240 }) ?? provider.memoryMb;
  const timeout = fn.number('timeout', { min: 1, max: 900 }) ?? provider.timeout;
  const deployedName = fn.string('name') ?? `${c.service}-${c.stage}-${key}`;
  const reserved = fn.number('reservedConcurrency', { integer: true, min: 0, max: 100_000 });
  const provisioned = fn.number('provisionedConcurrency', { integer: true, min: 0, max: 100_000 });
  if (reserved !== undefined && provisioned !== undefined && provisioned > reserved) {
    problems.error(fn.key('provisionedConcurrency'), `provisionedConcurrency (${provisioned}) exceeds reservedConcurrency (${reserved})`, 'provision at most as many as the function may run: lower provisionedConcurrency or raise reservedConcurrency');
  }
  fn.accept('environment');
  // The function's environment merges over the provider's, key by key, as in the framework.
  const vars = { ...c.providerEnv, ...envTable(def['environment'], fn.key('environment'), c.ctx, problems) };
  fn.accept(
    'description', 'role', 'layers', 'vpc', 'tags', 'reservedConcurrency', 'provisionedConcurrency', 'package', 'maximumRetryAttempts',
    'maximumEventAge', 'destinations', 'url', 'onError', 'kmsKeyArn', 'tracing', 'architecture', 'ephemeralStorageSize', 'disableLogs',
    'logRetentionInDays', 'condition', 'dependsOn', 'snapStart', 'fileSystemConfig', 'iamRoleStatements', 'iamRoleStatementsName',
    'versionFunction', 'runtimeManagement', 'logs', 'skipBuild', 'concurrencyAutoscaling', 'alarms', 'warmup', 'memorySize', 'timeout',
  );

  const ev = readEvents(fn, c);
  const asyncPlatform = readAsyncConfig(fn, c);
  fn.reportUnknown(['handler', 'events', 'environment', 'memorySize', 'timeout', 'runtime', 'name']);

  let entry: string | undefined;
  let exportName = 'handler';
  if (handler !== undefined) {
    const parts = splitHandler(handler);
    if (!parts) problems.error(fn.key('handler'), `"${handler}" is not a handler`, 'write it as `path/to/file.exportName`, e.g. `src/handler.hello`');
    else {
      exportName = parts.exportName;
      entry = await resolveModuleFile(root, parts.module);
      if (entry === undefined) {
        const tried = moduleCandidates(root, parts.module).map((p) => rel(root, p));
        problems.error(fn.key('handler'), `no source file for "${handler}"`, `create one of ${tried.join(', ')}`);
      }
    }
  }
  if (entry === undefined) return undefined;

  const style: HandlerStyle = ev.edge ? 'lambda-edge' : 'lambda';
  const platform: Record<string, string> = { runtime, region: provider.region, stage: c.stage, accountId: ACCOUNT_ID, functionName: deployedName };
  if (ev.approximatedPatterns.length > 0) platform['cloudfrontPathPatterns'] = JSON.stringify(ev.approximatedPatterns);
  Object.assign(platform, asyncPlatform);
  return {
    name: key,
    style,
    entry,
    handlerExport: exportName,
    vars,
    secrets: {},
    bindings: [],
    routes: ev.routes,
    triggers: ev.triggers,
    limits: {
      ...limitsFor(style, { memoryMb, timeoutSeconds: timeout }),
      ...(reserved === undefined ? {} : { reservedConcurrency: reserved }),
      ...(provisioned === undefined ? {} : { provisionedConcurrency: provisioned }),
    },
    nodeCompat: true,
    compatibilityFlags: [],
    platform,
  };
}

interface Events {
  routes: RouteSpec[];
  triggers: TriggerSpec[];
  edge: boolean;
  approximatedPatterns: string[];
}

function readEvents(fn: Fields, c: FnContext): Events {
  const { problems } = c;
  const out: Events = { routes: [], triggers: [], edge: false, approximatedPatterns: [] };
  fn.accept('events');
  const events = fn.raw['events'];
  if (events === undefined || events === null) return out;
  if (!Array.isArray(events)) {
    problems.error(fn.key('events'), 'expected a list of events', 'write each event as `- http: …`');
    return out;
  }
  let apiEvents = 0;
  events.forEach((ev: unknown, i) => {
    const key = `${fn.key('events')}[${i}]`;
    const entries = isRecord(ev) ? Object.entries(ev) : [];
    const [type, body] = entries[0] ?? ['', undefined];
    if (entries.length !== 1) {
      problems.error(key, 'expected a one-key table such as `- http: { path: /x, method: get }`');
      return;
    }
    const at = `${key}.${type}`;
    switch (type) {
      case 'http':
        apiEvents++;
        readHttpEvent(body, at, c, out);
        break;
      case 'httpApi':
        apiEvents++;
        readHttpApiEvent(body, at, c, out);
        break;
      case 'cloudFront':
        out.edge = true;
        readCloudFrontEvent(body, at, c, out);
        break;
      case 'schedule':
        readScheduleEvent(body, at, problems, out);
        break;
      case 'sqs':
        readSqsEvent(body, at, c, out);
        break;
      case 's3':
        readS3Event(body, at, c, out);
        break;
      default:
        if (IGNORED_EVENTS.has(type)) problems.warn(at, `${type} events are not served by Outpost; ignored`);
        else problems.warn(at, `unknown event type "${type}"; ignored`);
    }
  });
  addPreflightRoutes(out.routes);
  if (out.edge && apiEvents > 0) {
    problems.error(fn.key('events'), 'a function cannot have both cloudFront and http/httpApi events', 'split it into two functions: Lambda@Edge and API Gateway call handlers differently');
  }
  return out;
}

function methodOf(raw: string, at: string, problems: ProblemList): string | undefined | null {
  if (!HTTP_METHODS.has(raw.toUpperCase())) {
    problems.error(at, `"${raw}" is not an HTTP method`, 'use get, post, put, patch, delete, options, head or any');
    return null;
  }
  return normalizeMethod(raw);
}

function readHttpEvent(body: unknown, at: string, c: FnContext, out: Events): void {
  const { problems } = c;
  let rawPath: string | undefined;
  let rawMethod: string | undefined;
  const policies: RoutePolicySpec = {};
  if (typeof body === 'string') {
    // Short form: `- http: GET users/{id}`.
    const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(body);
    if (!m) {
      problems.error(at, `"${body}" is not \`METHOD path\``, 'write `http: GET users/{id}` or a table with path and method');
      return;
    }
    rawMethod = m[1];
    rawPath = m[2];
  } else if (isRecord(body)) {
    const f = new Fields(body, at, problems);
    rawPath = f.string('path', { required: true });
    rawMethod = f.string('method', { required: true });
    const integration = f.string('integration');
    if (integration !== undefined && !/^(lambda-proxy|aws-proxy|aws_proxy)$/i.test(integration)) {
      problems.warn(f.key('integration'), `integration "${integration}" is served as lambda-proxy`, 'request/response mapping templates are not applied');
    }
    f.accept('cors', 'authorizer');
    const cors = readServerlessRestCors(body['cors'], f.key('cors'), problems);
    if (cors) policies.cors = cors;
    const authorizer = body['authorizer'] === undefined ? undefined : readServerlessRestAuthorizer(body['authorizer'], f.key('authorizer'), problems);
    if (authorizer) policies.authorizer = authorizer;
    if (f.boolean('private') === true) policies.apiKey = c.provider.apiKeys;
    f.accept('request', 'response', 'async', 'operationId', 'documentation', 'connectionId', 'connectionType');
    f.reportUnknown(['path', 'method', 'cors', 'private', 'integration', 'request', 'authorizer']);
  } else {
    problems.error(at, 'expected a table with path and method, or `METHOD path`');
    return;
  }
  if (rawPath === undefined || rawMethod === undefined) return;
  const method = methodOf(rawMethod, `${at}.method`, problems);
  if (method === null) return;
  const p = joinUrlPath(rawPath);
  out.routes.push({
    path: p,
    ...(method === undefined ? {} : { method }),
    event: { kind: 'api-gateway', payloadVersion: '1.0', resource: p, stage: c.stage },
    ...(Object.keys(policies).length > 0 ? { policies } : {}),
  });
}

function readHttpApiEvent(body: unknown, at: string, c: FnContext, out: Events): void {
  const { problems } = c;
  const payloadVersion = c.provider.httpApiPayload;
  let rawPath: string | undefined;
  let rawMethod: string | undefined;
  const policies: RoutePolicySpec = c.provider.httpApiCors ? { cors: c.provider.httpApiCors } : {};
  const withPolicies = (): { policies?: RoutePolicySpec } => (Object.keys(policies).length > 0 ? { policies } : {});
  if (typeof body === 'string') {
    if (body.trim() === '*') {
      // `httpApi: '*'` is the $default route: everything no other route matches.
      out.routes.push({ path: '/*', event: { kind: 'api-gateway', payloadVersion, resource: '$default', stage: '$default' }, ...withPolicies() });
      return;
    }
    const m = /^\s*(\S+)\s+(\/\S*)\s*$/.exec(body);
    if (!m) {
      problems.error(at, `"${body}" is not \`METHOD /path\` or '*'`, "write `httpApi: 'GET /users/{id}'`");
      return;
    }
    rawMethod = m[1];
    rawPath = m[2];
  } else if (isRecord(body)) {
    const f = new Fields(body, at, problems);
    rawPath = f.string('path', { required: true });
    rawMethod = f.string('method', { required: true });
    f.accept('authorizer', 'cors');
    if (body['authorizer'] !== undefined) Object.assign(policies, serverlessHttpApiRouteAuth(body['authorizer'], f.key('authorizer'), c.provider.httpApiAuthorizers, problems));
    f.reportUnknown(['path', 'method', 'authorizer']);
  } else {
    problems.error(at, "expected a table with path and method, `'METHOD /path'` or '*'");
    return;
  }
  if (rawPath === undefined || rawMethod === undefined) return;
  const method = methodOf(rawMethod, `${at}.method`, problems);
  if (method === null) return;
  if (rawPath.trim() === '*') {
    out.routes.push({ ...(method === undefined ? {} : { method }), path: '/*', event: { kind: 'api-gateway', payloadVersion, resource: '$default', stage: '$default' }, ...withPolicies() });
    return;
  }
  const p = joinUrlPath(rawPath);
  out.routes.push({ path: p, ...(method === undefined ? {} : { method }), event: { kind: 'api-gateway', payloadVersion, resource: p, stage: '$default' }, ...withPolicies() });
}

/**
 * CloudFront path patterns allow `*` and `?` anywhere; Outpost routes only end in `*`. A pattern
 * with an inner wildcard is widened to the part before it (`/img/*.jpg` → `/img/*`) and the
 * original is kept in platform.cloudfrontPathPatterns for the adapter to re-check.
 */
export function cloudFrontPath(pattern: string): { path: string; approximated: boolean } {
  let p = pattern.trim();
  if (p === '' || p === '*') return { path: '/*', approximated: false };
  if (!p.startsWith('/')) p = `/${p}`;
  const wild = p.search(/[*?]/);
  if (wild === -1 || (wild === p.length - 1 && p.endsWith('*'))) return { path: p, approximated: false };
  return { path: `${p.slice(0, wild)}*`, approximated: true };
}

function readCloudFrontEvent(body: unknown, at: string, c: FnContext, out: Events): void {
  const { problems } = c;
  if (!isRecord(body)) {
    problems.error(at, 'expected a table with eventType');
    return;
  }
  const f = new Fields(body, at, problems);
  const eventType = f.string('eventType', { required: true });
  if (eventType !== undefined && !EDGE_EVENT_TYPES.has(eventType)) {
    problems.error(f.key('eventType'), `"${eventType}" is not a CloudFront event type`, 'use viewer-request, origin-request, origin-response or viewer-response');
    return;
  }
  f.accept('origin');
  const originRaw = f.raw['origin'];
  let origin: string | undefined;
  if (typeof originRaw === 'string') origin = originRaw;
  else if (isRecord(originRaw)) {
    const domain = originRaw['DomainName'];
    const originPath = typeof originRaw['OriginPath'] === 'string' ? originRaw['OriginPath'] : '';
    if (typeof domain === 'string') origin = `https://${domain}${originPath}`;
    else problems.error(f.key('origin.DomainName'), 'missing; expected the origin host name', 'add `DomainName`');
  } else if (originRaw !== undefined) problems.error(f.key('origin'), 'expected a URL or a table with DomainName');
  const pattern = f.string('pathPattern') ?? '/*';
  f.accept('isDefaultOrigin', 'includeBody', 'behavior', 'cachePolicy');
  f.reportUnknown(['eventType', 'origin', 'pathPattern', 'includeBody', 'behavior', 'cachePolicy', 'isDefaultOrigin']);
  if (eventType === undefined) return;
  const { path: p, approximated } = cloudFrontPath(pattern);
  if (approximated) out.approximatedPatterns.push(pattern);
  out.routes.push({
    path: p,
    event: {
      kind: 'cloudfront',
      eventType: eventType as 'viewer-request' | 'origin-request' | 'origin-response' | 'viewer-response',
      ...(origin === undefined ? {} : { origin }),
    },
  });
}

const SCHEDULE_RE = /^(rate|cron)\(.+\)$/;

function readScheduleEvent(body: unknown, at: string, problems: ProblemList, out: Events): void {
  let rates: string[] = [];
  let timezone: string | undefined;
  if (typeof body === 'string') rates = [body];
  else if (isRecord(body)) {
    const f = new Fields(body, at, problems);
    if (f.boolean('enabled') === false) {
      f.accept('rate', 'input', 'inputPath', 'inputTransformer', 'name', 'description', 'method', 'timezone', 'role');
      return;
    }
    f.accept('rate');
    const rate = f.raw['rate'];
    if (typeof rate === 'string') rates = [rate];
    else if (Array.isArray(rate) && rate.every((r) => typeof r === 'string')) rates = rate as string[];
    else problems.error(f.key('rate'), rate === undefined ? 'missing; expected rate(…) or cron(…)' : 'expected rate(…) or cron(…), or a list of them', 'add `rate: rate(5 minutes)`');
    timezone = f.string('timezone');
    f.accept('input', 'inputPath', 'inputTransformer', 'name', 'description', 'method', 'role');
    f.reportUnknown(['rate', 'enabled', 'input', 'name', 'description', 'timezone']);
  } else {
    problems.error(at, 'expected rate(…) / cron(…) or a table with rate');
    return;
  }
  for (const r of rates) {
    if (!SCHEDULE_RE.test(r.trim())) {
      problems.error(at, `"${r}" is not a schedule expression`, 'use rate(5 minutes) or cron(0 12 * * ? *)');
      continue;
    }
    out.triggers.push({ type: 'cron', expression: r.trim(), ...(timezone === undefined ? {} : { timezone }) });
  }
}

/**
 * `maximumRetryAttempts`, `maximumEventAge` and `destinations: { onSuccess, onFailure }` (a
 * function of the service, an SQS or Lambda ARN, or `{ type, arn }`) → async platform keys.
 */
function readAsyncConfig(fn: Fields, c: FnContext): Record<string, string> {
  const out: Record<string, string> = {};
  const retries = fn.number('maximumRetryAttempts', { integer: true, min: 0, max: 2 });
  if (retries !== undefined) out['asyncRetries'] = String(retries);
  const age = fn.number('maximumEventAge', { integer: true, min: 60, max: 21600 });
  if (age !== undefined) out['asyncMaxAgeSeconds'] = String(age);
  const d = fn.object('destinations');
  for (const which of ['onSuccess', 'onFailure'] as const) {
    const raw = d?.raw[which];
    if (raw === undefined || !d) continue;
    d.accept(which);
    const key = d.key(which);
    let arn: unknown = raw;
    if (isRecord(raw)) {
      const f = new Fields(raw, key, c.problems);
      f.string('type');
      f.accept('arn');
      f.reportUnknown(['type', 'arn']);
      arn = raw['arn'];
    }
    const value = typeof arn === 'string' ? arn : resolveString(arn, c.ctx, key, c.problems);
    const dest = value === undefined ? undefined : destinationOf(value, key, c.problems, true);
    if (dest !== undefined) out[which] = dest;
  }
  d?.reportUnknown(['onSuccess', 'onFailure']);
  return out;
}

function queueFromArn(value: unknown, key: string, c: FnContext): string | undefined {
  if (typeof value === 'string') return queueNameFromArnOrUrl(value);
  const s = resolveString(value, c.ctx, key, c.problems);
  return s === undefined ? undefined : queueNameFromArnOrUrl(s);
}

function readSqsEvent(body: unknown, at: string, c: FnContext, out: Events): void {
  const { problems } = c;
  let queue: string | undefined;
  const t: { maxBatchSize?: number; maxBatchTimeoutSeconds?: number; maxConcurrency?: number } = {};
  if (typeof body === 'string') queue = queueNameFromArnOrUrl(body);
  else if (isRecord(body)) {
    const f = new Fields(body, at, problems);
    if (f.boolean('enabled') === false) {
      f.accept('arn', 'batchSize', 'maximumBatchingWindow', 'functionResponseType', 'filterPatterns', 'maximumConcurrency');
      return;
    }
    f.accept('arn');
    if (body['arn'] === undefined) problems.error(f.key('arn'), 'missing; expected the queue ARN', 'add `arn: !GetAtt MyQueue.Arn` or the ARN string');
    else queue = queueFromArn(body['arn'], f.key('arn'), c);
    const batch = f.number('batchSize', { integer: true, min: 1, max: 10000 });
    if (batch !== undefined) t.maxBatchSize = batch;
    const window = f.number('maximumBatchingWindow', { min: 0, max: 300 });
    if (window !== undefined) t.maxBatchTimeoutSeconds = window;
    const conc = f.number('maximumConcurrency', { integer: true, min: 2, max: 1000 });
    if (conc !== undefined) t.maxConcurrency = conc;
    f.accept('functionResponseType', 'filterPatterns');
    f.reportUnknown(['arn', 'batchSize', 'maximumBatchingWindow', 'enabled', 'maximumConcurrency', 'functionResponseType', 'filterPatterns']);
  } else {
    problems.error(at, 'expected a queue ARN or a table with arn');
    return;
  }
  if (queue === undefined) return;
  out.triggers.push({ type: 'queue', queue, ...queueSettings(c.ctx, queue), ...t });
}

function readS3Event(body: unknown, at: string, c: FnContext, out: Events): void {
  const { problems } = c;
  if (typeof body === 'string') {
    out.triggers.push({ type: 'object', bucket: body, events: ['s3:ObjectCreated:*'] });
    return;
  }
  if (!isRecord(body)) {
    problems.error(at, 'expected a bucket name or a table with bucket');
    return;
  }
  const f = new Fields(body, at, problems);
  f.accept('bucket');
  let bucket: string | undefined;
  if (typeof body['bucket'] === 'string') bucket = body['bucket'];
  else if (body['bucket'] === undefined) problems.error(f.key('bucket'), 'missing; expected the bucket name', 'add `bucket: my-bucket`');
  else bucket = resolveString(body['bucket'], c.ctx, f.key('bucket'), problems);
  const event = f.string('event') ?? 's3:ObjectCreated:*';
  let prefix: string | undefined;
  let suffix: string | undefined;
  f.objects('rules').forEach((r) => {
    prefix = r.string('prefix') ?? prefix;
    suffix = r.string('suffix') ?? suffix;
    r.reportUnknown(['prefix', 'suffix']);
  });
  f.accept('existing', 'forceDeploy');
  f.reportUnknown(['bucket', 'event', 'rules', 'existing', 'forceDeploy']);
  if (bucket === undefined) return;
  out.triggers.push({
    type: 'object',
    bucket,
    events: [event],
    ...(prefix === undefined ? {} : { prefix }),
    ...(suffix === undefined ? {} : { suffix }),
  });
}

/** Lambda ARNs written with the deployed name (`service-stage-fn`) point at Outpost's function name instead. */
function retargetLambdaNames(value: unknown, byDeployedName: ReadonlyMap<string, string>, region: string, parentKey = ''): unknown {
  if (typeof value === 'string') {
    const arn = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(:.*)?$/.exec(value);
    const target = arn ? byDeployedName.get(arn[1] ?? '') : undefined;
    if (arn && target !== undefined) return `${lambdaArn(region, target)}${arn[2] ?? ''}`;
    if (parentKey === 'FunctionName' && byDeployedName.has(value)) return byDeployedName.get(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => retargetLambdaNames(v, byDeployedName, region));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, retargetLambdaNames(v, byDeployedName, region, k)]));
  return value;
}

function readStepFunctions(f: Fields, ctx: CfnContext, functions: FunctionSpec[], problems: ProblemList): StateMachineSpec[] {
  const sf = f.object('stepFunctions');
  if (!sf) return [];
  sf.accept('validate', 'activities', 'noOutput');
  const machines = sf.object('stateMachines');
  sf.reportUnknown(['stateMachines', 'validate', 'activities']);
  if (!machines) return [];
  const byDeployedName = new Map<string, string>();
  for (const fn of functions) if (fn.platform['functionName']) byDeployedName.set(fn.platform['functionName'], fn.name);
  const out: StateMachineSpec[] = [];
  for (const [key, def] of Object.entries(machines.raw)) {
    machines.accept(key);
    const at = machines.key(key);
    if (!isRecord(def)) {
      problems.error(at, 'expected a table with definition');
      continue;
    }
    const m = new Fields(def, at, problems);
    const name = m.string('name') ?? key;
    const typeRaw = m.string('type');
    const type = (typeRaw ?? 'STANDARD').toUpperCase();
    if (type !== 'STANDARD' && type !== 'EXPRESS') problems.error(m.key('type'), `"${typeRaw}" is not a state machine type`, 'use STANDARD or EXPRESS');
    m.accept('definition');
    let definition: unknown = def['definition'];
    if (definition === undefined) {
      problems.error(m.key('definition'), 'missing; expected the Amazon States Language definition', 'add `definition: { StartAt: …, States: … }`');
      continue;
    }
    if (typeof definition === 'string') {
      try {
        definition = JSON.parse(definition);
      } catch {
        problems.error(m.key('definition'), 'expected a table or a JSON string');
        continue;
      }
    }
    m.accept('events', 'role', 'loggingConfig', 'tracingConfig', 'alarms', 'notifications', 'id', 'tags', 'dependsOn', 'useExactVersion', 'retain');
    m.reportUnknown(['name', 'definition', 'type', 'events', 'role', 'loggingConfig', 'tracingConfig', 'id', 'tags']);
    if (isRecord(def['events'])) problems.warn(m.key('events'), 'state machine events are not served by Outpost; start executions through the Step Functions API');
    const resolved = resolveIntrinsics(definition, ctx, m.key('definition'), problems);
    if (resolved === undefined) continue;
    out.push({ name, definition: retargetLambdaNames(resolved, byDeployedName, ctx.region), type: type === 'EXPRESS' ? 'EXPRESS' : 'STANDARD' });
  }
  return out;
}
