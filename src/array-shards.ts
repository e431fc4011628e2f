// The state of one sharded array: its layout, the index stores that exist, and finding them.

import type { ChunkLayout, ParsedArrayMetadata } from "./array-metadata.js";
import { eachLimit } from "./each-limit.js";
import { ArrayShardError, MountError, NotWritableError } from "./errors.js";
import { compactIndices, type IndexBox, IndexSet, isValidBox } from "./index-set.js";
import {
  byIndex,
  gridTuples,
  type IndexEntry,
  isThenable,
  MissingIndexStore,
  PendingStore,
  type ShardHost,
  sameBytes,
  sliceAttributes,
} from "./index-stores.js";
import { LazyIndexEntry } from "./lazy-index-entry.js";
import { describeStore } from "./store-call.js";

export type { IndexEntry, ShardHost } from "./index-stores.js";

import type { AbsolutePath, ArrayShardFactory, ArrayShardSpec, Resolution, Store } from "./types.js";

/**
 * How many index tuples a composition asks one by one for their metadata when the factory cannot
 * list its index stores (no `listIndices`) and nothing says which exist. Past it, listing,
 * `shards()`, `mapShards`, configs and resizes of that array fail with an {@link ArrayShardError}
 * (set `probeLimit` in the options, give the factory `listIndices`, or pass the index stores).
 *
 * @example
 * ```ts
 * new ShardedStore(base, { probeLimit: DEFAULT_PROBE_LIMIT * 10 });
 * ```
 */
export const DEFAULT_PROBE_LIMIT = 100_000;

/** Index stores enumerated at most from a declared index set (a config's boxes), against typos like [0, 1e15]. */
const MAX_DECLARED = 10_000_000;
const CONCURRENCY = 16;
const META_NAMES = ["zarr.json", ".zarray"] as const;

/**
 * One sharded array of a composition: its layout (read from the base on first use), the index
 * stores opened so far, and those that exist. Index stores come into being with the first chunk
 * written to them; those that exist are found through the factory's `listIndices`, the index
 * stores given (a config), or — for a factory that cannot list — by asking each index tuple of
 * the grid, up to `probeLimit`. Nothing here costs O(grid).
 *
 * @example
 * ```ts
 * const entries = await sharded.arrayMounts.get("sim/foo")!.existing(host, { strict: true });
 * ```
 */
export class ArrayShard {
  readonly kind = "array";
  readonly path: string;
  readonly dims: number;
  readonly factory: ArrayShardFactory;
  /** `unknown`: metadata not read yet; `absent`: the base has none; `known`: `layout` is set. */
  state: "unknown" | "absent" | "known" = "unknown";
  layout: ChunkLayout | null = null;
  /** The parsed metadata (standalone sub-document) once known. */
  parsed: ParsedArrayMetadata | null = null;
  /** A v2 array's index-store `.zattrs`, if the array has attributes. */
  subAttributes: Uint8Array | null = null;
  loading: Promise<void> | null = null;
  /** Index stores opened so far (by routing, listing or given), by id (`"10,3"`). */
  readonly stores = new Map<string, IndexEntry>();
  /** Index tuples declared to exist by a compact config (opened through the factory on use). */
  readonly declared: IndexSet | null;
  /** Whether the given stores/indices are every index store (plus what the factory lists). */
  readonly authoritative: boolean;
  readonly probeLimit: number;
  /** Index stores known to exist (given, created, listed), by id. */
  readonly #known = new Map<string, readonly number[]>();
  /** Ids of the index stores given as stores (not necessarily the factory's output). */
  readonly explicit = new Set<string>();
  /** Index stores whose metadata is current this session (no check before writing a chunk). */
  readonly #ready: WeakSet<Store>;
  readonly #creating = new Map<string, Promise<void>>();

  /** Throws {@link MountError} for a spec that is not `{ dims, factory, stores?, indices? }`. */
  constructor(path: string, spec: ArrayShardSpec, ready: WeakSet<Store>, probeLimit = DEFAULT_PROBE_LIMIT) {
    const dims = spec?.dims;
    if (!Number.isSafeInteger(dims) || dims < 1) {
      throw new MountError(
        `array shard "${path}": dims must be a positive integer, got ${JSON.stringify(dims)}`,
      );
    }
    if (typeof spec.factory !== "function") {
      throw new MountError(`array shard "${path}": factory must be a function`);
    }
    this.path = path;
    this.dims = spec.dims;
    this.factory = spec.factory;
    this.#ready = ready;
    this.probeLimit = probeLimit;
    this.authoritative = spec.stores !== undefined || spec.indices !== undefined;
    for (const given of spec.stores ?? []) {
      const index = given.index;
      if (!this.#validIndex(index)) {
        throw new ArrayShardError(
          path,
          `index ${JSON.stringify(index)} is not ${spec.dims} non-negative integers`,
        );
      }
      const id = index.join(",");
      // A lazy entry (from a config) is kept as it is: its store is opened on first use.
      const entry = given instanceof LazyIndexEntry ? given : { index: [...index], store: given.store };
      this.stores.set(id, entry);
      this.#known.set(id, entry.index);
      this.explicit.add(id);
    }
    for (const box of spec.indices ?? []) {
      if (!isValidBox(box, spec.dims)) {
        throw new MountError(
          `array shard "${path}": index box ${JSON.stringify(box)} is not ${spec.dims} indices or [start, stop) ranges`,
        );
      }
    }
    this.declared = spec.indices !== undefined && spec.indices.length > 0 ? new IndexSet(spec.indices) : null;
  }

  #validIndex(index: readonly number[]): boolean {
    return index.length === this.dims && index.every((i) => Number.isSafeInteger(i) && i >= 0);
  }

  /** Whether the index store of `index` is known to exist (given, declared, created or listed). */
  exists(index: readonly number[], id = index.join(",")): boolean {
    return this.#known.has(id) || (this.declared?.has(index, id) ?? false);
  }

  /** Ids of the index stores known to exist, with the declared ones (O(those)). */
  *knownIndices(): Generator<readonly number[]> {
    yield* this.#known.values();
    if (this.declared !== null) for (const t of this.declared) if (!this.#known.has(t.join(","))) yield t;
  }

  /** Number of index stores known to exist (an upper bound when declared boxes overlap known ones). */
  get knownCount(): number {
    return this.#known.size + (this.declared?.size ?? 0);
  }

  /**
   * The index tuples known to exist, except `skip`, as compact boxes: the declared boxes as they are
   * when nothing else is known (O(boxes)), else a compaction of every known tuple.
   */
  indexBoxes(skip: ReadonlySet<string> = new Set()): IndexBox[] {
    if (this.#known.size === 0 && this.declared !== null) return [...this.declared.boxes];
    const tuples: (readonly number[])[] = [];
    for (const t of this.knownIndices()) if (skip.size === 0 || !skip.has(t.join(","))) tuples.push(t);
    return compactIndices(tuples);
  }

  /** The index store for `index` (opened through the factory on first use). Synchronous. */
  store(index: readonly number[], id: string): Store {
    const hit = this.stores.get(id);
    if (hit !== undefined) return hit.store;
    const reason = this.factory.cannotCreate;
    if (reason !== undefined && !this.exists(index, id)) {
      return new MissingIndexStore(this.path, `cannot create index store [${index.join(", ")}]: ${reason}`);
    }
    let made: Store | Promise<Store>;
    try {
      made = this.factory(index);
    } catch (e) {
      throw new ArrayShardError(this.path, `factory failed for index [${index.join(", ")}]`, { cause: e });
    }
    const entry: IndexEntry = { index, store: isThenable(made) ? new PendingStore(made) : made };
    if (entry.store instanceof PendingStore) {
      entry.store.resolved().then(
        (s) => {
          entry.store = s;
        },
        () => {},
      );
    } else if (made === null || made === undefined || typeof (made as Store).get !== "function") {
      throw new ArrayShardError(this.path, `factory for index [${index.join(", ")}] did not return a store`);
    }
    this.stores.set(id, entry);
    return entry.store;
  }

  /** Whether chunks can be written to `store` without first checking its metadata. */
  isReady(store: Store): boolean {
    return this.#ready.has(store);
  }

  /** Reads the array's metadata (and a v2 array's attributes) from the base, once at a time. */
  load(host: ShardHost): Promise<void> {
    this.loading ??= (async () => {
      for (const name of META_NAMES) {
        const key = `/${this.path}/${name}` as AbsolutePath;
        const bytes = await host.call(this.#baseRes(host, key), "get", (s, k) => s.get(k));
        if (bytes === undefined) continue;
        const { parseArrayMetadata } = await import("./array-metadata.js"); // loads with the first array shard
        const parsed = parseArrayMetadata(this.path, bytes, name, this.dims);
        if (parsed.layout.format === 2) {
          const attrsKey = `/${this.path}/.zattrs` as AbsolutePath;
          const attrs = await host.call(this.#baseRes(host, attrsKey), "get", (s, k) => s.get(k));
          this.subAttributes = attrs === undefined ? null : sliceAttributes(this.path, attrs, this.dims);
        }
        this.#setParsed(host, parsed);
        return;
      }
      this.#setParsed(host, null);
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  #setParsed(host: ShardHost, parsed: ParsedArrayMetadata | null): void {
    const previous = this.state;
    this.parsed = parsed;
    this.layout = parsed?.layout ?? null;
    this.state = parsed === null ? "absent" : "known";
    host.layoutChanged(this, previous);
  }

  #baseRes(host: ShardHost, key: AbsolutePath): Resolution {
    return { store: host.base, key, mount: "", kind: "base" };
  }

  #res(e: IndexEntry, key: AbsolutePath): Resolution {
    return { store: e.store, key, mount: this.path, kind: "array", index: e.index };
  }

  /** Writes `doc` at `key` in an index store unless it already holds exactly that. */
  async #put(host: ShardHost, e: IndexEntry, key: AbsolutePath, doc: Uint8Array): Promise<void> {
    const res = this.#res(e, key);
    // An index store whose document is unchanged is left alone, so read-only index stores (converted
    // zips) do not stop an array from growing along a sharded dimension.
    const current = await host.call(res, "get", (s, k) => s.get(k));
    if (current !== undefined && sameBytes(current, doc)) return;
    await host.call(res, "set", (s, k) => {
      if (!s.set)
        throw new NotWritableError(
          `array shard "${this.path}" [${e.index.join(", ")}] (${describeStore(s)})`,
          k,
        );
      return s.set(k, doc);
    });
  }

  /** Makes sure an index store holds the array's standalone metadata before its first chunk (once). */
  ensure(host: ShardHost, index: readonly number[], store: Store): Promise<void> {
    const id = index.join(",");
    if (this.#known.has(id) || (this.declared?.has(index, id) ?? false)) {
      this.#ready.add(store);
      return Promise.resolve();
    }
    let p = this.#creating.get(id);
    if (p === undefined) {
      p = (async () => {
        const e = { index, store };
        if (this.parsed !== null) await this.#put(host, e, this.parsed.subKey, this.parsed.subDocument);
        if (this.subAttributes !== null)
          await this.#put(host, e, "/.zattrs" as AbsolutePath, this.subAttributes);
        this.#known.set(id, index);
        this.#ready.add(store);
      })().finally(() => this.#creating.delete(id));
      this.#creating.set(id, p);
    }
    return p;
  }

  /** Throws {@link ArrayShardError} when a declared index set is too big to enumerate (a typo like [0, 1e15]). */
  assertEnumerable(): void {
    if ((this.declared?.size ?? 0) > MAX_DECLARED) {
      throw new ArrayShardError(
        this.path,
        `its index set declares ${this.declared!.size} index stores, more than ${MAX_DECLARED} can be enumerated`,
      );
    }
  }

  /** Records that the index store `id` exists (found by a listing). */
  noteExisting(index: readonly number[], id = index.join(",")): void {
    if (!this.#known.has(id) && !(this.declared?.has(index, id) ?? false)) this.#known.set(id, index);
  }

  /**
   * Every index store that exists, in index order: the known ones, the factory's listing (within
   * the grid), and — when the factory cannot list and no index set was given — a probe of each grid
   * tuple up to `probeLimit`. Past it: an {@link ArrayShardError} when `strict`, else the known ones.
   */
  async existing(
    host: ShardHost,
    options: { strict: boolean; probe?: boolean; layout?: ChunkLayout | null; signal?: AbortSignal },
  ): Promise<IndexEntry[]> {
    if (this.state === "unknown") await this.load(host);
    const layout = options.layout !== undefined ? options.layout : this.layout;
    const grid = layout?.grid;
    const inGrid = (t: readonly number[]) =>
      t.length === this.dims &&
      t.every((i, d) => Number.isSafeInteger(i) && i >= 0 && (grid === undefined || i < grid[d]!));
    this.assertEnumerable();
    const found = new Map<string, readonly number[]>();
    for (const t of this.knownIndices()) found.set(t.join(","), t);
    if (this.factory.listIndices !== undefined) {
      for await (const t of this.factory.listIndices(options.signal)) {
        if (inGrid(t)) found.set(t.join(","), [...t]);
      }
    } else if (!this.authoritative && layout !== null && layout !== undefined && options.probe !== false) {
      let total = 1;
      for (let d = 0; d < this.dims; d++) total *= layout.grid[d]!;
      if (total <= this.probeLimit) {
        await this.#probe(host, layout, found);
      } else if (options.strict) {
        throw new ArrayShardError(
          this.path,
          `cannot find its index stores: the factory cannot list them (no listIndices) and the grid has ${total} index tuples, more than the probe limit of ${this.probeLimit} (DEFAULT_PROBE_LIMIT; raise probeLimit, give the factory listIndices, or pass the index stores)`,
        );
      }
    }
    const entries: IndexEntry[] = [];
    for (const [id, index] of found) {
      this.#known.set(id, index);
      const store = this.store(index, id);
      entries.push({ index, store: store instanceof PendingStore ? await store.resolved() : store });
    }
    return entries.sort(byIndex);
  }

  async #probe(host: ShardHost, layout: ChunkLayout, found: Map<string, readonly number[]>): Promise<void> {
    const subKey = layout.format === 3 ? "/zarr.json" : "/.zarray";
    const todo = [...gridTuples(layout.grid, this.dims)].filter((t) => !found.has(t.join(",")));
    await eachLimit(todo, CONCURRENCY, async (index) => {
      const id = index.join(",");
      const had = this.stores.get(id);
      let store = had?.store;
      if (store === undefined) {
        const made = this.factory(index);
        store = isThenable(made) ? await made : made;
      }
      const doc = await host.call(this.#res({ index, store }, subKey), "get", (s, k) => s.get(k));
      if (doc === undefined) return;
      found.set(id, index);
      if (had === undefined) this.stores.set(id, { index, store });
    });
  }

  /** A metadata document written at the array's path: its metadata, its v2 attributes, or a refused group. */
  writeDocument(
    host: ShardHost,
    key: AbsolutePath,
    name: "zarr.json" | ".zarray" | ".zgroup" | ".zattrs",
    value: Uint8Array,
  ): Promise<void> {
    if (name === ".zgroup")
      return Promise.reject(
        new ArrayShardError(this.path, "is an array shard; a group cannot be created there"),
      );
    if (name === ".zattrs") return this.writeAttributes(host, key, value);
    return this.writeMetadata(host, key, name, value);
  }

  /** Writes the array's metadata: first into every existing index store (changed ones), then the base. */
  async writeMetadata(host: ShardHost, key: AbsolutePath, name: "zarr.json" | ".zarray", value: Uint8Array) {
    const { parseArrayMetadata } = await import("./array-metadata.js");
    const parsed = parseArrayMetadata(this.path, value, name, this.dims);
    if (this.state === "unknown") await this.load(host);
    // A new array has no index stores worth probing for; a resize must reach every existing one.
    const prior = this.state === "known";
    const entries = await this.existing(host, { strict: prior, probe: prior, layout: parsed.layout });
    for (const e of this.stores.values()) this.#ready.delete(e.store);
    await eachLimit(entries, CONCURRENCY, async (e) => {
      await this.#put(host, e, parsed.subKey, parsed.subDocument);
      this.#ready.add(e.store);
    });
    await host.call(this.#baseRes(host, key), "set", (s, k) => {
      if (!s.set) throw new NotWritableError(`ShardedStore base store (${String(s)})`, k);
      return s.set(k, value);
    });
    if (parsed.layout.format === 3) this.subAttributes = null;
    this.#setParsed(host, parsed);
  }

  /** Writes a v2 array's `.zattrs` to the base, and the sliced copy into every existing index store. */
  async writeAttributes(host: ShardHost, key: AbsolutePath, value: Uint8Array): Promise<void> {
    if (this.state === "unknown") await this.load(host);
    const sliced = this.layout?.format === 2 ? sliceAttributes(this.path, value, this.dims) : null;
    if (sliced !== null) {
      const entries = await this.existing(host, { strict: false });
      await eachLimit(entries, CONCURRENCY, (e) => this.#put(host, e, "/.zattrs" as AbsolutePath, sliced));
    }
    await host.call(this.#baseRes(host, key), "set", (s, k) => {
      if (!s.set) throw new NotWritableError(`ShardedStore base store (${String(s)})`, k);
      return s.set(k, value);
    });
    this.subAttributes = sliced;
  }

  /** Deletes the standalone metadata of every known index store after the array's own was deleted. */
  async deleteMetadata(host: ShardHost, name: "zarr.json" | ".zarray"): Promise<void> {
    const entries = await this.existing(host, { strict: false, probe: false });
    const sub = name === "zarr.json" ? "/zarr.json" : "/.zarray";
    await eachLimit(entries, CONCURRENCY, async (e) => {
      this.#ready.delete(e.store);
      await host.call(this.#res(e, sub), "delete", (s, k) => s.delete?.(k));
    });
    this.subAttributes = null;
    this.#setParsed(host, null);
  }
}
