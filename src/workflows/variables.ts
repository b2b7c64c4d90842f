/**
 * @module
 * Workflow variable scopes. The top-level state machine has one scope; each Parallel branch and
 * Map iteration gets a child scope that can read its ancestors' variables but assigns only into
 * itself, so nothing assigned inside a branch leaks out (AWS's visibility rules).
 */

export class VariableScope {
  readonly #own = new Map<string, unknown>();
  readonly #parent: VariableScope | undefined;

  constructor(parent?: VariableScope) {
    this.#parent = parent;
  }

  /** A child scope for a branch or iteration. */
  child(): VariableScope {
    return new VariableScope(this);
  }

  /** Assigns in this scope. */
  assign(values: Iterable<[string, unknown]>): void {
    for (const [name, value] of values) this.#own.set(name, value);
  }

  /** Every visible variable, inner scopes shadowing outer ones. */
  visible(): Map<string, unknown> {
    const out = this.#parent === undefined ? new Map<string, unknown>() : this.#parent.visible();
    for (const [name, value] of this.#own) out.set(name, value);
    return out;
  }
}
