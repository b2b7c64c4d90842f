/**
 * @module
 * The control API under `/_outpost/api/` (JSON in, JSON out): deploy, list, versions,
 * rollback, delete, invoke. Every route needs a bearer token, except from loopback in
 * `outpost dev`. Errors are OutpostErrors rendered with their code and status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OutpostError } from '../errors.ts';
import { sendError } from '../gateway/index.ts';
import type { Deployments, PrebuiltFunction } from './deployments.ts';
import type { FunctionManifest, VersionRecord } from './records.ts';
import type { Tokens } from './tokens.ts';
import type { StateMachineSpec } from '../project/spec.ts';
import { readJsonValue as readJson, sendJson as send } from './http.ts';

export interface InvokeRequest {
  /** An event for event-style functions (Lambda), or a request for HTTP ones. */
  event?: unknown;
  request?: { method?: string; path?: string; headers?: Record<string, string>; body?: string };
}

export interface ControlApiOptions {
  deployments: Deployments;
  tokens: Tokens;
  /** Skip auth for loopback peers (outpost dev). */
  trustLoopback: boolean;
  invoke(name: string, body: InvokeRequest): Promise<unknown>;
  /** What this node runs of a function right now (instances, in-flight invocations). */
  runtime(name: string): { instances: number; inFlight: number };
  /** Routes of node services under /_outpost/api/ (tried after the built-in ones, after auth); true when handled. */
  extensions?: (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean>;
  /** Largest deploy upload (default 64 MiB). */
  maxUploadBytes?: number;
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/** A version as the API shows it: local secrets (.dev.vars) by name only, never their values. */
function withoutSecretValues(record: VersionRecord): VersionRecord {
  const secrets = record.manifest.secrets;
  if (Object.keys(secrets).length === 0) return record;
  return { ...record, manifest: { ...record.manifest, secrets: Object.fromEntries(Object.keys(secrets).map((k) => [k, '(hidden)'])) } };
}

function parseStateMachines(value: unknown): StateMachineSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OutpostError('INVALID_DEPLOY', 'stateMachines must be an array of { name, definition, type }', { status: 400, fault: 'user' });
  return value.map((m: { name?: unknown; definition?: unknown; type?: unknown }, i: number) => {
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || m.definition === undefined || (m.type !== 'STANDARD' && m.type !== 'EXPRESS')) {
      throw new OutpostError('INVALID_DEPLOY', `stateMachines[${i}] needs name, definition and type (STANDARD or EXPRESS)`, { status: 400, fault: 'user' });
    }
    return { name: m.name, definition: m.definition, type: m.type };
  });
}

function parsePrebuilt(body: unknown): { project: string; functions: PrebuiltFunction[]; stateMachines: StateMachineSpec[] } {
  const b = body as { project?: unknown; functions?: unknown; stateMachines?: unknown };
  if (typeof b.project !== 'string' || !Array.isArray(b.functions) || b.functions.length === 0) {
    throw new OutpostError('INVALID_DEPLOY', 'a deploy needs { project, functions: [{ manifest, bundle, sourceMap, digest }] }', {
      status: 400,
      fault: 'user',
      hint: 'use `outpost deploy <dir> --to <url>`, which builds and uploads in this shape',
    });
  }
  return {
    project: b.project,
    stateMachines: parseStateMachines(b.stateMachines),
    functions: b.functions.map((f: { manifest?: unknown; bundle?: unknown; sourceMap?: unknown; digest?: unknown }, i: number) => {
      if (typeof f.manifest !== 'object' || f.manifest === null || typeof f.bundle !== 'string' || typeof f.digest !== 'string') {
        throw new OutpostError('INVALID_DEPLOY', `functions[${i}] needs manifest, bundle (base64) and digest`, { status: 400, fault: 'user' });
      }
      const manifest = f.manifest as FunctionManifest;
      if (typeof manifest.name !== 'string' || !/^[a-zA-Z0-9_-]{1,63}$/.test(manifest.name)) {
        throw new OutpostError('INVALID_DEPLOY', `functions[${i}].manifest.name must be 1–63 letters, digits, - or _`, { status: 400, fault: 'user' });
      }
      return {
        manifest,
        bundle: {
          code: Buffer.from(f.bundle, 'base64'),
          map: Buffer.from(typeof f.sourceMap === 'string' ? f.sourceMap : '', 'base64'),
          digest: f.digest,
        },
      };
    }),
  };
}

/** True when `req` carries a valid bearer token, or comes from loopback on a node that trusts it (dev). */
export function bearerAuth(tokens: Tokens, trustLoopback: boolean): (req: IncomingMessage) => Promise<boolean> {
  return async (req) => {
    if (trustLoopback && isLoopback(req.socket.remoteAddress)) return true;
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    return token !== '' && (await tokens.verify(token));
  };
}

export function unauthorized(): OutpostError {
  return new OutpostError('UNAUTHORIZED', 'a valid bearer token is required', {
    status: 401,
    fault: 'user',
    hint: 'pass --token (or set OUTPOST_TOKEN) with the token printed when the node first started',
  });
}

export function createControlApi(options: ControlApiOptions): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean> {
  const limit = options.maxUploadBytes ?? 64 * 1024 * 1024;
  const authorized = bearerAuth(options.tokens, options.trustLoopback);
  return async (req, res, requestId) => {
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname === '/_outpost/health') {
      send(res, 200, { ok: true }, requestId);
      return true;
    }
    if (!url.pathname.startsWith('/_outpost/api/')) return false;
    try {
      if (!(await authorized(req))) throw unauthorized();
      const parts = url.pathname.slice('/_outpost/api/'.length).split('/').filter(Boolean).map(decodeURIComponent);
      const method = req.method ?? 'GET';
      const { deployments } = options;
      if (parts[0] === 'deploy' && parts.length === 1 && method === 'POST') {
        const body = await readJson(req, limit);
        const { project, functions, stateMachines } = parsePrebuilt(body);
        // `promote: false` (outpost versions upload) stores new versions without moving live.
        const promote = (body as { promote?: unknown }).promote !== false;
        send(res, 200, await deployments.deploy(project, functions, { stateMachines, promote }), requestId);
        return true;
      }
      if (parts[0] === 'functions') {
        const name = parts[1];
        if (name === undefined && method === 'GET') {
          send(res, 200, { functions: await deployments.list() }, requestId);
          return true;
        }
        if (name !== undefined && parts.length === 2 && method === 'GET') {
          const { fn, active } = await deployments.get(name);
          send(res, 200, { function: fn, active: withoutSecretValues(active), runtime: options.runtime(name) }, requestId);
          return true;
        }
        if (name !== undefined && parts.length === 2 && method === 'DELETE') {
          await deployments.remove(name);
          send(res, 200, { deleted: name }, requestId);
          return true;
        }
        if (name !== undefined && parts[2] === 'versions' && method === 'GET') {
          send(res, 200, { versions: (await deployments.versions(name)).map(withoutSecretValues) }, requestId);
          return true;
        }
        if (name !== undefined && parts[2] === 'rollback' && method === 'POST') {
          const body = (await readJson(req, 1024 * 1024)) as { version?: unknown };
          const version = body.version === undefined ? undefined : Number(body.version);
          if (version !== undefined && !Number.isInteger(version)) throw new OutpostError('INVALID_VERSION', 'version must be an integer', { status: 400, fault: 'user' });
          send(res, 200, await deployments.rollback(name, version), requestId);
          return true;
        }
        if (name !== undefined && parts[2] === 'invoke' && method === 'POST') {
          send(res, 200, await options.invoke(name, (await readJson(req, limit)) as InvokeRequest), requestId);
          return true;
        }
      }
      // Capabilities (node services) serve their own routes here, after the same auth.
      if (options.extensions && (await options.extensions(req, res, requestId))) return true;
      throw new OutpostError('API_NOT_FOUND', `no API at ${method} ${url.pathname}`, { status: 404, fault: 'user' });
    } catch (error) {
      sendError(res, requestId, error instanceof OutpostError ? error : new OutpostError('INTERNAL', (error as Error).message, { status: 500 }));
      return true;
    }
  };
}
