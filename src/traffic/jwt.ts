/**
 * @module
 * JWT authorizers like API Gateway HTTP API's: the token (default `Authorization: Bearer …`)
 * is verified with jose against a JWKS URL or an HMAC secret, then `iss`, `aud`, `exp`/`nbf`
 * (with a clock skew), the allowed algorithms and the route's required scopes are checked.
 * A rejection answers as API Gateway does: 401 `{"message":"Unauthorized"}` with
 * `www-authenticate`, or 403 `{"message":"Forbidden"}` for a missing scope.
 *
 * Decisions:
 * - Keys: a JWKS is fetched by jose's `createRemoteJWKSet` (cached; a token with an unknown
 *   `kid` refetches, at most once per cooldown), kept in node state so it survives redeploys.
 *   With only an issuer, the JWKS URL is found by OpenID Connect discovery
 *   (`<issuer>/.well-known/openid-configuration` → `jwks_uri`), as API Gateway does. An HMAC
 *   secret is never written in config: config names a var or secret of the function.
 * - Claims reach the function as `requestContext.authorizer.jwt = { claims, scopes }` on API
 *   Gateway routes (claim values as strings, as AWS passes them) and, on every other route, as
 *   the request header `x-outpost-jwt-claims` (the JSON payload). A client that sends that
 *   header itself is refused, so a function can trust it.
 * - A token verified once is not re-verified while it is valid, for at most a minute, unless
 *   the key set changed meanwhile (see VerifiedTokens).
 * - A JWKS that cannot be fetched is the system's fault (502 `JWKS_UNAVAILABLE`), not the
 *   caller's.
 *
 * Also here: the outpost.toml `jwt` reader, the serverless/SAM JWT authorizer shape, identity
 * sources, and the API Gateway-style 401/403 answers the other auth policies share.
 */
import { createRemoteJWKSet, errors, jwksCache, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { OutpostError } from '../errors.ts';
import { Fields, isRecord } from '../project/fields.ts';
import type { ProblemList } from '../project/problems.ts';
import type { IdentitySource, JwtSpec, RoutePolicySpec } from '../project/spec.ts';
import type { PolicyNode, PolicyScope } from './index.ts';
import type { PolicyDecision, PolicyRequest, RoutePolicy } from './policy.ts';

/** The request header that carries verified claims to functions that are not API Gateway-style. */
export const CLAIMS_HEADER = 'x-outpost-jwt-claims';

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'EdDSA'];
const ASYMMETRIC_DEFAULT = ['RS256', 'ES256', 'EdDSA'];
const DEFAULT_IDENTITY: IdentitySource = { in: 'header', name: 'authorization' };

/**
 * An API Gateway identity source: `$request.header.Authorization`, `$request.querystring.token`
 * (HTTP API) or `method.request.header.Authorization` (REST); undefined when it is neither.
 */
export function parseIdentitySource(text: string): IdentitySource | undefined {
  const m = /^(?:\$request|method\.request)\.(header|querystring)\.(.+)$/.exec(text.trim());
  if (!m || m[2] === undefined) return undefined;
  return m[1] === 'header' ? { in: 'header', name: m[2].toLowerCase() } : { in: 'query', name: m[2] };
}

/** The value an identity source names in `request`, or undefined when the request lacks it. */
export function identityValue(request: PolicyRequest, source: IdentitySource): string | undefined {
  if (source.in === 'header') {
    const value = request.headers[source.name];
    const text = Array.isArray(value) ? value.join(',') : value;
    return text === undefined || text === '' ? undefined : text;
  }
  const value = new URLSearchParams(request.search).get(source.name);
  return value === null || value === '' ? undefined : value;
}

function readAlgorithms(f: Fields, key: string): string[] | undefined {
  const algorithms = f.stringArray(key);
  for (const alg of algorithms ?? []) {
    if (!JWT_ALGORITHMS.includes(alg)) f.problems.error(f.key(key), `"${alg}" is not a supported algorithm`, `use ${JWT_ALGORITHMS.join(', ')}`);
  }
  return algorithms;
}

/** `jwt = { issuer, audiences, jwks_url | secret, algorithms, scopes, clock_skew_seconds, identity_source, jwks_cooldown_seconds }`. */
export function readJwtRule(rule: Fields, policies: RoutePolicySpec): void {
  const f = rule.object('jwt');
  if (!f) return;
  const issuer = f.string('issuer');
  const jwksUrl = f.string('jwks_url', { pattern: /^https?:\/\//, patternHint: 'give the full URL of the JSON Web Key Set, e.g. "https://issuer.example.com/.well-known/jwks.json"' });
  const secretName = f.string('secret', { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, patternHint: 'name a var or secret of the function (outpost secret put JWT_SECRET), never the secret itself' });
  if (jwksUrl !== undefined && secretName !== undefined) f.problems.error(f.key('secret'), 'both jwks_url and secret are set', 'keep one: jwks_url for RS256/ES256/EdDSA issuers, secret for HS256');
  if (!f.has('jwks_url') && !f.has('secret') && issuer === undefined) {
    f.problems.error(f.key('jwks_url'), 'missing; the token cannot be verified without keys', 'add jwks_url, secret (the name of a var or secret), or issuer (its JWKS is discovered)');
  }
  const sourceText = f.string('identity_source');
  const identitySource = sourceText === undefined ? DEFAULT_IDENTITY : parseIdentitySource(sourceText);
  if (identitySource === undefined) f.problems.error(f.key('identity_source'), `"${sourceText}" is not an identity source`, 'use "$request.header.Authorization" or "$request.querystring.token"');
  const keys: JwtSpec['keys'] = jwksUrl !== undefined ? { jwksUrl } : secretName !== undefined ? { secretName } : { discover: true };
  policies.jwt = {
    ...(issuer === undefined ? {} : { issuer }),
    audiences: f.stringArray('audiences') ?? [],
    keys,
    algorithms: readAlgorithms(f, 'algorithms') ?? ('secretName' in keys ? ['HS256'] : ASYMMETRIC_DEFAULT),
    scopes: f.stringArray('scopes') ?? [],
    clockSkewSeconds: f.number('clock_skew_seconds', { min: 0, max: 3600 }) ?? 0,
    identitySource: identitySource ?? DEFAULT_IDENTITY,
    jwksCooldownSeconds: f.number('jwks_cooldown_seconds', { min: 0, max: 3600 }) ?? 30,
  };
  f.reportUnknown(['issuer', 'audiences', 'jwks_url', 'secret', 'algorithms', 'scopes', 'clock_skew_seconds', 'identity_source', 'jwks_cooldown_seconds']);
}

/**
 * A JWT authorizer of serverless `provider.httpApi.authorizers.<name>` (`identitySource`,
 * `issuerUrl`, `audience`) or SAM `JwtConfiguration` + `IdentitySource` (given as `issuer`,
 * `audience` and `identitySource`); the route's scopes are added by the caller.
 */
export function jwtFromApiGateway(raw: { issuer: string | undefined; audience: unknown; identitySource: unknown }, at: string, problems: ProblemList): JwtSpec | undefined {
  if (raw.issuer === undefined) {
    problems.error(at, 'a JWT authorizer needs an issuer', 'add issuerUrl (serverless) or JwtConfiguration.issuer (SAM)');
    return undefined;
  }
  const audiences = typeof raw.audience === 'string' ? [raw.audience] : Array.isArray(raw.audience) ? raw.audience.filter((a): a is string => typeof a === 'string') : [];
  const sourceText = Array.isArray(raw.identitySource) ? raw.identitySource[0] : raw.identitySource;
  const identitySource = typeof sourceText === 'string' ? parseIdentitySource(sourceText) : DEFAULT_IDENTITY;
  if (identitySource === undefined) problems.error(at, `"${String(sourceText)}" is not an identity source`, 'use $request.header.Authorization');
  return {
    issuer: raw.issuer,
    audiences,
    keys: { discover: true },
    algorithms: ASYMMETRIC_DEFAULT,
    scopes: [],
    clockSkewSeconds: 0,
    identitySource: identitySource ?? DEFAULT_IDENTITY,
    jwksCooldownSeconds: 30,
  };
}

/** A scope list from a config value (a string or strings), for route-level `scopes`. */
export function scopesOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
}

function jsonBody(message: string): string {
  return JSON.stringify({ message });
}

export function unauthorized(description?: string): PolicyDecision {
  const challenge = description === undefined ? 'Bearer' : `Bearer error="invalid_token", error_description="${description.replace(/"/g, "'")}"`;
  return { reply: { status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': challenge }, body: jsonBody('Unauthorized') } };
}

export function forbidden(headers: Record<string, string> = {}): PolicyDecision {
  return { reply: { status: 403, headers: { 'content-type': 'application/json', ...headers }, body: jsonBody('Forbidden') } };
}

/** The token's scopes: `scope` (space-separated, RFC 8693) or `scp` (a list or a string). */
export function scopesOfToken(payload: JWTPayload): string[] {
  const raw = payload['scope'] ?? payload['scp'];
  if (typeof raw === 'string') return raw.split(' ').filter((s) => s !== '');
  return Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
}

/** Claims as API Gateway puts them in the event: every value a string, lists as `[a b]`. */
export function claimStrings(payload: JWTPayload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')}]`;
    else out[name] = isRecord(value) ? JSON.stringify(value) : String(value);
  }
  return out;
}

/** The payload as JSON that is safe in a header: characters outside ASCII as `\uXXXX` escapes, which JSON.parse restores. */
export function claimsHeaderValue(payload: JWTPayload): string {
  return JSON.stringify(payload).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A JWKS resolver and the cache jose fills (its `uat` changes with every fetch). */
interface RemoteKeys {
  getKey: JWTVerifyGetKey;
  /** The last fetch time (jose's jwksCache `uat`). */
  fetchedAt(): number | undefined;
}

/** The JWKS of `url`, shared by every route and deploy of the node. */
function remoteKeys(node: PolicyNode, url: string, cooldownSeconds: number): RemoteKeys {
  return node.state(`jwt:jwks:${url}:${cooldownSeconds}`, () => {
    const cache: Record<string, never> = {};
    const getKey = createRemoteJWKSet(new URL(url), { cooldownDuration: cooldownSeconds * 1000, [jwksCache]: cache });
    return { getKey, fetchedAt: () => (cache as { uat?: number }).uat };
  });
}

/**
 * Tokens verified lately, so a client sending the same token again skips the signature check
 * (an RS256 verify costs tens of µs of CPU; API traffic repeats tokens). An entry is used
 * until the token expires (with the skew) and at most {@link VERIFIED_TTL_MS}, and only while
 * the key set it was verified with is unchanged: a JWKS refetch (rotation) drops them all.
 */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

class VerifiedTokens {
  readonly #entries = new Map<string, { payload: JWTPayload; until: number; keys: unknown }>();

  get(token: string, now: number, keys: unknown): JWTPayload | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (entry.until <= now || entry.keys !== keys) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.payload;
  }

  set(token: string, payload: JWTPayload, now: number, skewSeconds: number, keys: unknown): void {
    const expires = payload.exp === undefined ? Infinity : (payload.exp + skewSeconds) * 1000;
    if (this.#entries.size >= VERIFIED_MAX) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(token, { payload, until: Math.min(expires, now + VERIFIED_TTL_MS), keys });
  }
}

/** The issuer's discovered `jwks_uri`, per node: the lookup under way and its answer. */
function discovery(node: PolicyNode, issuer: string): { url?: Promise<string> | undefined; resolved?: string } {
  return node.state(`jwt:oidc:${issuer}`, () => ({}));
}

/** OpenID Connect discovery of the issuer's `jwks_uri`, once per node (retried after a failure). */
function discoveredKeys(node: PolicyNode, issuer: string, cooldownSeconds: number): JWTVerifyGetKey {
  const found = discovery(node, issuer);
  return async (header, token) => {
    found.url ??= (async () => {
      const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      const doc: unknown = response.ok ? await response.json() : undefined;
      if (!isRecord(doc) || typeof doc['jwks_uri'] !== 'string') {
        throw new OutpostError('JWKS_UNAVAILABLE', `${issuer} has no OpenID configuration with a jwks_uri (HTTP ${response.status})`, {
          status: 502,
          hint: 'serve <issuer>/.well-known/openid-configuration, or give the JWKS URL itself (jwks_url)',
        });
      }
      return doc['jwks_uri'];
    })();
    let url: string;
    try {
      url = await found.url;
      found.resolved = url;
    } catch (error) {
      found.url = undefined;
      throw error;
    }
    return remoteKeys(node, url, cooldownSeconds).getKey(header, token);
  };
}

/** The fetch time of the discovered JWKS (undefined before discovery): changes on rotation. */
function discoveredGeneration(node: PolicyNode, issuer: string, cooldownSeconds: number): () => unknown {
  const found = discovery(node, issuer);
  return () => (found.resolved === undefined ? undefined : remoteKeys(node, found.resolved, cooldownSeconds).fetchedAt());
}

/** True for failures to fetch keys (the system's fault) rather than a bad token. */
function keysUnavailable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (error instanceof errors.JOSEError) return error.code === 'ERR_JOSE_GENERIC';
  return (error instanceof TypeError && error.message === 'fetch failed') || (error instanceof Error && error.name === 'TimeoutError');
}

function tokenOf(request: PolicyRequest, source: IdentitySource): string | undefined {
  const value = identityValue(request, source);
  if (value === undefined) return undefined;
  return /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '').trim() : value.trim();
}

/** The policy for one route's {@link JwtSpec}; `secret` is the HMAC secret when the spec names one. */
export function jwtPolicy(spec: JwtSpec, node: PolicyNode, options: { secret?: string; claimsHeader: boolean; functionName: string }): RoutePolicy {
  let key: Uint8Array | JWTVerifyGetKey | undefined;
  /** Identifies the key set a verification used; cached verifications of another are void. */
  let generation: () => unknown = () => key;
  if ('jwksUrl' in spec.keys) {
    const remote = remoteKeys(node, spec.keys.jwksUrl, spec.jwksCooldownSeconds);
    key = remote.getKey;
    generation = () => remote.fetchedAt();
  } else if ('discover' in spec.keys && spec.issuer !== undefined) {
    key = discoveredKeys(node, spec.issuer, spec.jwksCooldownSeconds);
    generation = discoveredGeneration(node, spec.issuer, spec.jwksCooldownSeconds);
  } else if (options.secret !== undefined) key = new TextEncoder().encode(options.secret);
  const verified = new VerifiedTokens();
  const missingSecret = 'secretName' in spec.keys ? spec.keys.secretName : undefined;
  return {
    name: 'jwt',
    async decide(request) {
      if (key === undefined) {
        throw new OutpostError('JWT_SECRET_MISSING', `the JWT authorizer of ${options.functionName} names the secret ${missingSecret ?? '(none)'}, which the function does not have`, {
          status: 500,
          hint: `set it: outpost secret put ${missingSecret ?? 'JWT_SECRET'} --function ${options.functionName} (or add it to .dev.vars in dev)`,
        });
      }
      if (request.headers[CLAIMS_HEADER] !== undefined) return unauthorized(`the ${CLAIMS_HEADER} header is set by the gateway, never by a client`);
      const token = tokenOf(request, spec.identitySource);
      if (token === undefined) return unauthorized();
      const now = node.now();
      let payload = verified.get(token, now, generation());
      if (!payload) try {
        const result = await jwtVerify(token, key as JWTVerifyGetKey, {
          algorithms: spec.algorithms,
          clockTolerance: spec.clockSkewSeconds,
          currentDate: new Date(now),
          ...(spec.issuer === undefined ? {} : { issuer: spec.issuer }),
          ...(spec.audiences.length === 0 ? {} : { audience: spec.audiences }),
        });
        payload = result.payload;
        verified.set(token, payload, now, spec.clockSkewSeconds, generation());
      } catch (error) {
        if (error instanceof OutpostError) throw error;
        if (!keysUnavailable(error)) return unauthorized(error instanceof errors.JOSEError ? describeRejection(error) : 'the token could not be verified');
        throw new OutpostError('JWKS_UNAVAILABLE', `the signing keys for ${options.functionName}'s JWT authorizer could not be fetched: ${(error as Error).message}`, {
          status: 502,
          cause: error,
          hint: 'check that the jwks_url (or the issuer\'s OpenID configuration) answers from this node',
        });
      }
      const scopes = scopesOfToken(payload);
      const missing = spec.scopes.filter((s) => !scopes.includes(s));
      if (missing.length > 0) return forbidden({ 'www-authenticate': `Bearer error="insufficient_scope", scope="${spec.scopes.join(' ')}"` });
      return {
        authorizer: { jwt: { claims: claimStrings(payload), scopes: scopes.length > 0 ? scopes : null } },
        ...(options.claimsHeader ? { requestHeaders: [[CLAIMS_HEADER, claimsHeaderValue(payload)] as [string, string]] } : {}),
      };
    },
  };
}

function describeRejection(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the ${error.claim} claim is not valid`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not match a known key';
  return 'the token is not a valid JWT';
}

export function jwtFactory(scope: PolicyScope): RoutePolicy | undefined {
  const spec = scope.route.policies?.jwt;
  if (!spec) return undefined;
  const name = 'secretName' in spec.keys ? spec.keys.secretName : undefined;
  const secret = name === undefined ? undefined : (scope.env?.[name] ?? scope.manifest.secrets[name] ?? scope.manifest.vars[name]);
  return jwtPolicy(spec, scope.node, {
    ...(secret === undefined ? {} : { secret }),
    claimsHeader: scope.route.event.kind !== 'api-gateway',
    functionName: scope.functionName,
  });
}
