import type { IndexBox } from "./index-set.js";

/**
 * A key in a store: always starts with `/`, the same type zarrita uses.
 *
 * @example
 * ```ts
 * const key: AbsolutePath = "/people/.zarray";
 * ```
 */
export type AbsolutePath = `/${string}`;

/**
 * A byte range: `offset`/`length` from the start, or the last `suffixLength` bytes.
 *
 * @example
 * ```ts
 * const head: RangeQuery = { offset: 0, length: 16 };
 * const tail: RangeQuery = { suffixLength: 16 };
 * ```
 */
export type RangeQuery = { offset: number; length: number } | { suffixLength: number };

/**
 * Options for reads.
 *
 * @example
 * ```ts
 * await store.get("/zarr.json", { signal: AbortSignal.timeout(1000) });
 * ```
 */
export interface GetOptions {
  signal?: AbortSignal;
}

/**
 * The store contract: a superset of zarrita's `AsyncReadable & AsyncWritable`. Only `get` is
 * required; a missing key is `undefined`, never an exception.
 *
 * @example
 * ```ts
 * const map = new Map<string, Uint8Array>();
 * const store: Store = { get: async (key) => map.get(key) };
 * ```
 */
export interface Store {
  get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  getRange?(
    key: AbsolutePath,
    range: RangeQuery,
    opts?: GetOptions,
  ): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  set?(key: AbsolutePath, value: Uint8Array): Promise<void> | void;
  /** Deleting a missing key is not an error. (zarrita stores return a boolean; accepted.) */
  // biome-ignore lint/suspicious/noConfusingVoidType: shards may be void-returning functions
  delete?(key: AbsolutePath): Promise<void | boolean> | void | boolean;
  list?(prefix?: AbsolutePath): AsyncIterable<AbsolutePath>;
  close?(): Promise<void> | void;
}

/**
 * Makes the store for one index tuple of an array shard.
 *
 * @example
 * ```ts
 * const factory: ArrayShardFactory = ([i, j]) => new MemoryStore();
 * ```
 */
export type ArrayShardFactory = ((index: readonly number[]) => Store | Promise<Store>) & {
  /**
   * Lists the index tuples whose stores exist at the factory's location (e.g. the folders under a
   * prefix). Without it, a composition finds existing index stores by asking each index tuple of
   * the grid for its metadata — refused past a bound (see `probeLimit`).
   */
  listIndices?: (signal?: AbortSignal) => AsyncIterable<readonly number[]>;
  /**
   * Lists the keys of every index store at the factory's location in one pass (e.g. one recursive
   * `readdir` of the prefix), so listing a composition costs its keys rather than one listing per
   * index store. An entry with `keys: null` is one the factory could not list this way (a symlinked
   * folder): the composition lists that store itself.
   */
  listStoreKeys?: (signal?: AbortSignal) => Promise<IndexStoreKeys[]>;
  /** Whether `store` is what the factory makes for `index` (so `listStoreKeys` lists its keys). */
  ownsStore?: (store: Store, index: readonly number[]) => boolean;
  /**
   * Set when the factory cannot create index stores (e.g. its kind is not registered here): the
   * reason. Missing index stores then read as empty, and only writing to one fails, with it.
   */
  cannotCreate?: string;
};

/**
 * One index store found by a factory's `listStoreKeys`: its index, its keys (`null`: list the store
 * itself), and whether it holds array metadata (a `zarr.json` or `.zarray`), as `listIndices` requires.
 *
 * @example
 * ```ts
 * const found: IndexStoreKeys = { index: [10, 3], keys: ["/.zarray", "/0"], metadata: true };
 * ```
 */
export interface IndexStoreKeys {
  index: readonly number[];
  keys: AbsolutePath[] | null;
  metadata: boolean;
  /** Reached through a symbolic link (the store's folder or an index folder above it). */
  linked?: boolean;
}

/**
 * How one array is split into index stores: by its first `dims` chunk indices.
 *
 * @example
 * ```ts
 * const spec: ArrayShardSpec = { dims: 1, factory: arrayShardDirectoryStore("data/foo") };
 * ```
 */
export interface ArrayShardSpec {
  dims: number;
  factory: ArrayShardFactory;
  /** Index stores that already exist (e.g. from a config), used instead of calling the factory. */
  stores?: ReadonlyArray<{ index: readonly number[]; store: Store }>;
  /**
   * Index tuples whose stores exist and are the factory's output (a compact config): opened
   * through the factory on first use. Given `stores` or `indices`, they (with what the factory lists
   * and what is written later) are taken as every index store that exists.
   */
  indices?: readonly IndexBox[];
}

/**
 * Where a key goes: the store, the key inside it, the mount path ("" for the base store), and for
 * an array-shard chunk the index tuple.
 *
 * @example
 * ```ts
 * const { store, key, mount } = sharded.resolve("/people/.zarray"); // mount "people", key "/.zarray"
 * ```
 */
export interface Resolution {
  store: Store;
  key: AbsolutePath;
  mount: string;
  kind: "base" | "group" | "array";
  index?: readonly number[];
}

/**
 * One store of a composition: the base, a group shard or an array-shard index store.
 *
 * @example
 * ```ts
 * for (const s of await sharded.shards()) console.log(s.kind, s.mount, s.index);
 * ```
 */
export interface ShardEntry {
  kind: "base" | "group" | "array";
  /** "" for the base, the mount path otherwise. */
  mount: string;
  store: Store;
  index?: readonly number[];
}

/**
 * One store of a composition, opened only while it is used: from `ShardedStore.shardsOnDemand()`,
 * for one pass over every store (10^5–10^6 of them) without keeping any open.
 *
 * @example
 * ```ts
 * for (const v of await sharded.shardsOnDemand()) console.log(v.mount, await v.use(async (s: Store) => (await s.get("/.zarray"))?.length));
 * ```
 */
export interface ShardVisit {
  kind: "base" | "group" | "array";
  /** "" for the base, the mount path otherwise. */
  mount: string;
  index?: readonly number[];
  /**
   * Runs `fn` with the store: the composition's own when it is open (the base, group shards, index
   * stores opened before), else one opened for this call and closed when `fn` settles.
   */
  use<T>(fn: (store: Store) => Promise<T>): Promise<T>;
}

/**
 * Options of {@link ShardedStore}: group shards by mount path, and array shards by array path.
 *
 * @example
 * ```ts
 * const opts: ShardedStoreOptions = {
 *   shards: { people: new DirectoryStore("people.zarr") },
 *   arrayShards: { "simulation/fine/foo": { dims: 2, factory: arrayShardDirectoryStore("fine_foo") } },
 * };
 * ```
 */
export interface ShardedStoreOptions {
  shards?: Record<string, Store>;
  arrayShards?: Record<string, ArrayShardSpec>;
  /**
   * Index tuples asked one by one for their metadata when an array's factory cannot list its index
   * stores and none were given (default `DEFAULT_PROBE_LIMIT`, 100,000); past it, operations that must
   * find every index store fail with an `ArrayShardError`.
   */
  probeLimit?: number;
}
