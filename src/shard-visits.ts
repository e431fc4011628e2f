// Every store of a composition: all opened (`shards()`), or one pass with each index store opened
// only while it is used (`shardsOnDemand()`). Loaded on first use, like array-shard-ops.ts.

import { indexStoreKeys } from "./array-keys.js";
import { candidateIndices } from "./array-shard-ops.js";
import type { ArrayShard, ShardHost } from "./array-shards.js";
import { ArrayShardError } from "./errors.js";
import { isThenable, PendingStore } from "./index-stores.js";
import { LazyIndexEntry } from "./lazy-index-entry.js";
import type { AbsolutePath, ShardEntry, ShardVisit, Store } from "./types.js";

/**
 * The index store of `index` for one use: `kept` when the composition has it open (the caller
 * leaves it open), else made now — a config's entry afresh, another through the factory — and not
 * kept (the caller closes it).
 */
export async function borrowIndexStore(
  shard: ArrayShard,
  index: readonly number[],
): Promise<{ store: Store; kept: boolean }> {
  const hit = shard.stores.get(index.join(","));
  if (hit instanceof LazyIndexEntry) return { kept: hit.opened, store: hit.borrow() };
  if (hit !== undefined) {
    const s = hit.store;
    return { store: s instanceof PendingStore ? await s.resolved() : s, kept: true };
  }
  let made: Store | Promise<Store>;
  try {
    made = shard.factory(index);
    if (isThenable(made)) made = await made;
  } catch (e) {
    throw new ArrayShardError(shard.path, `factory failed for index [${index.join(", ")}]`, { cause: e });
  }
  if (made === null || made === undefined || typeof (made as Store).get !== "function") {
    throw new ArrayShardError(shard.path, `factory for index [${index.join(", ")}] did not return a store`);
  }
  return { store: made, kept: false };
}

/** Runs `fn` with a borrowed index store, closing it after when the composition does not keep it. */
async function useIndexStore<T>(
  shard: ArrayShard,
  index: readonly number[],
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const { store, kept } = await borrowIndexStore(shard, index);
  if (kept) return fn(store);
  let result: T;
  try {
    result = await fn(store);
  } catch (e) {
    // The first failure is the one to report; the store is dropped either way.
    await Promise.resolve(store.close?.()).catch(() => {});
    throw e;
  }
  await store.close?.();
  return result;
}

/**
 * Index tuples packed `dims` numbers each in one Float64Array (any safe integer), in index order
 * without repeats: 10^6 index stores of 2 dims take 16 MB here, ~100 MB as arrays in a map.
 */
class PackedTuples {
  #data: Float64Array;
  length = 0;
  constructor(readonly dims: number) {
    this.#data = new Float64Array(dims * 64);
  }

  push(t: readonly number[]): void {
    if ((this.length + 1) * this.dims > this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data.set(t, this.length++ * this.dims);
  }

  at(i: number): number[] {
    return Array.from(this.#data.subarray(i * this.dims, (i + 1) * this.dims));
  }

  /** Sorts the tuples into index order and drops repeats. */
  sortUnique(): this {
    const { dims } = this;
    const d = this.#data;
    const cmp = (a: number, b: number) => {
      for (let k = 0; k < dims; k++) {
        const x = d[a * dims + k]! - d[b * dims + k]!;
        if (x !== 0) return x;
      }
      return 0;
    };
    const order = new Uint32Array(this.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort(cmp);
    const out = new Float64Array(Math.max(1, this.length) * dims);
    let n = 0;
    for (let i = 0; i < order.length; i++) {
      if (n > 0 && cmp(order[i]!, order[i - 1]!) === 0) continue;
      out.set(d.subarray(order[i]! * dims, (order[i]! + 1) * dims), n++ * dims);
    }
    this.#data = out;
    this.length = n;
    return this;
  }
}

/**
 * The index tuples of `shard`'s index stores that exist, found as `ArrayShard.existing` finds them
 * (`candidateIndices`), streamed into one typed array. Recorded as known only when `record` says
 * so: a pass over every store otherwise leaves the composition as it was.
 */
async function packedIndices(
  shard: ArrayShard,
  host: ShardHost,
  options: { strict: boolean; record?: boolean; signal?: AbortSignal },
): Promise<PackedTuples> {
  const packed = new PackedTuples(shard.dims);
  for await (const t of candidateIndices(shard, host, options)) packed.push(t);
  packed.sortUnique();
  if (options.record) for (let i = 0; i < packed.length; i++) shard.noteExisting(packed.at(i));
  return packed;
}

/**
 * The visits of `ShardedStore.shardsOnDemand`: the base, the group shards, then each array's index
 * stores in index order, each visit made when it is asked for (`at`, iteration), so a list of 10^6
 * visits holds 10^6 packed index tuples and nothing else.
 *
 * @example
 * ```ts
 * const visits = await sharded.shardsOnDemand();
 * for (let i = 0; i < visits.length; i++) await visits.at(i).use(async (s: Store) => s.get("/.zarray"));
 * ```
 */
export class ShardVisits implements Iterable<ShardVisit> {
  readonly length: number;
  readonly #own: ShardVisit[];
  readonly #arrays: { shard: ArrayShard; tuples: PackedTuples; start: number }[];

  /** @internal */
  constructor(own: ShardVisit[], arrays: { shard: ArrayShard; tuples: PackedTuples }[]) {
    this.#own = own;
    let start = own.length;
    this.#arrays = arrays.map((a) => {
      const r = { ...a, start };
      start += a.tuples.length;
      return r;
    });
    this.length = start;
  }

  /** The visit at `i` (0 ≤ i < length), made now. */
  at(i: number): ShardVisit {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length))
      throw new RangeError(`no visit ${i} among ${this.length}`);
    if (i < this.#own.length) return this.#own[i]!;
    let a = this.#arrays[0]!;
    for (const x of this.#arrays) if (x.start <= i) a = x;
    const index = a.tuples.at(i - a.start);
    const shard = a.shard;
    return { kind: "array", mount: shard.path, index, use: (fn) => useIndexStore(shard, index, fn) };
  }

  *[Symbol.iterator](): Iterator<ShardVisit> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

/** See `ShardedStore.shardsOnDemand`. */
export async function shardsOnDemand(
  host: ShardHost,
  groups: ReadonlyMap<string, { path: string; store: Store }>,
  arrays: ReadonlyMap<string, ArrayShard>,
  options: { signal?: AbortSignal; record?: boolean },
): Promise<ShardVisits> {
  const own = (kind: "base" | "group", mount: string, store: Store): ShardVisit => ({
    kind,
    mount,
    use: (fn) => fn(store),
  });
  const visits: ShardVisit[] = [own("base", "", host.base)];
  for (const m of groups.values()) visits.push(own("group", m.path, m.store));
  const packed: { shard: ArrayShard; tuples: PackedTuples }[] = [];
  for (const shard of arrays.values()) {
    const opts = { ...options, strict: true };
    packed.push({ shard, tuples: await packedIndices(shard, host, opts) });
  }
  return new ShardVisits(visits, packed);
}

/** See `ShardedStore.shards`. */
export async function shards(
  host: ShardHost,
  groups: ReadonlyMap<string, { path: string; store: Store }>,
  arrays: ReadonlyMap<string, ArrayShard>,
  options: { signal?: AbortSignal },
): Promise<ShardEntry[]> {
  const out: ShardEntry[] = [{ kind: "base", mount: "", store: host.base }];
  for (const m of groups.values()) out.push({ kind: "group", mount: m.path, store: m.store });
  for (const m of arrays.values()) {
    const opts = { strict: true, ...(options.signal ? { signal: options.signal } : {}) };
    for (const { index, store } of await m.existing(host, opts))
      out.push({ kind: "array", mount: m.path, store, index });
  }
  return out;
}

/** See `ShardedStore.shardKeys`. */
export async function* shardKeys(
  host: ShardHost,
  groups: ReadonlyMap<string, { path: string; store: Store }>,
  arrays: ReadonlyMap<string, ArrayShard>,
  options: { signal?: AbortSignal },
): AsyncGenerator<ShardEntry & { keys: AbsolutePath[] }> {
  const all = async (store: Store) => {
    const keys: AbsolutePath[] = [];
    if (typeof store.list === "function") for await (const k of store.list("/")) keys.push(k);
    return keys;
  };
  yield { kind: "base", mount: "", store: host.base, keys: await all(host.base) };
  for (const m of groups.values())
    yield { kind: "group", mount: m.path, store: m.store, keys: await all(m.store) };
  for (const m of arrays.values()) {
    for await (const e of indexStoreKeys(m, host, options)) {
      let store = e.store ?? m.store(e.index, e.id);
      if (store instanceof PendingStore) store = await store.resolved();
      yield { kind: "array", mount: m.path, store, index: e.index, keys: e.keys };
    }
  }
}
