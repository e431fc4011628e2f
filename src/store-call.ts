// Calling one store of a composition: foreign errors become StoreErrors naming the store and key.
import { isShardedStoreError, NotWritableError, StoreError, TAGGED_ERRORS } from "./errors.js";
import type { AbsolutePath, GetOptions, Resolution, Store } from "./types.js";

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === "function";
}

/**
 * A short name of a store for messages: its `toString()`, or its class name.
 *
 * @example
 * ```ts
 * describeStore(new MemoryStore()); // "MemoryStore"
 * ```
 */
export function describeStore(store: Store): string {
  let s: string;
  try {
    s = String(store);
  } catch {
    s = "[object Object]"; // no prototype (Object.create(null)) or a throwing toString
  }
  return s === "[object Object]" ? (store.constructor?.name ?? "store") : s;
}

/**
 * Whether a store throws our tagged errors itself (its promises can be handed through unwrapped).
 *
 * @example
 * ```ts
 * isTaggedStore(new MemoryStore()); // true
 * ```
 */
export function isTaggedStore(store: Store): boolean {
  return (store as { [TAGGED_ERRORS]?: boolean })[TAGGED_ERRORS] === true;
}

/**
 * Where a resolved key went, for messages: `base store` or `shard "a" [1, 2]`.
 *
 * @example
 * ```ts
 * describeRoute({ store: shard, key: "/0", mount: "a", kind: "array", index: [1] }); // 'ShardedStore shard "a" [1] (MemoryStore)'
 * ```
 */
export function describeRoute(r: Resolution): string {
  const where =
    r.kind === "base" ? "base store" : `shard "${r.mount}"${r.index ? ` [${r.index.join(", ")}]` : ""}`;
  return `ShardedStore ${where} (${describeStore(r.store)})`;
}

/**
 * Calls one store method on a resolved key; a foreign error (not one of ours) becomes a
 * {@link StoreError} naming the store, the operation and the inner key.
 *
 * @example
 * ```ts
 * const bytes = await callStore(route, "get", (s, k) => s.get(k));
 * ```
 */
export function callStore<T>(
  r: Resolution,
  op: string,
  fn: (s: Store, k: AbsolutePath) => T | Promise<T>,
): Promise<T> {
  const wrap = (e: unknown) => (isShardedStoreError(e) ? e : new StoreError(describeRoute(r), op, r.key, e));
  let out: T | Promise<T>;
  try {
    out = fn(r.store, r.key);
  } catch (e) {
    return Promise.reject(wrap(e));
  }
  if (isThenable(out)) return out.then(undefined, (e) => Promise.reject(wrap(e)));
  return Promise.resolve(out);
}

/**
 * `get` on a resolved key: our own stores' promises are handed through (they throw tagged errors
 * already: no extra hop), foreign stores' errors are wrapped.
 *
 * @example
 * ```ts
 * const bytes = await getVia(sharded.resolve("/a/0"));
 * ```
 */
export function getVia(r: Resolution, opts?: GetOptions): Promise<Uint8Array | undefined> {
  if (isTaggedStore(r.store)) {
    try {
      return Promise.resolve(r.store.get(r.key, opts));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return callStore(r, "get", (s, k) => s.get(k, opts));
}

/**
 * `set` on a resolved key, like {@link getVia}; a store without `set` is a {@link NotWritableError}.
 *
 * @example
 * ```ts
 * await setVia(sharded.resolve("/a/0"), bytes);
 * ```
 */
export function setVia(r: Resolution, value: Uint8Array): Promise<void> {
  const store = r.store;
  if (typeof store.set !== "function") return Promise.reject(new NotWritableError(describeRoute(r), r.key));
  if (isTaggedStore(store)) {
    try {
      return Promise.resolve(store.set(r.key, value));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return callStore(r, "set", (s, k) => s.set!(k, value));
}
