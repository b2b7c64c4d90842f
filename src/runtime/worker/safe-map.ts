/**
 * @module
 * A Map whose methods were captured before user code ran. The instance runtime shares its
 * realm with the function, so a function that replaces `Map.prototype.get` (or `Array.prototype
 * .push`) must break only its own code, never the runtime's bookkeeping of its requests.
 */
const { apply } = Reflect;
const { get, set, delete: remove } = Map.prototype;

export class SafeMap<K, V> extends Map<K, V> {
  override get(key: K): V | undefined {
    return apply(get, this, [key]) as V | undefined;
  }
  override set(key: K, value: V): this {
    apply(set, this, [key, value]);
    return this;
  }
  override delete(key: K): boolean {
    return apply(remove, this, [key]) as boolean;
  }
}

/** Appends without looking up Array.prototype.push. */
export function append<T>(list: T[], value: T): void {
  list[list.length] = value;
}
