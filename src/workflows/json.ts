/**
 * @module
 * Small JSON helpers shared by the workflow engine: a JSON value type, plain-object checks,
 * structural equality and cloning. Kept separate so every other module agrees on what "a JSON
 * object" means (arrays and null are not objects here).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** True for `{...}` values — not arrays, not null. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality as JSON sees it (key order ignored, numbers by value). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}

/**
 * A deep copy through JSON, so values handed to user code or stored in history cannot alias
 * the interpreter's own data. `undefined` becomes `null` at the top level (JSON has no
 * undefined, and ASL treats a missing result as null).
 */
export function cloneJson<T>(value: T): T {
  if (value === undefined) return null as T;
  return JSON.parse(JSON.stringify(value)) as T;
}

/** JSON text for history records; `undefined` is recorded as `null`. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** Parses JSON text recorded by {@link toJsonText}. */
export function fromJsonText(text: string | undefined): unknown {
  if (text === undefined) return null;
  return JSON.parse(text) as unknown;
}

/** The JSON type name used in error messages. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
