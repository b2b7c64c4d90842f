/**
 * @module
 * Serverless Framework variables: `${self:path.to.key}`, `${env:NAME}`, `${opt:stage}`,
 * `${sls:stage}`, `${param:x}`, `${aws:region}`, `${file(./x.yml):key}`, `${strToBool(…)}`, with
 * comma-separated fallbacks (`${env:NAME, 'default'}`, `${opt:stage, self:provider.stage}`),
 * nesting (`${self:custom.${sls:stage}.url}`) and interpolation inside longer strings. A string
 * that is exactly one variable takes the referenced value's type (a number stays a number).
 *
 * `${…}` whose body does not start with a lower-case source name (`${AWS::Region}`,
 * `${MyQueue.Arn}`) is CloudFormation `Fn::Sub` syntax and is left alone, as serverless does.
 * Sources that need AWS (ssm, s3, cf) resolve only through their fallback. Every variable that
 * resolves to nothing is a problem at the key that holds it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCfnYaml } from './cfn-yaml.ts';
import { isRecord } from './fields.ts';
import { ProblemList } from './problems.ts';
import { ACCOUNT_ID, DEFAULT_REGION } from './cfn-intrinsics.ts';

export interface VariableContext {
  root: string;
  /** The parsed serverless.yml, variables unresolved. */
  raw: Record<string, unknown>;
  env: Record<string, string | undefined>;
  /** `--stage` from the command line, when given. */
  optStage: string | undefined;
  problems: ProblemList;
}

type PathSeg = string | number;

interface Span {
  start: number;
  end: number; // index after the closing brace
  body: string;
}

const SOURCE_RE = /^\s*([a-z][a-zA-Z0-9]*)(\(|:(?!:))/;
const AWS_ONLY = new Set(['ssm', 's3', 'cf', 'cloudformation', 'sm', 'secretsmanager']);

/** `${…}` spans at the top level of `s`, nested ones included in their parent's body. */
function findSpans(s: string): Span[] {
  const spans: Span[] = [];
  let i = 0;
  while ((i = s.indexOf('${', i)) !== -1) {
    let depth = 1;
    let j = i + 2;
    let quote: string | undefined;
    for (; j < s.length && depth > 0; j++) {
      const c = s[j];
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    if (depth > 0) break; // unterminated: leave the rest as text
    spans.push({ start: i, end: j, body: s.slice(i + 2, j - 1) });
    i = j;
  }
  return spans;
}

/** Splits on commas outside quotes and nested `${…}`. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let cur = '';
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

function isVariable(body: string): boolean {
  return SOURCE_RE.test(body);
}

function pathKey(p: readonly PathSeg[]): string {
  return p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

export class VariableResolver {
  readonly ctx: VariableContext;
  /** Files read through `${file(…)}`, relative to root. */
  readonly files: string[] = [];
  /** Problems inside files read through `${file(…)}`. */
  readonly fileProblems: ProblemList[] = [];
  readonly #busy = new Set<string>();
  readonly #reported = new Set<string>();
  readonly #fileCache = new Map<string, unknown>();
  #reason = '';

  constructor(ctx: VariableContext) {
    this.ctx = ctx;
  }

  /** The whole config with every variable resolved. */
  resolveAll(): Record<string, unknown> {
    const out = this.deep(this.ctx.raw, []);
    return isRecord(out) ? out : {};
  }

  /** The stage `${sls:stage}` means: --stage, then provider.stage, then 'dev'. */
  stage(): string {
    if (this.ctx.optStage !== undefined) return this.ctx.optStage;
    const s = this.self(['provider', 'stage']);
    return typeof s === 'string' && s !== '' ? s : 'dev';
  }

  region(): string {
    const r = this.self(['provider', 'region']);
    return typeof r === 'string' && r !== '' ? r : DEFAULT_REGION;
  }

  deep(value: unknown, at: readonly PathSeg[]): unknown {
    if (typeof value === 'string') return this.string(value, at);
    if (Array.isArray(value)) return value.map((v, i) => this.deep(v, [...at, i]));
    if (isRecord(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.deep(v, [...at, k]);
      return out;
    }
    return value;
  }

  string(s: string, at: readonly PathSeg[]): unknown {
    if (!s.includes('${')) return s;
    const key = pathKey(at);
    if (this.#busy.has(key)) {
      this.#report(key, `${key} refers to itself through a variable`, 'break the cycle');
      return undefined;
    }
    this.#busy.add(key);
    try {
      return this.#interpolate(s, at);
    } finally {
      this.#busy.delete(key);
    }
  }

  #interpolate(s: string, at: readonly PathSeg[]): unknown {
    const spans = findSpans(s).filter((sp) => isVariable(sp.body));
    if (spans.length === 0) return s;
    const only = spans[0];
    if (spans.length === 1 && only && only.start === 0 && only.end === s.length) return this.#evaluate(only.body, at);
    let out = '';
    let last = 0;
    for (const sp of spans) {
      const v = this.#evaluate(sp.body, at);
      if (v === undefined) return undefined;
      if (isRecord(v) || Array.isArray(v)) {
        this.#report(pathKey(at), `\${${sp.body}} is an object and cannot be part of a longer string`, 'reference a single value');
        return undefined;
      }
      out += s.slice(last, sp.start) + String(v);
      last = sp.end;
    }
    return out + s.slice(last);
  }

  #evaluate(body: string, at: readonly PathSeg[]): unknown {
    const parts = splitTopLevel(body);
    let firstReason = '';
    for (const [i, part] of parts.entries()) {
      this.#reason = '';
      const v = this.#part(part.trim(), at, i > 0);
      if (v !== undefined) return v;
      if (i === 0) firstReason = this.#reason;
    }
    const primary = (parts[0] ?? '').trim();
    this.#report(
      pathKey(at),
      `\${${body}} cannot be resolved${firstReason ? `: ${firstReason}` : ''}`,
      parts.length > 1 ? 'make the fallback resolvable' : `set it, or add a fallback: \${${primary}, 'value'}`,
    );
    return undefined;
  }

  #part(p: string, at: readonly PathSeg[], fallback: boolean): unknown {
    if (p === '') return undefined;
    const spans = findSpans(p);
    const whole = spans[0];
    if (spans.length === 1 && whole && whole.start === 0 && whole.end === p.length) return this.#evaluate(whole.body, at);
    let ref = p;
    if (spans.length > 0) {
      const built = this.#interpolate(p, at);
      if (typeof built !== 'string') return undefined;
      ref = built;
    }
    const q = /^(['"])([\s\S]*)\1$/.exec(ref);
    if (q) return q[2] ?? '';
    if (/^-?\d+(\.\d+)?$/.test(ref)) return Number(ref);
    if (ref === 'true' || ref === 'false') return ref === 'true';
    if (ref === 'null') return null;
    const m = /^([a-z][a-zA-Z0-9]*)(?:\(([^)]*)\))?(?::([\s\S]*))?$/.exec(ref);
    if (!m || (m[2] === undefined && m[3] === undefined)) {
      if (fallback) return ref; // serverless accepts an unquoted literal as the last resort
      this.#reason = `${ref} is not a variable reference`;
      return undefined;
    }
    return this.#source(m[1] ?? '', m[2], m[3] ?? '');
  }

  #source(source: string, param: string | undefined, address: string): unknown {
    const addr = address.trim();
    switch (source) {
      case 'self':
        return this.#lookup(this.self(addr === '' ? [] : addr.split('.')), `self:${addr}`);
      case 'env': {
        const v = this.ctx.env[addr];
        if (v === undefined) this.#reason = `environment variable ${addr} is not set`;
        return v;
      }
      case 'opt':
        if (addr === 'stage' && this.ctx.optStage !== undefined) return this.ctx.optStage;
        this.#reason = `option --${addr} was not given`;
        return undefined;
      case 'sls':
        if (addr === 'stage') return this.stage();
        if (addr === 'instanceId') return 'outpost-local';
        this.#reason = `sls:${addr} is not a known value (stage, instanceId)`;
        return undefined;
      case 'aws':
        if (addr === 'region') return this.region();
        if (addr === 'accountId') return ACCOUNT_ID;
        this.#reason = `aws:${addr} is not a known value (region, accountId)`;
        return undefined;
      case 'param': {
        const stage = this.stage();
        const v = this.self(['params', stage, addr]) ?? this.self(['params', 'default', addr]);
        if (v === undefined) this.#reason = `params.${stage}.${addr} and params.default.${addr} are not set`;
        return v;
      }
      case 'strToBool': {
        const v = (param ?? '').trim().replace(/^['"]|['"]$/g, '');
        if (/^(true|1)$/i.test(v)) return true;
        if (/^(false|0|)$/i.test(v)) return false;
        this.#reason = `strToBool(${v}) expects true, false, 1 or 0`;
        return undefined;
      }
      case 'file':
        return this.#file((param ?? '').trim().replace(/^['"]|['"]$/g, ''), addr);
    }
    if (AWS_ONLY.has(source)) {
      this.#reason = `${source}: reads AWS, which a local Outpost run cannot reach`;
      return undefined;
    }
    this.#reason = `unknown variable source "${source}"`;
    return undefined;
  }

  #lookup(v: unknown, what: string): unknown {
    if (v === undefined && this.#reason === '') this.#reason = `${what} does not exist`;
    return v;
  }

  /** Value at a path of serverless.yml, resolving strings met on the way. */
  self(segs: readonly string[]): unknown {
    let node: unknown = this.ctx.raw;
    const at: PathSeg[] = [];
    for (const seg of segs) {
      if (typeof node === 'string') node = this.string(node, at);
      if (isRecord(node)) node = node[seg];
      else if (Array.isArray(node) && /^\d+$/.test(seg)) node = node[Number(seg)];
      else return undefined;
      at.push(seg);
    }
    return node === undefined ? undefined : this.deep(node, at);
  }

  #file(rawPath: string, addr: string): unknown {
    const abs = path.resolve(this.ctx.root, rawPath);
    const relPath = path.relative(this.ctx.root, abs).split(path.sep).join('/');
    if (!/\.(ya?ml|json)$/i.test(abs)) {
      this.#reason = `file(${rawPath}): only YAML and JSON files can be read (JavaScript files would have to run)`;
      return undefined;
    }
    let content = this.#fileCache.get(abs);
    if (!this.#fileCache.has(abs)) {
      let text: string;
      try {
        text = readFileSync(abs, 'utf8');
      } catch {
        this.#reason = `file(${rawPath}) does not exist`;
        return undefined;
      }
      const problems = new ProblemList(relPath);
      content = parseCfnYaml(text, problems);
      this.fileProblems.push(problems);
      this.files.push(relPath);
      this.#fileCache.set(abs, content);
    }
    let node = content;
    for (const seg of addr === '' ? [] : addr.split('.')) {
      if (isRecord(node)) node = node[seg];
      else if (Array.isArray(node) && /^\d+$/.test(seg)) node = node[Number(seg)];
      else node = undefined;
    }
    if (node === undefined) {
      this.#reason = `file(${rawPath})${addr ? `:${addr}` : ''} does not exist`;
      return undefined;
    }
    // Variables inside the included file refer to serverless.yml, as in the framework; the
    // path names the file so a cycle check never confuses it with the key that included it.
    return this.deep(node, [`file(${relPath})`, ...(addr === '' ? [] : addr.split('.'))]);
  }

  #report(key: string, message: string, fix: string): void {
    const id = `${key}\u0000${message}`;
    if (this.#reported.has(id)) return;
    this.#reported.add(id);
    this.ctx.problems.error(key, message, fix);
  }
}
