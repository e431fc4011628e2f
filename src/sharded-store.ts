import { listArrayKeys } from "./array-keys.js";
import { ArrayShard, DEFAULT_PROBE_LIMIT, type ShardHost } from "./array-shards.js";
import { splitChunkKey } from "./chunk-key.js";
import type { FromConfigOptions, StoreConfig, ToConfigOptions } from "./config/codec.js";
import { MountError, markTaggedErrors, NotWritableError, ShardedStoreError, StoreError } from "./errors.js";
import { shardedStoreExtensions as hooks } from "./extensions.js";
import { normalizeMount, normalizePrefix } from "./keys.js";
import { LazyIndexEntry } from "./lazy-index-entry.js";
import type { MapShardsOptions, ShardTransform } from "./map-shards.js";
import { sliceRange } from "./range.js";
import { RouteMemo } from "./route-memo.js";
import { MountRouter } from "./router.js";
import type { ShardVisits } from "./shard-visits.js";
import { callStore, describeStore as describe, describeRoute, getVia, setVia } from "./store-call.js";
import type {
  AbsolutePath,
  GetOptions,
  RangeQuery,
  Resolution,
  ShardEntry,
  ShardedStoreOptions,
  Store,
} from "./types.js";

interface GroupMount {
  kind: "group";
  path: string;
  store: Store;
}

/** Finding every store of a composition: loaded on first use (issue 12). */
const visits = () => import("./shard-visits.js");

export type { ShardVisits } from "./shard-visits.js";

/** @internal State of one sharded array (see {@link ArrayShard}). */
export type ArrayMount = ArrayShard;

type Mount = GroupMount | ArrayShard;

export type { ShardEntry, ShardedStoreOptions, ShardVisit } from "./types.js";

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === "function";
}

function listStore(store: Store, prefix: AbsolutePath, where: string): AsyncIterable<AbsolutePath> {
  if (typeof store.list === "function") return store.list(prefix);
  const cause = new Error("the store cannot list its keys");
  throw new StoreError(`ShardedStore ${where} (${describe(store)})`, "list", prefix, cause);
}

function missingHook(what: string): never {
  throw hookError(what);
}

/** The error {@link missingHook} throws, for callers that must reject instead. */
function hookError(what: string): ShardedStoreError {
  return new ShardedStoreError(
    "StoreError",
    `ShardedStore.${what} needs the ${what === "mapShards" ? "shard transforms" : "config support"}: import ShardedStore from "shardedstore" or "shardedstore/node"`,
  );
}

/**
 * A Zarr store made of other stores. Keys below a group-shard mount path go to that store (mount
 * path stripped); chunks of an array shard go to one store per index tuple of the array's first
 * `dims` chunk indices; everything else goes to the base store. Pass it straight to zarrita.
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * import { ShardedStore, MemoryStore } from "shardedstore";
 * const store = new ShardedStore(new MemoryStore(), { shards: { people: new MemoryStore() } });
 * const grp = await zarr.create(zarr.root(store));
 * const arr = await zarr.create(grp.resolve("people/ages"), { shape: [4], chunkShape: [2], dtype: "int32" });
 * ```
 */
export class ShardedStore implements Store {
  /** The base store: every key outside a mount. */
  readonly base: Store;
  readonly #router = new MountRouter<Mount>();
  readonly #groups = new Map<string, GroupMount>();
  readonly #arrays = new Map<string, ArrayShard>();
  /** Remembered routes (see {@link RouteMemo}), cleared whenever an array's layout changes. */
  readonly #memo = new RouteMemo();
  /** Array shards whose metadata is not read yet; while any exist, remembered base routes are re-checked. */
  #unread = 0;
  readonly #host: ShardHost;

  constructor(base: Store, options: ShardedStoreOptions = {}) {
    if (base === null || typeof base !== "object" || typeof base.get !== "function") {
      throw new MountError("ShardedStore: the base store must be an object with a get() method");
    }
    this.base = base;
    this.#host = {
      base,
      call: callStore,
      layoutChanged: (m, previous) => this.#layoutChanged(m, previous),
      routesToIndex: (key, m, id, inner) => {
        if (this.#mountOf(key) !== m) return false;
        const split = splitChunkKey(key, m.dims, m.layout, m.path.length + 2);
        return split !== null && split.index.join(",") === id && split.inner === inner;
      },
    };
    for (const [raw, store] of Object.entries(options.shards ?? {})) {
      const path = normalizeMount(raw);
      if (store === null || typeof store !== "object" || typeof store.get !== "function") {
        throw new MountError(`shard "${path}" must be a store (an object with a get() method)`);
      }
      const m: GroupMount = { kind: "group", path, store };
      this.#router.add(path, m);
      this.#groups.set(path, m);
    }
    const ready = new WeakSet<Store>();
    const probeLimit = options.probeLimit ?? DEFAULT_PROBE_LIMIT;
    for (const [raw, spec] of Object.entries(options.arrayShards ?? {})) {
      const path = normalizeMount(raw);
      const m = new ArrayShard(path, spec, ready, probeLimit);
      this.#router.add(path, m);
      this.#arrays.set(path, m);
      this.#unread++;
    }
  }

  /** Group shards by normalised mount path. */
  get shardMounts(): ReadonlyMap<string, Store> {
    return new Map([...this.#groups].map(([p, m]) => [p, m.store]));
  }

  /** Array shards by normalised array path: their `dims`, factory and the index stores opened so far. */
  get arrayMounts(): ReadonlyMap<string, ArrayShard> {
    return this.#arrays;
  }

  /**
   * Where `key` goes: the store, the key inside it and the mount path. Synchronous and cheap (a walk
   * over the key's segments). Before an array's metadata has been read, its chunk keys are routed by
   * their shape alone; every read and write loads the metadata first and then routes strictly.
   *
   * @example
   * ```ts
   * sharded.resolve("/simulation/fine/foo/c/10/3/0/1"); // { mount: "simulation/fine/foo", key: "/c/0/1", index: [10, 3], … }
   * ```
   */
  resolve(key: AbsolutePath): Resolution {
    // One map lookup for a remembered key; a new one is checked and routed.
    const cached = this.#memo.get(key);
    if (cached !== undefined) return cached;
    const m = this.#router.route(key, "ShardedStore");
    return this.#routeNew(key, this.#router.lastHash, m);
  }

  /** Routes a checked key under mount `m` (from the router) and offers the route to the memo. */
  #routeNew(key: AbsolutePath, hash: number, m: Mount | null): Resolution {
    const r = this.#resolveUncached(key, m);
    // Array chunk keys routed before their metadata was read are not remembered: routing may change.
    if (r.kind === "array" && (m as ArrayShard).state !== "known") return r;
    return this.#memo.offer(key, hash, r);
  }

  #resolveUncached(key: AbsolutePath, m = this.#mountOf(key)): Resolution {
    if (m === null) return { store: this.base, key, mount: "", kind: "base" };
    if (m.kind === "group")
      return {
        store: m.store,
        key: key.slice(m.path.length + 1) as AbsolutePath,
        mount: m.path,
        kind: "group",
      };
    const split = splitChunkKey(key, m.dims, m.layout, m.path.length + 2);
    if (split === null) return { store: this.base, key, mount: "", kind: "base" };
    return {
      store: m.storeAt(split.index, split.flat),
      key: split.inner,
      mount: m.path,
      kind: "array",
      index: split.index,
    };
  }

  #mountOf(key: string): Mount | null {
    return this.#router.find(key)?.mount ?? null;
  }

  /** Forgets remembered routes after an array's layout changed. */
  #layoutChanged(m: ArrayShard, previous: ArrayShard["state"]): void {
    if (previous === "unknown" && m.state !== "unknown") this.#unread--;
    else if (previous !== "unknown" && m.state === "unknown") this.#unread++;
    this.#memo.clear();
  }

  /** Routes `key`, loading the metadata of a sharded array first if it has not been read yet. */
  #route(key: AbsolutePath): Resolution | Promise<Resolution> {
    // A remembered route is final, except a base route while an array's metadata is unread (its
    // key may turn out to be a chunk of that array).
    const cached = this.#memo.get(key);
    if (cached !== undefined && (cached.kind !== "base" || this.#unread === 0)) return cached;
    const m = this.#router.route(key, "ShardedStore");
    const hash = this.#router.lastHash;
    // The key is checked and its mount found once; the route is computed from them.
    if (m !== null && m.kind === "array" && m.state === "unknown")
      return m.load(this.#host).then(() => this.#routeNew(key, hash, m));
    return this.#routeNew(key, hash, m);
  }

  get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    let r: Resolution | Promise<Resolution>;
    try {
      r = this.#route(key);
    } catch (e) {
      return Promise.reject(e);
    }
    if (isThenable(r)) return r.then((res) => getVia(res, opts));
    return getVia(r, opts);
  }

  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const r = await this.#route(key);
    return callStore(r, "getRange", async (s, k) => {
      if (s.getRange) return s.getRange(k, range, opts);
      const v = await s.get(k, opts);
      return v === undefined ? undefined : sliceRange(v, range, `${describe(s)} ${k}`);
    });
  }

  set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    let r: Resolution | Promise<Resolution>;
    try {
      // Array metadata documents route to the base, so a remembered shard route skips that check.
      const cached = this.#memo.get(key);
      if (cached !== undefined && cached.kind !== "base") r = cached;
      else {
        const meta = this.#arrayMetaTarget(key);
        if (meta !== null) return meta.mount.writeDocument(this.#host, key, meta.name, value);
        r = this.#route(key);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return isThenable(r) ? r.then((res) => this.#set(res, value)) : this.#set(r, value);
  }

  #set(r: Resolution, value: Uint8Array): Promise<void> {
    if (r.kind === "array") {
      // An index store comes into being with its first chunk: its standalone metadata goes first.
      const m = this.#arrays.get(r.mount)!;
      if (!m.isReady(r.store)) return m.ensure(this.#host, r.index!, r.store).then(() => setVia(r, value));
    }
    return setVia(r, value);
  }

  /** If `key` is a metadata document of a sharded array (or a group where one should be), which. */
  #arrayMetaTarget(
    key: AbsolutePath,
  ): { mount: ArrayShard; name: "zarr.json" | ".zarray" | ".zgroup" | ".zattrs" } | null {
    const m = this.#mountOf(key);
    if (m === null || m.kind !== "array") return null;
    const rest = key.slice(m.path.length + 2);
    if (rest === "zarr.json" || rest === ".zarray" || rest === ".zgroup" || rest === ".zattrs")
      return { mount: m, name: rest };
    return null;
  }

  async delete(key: AbsolutePath): Promise<void> {
    const meta = this.#arrayMetaTarget(key);
    const r = await this.#route(key);
    await callStore(r, "delete", (s, k) => {
      if (!s.delete) throw new NotWritableError(describeRoute(r), k, "delete");
      return s.delete(k);
    });
    if (meta !== null && (meta.name === "zarr.json" || meta.name === ".zarray"))
      await meta.mount.deleteMetadata(this.#host, meta.name);
  }

  /**
   * Every logical key under `prefix` (a path prefix; `/` or omitted = all), exactly once: base keys,
   * group-shard keys with their mount path, array-shard chunks with their array path and index. The
   * index stores' own metadata is never listed. Costs the keys listed: only index stores that exist
   * are visited.
   *
   * @example
   * ```ts
   * for await (const key of sharded.list("/simulation")) console.log(key);
   * ```
   */
  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    const mounts = [...this.#router.within(p)];
    const insideMount =
      mounts.length === 1 && p.startsWith(`/${mounts[0]!.path}/`) && p !== `/${mounts[0]!.path}/`;
    if (!(insideMount && mounts[0]!.mount.kind === "group")) {
      // Which base keys are chunks depends on each array's metadata: read it before filtering.
      for (const { mount } of mounts)
        if (mount.kind === "array" && mount.state === "unknown") await mount.load(this.#host);
      for await (const k of listStore(this.base, p, "base store")) {
        if (this.#resolveUncached(k).store === this.base) yield k;
      }
    }
    for (const { path, mount } of mounts) {
      if (mount.kind === "group") {
        const inner = p.length > path.length + 2 ? (p.slice(path.length + 1) as AbsolutePath) : "/";
        for await (const k of listStore(mount.store, inner, `shard "${path}"`)) yield `/${path}${k}`;
      } else {
        yield* listArrayKeys(mount, this.#host, p);
      }
    }
  }

  /**
   * Every store of the composition: the base, each group shard, and each array-shard index store
   * that exists (found through the factory's listing or the index stores given; never the grid).
   *
   * @example
   * ```ts
   * const all = await sharded.shards(); // [{ kind: "base", mount: "", store }, …]
   * ```
   */
  async shards(options: { signal?: AbortSignal } = {}): Promise<ShardEntry[]> {
    return (await visits()).shards(this.#host, this.#groups, this.#arrays, options);
  }

  /**
   * Every store of the composition, found as {@link shards} finds them, without opening any and
   * without recording them: each visit's `use(fn)` runs `fn` with its store, an index store the
   * composition does not hold open being opened for that call and closed after it. The list holds
   * only packed index tuples (visits are made as they are asked for): one pass over 10^6 index
   * stores keeps none of them (`shards()` keeps every one open until `close()`). `record: true`
   * records the index stores found as known (as `shards()` does), for a config listing them.
   *
   * @example
   * ```ts
   * for (const v of await sharded.shardsOnDemand()) await v.use(async (s: Store) => s.get("/.zarray"));
   * ```
   */
  async shardsOnDemand(options: { signal?: AbortSignal; record?: boolean } = {}): Promise<ShardVisits> {
    return (await visits()).shardsOnDemand(this.#host, this.#groups, this.#arrays, options);
  }

  /**
   * Every store of the composition with its own keys (as the store lists them: an index store's
   * metadata included, the base's keys under mounts too), found as {@link shards} finds them — base,
   * group shards, then each array's index stores. Directory index stores made by a factory are all
   * listed in one walk of its prefix; the others one by one, several at once. A store that cannot
   * list has no keys here.
   *
   * @example
   * ```ts
   * for await (const { kind, mount, index, keys } of sharded.shardKeys()) console.log(kind, mount, index, keys.length);
   * ```
   */
  async *shardKeys(
    options: { signal?: AbortSignal } = {},
  ): AsyncIterable<ShardEntry & { keys: AbsolutePath[] }> {
    yield* (await visits()).shardKeys(this.#host, this.#groups, this.#arrays, options);
  }

  /**
   * Applies `fn` to the base, every group shard and every array-shard index store, concurrently, and
   * returns the new composition (array shards included, with a factory so arrays can still grow).
   * The source is never modified.
   *
   * @example
   * ```ts
   * const zipped = await sharded.mapShards(toZipStoreWithPrefix("out/data"), { onProgress: console.log });
   * ```
   */
  mapShards(fn: ShardTransform, options?: MapShardsOptions): Promise<ShardedStore> {
    const impl = hooks.mapShards as
      | ((s: ShardedStore, f: ShardTransform, o?: MapShardsOptions) => Promise<ShardedStore>)
      | undefined;
    if (impl === undefined) return Promise.reject(hookError("mapShards"));
    return impl(this, fn, options);
  }

  /** Closes every store of the composition (flushing zips etc.); reports the first failure after all. */
  async close(): Promise<void> {
    const stores = new Set<Store>([this.base, ...[...this.#groups.values()].map((m) => m.store)]);
    for (const m of this.#arrays.values())
      for (const e of m.stores.values()) if (!(e instanceof LazyIndexEntry) || e.opened) stores.add(e.store);
    const results = await Promise.allSettled([...stores].map(async (s) => s.close?.()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /**
   * The composition as JSON (the Python original's envelope, plus what we need to rebuild the
   * array-shard factories). `ShardedStore.fromConfig(s.toConfig())` reads the same data. Lists the
   * index stores found so far (`await store.shards()` first finds them all).
   *
   * @example
   * ```ts
   * await writeFile("store.json", JSON.stringify(sharded.toConfig({ form: "compact" }), null, 1));
   * ```
   */
  toConfig(options?: ToConfigOptions): StoreConfig {
    const impl = hooks.toConfig as ((s: ShardedStore, o?: ToConfigOptions) => StoreConfig) | undefined;
    return impl === undefined ? missingHook("toConfig") : impl(this, options);
  }

  /**
   * Rebuilds a composition from {@link ShardedStore.toConfig} output or a config of the Python
   * original. Relative paths resolve against `baseDir`.
   *
   * @example
   * ```ts
   * const store = ShardedStore.fromConfig(JSON.parse(text), { baseDir: "/data/composition" });
   * ```
   */
  static fromConfig(config: unknown, options?: FromConfigOptions): ShardedStore {
    const impl = hooks.fromConfig as ((c: unknown, o?: FromConfigOptions) => ShardedStore) | undefined;
    return impl === undefined ? missingHook("fromConfig") : impl(config, options);
  }

  toString(): string {
    return `ShardedStore(${describe(this.base)}, ${this.#groups.size} group shards, ${this.#arrays.size} array shards)`;
  }
}

markTaggedErrors(ShardedStore);
