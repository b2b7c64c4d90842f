/**
 * @module
 * AWS SAM templates (`template.yaml` / `.yml` / `.json`) → ProjectSpec. `Globals.Function` is
 * applied under each `AWS::Serverless::Function` (Environment.Variables merged key by key, as SAM
 * does); the function is named after its logical id unless FunctionName says otherwise. Api events
 * become REST routes (payload 1.0, stage `Prod` or the API's StageName), HttpApi events HTTP API
 * routes (payload 2.0, `$default` catch-all when Path and Method are absent); Schedule,
 * ScheduleV2, SQS and S3 events become triggers. `AWS::Serverless::StateMachine` and
 * `AWS::StepFunctions::StateMachine` become state machines with DefinitionSubstitutions applied.
 * Intrinsics are evaluated by cfn-intrinsics.ts; what cannot be known locally is a problem.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCfnYaml } from './cfn-yaml.ts';
import {
  ACCOUNT_ID,
  bucketNameFromArn,
  DEFAULT_REGION,
  queueNameFromArnOrUrl,
  queueSettings,
  resolveIntrinsics,
  resolveString,
  substitutePlaceholders,
} from './cfn-intrinsics.ts';
import type { CfnContext, CfnResource } from './cfn-intrinsics.ts';
import { Fields, isRecord } from './fields.ts';
import { moduleCandidates, resolveModuleFile, splitHandler } from './handler-path.ts';
import type { LoadOptions } from './load-options.ts';
import { FUNCTION_NAME_HINT, FUNCTION_NAME_RE, isFile, joinUrlPath, limitsFor, normalizeMethod, readTextIfExists, rel, sanitizeName } from './loader-util.ts';
import { ProblemList, throwIfErrors } from './problems.ts';
import { destinationOf } from './async-config.ts';
import type { FunctionSpec, ProjectSpec, RoutePolicySpec, RouteSpec, StateMachineSpec, TriggerSpec } from './spec.ts';
import { readSamApiKeys } from '../traffic/api-keys.ts';
import { addPreflightRoutes, readSamHttpApiCors, readSamRestCors } from '../traffic/cors.ts';
import { jwtFromApiGateway, scopesOf } from '../traffic/jwt.ts';
import { readSamAuthorizer } from '../traffic/lambda-authorizer.ts';

export const SAM_TEMPLATE_FILES: readonly string[] = ['template.yaml', 'template.yml', 'template.json'];

const FUNCTION_TYPE = 'AWS::Serverless::Function';
const IGNORED_EVENTS = new Set([
  'SNS',
  'Kinesis',
  'DynamoDB',
  'EventBridgeRule',
  'CloudWatchEvent',
  'CloudWatchLogs',
  'IoTRule',
  'AlexaSkill',
  'Cognito',
  'MSK',
  'MQ',
  'SelfManagedKafka',
  'DocumentDB',
]);
const PASSIVE_FUNCTION_PROPS = [
  'Description', 'Role', 'Policies', 'Layers', 'VpcConfig', 'Tags', 'Architectures', 'Tracing', 'AutoPublishAlias', 'DeploymentPreference',
  'ReservedConcurrentExecutions', 'ProvisionedConcurrencyConfig', 'DeadLetterQueue', 'EventInvokeConfig', 'KmsKeyArn', 'PermissionsBoundary',
  'EphemeralStorage', 'FunctionUrlConfig', 'SnapStart', 'RuntimeManagementConfig', 'LoggingConfig', 'FileSystemConfigs', 'AssumeRolePolicyDocument',
  'CodeSigningConfigArn', 'AutoPublishCodeSha256', 'AutoPublishAliasAllProperties', 'RolePath', 'VersionDescription', 'PropagateTags',
  'RecursiveLoop', 'SourceKMSKeyArn', 'VersionDeletionPolicy', 'CapacityProviderConfig',
];

export async function detectSam(root: string): Promise<boolean> {
  for (const f of SAM_TEMPLATE_FILES) {
    const text = await readTextIfExists(path.join(root, f));
    if (text !== undefined && /AWS::Serverless/.test(text)) return true;
  }
  return false;
}

export async function loadSam(rootIn: string, _options: LoadOptions): Promise<ProjectSpec> {
  const root = path.resolve(rootIn);
  let file: string | undefined;
  for (const f of SAM_TEMPLATE_FILES) if (await isFile(path.join(root, f))) {
    file = f;
    break;
  }
  const problems = new ProblemList(file ?? 'template.yaml');
  if (file === undefined) {
    problems.error('', 'no SAM template found', 'add template.yaml');
    throwIfErrors(problems);
  }
  const templateFile = file ?? 'template.yaml';
  const raw = parseCfnYaml(await readFile(path.join(root, templateFile), 'utf8'), problems);
  if (raw !== undefined && !isRecord(raw)) problems.error('', 'expected a template (a table with Resources)');
  throwIfErrors(problems);
  const t = new Fields(isRecord(raw) ? raw : {}, '', problems);
  t.accept('AWSTemplateFormatVersion', 'Transform', 'Description', 'Metadata', 'Outputs', 'Conditions', 'Rules');

  const name = sanitizeName(path.basename(root));
  const parameters: Record<string, unknown> = {};
  const params = t.object('Parameters');
  for (const [id, def] of Object.entries(params?.raw ?? {})) {
    params?.accept(id);
    parameters[id] = isRecord(def) ? def['Default'] : undefined;
  }
  const mappings = t.object('Mappings')?.raw ?? {};
  const resourcesF = t.object('Resources', { required: true });
  const resources: Record<string, CfnResource> = {};
  for (const [id, res] of Object.entries(resourcesF?.raw ?? {})) {
    resourcesF?.accept(id);
    if (isRecord(res)) resources[id] = res;
    else problems.error(`Resources.${id}`, 'expected a resource table with Type');
  }
  const globals = readGlobals(t);
  t.reportUnknown(['Resources', 'Globals', 'Parameters', 'Mappings', 'Outputs', 'Conditions', 'Transform', 'Description']);

  const ctx: CfnContext = { region: DEFAULT_REGION, accountId: ACCOUNT_ID, stackName: name, resources, parameters, mappings, functionNames: {} };
  globals.vars = envVariables(new Fields(globals.raw, 'Globals.Function', problems).object('Environment'), ctx, problems);
  // Names first: DefinitionSubstitutions and Ref/GetAtt of one function may be read while another is being built.
  for (const [id, res] of Object.entries(resources)) {
    if (res.Type !== FUNCTION_TYPE) continue;
    const props = isRecord(res.Properties) ? res.Properties : {};
    const fnName = props['FunctionName'] === undefined ? id : resolveString(props['FunctionName'], ctx, `Resources.${id}.Properties.FunctionName`, problems);
    if (fnName === undefined) continue;
    if (!FUNCTION_NAME_RE.test(fnName)) problems.error(`Resources.${id}.Properties.FunctionName`, `"${fnName}" is not a valid function name`, FUNCTION_NAME_HINT);
    ctx.functionNames[id] = fnName;
  }

  const functions: FunctionSpec[] = [];
  const stateMachines: StateMachineSpec[] = [];
  const extraProblems: ProblemList[] = [];
  const configFiles = [templateFile];
  for (const [id, res] of Object.entries(resources)) {
    const at = `Resources.${id}`;
    if (res.Type === FUNCTION_TYPE) {
      const fn = await readFunction(root, id, res, globals, ctx, problems);
      if (fn) functions.push(fn);
    } else if (res.Type === 'AWS::Serverless::StateMachine' || res.Type === 'AWS::StepFunctions::StateMachine') {
      const sm = await readStateMachine(root, id, res, ctx, problems, extraProblems, configFiles);
      if (sm) stateMachines.push(sm);
    } else if (res.Type === 'AWS::Lambda::Function') {
      problems.warn(at, 'plain AWS::Lambda::Function resources are not served', 'declare it as AWS::Serverless::Function with CodeUri and Handler');
    } else if (typeof res.Type !== 'string') problems.error(`${at}.Type`, 'missing; expected a resource type');
  }
  const seen = new Set<string>();
  for (const fn of functions) {
    if (seen.has(fn.name)) problems.error('Resources', `two functions are named "${fn.name}"`, 'give each a different FunctionName');
    seen.add(fn.name);
  }
  throwIfErrors(problems, ...extraProblems);
  return { name, root, format: 'sam', configFiles, functions, stateMachines };
}

interface Globals {
  raw: Record<string, unknown>;
  /** Globals.Api / Globals.HttpApi: the implicit APIs' properties (Auth, Cors…). */
  apis: { Api: Record<string, unknown>; HttpApi: Record<string, unknown> };
  /** Globals.Function.Environment.Variables, resolved. */
  vars: Record<string, string>;
}

function envVariables(env: Fields | undefined, ctx: CfnContext, problems: ProblemList): Record<string, string> {
  const vars: Record<string, string> = {};
  const envVars = env?.object('Variables');
  for (const [k, v] of Object.entries(envVars?.raw ?? {})) {
    envVars?.accept(k);
    const s = resolveString(v, ctx, `${envVars?.path ?? ''}.${k}`, problems);
    if (s !== undefined) vars[k] = s;
  }
  env?.reportUnknown(['Variables']);
  return vars;
}

function readGlobals(t: Fields): Globals {
  const g = t.object('Globals');
  g?.accept('Api', 'HttpApi', 'SimpleTable', 'StateMachine', 'LayerVersion', 'CapacityProvider');
  const fn = g?.object('Function');
  g?.reportUnknown(['Function', 'Api', 'HttpApi', 'SimpleTable', 'StateMachine', 'LayerVersion']);
  const api = g?.raw['Api'];
  const httpApi = g?.raw['HttpApi'];
  return { raw: fn?.raw ?? {}, vars: {}, apis: { Api: isRecord(api) ? api : {}, HttpApi: isRecord(httpApi) ? httpApi : {} } };
}

/** Function properties over Globals.Function (Environment is merged separately, key by key). */
function mergeGlobals(globals: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  return { ...globals, ...own };
}

async function readFunction(
  root: string,
  id: string,
  res: CfnResource,
  globals: Globals,
  ctx: CfnContext,
  problems: ProblemList,
): Promise<FunctionSpec | undefined> {
  const at = `Resources.${id}`;
  const own = isRecord(res.Properties) ? res.Properties : {};
  const p = new Fields(mergeGlobals(globals.raw, own), `${at}.Properties`, problems);
  const name = ctx.functionNames[id];
  p.accept('FunctionName', ...PASSIVE_FUNCTION_PROPS);
  const packageType = p.string('PackageType');
  if (packageType === 'Image' || p.has('ImageUri')) {
    p.accept('ImageUri', 'ImageConfig');
    problems.error(p.key('PackageType'), 'container-image functions are not supported', 'use PackageType Zip with CodeUri and Handler');
    return undefined;
  }
  if (p.has('InlineCode')) {
    p.accept('InlineCode');
    problems.error(p.key('InlineCode'), 'inline code is not supported', 'move the code to a file and point CodeUri at its folder');
    return undefined;
  }
  const handler = p.string('Handler', { required: true });
  const runtime = p.string('Runtime', { required: true });
  if (runtime !== undefined && !runtime.startsWith('nodejs')) problems.error(p.key('Runtime'), `runtime "${runtime}" is not supported`, 'Outpost runs Node.js functions: use nodejs20.x or nodejs22.x');
  p.accept('CodeUri');
  const codeUriRaw = p.raw['CodeUri'] ?? '.';
  let codeUri: string | undefined;
  if (typeof codeUriRaw === 'string') codeUri = codeUriRaw;
  else problems.error(p.key('CodeUri'), 'S3 locations cannot be read locally', 'point CodeUri at the folder holding the source');
  const memoryMb = p.number('MemorySize', { integer: true, min: 128, max: 10240 });
  const timeout = p.number('Timeout', { min: 1, max: 900 });
  const reserved = p.number('ReservedConcurrentExecutions', { integer: true, min: 0, max: 100_000 });
  const provisionedConfig = p.object('ProvisionedConcurrencyConfig');
  const provisioned = provisionedConfig?.number('ProvisionedConcurrentExecutions', { required: true, integer: true, min: 1, max: 100_000 });
  provisionedConfig?.reportUnknown(['ProvisionedConcurrentExecutions']);
  if (reserved !== undefined && provisioned !== undefined && provisioned > reserved) {
    problems.error(p.key('ProvisionedConcurrencyConfig'), `ProvisionedConcurrentExecutions (${provisioned}) exceeds ReservedConcurrentExecutions (${reserved})`, 'provision at most as many as the function may run: lower ProvisionedConcurrentExecutions or raise ReservedConcurrentExecutions');
  }
  // Globals' variables were resolved once (problems name Globals); the function's own merge over them.
  p.accept('Environment');
  const ownEnv = new Fields(own, `${at}.Properties`, problems).object('Environment');
  const vars: Record<string, string> = { ...globals.vars, ...envVariables(ownEnv, ctx, problems) };

  const routes: RouteSpec[] = [];
  const triggers: TriggerSpec[] = [];
  const events = p.object('Events');
  for (const [evName, ev] of Object.entries(events?.raw ?? {})) {
    events?.accept(evName);
    readEvent(evName, ev, `${events?.path ?? ''}.${evName}`, ctx, problems, routes, triggers, globals.apis);
  }
  addPreflightRoutes(routes);
  const asyncPlatform = readEventInvokeConfig(p, ctx, problems);
  p.reportUnknown(['Handler', 'Runtime', 'CodeUri', 'MemorySize', 'Timeout', 'Environment', 'Events', 'FunctionName']);

  // esbuild-built functions name their TypeScript entry in Metadata; it wins over Handler's file.
  const meta = isRecord(res.Metadata) ? res.Metadata : {};
  const buildProps = isRecord(meta['BuildProperties']) ? meta['BuildProperties'] : {};
  const entryPoints = Array.isArray(buildProps['EntryPoints']) ? buildProps['EntryPoints'].filter((e): e is string => typeof e === 'string') : [];

  if (handler === undefined || codeUri === undefined || name === undefined) return undefined;
  const parts = splitHandler(handler);
  if (!parts) {
    problems.error(p.key('Handler'), `"${handler}" is not a handler`, 'write it as `file.exportName`, e.g. `app.handler`');
    return undefined;
  }
  const codeDir = path.resolve(root, codeUri);
  let entry: string | undefined;
  const firstEntryPoint = entryPoints[0];
  if (meta['BuildMethod'] === 'esbuild' && firstEntryPoint !== undefined) {
    entry = await resolveModuleFile(codeDir, firstEntryPoint);
    if (entry === undefined) problems.error(`${at}.Metadata.BuildProperties.EntryPoints[0]`, `no file ${rel(root, path.resolve(codeDir, firstEntryPoint))}`, 'point EntryPoints at the TypeScript or JavaScript source');
  } else {
    entry = await resolveModuleFile(codeDir, parts.module);
    if (entry === undefined) {
      const tried = moduleCandidates(codeDir, parts.module).map((f) => rel(root, f));
      problems.error(p.key('Handler'), `no source file for "${handler}" under CodeUri ${codeUri}`, `create one of ${tried.join(', ')}`);
    }
  }
  if (entry === undefined) return undefined;
  return {
    name,
    style: 'lambda',
    entry,
    handlerExport: parts.exportName,
    vars,
    secrets: {},
    bindings: [],
    routes,
    triggers,
    limits: {
      ...limitsFor('lambda', { memoryMb, timeoutSeconds: timeout }),
      ...(reserved === undefined ? {} : { reservedConcurrency: reserved }),
      ...(provisioned === undefined ? {} : { provisionedConcurrency: provisioned }),
    },
    nodeCompat: true,
    compatibilityFlags: [],
    platform: { runtime: runtime ?? 'nodejs20.x', region: ctx.region, accountId: ACCOUNT_ID, functionName: name, ...asyncPlatform },
  };
}

/**
 * `EventInvokeConfig` (MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig
 * OnSuccess/OnFailure with Type SQS or Lambda and a Destination ARN) → async platform keys.
 */
function readEventInvokeConfig(p: Fields, ctx: CfnContext, problems: ProblemList): Record<string, string> {
  const out: Record<string, string> = {};
  const c = p.object('EventInvokeConfig');
  if (!c) return out;
  const retries = c.number('MaximumRetryAttempts', { integer: true, min: 0, max: 2 });
  if (retries !== undefined) out['asyncRetries'] = String(retries);
  const age = c.number('MaximumEventAgeInSeconds', { integer: true, min: 60, max: 21600 });
  if (age !== undefined) out['asyncMaxAgeSeconds'] = String(age);
  const d = c.object('DestinationConfig');
  for (const [which, key] of [['OnSuccess', 'onSuccess'], ['OnFailure', 'onFailure']] as const) {
    const f = d?.object(which);
    if (!f) continue;
    const type = f.string('Type');
    f.accept('Destination');
    f.reportUnknown(['Type', 'Destination']);
    if (type !== undefined && type !== 'SQS' && type !== 'Lambda') {
      problems.error(f.key('Type'), `${type} destinations are not supported`, 'use Type SQS or Lambda');
      continue;
    }
    const raw = f.raw['Destination'];
    if (raw === undefined) {
      problems.error(f.key('Destination'), 'missing; expected the destination ARN', 'add `Destination: !GetAtt FailedQueue.Arn`');
      continue;
    }
    const arn = resolveString(raw, ctx, f.key('Destination'), problems);
    const dest = arn === undefined ? undefined : destinationOf(arn, f.key('Destination'), problems, false);
    if (dest !== undefined) out[key] = dest;
  }
  d?.reportUnknown(['OnSuccess', 'OnFailure']);
  c.reportUnknown(['MaximumRetryAttempts', 'MaximumEventAgeInSeconds', 'DestinationConfig']);
  return out;
}

/** Properties of the AWS::Serverless::Api / HttpApi an event names (`RestApiId` / `ApiId`); undefined for the implicit API (Globals only). */
function apiProperties(ref: unknown, ctx: CfnContext): Record<string, unknown> | undefined {
  const id = isRecord(ref) && typeof ref['Ref'] === 'string' ? ref['Ref'] : typeof ref === 'string' ? ref : undefined;
  const props = id === undefined ? undefined : ctx.resources[id]?.Properties;
  return isRecord(props) ? props : undefined;
}

/**
 * Throttling as API Gateway applies it: one bucket per route for all callers (`key = "route"`),
 * with AWS's account defaults (10 000 a second, burst 5 000) for a limit that is not set.
 */
function throttling(settings: Record<string, unknown>): RoutePolicySpec['rateLimit'] {
  const rate = settings['ThrottlingRateLimit'];
  const burst = settings['ThrottlingBurstLimit'];
  if (typeof rate !== 'number' && typeof burst !== 'number') return undefined;
  return { rate: typeof rate === 'number' ? Math.max(0, rate) : 10_000, burst: typeof burst === 'number' ? Math.max(0, Math.floor(burst)) : 5_000, key: { by: 'route' } };
}

/**
 * A REST API's MethodSettings for one method: the `/*` and `*` entries, then the ones naming this
 * resource (`ResourcePath` with `/` written `~1`) and method, later ones overriding. Caching needs
 * `CacheClusterEnabled` on the API and `CachingEnabled` on the method; the cache key takes the
 * event's `RequestParameters` marked `Caching: true`.
 */
function restApiPolicies(api: Record<string, unknown>, resource: string, method: string | undefined, requestParameters: unknown): RoutePolicySpec | undefined {
  const list = Array.isArray(api['MethodSettings']) ? api['MethodSettings'].filter(isRecord) : [];
  const specificity = (s: Record<string, unknown>): number => (s['ResourcePath'] === '/*' || s['ResourcePath'] === undefined ? 0 : 2) + (s['HttpMethod'] === '*' || s['HttpMethod'] === undefined ? 0 : 1);
  const applies = list.filter((s) => {
    // `/~1pets~1{id}`: the leading `/` separates, each `~1` is a `/` of the resource path.
    const path = typeof s['ResourcePath'] === 'string' && s['ResourcePath'] !== '/*' ? s['ResourcePath'].slice(1).replaceAll('~1', '/') : '/*';
    const verb = typeof s['HttpMethod'] === 'string' ? s['HttpMethod'].toUpperCase() : '*';
    return (path === '/*' || path === resource) && (verb === '*' || verb === method);
  });
  const settings: Record<string, unknown> = {};
  for (const s of applies.sort((a, b) => specificity(a) - specificity(b))) Object.assign(settings, s);
  const policies: RoutePolicySpec = {};
  const ttl = typeof settings['CacheTtlInSeconds'] === 'number' ? settings['CacheTtlInSeconds'] : 300;
  if (api['CacheClusterEnabled'] === true && settings['CachingEnabled'] === true && ttl > 0) {
    const keyQuery: string[] = [];
    const keyHeaders: string[] = [];
    for (const entry of Array.isArray(requestParameters) ? requestParameters.filter(isRecord) : []) {
      for (const [name, options] of Object.entries(entry)) {
        if (!isRecord(options) || options['Caching'] !== true) continue;
        const query = /^method\.request\.querystring\.(.+)$/.exec(name)?.[1];
        const header = /^method\.request\.header\.(.+)$/.exec(name)?.[1];
        if (query) keyQuery.push(query);
        if (header) keyHeaders.push(header.toLowerCase());
      }
    }
    policies.cache = { ttlSeconds: Math.min(3600, Math.floor(ttl)), keyQuery, keyHeaders, statuses: [200] };
  }
  const rateLimit = throttling(settings);
  if (rateLimit) policies.rateLimit = rateLimit;
  return policies.cache || policies.rateLimit ? policies : undefined;
}

/** An HTTP API route's throttling: the event's RouteSettings, else the API's RouteSettings for `routeKey`, else its DefaultRouteSettings. */
function httpApiPolicies(api: Record<string, unknown>, routeKey: string, eventSettings: unknown): RoutePolicySpec | undefined {
  const perRoute = isRecord(api['RouteSettings']) ? api['RouteSettings'][routeKey] : undefined;
  const settings = { ...(isRecord(api['DefaultRouteSettings']) ? api['DefaultRouteSettings'] : {}), ...(isRecord(perRoute) ? perRoute : {}), ...(isRecord(eventSettings) ? eventSettings : {}) };
  const rateLimit = throttling(settings);
  return rateLimit ? { rateLimit } : undefined;
}

/** Both halves of a route's policies, or undefined when neither has any. */
function withAuth(a: RoutePolicySpec | undefined, b: RoutePolicySpec | undefined): RoutePolicySpec | undefined {
  return a || b ? { ...a, ...b } : undefined;
}

/**
 * The auth and CORS policies of an Api/HttpApi event: its API's CORS (`Cors` /
 * `CorsConfiguration`), the authorizer the event names (`Auth.Authorizer`, else the API's
 * `DefaultAuthorizer`; `NONE` opts out) with the event's `AuthorizationScopes`, and
 * `ApiKeyRequired` with the API's `UsagePlan` and the template's AWS::ApiGateway::ApiKey values.
 * The API is the resource `RestApiId`/`ApiId` references, or the implicit one in Globals.
 */
function samRoutePolicies(kind: 'Api' | 'HttpApi', event: Fields, ctx: CfnContext, implicit: Record<string, unknown>, problems: ProblemList): RoutePolicySpec | undefined {
  const ref = event.raw[kind === 'Api' ? 'RestApiId' : 'ApiId'];
  const id = isRecord(ref) && typeof ref['Ref'] === 'string' ? ref['Ref'] : typeof ref === 'string' ? ref : undefined;
  const api = new Fields(apiProperties(ref, ctx) ?? (id === undefined ? implicit : {}), id === undefined ? `Globals.${kind}` : `Resources.${id}.Properties`, problems);
  const policies: RoutePolicySpec = {};
  const cors = kind === 'Api' ? readSamRestCors(api.raw['Cors'], api.key('Cors'), problems) : readSamHttpApiCors(api.raw['CorsConfiguration'], api.key('CorsConfiguration'), problems);
  if (cors) policies.cors = cors;
  const apiAuth = isRecord(api.raw['Auth']) ? new Fields(api.raw['Auth'], api.key('Auth'), problems) : undefined;
  const eventAuth = isRecord(event.raw['Auth']) ? event.raw['Auth'] : {};
  const chosen = typeof eventAuth['Authorizer'] === 'string' ? eventAuth['Authorizer'] : apiAuth?.string('DefaultAuthorizer');
  if (chosen === 'AWS_IAM') problems.error(event.key('Auth.Authorizer'), 'IAM authorization is not served, and the route would be open', 'use a JWT or FunctionArn authorizer, or NONE to make the route public');
  else if (chosen !== undefined && chosen !== 'NONE') {
    const def = apiAuth?.object('Authorizers')?.object(chosen);
    if (!def) problems.error(event.key('Auth.Authorizer'), `no authorizer named "${chosen}" in ${api.path}.Auth.Authorizers`, 'declare it there, or use NONE');
    else if (def.has('JwtConfiguration')) {
      const jwtConfig = def.object('JwtConfiguration');
      const jwt = jwtFromApiGateway({ issuer: jwtConfig?.string('issuer'), audience: jwtConfig?.raw['audience'], identitySource: def.raw['IdentitySource'] }, def.path, problems);
      if (jwt) policies.jwt = { ...jwt, scopes: scopesOf(eventAuth['AuthorizationScopes']) };
    } else if (def.has('FunctionArn')) {
      const arn = resolveString(def.raw['FunctionArn'], ctx, def.key('FunctionArn'), problems);
      const fn = arn?.split(':function:')[1]?.split(':')[0] ?? arn;
      if (fn !== undefined) policies.authorizer = readSamAuthorizer(def, fn, kind === 'Api');
    } else problems.error(def.path, 'this authorizer type is not served (Cognito user pools), and the route would be open', 'use a JwtConfiguration (Cognito is an OIDC issuer) or a FunctionArn authorizer');
  }
  const keyRequired = typeof eventAuth['ApiKeyRequired'] === 'boolean' ? eventAuth['ApiKeyRequired'] : apiAuth?.raw['ApiKeyRequired'] === true;
  if (kind === 'Api' && keyRequired) {
    const keys: Array<{ name: string; value?: string }> = [];
    for (const [keyId, res] of Object.entries(ctx.resources)) {
      if (res.Type !== 'AWS::ApiGateway::ApiKey') continue;
      const props = isRecord(res.Properties) ? res.Properties : {};
      const name = props['Name'] === undefined ? keyId : resolveString(props['Name'], ctx, `Resources.${keyId}.Properties.Name`, problems);
      const value = props['Value'] === undefined ? undefined : resolveString(props['Value'], ctx, `Resources.${keyId}.Properties.Value`, problems);
      if (name !== undefined) keys.push({ name, ...(value === undefined ? {} : { value }) });
    }
    policies.apiKey = readSamApiKeys(apiAuth?.object('UsagePlan'), keys);
  }
  return Object.keys(policies).length > 0 ? policies : undefined;
}

/** StageName of the AWS::Serverless::Api / HttpApi an event names, or the implicit API's stage. */
function stageOf(ref: unknown, fallback: string, ctx: CfnContext): string {
  const id = isRecord(ref) && typeof ref['Ref'] === 'string' ? ref['Ref'] : typeof ref === 'string' ? ref : undefined;
  const props = id === undefined ? undefined : ctx.resources[id]?.Properties;
  const stage = isRecord(props) ? props['StageName'] : undefined;
  return typeof stage === 'string' ? stage : fallback;
}

function readEvent(
  evName: string,
  ev: unknown,
  at: string,
  ctx: CfnContext,
  problems: ProblemList,
  routes: RouteSpec[],
  triggers: TriggerSpec[],
  implicitApis: Globals['apis'],
): void {
  if (!isRecord(ev)) {
    problems.error(at, 'expected a table with Type and Properties');
    return;
  }
  const e = new Fields(ev, at, problems);
  const type = e.string('Type', { required: true });
  const p = e.object('Properties') ?? new Fields({}, `${at}.Properties`, problems);
  e.reportUnknown(['Type', 'Properties']);
  switch (type) {
    case undefined:
      return;
    case 'Api': {
      const rawPath = p.string('Path', { required: true });
      const rawMethod = p.string('Method', { required: true });
      p.accept('RestApiId', 'Auth', 'RequestModel', 'RequestParameters', 'TimeoutInMillis', 'ResponseTransferMode');
      p.reportUnknown(['Path', 'Method', 'RestApiId', 'Auth']);
      if (rawPath === undefined || rawMethod === undefined) return;
      const route = joinUrlPath(rawPath);
      const method = normalizeMethod(rawMethod);
      const policies = withAuth(restApiPolicies({ ...implicitApis.Api, ...apiProperties(p.raw['RestApiId'], ctx) }, route, method, p.raw['RequestParameters']), samRoutePolicies('Api', p, ctx, implicitApis.Api, problems));
      routes.push({
        path: route,
        ...(method === undefined ? {} : { method }),
        event: { kind: 'api-gateway', payloadVersion: '1.0', resource: route, stage: stageOf(p.raw['RestApiId'], 'Prod', ctx) },
        ...(policies ? { policies } : {}),
      });
      return;
    }
    case 'HttpApi': {
      const rawPath = p.string('Path');
      const rawMethod = p.string('Method');
      const version = p.string('PayloadFormatVersion') ?? '2.0';
      if (version !== '1.0' && version !== '2.0') problems.error(p.key('PayloadFormatVersion'), `"${version}" is not a payload version`, "use '1.0' or '2.0'");
      p.accept('ApiId', 'Auth', 'RouteSettings', 'TimeoutInMillis');
      p.reportUnknown(['Path', 'Method', 'ApiId', 'Auth', 'PayloadFormatVersion', 'RouteSettings', 'TimeoutInMillis']);
      const payloadVersion = version === '1.0' ? '1.0' : '2.0';
      const stage = stageOf(p.raw['ApiId'], '$default', ctx);
      if (rawPath === undefined) {
        if (rawMethod !== undefined) problems.error(p.key('Path'), 'missing; Method without Path', 'add Path, or remove Method for the $default catch-all route');
        else {
          const auth = samRoutePolicies('HttpApi', p, ctx, implicitApis.HttpApi, problems);
          routes.push({ path: '/*', event: { kind: 'api-gateway', payloadVersion, resource: '$default', stage }, ...(auth ? { policies: auth } : {}) });
        }
        return;
      }
      const route = joinUrlPath(rawPath);
      const method = rawMethod === undefined ? undefined : normalizeMethod(rawMethod);
      const policies = withAuth(httpApiPolicies({ ...implicitApis.HttpApi, ...apiProperties(p.raw['ApiId'], ctx) }, `${rawMethod === undefined ? 'ANY' : rawMethod.toUpperCase()} ${rawPath}`, p.raw['RouteSettings']), samRoutePolicies('HttpApi', p, ctx, implicitApis.HttpApi, problems));
      routes.push({ path: route, ...(method === undefined ? {} : { method }), event: { kind: 'api-gateway', payloadVersion, resource: route, stage }, ...(policies ? { policies } : {}) });
      return;
    }
    case 'Schedule':
    case 'ScheduleV2': {
      const v2 = type === 'ScheduleV2';
      const expression = p.string(v2 ? 'ScheduleExpression' : 'Schedule', { required: true });
      const timezone = v2 ? p.string('ScheduleExpressionTimezone') : undefined;
      const enabled = v2 ? undefined : p.boolean('Enabled');
      const state = p.string('State');
      p.accept('Input', 'Name', 'Description', 'DeadLetterConfig', 'RetryPolicy', 'Target', 'FlexibleTimeWindow', 'GroupName', 'KmsKeyArn', 'OmitName', 'PermissionsBoundary', 'RoleArn', 'StartDate', 'EndDate');
      p.reportUnknown([v2 ? 'ScheduleExpression' : 'Schedule', 'State', 'Input', 'Name', 'Description']);
      if (expression === undefined || enabled === false || state === 'DISABLED') return;
      if (!/^(rate|cron|at)\(.+\)$/.test(expression.trim())) {
        problems.error(p.key(v2 ? 'ScheduleExpression' : 'Schedule'), `"${expression}" is not a schedule expression`, 'use rate(5 minutes) or cron(0 12 * * ? *)');
        return;
      }
      triggers.push({ type: 'cron', expression: expression.trim(), ...(timezone === undefined ? {} : { timezone }) });
      return;
    }
    case 'SQS': {
      p.accept('Queue');
      const q = p.raw['Queue'];
      if (q === undefined) problems.error(p.key('Queue'), 'missing; expected the queue ARN', 'add `Queue: !GetAtt MyQueue.Arn`');
      const arn = q === undefined ? undefined : resolveString(q, ctx, p.key('Queue'), problems);
      const batch = p.number('BatchSize', { integer: true, min: 1, max: 10000 });
      const window = p.number('MaximumBatchingWindowInSeconds', { min: 0, max: 300 });
      const enabled = p.boolean('Enabled');
      const scaling = p.object('ScalingConfig');
      const maxConc = scaling?.number('MaximumConcurrency', { integer: true, min: 2, max: 1000 });
      scaling?.reportUnknown(['MaximumConcurrency']);
      p.accept('FunctionResponseTypes', 'FilterCriteria', 'KmsKeyArn', 'MetricsConfig');
      p.reportUnknown(['Queue', 'BatchSize', 'MaximumBatchingWindowInSeconds', 'Enabled', 'ScalingConfig', 'FunctionResponseTypes', 'FilterCriteria']);
      if (arn === undefined || enabled === false) return;
      const queue = queueNameFromArnOrUrl(arn);
      triggers.push({
        type: 'queue',
        queue,
        ...queueSettings(ctx, queue),
        ...(batch === undefined ? {} : { maxBatchSize: batch }),
        ...(window === undefined ? {} : { maxBatchTimeoutSeconds: window }),
        ...(maxConc === undefined ? {} : { maxConcurrency: maxConc }),
      });
      return;
    }
    case 'S3': {
      p.accept('Bucket', 'Events');
      const b = p.raw['Bucket'];
      if (b === undefined) problems.error(p.key('Bucket'), 'missing; expected `!Ref` of a bucket in this template', 'add `Bucket: !Ref MyBucket`');
      // SAM requires the bucket to be declared in the same template; !Ref gives its name.
      const bucketRaw = b === undefined ? undefined : resolveString(b, ctx, p.key('Bucket'), problems);
      const ev2 = p.raw['Events'];
      const evs = typeof ev2 === 'string' ? [ev2] : Array.isArray(ev2) && ev2.every((x) => typeof x === 'string') ? (ev2 as string[]) : undefined;
      if (evs === undefined) problems.error(p.key('Events'), ev2 === undefined ? 'missing; expected s3 event names' : 'expected an event name or a list of them', "add `Events: s3:ObjectCreated:*`");
      let prefix: string | undefined;
      let suffix: string | undefined;
      const filter = p.object('Filter');
      const s3Key = filter?.object('S3Key');
      for (const r of s3Key?.objects('Rules') ?? []) {
        const n = r.string('Name', { required: true });
        const v = r.string('Value', { required: true });
        r.reportUnknown(['Name', 'Value']);
        if (n?.toLowerCase() === 'prefix') prefix = v;
        else if (n?.toLowerCase() === 'suffix') suffix = v;
        else if (n !== undefined) problems.error(r.key('Name'), `"${n}" is not a rule name`, 'use prefix or suffix');
      }
      filter?.reportUnknown(['S3Key']);
      s3Key?.reportUnknown(['Rules']);
      p.reportUnknown(['Bucket', 'Events', 'Filter']);
      if (bucketRaw === undefined || evs === undefined) return;
      triggers.push({
        type: 'object',
        bucket: bucketNameFromArn(bucketRaw),
        events: evs,
        ...(prefix === undefined ? {} : { prefix }),
        ...(suffix === undefined ? {} : { suffix }),
      });
      return;
    }
    default:
      if (IGNORED_EVENTS.has(type)) problems.warn(e.key('Type'), `${type} events are not served by Outpost; event ${evName} ignored`);
      else problems.warn(e.key('Type'), `unknown event type "${type}"; event ${evName} ignored`);
  }
}

async function readDefinitionFile(root: string, file: string, extra: ProblemList[], configFiles: string[]): Promise<unknown> {
  const relPath = rel(root, file);
  const fp = new ProblemList(relPath);
  extra.push(fp);
  configFiles.push(relPath);
  const text = await readTextIfExists(file);
  if (text === undefined) {
    fp.error('', 'file not found');
    return undefined;
  }
  if (/\.json$/i.test(file)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      fp.error('', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 'fix the JSON syntax');
      return undefined;
    }
  }
  return parseCfnYaml(text, fp);
}

async function readStateMachine(
  root: string,
  id: string,
  res: CfnResource,
  ctx: CfnContext,
  problems: ProblemList,
  extra: ProblemList[],
  configFiles: string[],
): Promise<StateMachineSpec | undefined> {
  const at = `Resources.${id}.Properties`;
  const p = new Fields(isRecord(res.Properties) ? res.Properties : {}, at, problems);
  const serverless = res.Type === 'AWS::Serverless::StateMachine';
  const nameKey = serverless ? 'Name' : 'StateMachineName';
  const typeKey = serverless ? 'Type' : 'StateMachineType';
  p.accept(nameKey, 'Definition', 'DefinitionUri', 'DefinitionString', 'DefinitionS3Location', 'DefinitionSubstitutions');
  p.accept('Policies', 'Role', 'RoleArn', 'Logging', 'LoggingConfiguration', 'Tracing', 'TracingConfiguration', 'Events', 'Tags', 'PermissionsBoundary', 'AutoPublishAlias', 'DeploymentPreference', 'RolePath', 'UseAliasAsEventTarget', 'EncryptionConfiguration');
  const name = p.raw[nameKey] === undefined ? id : resolveString(p.raw[nameKey], ctx, p.key(nameKey), problems);
  const typeRaw = p.string(typeKey) ?? 'STANDARD';
  if (typeRaw !== 'STANDARD' && typeRaw !== 'EXPRESS') problems.error(p.key(typeKey), `"${typeRaw}" is not a state machine type`, 'use STANDARD or EXPRESS');
  if (isRecord(p.raw['Events']) && Object.keys(p.raw['Events']).length > 0) problems.warn(p.key('Events'), 'state machine events are not served; start executions through the Step Functions API');

  let definition: unknown;
  const uri = p.raw['DefinitionUri'];
  if (p.raw['Definition'] !== undefined) definition = resolveIntrinsics(p.raw['Definition'], ctx, p.key('Definition'), problems);
  else if (typeof uri === 'string') definition = await readDefinitionFile(root, path.resolve(root, uri), extra, configFiles);
  else if (uri !== undefined || p.raw['DefinitionS3Location'] !== undefined) {
    problems.error(p.key(uri !== undefined ? 'DefinitionUri' : 'DefinitionS3Location'), 'S3 locations cannot be read locally', 'point DefinitionUri at a file next to the template');
    return undefined;
  } else if (p.raw['DefinitionString'] !== undefined) {
    const s = resolveString(p.raw['DefinitionString'], ctx, p.key('DefinitionString'), problems);
    if (s === undefined) return undefined;
    try {
      definition = JSON.parse(s);
    } catch {
      problems.error(p.key('DefinitionString'), 'is not valid JSON after substitution', 'check the Amazon States Language JSON');
      return undefined;
    }
  } else {
    problems.error(at, 'no definition', serverless ? 'add Definition or DefinitionUri' : 'add Definition or DefinitionString');
    return undefined;
  }
  if (definition === undefined) return undefined;

  const subs: Record<string, string> = {};
  const subsF = p.object('DefinitionSubstitutions');
  for (const [k, v] of Object.entries(subsF?.raw ?? {})) {
    subsF?.accept(k);
    const s = resolveString(v, ctx, `${subsF?.path ?? ''}.${k}`, problems);
    if (s !== undefined) subs[k] = s;
  }
  p.reportUnknown([nameKey, typeKey, 'Definition', 'DefinitionUri', 'DefinitionSubstitutions', 'Policies', 'Role', 'Logging', 'Tracing', 'Events']);
  if (name === undefined) return undefined;
  return { name, definition: substitutePlaceholders(definition, subs), type: typeRaw === 'EXPRESS' ? 'EXPRESS' : 'STANDARD' };
}
