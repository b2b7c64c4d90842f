/**
 * @module
 * Lambda authorizers like API Gateway's: before the route's function runs, another function of
 * the project is invoked (through the node's one dispatch path) with API Gateway's authorizer
 * event and decides. Payload 2.0 (HTTP API) answers `{ isAuthorized, context }` with simple
 * responses, otherwise — and always for REST (1.0) — an IAM policy document whose `Allow` /
 * `Deny` statements are matched against the route's ARN (`Deny` wins, `*` and `?` wildcards).
 *
 * Decisions, following AWS:
 * - A request without every identity source answers 401 without invoking the authorizer.
 * - Answers are cached per identity-source values for `ttlSeconds` (node state, shared by the
 *   routes that use the same authorizer), so the authorizer runs once per identity per TTL;
 *   concurrent first requests share one invocation. Failures are not cached.
 *   A cached IAM policy is re-evaluated against each route's ARN, as API Gateway does.
 * - An authorizer that throws `Unauthorized` answers 401 (the AWS contract for token
 *   authorizers); any other failure is `AUTHORIZER_FAILED` (500), never an open door.
 * - What the authorizer returned is carried flat (`{ ...context, principalId }`, REST's shape;
 *   later policies read claims from it) and the Lambda adapter shapes it per payload version
 *   (2.0: `requestContext.authorizer.lambda`).
 * - Path parameters are not known before dispatch, so the event's `pathParameters` is empty.
 *
 * The config readers live here too: serverless `provider.httpApi.authorizers` (JWT and request
 * types) and REST `http.authorizer`, SAM `FunctionArn` authorizers, outpost.toml `authorizer`.
 */
import { OutpostError } from '../errors.ts';
import { Fields, isRecord } from '../project/fields.ts';
import type { ProblemList } from '../project/problems.ts';
import type { FunctionSpec, IdentitySource, LambdaAuthorizerSpec, RoutePolicySpec } from '../project/spec.ts';
import { DEFAULT_ACCOUNT_ID, DEFAULT_API_ID } from '../runtime/adapters/lambda-http.ts';
import type { PolicyNode, PolicyScope } from './index.ts';
import { forbidden, identityValue, jwtFromApiGateway, parseIdentitySource, scopesOf, unauthorized } from './jwt.ts';
import type { PolicyDecision, PolicyRequest, RoutePolicy } from './policy.ts';

const DEFAULT_TTL_SECONDS = 300;
/** Most cached answers per authorizer; the oldest go first. */
const CACHE_ENTRIES = 10_000;

function identitySources(value: unknown, at: string, problems: ProblemList): IdentitySource[] {
  const texts = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  const out: IdentitySource[] = [];
  for (const text of texts) {
    const source = typeof text === 'string' ? parseIdentitySource(text) : undefined;
    if (source) out.push(source);
    else problems.error(at, `${JSON.stringify(text)} is not an identity source`, 'use "$request.header.Authorization" or "$request.querystring.token"');
  }
  return out;
}

/** outpost.toml `authorizer = { function, identity_source, simple_responses, ttl_seconds, payload_version }`. */
export function readAuthorizerRule(rule: Fields, policies: RoutePolicySpec): void {
  const f = rule.object('authorizer');
  if (!f) return;
  const fn = f.string('function', { required: true });
  f.accept('identity_source');
  const version = f.string('payload_version') ?? '2.0';
  if (version !== '1.0' && version !== '2.0') f.problems.error(f.key('payload_version'), `"${version}" is not a payload version`, "use '2.0' (HTTP API) or '1.0' (REST)");
  const spec: LambdaAuthorizerSpec = {
    function: fn ?? '',
    type: 'REQUEST',
    identitySource: f.has('identity_source') ? identitySources(f.raw['identity_source'], f.key('identity_source'), f.problems) : [{ in: 'header', name: 'authorization' }],
    payloadVersion: version === '1.0' ? '1.0' : '2.0',
    simpleResponses: f.boolean('simple_responses') ?? version !== '1.0',
    ttlSeconds: f.number('ttl_seconds', { integer: true, min: 0, max: 3600 }) ?? DEFAULT_TTL_SECONDS,
  };
  f.reportUnknown(['function', 'identity_source', 'simple_responses', 'ttl_seconds', 'payload_version']);
  if (fn !== undefined) policies.authorizer = spec;
}

/** serverless `provider.httpApi.authorizers.<name>` with `type: request`. */
export function readServerlessHttpApiAuthorizer(f: Fields, payloadVersion: '1.0' | '2.0'): LambdaAuthorizerSpec | undefined {
  const fn = f.string('functionName', { required: true });
  f.accept('identitySource');
  const version = f.string('payloadVersion') ?? payloadVersion;
  const spec: LambdaAuthorizerSpec = {
    function: fn ?? '',
    type: 'REQUEST',
    identitySource: f.has('identitySource') ? identitySources(f.raw['identitySource'], f.key('identitySource'), f.problems) : [],
    payloadVersion: version === '1.0' ? '1.0' : '2.0',
    simpleResponses: f.boolean('enableSimpleResponses') ?? false,
    ttlSeconds: f.number('resultTtlInSeconds', { integer: true, min: 0, max: 3600 }) ?? DEFAULT_TTL_SECONDS,
  };
  f.accept('functionArn', 'managedExternally', 'name', 'type');
  return fn === undefined ? undefined : spec;
}

/** serverless REST `http.authorizer`: a function name, or `{ name, type, identitySource, resultTtlInSeconds }`. */
export function readServerlessRestAuthorizer(value: unknown, at: string, problems: ProblemList): LambdaAuthorizerSpec | undefined {
  const spec: LambdaAuthorizerSpec = { function: '', type: 'TOKEN', identitySource: [{ in: 'header', name: 'authorization' }], payloadVersion: '1.0', simpleResponses: false, ttlSeconds: DEFAULT_TTL_SECONDS };
  if (value === 'aws_iam' || (isRecord(value) && value['type'] === 'aws_iam')) {
    problems.error(at, 'IAM authorization is not served, and the route would be open', 'use a Lambda (token or request) authorizer, or remove the authorizer to make the route public');
    return undefined;
  }
  if (typeof value === 'string') return { ...spec, function: value };
  if (!isRecord(value)) {
    problems.error(at, 'expected a function name or a table with name');
    return undefined;
  }
  const f = new Fields(value, at, problems);
  const name = f.string('name', { required: true });
  const type = (f.string('type') ?? 'token').toUpperCase();
  if (type !== 'TOKEN' && type !== 'REQUEST') problems.error(f.key('type'), `authorizer type "${type}" is not served`, 'use token or request (Cognito user pools: use an httpApi JWT authorizer)');
  f.accept('identitySource');
  if (f.has('identitySource')) spec.identitySource = identitySources(f.raw['identitySource'], f.key('identitySource'), problems);
  spec.ttlSeconds = f.number('resultTtlInSeconds', { integer: true, min: 0, max: 3600 }) ?? DEFAULT_TTL_SECONDS;
  f.accept('arn', 'identityValidationExpression', 'managedExternally', 'scopes', 'claims');
  f.reportUnknown(['name', 'type', 'identitySource', 'resultTtlInSeconds']);
  return name === undefined ? undefined : { ...spec, function: name, type: type === 'REQUEST' ? 'REQUEST' : 'TOKEN' };
}

/**
 * SAM `Auth.Authorizers.<name>` with `FunctionArn` (the function's name already resolved):
 * Api `FunctionPayloadType` + `Identity.Header/Headers/QueryStrings/ReauthorizeEvery`, HttpApi
 * `AuthorizerPayloadFormatVersion`, `EnableSimpleResponses`, `Identity.Headers/QueryStrings`.
 */
export function readSamAuthorizer(f: Fields, fn: string, rest: boolean): LambdaAuthorizerSpec {
  const identity = f.object('Identity');
  const sources: IdentitySource[] = [];
  const header = identity?.string('Header');
  if (header !== undefined) sources.push({ in: 'header', name: header.toLowerCase() });
  for (const h of identity?.stringArray('Headers') ?? []) sources.push({ in: 'header', name: h.toLowerCase() });
  for (const q of identity?.stringArray('QueryStrings') ?? []) sources.push({ in: 'query', name: q });
  const ttl = identity?.number('ReauthorizeEvery', { integer: true, min: 0, max: 3600 });
  identity?.accept('StageVariables', 'Context', 'ValidationExpression');
  identity?.reportUnknown(['Header', 'Headers', 'QueryStrings', 'ReauthorizeEvery']);
  const type = rest ? (f.string('FunctionPayloadType') ?? 'TOKEN') : 'REQUEST';
  const version = rest ? '1.0' : (f.string('AuthorizerPayloadFormatVersion') ?? '2.0');
  const simple = rest ? false : (f.boolean('EnableSimpleResponses') ?? false);
  f.accept('FunctionInvokeRole', 'FunctionArn', 'DisableFunctionDefaultPermissions');
  return {
    function: fn,
    type: type === 'REQUEST' ? 'REQUEST' : 'TOKEN',
    identitySource: sources.length > 0 ? sources : [{ in: 'header', name: 'authorization' }],
    payloadVersion: version === '1.0' ? '1.0' : '2.0',
    simpleResponses: simple,
    ttlSeconds: ttl ?? DEFAULT_TTL_SECONDS,
  };
}

interface RouteFacts {
  region: string;
  accountId: string;
  stage: string;
  /** `/items/{id}` */
  resource: string;
}

function flatHeaders(request: PolicyRequest): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    multi[name] = values;
    single[name] = values.join(',');
  }
  return { single, multi };
}

function queryMaps(search: string): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    (multi[name] ??= []).push(value);
    single[name] = multi[name].join(',');
  }
  return { single, multi };
}

/** `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>` */
function routeArn(facts: RouteFacts, request: PolicyRequest): string {
  return `arn:aws:execute-api:${facts.region}:${facts.accountId}:${DEFAULT_API_ID}/${facts.stage}/${request.method}${request.path}`;
}

/** API Gateway's authorizer event for `request`. */
export function authorizerEvent(spec: LambdaAuthorizerSpec, facts: RouteFacts, request: PolicyRequest, identity: string[]): Record<string, unknown> {
  const arn = routeArn(facts, request);
  if (spec.type === 'TOKEN') return { type: 'TOKEN', authorizationToken: identity[0] ?? '', methodArn: arn };
  const headers = flatHeaders(request);
  const query = queryMaps(request.search);
  const now = new Date();
  if (spec.payloadVersion === '1.0') {
    return {
      type: 'REQUEST',
      methodArn: arn,
      resource: facts.resource,
      path: request.path,
      httpMethod: request.method,
      headers: headers.single,
      multiValueHeaders: headers.multi,
      queryStringParameters: query.single,
      multiValueQueryStringParameters: query.multi,
      pathParameters: {},
      stageVariables: {},
      requestContext: {
        accountId: facts.accountId,
        apiId: DEFAULT_API_ID,
        httpMethod: request.method,
        path: request.path,
        resourcePath: facts.resource,
        stage: facts.stage,
        requestId: request.requestId,
        identity: { sourceIp: request.ip, userAgent: headers.single['user-agent'] ?? null },
        requestTimeEpoch: now.getTime(),
      },
    };
  }
  const routeKey = facts.resource === '$default' ? '$default' : `${request.method} ${facts.resource}`;
  const cookies = headers.single['cookie']?.split(';').map((c) => c.trim()).filter((c) => c !== '');
  const { cookie: _cookie, ...withoutCookie } = headers.single;
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: arn,
    identitySource: identity,
    routeKey,
    rawPath: request.path,
    rawQueryString: request.search.replace(/^\?/, ''),
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers: withoutCookie,
    queryStringParameters: query.single,
    requestContext: {
      accountId: facts.accountId,
      apiId: DEFAULT_API_ID,
      domainName: request.host,
      http: { method: request.method, path: request.path, protocol: 'HTTP/1.1', sourceIp: request.ip, userAgent: headers.single['user-agent'] ?? '' },
      requestId: request.requestId,
      routeKey,
      stage: facts.stage,
      timeEpoch: now.getTime(),
    },
    pathParameters: {},
    stageVariables: {},
  };
}

/** `*` matches any run of characters, `?` one, as in IAM resource patterns. */
function arnMatches(pattern: string, arn: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(arn);
}

function listOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Allow when some statement allows `execute-api:Invoke` on `arn` and none denies it. */
export function policyAllows(document: unknown, arn: string): boolean {
  if (!isRecord(document)) return false;
  const statements = Array.isArray(document['Statement']) ? document['Statement'] : [document['Statement']];
  let allowed = false;
  for (const s of statements) {
    if (!isRecord(s)) continue;
    const actions = listOf(s['Action']);
    if (!actions.some((a) => a === '*' || a === 'execute-api:*' || a.toLowerCase() === 'execute-api:invoke')) continue;
    if (!listOf(s['Resource']).some((r) => arnMatches(r, arn))) continue;
    if (s['Effect'] === 'Deny') return false;
    if (s['Effect'] === 'Allow') allowed = true;
  }
  return allowed;
}

type Answer = { unauthorized: true } | { result: unknown };

/** An answer (or the invocation that will give it, so concurrent requests share one), until `expires`. */
interface CachedAnswer {
  answer: Promise<Answer>;
  expires: number;
}

/** The policy for one route's {@link LambdaAuthorizerSpec}. */
export function lambdaAuthorizerPolicy(spec: LambdaAuthorizerSpec, node: PolicyNode, facts: RouteFacts): RoutePolicy {
  const cache = node.state(`authorizer:${spec.function}:${spec.type}:${spec.payloadVersion}:${JSON.stringify(spec.identitySource)}`, () => new Map<string, CachedAnswer>());
  const ask = async (request: PolicyRequest, identity: string[]): Promise<Answer> => {
    try {
      const { result } = await node.invoke(spec.function, 'invoke', authorizerEvent(spec, facts, request, identity), { requestId: request.requestId, trigger: 'invoke' });
      return { result };
    } catch (error) {
      const userError = (error as { userError?: { message?: string } }).userError;
      if (userError?.message === 'Unauthorized') return { unauthorized: true };
      throw new OutpostError('AUTHORIZER_FAILED', `the authorizer ${spec.function} of ${request.functionName} failed: ${(error as Error).message}`, {
        status: 500,
        cause: error,
        hint: `the authorizer must return ${spec.simpleResponses ? '{ isAuthorized, context }' : 'an IAM policy { principalId, policyDocument }'}; see its logs (outpost logs ${spec.function})`,
      });
    }
  };
  return {
    name: 'lambda-authorizer',
    async decide(request): Promise<PolicyDecision> {
      const identity: string[] = [];
      for (const source of spec.identitySource) {
        const value = identityValue(request, source);
        if (value === undefined) return unauthorized();
        identity.push(value);
      }
      const key = identity.join('\u0000');
      const now = node.now();
      let cached = spec.ttlSeconds > 0 && identity.length > 0 ? cache.get(key) : undefined;
      if (cached && cached.expires <= now) {
        cache.delete(key);
        cached = undefined;
      }
      let pending = cached?.answer;
      if (!pending) {
        pending = ask(request, identity);
        if (spec.ttlSeconds > 0 && identity.length > 0) {
          if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
          const entry = { answer: pending, expires: now + spec.ttlSeconds * 1000 };
          cache.set(key, entry);
          // A failure is not an answer: the next request asks again.
          pending.catch(() => {
            if (cache.get(key) === entry) cache.delete(key);
          });
        }
      }
      const answer = await pending;
      if ('unauthorized' in answer) return unauthorized();
      return judge(spec, answer.result, routeArn(facts, request), request);
    },
  };
}

function judge(spec: LambdaAuthorizerSpec, result: unknown, arn: string, request: PolicyRequest): PolicyDecision {
  if (!isRecord(result)) {
    throw new OutpostError('AUTHORIZER_FAILED', `the authorizer ${spec.function} of ${request.functionName} returned ${result === null ? 'null' : typeof result}, not an object`, {
      status: 500,
      hint: spec.simpleResponses ? 'return { isAuthorized: true|false, context }' : 'return { principalId, policyDocument: { Version, Statement } }',
    });
  }
  const context = isRecord(result['context']) ? result['context'] : {};
  if (spec.simpleResponses && spec.payloadVersion === '2.0') {
    return result['isAuthorized'] === true ? { authorizer: { ...context } } : forbidden();
  }
  if (spec.payloadVersion === '1.0' && Object.values(context).some((v) => v !== null && typeof v === 'object')) {
    throw new OutpostError('AUTHORIZER_FAILED', `the authorizer ${spec.function} of ${request.functionName} returned a context with nested values`, {
      status: 500,
      hint: 'REST authorizer contexts hold only strings, numbers and booleans at the top level (API Gateway refuses others too); JSON-encode nested data',
    });
  }
  if (!policyAllows(result['policyDocument'], arn)) return forbidden();
  const principalId = typeof result['principalId'] === 'string' ? result['principalId'] : undefined;
  return { authorizer: { ...context, ...(principalId === undefined ? {} : { principalId }) } };
}

export function lambdaAuthorizerFactory(scope: PolicyScope): RoutePolicy | undefined {
  const spec = scope.route.policies?.authorizer;
  if (!spec) return undefined;
  const event = scope.route.event;
  return lambdaAuthorizerPolicy(spec, scope.node, {
    region: scope.manifest.platform['region'] ?? 'us-east-1',
    accountId: scope.manifest.platform['accountId'] ?? DEFAULT_ACCOUNT_ID,
    stage: event.kind === 'api-gateway' ? event.stage : '$default',
    resource: event.kind === 'api-gateway' ? event.resource : scope.route.path,
  });
}

/**
 * serverless `provider.httpApi.authorizers`: each named authorizer as the route policies it
 * gives a route — a JWT authorizer (`identitySource`, `issuerUrl`, `audience`; the default
 * type) or a Lambda one (`type: request`).
 */
export function readServerlessHttpApiAuthorizers(httpApi: Fields | undefined, payloadVersion: '1.0' | '2.0'): Map<string, RoutePolicySpec> {
  const out = new Map<string, RoutePolicySpec>();
  const table = httpApi?.object('authorizers');
  for (const name of Object.keys(table?.raw ?? {})) {
    const f = table?.object(name);
    if (!f) continue;
    const type = (f.string('type') ?? 'jwt').toLowerCase();
    if (type === 'request') {
      const spec = readServerlessHttpApiAuthorizer(f, payloadVersion);
      if (spec) out.set(name, { authorizer: spec });
    } else if (type === 'jwt') {
      f.accept('identitySource', 'audience');
      const jwt = jwtFromApiGateway({ issuer: f.string('issuerUrl'), audience: f.raw['audience'], identitySource: f.raw['identitySource'] }, f.path, f.problems);
      if (jwt) out.set(name, { jwt });
    } else f.problems.error(f.key('type'), `authorizer type "${type}" is not served`, 'use jwt or request');
    f.accept('name');
    f.reportUnknown(['type', 'identitySource', 'issuerUrl', 'audience', 'functionName', 'functionArn', 'payloadVersion', 'enableSimpleResponses', 'resultTtlInSeconds', 'name', 'managedExternally']);
  }
  return out;
}

/** An httpApi event's `authorizer: { name, scopes }` (or just the name) → the route's policies. */
export function serverlessHttpApiRouteAuth(value: unknown, at: string, authorizers: ReadonlyMap<string, RoutePolicySpec>, problems: ProblemList): RoutePolicySpec {
  const name = typeof value === 'string' ? value : isRecord(value) && typeof value['name'] === 'string' ? value['name'] : undefined;
  if (isRecord(value)) {
    const f = new Fields(value, at, problems);
    f.accept('name', 'scopes', 'id', 'type');
    f.reportUnknown();
  }
  if (isRecord(value) && value['type'] === 'aws_iam') {
    problems.error(at, 'IAM authorization is not served, and the route would be open', 'use a JWT or Lambda authorizer, or remove the authorizer to make the route public');
    return {};
  }
  const found = name === undefined ? undefined : authorizers.get(name);
  if (!found) {
    problems.error(at, name === undefined ? 'expected an authorizer name' : `no authorizer named "${name}" in provider.httpApi.authorizers`, 'declare it under provider.httpApi.authorizers');
    return {};
  }
  const scopes = isRecord(value) ? scopesOf(value['scopes']) : [];
  return found.jwt ? { jwt: { ...found.jwt, scopes } } : { ...found };
}

/** Reports Lambda authorizers that name a function the project does not have. */
export function checkAuthorizerFunctions(functions: readonly FunctionSpec[], problems: ProblemList): void {
  const names = new Set(functions.map((f) => f.name));
  for (const fn of functions) {
    for (const route of fn.routes) {
      const wanted = route.policies?.authorizer?.function;
      if (wanted === undefined || names.has(wanted)) continue;
      problems.error(`functions.${fn.name}`, `the authorizer of ${route.method ?? 'ANY'} ${route.path} names the function "${wanted}", which the project does not have`, `add a function named ${wanted}, or fix functionName / authorizer.name`);
    }
  }
}
