// A JSON object whose members are made while it is written (by json-writer.ts): the expanded
// `array_shards` of 10^5 index stores is written to a file member by member, never built whole.

/**
 * An object member of a config whose members are produced on demand, each time it is walked:
 * `writeJson` (json-writer.ts) writes them one at a time; `JSON.stringify` (through `toJSON`)
 * makes them all.
 *
 * @example
 * ```ts
 * const m = new DeferredMembers(function* () { yield ["0.0", { a: 1 }]; });
 * JSON.stringify({ x: m }); // '{"x":{"0.0":{"a":1}}}'
 * ```
 */
export class DeferredMembers {
  readonly #members: () => Iterable<readonly [string, unknown]>;

  constructor(members: () => Iterable<readonly [string, unknown]>) {
    this.#members = members;
  }

  /** The members, made afresh on each call. */
  members(): Iterable<readonly [string, unknown]> {
    return this.#members();
  }

  /** The members as one object (own properties, `"__proto__"` included, as JSON.parse would make them). */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.#members());
  }
}
