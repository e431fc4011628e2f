import { type ChunkLayout, type ParsedArrayMetadata, parseArrayMetadata } from "./array-metadata.js";
import { joinChunkKey, splitChunkKey } from "./chunk-key.js";
import {
  type FromConfigOptions,
  type StoreConfig,
  shardedStoreFromConfig,
  shardedStoreToConfig,
  type ToConfigOptions,
} from "./config/codec.js";
import { eachLimit } from "./each-limit.js";
import {
  ArrayShardError,
  isShardedStoreError,
  MountError,
  markTaggedErrors,
  NotWritableError,
  StoreError,
  TAGGED_ERRORS,
} from "./errors.js";
import { assertValidKey, normalizeMount, normalizePrefix } from "./keys.js";
import { type MapShardsOptions, mapShards, type ShardTransform } from "./map-shards.js";
import { sliceRange } from "./range.js";
import { MountRouter } from "./router.js";
import type {
  AbsolutePath,
  ArrayShardFactory,
  ArrayShardSpec,
  GetOptions,
  RangeQuery,
  Resolution,
  Store,
} from "./types.js";

interface GroupMount {
  kind: "group";
  path: string;
  store: Store;
}

/** @internal State of one sharded array. */
export interface ArrayMount {
  kind: "array";
  path: string;
  dims: number;
  factory: ArrayShardFactory;
  /** `unknown`: metadata not read yet; `absent`: the base has none; `known`: `layout` is set. */
  state: "unknown" | "absent" | "known";
  layout: ChunkLayout | null;
  loading: Promise<void> | null;
  stores: Map<string, { index: readonly number[]; store: Store }>;
}

type Mount = GroupMount | ArrayMount;

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
}

const META_NAMES = new Set(["zarr.json", ".zarray"]);
const SUB_META = new Set(["/zarr.json", "/.zarray", "/.zattrs", "/.zgroup"]);
const WRITE_CONCURRENCY = 16;
const LIST_CONCURRENCY = 8;
const MEMO_LIMIT = 1 << 16;

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === "function";
}

/** Wraps a store whose factory returned a promise, so routing can stay synchronous. */
class PendingStore implements Store {
  readonly #store: Promise<Store>;
  constructor(store: Promise<Store>) {
    this.#store = store;
  }
  async get(key: AbsolutePath, opts?: GetOptions) {
    return (await this.#store).get(key, opts);
  }
  async getRange(key: AbsolutePath, range: RangeQuery, opts?: GetOptions) {
    const s = await this.#store;
    if (s.getRange) return s.getRange(key, range, opts);
    const v = await s.get(key, opts);
    return v === undefined ? undefined : sliceRange(v, range, key);
  }
  async set(key: AbsolutePath, value: Uint8Array) {
    const s = await this.#store;
    if (!s.set) throw new NotWritableError(String(s), key);
    await s.set(key, value);
  }
  async delete(key: AbsolutePath) {
    const s = await this.#store;
    if (!s.delete) throw new NotWritableError(String(s), key, "delete");
    await s.delete(key);
  }
  async *list(prefix?: AbsolutePath) {
    const s = await this.#store;
    if (s.list) yield* s.list(prefix);
  }
  async close() {
    await (await this.#store).close?.();
  }
  /** The real store, once the factory has produced it. */
  resolved(): Promise<Store> {
    return this.#store;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every index tuple of the first `dims` grid dimensions, in C order. */
function gridIndices(grid: readonly number[], dims: number): number[][] {
  const out: number[][] = [];
  const lead = grid.slice(0, dims);
  if (lead.some((n) => n === 0)) return out;
  const idx = new Array<number>(dims).fill(0);
  for (;;) {
    out.push(idx.slice());
    let d = dims - 1;
    while (d >= 0) {
      idx[d] = (idx[d] ?? 0) + 1;
      if ((idx[d] ?? 0) < (lead[d] ?? 0)) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return out;
  }
}

function describe(store: Store): string {
  const s = String(store);
  return s === "[object Object]" ? (store.constructor?.name ?? "store") : s;
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
  readonly #arrays = new Map<string, ArrayMount>();
  /** Remembered routes of recent keys (validated), cleared whenever an array's layout changes. */
  readonly #memo = new Map<string, Resolution>();
  /** Array shards whose metadata is not read yet; while any exist, remembered base routes are re-checked. */
  #unread = 0;

  constructor(base: Store, options: ShardedStoreOptions = {}) {
    if (base === null || typeof base !== "object" || typeof base.get !== "function") {
      throw new MountError("ShardedStore: the base store must be an object with a get() method");
    }
    this.base = base;
    for (const [raw, store] of Object.entries(options.shards ?? {})) {
      const path = normalizeMount(raw);
      if (store === null || typeof store !== "object" || typeof store.get !== "function") {
        throw new MountError(`shard "${path}" must be a store (an object with a get() method)`);
      }
      const m: GroupMount = { kind: "group", path, store };
      this.#router.add(path, m);
      this.#groups.set(path, m);
    }
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
      const m: ArrayMount = {
        kind: "array",
        path,
        dims,
        factory: spec.factory,
        state: "unknown",
        layout: null,
        loading: null,
        stores: new Map(),
      };
      for (const { index, store } of spec.stores ?? []) {
        if (index.length !== dims || !index.every((i) => Number.isSafeInteger(i) && i >= 0)) {
          throw new MountError(
            `array shard "${path}": index ${JSON.stringify(index)} is not ${dims} non-negative integers`,
          );
        }
        m.stores.set(index.join(","), { index: [...index], store });
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

  /** Array shards by normalised array path: their `dims`, factory and the index stores created so far. */
  get arrayMounts(): ReadonlyMap<string, Readonly<ArrayMount>> {
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
    assertValidKey(key, "ShardedStore");
    return this.#remember(key, this.#resolveUncached(key));
  }

  /** Remembers a route just computed for a valid key, and returns it. */
  #remember(key: AbsolutePath, r: Resolution): Resolution {
    // Array chunk keys routed before their metadata was read are not remembered: routing may change.
    if (r.kind !== "array" || this.#arrays.get(r.mount)?.state === "known") {
      if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
      this.#memo.set(key, r);
    }
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
      store: this.#indexStore(m, split.index, split.id),
      key: split.inner,
      mount: m.path,
      kind: "array",
      index: split.index,
    };
  }

  /** Forgets remembered routes after an array's layout changed. */
  #setLayout(m: ArrayMount, layout: ChunkLayout | null, state: ArrayMount["state"]): void {
    if (m.state === "unknown" && state !== "unknown") this.#unread--;
    else if (m.state !== "unknown" && state === "unknown") this.#unread++;
    m.layout = layout;
    m.state = state;
    this.#memo.clear();
  }

  #indexStore(m: ArrayMount, index: readonly number[], id: string): Store {
    const hit = m.stores.get(id);
    if (hit !== undefined) return hit.store;
    let made: Store | Promise<Store>;
    try {
      made = m.factory(index);
    } catch (e) {
      throw new ArrayShardError(m.path, `factory failed for index [${index.join(", ")}]`, { cause: e });
    }
    const entry = { index, store: isThenable(made) ? new PendingStore(made) : made };
    if (entry.store instanceof PendingStore) {
      entry.store.resolved().then(
        (s) => {
          entry.store = s;
        },
        () => {},
      );
    } else if (made === null || typeof (made as Store).get !== "function") {
      throw new ArrayShardError(m.path, `factory for index [${index.join(", ")}] did not return a store`);
    }
    m.stores.set(id, entry);
    return entry.store;
  }

  /** Routes `key`, loading the metadata of a sharded array first if it has not been read yet. */
  #route(key: AbsolutePath): Resolution | Promise<Resolution> {
    // A remembered route is final, except a base route while an array's metadata is unread (its
    // key may turn out to be a chunk of that array).
    const cached = this.#memo.get(key);
    if (cached !== undefined && (cached.kind !== "base" || this.#unread === 0)) return cached;
    assertValidKey(key, "ShardedStore");
    const hit = this.#router.find(key);
    // The key is checked and its mount found once; the route is computed from them.
    if (hit !== null && hit.mount.kind === "array" && hit.mount.state === "unknown") {
      return this.#loadLayout(hit.mount).then(() => this.#remember(key, this.#resolveUncached(key, hit)));
    }
    return this.#remember(key, this.#resolveUncached(key, hit));
  }

  #loadLayout(m: ArrayMount): Promise<void> {
    m.loading ??= (async () => {
      for (const name of META_NAMES) {
        const key = `/${m.path}/${name}` as AbsolutePath;
        const bytes = await this.#call(this.#baseRes(key), "get", (s, k) => s.get(k));
        if (bytes !== undefined) {
          const parsed = parseArrayMetadata(m.path, bytes, name as "zarr.json" | ".zarray", m.dims);
          this.#setLayout(m, parsed.layout, "known");
          return;
        }
      }
      this.#setLayout(m, null, "absent");
    })().finally(() => {
      m.loading = null;
    });
    return m.loading;
  }

  #baseRes(key: AbsolutePath): Resolution {
    return { store: this.base, key, mount: "", kind: "base" };
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
    if ((r.store as { [TAGGED_ERRORS]?: boolean })[TAGGED_ERRORS] === true) {
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
      const cached = this.#memo.get(key);
      if (cached !== undefined && cached.kind !== "base") r = cached;
      else {
        const meta = this.#arrayMetaTarget(key);
        if (meta !== null) return this.#setArrayMetadata(meta.mount, key, meta.name, value);
        r = this.#route(key);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return isThenable(r) ? r.then((res) => this.#set(res, value)) : this.#set(r, value);
  }

  #set(r: Resolution, value: Uint8Array): Promise<void> {
    const store = r.store;
    if (typeof store.set !== "function")
      return Promise.reject(new NotWritableError(this.#describeRes(r), r.key));
    // Our own stores already throw tagged errors: hand their promise through, no extra hop.
    if ((store as { [TAGGED_ERRORS]?: boolean })[TAGGED_ERRORS] === true) {
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

  /** If `key` is the metadata document of a sharded array (or a group where one should be), which. */
  #arrayMetaTarget(
    key: AbsolutePath,
  ): { mount: ArrayMount; name: "zarr.json" | ".zarray" | ".zgroup" } | null {
    const hit = this.#router.find(key);
    if (hit === null || hit.mount.kind !== "array") return null;
    const rest = key.slice(hit.end + 1);
    if (rest === "zarr.json" || rest === ".zarray" || rest === ".zgroup")
      return { mount: hit.mount, name: rest };
    return null;
  }

  async #setArrayMetadata(
    m: ArrayMount,
    key: AbsolutePath,
    name: "zarr.json" | ".zarray" | ".zgroup",
    value: Uint8Array,
  ): Promise<void> {
    if (name === ".zgroup")
      throw new ArrayShardError(m.path, "is an array shard; a group cannot be created there");
    const parsed: ParsedArrayMetadata = parseArrayMetadata(m.path, value, name, m.dims);
    const indices = gridIndices(parsed.layout.grid, m.dims);
    for (const index of indices) this.#indexStore(m, index, index.join(","));
    const targets = [...m.stores.values()];
    await eachLimit(targets, WRITE_CONCURRENCY, async ({ index, store }) => {
      const res: Resolution = { store, key: parsed.subKey, mount: m.path, kind: "array", index };
      // An index store whose document is unchanged (growing a sharded dimension) is left alone, so
      // read-only index stores (converted zips) do not stop an array from growing.
      const current = await this.#call(res, "get", (s, k) => s.get(k));
      if (current !== undefined && sameBytes(current, parsed.subDocument)) return;
      await this.#call(res, "set", (s, k) => {
        if (!s.set)
          throw new NotWritableError(`array shard "${m.path}" [${index.join(", ")}] (${describe(s)})`, k);
        return s.set(k, parsed.subDocument);
      });
    });
    const res = this.#baseRes(key);
    await this.#call(res, "set", (s, k) => {
      if (!s.set) throw new NotWritableError(this.#describeRes(res), k);
      return s.set(k, value);
    });
    this.#setLayout(m, parsed.layout, "known");
  }

  async delete(key: AbsolutePath): Promise<void> {
    const meta = this.#arrayMetaTarget(key);
    const r = await this.#route(key);
    await this.#call(r, "delete", (s, k) => {
      if (!s.delete) throw new NotWritableError(this.#describeRes(r), k, "delete");
      return s.delete(k);
    });
    if (meta !== null && meta.name !== ".zgroup") {
      const m = meta.mount;
      await eachLimit([...m.stores.values()], WRITE_CONCURRENCY, async ({ index, store }) => {
        const sub = meta.name === "zarr.json" ? "/zarr.json" : "/.zarray";
        await this.#call({ store, key: sub, mount: m.path, kind: "array", index }, "delete", (s, k) =>
          s.delete?.(k),
        );
      });
      this.#setLayout(m, null, "absent");
    }
  }

  /**
   * Every logical key under `prefix` (a path prefix; `/` or omitted = all), exactly once: base keys,
   * group-shard keys with their mount path, array-shard chunks with their array path and index. The
   * index stores' own metadata is never listed.
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
        if (this.resolve(k).store === this.base) yield k;
      }
    }
    for (const { path, mount } of mounts) {
      if (mount.kind === "group") {
        const inner = p.length > path.length + 2 ? (p.slice(path.length + 1) as AbsolutePath) : "/";
        for await (const k of this.#listStore(mount.store, inner, `shard "${path}"`)) yield `/${path}${k}`;
      } else {
        yield* this.#listArray(mount, p);
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

  async *#listArray(m: ArrayMount, prefix: AbsolutePath): AsyncIterable<AbsolutePath> {
    if (m.state === "unknown") await this.#loadLayout(m);
    const layout = m.layout;
    if (layout === null) return;
    // Index stores are listed concurrently (a bounded number at a time), their keys yielded in index order.
    const entries = await this.#indexEntries(m);
    const listed = new Array<AbsolutePath[] | undefined>(entries.length);
    const ready = new Array<Promise<void>>(entries.length);
    let next = 0;
    const start = () => {
      const i = next++;
      if (i >= entries.length) return;
      const { index, store } = entries[i]!;
      ready[i] = (async () => {
        const keys: AbsolutePath[] = [];
        for await (const inner of this.#listStore(
          store,
          "/",
          `array shard "${m.path}" [${index.join(", ")}]`,
        )) {
          if (SUB_META.has(inner)) continue;
          const rel = joinChunkKey(index, inner, layout);
          if (rel === null) continue;
          const key = `/${m.path}/${rel}` as AbsolutePath;
          if (!key.startsWith(prefix)) continue;
          // Only keys that route back to this store and key are logical keys (no route is remembered).
          const back = this.#resolveUncached(key);
          if (back.store === store && back.key === inner) keys.push(key);
        }
        listed[i] = keys;
      })();
      ready[i]!.catch(() => {}); // rethrown when awaited in order; not an unhandled rejection meanwhile
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

  /** The index stores of an array shard: those in its grid and any created before. */
  async #indexEntries(m: ArrayMount): Promise<{ index: readonly number[]; store: Store }[]> {
    if (m.state === "unknown") await this.#loadLayout(m);
    if (m.layout !== null) {
      for (const index of gridIndices(m.layout.grid, m.dims)) this.#indexStore(m, index, index.join(","));
    }
    const entries = [...m.stores.values()];
    entries.sort((a, b) => {
      for (let d = 0; d < a.index.length; d++)
        if (a.index[d] !== b.index[d]) return (a.index[d] ?? 0) - (b.index[d] ?? 0);
      return 0;
    });
    return Promise.all(
      entries.map(async (e) => ({
        index: e.index,
        store: e.store instanceof PendingStore ? await e.store.resolved() : e.store,
      })),
    );
  }

  /**
   * Every store of the composition: the base, each group shard, and each array-shard index store
   * (reading array metadata to find them).
   *
   * @example
   * ```ts
   * const all = await sharded.shards(); // [{ kind: "base", mount: "", store }, …]
   * ```
   */
  async shards(): Promise<ShardEntry[]> {
    const out: ShardEntry[] = [{ kind: "base", mount: "", store: this.base }];
    for (const m of this.#groups.values()) out.push({ kind: "group", mount: m.path, store: m.store });
    for (const m of this.#arrays.values()) {
      for (const { index, store } of await this.#indexEntries(m))
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
    return mapShards(
      this,
      fn,
      options,
      (base, shards, arrayShards) => new ShardedStore(base, { shards, arrayShards }),
    );
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
   * array-shard factories). `ShardedStore.fromConfig(s.toConfig())` reads the same data.
   *
   * @example
   * ```ts
   * await writeFile("store.json", JSON.stringify(sharded.toConfig(), null, 1));
   * ```
   */
  toConfig(options?: ToConfigOptions): StoreConfig {
    return shardedStoreToConfig(this, options);
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
    return shardedStoreFromConfig(config, options);
  }

  toString(): string {
    return `ShardedStore(${describe(this.base)}, ${this.#groups.size} group shards, ${this.#arrays.size} array shards)`;
  }
}

markTaggedErrors(ShardedStore);
