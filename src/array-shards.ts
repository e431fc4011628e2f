// The state of one sharded array: its layout, the index stores that exist, and finding them.

import type { ChunkLayout, ParsedArrayMetadata } from "./array-metadata.js";
import { ArrayShardError, MountError } from "./errors.js";
import { compactIndices, type IndexBox, IndexSet, isValidBox } from "./index-set.js";
import {
  type IndexEntry,
  isThenable,
  MissingIndexStore,
  PendingStore,
  type ShardHost,
} from "./index-stores.js";
import { LazyIndexEntry } from "./lazy-index-entry.js";

export type { IndexEntry, ShardHost } from "./index-stores.js";

import type { AbsolutePath, ArrayShardFactory, ArrayShardSpec, Store } from "./types.js";

/** What runs after opening (metadata reads and writes, listing, probing): loaded on first use. */
const ops = () => import("./array-shard-ops.js");

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
  /** @internal Index stores known to exist (given, created, listed), by id. */
  readonly known = new Map<string, readonly number[]>();
  /** Ids of the index stores given as stores (not necessarily the factory's output). */
  readonly explicit = new Set<string>();
  /** @internal Index stores whose metadata is current this session (no check before writing a chunk). */
  readonly ready: WeakSet<Store>;
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
    this.ready = ready;
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
      this.known.set(id, entry.index);
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
    return this.known.has(id) || (this.declared?.has(index, id) ?? false);
  }

  /** Ids of the index stores known to exist, with the declared ones (O(those)). */
  *knownIndices(): Generator<readonly number[]> {
    yield* this.known.values();
    if (this.declared !== null) for (const t of this.declared) if (!this.known.has(t.join(","))) yield t;
  }

  /** Number of index stores known to exist (an upper bound when declared boxes overlap known ones). */
  get knownCount(): number {
    return this.known.size + (this.declared?.size ?? 0);
  }

  /**
   * The index tuples known to exist, except `skip`, as compact boxes: the declared boxes as they are
   * when nothing else is known (O(boxes)), else a compaction of every known tuple.
   */
  indexBoxes(skip: ReadonlySet<string> = new Set()): IndexBox[] {
    if (this.known.size === 0 && this.declared !== null) return [...this.declared.boxes];
    const tuples: (readonly number[])[] = [];
    for (const t of this.knownIndices()) if (skip.size === 0 || !skip.has(t.join(","))) tuples.push(t);
    return compactIndices(tuples);
  }

  /** Index stores by flat index (see {@link SplitChunkKey}) for the current layout. */
  readonly #byFlat = new Map<number, IndexEntry>();

  /** {@link ArrayShard.store} by a routed chunk's index and flat index (no id string once known). */
  storeAt(index: readonly number[], flat: number): Store {
    const hit = this.#byFlat.get(flat);
    if (hit !== undefined) return hit.store;
    const id = index.join(",");
    const store = this.store(index, id);
    const entry = this.stores.get(id);
    if (flat >= 0 && entry !== undefined) this.#byFlat.set(flat, entry);
    return store;
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
    return this.ready.has(store);
  }

  /** Reads the array's metadata (and a v2 array's attributes) from the base, once at a time. */
  load(host: ShardHost): Promise<void> {
    this.loading ??= ops()
      .then((o) => o.loadMetadata(this, host))
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  /** @internal Records the parsed metadata (null: the base has none) and tells the host. */
  setParsed(host: ShardHost, parsed: ParsedArrayMetadata | null): void {
    const previous = this.state;
    this.parsed = parsed;
    this.layout = parsed?.layout ?? null;
    this.#byFlat.clear();
    this.state = parsed === null ? "absent" : "known";
    host.layoutChanged(this, previous);
  }

  /** Makes sure an index store holds the array's standalone metadata before its first chunk (once). */
  ensure(host: ShardHost, index: readonly number[], store: Store): Promise<void> {
    const id = index.join(",");
    if (this.known.has(id) || (this.declared?.has(index, id) ?? false)) {
      this.ready.add(store);
      return Promise.resolve();
    }
    let p = this.#creating.get(id);
    if (p === undefined) {
      p = ops()
        .then((o) => o.createIndexStore(this, host, { index, store }, id))
        .finally(() => this.#creating.delete(id));
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
    if (!this.known.has(id) && !(this.declared?.has(index, id) ?? false)) this.known.set(id, index);
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
    return (await ops()).existing(this, host, options);
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
    return (await ops()).writeMetadata(this, host, key, name, value);
  }

  /** Writes a v2 array's `.zattrs` to the base, and the sliced copy into every existing index store. */
  async writeAttributes(host: ShardHost, key: AbsolutePath, value: Uint8Array): Promise<void> {
    return (await ops()).writeAttributes(this, host, key, value);
  }

  /** Deletes the standalone metadata of every known index store after the array's own was deleted. */
  async deleteMetadata(host: ShardHost, name: "zarr.json" | ".zarray"): Promise<void> {
    return (await ops()).deleteMetadata(this, host, name);
  }
}
