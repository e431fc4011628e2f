// Listing the chunk keys of a sharded array: the entry points, which load the listing code
// (array-key-listing.ts) on first use so that opening a composition stays small (issue 12).

import type { ArrayShard, ShardHost } from "./array-shards.js";
import type { AbsolutePath } from "./types.js";

export type { IndexStoreListing } from "./array-key-listing.js";

import type { IndexStoreListing } from "./array-key-listing.js";

/**
 * Every index store of the array that exists, with its own keys (see array-key-listing.ts).
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
  yield* (await import("./array-key-listing.js")).indexStoreKeys(m, host, options);
}

/**
 * The logical chunk keys of the array under `prefix` (see array-key-listing.ts).
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
  yield* (await import("./array-key-listing.js")).listArrayKeys(m, host, prefix);
}
