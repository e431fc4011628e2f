// Listing the chunk keys of a sharded array: only the index stores that exist, several at once.

import type { ArrayShard, ShardHost } from "./array-shards.js";
import { joinChunkKey } from "./chunk-key.js";
import { ArrayShardError } from "./errors.js";
import type { AbsolutePath } from "./types.js";

const LIST_CONCURRENCY = 8;
const SUB_META = new Set(["/zarr.json", "/.zarray", "/.zattrs", "/.zgroup"]);

/**
 * The array's logical chunk keys under `prefix`, index store by index store in index order (8
 * listed at once); the index stores' own metadata is never listed, and only keys that route back
 * to the same store and key are.
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
  const entries = await m.existing(host, { strict: true });
  const listed = new Array<AbsolutePath[] | undefined>(entries.length);
  const ready = new Array<Promise<void>>(entries.length);
  let next = 0;
  const start = () => {
    const i = next++;
    if (i >= entries.length) return;
    const { index, store } = entries[i]!;
    ready[i] = (async () => {
      const keys: AbsolutePath[] = [];
      if (typeof store.list !== "function") {
        throw new ArrayShardError(
          m.path,
          `index store [${index.join(", ")}] (${String(store)}) cannot list its keys`,
        );
      }
      for await (const inner of store.list("/")) {
        if (SUB_META.has(inner)) continue;
        const rel = joinChunkKey(index, inner, layout);
        if (rel === null) continue;
        const key = `/${m.path}/${rel}` as AbsolutePath;
        if (key.startsWith(prefix) && host.routesBack(key, store, inner)) keys.push(key);
      }
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
