/**
 * @module
 * `firebase-functions/params` on Outpost: parameters read the function's environment
 * (`.env`, `.env.<project>` and secrets, which the gcf loader gives the function), falling back
 * to the declared `default`. Secrets defined with `defineSecret` are read the same way; put
 * them in the project's secrets or `.env.local` in dev.
 */

export interface ParamOptions<T> {
  default?: T;
  description?: string;
  label?: string;
  input?: unknown;
  immutable?: boolean;
}

function env(name: string): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env[name];
}

export class Param<T> {
  readonly name: string;
  readonly options: ParamOptions<T>;
  readonly #parse: (raw: string) => T;
  constructor(name: string, options: ParamOptions<T>, parse: (raw: string) => T) {
    this.name = name;
    this.options = options;
    this.#parse = parse;
  }
  /** The value from the environment, else the default; throws when neither is set. */
  value(): T {
    const raw = env(this.name);
    if (raw !== undefined) return this.#parse(raw);
    if (this.options.default !== undefined) return this.options.default;
    throw new Error(`parameter ${this.name} has no value: set ${this.name} in the function's .env file or secrets`);
  }
  toString(): string {
    return `params.${this.name}`;
  }
  toJSON(): string {
    return this.toString();
  }
  equals(other: T): { value(): boolean } {
    return { value: () => this.value() === other };
  }
}

export class SecretParam extends Param<string> {
  constructor(name: string) {
    super(name, {}, (raw) => raw);
  }
}

export const defineString = (name: string, options: ParamOptions<string> = {}): Param<string> => new Param(name, options, (raw) => raw);
export const defineInt = (name: string, options: ParamOptions<number> = {}): Param<number> => new Param(name, options, (raw) => Number.parseInt(raw, 10));
export const defineFloat = (name: string, options: ParamOptions<number> = {}): Param<number> => new Param(name, options, (raw) => Number.parseFloat(raw));
export const defineBoolean = (name: string, options: ParamOptions<boolean> = {}): Param<boolean> => new Param(name, options, (raw) => /^true$/i.test(raw.trim()));
export const defineList = (name: string, options: ParamOptions<string[]> = {}): Param<string[]> =>
  new Param(name, options, (raw) => {
    try {
      const v: unknown = JSON.parse(raw);
      if (Array.isArray(v)) return v.map(String);
    } catch {
      // not JSON: a comma-separated list
    }
    return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  });
export const defineSecret = (name: string): SecretParam => new SecretParam(name);
export const defineJsonSecret = (name: string): Param<unknown> => new Param<unknown>(name, {}, (raw) => JSON.parse(raw) as unknown);

function firebaseConfig(): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(env('FIREBASE_CONFIG') ?? '{}');
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A parameter Firebase defines itself, read from the environment Cloud Functions provides. */
class BuiltinParam extends Param<string> {
  readonly #read: () => string | undefined;
  constructor(name: string, read: () => string | undefined) {
    super(name, {}, (raw) => raw);
    this.#read = read;
  }
  override value(): string {
    return env(this.name) ?? this.#read() ?? '';
  }
}

const builtin = (name: string, read: () => string | undefined): Param<string> => new BuiltinParam(name, read);

export const projectID = builtin('PROJECT_ID', () => env('GCLOUD_PROJECT') ?? (firebaseConfig()['projectId'] as string | undefined));
export const gcloudProject = builtin('GCLOUD_PROJECT', () => firebaseConfig()['projectId'] as string | undefined);
export const databaseURL = builtin('DATABASE_URL', () => firebaseConfig()['databaseURL'] as string | undefined);
export const storageBucket = builtin('STORAGE_BUCKET', () => firebaseConfig()['storageBucket'] as string | undefined);

export default {
  Param, SecretParam, defineString, defineInt, defineFloat, defineBoolean, defineList, defineSecret, defineJsonSecret,
  projectID, gcloudProject, databaseURL, storageBucket,
};
