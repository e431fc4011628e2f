import { statSync } from "node:fs";
import type { AbsolutePath, ShardEntry, ShardedStore, Store } from "../node.js";
import { DirectoryStore, zipFilePool } from "../node.js";
import { ZipStore } from "../zip-store.js";
import type { ListableStore } from "./open.js";

/**
 * One node of a Zarr hierarchy, from its metadata document.
 *
 * @example
 * ```ts
 * const n: NodeInfo = { path: "/simulation/fine/foo", kind: "array", format: 3, shape: [6, 3, 5], chunks: [1, 1, 2], dtype: "float64", codecs: ["bytes", "gzip"], metaKey: "/simulation/fine/foo/zarr.json" };
 * ```
 */
export interface NodeInfo {
  /** `/` for the root, `/a/b` otherwise. */
  path: string;
  kind: "group" | "array";
  format: 2 | 3;
  shape?: number[];
  chunks?: number[];
  dtype?: string;
  /** v3 codec names, or v2 filters and compressor ids. */
  codecs?: string[];
  metaKey: AbsolutePath;
}

// Stores measured at once: each is a few small file-system calls, so overlap many.
const INVENTORY_CONCURRENCY = 32;
const META_FILES = new Set(["zarr.json", ".zarray", ".zgroup"]);

/** Names of Zarr metadata documents (`.zattrs` and `.zmetadata` included). */
export const METADATA_NAMES = new Set(["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]);

/**
 * `true` for a key whose last segment is a Zarr metadata document name.
 *
 * @example
 * ```ts
 * isMetadataKey("/a/.zarray"); // true
 * ```
 */
export function isMetadataKey(key: string): boolean {
  return METADATA_NAMES.has(key.slice(key.lastIndexOf("/") + 1));
}

const decoder = new TextDecoder();

/**
 * Parses a metadata document; `undefined` when it is not JSON.
 *
 * @example
 * ```ts
 * parseJson(new TextEncoder().encode('{"a":1}')); // { a: 1 }
 * ```
 */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
}

function nodePath(key: string): string {
  const dir = key.slice(0, key.lastIndexOf("/"));
  return dir === "" ? "/" : dir;
}

function describeNode(key: AbsolutePath, doc: unknown): NodeInfo | null {
  if (doc === null || typeof doc !== "object") return null;
  const d = doc as Record<string, unknown>;
  const name = key.slice(key.lastIndexOf("/") + 1);
  const p = nodePath(key);
  if (name === ".zgroup") return { path: p, kind: "group", format: 2, metaKey: key };
  if (name === ".zarray") {
    const codecs: string[] = [];
    for (const f of Array.isArray(d.filters) ? d.filters : [])
      codecs.push(String((f as { id?: unknown }).id));
    const comp = d.compressor as { id?: unknown } | null | undefined;
    if (comp && typeof comp === "object") codecs.push(String(comp.id));
    return {
      path: p,
      kind: "array",
      format: 2,
      shape: (d.shape as number[]) ?? [],
      chunks: (d.chunks as number[]) ?? [],
      dtype: typeof d.dtype === "string" ? d.dtype : JSON.stringify(d.dtype),
      codecs,
      metaKey: key,
    };
  }
  if (d.zarr_format !== 3) return null;
  if (d.node_type === "group") return { path: p, kind: "group", format: 3, metaKey: key };
  if (d.node_type !== "array") return null;
  const grid = d.chunk_grid as { configuration?: { chunk_shape?: number[] } } | undefined;
  const codecs = Array.isArray(d.codecs) ? d.codecs.map((c) => String((c as { name?: unknown }).name)) : [];
  return {
    path: p,
    kind: "array",
    format: 3,
    shape: (d.shape as number[]) ?? [],
    chunks: grid?.configuration?.chunk_shape ?? [],
    dtype: typeof d.data_type === "string" ? d.data_type : JSON.stringify(d.data_type),
    codecs,
    metaKey: key,
  };
}

/**
 * Every group and array of the hierarchy in `store`, sorted by path, from its metadata documents.
 * `keys`, when given, saves listing the store again.
 *
 * @example
 * ```ts
 * for (const n of await readHierarchy(store)) console.log(n.path, n.kind);
 * ```
 */
export async function readHierarchy(
  store: ListableStore,
  keys?: readonly AbsolutePath[],
): Promise<NodeInfo[]> {
  const metaKeys: AbsolutePath[] = [];
  if (keys) {
    for (const k of keys) if (META_FILES.has(k.slice(k.lastIndexOf("/") + 1))) metaKeys.push(k);
  } else {
    for await (const k of store.list("/"))
      if (META_FILES.has(k.slice(k.lastIndexOf("/") + 1))) metaKeys.push(k);
  }
  const nodes: NodeInfo[] = [];
  await Promise.all(
    metaKeys.map(async (key) => {
      const bytes = await store.get(key);
      if (bytes === undefined) return;
      const node = describeNode(key, parseJson(bytes));
      if (node !== null) nodes.push(node);
    }),
  );
  return nodes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.format - b.format));
}

/**
 * The metadata keys of a composition without listing its array-shard index stores: those hold only
 * chunks (an array's metadata lives in the base or a group shard), and there can be 10^5 of them.
 *
 * @example
 * ```ts
 * const nodes = await readHierarchy(sharded, await hierarchyKeys(sharded));
 * ```
 */
export async function hierarchyKeys(sharded: ShardedStore): Promise<AbsolutePath[]> {
  const keys: AbsolutePath[] = [];
  const mounts = [...sharded.shardMounts.keys()].map((m) => `/${m}/`);
  const arrays = [...sharded.arrayMounts.keys()].map((m) => `/${m}/`);
  const hidden = (k: string) => mounts.some((m) => k.startsWith(m));
  const isMeta = (k: string) => META_FILES.has(k.slice(k.lastIndexOf("/") + 1));
  const base = sharded.base as Partial<ListableStore>;
  if (typeof base.list === "function") {
    for await (const k of base.list("/")) if (isMeta(k) && !hidden(k)) keys.push(k);
  }
  for (const [mount, store] of sharded.shardMounts) {
    const inner = store as Partial<ListableStore>;
    if (typeof inner.list !== "function") continue;
    for await (const k of inner.list("/")) if (isMeta(k)) keys.push(`/${mount}${k}` as AbsolutePath);
  }
  // An array's own metadata sits at its path; a metadata name deeper below it is a chunk-like key.
  return keys.filter((k) => !arrays.some((a) => k.startsWith(a) && k.slice(a.length).includes("/")));
}

/**
 * Every key of a store, sorted.
 *
 * @example
 * ```ts
 * const keys = await listAll(store);
 * ```
 */
export async function listAll(store: ListableStore, prefix: AbsolutePath = "/"): Promise<AbsolutePath[]> {
  const keys: AbsolutePath[] = [];
  for await (const k of store.list(prefix)) keys.push(k);
  return keys.sort();
}

/**
 * Opens, stats and closes zip archives with synchronous calls from now on: a command that lists or
 * measures 10^5 archives spends most of its time in those calls, and their synchronous forms cost
 * 3–5× less CPU (bench/LIST.md). Commands that read in bulk (info, ls, verify) call it; `serve`
 * must not (it would block every request on a slow file system).
 *
 * @example
 * ```ts
 * bulkReads(); // zipFilePool.blocking === true
 * ```
 */
export function bulkReads(): void {
  zipFilePool.blocking = true;
}

/**
 * The size of a stored value: from the file system for a `DirectoryStore` (a synchronous stat: a
 * command is not a server, and it costs a tenth of the asynchronous one), else by reading it.
 *
 * @example
 * ```ts
 * await sizeOf(new DirectoryStore("a.zarr"), "/zarr.json"); // 312
 * ```
 */
export async function sizeOf(store: Store, key: AbsolutePath): Promise<number> {
  if (store instanceof DirectoryStore) {
    const st = statSync(store.root + key, { throwIfNoEntry: false });
    if (st !== undefined) return st.size;
  }
  // A zip's central directory has every size: no entry is read.
  if (store instanceof ZipStore) return (await store.sizeOf(key)) ?? 0;
  return (await store.get(key))?.byteLength ?? 0;
}

/**
 * One store of a composition with its physical key count and bytes (index stores' own metadata
 * included: this is what is on disk).
 *
 * @example
 * ```ts
 * const [base] = await inventory(sharded); // { kind: "base", mount: "", keys: 28, bytes: 3120, … }
 * ```
 */
export interface StoreInventory {
  kind: "base" | "group" | "array";
  mount: string;
  index?: readonly number[];
  store: Store;
  keys: number;
  bytes: number;
}

function byIndex(a: ShardEntry, b: ShardEntry): number {
  const x = a.index ?? [];
  const y = b.index ?? [];
  for (let d = 0; d < Math.min(x.length, y.length); d++) if (x[d] !== y[d]) return x[d]! - y[d]!;
  return x.length - y.length;
}

/** Sorts each array's index stores (a run of one mount) by index tuple, in place: O(n log n). */
function sortIndexRuns(entries: ShardEntry[]): void {
  let start = 0;
  for (let i = 1; i <= entries.length; i++) {
    const a = entries[start]!;
    const b = entries[i];
    if (b !== undefined && b.kind === a.kind && b.mount === a.mount) continue;
    if (a.kind === "array" && i - start > 1) {
      const run = entries.slice(start, i).sort(byIndex);
      for (let j = 0; j < run.length; j++) entries[start + j] = run[j]!;
    }
    start = i;
  }
}

/**
 * Key counts and bytes of every store of a composition; `onStore` is called as each is done.
 *
 * @example
 * ```ts
 * const stores = await inventory(sharded, { bytes: false });
 * ```
 */
export async function inventory(
  sharded: ShardedStore,
  options: { bytes?: boolean; onStore?: () => void; total?: (n: number) => void } = {},
): Promise<StoreInventory[]> {
  const entries: (ShardEntry & { keys: AbsolutePath[] })[] = [];
  for await (const e of sharded.shardKeys()) entries.push(e);
  sortIndexRuns(entries);
  options.total?.(entries.length);
  const out: StoreInventory[] = new Array(entries.length);
  let next = 0;
  // Sizes from a synchronous stat or a zip's directory settle in microtasks: let the progress bar draw.
  let turn = performance.now();
  const worker = async () => {
    while (next < entries.length) {
      if (performance.now() - turn > 50) {
        await new Promise<void>((wake) => setImmediate(wake));
        turn = performance.now();
        if (next >= entries.length) break; // the other workers took the rest meanwhile
      }
      const i = next++;
      const e = entries[i]!;
      let bytes = 0;
      if (options.bytes !== false) for (const k of e.keys) bytes += await sizeOf(e.store, k);
      out[i] = {
        kind: e.kind,
        mount: e.mount,
        ...(e.index ? { index: e.index } : {}),
        store: e.store,
        keys: e.keys.length,
        bytes,
      };
      options.onStore?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(INVENTORY_CONCURRENCY, entries.length) }, worker));
  return out;
}
