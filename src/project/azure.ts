/**
 * @module
 * Azure Functions (Node.js) projects, recognised by host.json, → ProjectSpec.
 *
 * Programming model v3: every folder with a function.json is one 'azure-v3' function named after
 * the folder; its entry is `scriptFile` (default index.js; a `../dist/…` build output that does not
 * exist yet falls back to the folder's index.ts) and `entryPoint` picks the export. An
 * `httpTrigger` binding gives routes `/<routePrefix>/<route or folder name>`, one per method;
 * `timerTrigger`, `queueTrigger`, `serviceBusTrigger` and `blobTrigger` bindings give triggers.
 *
 * Programming model v4: package.json `main` (a file or a glob such as `src/functions/*.js`) names
 * modules that register functions with `app.http('name', { methods, route, authLevel, handler })`
 * (also app.get/post/put/patch/deleteRequest, app.timer, app.storageQueue, app.serviceBusQueue).
 * Each module is one 'azure-v4' function; each HTTP registration's routes carry
 * `{ kind: 'export', name }`. Registrations are found by a text scan: the name and the options
 * that matter (methods, route, schedule, queueName) must be literals written in the call — options
 * held in a variable, computed names or registrations in loops are reported, not guessed.
 *
 * Route templates: `{id}`, `{id:int}` (constraints dropped), `{id?}` / `{id=default}` (optional: a
 * route with and one without), `{*rest}` → `{rest+}` (also matching the bare prefix, as in
 * ASP.NET). routePrefix comes from host.json `extensions.http.routePrefix` (v1 hosts:
 * `http.routePrefix`), default `api`, `""` for none. Timer schedules stay in Azure's six-field
 * NCRONTAB form (seconds first). `%Setting%` references resolve from local.settings.json `Values`
 * (dev only; also served to the function as secrets) and the environment.
 */
import { glob, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Fields, isRecord } from './fields.ts';
import { loaderEnv } from './load-options.ts';
import type { LoadOptions } from './load-options.ts';
import { FUNCTION_NAME_HINT, FUNCTION_NAME_RE, firstExisting, isFile, joinUrlPath, limitsFor, normalizeMethod, parseJsonc, readPackageJson, readTextIfExists, rel, sanitizeName } from './loader-util.ts';
import { ProblemList, throwIfErrors } from './problems.ts';
import { balanced, stringArrayLiteral, stringLiteral, stripComments, topLevelProperty } from './source-scan.ts';
import type { FunctionSpec, QueueTrigger, RouteSpec, TriggerSpec } from './spec.ts';
import type { ProjectSpec } from './spec.ts';

export async function detectAzure(root: string): Promise<boolean> {
  return isFile(path.join(root, 'host.json'));
}

interface Host {
  routePrefix: string;
  timeoutSeconds: number | undefined;
  queue: Partial<QueueTrigger>;
}

/** `hh:mm:ss` or `d.hh:mm:ss` → seconds; undefined for `-1` (no limit) or anything else. */
export function parseTimeSpan(value: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86_400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

function readHost(raw: Record<string, unknown>, problems: ProblemList): Host {
  const h = new Fields(raw, '', problems);
  h.accept('version', 'extensionBundle', 'logging', 'aggregator', 'healthMonitor', 'singleton', 'watchDirectories', 'watchFiles', 'retry', 'managedDependency', 'concurrency', 'customHandler', 'languageWorkers', 'telemetryMode', 'functions');
  const ext = h.object('extensions');
  const extHttp = ext?.object('http');
  const v1Http = h.object('http');
  const prefixRaw = extHttp?.string('routePrefix') ?? v1Http?.string('routePrefix');
  extHttp?.accept('maxOutstandingRequests', 'maxConcurrentRequests', 'dynamicThrottlesEnabled', 'hsts', 'customHeaders', 'routePrefix');
  v1Http?.accept('maxOutstandingRequests', 'maxConcurrentRequests', 'dynamicThrottlesEnabled');
  const timeoutRaw = h.string('functionTimeout');
  let timeoutSeconds: number | undefined;
  if (timeoutRaw !== undefined && timeoutRaw !== '-1') {
    timeoutSeconds = parseTimeSpan(timeoutRaw);
    if (timeoutSeconds === undefined) problems.error('functionTimeout', `"${timeoutRaw}" is not a time span`, 'write it as "00:05:00"');
  }
  const queue: Partial<QueueTrigger> = {};
  const queues = ext?.object('queues');
  const batch = queues?.number('batchSize', { integer: true, min: 1, max: 32 });
  if (batch !== undefined) queue.maxBatchSize = batch;
  const dequeue = queues?.number('maxDequeueCount', { integer: true, min: 1 });
  // Azure counts deliveries; Outpost counts retries after the first one.
  if (dequeue !== undefined) queue.maxRetries = dequeue - 1;
  const vis = queues?.string('visibilityTimeout');
  const visSeconds = vis === undefined ? undefined : parseTimeSpan(vis);
  if (visSeconds !== undefined) queue.visibilityTimeoutSeconds = visSeconds;
  queues?.accept('maxPollingInterval', 'newBatchThreshold', 'messageEncoding');
  return { routePrefix: prefixRaw ?? 'api', timeoutSeconds, queue };
}

type Seg = { kind: 'static'; text: string } | { kind: 'param'; name: string; optional: boolean } | { kind: 'catchall'; name: string };

/** An Azure route template under a prefix → Outpost paths (several when parameters are optional). */
export function azureRoutePaths(prefix: string, template: string): string[] {
  const segs: Seg[] = template
    .split('/')
    .filter((s) => s !== '')
    .map((s): Seg => {
      const m = /^\{(\*{1,2})?([A-Za-z_][\w]*)(?::[^}=?]*(?:\([^)]*\))?)*(\?|=[^}]*)?\}$/.exec(s);
      if (!m) return { kind: 'static', text: s.replace(/\{([A-Za-z_]\w*)(?::[^}]*)?\}/g, '{$1}') };
      if (m[1]) return { kind: 'catchall', name: m[2] ?? '' };
      return { kind: 'param', name: m[2] ?? '', optional: m[3] !== undefined };
    });
  const render = (list: Seg[]): string =>
    joinUrlPath(prefix, ...list.map((s) => (s.kind === 'static' ? s.text : s.kind === 'param' ? `{${s.name}}` : `{${s.name}+}`)));
  // Optional parameters and a catch-all may be left off from the end, one at a time.
  const out = [render(segs)];
  for (let n = segs.length - 1; n >= 0; n--) {
    const s = segs[n];
    if (!s || (s.kind === 'static' || (s.kind === 'param' && !s.optional))) break;
    out.unshift(render(segs.slice(0, n)));
  }
  return out;
}

function routesFor(prefix: string, template: string, methods: readonly string[] | undefined, exportName: string): RouteSpec[] {
  const paths = azureRoutePaths(prefix, template);
  const ms = (methods ?? []).map(normalizeMethod);
  const list = ms.length === 0 || ms.includes(undefined) ? [undefined] : [...new Set(ms)];
  return paths.flatMap((p) => list.map((m) => ({ path: p, ...(m === undefined ? {} : { method: m }), event: { kind: 'export' as const, name: exportName } })));
}

/** Replaces `%Setting%` with its value from local settings or the environment. */
function expandSettings(value: string, settings: Record<string, string | undefined>, key: string, problems: ProblemList): string | undefined {
  let ok = true;
  const out = value.replace(/%([^%]+)%/g, (_m, name: string) => {
    const v = settings[name];
    if (v === undefined) {
      ok = false;
      problems.error(key, `app setting ${name} is not set`, `add "${name}" to local.settings.json Values or the environment`);
      return '';
    }
    return v;
  });
  return ok ? out : undefined;
}

export async function loadAzure(rootIn: string, options: LoadOptions): Promise<ProjectSpec> {
  const root = path.resolve(rootIn);
  const hostProblems = new ProblemList('host.json');
  const problems: ProblemList[] = [hostProblems];
  const configFiles: string[] = [];
  const hostText = await readTextIfExists(path.join(root, 'host.json'));
  let hostRaw: Record<string, unknown> = {};
  if (hostText === undefined) hostProblems.error('', 'no host.json', 'add host.json with {"version": "2.0"}');
  else {
    configFiles.push('host.json');
    const v = parseJsonc(hostText, hostProblems);
    if (isRecord(v)) hostRaw = v;
    else if (v !== undefined) hostProblems.error('', 'expected a JSON object');
  }
  const host = readHost(hostRaw, hostProblems);

  // local.settings.json is the developer's own app settings (gitignored by `func init`): dev only.
  const secrets: Record<string, string> = {};
  if (options.dev) {
    const text = await readTextIfExists(path.join(root, 'local.settings.json'));
    if (text !== undefined) {
      const lp = new ProblemList('local.settings.json');
      problems.push(lp);
      configFiles.push('local.settings.json');
      const v = parseJsonc(text, lp);
      const values = isRecord(v) ? v['Values'] : undefined;
      if (isRecord(values)) for (const [k, x] of Object.entries(values)) if (x !== null && x !== undefined) secrets[k] = String(x);
    }
  }
  const settings: Record<string, string | undefined> = { ...loaderEnv(options), ...secrets };
  const pkgProblems = new ProblemList('package.json');
  problems.push(pkgProblems);
  const pkg = await readPackageJson(root, pkgProblems);
  if (pkg) configFiles.push('package.json');

  const functions: FunctionSpec[] = [];
  const v3Entries = new Set<string>();
  const entries = await readdir(root, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (!e.isDirectory() || e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const fjPath = path.join(root, e.name, 'function.json');
    const text = await readTextIfExists(fjPath);
    if (text === undefined) continue;
    const file = rel(root, fjPath);
    configFiles.push(file);
    const fp = new ProblemList(file);
    problems.push(fp);
    const fn = await readV3Function(root, e.name, text, host, settings, secrets, fp);
    if (fn) {
      functions.push(fn);
      v3Entries.add(fn.entry);
    }
  }

  const mainRaw = pkg?.['main'];
  if (mainRaw !== undefined && typeof mainRaw !== 'string') pkgProblems.error('main', 'expected a string');
  if (typeof mainRaw === 'string') {
    const files = await mainFiles(root, mainRaw);
    const names = new Set(functions.map((f) => f.name));
    let registrations = 0;
    for (const file of files) {
      if (v3Entries.has(file)) continue;
      const fp = new ProblemList(rel(root, file));
      problems.push(fp);
      const fn = await readV4Module(file, host, settings, secrets, fp, names);
      if (fn) {
        registrations++;
        functions.push(fn);
      }
    }
    if (files.length === 0 && functions.length === 0) pkgProblems.error('main', `no file matches ${mainRaw}`, 'point "main" at the modules that call app.http(…), e.g. "src/functions/*.js"');
    else if (registrations === 0 && functions.length === 0) pkgProblems.error('main', `no app.http(…) registrations in ${mainRaw}`, 'register functions with app.http(name, { handler }) or add function.json folders');
  } else if (functions.length === 0) {
    hostProblems.error('', 'no functions found', 'add a folder with function.json (v3) or set package.json "main" to modules calling app.http(…) (v4)');
  }
  throwIfErrors(...problems);
  const name = sanitizeName(typeof pkg?.['name'] === 'string' ? pkg['name'] : path.basename(root));
  return { name, root, format: 'azure', configFiles, functions, stateMachines: [] };
}

/** Files a v4 `main` names: one path, or a glob (TypeScript `dist/…js` globs fall back to their `.ts` sources before a build). */
async function mainFiles(root: string, main: string): Promise<string[]> {
  const expand = async (pattern: string): Promise<string[]> => {
    if (!/[*?[{]/.test(pattern)) return (await isFile(path.resolve(root, pattern))) ? [path.resolve(root, pattern)] : [];
    const out: string[] = [];
    for await (const f of glob(pattern, { cwd: root })) if (!f.split(path.sep).includes('node_modules')) out.push(path.resolve(root, f));
    return out.sort();
  };
  const files = await expand(main);
  if (files.length > 0 || !/^(\.\/)?dist\//.test(main)) return files;
  return expand(main.replace(/^(\.\/)?dist\//, '').replace(/\.js$/, '.ts'));
}

async function readV3Function(
  root: string,
  folder: string,
  text: string,
  host: Host,
  settings: Record<string, string | undefined>,
  secrets: Record<string, string>,
  problems: ProblemList,
): Promise<FunctionSpec | undefined> {
  const raw = parseJsonc(text, problems);
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) {
    problems.error('', 'expected a JSON object with bindings');
    return undefined;
  }
  const f = new Fields(raw, '', problems);
  if (f.boolean('disabled') === true) return undefined;
  if (!FUNCTION_NAME_RE.test(folder)) problems.error('', `folder name "${folder}" is not a valid function name`, FUNCTION_NAME_HINT);
  const scriptFile = f.string('scriptFile');
  const entryPoint = f.string('entryPoint');
  f.accept('generatedBy', 'configurationSource', 'excluded', 'retry');
  const dir = path.join(root, folder);
  const candidates = scriptFile !== undefined ? [path.resolve(dir, scriptFile)] : ['index.js', 'index.mjs', 'index.cjs'].map((n) => path.join(dir, n));
  // TypeScript v3 projects point scriptFile at ../dist/<fn>/index.js; before a build, serve the source.
  let entry = await firstExisting([...candidates, path.join(dir, 'index.ts')]);
  if (entry === undefined) {
    problems.error(scriptFile === undefined ? '' : 'scriptFile', `no script: ${candidates.map((c) => rel(root, c)).join(', ')} not found`, scriptFile === undefined ? `add ${folder}/index.js` : 'point scriptFile at the module');
  }
  const handlerExport = entryPoint ?? 'default';
  const routes: RouteSpec[] = [];
  const triggers: TriggerSpec[] = [];
  const bindings = f.objects('bindings');
  if (!f.has('bindings')) problems.error('bindings', 'missing; expected the trigger and bindings', 'add "bindings": [{ "type": "httpTrigger", … }]');
  let triggerCount = 0;
  for (const b of bindings) {
    const type = b.string('type', { required: true });
    b.accept('direction', 'name', 'connection', 'dataType', 'cardinality', 'consumerGroup', 'runOnStartup', 'useMonitor', 'accessRights', 'isSessionsEnabled', 'source', 'webHookType');
    const str = (k: string): string | undefined => {
      const v = b.string(k, { required: true });
      return v === undefined ? undefined : expandSettings(v, settings, b.key(k), problems);
    };
    switch (type) {
      case 'httpTrigger': {
        triggerCount++;
        const methods = b.stringArray('methods');
        const route = b.string('route') ?? folder;
        b.string('authLevel');
        routes.push(...routesFor(host.routePrefix, route, methods, handlerExport));
        break;
      }
      case 'timerTrigger': {
        triggerCount++;
        const schedule = str('schedule');
        if (schedule !== undefined) triggers.push({ type: 'cron', expression: schedule });
        break;
      }
      case 'queueTrigger': {
        triggerCount++;
        const queue = str('queueName');
        if (queue !== undefined) triggers.push({ type: 'queue', queue, ...host.queue, deadLetterQueue: `${queue}-poison` });
        break;
      }
      case 'serviceBusTrigger': {
        triggerCount++;
        const queue = b.has('queueName') ? str('queueName') : str('topicName');
        b.accept('subscriptionName', 'topicName', 'queueName');
        if (queue !== undefined) triggers.push({ type: 'queue', queue });
        break;
      }
      case 'blobTrigger': {
        triggerCount++;
        const p = str('path');
        if (p !== undefined) {
          // `container/in/{name}.csv`: the container is the bucket; the literal text before the first `{` is the prefix.
          const [container = '', ...rest] = p.split('/');
          const restPath = rest.join('/');
          const prefix = restPath.split('{')[0] ?? '';
          const suffix = /\}([^{}]*)$/.exec(restPath)?.[1] ?? '';
          triggers.push({ type: 'object', bucket: container, events: ['s3:ObjectCreated:*'], ...(prefix ? { prefix } : {}), ...(suffix ? { suffix } : {}) });
        }
        break;
      }
      case undefined:
        break;
      default:
        if (/Trigger$/.test(type)) {
          triggerCount++;
          problems.warn(b.key('type'), `${type} is not served by Outpost; function ${folder} will not be triggered by it`);
        }
    }
  }
  if (bindings.length > 0 && triggerCount === 0) problems.error('bindings', 'no trigger binding', 'add a binding whose type ends in Trigger, e.g. httpTrigger');
  f.reportUnknown(['bindings', 'scriptFile', 'entryPoint', 'disabled']);
  if (entry === undefined) return undefined;
  entry = path.resolve(entry);
  // The adapter needs the binding names: `context.bindings.<in>` is the request, and the http
  // output binding (`res`, or `$return` for the return value) is the response.
  const named = (type: string, direction: string): string | undefined => {
    const found = (Array.isArray(raw['bindings']) ? raw['bindings'] : []).find((x: unknown) => isRecord(x) && x['type'] === type && (x['direction'] ?? direction) === direction);
    return isRecord(found) && typeof found['name'] === 'string' ? found['name'] : undefined;
  };
  const httpInput = named('httpTrigger', 'in');
  const httpOutput = named('http', 'out');
  return {
    name: folder,
    style: 'azure-v3',
    entry,
    handlerExport,
    vars: {},
    secrets: { ...secrets },
    bindings: [],
    routes,
    triggers,
    limits: limitsFor('azure-v3', { timeoutSeconds: host.timeoutSeconds }),
    nodeCompat: true,
    compatibilityFlags: [],
    // ASP.NET routing matches paths case-insensitively; the router should too for these routes.
    platform: {
      routePrefix: host.routePrefix,
      programmingModel: '3',
      caseInsensitiveRoutes: 'true',
      ...(httpInput ? { httpInput } : {}),
      ...(httpOutput ? { httpOutput } : {}),
    },
  };
}

const V4_CALL_RE = /\bapp\s*\.\s*(http|get|post|put|patch|deleteRequest|timer|storageQueue|serviceBusQueue|serviceBusTopic)\s*\(\s*/g;
const FIXED_METHOD: Readonly<Record<string, string>> = { get: 'GET', post: 'POST', put: 'PUT', patch: 'PATCH', deleteRequest: 'DELETE' };

/** One v4 module: scans its `app.*(name, options)` registrations into routes and triggers. */
async function readV4Module(
  file: string,
  host: Host,
  settings: Record<string, string | undefined>,
  secrets: Record<string, string>,
  problems: ProblemList,
  names: Set<string>,
): Promise<FunctionSpec | undefined> {
  const src = stripComments(await readFile(file, 'utf8'));
  const routes: RouteSpec[] = [];
  const triggers: TriggerSpec[] = [];
  const seen = new Set<string>();
  let count = 0;
  for (const m of src.matchAll(V4_CALL_RE)) {
    const kind = m[1] ?? '';
    const at = (m.index ?? 0) + m[0].length;
    const nameText = /^(['"`])((?:\\.|(?!\1).)*)\1\s*,\s*/.exec(src.slice(at));
    const line = src.slice(0, m.index).split('\n').length;
    const where = `app.${kind} (line ${line})`;
    if (!nameText) {
      problems.error(where, 'the function name is not a string literal', "write the name inline: app.http('hello', { … })");
      continue;
    }
    const regName = nameText[2] ?? '';
    count++;
    if (seen.has(regName)) problems.error(where, `function "${regName}" is registered twice`, 'give each registration its own name');
    seen.add(regName);
    const optStart = at + nameText[0].length;
    const obj = src[optStart] === '{' ? balanced(src, optStart) : undefined;
    const prop = (p: string): string | undefined => (obj === undefined ? undefined : topLevelProperty(obj, p));
    const literal = (p: string, required: boolean): string | undefined | null => {
      const text = prop(p);
      if (text === undefined) {
        if (required) problems.error(`${where}.${p}`, obj === undefined ? 'options are not an inline object' : `missing ${p}`, `write { ${p}: '…', handler } inline in the call`);
        return required ? null : undefined;
      }
      const v = stringLiteral(text);
      if (v === undefined) {
        problems.error(`${where}.${p}`, `${p} is not a string literal (${text.trim().slice(0, 40)})`, 'write the value inline; Outpost reads it without running code');
        return null;
      }
      return expandSettings(v, settings, `${where}.${p}`, problems) ?? null;
    };
    if (kind in FIXED_METHOD || kind === 'http') {
      let methods: string[] | undefined = kind === 'http' ? undefined : [FIXED_METHOD[kind] ?? 'GET'];
      if (kind === 'http') {
        const mText = prop('methods');
        if (mText !== undefined) {
          methods = stringArrayLiteral(mText);
          if (methods === undefined) problems.error(`${where}.methods`, 'methods is not an array literal', "write methods: ['GET', 'POST'] inline");
        }
      }
      const route = literal('route', false);
      if (route === null) continue;
      routes.push(...routesFor(host.routePrefix, route ?? regName, methods, regName));
    } else if (kind === 'timer') {
      const schedule = literal('schedule', true);
      if (schedule) triggers.push({ type: 'cron', expression: schedule });
    } else if (kind === 'storageQueue') {
      const queue = literal('queueName', true);
      if (queue) triggers.push({ type: 'queue', queue, ...host.queue, deadLetterQueue: `${queue}-poison` });
    } else {
      const queue = literal(kind === 'serviceBusTopic' ? 'topicName' : 'queueName', true);
      if (queue) triggers.push({ type: 'queue', queue });
    }
  }
  if (count === 0) return undefined;
  const base = sanitizeName(path.basename(file).replace(/\.[^.]+$/, ''));
  let name = base;
  for (let n = 2; names.has(name); n++) name = sanitizeName(`${base}-${n}`);
  names.add(name);
  return {
    name,
    style: 'azure-v4',
    entry: file,
    // The module registers its handlers with app.*; each route names its registration.
    handlerExport: '*',
    vars: {},
    secrets: { ...secrets },
    bindings: [],
    routes,
    triggers,
    limits: limitsFor('azure-v4', { timeoutSeconds: host.timeoutSeconds }),
    nodeCompat: true,
    compatibilityFlags: [],
    platform: { routePrefix: host.routePrefix, programmingModel: '4', registrations: [...seen].join(','), caseInsensitiveRoutes: 'true' },
  };
}
