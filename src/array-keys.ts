// Listing the chunk keys of a sharded array: only the index stores that exist, several at once, or
// all of them in one pass when the factory can list its whole tree (directories under a prefix).

import type { ArrayShard, ShardHost } from "./array-shards.js";
import { joinChunkKey } from "./chunk-key.js";
import { ArrayShardError } from "./errors.js";
import { type IndexEntry, PendingStore } from "./index-stores.js";
import type { AbsolutePath, IndexStoreKeys } from "./types.js";

/** Index stores listed at once; a listing holds at most one descriptor (a zip's through the pool). */
const LIST_CONCURRENCY = 16;
const SUB_META = new Set(["/zarr.json", "/.zarray", "/.zattrs", "/.zgroup"]);
/** Logical keys handed out per step of the iteration (keeps the async overhead off each key). */
const BATCH = 4096;

/**
 * The array's logical chunk keys under `prefix`; the index stores' own metadata is never listed,
 * and only keys that route back to the same index store and key are. When the factory can list
 * every index store's keys in one pass (`listStoreKeys`, e.g. one recursive readdir of a directory
 * prefix), that listing is used for the stores it made, and only the others (given elsewhere,
 * behind a symlink) are listed one by one; otherwise each index store that exists is listed, in
 * index order, several at once.
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
  if (m.layout === null) return;
  if (m.factory.listStoreKeys !== undefined) {
    yield* listFromTree(m, host, prefix, m.factory.listStoreKeys);
    return;
  }
  yield* listEach(m, host, prefix, await m.existing(host, { strict: true }));
}

/** The logical keys of index store `index` among its inner `keys`, under `prefix`. */
function logicalKeys(
  m: ArrayShard,
  host: ShardHost,
  prefix: AbsolutePath,
  index: readonly number[],
  id: string,
  keys: readonly AbsolutePath[],
  out: AbsolutePath[],
): void {
  const layout = m.layout!;
  const head = `/${m.path}/`;
  for (const inner of keys) {
    if (SUB_META.has(inner)) continue;
    const rel = joinChunkKey(index, inner, layout);
    if (rel === null) continue;
    const key = `${head}${rel}` as AbsolutePath;
    if (key.startsWith(prefix) && host.routesToIndex(key, m, id, inner)) out.push(key);
  }
}

async function* listFromTree(
  m: ArrayShard,
  host: ShardHost,
  prefix: AbsolutePath,
  listStoreKeys: NonNullable<ArrayShard["factory"]["listStoreKeys"]>,
): AsyncIterable<AbsolutePath> {
  m.assertEnumerable();
  const grid = m.layout!.grid;
  const inGrid = (t: readonly number[]) =>
    t.length === m.dims && t.every((i, d) => Number.isSafeInteger(i) && i >= 0 && i < grid[d]!);
  const owns = m.factory.ownsStore;
  let listed: IndexStoreKeys[];
  try {
    listed = await listStoreKeys();
  } catch (e) {
    throw new ArrayShardError(m.path, "cannot list its index stores", { cause: e });
  }
  const seen = new Set<string>();
  /** Index stores to list one by one: not made by the factory, or behind a symlink. */
  const rest: (readonly number[])[] = [];
  let out: AbsolutePath[] = [];
  for (const s of listed) {
    if (!inGrid(s.index)) continue;
    const id = s.index.join(",");
    if (seen.has(id) || !(s.metadata || m.exists(s.index, id))) continue;
    seen.add(id);
    m.noteExisting(s.index, id);
    const given = m.stores.get(id)?.store;
    if (s.keys === null || (given !== undefined && owns?.(given, s.index) !== true)) {
      rest.push(s.index);
      continue;
    }
    logicalKeys(m, host, prefix, s.index, id, s.keys, out);
    if (out.length >= BATCH) {
      yield* out;
      out = [];
    }
  }
  yield* out;
  for (const t of m.knownIndices()) if (!seen.has(t.join(","))) rest.push(t);
  if (rest.length === 0) return;
  const entries: IndexEntry[] = [];
  for (const index of rest) {
    const s = m.store(index, index.join(","));
    entries.push({ index, store: s instanceof PendingStore ? await s.resolved() : s });
  }
  yield* listEach(m, host, prefix, entries);
}

/** Lists each of `entries` by itself, `LIST_CONCURRENCY` at once, yielding in their order. */
async function* listEach(
  m: ArrayShard,
  host: ShardHost,
  prefix: AbsolutePath,
  entries: readonly IndexEntry[],
): AsyncIterable<AbsolutePath> {
  const listed = new Array<AbsolutePath[] | undefined>(entries.length);
  const ready = new Array<Promise<void>>(entries.length);
  let next = 0;
  const start = () => {
    const i = next++;
    if (i >= entries.length) return;
    const { index, store } = entries[i]!;
    ready[i] = (async () => {
      if (typeof store.list !== "function") {
        throw new ArrayShardError(
          m.path,
          `index store [${index.join(", ")}] (${String(store)}) cannot list its keys`,
        );
      }
      const inner: AbsolutePath[] = [];
      for await (const k of store.list("/")) inner.push(k);
      const keys: AbsolutePath[] = [];
      logicalKeys(m, host, prefix, index, index.join(","), inner, keys);
      listed[i] = keys;
    })();
    ready[i]!.catch(() => {}); // rethrown when awaited in order
  };
  for (let i = 0; i < Math.min(LIST_CONCURRENCY, entries.length); i++) start();
  for (let i = 0; i < entries.length; i++) {
    try {
      await ready[i];
    } finally {
      start();
    }
    yield* listed[i]!;
    listed[i] = undefined;
  }
}
