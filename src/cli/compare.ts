import * as zarr from "zarrita";
import type { AbsolutePath, Store } from "../node.js";
import { listAll, readHierarchy } from "./hierarchy.js";
import type { ListableStore } from "./open.js";

/**
 * What {@link compareStores} found.
 *
 * @example
 * ```ts
 * const r = await compareStores(a, b, { arrays: true });
 * if (r.differences === 0) console.log("identical");
 * ```
 */
export interface Comparison {
  keysA: number;
  keysB: number;
  bytes: number;
  onlyInA: AbsolutePath[];
  onlyInB: AbsolutePath[];
  differ: { key: AbsolutePath; bytesA: number; bytesB: number }[];
  /** With `arrays`: every array of A read through zarrita from both. */
  arrays?: { compared: number; differ: { path: string; reason: string }[] };
  differences: number;
}

/**
 * Options of {@link compareStores}.
 *
 * @example
 * ```ts
 * await compareStores(a, b, { concurrency: 8, onKeys: (n) => bar.start(n), onKey: () => bar.increment() });
 * ```
 */
export interface CompareOptions {
  arrays?: boolean;
  concurrency?: number;
  onKeys?: (total: number) => void;
  onKey?: () => void;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

type Indexable = { length: number; get?: (i: number) => unknown; [i: number]: unknown };

function element(data: Indexable, i: number): unknown {
  return typeof data.get === "function" ? data.get(i) : data[i];
}

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x === "number" && typeof y === "number") return Number.isNaN(x) && Number.isNaN(y);
  if (x instanceof Uint8Array && y instanceof Uint8Array) return bytesEqual(x, y);
  return JSON.stringify(x) === JSON.stringify(y);
}

/**
 * The store as zarrita's async readable (our stores may answer synchronously). Values that are a
 * view into a larger buffer are copied: zarrita 0.7's vlen-utf8 decoder reads `bytes.buffer` from
 * offset 0.
 */
function readable(store: Store): zarr.AsyncReadable {
  const own = (v: Uint8Array | undefined) =>
    v !== undefined && (v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength) ? v.slice() : v;
  const getRange = store.getRange?.bind(store);
  return {
    get: async (key, opts) => own(await store.get(key, opts)),
    // Arrays packed with the sharding codec are read by range (zarrita needs getRange for them).
    ...(getRange ? { getRange: async (key, range, opts) => own(await getRange(key, range, opts)) } : {}),
  };
}

function locate(store: Store, path: string) {
  const root = zarr.root(readable(store));
  return path === "/" ? root : root.resolve(path.slice(1));
}

/** Compares one array of A and B by value, slab by slab along the first dimension. */
async function compareArray(a: ListableStore, b: ListableStore, path: string): Promise<string | null> {
  let arrA: zarr.Array<zarr.DataType, zarr.AsyncReadable>;
  let arrB: zarr.Array<zarr.DataType, zarr.AsyncReadable>;
  try {
    arrA = await zarr.open(locate(a, path), { kind: "array" });
  } catch (e) {
    return `cannot open in A: ${(e as Error).message}`;
  }
  try {
    arrB = await zarr.open(locate(b, path), { kind: "array" });
  } catch (e) {
    return `cannot open in B: ${(e as Error).message}`;
  }
  if (arrA.dtype !== arrB.dtype) return `dtype ${arrA.dtype} vs ${arrB.dtype}`;
  if (arrA.shape.join() !== arrB.shape.join()) return `shape [${arrA.shape}] vs [${arrB.shape}]`;
  const shape = arrA.shape;
  const step = shape.length === 0 ? 1 : Math.max(1, arrA.chunks[0] ?? 1);
  const n0 = shape.length === 0 ? 1 : (shape[0] ?? 0);
  for (let start = 0; start < n0; start += step) {
    const sel =
      shape.length === 0
        ? null
        : [zarr.slice(start, Math.min(n0, start + step)), ...shape.slice(1).map(() => null)];
    let x: unknown;
    let y: unknown;
    try {
      x = await zarr.get(arrA, sel);
      y = await zarr.get(arrB, sel);
    } catch (e) {
      return `cannot read: ${(e as Error).message}`;
    }
    if (shape.length === 0) {
      if (!sameValue(x, y)) return `value ${String(x)} vs ${String(y)}`;
      continue;
    }
    const da = (x as { data: Indexable }).data;
    const db = (y as { data: Indexable }).data;
    if (da.length !== db.length) return `${da.length} vs ${db.length} elements read`;
    for (let i = 0; i < da.length; i++) {
      const va = element(da, i);
      const vb = element(db, i);
      if (!sameValue(va, vb)) return `element ${i} of rows ${start}… differs: ${String(va)} vs ${String(vb)}`;
    }
  }
  return null;
}

/**
 * Compares every logical key of A and B byte for byte and, with `arrays`, every array of A by value
 * through zarrita.
 *
 * @example
 * ```ts
 * const { differences } = await compareStores(sharded, new DirectoryStore("single.zarr"));
 * ```
 */
export async function compareStores(
  a: ListableStore,
  b: ListableStore,
  options: CompareOptions = {},
): Promise<Comparison> {
  const [keysA, keysB] = await Promise.all([listAll(a), listAll(b)]);
  const setB = new Set(keysB);
  const setA = new Set(keysA);
  const common = keysA.filter((k) => setB.has(k));
  const result: Comparison = {
    keysA: keysA.length,
    keysB: keysB.length,
    bytes: 0,
    onlyInA: keysA.filter((k) => !setB.has(k)),
    onlyInB: keysB.filter((k) => !setA.has(k)),
    differ: [],
    differences: 0,
  };
  options.onKeys?.(common.length);
  let next = 0;
  const worker = async () => {
    while (next < common.length) {
      const key = common[next++]!;
      const [va, vb] = await Promise.all([a.get(key), b.get(key)]);
      if (va === undefined || vb === undefined || !bytesEqual(va, vb)) {
        result.differ.push({ key, bytesA: va?.byteLength ?? -1, bytesB: vb?.byteLength ?? -1 });
      } else {
        result.bytes += va.byteLength;
      }
      options.onKey?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  result.differ.sort((x, y) => (x.key < y.key ? -1 : 1));
  if (options.arrays) {
    const nodes = (await readHierarchy(a, keysA)).filter((n) => n.kind === "array");
    const differ: { path: string; reason: string }[] = [];
    for (const n of nodes) {
      const reason = await compareArray(a, b, n.path);
      if (reason !== null) differ.push({ path: n.path, reason });
    }
    result.arrays = { compared: nodes.length, differ };
  }
  result.differences =
    result.onlyInA.length +
    result.onlyInB.length +
    result.differ.length +
    (result.arrays?.differ.length ?? 0);
  return result;
}
