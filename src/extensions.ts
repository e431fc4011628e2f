// Hooks that the config codec and mapShards install on ShardedStore when loaded, so the core store
// imports neither (no import cycles: the store knows no config format and no transform).

/**
 * The functions behind `store.toConfig()`, `ShardedStore.fromConfig()` and `store.mapShards()`,
 * installed by `config/codec.ts` and `map-shards.ts` (both loaded by the package entry points).
 *
 * @example
 * ```ts
 * if (shardedStoreExtensions.toConfig === undefined) throw new Error("config support not loaded");
 * ```
 */
export interface ShardedStoreExtensions {
  toConfig?: (store: never, options?: never) => unknown;
  fromConfig?: (config: unknown, options?: never) => unknown;
  mapShards?: (store: never, fn: never, options?: never) => Promise<unknown>;
}

/**
 * The installed hooks (see {@link ShardedStoreExtensions}).
 *
 * @example
 * ```ts
 * shardedStoreExtensions.mapShards !== undefined; // true once "shardedstore" is imported
 * ```
 */
export const shardedStoreExtensions: ShardedStoreExtensions = {};
