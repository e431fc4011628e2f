import { ArrayShard, DEFAULT_PROBE_LIMIT, type ShardHost } from "./array-shards.js";
import { splitChunkKey } from "./chunk-key.js";
import type { FromConfigOptions, StoreConfig, ToConfigOptions } from "./config/codec.js";
import {
  ArrayShardError,
  isShardedStoreError,
  MountError,
  markTaggedErrors,
  NotWritableError,
  ShardedStoreError,
  StoreError,
  TAGGED_ERRORS,
} from "./errors.js";
import { shardedStoreExtensions as hooks } from "./extensions.js";
import { assertValidKey, normalizeMount, normalizePrefix } from "./keys.js";
import type { MapShardsOptions, ShardTransform } from "./map-shards.js";
import { sliceRange } from "./range.js";
import { MountRouter } from "./router.js";
import type { AbsolutePath, ArrayShardSpec, GetOptions, RangeQuery, Resolution, Store } from "./types.js";

interface GroupMount {
  kind: "group";
  path: string;
  store: Store;
}

/** @internal State of one sharded array (see {@link ArrayShard}). */
export type ArrayMount = ArrayShard;

type Mount = GroupMount | ArrayShard;

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
   * stores and none were given (default {@link DEFAULT_PROBE_LIMIT}); past it, operations that must
   * find every index store fail with an {@link ArrayShardError}.
   */
  probeLimit?: number;
}

const MEMO_LIMIT = 1 << 15;

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === "function";
}

function describe(store: Store): string {
  const s = String(store);
  return s === "[object Object]" ? (store.constructor?.name ?? "store") : s;
}

const isTagged = (s: Store) => (s as { [TAGGED_ERRORS]?: boolean })[TAGGED_ERRORS] === true;

function missingHook(what: string): never {
  throw new ShardedStoreError(
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
  /**
   * Remembered routes, in two generations: a route is remembered on its second sight (first sights
   * only mark the key), so keys routed once cost no memo growth; a full young generation becomes
   * the old one. Cleared whenever an array's layout changes.
   */
  #memo = new Map<string, Resolution>();
  #oldMemo = new Map<string, Resolution>();
  #seen = new Set<string>();
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
      call: (r, op, fn) => this.#call(r, op, fn),
      layoutChanged: (m, previous) => this.#layoutChanged(m, previous),
      routesBack: (key, store, inner) => {
        const back = this.#resolveUncached(key);
        return back.store === store && back.key === inner;
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
      const dims = spec?.dims;
      if (!Number.isSafeInteger(dims) || dims < 1) {
        throw new MountError(
          `array shard "${path}": dims must be a positive integer, got ${JSON.stringify(dims)}`,
        );
      }
      if (typeof spec.factory !== "function") {
        throw new MountError(`array shard "${path}": factory must be a function`);
      }
      let m: ArrayShard;
      try {
        m = new ArrayShard(path, spec, ready, probeLimit);
      } catch (e) {
        throw new MountError((e as Error).message);
      }
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
    // Kept tiny so callers inline the remembered-route lookup.
    return this.#memo.get(key) ?? this.#resolveAndRemember(key);
  }

  #resolveAndRemember(key: AbsolutePath): Resolution {
    const old = this.#oldMemo.get(key);
    if (old !== undefined) return this.#admit(key, old);
    assertValidKey(key, "ShardedStore");
    return this.#remember(key, this.#resolveUncached(key));
  }

  #admit(key: string, r: Resolution): Resolution {
    if (this.#memo.size >= MEMO_LIMIT) {
      this.#oldMemo = this.#memo;
      this.#memo = new Map();
    }
    this.#memo.set(key, r);
    return r;
  }

  /** Remembers a route just computed for a valid key on its second sight, and returns it. */
  #remember(key: AbsolutePath, r: Resolution): Resolution {
    // Array chunk keys routed before their metadata was read are not remembered: routing may change.
    if (r.kind === "array" && this.#arrays.get(r.mount)?.state !== "known") return r;
    const seen = this.#seen;
    if (seen.has(key)) return this.#admit(key, r);
    if (seen.size >= MEMO_LIMIT) this.#seen = new Set([key]);
    else seen.add(key);
    return r;
  }

  #resolveUncached(key: AbsolutePath, hit = this.#router.find(key)): Resolution {
    if (hit === null) return { store: this.base, key, mount: "", kind: "base" };
    const m = hit.mount;
    if (m.kind === "group")
      return { store: m.store, key: key.slice(hit.end) as AbsolutePath, mount: m.path, kind: "group" };
    const split = splitChunkKey(key.slice(hit.end + 1), m.dims, m.layout);
    if (split === null) return { store: this.base, key, mount: "", kind: "base" };
    return {
      store: m.store(split.index, split.id),
      key: split.inner,
      mount: m.path,
      kind: "array",
      index: split.index,
    };
  }

  /** Forgets remembered routes after an array's layout changed. */
  #layoutChanged(m: ArrayShard, previous: ArrayShard["state"]): void {
    if (previous === "unknown" && m.state !== "unknown") this.#unread--;
    else if (previous !== "unknown" && m.state === "unknown") this.#unread++;
    this.#memo.clear();
    this.#oldMemo.clear();
  }

  #cached(key: string): Resolution | undefined {
    return this.#memo.get(key) ?? this.#oldMemo.get(key);
  }

  /** Routes `key`, loading the metadata of a sharded array first if it has not been read yet. */
  #route(key: AbsolutePath): Resolution | Promise<Resolution> {
    // A remembered route is final, except a base route while an array's metadata is unread (its
    // key may turn out to be a chunk of that array).
    const cached = this.#cached(key);
    if (cached !== undefined && (cached.kind !== "base" || this.#unread === 0)) return cached;
    assertValidKey(key, "ShardedStore");
    const hit = this.#router.find(key);
    // The key is checked and its mount found once; the route is computed from them.
    if (hit !== null && hit.mount.kind === "array" && hit.mount.state === "unknown") {
      const m = hit.mount;
      return m.load(this.#host).then(() => this.#remember(key, this.#resolveUncached(key, hit)));
    }
    return this.#remember(key, this.#resolveUncached(key, hit));
  }

  /** Calls one store method on a resolved key, turning foreign errors into {@link StoreError}. */
  #call<T>(r: Resolution, op: string, fn: (s: Store, k: AbsolutePath) => T | Promise<T>): Promise<T> {
    let out: T | Promise<T>;
    try {
      out = fn(r.store, r.key);
    } catch (e) {
      return Promise.reject(this.#wrap(e, r, op));
    }
    if (isThenable(out)) return out.then(undefined, (e) => Promise.reject(this.#wrap(e, r, op)));
    return Promise.resolve(out);
  }

  #wrap(e: unknown, r: Resolution, op: string): unknown {
    if (isShardedStoreError(e)) return e;
    const where =
      r.kind === "base" ? "base store" : `shard "${r.mount}"${r.index ? ` [${r.index.join(", ")}]` : ""}`;
    return new StoreError(`ShardedStore ${where} (${describe(r.store)})`, op, r.key, e);
  }

  get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    let r: Resolution | Promise<Resolution>;
    try {
      r = this.#route(key);
    } catch (e) {
      return Promise.reject(e);
    }
    if (isThenable(r)) return r.then((res) => this.#get(res, opts));
    return this.#get(r, opts);
  }

  #get(r: Resolution, opts: GetOptions | undefined): Promise<Uint8Array | undefined> {
    // Our own stores already throw tagged errors: hand their promise through, no extra hop.
    if (isTagged(r.store)) {
      try {
        return Promise.resolve(r.store.get(r.key, opts));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#call(r, "get", (s, k) => s.get(k, opts));
  }

  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const r = await this.#route(key);
    return this.#call(r, "getRange", async (s, k) => {
      if (s.getRange) return s.getRange(k, range, opts);
      const v = await s.get(k, opts);
      return v === undefined ? undefined : sliceRange(v, range, `${describe(s)} ${k}`);
    });
  }

  set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    let r: Resolution | Promise<Resolution>;
    try {
      // Array metadata documents route to the base, so a remembered shard route skips that check.
      const cached = this.#cached(key);
      if (cached !== undefined && cached.kind !== "base") r = cached;
      else {
        const meta = this.#arrayMetaTarget(key);
        if (meta !== null) return this.#setArrayDocument(meta.mount, key, meta.name, value);
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
      if (!m.isReady(r.store)) return m.ensure(this.#host, r.index!, r.store).then(() => this.#put(r, value));
    }
    return this.#put(r, value);
  }

  #put(r: Resolution, value: Uint8Array): Promise<void> {
    const store = r.store;
    if (typeof store.set !== "function")
      return Promise.reject(new NotWritableError(this.#describeRes(r), r.key));
    // Our own stores already throw tagged errors: hand their promise through, no extra hop.
    if (isTagged(store)) {
      try {
        return Promise.resolve(store.set(r.key, value));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#call(r, "set", (s, k) => s.set!(k, value));
  }

  #describeRes(r: Resolution): string {
    return r.kind === "base"
      ? `ShardedStore base store (${describe(r.store)})`
      : `ShardedStore shard "${r.mount}" (${describe(r.store)})`;
  }

  /** If `key` is a metadata document of a sharded array (or a group where one should be), which. */
  #arrayMetaTarget(
    key: AbsolutePath,
  ): { mount: ArrayShard; name: "zarr.json" | ".zarray" | ".zgroup" | ".zattrs" } | null {
    const hit = this.#router.find(key);
    if (hit === null || hit.mount.kind !== "array") return null;
    const rest = key.slice(hit.end + 1);
    if (rest === "zarr.json" || rest === ".zarray" || rest === ".zgroup" || rest === ".zattrs")
      return { mount: hit.mount, name: rest };
    return null;
  }

  async #setArrayDocument(
    m: ArrayShard,
    key: AbsolutePath,
    name: "zarr.json" | ".zarray" | ".zgroup" | ".zattrs",
    value: Uint8Array,
  ): Promise<void> {
    if (name === ".zgroup")
      throw new ArrayShardError(m.path, "is an array shard; a group cannot be created there");
    if (name === ".zattrs") return m.writeAttributes(this.#host, key, value);
    return m.writeMetadata(this.#host, key, name, value);
  }

  async delete(key: AbsolutePath): Promise<void> {
    const meta = this.#arrayMetaTarget(key);
    const r = await this.#route(key);
    await this.#call(r, "delete", (s, k) => {
      if (!s.delete) throw new NotWritableError(this.#describeRes(r), k, "delete");
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
      for await (const k of this.#listStore(this.base, p, "base store")) {
        if (this.#resolveUncached(k).store === this.base) yield k;
      }
    }
    for (const { path, mount } of mounts) {
      if (mount.kind === "group") {
        const inner = p.length > path.length + 2 ? (p.slice(path.length + 1) as AbsolutePath) : "/";
        for await (const k of this.#listStore(mount.store, inner, `shard "${path}"`)) yield `/${path}${k}`;
      } else {
        yield* mount.listKeys(this.#host, p);
      }
    }
  }

  #listStore(store: Store, prefix: AbsolutePath, where: string): AsyncIterable<AbsolutePath> {
    if (typeof store.list !== "function") {
      throw new StoreError(
        `ShardedStore ${where} (${describe(store)})`,
        "list",
        prefix,
        new Error("the store cannot list its keys"),
      );
    }
    return store.list(prefix);
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
    const out: ShardEntry[] = [{ kind: "base", mount: "", store: this.base }];
    for (const m of this.#groups.values()) out.push({ kind: "group", mount: m.path, store: m.store });
    for (const m of this.#arrays.values()) {
      const opts = { strict: true, ...(options.signal ? { signal: options.signal } : {}) };
      for (const { index, store } of await m.existing(this.#host, opts))
        out.push({ kind: "array", mount: m.path, store, index });
    }
    return out;
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
    if (impl === undefined) return Promise.reject(missingHook("mapShards"));
    return impl(this, fn, options);
  }

  /** Closes every store of the composition (flushing zips etc.); reports the first failure after all. */
  async close(): Promise<void> {
    const stores = new Set<Store>([this.base, ...[...this.#groups.values()].map((m) => m.store)]);
    for (const m of this.#arrays.values()) for (const e of m.stores.values()) stores.add(e.store);
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
