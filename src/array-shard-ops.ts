// What an ArrayShard does after opening — reading and writing its metadata, listing and probing
// its index stores — loaded on first use so that opening a composition stays small (issue 12).

import type { ChunkLayout, ParsedArrayMetadata } from "./array-metadata.js";
import { parseArrayMetadata } from "./array-metadata.js";
import type { ArrayShard } from "./array-shards.js";
import { eachLimit } from "./each-limit.js";
import { ArrayShardError, NotWritableError } from "./errors.js";
import { type IndexEntry, isThenable, PendingStore, type ShardHost } from "./index-stores.js";
import { compareTuples, gridTuples, sameBytes, sliceAttributes } from "./index-tuples.js";
import { describeStore } from "./store-call.js";
import type { AbsolutePath, Resolution } from "./types.js";

const CONCURRENCY = 16;
const META_NAMES = ["zarr.json", ".zarray"] as const;

function baseRes(host: ShardHost, key: AbsolutePath): Resolution {
  return { store: host.base, key, mount: "", kind: "base" };
}

function res(shard: ArrayShard, e: IndexEntry, key: AbsolutePath): Resolution {
  return { store: e.store, key, mount: shard.path, kind: "array", index: e.index };
}

/** Reads the array's metadata (and a v2 array's attributes) from the base. */
export async function loadMetadata(shard: ArrayShard, host: ShardHost): Promise<void> {
  for (const name of META_NAMES) {
    const key = `/${shard.path}/${name}` as AbsolutePath;
    const bytes = await host.call(baseRes(host, key), "get", (s, k) => s.get(k));
    if (bytes === undefined) continue;
    const parsed = parseArrayMetadata(shard.path, bytes, name, shard.dims);
    if (parsed.layout.format === 2) {
      const attrsKey = `/${shard.path}/.zattrs` as AbsolutePath;
      const attrs = await host.call(baseRes(host, attrsKey), "get", (s, k) => s.get(k));
      shard.subAttributes = attrs === undefined ? null : sliceAttributes(shard.path, attrs, shard.dims);
    }
    shard.setParsed(host, parsed);
    return;
  }
  shard.setParsed(host, null);
}

/** Writes `doc` at `key` in an index store unless it already holds exactly that. */
async function put(
  shard: ArrayShard,
  host: ShardHost,
  e: IndexEntry,
  key: AbsolutePath,
  doc: Uint8Array,
): Promise<void> {
  const r = res(shard, e, key);
  // An index store whose document is unchanged is left alone, so read-only index stores (converted
  // zips) do not stop an array from growing along a sharded dimension.
  const current = await host.call(r, "get", (s, k) => s.get(k));
  if (current !== undefined && sameBytes(current, doc)) return;
  await host.call(r, "set", (s, k) => {
    if (!s.set)
      throw new NotWritableError(
        `array shard "${shard.path}" [${e.index.join(", ")}] (${describeStore(s)})`,
        k,
      );
    return s.set(k, doc);
  });
}

/** Gives a new index store the array's standalone metadata (and v2 attributes) before its first chunk. */
export async function createIndexStore(
  shard: ArrayShard,
  host: ShardHost,
  e: IndexEntry,
  id: string,
): Promise<void> {
  if (shard.parsed !== null) await put(shard, host, e, shard.parsed.subKey, shard.parsed.subDocument);
  if (shard.subAttributes !== null)
    await put(shard, host, e, "/.zattrs" as AbsolutePath, shard.subAttributes);
  shard.known.set(id, e.index);
  shard.ready.add(e.store);
}

/**
 * Every index tuple whose index store exists, as {@link ArrayShard.existing} finds them, repeats
 * possible and nothing recorded: the known and declared ones, then the factory's listing inside the
 * grid or — for a factory that cannot list, when no index set was given — a probe of each grid
 * tuple up to `probeLimit` (past it an {@link ArrayShardError} when `strict`).
 */
export async function* candidateIndices(
  shard: ArrayShard,
  host: ShardHost,
  options: { strict: boolean; probe?: boolean; layout?: ChunkLayout | null; signal?: AbortSignal },
): AsyncGenerator<readonly number[]> {
  if (shard.state === "unknown") await shard.load(host);
  const layout = options.layout !== undefined ? options.layout : shard.layout;
  const grid = layout?.grid;
  const inGrid = (t: readonly number[]) =>
    t.length === shard.dims &&
    t.every((i, d) => Number.isSafeInteger(i) && i >= 0 && (grid === undefined || i < grid[d]!));
  shard.assertEnumerable();
  yield* shard.knownIndices();
  if (shard.factory.listIndices !== undefined) {
    for await (const t of shard.factory.listIndices(options.signal)) if (inGrid(t)) yield [...t];
  } else if (!shard.authoritative && layout !== null && layout !== undefined && options.probe !== false) {
    let total = 1;
    for (let d = 0; d < shard.dims; d++) total *= layout.grid[d]!;
    if (total <= shard.probeLimit) {
      const found = new Map<string, readonly number[]>();
      for (const t of shard.knownIndices()) found.set(t.join(","), t);
      await probe(shard, host, layout, found);
      yield* found.values();
    } else if (options.strict) {
      throw new ArrayShardError(
        shard.path,
        `cannot find its index stores: the factory cannot list them (no listIndices) and the grid has ${total} index tuples, more than the probe limit of ${shard.probeLimit} (DEFAULT_PROBE_LIMIT; raise probeLimit, give the factory listIndices, or pass the index stores)`,
      );
    }
  }
}

/**
 * The index tuples of every index store that exists ({@link candidateIndices}), each once and
 * recorded as known, in index order; no store is opened but those a probe asks.
 */
export async function existingIndices(
  shard: ArrayShard,
  host: ShardHost,
  options: { strict: boolean; probe?: boolean; layout?: ChunkLayout | null; signal?: AbortSignal },
): Promise<(readonly number[])[]> {
  const found = new Map<string, readonly number[]>();
  for await (const t of candidateIndices(shard, host, options)) {
    const id = t.join(",");
    if (!found.has(id)) found.set(id, t);
  }
  for (const [id, index] of found) if (!shard.known.has(id)) shard.known.set(id, index);
  return [...found.values()].sort(compareTuples);
}

/** See {@link ArrayShard.existing}: {@link existingIndices}, each store opened (and kept). */
export async function existing(
  shard: ArrayShard,
  host: ShardHost,
  options: { strict: boolean; probe?: boolean; layout?: ChunkLayout | null; signal?: AbortSignal },
): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for (const index of await existingIndices(shard, host, options)) {
    const store = shard.store(index, index.join(","));
    entries.push({ index, store: store instanceof PendingStore ? await store.resolved() : store });
  }
  return entries;
}

async function probe(
  shard: ArrayShard,
  host: ShardHost,
  layout: ChunkLayout,
  found: Map<string, readonly number[]>,
): Promise<void> {
  const subKey = layout.format === 3 ? "/zarr.json" : "/.zarray";
  const todo = [...gridTuples(layout.grid, shard.dims)].filter((t) => !found.has(t.join(",")));
  await eachLimit(todo, CONCURRENCY, async (index) => {
    const id = index.join(",");
    const had = shard.stores.get(id);
    let store = had?.store;
    if (store === undefined) {
      const made = shard.factory(index);
      store = isThenable(made) ? await made : made;
    }
    const doc = await host.call(res(shard, { index, store }, subKey as AbsolutePath), "get", (s, k) =>
      s.get(k),
    );
    if (doc === undefined) return;
    found.set(id, index);
    if (had === undefined) shard.stores.set(id, { index, store });
  });
}

/** See {@link ArrayShard.writeMetadata}. */
export async function writeMetadata(
  shard: ArrayShard,
  host: ShardHost,
  key: AbsolutePath,
  name: "zarr.json" | ".zarray",
  value: Uint8Array,
): Promise<void> {
  const parsed: ParsedArrayMetadata = parseArrayMetadata(shard.path, value, name, shard.dims);
  if (shard.state === "unknown") await shard.load(host);
  // A new array has no index stores worth probing for; a resize must reach every existing one.
  const prior = shard.state === "known";
  const entries = await existing(shard, host, { strict: prior, probe: prior, layout: parsed.layout });
  for (const e of shard.stores.values()) shard.ready.delete(e.store);
  await eachLimit(entries, CONCURRENCY, async (e) => {
    await put(shard, host, e, parsed.subKey, parsed.subDocument);
    shard.ready.add(e.store);
  });
  await host.call(baseRes(host, key), "set", (s, k) => {
    if (!s.set) throw new NotWritableError(`ShardedStore base store (${String(s)})`, k);
    return s.set(k, value);
  });
  if (parsed.layout.format === 3) shard.subAttributes = null;
  shard.setParsed(host, parsed);
}

/** See {@link ArrayShard.writeAttributes}. */
export async function writeAttributes(
  shard: ArrayShard,
  host: ShardHost,
  key: AbsolutePath,
  value: Uint8Array,
): Promise<void> {
  if (shard.state === "unknown") await shard.load(host);
  const sliced = shard.layout?.format === 2 ? sliceAttributes(shard.path, value, shard.dims) : null;
  if (sliced !== null) {
    const entries = await existing(shard, host, { strict: false });
    await eachLimit(entries, CONCURRENCY, (e) => put(shard, host, e, "/.zattrs" as AbsolutePath, sliced));
  }
  await host.call(baseRes(host, key), "set", (s, k) => {
    if (!s.set) throw new NotWritableError(`ShardedStore base store (${String(s)})`, k);
    return s.set(k, value);
  });
  shard.subAttributes = sliced;
}

/** See {@link ArrayShard.deleteMetadata}. */
export async function deleteMetadata(
  shard: ArrayShard,
  host: ShardHost,
  name: "zarr.json" | ".zarray",
): Promise<void> {
  const entries = await existing(shard, host, { strict: false, probe: false });
  const sub = (name === "zarr.json" ? "/zarr.json" : "/.zarray") as AbsolutePath;
  await eachLimit(entries, CONCURRENCY, async (e) => {
    shard.ready.delete(e.store);
    await host.call(res(shard, e, sub), "delete", (s, k) => s.delete?.(k));
  });
  shard.subAttributes = null;
  // The other format's document may still be there (deleting `.zarray` of a v3 array): read again.
  await loadMetadata(shard, host);
}
