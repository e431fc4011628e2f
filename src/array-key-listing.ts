// Listing the chunk keys of a sharded array (loaded on first listing through array-keys.ts): only the
// index stores that exist, several at once, or all of them in one pass when the factory can list its
// whole tree (directories under a prefix).

import type { ArrayShard, ShardHost } from "./array-shards.js";
import { joinChunkKey } from "./chunk-key.js";
import { ArrayShardError } from "./errors.js";
import { type IndexEntry, PendingStore } from "./index-stores.js";
import type { AbsolutePath, IndexStoreKeys, Store } from "./types.js";

/** Index stores listed at once; a listing holds at most one descriptor (a zip's through the pool). */
const LIST_CONCURRENCY = 16;
const SUB_META = new Set(["/zarr.json", "/.zarray", "/.zattrs", "/.zgroup"]);
/** Logical keys handed out per step of the iteration (keeps the async overhead off each key). */
const BATCH = 4096;
/** At most this long (ms) without letting timers and I/O run while listing index stores. */
const YIELD_EVERY_MS = 50;
const nextTurn: (wake: () => void) => void =
  typeof setImmediate === "function" ? (wake) => setImmediate(wake) : (wake) => setTimeout(wake, 0);

/**
 * One index store that exists with its own keys (its metadata included). `store` is `null` for an
 * index store found by the factory's one-pass listing and not opened yet (`m.store(index, id)` opens it).
 *
 * @example
 * ```ts
 * const s: IndexStoreListing = { index: [10, 3], id: "10,3", store: null, keys: ["/.zarray", "/0"] };
 * ```
 */
export interface IndexStoreListing {
  index: readonly number[];
  id: string;
  store: Store | null;
  keys: AbsolutePath[];
}

/**
 * Every index store of the array that exists — those `existing()` finds — with its own keys. When
 * the factory can list every index store's keys in one pass (`listStoreKeys`, e.g. one walk of a
 * directory prefix), that listing serves the stores it made, and only the others (given as other
 * stores, behind a symlink) are listed one by one; otherwise each is listed by itself, in index
 * order, several at once (each listing holds at most one descriptor; a zip's comes from the pool).
 *
 * @example
 * ```ts
 * for await (const { index, keys } of indexStoreKeys(shard, host)) console.log(index, keys.length);
 * ```
 */
export async function* indexStoreKeys(
  m: ArrayShard,
  host: ShardHost,
  options: { signal?: AbortSignal } = {},
): AsyncIterable<IndexStoreListing> {
  if (m.state === "unknown") await m.load(host);
  const listStoreKeys = m.factory.listStoreKeys;
  const grid = m.layout?.grid;
  // The one-pass listing finds only what existing() would: with listIndices, the stores holding
  // metadata and the known ones; without (it would probe the grid unless told), the known ones.
  const discovers = m.factory.listIndices !== undefined;
  if (listStoreKeys === undefined || grid === undefined || !(discovers || m.authoritative)) {
    yield* listEach(m, await m.existing(host, { strict: true, ...options }), options.signal);
    return;
  }
  m.assertEnumerable();
  const inGrid = (t: readonly number[]) =>
    t.length === m.dims && t.every((i, d) => Number.isSafeInteger(i) && i >= 0 && i < grid[d]!);
  const owns = m.factory.ownsStore;
  let listed: IndexStoreKeys[];
  try {
    listed = await listStoreKeys(options.signal);
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new ArrayShardError(m.path, "cannot list its index stores", { cause: e });
  }
  const seen = new Set<string>();
  /** Index stores to list one by one: not made by the factory, or behind a symlink. */
  const rest: (readonly number[])[] = [];
  for (const s of listed) {
    if (!inGrid(s.index)) continue;
    const id = s.index.join(",");
    if (seen.has(id) || !((discovers && s.metadata) || m.exists(s.index, id))) continue;
    seen.add(id);
    m.noteExisting(s.index, id);
    const given = m.stores.get(id)?.store;
    if (s.keys === null || (given !== undefined && owns?.(given, s.index) !== true)) rest.push(s.index);
    else yield { index: s.index, id, store: given ?? null, keys: s.keys };
  }
  for (const t of m.knownIndices()) if (!seen.has(t.join(","))) rest.push(t);
  if (rest.length === 0) return;
  const entries: IndexEntry[] = [];
  for (const index of rest) {
    const s = m.store(index, index.join(","));
    entries.push({ index, store: s instanceof PendingStore ? await s.resolved() : s });
  }
  yield* listEach(m, entries, options.signal);
}

/**
 * The array's logical chunk keys under `prefix` (see {@link indexStoreKeys} for how the index
 * stores are found and listed); the index stores' own metadata is never listed, and only keys that
 * route back to the same index store and key are.
 *
 * @example
 * ```ts
 * for await (const key of listArrayKeys(shard, host, "/")) console.log(key);
 * ```
 */
export async function* listArrayKeys(
  m: ArrayShard,
  host: ShardHost,
  prefix: AbsolutePath,
): AsyncIterable<AbsolutePath> {
  if (m.state === "unknown") await m.load(host);
  const layout = m.layout;
  if (layout === null) return;
  const head = `/${m.path}/`;
  let out: AbsolutePath[] = [];
  for await (const { index, id, keys } of indexStoreKeys(m, host)) {
    for (const inner of keys) {
      if (SUB_META.has(inner)) continue;
      const rel = joinChunkKey(index, inner, layout);
      if (rel === null) continue;
      const key = `${head}${rel}` as AbsolutePath;
      if (key.startsWith(prefix) && host.routesToIndex(key, m, id, inner)) out.push(key);
    }
    if (out.length >= BATCH) {
      yield* out;
      out = [];
    }
  }
  yield* out;
}

/** Lists each of `entries` by itself, `LIST_CONCURRENCY` at once, yielding in their order. */
async function* listEach(
  m: ArrayShard,
  entries: readonly IndexEntry[],
  signal?: AbortSignal,
): AsyncIterable<IndexStoreListing> {
  const listed = new Array<AbsolutePath[] | undefined>(entries.length);
  const ready = new Array<Promise<void>>(entries.length);
  let next = 0;
  const start = () => {
    const i = next++;
    if (i >= entries.length) return;
    const { index, store } = entries[i]!;
    ready[i] = (async () => {
      signal?.throwIfAborted();
      if (typeof store.list !== "function") {
        throw new ArrayShardError(
          m.path,
          `index store [${index.join(", ")}] (${String(store)}) cannot list its keys`,
        );
      }
      const keys: AbsolutePath[] = [];
      for await (const k of store.list("/")) keys.push(k);
      listed[i] = keys;
    })();
    ready[i]!.catch(() => {}); // rethrown when awaited in order
  };
  for (let i = 0; i < Math.min(LIST_CONCURRENCY, entries.length); i++) start();
  // Stores that answer without I/O of their own (a zip pool in blocking mode, memory stores) settle
  // in microtasks only, which would keep timers (a progress bar) and I/O waiting to the end.
  let turn = performance.now();
  for (let i = 0; i < entries.length; i++) {
    if (performance.now() - turn > YIELD_EVERY_MS) {
      await new Promise<void>(nextTurn);
      turn = performance.now();
    }
    try {
      await ready[i];
    } finally {
      start();
    }
    const { index, store } = entries[i]!;
    yield { index, id: index.join(","), store, keys: listed[i]! };
    listed[i] = undefined;
  }
}
