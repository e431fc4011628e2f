import type { AbsolutePath, Store } from "../types.js";

/**
 * What the planner knows about one array: its geometry from the metadata and its stored chunks
 * from the listing.
 *
 * @example
 * ```ts
 * const a: ArrayStats = { path: "raw", format: 3, shape: [64, 512], chunks: [1, 512], dataType: "float32", packed: false, chunkKeys: 64, bytes: 131072, largest: 2048, zipBytes: 137000 };
 * ```
 */
export interface ArrayStats {
  path: string;
  format: 2 | 3;
  shape: number[];
  chunks: number[];
  dataType: string;
  /** Already packed with the sharding codec. */
  packed: boolean;
  /** Stored chunk objects and their bytes. */
  chunkKeys: number;
  bytes: number;
  largest: number;
  /** What the chunks take in a zip: bytes plus each entry's local header and central record. */
  zipBytes: number;
}

/**
 * The whole hierarchy as the planner sees it.
 *
 * @example
 * ```ts
 * const h: HierarchyStats = { keys: 10, bytes: 4096, largest: 1024, groups: [""], arrays: [], metadata: [], largestMetadata: 0, unpackable: [] };
 * ```
 */
export interface HierarchyStats {
  keys: number;
  bytes: number;
  largest: number;
  /** Group paths ("" for the root). */
  groups: string[];
  arrays: ArrayStats[];
  /** Metadata documents: their node path and what they take in a zip; the largest document. */
  metadata: { path: string; zipBytes: number }[];
  largestMetadata: number;
  /** For a composition: its physical keys and stores, and each split array's split dimensions. */
  composition?: { keys: number; stores: number; split: Record<string, number> };
  /** Zarr v2 arrays whose data type has no Zarr v3 equivalent here (strings, objects): packing the hierarchy is impossible. */
  unpackable: string[];
}

const META = new Set(["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"]);
const decoder = new TextDecoder();
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads a listable store's hierarchy for planning: metadata documents for shapes and chunks, the
 * listing and `size(key)` for each array's stored chunks and bytes.
 *
 * @example
 * ```ts
 * const stats = await inspectStore(store, (k) => sizeOf(store, k));
 * ```
 */
export async function inspectStore(
  store: Store & { list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> },
  size: (key: AbsolutePath) => Promise<number>,
): Promise<HierarchyStats> {
  const keys: AbsolutePath[] = [];
  for await (const k of store.list()) keys.push(k);
  const groups: string[] = [];
  const arrays = new Map<string, ArrayStats>();
  const unpackable: string[] = [];
  for (const k of keys) {
    const name = k.slice(k.lastIndexOf("/") + 1);
    if (name !== "zarr.json" && name !== ".zarray" && name !== ".zgroup") continue;
    const node = k.slice(1, k.lastIndexOf("/"));
    let doc: unknown;
    try {
      doc = JSON.parse(decoder.decode((await store.get(k)) ?? new Uint8Array()));
    } catch {
      continue;
    }
    if (!isObject(doc)) continue;
    if (name === ".zgroup" || doc.node_type === "group") {
      groups.push(node);
      continue;
    }
    const v3 = name === "zarr.json";
    if (v3 && doc.node_type !== "array") continue;
    const grid =
      isObject(doc.chunk_grid) && isObject(doc.chunk_grid.configuration) ? doc.chunk_grid.configuration : {};
    const dtype = v3 ? doc.data_type : doc.dtype;
    const codecs = Array.isArray(doc.codecs) ? doc.codecs : [];
    const stats: ArrayStats = {
      path: node,
      format: v3 ? 3 : 2,
      shape: (doc.shape as number[]) ?? [],
      chunks: ((v3 ? grid.chunk_shape : doc.chunks) as number[]) ?? [],
      dataType: typeof dtype === "string" ? dtype : JSON.stringify(dtype),
      packed: codecs.some((c) => isObject(c) && c.name === "sharding_indexed"),
      chunkKeys: 0,
      bytes: 0,
      largest: 0,
      zipBytes: 0,
    };
    if (!v3 && !/^[<>|]?[biuf]\d+$/.test(stats.dataType)) unpackable.push(node);
    arrays.set(node, stats);
  }
  let bytes = 0;
  let largest = 0;
  let largestMetadata = 0;
  const metadata: { path: string; zipBytes: number }[] = [];
  // A stored zip entry costs its bytes, a 30-byte local header and a 46-byte central record, each with the name.
  const zipCost = (k: string, n: number) => n + 76 + 2 * (k.length - 1);
  const owner = (k: string): ArrayStats | undefined => {
    let dir = k.slice(1);
    while (dir !== "") {
      const cut = dir.lastIndexOf("/");
      dir = cut === -1 ? "" : dir.slice(0, cut);
      const a = arrays.get(dir);
      if (a !== undefined) return a;
    }
    return undefined;
  };
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const k = keys[next++]!;
      const n = await size(k);
      bytes += n;
      largest = Math.max(largest, n);
      if (META.has(k.slice(k.lastIndexOf("/") + 1))) {
        metadata.push({ path: k.slice(1, k.lastIndexOf("/")), zipBytes: zipCost(k, n) });
        largestMetadata = Math.max(largestMetadata, n);
        continue;
      }
      const a = owner(k);
      if (a === undefined) continue;
      a.chunkKeys++;
      a.bytes += n;
      a.largest = Math.max(a.largest, n);
      a.zipBytes += zipCost(k, n);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return {
    keys: keys.length,
    bytes,
    largest,
    groups: groups.sort(),
    arrays: [...arrays.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    unpackable: unpackable.sort(),
    metadata,
    largestMetadata,
  };
}
