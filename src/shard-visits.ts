// Every store of a composition: all opened (`shards()`), or one pass with each index store opened
// only while it is used (`shardsOnDemand()`). Loaded on first use, like array-shard-ops.ts.

import { existingIndices } from "./array-shard-ops.js";
import type { ArrayShard, ShardHost } from "./array-shards.js";
import { ArrayShardError } from "./errors.js";
import { isThenable, PendingStore } from "./index-stores.js";
import { LazyIndexEntry } from "./lazy-index-entry.js";
import type { ShardEntry, ShardVisit, Store } from "./types.js";

/**
 * The index store of `index` for one use: `kept` when the composition has it open (the caller
 * leaves it open), else made now — a config's entry afresh, another through the factory — and not
 * kept (the caller closes it).
 */
export async function borrowIndexStore(
  shard: ArrayShard,
  index: readonly number[],
): Promise<{ store: Store; kept: boolean }> {
  const hit = shard.stores.get(index.join(","));
  if (hit instanceof LazyIndexEntry) return { kept: hit.opened, store: hit.borrow() };
  if (hit !== undefined) {
    const s = hit.store;
    return { store: s instanceof PendingStore ? await s.resolved() : s, kept: true };
  }
  let made: Store | Promise<Store>;
  try {
    made = shard.factory(index);
    if (isThenable(made)) made = await made;
  } catch (e) {
    throw new ArrayShardError(shard.path, `factory failed for index [${index.join(", ")}]`, { cause: e });
  }
  if (made === null || made === undefined || typeof (made as Store).get !== "function") {
    throw new ArrayShardError(shard.path, `factory for index [${index.join(", ")}] did not return a store`);
  }
  return { store: made, kept: false };
}

/** Runs `fn` with a borrowed index store, closing it after when the composition does not keep it. */
async function useIndexStore<T>(
  shard: ArrayShard,
  index: readonly number[],
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const { store, kept } = await borrowIndexStore(shard, index);
  if (kept) return fn(store);
  let result: T;
  try {
    result = await fn(store);
  } catch (e) {
    // The first failure is the one to report; the store is dropped either way.
    await Promise.resolve(store.close?.()).catch(() => {});
    throw e;
  }
  await store.close?.();
  return result;
}

/** See `ShardedStore.shardsOnDemand`. */
export async function shardsOnDemand(
  host: ShardHost,
  groups: ReadonlyMap<string, { path: string; store: Store }>,
  arrays: ReadonlyMap<string, ArrayShard>,
  options: { signal?: AbortSignal },
): Promise<ShardVisit[]> {
  const own = (kind: "base" | "group", mount: string, store: Store): ShardVisit => ({
    kind,
    mount,
    use: (fn) => fn(store),
  });
  const out: ShardVisit[] = [own("base", "", host.base)];
  for (const m of groups.values()) out.push(own("group", m.path, m.store));
  for (const m of arrays.values()) {
    const opts = { strict: true, ...(options.signal ? { signal: options.signal } : {}) };
    for (const index of await existingIndices(m, host, opts))
      out.push({ kind: "array", mount: m.path, index, use: (fn) => useIndexStore(m, index, fn) });
  }
  return out;
}

/** See `ShardedStore.shards`. */
export async function shards(
  host: ShardHost,
  groups: ReadonlyMap<string, { path: string; store: Store }>,
  arrays: ReadonlyMap<string, ArrayShard>,
  options: { signal?: AbortSignal },
): Promise<ShardEntry[]> {
  const out: ShardEntry[] = [{ kind: "base", mount: "", store: host.base }];
  for (const m of groups.values()) out.push({ kind: "group", mount: m.path, store: m.store });
  for (const m of arrays.values()) {
    const opts = { strict: true, ...(options.signal ? { signal: options.signal } : {}) };
    for (const { index, store } of await m.existing(host, opts))
      out.push({ kind: "array", mount: m.path, store, index });
  }
  return out;
}
