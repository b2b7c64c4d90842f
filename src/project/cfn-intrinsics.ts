/**
 * @module
 * Evaluates the CloudFormation intrinsic functions a local run can know the answer to: `Ref` and
 * `Fn::GetAtt` of the template's own functions, queues, buckets, tables, topics and state
 * machines, pseudo parameters, template parameters with defaults, and the string functions
 * (`Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Base64`, `Fn::FindInMap` …). Anything
 * that needs a deployed stack (`Fn::ImportValue`, attributes of unknown resource types) becomes a
 * problem naming the key — never a silently wrong string. Names and ARNs follow what AWS would
 * produce with Outpost's fixed account id; a resource without an explicit name is named after its
 * logical id (CloudFormation would add a random suffix, which no local tool can predict).
 */
import { isRecord } from './fields.ts';
import type { ProblemList } from './problems.ts';

export const ACCOUNT_ID = '000000000000';
export const DEFAULT_REGION = 'us-east-1';

export interface CfnResource {
  Type?: unknown;
  Properties?: unknown;
  Metadata?: unknown;
}

export interface CfnContext {
  region: string;
  accountId: string;
  stackName: string;
  /** Template `Resources` by logical id. */
  resources: Record<string, CfnResource>;
  /** Template parameter values (Default or overrides) by name; undefined for a parameter without a Default. */
  parameters: Record<string, unknown>;
  /** Template `Mappings` for Fn::FindInMap. */
  mappings: Record<string, unknown>;
  /** Lambda logical id → function name (the FunctionSpec name Outpost registers). */
  functionNames: Record<string, string>;
}

/** Marker for `Ref: AWS::NoValue`; the key holding it is dropped. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export function lambdaArn(region: string, name: string): string {
  return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}`;
}

export function stateMachineArn(region: string, name: string): string {
  return `arn:aws:states:${region}:${ACCOUNT_ID}:stateMachine:${name}`;
}

/** `arn:aws:sqs:region:acct:name` or a queue URL → `name`; a bare name is returned unchanged. */
export function queueNameFromArnOrUrl(value: string): string {
  if (value.startsWith('arn:')) return value.split(':').slice(5).join(':');
  if (/^https?:\/\//.test(value)) return value.replace(/\/+$/, '').split('/').pop() ?? value;
  return value;
}

/** `arn:aws:s3:::bucket` → `bucket`. */
export function bucketNameFromArn(value: string): string {
  return value.startsWith('arn:') ? (value.split(':').pop() ?? value).split('/')[0] ?? value : value;
}

const INTRINSIC_KEYS = new Set([
  'Ref',
  'Condition',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::If',
  'Fn::Select',
  'Fn::Split',
  'Fn::FindInMap',
  'Fn::ImportValue',
  'Fn::Base64',
  'Fn::GetAZs',
  'Fn::Equals',
  'Fn::And',
  'Fn::Or',
  'Fn::Not',
  'Fn::Cidr',
  'Fn::Length',
  'Fn::ToJsonString',
  'Fn::Transform',
]);

/** True when `value` is a one-key object such as `{ Ref: … }` or `{ 'Fn::GetAtt': … }`. */
export function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && INTRINSIC_KEYS.has(keys[0] ?? '');
}

class Unresolvable extends Error {
  readonly fix: string | undefined;
  constructor(message: string, fix?: string) {
    super(message);
    this.fix = fix;
  }
}

function typeOf(res: CfnResource | undefined): string {
  return typeof res?.Type === 'string' ? res.Type : '';
}

function props(res: CfnResource | undefined): Record<string, unknown> {
  return isRecord(res?.Properties) ? res.Properties : {};
}

/**
 * Resolves every intrinsic inside `value`. Returns undefined (and records one problem at `key`)
 * when something cannot be resolved locally.
 */
export function resolveIntrinsics(value: unknown, ctx: CfnContext, key: string, problems: ProblemList): unknown {
  try {
    const out = new Resolver(ctx).value(value);
    return out === NO_VALUE ? undefined : out;
  } catch (e) {
    if (e instanceof Unresolvable) {
      problems.error(key, e.message, e.fix);
      return undefined;
    }
    throw e;
  }
}

/** Like resolveIntrinsics, but the result must be a string (numbers are stringified). */
export function resolveString(value: unknown, ctx: CfnContext, key: string, problems: ProblemList): string | undefined {
  const out = resolveIntrinsics(value, ctx, key, problems);
  if (out === undefined) return undefined;
  if (typeof out === 'string') return out;
  if (typeof out === 'number' || typeof out === 'boolean') return String(out);
  problems.error(key, `expected a string, got ${Array.isArray(out) ? 'an array' : typeof out}`);
  return undefined;
}

class Resolver {
  readonly ctx: CfnContext;
  readonly #busy = new Set<string>();
  constructor(ctx: CfnContext) {
    this.ctx = ctx;
  }

  value(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.value(x)).filter((x) => x !== NO_VALUE);
    if (!isRecord(v)) return v;
    if (isIntrinsic(v)) {
      const [fn, arg] = Object.entries(v)[0] ?? ['', undefined];
      return this.call(fn, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = this.value(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }

  str(v: unknown, what: string): string {
    const r = this.value(v);
    if (typeof r === 'string') return r;
    if (typeof r === 'number' || typeof r === 'boolean') return String(r);
    throw new Unresolvable(`${what} must resolve to a string`);
  }

  list(v: unknown, what: string): unknown[] {
    const r = this.value(v);
    if (!Array.isArray(r)) throw new Unresolvable(`${what} must be a list`);
    return r;
  }

  call(fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(this.str(arg, 'Ref'));
      case 'Fn::GetAtt': {
        const dot = typeof arg === 'string' ? arg.indexOf('.') : -1;
        const parts = typeof arg === 'string' ? (dot === -1 ? [arg, ''] : [arg.slice(0, dot), arg.slice(dot + 1)]) : this.list(arg, 'Fn::GetAtt');
        const [id, attr] = parts.map((p) => (typeof p === 'string' ? p : this.str(p, 'Fn::GetAtt')));
        if (!id || !attr) throw new Unresolvable('Fn::GetAtt needs [LogicalId, Attribute]', 'write `!GetAtt MyFunction.Arn`');
        return this.getAtt(id, attr);
      }
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::Join': {
        const [delim, items] = this.list(arg, 'Fn::Join');
        const list = this.list(items, 'Fn::Join');
        return list.map((x) => this.str(x, 'Fn::Join item')).join(typeof delim === 'string' ? delim : '');
      }
      case 'Fn::Select': {
        const [index, items] = this.list(arg, 'Fn::Select');
        const list = this.list(items, 'Fn::Select');
        const i = Number(this.value(index));
        if (!Number.isInteger(i) || i < 0 || i >= list.length) throw new Unresolvable(`Fn::Select index ${String(index)} is out of range`);
        return list[i];
      }
      case 'Fn::Split': {
        const [delim, source] = this.list(arg, 'Fn::Split');
        return this.str(source, 'Fn::Split source').split(this.str(delim, 'Fn::Split delimiter'));
      }
      case 'Fn::Base64':
        return Buffer.from(this.str(arg, 'Fn::Base64'), 'utf8').toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${this.ctx.region}${z}`);
      case 'Fn::ToJsonString':
        return JSON.stringify(this.value(arg));
      case 'Fn::Length':
        return this.list(arg, 'Fn::Length').length;
      case 'Fn::FindInMap': {
        const [map, top, second] = this.list(arg, 'Fn::FindInMap').map((x) => this.str(x, 'Fn::FindInMap'));
        const m = this.ctx.mappings[map ?? ''];
        const t = isRecord(m) ? m[top ?? ''] : undefined;
        const v = isRecord(t) ? t[second ?? ''] : undefined;
        if (v === undefined) throw new Unresolvable(`Fn::FindInMap: Mappings.${map}.${top}.${second} does not exist`, 'add it under Mappings');
        return this.value(v);
      }
      case 'Fn::ImportValue':
        throw new Unresolvable('Fn::ImportValue reads another deployed stack, which Outpost cannot see', 'use a literal value or a template parameter with a Default');
      default:
        throw new Unresolvable(`${fn} cannot be evaluated locally`, 'use a literal value or a template parameter with a Default');
    }
  }

  sub(arg: unknown): string {
    let template: string;
    let vars: Record<string, unknown> = {};
    if (typeof arg === 'string') template = arg;
    else if (Array.isArray(arg) && typeof arg[0] === 'string') {
      template = arg[0];
      if (isRecord(arg[1])) vars = arg[1];
    } else throw new Unresolvable('Fn::Sub needs a string or [string, { vars }]');
    return template.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
      // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      const n = name.trim();
      if (Object.hasOwn(vars, n)) return this.str(vars[n], `Fn::Sub variable ${n}`);
      const dot = n.indexOf('.');
      if (dot > 0 && !n.startsWith('AWS::')) return this.str(this.getAtt(n.slice(0, dot), n.slice(dot + 1)), `\${${n}}`);
      return this.str(this.ref(n), `\${${n}}`);
    });
  }

  ref(name: string): unknown {
    const { ctx } = this;
    switch (name) {
      case 'AWS::Region':
        return ctx.region;
      case 'AWS::AccountId':
        return ctx.accountId;
      case 'AWS::StackName':
        return ctx.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    if (Object.hasOwn(ctx.parameters, name)) {
      const v = ctx.parameters[name];
      if (v === undefined) throw new Unresolvable(`parameter ${name} has no Default, and Outpost takes no parameter overrides`, `add \`Default:\` to Parameters.${name}`);
      return v;
    }
    if (Object.hasOwn(ctx.functionNames, name)) return ctx.functionNames[name];
    const res = ctx.resources[name];
    if (!res) throw new Unresolvable(`Ref ${name}: no parameter or resource with that name`, 'check the logical id');
    const type = typeOf(res);
    switch (type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${ctx.region}.amazonaws.com/${ctx.accountId}/${this.resourceName(name, 'QueueName')}`;
      case 'AWS::S3::Bucket':
        return this.resourceName(name, 'BucketName');
      case 'AWS::DynamoDB::Table':
      case 'AWS::Serverless::SimpleTable':
        return this.resourceName(name, 'TableName');
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${ctx.region}:${ctx.accountId}:${this.resourceName(name, 'TopicName')}`;
      case 'AWS::Serverless::StateMachine':
      case 'AWS::StepFunctions::StateMachine':
        return stateMachineArn(ctx.region, this.stateMachineName(name));
      case 'AWS::Events::EventBus':
        return this.resourceName(name, 'Name');
      case 'AWS::SSM::Parameter':
        return this.resourceName(name, 'Name');
    }
    throw new Unresolvable(`Ref ${name}: Outpost cannot tell what a ${type || 'resource without a Type'} refers to locally`, 'use a literal value instead');
  }

  getAtt(id: string, attr: string): unknown {
    const { ctx } = this;
    if (Object.hasOwn(ctx.functionNames, id)) {
      const fn = ctx.functionNames[id] ?? id;
      if (attr === 'Arn') return lambdaArn(ctx.region, fn);
      throw new Unresolvable(`Fn::GetAtt ${id}.${attr}: functions only have Arn locally`, `use ${id}.Arn`);
    }
    const res = ctx.resources[id];
    if (!res) throw new Unresolvable(`Fn::GetAtt ${id}.${attr}: no resource ${id} in the template`, 'check the logical id');
    const type = typeOf(res);
    const fail = (): never => {
      throw new Unresolvable(`Fn::GetAtt ${id}.${attr}: attribute ${attr} of ${type || 'this resource'} is not known locally`, 'use a literal value instead');
    };
    switch (type) {
      case 'AWS::SQS::Queue': {
        const q = this.resourceName(id, 'QueueName');
        if (attr === 'Arn') return `arn:aws:sqs:${ctx.region}:${ctx.accountId}:${q}`;
        if (attr === 'QueueName') return q;
        if (attr === 'QueueUrl') return `https://sqs.${ctx.region}.amazonaws.com/${ctx.accountId}/${q}`;
        return fail();
      }
      case 'AWS::S3::Bucket': {
        const b = this.resourceName(id, 'BucketName');
        if (attr === 'Arn') return `arn:aws:s3:::${b}`;
        if (attr === 'DomainName' || attr === 'RegionalDomainName') return `${b}.s3.${ctx.region}.amazonaws.com`;
        return fail();
      }
      case 'AWS::DynamoDB::Table':
      case 'AWS::Serverless::SimpleTable': {
        if (attr === 'Arn') return `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${this.resourceName(id, 'TableName')}`;
        return fail();
      }
      case 'AWS::SNS::Topic':
        if (attr === 'TopicArn') return `arn:aws:sns:${ctx.region}:${ctx.accountId}:${this.resourceName(id, 'TopicName')}`;
        if (attr === 'TopicName') return this.resourceName(id, 'TopicName');
        return fail();
      case 'AWS::Serverless::StateMachine':
      case 'AWS::StepFunctions::StateMachine':
        if (attr === 'Name') return this.stateMachineName(id);
        if (attr === 'Arn') return stateMachineArn(ctx.region, this.stateMachineName(id));
        return fail();
    }
    return fail();
  }

  /** The resource's explicit name property (resolved), or its logical id. */
  resourceName(id: string, prop: string): string {
    const p = props(this.ctx.resources[id])[prop];
    if (p === undefined) return id;
    if (this.#busy.has(id)) throw new Unresolvable(`${id}.${prop} refers to itself`);
    this.#busy.add(id);
    try {
      return this.str(p, `${id}.Properties.${prop}`);
    } finally {
      this.#busy.delete(id);
    }
  }

  stateMachineName(id: string): string {
    const p = props(this.ctx.resources[id]);
    return p['Name'] !== undefined ? this.resourceName(id, 'Name') : this.resourceName(id, 'StateMachineName');
  }
}

/**
 * Replaces `${Key}` placeholders in every string of a state machine definition, as SAM's
 * DefinitionSubstitutions do. Unknown placeholders are left alone: they may be meant literally.
 */
export function substitutePlaceholders(value: unknown, subs: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{([^}]+)\}/g, (m, k: string) => (Object.hasOwn(subs, k) ? (subs[k] ?? m) : m));
  if (Array.isArray(value)) return value.map((v) => substitutePlaceholders(v, subs));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitutePlaceholders(v, subs)]));
  return value;
}

/** Redrive and visibility settings of a queue declared in the template, for the queue trigger reading it. */
export function queueSettings(
  ctx: CfnContext,
  queueName: string,
): { maxRetries?: number; deadLetterQueue?: string; visibilityTimeoutSeconds?: number } {
  const r = new Resolver(ctx);
  for (const [id, res] of Object.entries(ctx.resources)) {
    if (typeOf(res) !== 'AWS::SQS::Queue') continue;
    let name: string;
    try {
      name = r.resourceName(id, 'QueueName');
    } catch {
      continue;
    }
    if (name !== queueName) continue;
    const p = props(res);
    const out: { maxRetries?: number; deadLetterQueue?: string; visibilityTimeoutSeconds?: number } = {};
    if (typeof p['VisibilityTimeout'] === 'number') out.visibilityTimeoutSeconds = p['VisibilityTimeout'];
    const redrive = p['RedrivePolicy'];
    if (isRecord(redrive)) {
      const max = Number(redrive['maxReceiveCount']);
      // SQS counts receives; Outpost counts retries after the first delivery.
      if (Number.isInteger(max) && max >= 1) out.maxRetries = max - 1;
      try {
        const dlq = r.value(redrive['deadLetterTargetArn']);
        if (typeof dlq === 'string') out.deadLetterQueue = queueNameFromArnOrUrl(dlq);
      } catch {
        // A dead-letter target Outpost cannot name is left out; the trigger still works.
      }
    }
    return out;
  }
  return {};
}
