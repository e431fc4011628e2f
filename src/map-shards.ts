import { eachLimit } from "./each-limit.js";
import { ShardedStoreError } from "./errors.js";
import { shardedStoreExtensions } from "./extensions.js";
import { type ShardEntry, ShardedStore } from "./sharded-store.js";
import type { ArrayShardFactory, ArrayShardSpec, Store } from "./types.js";

/**
 * What {@link ShardedStore.mapShards} tells `onProgress`: a shard started, finished or was skipped
 * (already done by an earlier run), or bytes were copied within a shard.
 *
 * @example
 * ```ts
 * const onProgress = (e: ShardProgress) => e.type === "shard-done" && console.log(`${e.done}/${e.total}`);
 * ```
 */
export interface ShardProgress {
  type: "shard-start" | "shard-done" | "shard-skipped" | "bytes";
  kind: ShardEntry["kind"];
  mount: string;
  index?: readonly number[];
  /** Shards finished (done or skipped) so far, and in all. */
  done: number;
  total: number;
  /** For `bytes`: bytes copied by this event; `totalBytes`: all bytes copied so far. */
  bytes?: number;
  totalBytes: number;
}

/**
 * What a shard transformation gets besides the store: where it is, and how to report progress.
 *
 * @example
 * ```ts
 * const fn: ShardTransform = async (store, mount, index, ctx) => { ctx.reportBytes(10); return store; };
 * ```
 */
export interface ShardContext {
  kind: ShardEntry["kind"];
  signal?: AbortSignal;
  /** Reports bytes processed within this shard (feeds `onProgress` "bytes" events). */
  reportBytes(n: number): void;
  /** Marks this shard as already done by an earlier run (reported as "shard-skipped"). */
  skipped(): void;
  /** Reports how many keys this shard holds, when the transformation counts them (optional). */
  reportKeys?(n: number): void;
}

/**
 * A transformation applied to every store of a composition. It may carry `arrayShardFactory`, the
 * factory the result should use for index stores created later (so a converted array can grow);
 * without it, new index stores are the source factory's output passed through the transformation.
 *
 * @example
 * ```ts
 * const toMemory: ShardTransform = async (store) => copyInto(store, new MemoryStore());
 * ```
 */
export type ShardTransform = ((
  store: Store,
  mountPath: string,
  index: readonly number[] | undefined,
  ctx: ShardContext,
) => Store | Promise<Store>) & {
  arrayShardFactory?: (mountPath: string, dims: number) => ArrayShardFactory;
};

/**
 * Options of {@link ShardedStore.mapShards}.
 *
 * @example
 * ```ts
 * await store.mapShards(fn, { concurrency: 4, signal: AbortSignal.timeout(60_000), onProgress: console.log });
 * ```
 */
export interface MapShardsOptions {
  /** Shards transformed at once (default 4). */
  concurrency?: number;
  onProgress?: (event: ShardProgress) => void;
  signal?: AbortSignal;
}

/** Thrown when `mapShards` is aborted through its signal. */
function aborted(signal: AbortSignal): ShardedStoreError {
  return new ShardedStoreError("StoreError", `mapShards aborted: ${String(signal.reason ?? "aborted")}`, {
    cause: signal.reason,
  });
}

/**
 * Applies `fn` to the base, every group shard and every array-shard index store of `source` and
 * returns the new composition. The source is never modified. Stops at the first failure (after the
 * running shards settle) and rejects with it.
 *
 * @example
 * ```ts
 * const zipped = await sharded.mapShards(toZipStoreWithPrefix("out/data"), { concurrency: 4 });
 * ```
 */
export async function mapShards(
  source: ShardedStore,
  fn: ShardTransform,
  options: MapShardsOptions = {},
  make: (
    base: Store,
    shards: Record<string, Store>,
    arrays: Record<string, ArrayShardSpec>,
  ) => ShardedStore = (base, shards, arrayShards) => new ShardedStore(base, { shards, arrayShards }),
): Promise<ShardedStore> {
  const { signal, onProgress } = options;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  if (signal?.aborted) throw aborted(signal);
  const entries = await source.shards(signal ? { signal } : {});
  const results = new Array<Store | undefined>(entries.length);
  let done = 0;
  let totalBytes = 0;

  // One object per event and none without a listener: 10^5 shards make several 10^5 events.
  const emit = (type: ShardProgress["type"], entry: ShardEntry, bytes?: number) => {
    if (onProgress === undefined) return;
    const e: ShardProgress = {
      type,
      kind: entry.kind,
      mount: entry.mount,
      done,
      total: entries.length,
      totalBytes,
    };
    if (entry.index) e.index = entry.index;
    if (bytes !== undefined) e.bytes = bytes;
    onProgress(e);
  };

  const runOne = async (i: number) => {
    const entry = entries[i]!;
    let wasSkipped = false;
    emit("shard-start", entry);
    const ctx: ShardContext = {
      kind: entry.kind,
      ...(signal ? { signal } : {}),
      reportBytes: (n) => {
        totalBytes += n;
        emit("bytes", entry, n);
      },
      skipped: () => {
        wasSkipped = true;
      },
    };
    results[i] = await fn(entry.store, entry.mount, entry.index, ctx);
    if (signal?.aborted) throw aborted(signal);
    done++;
    emit(wasSkipped ? "shard-skipped" : "shard-done", entry);
  };

  await eachLimit(entries, concurrency, async (_, i) => {
    if (signal?.aborted) throw aborted(signal);
    await runOne(i);
  });

  let base: Store | undefined;
  const shards: Record<string, Store> = {};
  const arrays: Record<string, ArrayShardSpec & { stores: { index: readonly number[]; store: Store }[] }> =
    {};
  for (const [mount, m] of source.arrayMounts) {
    let factory: ArrayShardFactory | undefined = fn.arrayShardFactory?.(mount, m.dims);
    if (factory === undefined) {
      factory = async (index: readonly number[]) => {
        const store = await m.factory(index);
        return fn(store, mount, index, { kind: "array", reportBytes: () => {}, skipped: () => {} });
      };
      // A source factory that cannot create index stores cannot through the transformation either.
      if (m.factory.cannotCreate !== undefined) factory.cannotCreate = m.factory.cannotCreate;
    }
    arrays[mount] = { dims: m.dims, factory, stores: [] };
  }
  entries.forEach((e, i) => {
    const store = results[i]!;
    if (e.kind === "base") base = store;
    else if (e.kind === "group") shards[e.mount] = store;
    else arrays[e.mount]!.stores.push({ index: e.index!, store });
  });
  return make(base!, shards, arrays);
}

shardedStoreExtensions.mapShards = mapShards as (
  store: never,
  fn: never,
  options?: never,
) => Promise<unknown>;
