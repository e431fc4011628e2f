// Runs inside Chromium (served transpiled by tests/helpers/browser-server.ts). `lib` is the
// `shardedstore` module as the page's import map resolves it, so the built bundle is what runs;
// the source types only keep this file honest. Results must be plain JSON for page.evaluate.
import * as zarr from "zarrita";
import type * as Lib from "../../src/index.js";
import type { AbsolutePath, Store } from "../../src/types.js";
import { type Decoded, listAll, readArray } from "../helpers/arrays.js";

/** The module under test, as the page loaded it. */
export type ShardedStoreModule = typeof Lib;

/** What {@link memoryRoundTrip} writes: one array in a group shard, one in an array shard. */
export interface RoundTripInput {
  names: number[];
  raw: number[];
}

/** What {@link memoryRoundTrip} saw. */
export interface RoundTripResult {
  names: Decoded;
  raw: Decoded;
  keys: string[];
  baseKeys: string[];
  labelKeys: string[];
  shardKeys: Record<string, string[]>;
  created: number[][];
  resolveGroup: { isLabels: boolean; key: string; mount: string; kind: string };
  resolveChunk: { isShard2: boolean; key: string; mount: string; kind: string; index: number[] | undefined };
  userAgent: string;
}

/**
 * A ShardedStore over MemoryStores, written and read by zarrita in the page: the group `labels` is
 * a group shard, the array `images/raw` (shape [3, 4, 5], chunks [1, 2, 5]) an array shard of dims 1.
 */
export async function memoryRoundTrip(
  lib: ShardedStoreModule,
  input: RoundTripInput,
): Promise<RoundTripResult> {
  const base = new lib.MemoryStore();
  const labels = new lib.MemoryStore();
  const shards = new Map<string, Lib.MemoryStore>();
  const created: number[][] = [];
  const store = new lib.ShardedStore(base, {
    shards: { labels },
    arrayShards: {
      "images/raw": {
        dims: 1,
        factory: (index) => {
          created.push([...index]);
          const s = new lib.MemoryStore();
          shards.set(index.join(","), s);
          return s;
        },
      },
    },
  });

  const root = zarr.root(store as zarr.Mutable);
  await zarr.create(root, { attributes: { made: "in a browser" } });
  await zarr.create(root.resolve("labels"));
  await zarr.create(root.resolve("images"));
  const names = await zarr.create(root.resolve("labels/names"), {
    shape: [4],
    chunkShape: [2],
    dtype: "int32",
  });
  await zarr.set(names, null, { data: Int32Array.from(input.names), shape: [4], stride: [1] });
  const raw = await zarr.create(root.resolve("images/raw"), {
    shape: [3, 4, 5],
    chunkShape: [1, 2, 5],
    dtype: "float32",
  });
  await zarr.set(raw, null, { data: Float32Array.from(input.raw), shape: [3, 4, 5], stride: [20, 5, 1] });

  const g = store.resolve("/labels/names/zarr.json");
  const c = store.resolve("/images/raw/c/2/1/0");
  const shardKeys: Record<string, string[]> = {};
  for (const [id, s] of shards) shardKeys[id] = await listAll(s);
  return {
    names: await readArray(store, "labels/names"),
    raw: await readArray(store, "images/raw"),
    keys: await listAll(store),
    baseKeys: await listAll(base),
    labelKeys: await listAll(labels),
    shardKeys,
    created: created.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0)),
    resolveGroup: { isLabels: g.store === labels, key: g.key, mount: g.mount, kind: g.kind },
    resolveChunk: {
      isShard2: c.store === shards.get("2"),
      key: c.key,
      mount: c.mount,
      kind: c.kind,
      index: c.index ? [...c.index] : undefined,
    },
    userAgent: navigator.userAgent,
  };
}

/** How {@link readArrays} reaches the data (`open-url`: `openShardedStore(url)` of a config's URL). */
export type Access = "zarrita-fetch" | "fetch" | "fetch-group-shard" | "zip" | "config" | "open-url";

/** The store for one access method; `url` is a folder (or a zip, or a config's JSON for `config`). */
async function open(lib: ShardedStoreModule, access: Access, url: string, config?: unknown): Promise<Store> {
  switch (access) {
    case "open-url":
      return lib.openShardedStore(url);
    case "zarrita-fetch":
      return new zarr.FetchStore(url) as unknown as Store;
    case "fetch":
      return new lib.FetchStore(url);
    case "fetch-group-shard":
      return new lib.ShardedStore(new lib.MemoryStore(), { shards: { remote: new lib.FetchStore(url) } });
    case "zip":
      return new lib.ZipStore(url);
    case "config":
      return lib.ShardedStore.fromConfig(config);
  }
}

/**
 * Reads `names` with zarrita from a store over HTTP and returns them decoded (arrays under the
 * mount `remote` for `fetch-group-shard`).
 */
export async function readArrays(
  lib: ShardedStoreModule,
  access: Access,
  url: string,
  names: string[],
  config?: unknown,
): Promise<Record<string, Decoded>> {
  const store = await open(lib, access, url, config);
  const prefix = access === "fetch-group-shard" ? "remote/" : "";
  const out: Record<string, Decoded> = {};
  for (const name of names) out[name] = await readArray(store, prefix + name);
  return out;
}

/** Where a ShardedStore rebuilt from `config` in the page sends each key: the FetchStore's URL and inner key. */
export async function routesFromConfig(
  lib: ShardedStoreModule,
  config: unknown,
  keys: AbsolutePath[],
): Promise<{ key: string; kind: string; url: string | undefined; innerKey: string }[]> {
  const store = lib.ShardedStore.fromConfig(config);
  const out = [];
  for (const key of keys) {
    await store.get(key); // an array shard learns its layout from the array's metadata first
    const r = store.resolve(key);
    const url = r.store instanceof lib.FetchStore ? r.store.url : undefined;
    out.push({ key, kind: r.kind, url, innerKey: r.key });
  }
  return out;
}

/** The kinds of store a composition opened from `url` routes to (after reading `names`). */
export async function storeKindsOfUrl(lib: ShardedStoreModule, url: string): Promise<string[]> {
  const store = await lib.openShardedStore(url);
  const all: Store[] = [store.base, ...store.shardMounts.values()];
  for (const m of store.arrayMounts.values()) for (const { store: s } of m.stores.values()) all.push(s);
  const kinds = all.map((s) =>
    s instanceof lib.FetchStore ? "FetchStore" : s instanceof lib.ZipStore ? "ZipStore" : "other",
  );
  return [...new Set(kinds)].sort();
}
