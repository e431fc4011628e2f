/** The tags of the errors this package throws. */
export type ErrorTag =
  | "InvalidKeyError"
  | "MountError"
  | "ArrayShardError"
  | "NotWritableError"
  | "StoreError"
  | "ConfigError";

/**
 * Base class of every error this package throws; `tag` tells them apart.
 *
 * @example
 * ```ts
 * try { await store.set("/../x", bytes); } catch (e) { if (e instanceof ShardedStoreError) console.log(e.tag); }
 * ```
 */
export class ShardedStoreError extends Error {
  readonly tag: ErrorTag;
  constructor(tag: ErrorTag, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.tag = tag;
    this.name = tag;
  }
}

/**
 * A key that is not a valid store key (`..`, `.`, empty segments, backslashes, NUL, no leading `/`).
 *
 * @example
 * ```ts
 * await new MemoryStore().set("/a/../b", bytes); // throws InvalidKeyError
 * ```
 */
export class InvalidKeyError extends ShardedStoreError {
  readonly key: string;
  constructor(key: string, reason: string, where = "store") {
    super("InvalidKeyError", `${where}: invalid key ${JSON.stringify(key)}: ${reason}`);
    this.key = key;
  }
}

/**
 * Mounts that conflict (one inside another) or are malformed.
 *
 * @example
 * ```ts
 * new ShardedStore(base, { shards: { a: s1, "a/b": s2 } }); // throws MountError naming "a" and "a/b"
 * ```
 */
export class MountError extends ShardedStoreError {
  constructor(message: string) {
    super("MountError", message);
  }
}

/**
 * Array-shard metadata that cannot be split (chunk size ≠ 1 on a sharded dimension, unsupported codec…).
 *
 * @example
 * ```ts
 * // zarr.create(root.resolve("foo"), { shape: [4, 4], chunkShape: [2, 2], dtype: "float32" })
 * // through a ShardedStore with arrayShards { foo: { dims: 1, … } } rejects with ArrayShardError
 * ```
 */
export class ArrayShardError extends ShardedStoreError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super("ArrayShardError", `array shard "${path}": ${message}`, options);
    this.path = path;
  }
}

/**
 * A write (set/delete) to a store that cannot be written.
 *
 * @example
 * ```ts
 * await sharded.set("/ro/x", bytes); // the shard at "ro" has no `set`: throws NotWritableError
 * ```
 */
export class NotWritableError extends ShardedStoreError {
  constructor(store: string, key: string, op = "set") {
    super("NotWritableError", `${store}: cannot ${op} ${JSON.stringify(key)}: the store is read-only`);
  }
}

/**
 * A failure inside a store (I/O, network), naming the store and the real key.
 *
 * @example
 * ```ts
 * // a DirectoryStore whose file cannot be read throws StoreError("DirectoryStore(/data): get \"/a\": EACCES…")
 * ```
 */
export class StoreError extends ShardedStoreError {
  constructor(store: string, op: string, key: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super("StoreError", `${store}: ${op} ${JSON.stringify(key)} failed: ${why}`, { cause });
  }
}

/**
 * A config that cannot be used; `path` is the JSON path of the offending member.
 *
 * @example
 * ```ts
 * ShardedStore.fromConfig({ name: "Nope" }); // ConfigError: config.name: …
 * ```
 */
export class ConfigError extends ShardedStoreError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super("ConfigError", `${path}: ${message}`, options);
    this.path = path;
  }
}

/**
 * Type guard for this package's errors, optionally of one tag.
 *
 * @example
 * ```ts
 * if (isShardedStoreError(err, "InvalidKeyError")) console.error(err.message);
 * ```
 */
export function isShardedStoreError<T extends ErrorTag>(
  err: unknown,
  tag?: T,
): err is ShardedStoreError & { tag: T } {
  return err instanceof ShardedStoreError && (tag === undefined || err.tag === tag);
}

/**
 * Marks a store class whose failures are already this package's tagged errors naming the store and
 * the key, so a ShardedStore can hand its promises through without wrapping them.
 *
 * @example
 * ```ts
 * class MyStore {} // get/set/list that throw StoreError naming the store and the key
 * markTaggedErrors(MyStore);
 * ```
 */
export const TAGGED_ERRORS: unique symbol = Symbol.for("shardedstore.taggedErrors");

/** Sets {@link TAGGED_ERRORS} on a store class's prototype. */
export function markTaggedErrors(cls: { prototype: object }): void {
  Object.defineProperty(cls.prototype, TAGGED_ERRORS, { value: true });
}
